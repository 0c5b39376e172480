"""Trials in the store: start, record each epoch, end, retry after a crash; read curves.

Trial numbers are allocated by the database inside the inserting statement (the next
number after the job's highest), and (job_id, number) is unique, so numbers stay dense and
distinct however many writers race. Epoch writes are upserts keyed by (trial_id, epoch):
a retried write replaces the row instead of failing or duplicating it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    Integer,
    Select,
    String,
    bindparam,
    case,
    delete,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy import insert as sql_insert
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from nas.status import ENDED_TRIAL_STATUSES
from nas.store._sql import rows_changed
from nas.store.models import Epoch, Job, Trial, UTCDateTime, utcnow
from nas.store.versions import bump_job, bump_trial_job

END_STATUSES = ENDED_TRIAL_STATUSES
DEFAULT_MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class EpochPoint:
    """One learning-curve point as the trainer reports it; epochs count from 1."""

    epoch: int
    train_loss: float | None = None
    val_loss: float | None = None
    val_metric: float | None = None
    seconds: float | None = None
    data_fraction: float = 1.0  # share of the training rows the epoch trained on


def start_trial(
    session: Session,
    job_id: int,
    *,
    params: dict[str, Any],
    worker: str | None = None,
    seed: int | None = None,
    n_params: int | None = None,
) -> Trial:
    """Insert a running trial with the job's next number (0, 1, 2, ...)."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialize number allocation per job; SQLite's write lock already does this.
        session.execute(select(Job.id).where(Job.id == job_id).with_for_update())
    now = utcnow()
    next_number = (
        select(
            literal(job_id, Integer),
            func.coalesce(func.max(Trial.number), -1) + 1,
            literal(params, JSON),
            literal("running", String),
            literal(worker, String),
            literal(seed, BigInteger),
            literal(n_params, Integer),
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
            literal(0, Integer),
            literal(1, Integer),
        )
        .select_from(Trial)
        .where(Trial.job_id == job_id)
    )
    columns = ["job_id", "number", "params", "status", "worker", "seed", "n_params"]
    columns += ["started", "heartbeat", "epochs_run", "attempt"]
    statement = sql_insert(Trial).from_select(columns, next_number).returning(Trial.id)
    trial_id = session.execute(statement).scalar_one()
    bump_job(session, job_id)
    session.commit()
    trial = session.get(Trial, trial_id)
    assert trial is not None
    return trial


