"""The job runner: claims, drives, fails jobs that cannot start, shares the queue, releases
its job on stop or on a dropped database connection, and resumes a reaped one."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import text

from nas import store as db
from nas.data import load_builtin, to_npz
from nas.search.job_runner import JobRunner, RunnerTiming
from nas.spec import JobSpec
from nas.store.models import utcnow
from tests.pg import fresh_schema_url

FAST = RunnerTiming(poll_seconds=0.05, heartbeat_seconds=0.1, stale_seconds=60)
SPACE = {"n_layers": [1, 1], "width": [4, 8], "max_epochs": 3, "batch_size": [32]}


def _spec(trials: int = 2, **kw: object) -> dict:
    raw = {
        "dataset": "iris",
        "space": SPACE,
        "budget": {"trials": trials},
        "stopping": {"policy": "none"},
        "searcher": "random",
    } | kw
    return JobSpec.model_validate(raw).model_dump(mode="json")


def _job(store: db.Store, spec: dict) -> int:
    with store.session() as s:
        return db.create_job(s, name="t", spec=spec).id


def _status(store: db.Store, job_id: int) -> db.Job:
    with store.session() as s:
        job = db.get_job(s, job_id)
        assert job is not None
        return job


def test_run_once_claims_and_finishes_the_oldest_job(store: db.Store) -> None:
    first, second = _job(store, _spec()), _job(store, _spec())
    runner = JobRunner(store, name="r1", timing=FAST)
    assert runner.run_once() and _status(store, first).status == "finished"
    assert _status(store, second).status == "queued"
    assert runner.run_once() and not runner.run_once()


def test_a_stored_data_set_is_read_from_the_store(store: db.Store) -> None:
    data = load_builtin("iris")
    with store.session() as s:
        ds = db.add_dataset(
            s,
            name="iris",
            source="test",
            task="classification",
            n_rows=data.n_rows,
            n_features=data.n_features,
            payload=to_npz(data),
        )
    job_id = _job(store, _spec(dataset={"id": ds.id}))
    assert JobRunner(store, timing=FAST).run_once()
    assert _status(store, job_id).status == "finished"


def test_a_job_that_cannot_start_fails_with_the_reason(store: db.Store) -> None:
    spec = _spec()
    spec["dataset"] = {"id": 12345, "name": None, "csv": None}
    job_id = _job(store, spec)
    assert JobRunner(store, timing=FAST).run_once()
    job = _status(store, job_id)
    assert job.status == "failed" and "no stored data set with id 12345" in (job.error or "")


def test_a_driver_error_fails_the_job_at_once(store: db.Store, monkeypatch) -> None:
    import nas.search.job_runner

    def broken(self: object) -> str:
        raise RuntimeError("the driver broke")

    monkeypatch.setattr(nas.search.job_runner.SearchDriver, "run", broken)
    job_id = _job(store, _spec())
    assert JobRunner(store, timing=FAST).run_once()
    job = _status(store, job_id)
    assert job.status == "failed" and "the driver broke" in (job.error or "")


def test_a_lost_database_hands_the_job_back_to_the_queue(store: db.Store, monkeypatch) -> None:
    import nas.search.job_runner

    def lost(self: object) -> str:
        raise db.StoreUnavailable("database went away")

    monkeypatch.setattr(nas.search.job_runner.SearchDriver, "run", lost)
    job_id = _job(store, _spec())
    assert JobRunner(store, timing=FAST).run_once()
    assert _status(store, job_id).status == "queued"


def test_stop_releases_the_job_and_the_next_runner_resumes_it(store: db.Store) -> None:
    job_id = _job(store, _spec(trials=40, space=SPACE | {"max_epochs": 30}))
    runner = JobRunner(store, name="stopping", timing=FAST)
    thread = threading.Thread(target=runner.run_forever)
    thread.start()
    while not db.list_trials(store.session(), job_id, status="finished"):
        time.sleep(0.02)
    runner.stop()
    thread.join(timeout=30)
    assert _status(store, job_id).status == "queued"  # handed back, not left to go stale
    assert JobRunner(store, name="next", timing=FAST).run_once()
    trials = db.list_trials(store.session(), job_id)
    assert _status(store, job_id).status == "finished"
    assert [t.number for t in trials] == list(range(40))


def test_a_reaped_job_is_resumed_by_another_runner(store: db.Store) -> None:
    job_id = _job(store, _spec(trials=3))
    with store.session() as s:  # a runner that claimed it and died
        db.claim_job(s, runner="dead", job_id=job_id)
    late = RunnerTiming(poll_seconds=0.05, heartbeat_seconds=0.1, stale_seconds=0.0)
    with store.session() as s:
        db.heartbeat_job(s, job_id, runner="dead", now=utcnow() - timedelta(seconds=5))
    assert JobRunner(store, name="alive", timing=late).run_once()
    job = _status(store, job_id)
    assert job.status == "finished" and job.runner == "alive"


def test_a_dropped_database_connection_hands_the_job_back(monkeypatch) -> None:
    """PostgreSQL ends the runner's connection under a statement (pg_terminate_backend,
    as a restart or a dropped link would): transient, so the job goes back to the queue,
    not to failed, and the next runner finishes it with every trial number once."""
    with fresh_schema_url() as url:
        store = db.open_store(url)
        try:
            job_id = _job(store, _spec(trials=3))
            record, cut = db.record_epochs, []

            def record_after_a_cut(session, *args, **kw):  # the first write loses its link
                if not cut:
                    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
                    with store.engine.connect() as admin:
                        admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
                    cut.append(pid)
                return record(session, *args, **kw)

            monkeypatch.setattr(db, "record_epochs", record_after_a_cut)
            assert JobRunner(store, name="cut", timing=FAST).run_once()
            assert cut and _status(store, job_id).status == "queued"
            assert JobRunner(store, name="next", timing=FAST).run_once()
            job = _status(store, job_id)
            assert (job.status, job.runner) == ("finished", "next")
            with store.session() as s:
                assert [t.number for t in db.list_trials(s, job_id)] == [0, 1, 2]
        finally:
            store.close()
