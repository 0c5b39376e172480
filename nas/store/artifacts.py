"""Binary payloads in the store: data sets and trained models, both as npz bytes.

No pickle crosses the store (DESIGN.md): callers hand in bytes from numpy.savez and get
bytes back. Data sets are keyed by content hash, so registering the same data twice
returns the first row instead of storing a second copy.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from nas.store.models import Dataset, Model, Trial
from nas.store.versions import bump_trial_job


def add_dataset(
    session: Session,
    *,
    name: str,
    source: str,
    task: str,
    n_rows: int,
    n_features: int,
    payload: bytes,
) -> Dataset:
    """Store a data set's npz bytes once; the same bytes again return the existing row."""
    digest = hashlib.sha256(payload).hexdigest()
    existing = session.scalar(select(Dataset).where(Dataset.sha256 == digest))
    if existing is not None:
        return existing
    dataset = Dataset(
        name=name,
        source=source,
        task=task,
        n_rows=n_rows,
        n_features=n_features,
        payload=payload,
        sha256=digest,
    )
    session.add(dataset)
    session.commit()
    return dataset


def get_dataset(session: Session, dataset_id: int) -> Dataset | None:
    return session.get(Dataset, dataset_id)


def find_dataset(session: Session, name: str) -> Dataset | None:
    """The newest data set registered under `name`."""
    query = select(Dataset).where(Dataset.name == name).order_by(Dataset.id.desc()).limit(1)
    return session.scalar(query)


def save_model(
    session: Session,
    trial_id: int,
    payload: bytes,
    *,
    meta: dict[str, Any] | None = None,
    format_version: int = 1,
) -> Model:
    """Store (or replace) a trial's trained network as npz bytes plus JSON metadata."""
    model = _put_model(session, trial_id, payload, meta, format_version)
    session.commit()
    return model


def _put_model(
    session: Session,
    trial_id: int,
    payload: bytes,
    meta: dict[str, Any] | None,
    format_version: int = 1,
) -> Model:
    model = session.get(Model, trial_id)
    if model is None:
        model = Model(trial_id=trial_id, payload=payload)
        session.add(model)
    model.payload = payload
    model.meta = meta or {}
    model.format_version = format_version
    return model


def save_refit(
    session: Session,
    trial_id: int,
    *,
    epochs: int,
    test_metric: float | None,
    payload: bytes | None,
    meta: dict[str, Any] | None = None,
) -> None:
    """Record a trial's refit on train + validation rows (spec.refit), and keep the refit
    network as the trial's model (so the job's best model is the refit one), in one
    transaction. payload None (the refit diverged) leaves the searched model in place."""
    trial = session.get(Trial, trial_id)
    if trial is None:
        raise ValueError(f"no trial with id {trial_id}")
    finite = test_metric is not None and math.isfinite(test_metric)
    trial.refit_epochs = epochs
    trial.refit_test_metric = test_metric if finite else None
    if payload is not None:
        _put_model(session, trial_id, payload, meta)
    bump_trial_job(session, trial_id)
    session.commit()


def load_model(session: Session, trial_id: int) -> Model | None:
    return session.get(Model, trial_id)


def best_model(session: Session, job_id: int) -> tuple[Trial, Model] | None:
    """The stored model of the job's best finished trial (highest val_metric), if any."""
    query = (
        select(Trial, Model)
        .join(Model, Model.trial_id == Trial.id)
        .where(Trial.job_id == job_id, Trial.status == "finished", Trial.val_metric.is_not(None))
        .order_by(Trial.val_metric.desc(), Trial.number)
        .limit(1)
    )
    row = session.execute(query).first()
    return None if row is None else (row[0], row[1])


def list_datasets(session: Session, *, limit: int = 100, offset: int = 0) -> list[Dataset]:
    """Stored data sets newest first, without loading their payloads."""
    query = select(Dataset).options(defer(Dataset.payload))
    return list(session.scalars(query.order_by(Dataset.id.desc()).offset(offset).limit(limit)))


def count_datasets(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Dataset)) or 0
