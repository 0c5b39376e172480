"""Trials over HTTP: pages, sorting, status filter, leaderboard, Pareto front and curves."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from api import cursor as cursors
from nas import store as db
from tests.api.util import Server, submit, tiny_spec, wait_job


def test_trials_page_sorted_and_filtered(client: httpx.Client, finished_job: dict) -> None:
    url = f"/jobs/{finished_job['id']}/trials"
    page = client.get(url, params={"limit": 2}).json()
    assert page["total"] == 3 and [t["number"] for t in page["items"]] == [0, 1]
    rest = client.get(url, params={"limit": 2, "offset": 2}).json()
    assert [t["number"] for t in rest["items"]] == [2]
    best_first = client.get(url, params={"sort": "-val_metric"}).json()["items"]
    values = [t["val_metric"] for t in best_first]
    assert values == sorted(values, reverse=True)
    assert client.get(url, params={"status": "pruned"}).json()["total"] == 0
    assert client.get(url, params={"sort": "secret"}).status_code == 422


def test_leaderboard_and_pareto(client: httpx.Client, finished_job: dict) -> None:
    board = client.get(f"/jobs/{finished_job['id']}/leaderboard", params={"k": 2}).json()
    assert len(board) == 2 and board[0]["id"] == finished_job["best_trial_id"]
    assert board[0]["val_metric"] >= board[1]["val_metric"]
    front = client.get(f"/jobs/{finished_job['id']}/pareto").json()
    sizes = [t["n_params"] for t in front]
    assert front and sizes == sorted(sizes)


def test_trial_and_curve_polling(client: httpx.Client, finished_job: dict) -> None:
    trial_id = finished_job["best_trial_id"]
    trial = client.get(f"/trials/{trial_id}").json()
    assert trial["status"] == "finished" and trial["epochs_run"] == 4
    whole = client.get(f"/trials/{trial_id}/curve").json()
    assert [p["epoch"] for p in whole["points"]] == [1, 2, 3, 4] and whole["last_epoch"] == 4
    newer = client.get(f"/trials/{trial_id}/curve", params={"after_epoch": 2}).json()
    assert [p["epoch"] for p in newer["points"]] == [3, 4]
    none = client.get(f"/trials/{trial_id}/curve", params={"after_epoch": 4}).json()
    assert none["points"] == [] and none["last_epoch"] == 4


def test_unknown_trial_is_404_and_bad_ids_422(client: httpx.Client) -> None:
    for path in ("/trials/987654", "/trials/987654/curve"):
        r = client.get(path)
        assert r.status_code == 404 and r.json()["errors"][0]["field"] == "trial_id"
    assert client.get("/trials/0").status_code == 422
    assert client.get("/trials/abc").status_code == 422
    assert client.get(f"/trials/{2**40}").status_code == 422


def test_pruned_trials_save_epochs(client: httpx.Client) -> None:
    space = {**tiny_spec()["space"], "max_epochs": 9}
    spec = tiny_spec(trials=6, space=space, stopping={"policy": "asha", "options": {"eta": 3}})
    job = wait_job(client, submit(client, spec))
    assert job["status"] == "finished" and job["progress"]["trials_done"] == 6
    trials = client.get(f"/jobs/{job['id']}/trials").json()["items"]
    stopped = [t for t in trials if t["status"] in ("pruned", "diverged")]
    assert job["epochs_saved"] == sum(9 - t["epochs_run"] for t in stopped)
    assert job["epochs_spent"] == sum(t["epochs_run"] for t in trials)


def test_job_curves_come_whole_then_only_what_changed(serve: Callable[..., Server]) -> None:
    server = serve(runner=False)
    store = db.open_store(server.settings.database_url)
    with store.session() as s:
        job_id = db.create_job(s, name="watched", spec={}).id
        done, running = (db.start_trial(s, job_id, params={}).id for _ in range(2))
        db.record_epochs(s, done, [db.EpochPoint(e, val_metric=e / 10) for e in (1, 2)])
        db.end_trial(s, done, status="finished")
        db.record_epochs(s, running, [db.EpochPoint(e, val_metric=0.1) for e in (1, 2, 3)])
    url = f"{server.api}/jobs/{job_id}/curves"

    first = httpx.get(url).json()
    assert {c["trial_id"]: c["epochs"] for c in first["curves"]} == {
        done: [1, 2],
        running: [1, 2, 3],
    }
    assert all(c["after_epoch"] == 0 for c in first["curves"]) and not first["more"]
    assert first["curves"][0]["val_metric"] == [0.1, 0.2]
    assert httpx.get(url, params={"cursor": first["cursor"]}).json()["curves"] == []

    with store.session() as s:
        db.record_epochs(s, running, [db.EpochPoint(4, val_metric=0.4)])
        newcomer = db.start_trial(s, job_id, params={}).id
    update = httpx.get(url, params={"cursor": first["cursor"]}).json()
    assert [t["id"] for t in update["trials"]] == [running, newcomer]  # not the finished one
    slices = {c["trial_id"]: (c["after_epoch"], c["epochs"]) for c in update["curves"]}
    assert slices == {running: (3, [4]), newcomer: (0, [])}

    with store.session() as s:  # the running trial's worker dies; it is retried afresh
        db.end_trial(s, running, status="failed", error="worker died")
        assert db.claim_retry(s, job_id) is not None
        db.record_epochs(s, running, [db.EpochPoint(1, val_metric=0.2)])
    retried = httpx.get(url, params={"cursor": update["cursor"]}).json()
    by_id = {c["trial_id"]: c for c in retried["curves"]}
    assert by_id[running]["after_epoch"] == 0 and by_id[running]["epochs"] == [1]
    store.close()


def test_job_curves_are_paged_by_points(
    serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(runner=False)
    store = db.open_store(server.settings.database_url)
    with store.session() as s:
        job_id = db.create_job(s, name="big", spec={}).id
        for _ in range(3):
            trial = db.start_trial(s, job_id, params={}).id
            db.record_epochs(s, trial, [db.EpochPoint(e) for e in range(1, 5)])
            db.end_trial(s, trial, status="finished")
    store.close()
    monkeypatch.setattr(cursors, "MAX_POINTS", 6)  # room for one 4-epoch trial per call
    url, cursor, seen = f"{server.api}/jobs/{job_id}/curves", "", []
    while True:
        page = httpx.get(url, params={"cursor": cursor}).json()
        seen.append(len(page["trials"]))
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert seen == [1, 1, 1]


@pytest.mark.parametrize(
    "cursor", ["x", "1", "1;2.3", "1;a.b.c", "-1;", "1;" + ",".join(["1.1.1"] * 1001)]
)
def test_a_malformed_cursor_is_422_naming_it(
    client: httpx.Client, finished_job: dict, cursor: str
) -> None:
    r = client.get(f"/jobs/{finished_job['id']}/curves", params={"cursor": cursor})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor", r.text
