"""Job versions: every write that changes what a job's reads return bumps its version;
heartbeats do not. The API's read cache is exact only if this holds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from nas import store as db
from nas.store import Store, versions
from nas.store.models import utcnow


def _version(store: Store, job_id: int) -> int:
    with store.engine.connect() as connection:
        stamp = versions.job_stamp(connection, job_id)
    assert stamp is not None
    return stamp[2]


def _bumps(store: Store, job_id: int, write: Callable[[], object]) -> int:
    before = _version(store, job_id)
    write()
    return _version(store, job_id) - before


def test_trial_writes_bump_their_job_and_no_other(store: Store) -> None:
    with store.session() as s:
        job, other = (db.create_job(s, name=n, spec={}).id for n in ("a", "b"))
        assert _bumps(store, job, lambda: db.claim_job(s, runner="r", job_id=job)) == 1
        trial = db.start_trial(s, job, params={}).id
        assert _version(store, job) == 2 and _version(store, other) == 0
        point = [db.EpochPoint(1, val_metric=0.5)]
        assert _bumps(store, job, lambda: db.record_epochs(s, trial, point)) == 1
        assert _bumps(store, job, lambda: db.heartbeat_trial(s, trial)) == 0
        assert _bumps(store, job, lambda: db.record_epochs(s, trial, [])) == 0  # a heartbeat
        assert _bumps(store, job, lambda: db.heartbeat_job(s, job, runner="r")) == 0
        assert _bumps(store, job, lambda: db.end_trial(s, trial, status="failed")) == 1
        assert _bumps(store, job, lambda: db.end_trial(s, trial, status="failed")) == 0  # no-op
        assert _bumps(store, job, lambda: db.claim_retry(s, job)) == 1
        assert _bumps(store, job, lambda: db.finish_job(s, job, runner="r")) == 1
        assert _version(store, other) == 0


def test_job_status_changes_bump(store: Store) -> None:
    with store.session() as s:
        job = db.create_job(s, name="a", spec={}).id
        assert _bumps(store, job, lambda: db.claim_job(s, runner="r")) == 1
        assert _bumps(store, job, lambda: db.release_job(s, job, runner="r")) == 1
        db.claim_job(s, runner="r")
        assert _bumps(store, job, lambda: db.cancel_job(s, job)) == 1
        assert _bumps(store, job, lambda: db.cancel_job(s, job)) == 0  # already cancelled


def test_reaping_bumps_the_jobs_it_touches(store: Store) -> None:
    with store.session() as s:
        lost, tended = (db.create_job(s, name=n, spec={}).id for n in ("lost", "tended"))
        db.claim_job(s, runner="r", job_id=lost)
        db.start_trial(s, lost, params={})
        later = utcnow() + timedelta(hours=1)
        before = _version(store, lost)
        report = db.reap_stale(s, older_than=timedelta(minutes=1), now=later)
        assert report.jobs_requeued == [lost] and len(report.trials_failed) == 1
        assert _version(store, lost) == before + 1  # requeued and its trial failed: once
        assert _version(store, tended) == 0


def test_stamps_of_missing_rows_are_none(store: Store) -> None:
    with store.engine.connect() as connection:
        assert versions.job_stamp(connection, 12345) is None
        assert versions.trial_job_stamp(connection, 12345) is None
    with store.session() as s:
        job = db.create_job(s, name="a", spec={}).id
        trial = db.start_trial(s, job, params={}).id
    with store.engine.connect() as connection:
        assert versions.trial_job_stamp(connection, trial) == versions.job_stamp(connection, job)
