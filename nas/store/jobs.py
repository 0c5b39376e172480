"""Job lifecycle in the store: create, claim, heartbeat, finish, and reap the lost ones.

A runner owns a job while its heartbeat is fresh. Every write that a runner makes on its
job names the runner, so a runner that was presumed dead and reaped finds out (the write
matches no row) instead of overwriting whoever claimed the job next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from nas.status import FINAL_JOB_STATUSES
from nas.store._sql import rows_changed
from nas.store.models import Job, Trial, utcnow
from nas.store.versions import bump_job

RUNNER_LOST = "runner lost: no heartbeat"


@dataclass(frozen=True)
class ReapReport:
    """What one reaping pass did: jobs put back in the queue, trials marked failed."""

    jobs_requeued: list[int] = field(default_factory=list)
    trials_failed: list[int] = field(default_factory=list)


def create_job(session: Session, *, name: str, spec: dict[str, Any], seed: int = 0) -> Job:
    """Queue a new job; runners pick it up with claim_job. A warm start's source is linked."""
    source = (spec.get("warm_start") or {}).get("job_id")
    if source is not None and session.get(Job, source) is None:
        source = None  # gone: the driver refuses the job, saying so
    job = Job(name=name, spec=spec, seed=seed, status="queued", warm_start_job_id=source)
    session.add(job)
    session.commit()
    return job


class WarmStartError(ValueError):
    """The job named to seed another does not exist or has not finished."""


def warm_start_source(session: Session, job_id: int, top: int) -> list[Trial]:
    """The `top` finished trials of finished job `job_id`, best first; WarmStartError if the
    job is missing or not finished (its ranking could still change)."""
    job = get_job(session, job_id)
    if job is None:
        raise WarmStartError(f"no job with id {job_id} to warm-start from")
    if job.status != "finished":
        raise WarmStartError(f"job {job_id} is {job.status}; only a finished job can seed another")
    query = (
        select(Trial)
        .where(Trial.job_id == job_id, Trial.status == "finished", Trial.val_metric.is_not(None))
        .order_by(Trial.val_metric.desc(), Trial.number)
        .limit(top)
    )
    return list(session.scalars(query))


def get_job(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id, populate_existing=True)


_EXISTS = select(Job.id).where(Job.id == bindparam("job_id"))


def job_exists(session: Session, job_id: int) -> bool:
    """Whether the job is stored: one indexed read, no row loaded."""
    return session.connection().execute(_EXISTS, {"job_id": job_id}).scalar() is not None


