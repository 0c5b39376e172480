"""Jobs: queue order, atomic claims under contention, leases, reaping a dead runner."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy.orm import Session

from nas.store import (
    RUNNER_LOST,
    Store,
    cancel_job,
    claim_job,
    create_job,
    finish_job,
    get_job,
    get_trial,
    heartbeat_job,
    list_jobs,
    reap_stale,
    record_epoch,
    save_searcher_state,
    start_trial,
)
from nas.store.models import utcnow
from nas.store.trials import EpochPoint, end_trial


def test_create_and_claim_in_queue_order(session: Session) -> None:
    first = create_job(session, name="a", spec={"max_epochs": 5}, seed=2**40)
    second = create_job(session, name="b", spec={})
    assert first.status == "queued" and first.seed == 2**40
    claimed = claim_job(session, runner="r1")
    assert claimed is not None and claimed.id == first.id
    assert claimed.status == "running" and claimed.runner == "r1"
    assert claimed.started is not None and claimed.heartbeat is not None
    assert claim_job(session, runner="r2").id == second.id  # type: ignore[union-attr]
    assert claim_job(session, runner="r3") is None
    assert [j.name for j in list_jobs(session, status="running")] == ["b", "a"]


def test_concurrent_claims_never_share_a_job(store: Store) -> None:
    n_jobs, n_runners = 40, 6
    with store.session() as session:
        for i in range(n_jobs):
            create_job(session, name=f"job{i}", spec={})
    claims: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(n_runners)

    def runner(name: str) -> None:
        mine: list[int] = []
        try:
            with store.session() as session:
                start.wait()
                while (job := claim_job(session, runner=name)) is not None:
                    mine.append(job.id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        claims[name] = mine

    threads = [threading.Thread(target=runner, args=(f"r{i}",)) for i in range(n_runners)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    taken = [job_id for ids in claims.values() for job_id in ids]
    assert len(taken) == len(set(taken)) == n_jobs
    with store.session() as session:
        for name, ids in claims.items():
            assert all(get_job(session, i).runner == name for i in ids)  # type: ignore[union-attr]


def test_lease_belongs_to_the_runner(session: Session) -> None:
    job = create_job(session, name="a", spec={})
    claim_job(session, runner="r1")
    assert heartbeat_job(session, job.id, runner="r1")
    assert not heartbeat_job(session, job.id, runner="intruder")
    assert save_searcher_state(session, job.id, {"rng": [1, 2]}, runner="r1")
    assert not finish_job(session, job.id, runner="intruder")
    assert finish_job(session, job.id, runner="r1")
    job = get_job(session, job.id)  # type: ignore[assignment]
    assert job.status == "finished" and job.searcher_state == {"rng": [1, 2]}
    assert not heartbeat_job(session, job.id, runner="r1")


def test_cancel_stops_heartbeats(session: Session) -> None:
    job = create_job(session, name="a", spec={})
    claim_job(session, runner="r1")
    assert cancel_job(session, job.id)
    assert not heartbeat_job(session, job.id, runner="r1")
    assert get_job(session, job.id).status == "cancelled"  # type: ignore[union-attr]
    assert not cancel_job(session, job.id)


def test_reap_requeues_dead_runner_keeping_finished_trials(session: Session) -> None:
    job = create_job(session, name="a", spec={})
    claim_job(session, runner="dead")
    done = start_trial(session, job.id, params={"depth": 1})
    record_epoch(session, done.id, EpochPoint(epoch=1, val_metric=0.5))
    end_trial(session, done.id, status="finished")
    running = start_trial(session, job.id, params={"depth": 2})
    fresh = reap_stale(session, older_than=timedelta(minutes=1))
    assert fresh.jobs_requeued == [] and fresh.trials_failed == []

    report = reap_stale(session, older_than=timedelta(0), now=utcnow() + timedelta(seconds=1))
    assert report.jobs_requeued == [job.id]
    assert report.trials_failed == [running.id]
    reaped = get_job(session, job.id)
    assert reaped is not None and reaped.status == "queued" and reaped.runner is None
    assert get_trial(session, done.id).status == "finished"  # type: ignore[union-attr]
    lost = get_trial(session, running.id)
    assert lost is not None and lost.status == "failed" and lost.error == RUNNER_LOST
    assert not heartbeat_job(session, job.id, runner="dead")
    assert claim_job(session, runner="next").id == job.id  # type: ignore[union-attr]


def test_reap_fails_a_silent_trial_in_a_live_job(session: Session) -> None:
    job = create_job(session, name="a", spec={})
    claim_job(session, runner="r1")
    trial = start_trial(session, job.id, params={})
    later = utcnow() + timedelta(minutes=10)
    heartbeat_job(session, job.id, runner="r1", now=later)
    report = reap_stale(session, older_than=timedelta(minutes=5), now=later)
    assert report.jobs_requeued == [] and report.trials_failed == [trial.id]
