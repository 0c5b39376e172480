"""Trials: dense numbers under contention, idempotent epochs, exact curves, retries."""

from __future__ import annotations

import math
import sys
import threading

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nas.store import (
    EpochPoint,
    Store,
    claim_retry,
    count_trials,
    create_job,
    curve,
    end_trial,
    get_trial,
    heartbeat_trial,
    list_trials,
    record_epoch,
    record_epochs,
    start_trial,
)
from nas.store.jobs import reap_stale
from nas.store.models import Epoch


def test_trial_numbers_are_dense_per_job(session: Session) -> None:
    a = create_job(session, name="a", spec={})
    b = create_job(session, name="b", spec={})
    numbers = [start_trial(session, a.id, params={"i": i}).number for i in range(3)]
    assert numbers == [0, 1, 2]
    assert start_trial(session, b.id, params={}).number == 0
    trial = start_trial(session, a.id, params={"w": [64, 32]}, worker="w1", seed=2**50)
    assert (trial.number, trial.params, trial.seed, trial.attempt) == (3, {"w": [64, 32]}, 2**50, 1)
    assert trial.status == "running" and trial.epochs_run == 0
    assert count_trials(session, a.id) == 4


def test_concurrent_starts_get_distinct_dense_numbers(store: Store) -> None:
    with store.session() as session:
        job = create_job(session, name="a", spec={})
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with store.session() as session:
                for _ in range(10):
                    start_trial(session, job.id, params={})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.session() as session:
        assert [t.number for t in list_trials(session, job.id)] == list(range(50))


CURVE = [
    EpochPoint(1, 2.302585092994046, 2.2, 0.1, 0.25),
    EpochPoint(2, 1e-300, 5e-324, 1 / 3, 1e300),
    EpochPoint(3, 0.0, math.pi, -1.5, math.inf),
    EpochPoint(4, None, None, None, None),
    EpochPoint(5, float(np.float32(0.1)), sys.float_info.max, sys.float_info.min, 7.0),
]


def test_curve_round_trips_exactly(session: Session) -> None:
    job = create_job(session, name="a", spec={})
    trial = start_trial(session, job.id, params={})
    assert record_epochs(session, trial.id, CURVE[:2])
    for point in CURVE[2:]:
        assert record_epoch(session, trial.id, point)
    assert curve(session, trial.id) == CURVE


def test_nan_is_stored_as_missing_on_every_backend(session: Session) -> None:
    # SQLite cannot hold NaN (it reads back NULL); the store makes PostgreSQL agree.
    job = create_job(session, name="a", spec={})
    trial = start_trial(session, job.id, params={})
    record_epoch(session, trial.id, EpochPoint(1, math.nan, -math.inf, math.nan, 1.0))
    assert curve(session, trial.id) == [EpochPoint(1, None, -math.inf, None, 1.0)]
    assert get_trial(session, trial.id).val_metric is None  # type: ignore[union-attr]


def test_curve_pages_and_polls_after_epoch(session: Session) -> None:
    job = create_job(session, name="a", spec={})
    trial = start_trial(session, job.id, params={})
    record_epochs(session, trial.id, [EpochPoint(e, val_metric=e / 10) for e in range(1, 8)])
    assert [p.epoch for p in curve(session, trial.id, limit=3)] == [1, 2, 3]
    assert [p.epoch for p in curve(session, trial.id, after_epoch=3, limit=3)] == [4, 5, 6]
    assert [p.epoch for p in curve(session, trial.id, after_epoch=6)] == [7]
    assert curve(session, trial.id, after_epoch=7) == []
    record_epoch(session, trial.id, EpochPoint(8, val_metric=0.8))
    assert [p.epoch for p in curve(session, trial.id, after_epoch=7)] == [8]


