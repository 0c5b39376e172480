"""Data-fraction fidelity, proxy screening and warm start over HTTP: the same JobSpec as
`nas run`, run to the end by the service's runner; a bad source is a 4xx naming the field."""

from __future__ import annotations

import httpx
import pytest

from tests.api.util import TINY_SPACE, submit, tiny_spec, wait_job

ASHA = {"policy": "asha", "options": {"min_epochs": 2, "eta": 2}}


def _trials(client: httpx.Client, job_id: int) -> list[dict]:
    return client.get(f"/jobs/{job_id}/trials", params={"limit": 100}).json()["items"]


def test_data_fraction_job_runs_and_curves_start_on_a_quarter(client: httpx.Client) -> None:
    spec = tiny_spec(trials=3, stopping=ASHA, fidelity={"data_fraction": {"min": 0.25}})
    job = wait_job(client, submit(client, spec))
    assert job["status"] == "finished", job["error"]
    assert job["spec"]["fidelity"] == {"data_fraction": {"min": 0.25, "eta": 2.0}}
    trials = _trials(client, job["id"])
    assert len(trials) == 3
    for t in trials:  # rungs at 2 and 4 of 4 epochs: a quarter of the rows, then a half
        points = client.get(f"/trials/{t['id']}/curve").json()["points"]
        assert [p["data_fraction"] for p in points] == [0.25, 0.25, 1.0, 1.0][: len(points)]


def test_proxy_job_trains_the_kept_candidates_in_full(client: httpx.Client) -> None:
    proxy = {"width_scale": 0.5, "epochs": 2, "keep": 0.5, "pool": 4}
    job = wait_job(client, submit(client, tiny_spec(trials=2, proxy=proxy)))
    assert job["status"] == "finished", job["error"]
    trials = _trials(client, job["id"])
    assert len(trials) == 2
    assert all(t["epochs_run"] == TINY_SPACE["max_epochs"] for t in trials)


def test_warm_start_job_trains_the_source_best_first(
    client: httpx.Client, finished_job: dict
) -> None:
    source = finished_job["id"]
    best = client.get(f"/jobs/{source}/leaderboard", params={"k": 2}).json()
    spec = tiny_spec(trials=3, seed=5, warm_start={"job_id": source, "top": 2})
    job = wait_job(client, submit(client, spec))
    assert job["status"] == "finished", job["error"]
    trials = sorted(_trials(client, job["id"]), key=lambda t: t["number"])
    assert [t["params"] for t in trials[:2]] == [t["params"] for t in best]
    assert job["warm_start_job_id"] == source


@pytest.mark.parametrize(
    ("source", "words"), [("missing", "no job with id"), ("queued", "only a finished job")]
)
def test_warm_start_from_a_missing_or_unfinished_job_is_422(
    client: httpx.Client, source: str, words: str
) -> None:
    if source == "missing":
        source_id = 10**6
    else:  # cancel it at once: a cancelled job never finishes
        source_id = submit(client, tiny_spec(trials=1))
        client.post(f"/jobs/{source_id}/cancel")
    r = client.post("/jobs", json=tiny_spec(warm_start={"job_id": source_id}))
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert errors[0]["field"] == "warm_start.job_id" and words in errors[0]["message"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"fidelity": {"data_fraction": {"min": 0}}}, "fidelity.data_fraction.min"),
        ({"proxy": {"width_scale": 2}}, "proxy.width_scale"),
        ({"warm_start": {"job_id": 1, "top": 0}}, "warm_start.top"),
    ],
)
def test_bad_options_are_422_naming_the_field(
    client: httpx.Client, extra: dict, field: str
) -> None:
    r = client.post("/jobs", json=tiny_spec(**extra))
    assert r.status_code == 422, r.text
    assert any(e["field"] == field for e in r.json()["errors"]), r.json()