def list_jobs(
    session: Session, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[Job]:
    """Jobs newest first (optionally of one status), a page of them."""
    query = select(Job).order_by(Job.id.desc()).offset(offset).limit(limit)
    if status is not None:
        query = query.where(Job.status == status)
    return list(session.scalars(query))


def count_jobs(session: Session, *, status: str | None = None) -> int:
    query = select(func.count()).select_from(Job)
    if status is not None:
        query = query.where(Job.status == status)
    return session.scalar(query) or 0


def delete_job(session: Session, job_id: int) -> bool:
    """Delete a job that no runner is working on, with its trials, curves and models.

    A running job is left alone (False): cancel it first, so its runner stops writing.
    """
    statement = delete(Job).where(Job.id == job_id, Job.status != "running")
    done = rows_changed(session, statement.execution_options(synchronize_session=False))
    session.commit()
    return done == 1


def release_job(session: Session, job_id: int, *, runner: str) -> bool:
    """Hand a job this runner owns back to the queue (a runner shutting down cleanly)."""
    statement = (
        update(Job)
        .where(_owned(job_id, runner))
        .values(status="queued", runner=None, heartbeat=None, version=Job.version + 1)
        .execution_options(synchronize_session=False)
    )
    done = rows_changed(session, statement)
    session.commit()
    return done == 1


def claim_job(
    session: Session, *, runner: str, job_id: int | None = None, now: datetime | None = None
) -> Job | None:
    """Atomically hand the oldest queued job (or job `job_id`) to `runner`, or return None.

    One statement: UPDATE ... WHERE id = (oldest queued id) AND status = 'queued'. On
    PostgreSQL the inner SELECT is FOR UPDATE SKIP LOCKED, so concurrent runners take
    different jobs without waiting on each other; on SQLite the statement runs under the
    database's single write lock, which makes it atomic by itself.
    """
    now = now or utcnow()
    queued = (Job.status == "queued") & (Job.id == job_id if job_id is not None else True)
    oldest = (
        select(Job.id)
        .where(queued)
        .order_by(Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        update(Job)
        .where(Job.id == oldest, Job.status == "queued")
        .values(
            status="running",
            runner=runner,
            started=func.coalesce(Job.started, now),
            heartbeat=now,
            error=None,
            version=Job.version + 1,
        )
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    job_id = session.execute(statement).scalar_one_or_none()
    session.commit()
    return None if job_id is None else get_job(session, job_id)


def _owned(job_id: int, runner: str) -> Any:
    return (Job.id == job_id) & (Job.runner == runner) & (Job.status == "running")


def heartbeat_job(
    session: Session,
    job_id: int,
    *,
    runner: str,
    now: datetime | None = None,
    timings: dict[str, Any] | None = None,
) -> bool:
    """Refresh the lease (and, given, where the time went so far); False means the job is
    no longer this runner's: stop working on it."""
    values: dict[str, Any] = {"heartbeat": now or utcnow()}
    if timings is not None:
        values["timings"] = timings
    statement = update(Job).where(_owned(job_id, runner)).values(**values)
    owned = rows_changed(session, statement.execution_options(synchronize_session=False))
    session.commit()
    return owned == 1


def save_searcher_state(
    session: Session, job_id: int, state: dict[str, Any], *, runner: str
) -> bool:
    """Persist the searcher's JSON state with the job, so a resumed run asks where it left."""
    statement = (
        update(Job).where(_owned(job_id, runner)).values(searcher_state=state, heartbeat=utcnow())
    )
    owned = rows_changed(session, statement.execution_options(synchronize_session=False))
    session.commit()
    return owned == 1


def finish_job(
    session: Session,
    job_id: int,
    *,
    runner: str,
    status: str = "finished",
    error: str | None = None,
    timings: dict[str, Any] | None = None,
) -> bool:
    """Close a job the runner owns with a final status (and, given, where its time went);
    False if it was not the owner."""
    if status not in FINAL_JOB_STATUSES:
        raise ValueError(f"final job status must be one of {FINAL_JOB_STATUSES}, got {status!r}")
    values: dict[str, Any] = {"status": status, "finished": utcnow(), "heartbeat": None}
    values |= {"error": error, "version": Job.version + 1}
    if timings is not None:
        values["timings"] = timings
    statement = update(Job).where(_owned(job_id, runner)).values(**values)
    owned = rows_changed(session, statement.execution_options(synchronize_session=False))
    session.commit()
    return owned == 1


def cancel_job(session: Session, job_id: int) -> bool:
    """Cancel a queued or running job; a running runner sees it at its next heartbeat."""
    statement = (
        update(Job)
        .where(Job.id == job_id, Job.status.in_(("queued", "running")))
        .values(status="cancelled", finished=utcnow(), runner=None, version=Job.version + 1)
    )
    done = rows_changed(session, statement.execution_options(synchronize_session=False))
    session.commit()
    return done == 1


def reap_stale(
    session: Session, *, older_than: timedelta, now: datetime | None = None
) -> ReapReport:
    """Requeue running jobs whose runner went silent, and fail trials nobody tends.

    A requeued job keeps its finished trials; its running trials become failed with
    RUNNER_LOST, and the next runner retries them (trials.claim_retry) under the same
    numbers, so a crash leaves neither gaps nor duplicates in the numbering. A running
    trial with a stale heartbeat inside a live job (a worker died, its driver did not) is
    failed the same way.
    """
    now = now or utcnow()
    cutoff = now - older_than
    requeue = (
        update(Job)
        .where(Job.status == "running", Job.heartbeat < cutoff)
        .values(status="queued", runner=None, heartbeat=None, version=Job.version + 1)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    job_ids = list(session.scalars(requeue))
    lost = Trial.heartbeat < cutoff
    if job_ids:
        lost = lost | Trial.job_id.in_(job_ids)
    fail = (
        update(Trial)
        .where(Trial.status == "running", lost)
        .values(status="failed", error=RUNNER_LOST, finished=now, heartbeat=None)
        .returning(Trial.id)
        .execution_options(synchronize_session=False)
    )
    trial_ids = list(session.scalars(fail))
    if trial_ids:
        owners = select(Trial.job_id).where(Trial.id.in_(trial_ids)).distinct()
        bump_job(session, [i for i in session.scalars(owners) if i not in job_ids])
    session.commit()
    return ReapReport(jobs_requeued=sorted(job_ids), trials_failed=sorted(trial_ids))