def test_epoch_writes_are_idempotent(session: Session) -> None:
    job = create_job(session, name="a", spec={})
    trial = start_trial(session, job.id, params={})
    point = EpochPoint(1, 0.5, 0.6, 0.7, 1.0)
    assert record_epoch(session, trial.id, point)
    assert record_epoch(session, trial.id, point)
    assert record_epochs(session, trial.id, [point, EpochPoint(2, 0.4, 0.5, 0.8, 1.0)])
    assert record_epoch(session, trial.id, EpochPoint(1, 0.1, 0.2, 0.3, 2.0))  # a rewrite
    rows = session.scalar(select(func.count()).where(Epoch.trial_id == trial.id))
    assert rows == 2
    assert curve(session, trial.id)[0] == EpochPoint(1, 0.1, 0.2, 0.3, 2.0)
    got = get_trial(session, trial.id)
    assert got is not None and got.epochs_run == 2 and got.val_metric == 0.8


def test_end_trial_and_writes_after_the_end(session: Session) -> None:
    job = create_job(session, name="a", spec={})
    trial = start_trial(session, job.id, params={})
    record_epochs(session, trial.id, [EpochPoint(1, val_metric=0.6), EpochPoint(2, val_metric=0.7)])
    assert end_trial(session, trial.id, status="pruned", test_metric=0.65, predicted_final=0.8)
    ended = get_trial(session, trial.id)
    assert ended is not None and ended.status == "pruned" and ended.val_metric == 0.7
    assert ended.test_metric == 0.65 and ended.finished is not None
    assert not end_trial(session, trial.id, status="finished")
    assert not record_epoch(session, trial.id, EpochPoint(3, val_metric=0.9))
    assert not heartbeat_trial(session, trial.id)
    assert [p.epoch for p in curve(session, trial.id)] == [1, 2]


def test_retry_reuses_number_and_fences_the_old_attempt(session: Session) -> None:
    from datetime import timedelta

    from nas.store.models import utcnow

    job = create_job(session, name="a", spec={})
    trial = start_trial(session, job.id, params={"lr": 0.1})
    record_epoch(session, trial.id, EpochPoint(1, val_metric=0.1), attempt=1)
    reap_stale(session, older_than=timedelta(0), now=utcnow() + timedelta(seconds=1))
    retried = claim_retry(session, job.id, worker="w2", max_attempts=2)
    assert retried is not None and retried.id == trial.id
    assert (retried.number, retried.attempt, retried.status) == (0, 2, "running")
    assert curve(session, trial.id) == []  # the lost attempt's curve is dropped
    assert not record_epoch(session, trial.id, EpochPoint(1, val_metric=0.9), attempt=1)
    assert record_epoch(session, trial.id, EpochPoint(1, val_metric=0.2), attempt=2)
    assert end_trial(session, trial.id, status="failed", error="boom", attempt=2)
    assert claim_retry(session, job.id, max_attempts=2) is None  # attempts used up


def test_a_rungs_epochs_are_written_by_one_statement_and_read_back_whole(
    session: Session,
) -> None:
    from sqlalchemy import event

    job = create_job(session, name="a", spec={})
    trial = start_trial(session, job.id, params={})
    engine = session.get_bind()
    executed: list[tuple[str, bool]] = []

    def seen(_conn, _cursor, statement, _params, _context, executemany) -> None:
        executed.append((statement.split()[0].upper(), executemany))

    rung = [EpochPoint(e, 1.0 / e, 2.0 / e, e / 10, 0.01, 0.5) for e in range(1, 6)]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert record_epochs(session, trial.id, rung, attempt=1)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    inserts = [many for verb, many in executed if verb == "INSERT"]
    assert len(inserts) == 1 and len(executed) == 3  # the trial's row, the epochs, the version
    assert curve(session, trial.id) == rung
    stored = get_trial(session, trial.id)
    assert (stored.epochs_run, stored.val_metric) == (5, 0.5)
    assert not record_epochs(session, trial.id, [EpochPoint(6, val_metric=0.6)], attempt=2)
    assert len(curve(session, trial.id)) == 5  # a stale attempt writes nothing
