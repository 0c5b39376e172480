"""Trials over HTTP: pages, sorting, status filter, leaderboard, Pareto front and curves."""

from __future__ import annotations

import httpx

from tests.api.util import submit, tiny_spec, wait_job


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
