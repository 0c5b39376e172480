"""Jobs over HTTP: submit, poll, list, cancel, delete, events; bad specs are 4xx with a field."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from tests.api.util import Server, submit, tiny_spec, wait_job


def test_submit_poll_to_finished_with_progress(client: httpx.Client, finished_job: dict) -> None:
    job = finished_job
    assert job["status"] == "finished" and job["error"] is None
    progress = job["progress"]
    assert progress["trials_done"] == 3 and progress["trials_budget"] == 3
    assert progress["fraction"] == 1.0 and job["eta_seconds"] == 0.0
    assert job["epochs_spent"] == 12 and job["epochs_saved"] == 0
    assert job["best_val_metric"] is not None and job["best_trial_id"] is not None
    assert job["spec"]["dataset"]["name"] == "iris"


def test_a_finished_job_says_where_its_time_went(client: httpx.Client, finished_job: dict) -> None:
    timings = client.get(f"/jobs/{finished_job['id']}").json()["timings"]
    parts = ("startup", "training", "stopping", "store", "searcher", "refit", "other")
    assert all(timings[p] >= 0 for p in parts) and timings["training"] > 0
    assert timings["wall"] == pytest.approx(sum(timings[p] for p in parts), abs=1e-3)
    # the books run from the claim to the end: about the job's own elapsed time
    assert 0 < timings["wall"] <= finished_job["elapsed_seconds"] + 0.5
    assert timings["wall"] >= 0.5 * finished_job["elapsed_seconds"]
    own = timings["wall"] - timings["training"] - timings["refit"]
    assert timings["driver_share"] == pytest.approx(own / timings["wall"], abs=1e-3)


def test_submit_answers_202_with_location(client: httpx.Client) -> None:
    r = client.post("/jobs", json=tiny_spec(trials=1))
    assert r.status_code == 202
    assert r.headers["location"] == f"/api/v1/jobs/{r.json()['id']}"
    wait_job(client, r.json()["id"])


def test_list_is_paged_and_filtered_by_status(client: httpx.Client, finished_job: dict) -> None:
    page = client.get("/jobs", params={"status": "finished", "limit": 1}).json()
    assert page["total"] >= 1 and len(page["items"]) == 1 and page["limit"] == 1
    assert all(j["status"] == "finished" for j in page["items"])
    assert client.get("/jobs", params={"status": "bogus"}).status_code == 422


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"dataset": "nope"}, "dataset"),
        ({"dataset": "iris", "budget": {"trials": 0}}, "budget.trials"),
        ({"dataset": "iris", "searcher": "magic"}, "searcher"),
        ({"dataset": "iris", "space": {"width": [0, 5]}}, "space.width"),
        ({"dataset": "iris", "surprise": 1}, "surprise"),
        ({"dataset": "iris", "budget": {"trials": 10**6}}, "budget.trials"),
        ({"dataset": "iris", "space": {"max_epochs": 5000}}, "space.max_epochs"),
        ({"dataset": "iris", "parallelism": 1000}, "parallelism"),
        ({"dataset": {"csv": "/etc/hosts", "target": "x"}}, "dataset.csv"),
        ({"dataset": {"id": 999999}}, "dataset.id"),
        ({}, "dataset"),
    ],
)
def test_bad_spec_is_422_naming_the_field(client: httpx.Client, spec: dict, field: str) -> None:
    r = client.post("/jobs", json=spec)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["message"] and any(e["field"] == field for e in body["errors"]), body


def test_malformed_json_body_is_422(client: httpx.Client) -> None:
    r = client.post("/jobs", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["message"]


@pytest.mark.parametrize("path", ["/jobs/987654", "/jobs/987654/trials", "/jobs/987654/leaderboard",
                                  "/jobs/987654/pareto", "/jobs/987654/importance",
                                  "/jobs/987654/events", "/jobs/987654/model"])  # fmt: skip
def test_unknown_job_is_404_with_message(client: httpx.Client, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404 and "987654" in r.json()["message"]
    assert r.json()["errors"][0]["field"] == "job_id"


def test_cancel_twice_is_409_and_delete(client: httpx.Client) -> None:
    job_id = submit(client, tiny_spec(trials=200, space={"max_epochs": 50}))
    wait_job(client, job_id, until=("running",))
    first = client.post(f"/jobs/{job_id}/cancel")
    assert first.status_code == 200 and first.json()["status"] == "cancelled"
    second = client.post(f"/jobs/{job_id}/cancel")
    assert second.status_code == 409 and "already cancelled" in second.json()["message"]
    assert client.post("/jobs/987654/cancel").status_code == 404
    assert client.delete(f"/jobs/{job_id}").status_code == 204
    assert client.get(f"/jobs/{job_id}").status_code == 404
    assert client.delete(f"/jobs/{job_id}").status_code == 404


def test_deleting_a_running_job_is_409(client: httpx.Client) -> None:
    job_id = submit(client, tiny_spec(trials=200, space={"max_epochs": 50}))
    wait_job(client, job_id, until=("running",))
    r = client.delete(f"/jobs/{job_id}")
    assert r.status_code == 409 and "cancel it first" in r.json()["message"]
    client.post(f"/jobs/{job_id}/cancel")
    assert wait_job(client, job_id)["status"] == "cancelled"


def test_a_job_submitted_right_after_a_delete_is_not_touched_by_the_old_run(
    serve: Callable[..., Server],
) -> None:
    # SQLite gives the new job the deleted one's id; the cancelled run, still stopping,
    # must not write a trial into it (CI once saw the new job fail on such a stray trial)
    with httpx.Client(base_url=serve().api, timeout=30) as c:
        for _ in range(3):
            old = submit(c, tiny_spec(trials=200, space={"max_epochs": 50}))
            wait_job(c, old, until=("running",))
            c.post(f"/jobs/{old}/cancel")
            assert c.delete(f"/jobs/{old}").status_code == 204
            new = submit(c, tiny_spec(trials=3))
            job = wait_job(c, new)
            assert job["status"] == "finished", job.get("error")
            trials = c.get(f"/jobs/{new}/trials").json()["items"]
            assert [t["number"] for t in trials] == [0, 1, 2]


def test_events_stream_ends_with_the_final_status(client: httpx.Client) -> None:
    job_id = submit(client, tiny_spec(trials=2))
    events = []
    with client.stream("GET", f"/jobs/{job_id}/events") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((kind, json.loads(line.removeprefix("data: "))))
    assert events[-1] == ("end", {"status": "finished"})
    jobs = [data for kind, data in events if kind == "job"]
    assert jobs and jobs[-1]["status"] == "finished" and jobs[-1]["progress"]["trials_done"] == 2


def test_importance_sums_to_one(client: httpx.Client, finished_job: dict) -> None:
    shares = client.get(f"/jobs/{finished_job['id']}/importance").json()
    assert shares and abs(sum(shares.values()) - 1) < 1e-9 or sum(shares.values()) == 0
