"""Job versions: a counter per job that every write changing the job's reads bumps.

Readers that keep rendered results (the API's read cache) compare versions instead of
re-reading: one primary-key lookup says whether anything they showed has changed. A bump
runs inside the writer's own transaction, so the version and the data it stands for
commit together. Heartbeats change nothing a reader sees and do not bump.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Update, bindparam, select, update
from sqlalchemy.orm import Session

from nas.store.models import Job, Trial


def bump_job(session: Session, job_ids: int | Sequence[int]) -> None:
    """Bump the version of the given jobs, in the session's open transaction."""
    ids = [job_ids] if isinstance(job_ids, int) else list(job_ids)
    if ids:
        session.execute(_bump(Job.id.in_(ids)))


def bump_trial_job(session: Session, trial_id: int) -> None:
    """Bump the version of the job a trial belongs to (every rung's write does: built once)."""
    session.connection().execute(_BUMP_TRIAL_JOB, {"trial_id": trial_id})


def _bump(where: object) -> Update:
    return (
        update(Job)
        .where(where)  # type: ignore[arg-type]
        .values(version=Job.version + 1)
        .execution_options(synchronize_session=False)
    )


_BUMP_TRIAL_JOB = _bump(
    Job.id == select(Trial.job_id).where(Trial.id == bindparam("trial_id")).scalar_subquery()
)

Stamp = tuple[int, datetime, int, str]  # (job id, created, version, status)

# Created is part of the stamp: SQLite may give a deleted job's id to the next new job.
_JOB_STAMP = select(Job.id, Job.created, Job.version, Job.status).where(Job.id == bindparam("id"))
_TRIAL_JOB_STAMP = (
    select(Job.id, Job.created, Job.version, Job.status)
    .join(Trial, Trial.job_id == Job.id)
    .where(Trial.id == bindparam("id"))
)


def job_stamp(connection: Connection, job_id: int) -> Stamp | None:
    """(id, created, version, status) of the job, or None when there is no such job."""
    row = connection.execute(_JOB_STAMP, {"id": job_id}).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


def trial_job_stamp(connection: Connection, trial_id: int) -> Stamp | None:
    """(id, created, version, status) of the trial's job, or None when there is no such trial."""
    row = connection.execute(_TRIAL_JOB_STAMP, {"id": trial_id}).first()
    return None if row is None else (row[0], row[1], row[2], row[3])