def claim_retry(
    session: Session,
    job_id: int,
    *,
    worker: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Trial | None:
    """Restart the job's lowest-numbered failed trial that has attempts left, if any.

    The trial keeps its number and params; attempt goes up by one and the curve of the
    lost attempt is dropped, so the retried trial's curve is whole and from one attempt.
    """
    now = utcnow()
    candidate = (
        select(Trial.id)
        .where(Trial.job_id == job_id, Trial.status == "failed", Trial.attempt < max_attempts)
        .order_by(Trial.number)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    restart = (
        sql_update(Trial)
        .where(Trial.id == candidate, Trial.status == "failed")
        .values(
            status="running",
            attempt=Trial.attempt + 1,
            worker=worker,
            started=now,
            heartbeat=now,
            finished=None,
            error=None,
            epochs_run=0,
            val_metric=None,
            test_metric=None,
            predicted_final=None,
        )
        .returning(Trial.id)
        .execution_options(synchronize_session=False)
    )
    trial_id = session.execute(restart).scalar_one_or_none()
    if trial_id is not None:
        session.execute(delete(Epoch).where(Epoch.trial_id == trial_id))
        bump_job(session, job_id)
    session.commit()
    return None if trial_id is None else get_trial(session, trial_id)


def _running(trial_id: int, attempt: int | None) -> Any:
    condition = (Trial.id == trial_id) & (Trial.status == "running")
    if attempt is not None:
        condition = condition & (Trial.attempt == attempt)
    return condition


def _nan_to_none(value: float | None) -> float | None:
    # SQLite turns NaN into NULL; doing the same everywhere keeps both back ends alike.
    # A diverged trial says so in its status, not in a NaN loss.
    return None if value is None or math.isnan(value) else value


def _epoch_row(trial_id: int, p: EpochPoint) -> dict[str, Any]:
    return {
        "trial_id": trial_id,
        "epoch": p.epoch,
        "train_loss": _nan_to_none(p.train_loss),
        "val_loss": _nan_to_none(p.val_loss),
        "val_metric": _nan_to_none(p.val_metric),
        "seconds": _nan_to_none(p.seconds),
        "data_fraction": p.data_fraction,
    }


# A search writes after every rung (an epoch, under curve extrapolation), so the writes of
# record_epochs are built once, with bound parameters: building an UPDATE and an upsert
# and their cache keys cost 4-5 ms a rung, ten times what SQLite takes to run them.
_LAST = bindparam("last_epoch", type_=Integer)
_NEWEST = Trial.epochs_run <= _LAST


@functools.cache
def _touch_statement(with_attempt: bool) -> Any:
    where = (Trial.id == bindparam("b_trial_id")) & (Trial.status == "running")
    if with_attempt:
        where = where & (Trial.attempt == bindparam("b_attempt"))
    return (
        sql_update(Trial)
        .where(where)
        .values(
            heartbeat=bindparam("now", type_=UTCDateTime()),
            epochs_run=case((_NEWEST, _LAST), else_=Trial.epochs_run),
            val_metric=case(
                (_NEWEST, bindparam("last_value", type_=Float)), else_=Trial.val_metric
            ),
        )
    )


@functools.cache
def _upsert_statement(dialect: str) -> Any:
    """One INSERT .. ON CONFLICT (trial_id, epoch) DO UPDATE for all of a rung's epochs."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Epoch)
    updated = ("train_loss", "val_loss", "val_metric", "seconds", "data_fraction")
    return statement.on_conflict_do_update(
        index_elements=["trial_id", "epoch"],
        set_={name: statement.excluded[name] for name in updated},
    )


def record_epochs(
    session: Session,
    trial_id: int,
    points: Sequence[EpochPoint],
    *,
    attempt: int | None = None,
) -> bool:
    """Store curve points of a running trial and refresh its heartbeat, in one transaction.

    Three statements however many points: the guarded UPDATE of the trial, one upsert of
    every point (a retried write replaces its rows), the job's version bump. Returns False,
    writing nothing, when the trial is no longer running (reaped, or ended) or, with
    `attempt`, when it has been retried since: a stale writer cannot corrupt the curve of
    the attempt that replaced it.
    """
    if not points:
        return heartbeat_trial(session, trial_id, attempt=attempt)
    last = max(points, key=lambda p: p.epoch)
    params = {
        "b_trial_id": trial_id,
        "b_attempt": attempt,
        "now": utcnow(),
        "last_epoch": last.epoch,
        "last_value": _nan_to_none(last.val_metric),
    }
    connection = session.connection()
    touched = connection.execute(_touch_statement(attempt is not None), params)
    if touched.rowcount != 1:
        session.rollback()
        return False
    upsert = _upsert_statement(connection.dialect.name)
    connection.execute(upsert, [_epoch_row(trial_id, p) for p in points])
    bump_trial_job(session, trial_id)
    session.commit()
    return True


def record_epoch(
    session: Session, trial_id: int, point: EpochPoint, *, attempt: int | None = None
) -> bool:
    """record_epochs for a single point."""
    return record_epochs(session, trial_id, [point], attempt=attempt)


def heartbeat_trial(
    session: Session, trial_id: int, *, attempt: int | None = None, now: datetime | None = None
) -> bool:
    """Tell the reaper this trial is still being worked on; False if it no longer runs."""
    statement = (
        sql_update(Trial)
        .where(_running(trial_id, attempt))
        .values(heartbeat=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    alive = rows_changed(session, statement) == 1
    session.commit()
    return alive


def end_trial(
    session: Session,
    trial_id: int,
    *,
    status: str = "finished",
    val_metric: float | None = None,
    test_metric: float | None = None,
    predicted_final: float | None = None,
    n_params: int | None = None,
    error: str | None = None,
    attempt: int | None = None,
) -> bool:
    """Close a running trial; val_metric defaults to its last recorded epoch's value."""
    if status not in END_STATUSES:
        raise ValueError(f"trial end status must be one of {END_STATUSES}, got {status!r}")
    values: dict[str, Any] = {"status": status, "finished": utcnow(), "heartbeat": None}
    values |= {"error": error, "test_metric": _nan_to_none(test_metric)}
    values["predicted_final"] = _nan_to_none(predicted_final)
    if val_metric is not None:
        values["val_metric"] = _nan_to_none(val_metric)
    if n_params is not None:
        values["n_params"] = n_params
    statement = (
        sql_update(Trial)
        .where(_running(trial_id, attempt))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    ended = rows_changed(session, statement) == 1
    if ended:
        bump_trial_job(session, trial_id)
    session.commit()
    return ended


def get_trial(session: Session, trial_id: int) -> Trial | None:
    return session.get(Trial, trial_id, populate_existing=True)


def list_trials(session: Session, job_id: int, *, status: str | None = None) -> list[Trial]:
    """All trials of a job in number order (optionally of one status)."""
    query = select(Trial).where(Trial.job_id == job_id).order_by(Trial.number)
    if status is not None:
        query = query.where(Trial.status == status)
    return list(session.scalars(query.execution_options(populate_existing=True)))


TRIAL_ORDERS = {
    "number": (Trial.number,),
    "-number": (Trial.number.desc(),),
    "val_metric": (Trial.val_metric.asc().nulls_last(), Trial.number),
    "-val_metric": (Trial.val_metric.desc().nulls_last(), Trial.number),
    "n_params": (Trial.n_params.asc().nulls_last(), Trial.number),
    "-n_params": (Trial.n_params.desc().nulls_last(), Trial.number),
    "epochs_run": (Trial.epochs_run, Trial.number),
    "-epochs_run": (Trial.epochs_run.desc(), Trial.number),
}


# The reads a dashboard repeats on every poll are built once, with bound parameters:
# building a select and its cache key costs several times what SQLite takes to run it.
_TRIALS_BY_ID = select(Trial).where(Trial.id.in_(bindparam("ids", expanding=True)))


@functools.cache
def _page_statements(order: str, by_status: bool) -> tuple[Select[Any], Select[Any]]:
    where = [Trial.job_id == bindparam("job_id")]
    if by_status:
        where.append(Trial.status == bindparam("status"))
    count = select(func.count()).select_from(Trial).where(*where)
    ids = (
        select(Trial.id)
        .where(*where)
        .order_by(*TRIAL_ORDERS[order])
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )
    return count, ids


def page_trials(
    session: Session,
    job_id: int,
    *,
    status: str | None = None,
    order: str = "number",
    offset: int = 0,
    limit: int = 50,
) -> tuple[int, list[Trial]]:
    """One page of a job's trials in `order` (a TRIAL_ORDERS key), and how many there are."""
    count, ids = _page_statements(order, status is not None)
    params = {"job_id": job_id, "status": status, "offset": offset, "limit": limit}
    total = session.scalar(count, params) or 0
    # Sort narrow rows (ids), then load the page: sorting whole rows (params JSON and all)
    # of a 10,000-trial job costs ten times more.
    page = list(session.scalars(ids, params))
    rows = session.scalars(
        _TRIALS_BY_ID, {"ids": page}, execution_options={"populate_existing": True}
    )
    by_id = {t.id: t for t in rows}
    return total, [by_id[i] for i in page]


_STATUS = select(Trial.status).where(Trial.id == bindparam("trial_id"))


def trial_status(session: Session, trial_id: int) -> str | None:
    """The trial's status, or None if there is no such trial: a one-column read."""
    return session.connection().execute(_STATUS, {"trial_id": trial_id}).scalar()


def count_trials(session: Session, job_id: int) -> int:
    return session.scalar(select(func.count()).where(Trial.job_id == job_id)) or 0


_CURVE = (
    select(
        Epoch.epoch,
        Epoch.train_loss,
        Epoch.val_loss,
        Epoch.val_metric,
        Epoch.seconds,
        Epoch.data_fraction,
    )
    .where(Epoch.trial_id == bindparam("trial_id"), Epoch.epoch > bindparam("after_epoch"))
    .order_by(Epoch.epoch)
    .limit(bindparam("limit"))
)


def curve(
    session: Session, trial_id: int, *, after_epoch: int = 0, limit: int = 1000
) -> list[EpochPoint]:
    """One trial's learning curve, epochs after `after_epoch`, at most `limit` of them.

    Poll incrementally by passing the last epoch already seen; page by the same means.
    """
    params = {"trial_id": trial_id, "after_epoch": after_epoch, "limit": limit}
    return [EpochPoint(*row) for row in session.connection().execute(_CURVE, params)]


def trials_for_update(
    session: Session, job_id: int, *, after_id: int, ids: Sequence[int], limit: int
) -> list[Trial]:
    """A job's trials newer than `after_id` (at most `limit`, by id), plus those in `ids`.

    The dashboard's incremental read: new trials, and the ones it still watches (running,
    or failed with a retry to come), in one query.
    """
    newer = select(Trial.id).where(Trial.job_id == job_id, Trial.id > after_id)
    newer = newer.order_by(Trial.id).limit(limit)
    wanted = set(session.scalars(newer)) | set(ids)
    query = select(Trial).where(Trial.job_id == job_id, Trial.id.in_(wanted)).order_by(Trial.id)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def curves_after(
    session: Session, after: dict[int, int]
) -> dict[int, tuple[list[int], list[float | None]]]:
    """Validation-metric curves of many trials at once: for each trial id, its epochs after
    after[id], as (epochs, values). One query however many trials: the dashboard's bulk
    read, instead of one request per curve."""
    out: dict[int, tuple[list[int], list[float | None]]] = {t: ([], []) for t in after}
    fresh = [t for t, e in after.items() if e <= 0]
    seen = [(Epoch.trial_id == t) & (Epoch.epoch > e) for t, e in after.items() if e > 0]
    # SQLite parses a long OR as a tree as deep as it is long (limit 1000): chunk it
    chunks: list[ColumnElement[bool]] = [
        Epoch.trial_id.in_(fresh[i : i + 900]) for i in range(0, len(fresh), 900)
    ]
    chunks += [or_(*seen[i : i + 200]) for i in range(0, len(seen), 200)]
    columns = select(Epoch.trial_id, Epoch.epoch, Epoch.val_metric)
    for where in chunks:
        query = columns.where(where).order_by(Epoch.trial_id, Epoch.epoch)
        for trial_id, epoch, value in session.execute(query):
            epochs, values = out[trial_id]
            epochs.append(epoch)
            values.append(value)
    return out


def epochs_cost(session: Session, job_id: int) -> dict[int, float]:
    """Epochs each trial of a job trained, in full-data epochs (a quarter-data epoch: 0.25)."""
    query = (
        select(Epoch.trial_id, func.sum(Epoch.data_fraction))
        .join(Trial, Trial.id == Epoch.trial_id)
        .where(Trial.job_id == job_id)
        .group_by(Epoch.trial_id)
    )
    return {trial_id: float(cost) for trial_id, cost in session.execute(query)}
