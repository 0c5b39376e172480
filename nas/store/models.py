"""The store's tables as typed SQLAlchemy ORM models (prefix nas_).

Mirrors the data model in DESIGN.md: datasets, jobs, trials, epochs (learning curves) and
models (npz payloads). The indices exist for the two hot reads, the leaderboard
(job_id, status, val_metric) and one trial's curve (trial_id, epoch), so both stay fast
past hundreds of thousands of rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from nas.status import JobStatus, TrialStatus

PREFIX = "nas_"

# Statuses are plain strings checked in code, not database enums: adding one later is then
# a code change, not a migration on every deployed database.
JOB_STATUSES = tuple(JobStatus)
TRIAL_STATUSES = tuple(TrialStatus)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC and returned timezone-aware.

    SQLite keeps no time zone, PostgreSQL does; storing UTC everywhere and tagging on the
    way out makes both back ends return the same values, so heartbeat arithmetic agrees.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, datetime: UTCDateTime, bytes: LargeBinary}


class Dataset(Base):
    __tablename__ = PREFIX + "datasets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(500))
    task: Mapped[str] = mapped_column(String(32))
    n_rows: Mapped[int]
    n_features: Mapped[int]
    payload: Mapped[bytes]
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    __tablename__ = PREFIX + "jobs"
    __table_args__ = (Index(None, "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    spec: Mapped[dict[str, Any]]
    seed: Mapped[int] = mapped_column(BigInteger, default=0)
    searcher_state: Mapped[dict[str, Any] | None]
    created: Mapped[datetime] = mapped_column(default=utcnow)
    started: Mapped[datetime | None]
    finished: Mapped[datetime | None]
    heartbeat: Mapped[datetime | None]
    runner: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    # the finished job whose top candidates seeded this one (spec.warm_start), if any (0004)
    warm_start_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("nas_jobs.id", ondelete="SET NULL")
    )
    # Bumped in the same transaction as every write that changes what the job's reads
    # return (its status, its trials, their curves): the API's read cache keys on it (0005).
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # where the run's time went, seconds by part (nas.search.timing), kept fresh by the
    # driver's heartbeat and final when the job ends (0007)
    timings: Mapped[dict[str, Any] | None]


class Trial(Base):
    __tablename__ = PREFIX + "trials"
    __table_args__ = (
        UniqueConstraint("job_id", "number"),
        Index(None, "status", "heartbeat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey(Job.id, ondelete="CASCADE"))
    number: Mapped[int]
    params: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="running")
    epochs_run: Mapped[int] = mapped_column(default=0)
    val_metric: Mapped[float | None] = mapped_column(Float)
    test_metric: Mapped[float | None] = mapped_column(Float)
    n_params: Mapped[int | None]
    predicted_final: Mapped[float | None] = mapped_column(Float)
    # the job's chosen trial retrained on train + validation rows (spec.refit, 0006): its
    # epochs and test metric; test_metric stays the searched model's
    refit_epochs: Mapped[int | None]
    refit_test_metric: Mapped[float | None] = mapped_column(Float)
    attempt: Mapped[int] = mapped_column(default=1)
    worker: Mapped[str | None] = mapped_column(String(200))
    seed: Mapped[int | None] = mapped_column(BigInteger)
    started: Mapped[datetime] = mapped_column(default=utcnow)
    finished: Mapped[datetime | None]
    heartbeat: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


# Pages and leaderboards read in their sort order: val_metric DESC NULLS LAST, ties by
# number (0003). SQLite's DESC puts NULLs last by itself and cannot spell NULLS LAST.
for _name, _columns in {
    "ix_nas_trials_by_val_metric": (Trial.job_id,),
    "ix_nas_trials_by_status_val_metric": (Trial.job_id, Trial.status),
}.items():
    Index(_name, *_columns, Trial.val_metric.desc(), Trial.number).ddl_if(dialect="sqlite")
    _nulls_last = Trial.val_metric.desc().nulls_last()
    Index(f"{_name}_nulls_last", *_columns, _nulls_last, Trial.number).ddl_if(dialect="postgresql")


class Epoch(Base):
    """One point of a learning curve; epochs count from 1, as a user counts them."""

    __tablename__ = PREFIX + "epochs"

    trial_id: Mapped[int] = mapped_column(
        ForeignKey(Trial.id, ondelete="CASCADE"), primary_key=True
    )
    epoch: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    train_loss: Mapped[float | None] = mapped_column(Float)
    val_loss: Mapped[float | None] = mapped_column(Float)
    val_metric: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float | None] = mapped_column(Float)
    # share of the training rows this epoch trained on (data-fraction fidelity, 0003)
    data_fraction: Mapped[float] = mapped_column(Float, default=1.0, server_default="1.0")


class Proxy(Base):
    """A scaled-down stand-in trained to screen a candidate (spec.proxy), and whether the
    candidate was kept for full training; the full trial, if any, has the same params."""

    __tablename__ = PREFIX + "proxies"
    __table_args__ = (UniqueConstraint("job_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey(Job.id, ondelete="CASCADE"))
    number: Mapped[int]
    params: Mapped[dict[str, Any]]  # the full candidate's
    width_scale: Mapped[float] = mapped_column(Float)
    epochs: Mapped[int]
    n_params: Mapped[int]  # the proxy's
    val_metric: Mapped[float | None] = mapped_column(Float)
    cost: Mapped[float] = mapped_column(Float)  # in full-candidate epochs
    kept: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class Model(Base):
    """A trained network as npz bytes plus JSON metadata: no pickle crosses the store."""

    __tablename__ = PREFIX + "models"

    trial_id: Mapped[int] = mapped_column(
        ForeignKey(Trial.id, ondelete="CASCADE"), primary_key=True
    )
    payload: Mapped[bytes]
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    format_version: Mapped[int] = mapped_column(default=1)
    created: Mapped[datetime] = mapped_column(default=utcnow)
