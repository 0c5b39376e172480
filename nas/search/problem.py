"""The job's problem: its data set read and split once from the seed, and the shapes a
candidate needs; the executor that trains in this process; a batch run's own job."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nas import store as db
from nas.data import DataError, Dataset, Split, from_npz, load_builtin, load_csv, split
from nas.search.executors import Executor, LocalExecutor, PopulationExecutor
from nas.spec import JobSpec


@dataclass(frozen=True)
class Problem:
    """The job's data, split once from its seed, and the shapes a candidate needs."""

    data: Split
    classification: bool
    n_features: int
    n_outputs: int


def load_problem(spec: JobSpec, store: db.Store | None = None) -> Problem:
    """The spec's data set, split by its seed; a stored data set (dataset.id) needs `store`."""
    ds = spec.dataset
    task = ds.resolved_task
    if ds.id is not None:
        data = _stored_dataset(ds.id, store)
        task = ds.task or data.task
        if task != data.task:
            data = Dataset(data.name, data.X, data.y, task, data.feature_names)
    elif ds.name is not None:
        data = load_builtin(ds.name, seed=spec.seed)
    else:
        assert ds.csv is not None and ds.target is not None
        data = load_csv(ds.csv, ds.target, task)
    try:
        parts = split(data, spec.seed, ds.test_fraction, ds.val_fraction)
    except ValueError as exc:
        raise DataError(f"{data.name} cannot be split: {exc}") from None
    classification = task == "classification"
    n_classes = len(np.unique(data.y)) if classification else 0
    n_outputs = (1 if n_classes == 2 else n_classes) if classification else 1
    return Problem(parts, classification, data.n_features, n_outputs)


def _stored_dataset(dataset_id: int, store: db.Store | None) -> Dataset:
    if store is None:
        raise DataError(f"data set id {dataset_id} needs the store to read it from")
    with store.session() as s:
        row = db.get_dataset(s, dataset_id)
        if row is None:
            raise DataError(f"no stored data set with id {dataset_id}")
        return from_npz(row.payload)


def local_executor(spec: JobSpec, problem: Problem) -> Executor:
    """In-process training: trial by trial, or in populations when the spec asks for them."""
    if spec.population is None:
        return LocalExecutor(problem.data, problem.classification)
    return PopulationExecutor(
        problem.data, problem.classification, spec.population.size, spec.backend
    )


def submit_and_claim(store: db.Store, spec: JobSpec, runner: str) -> int:
    """Queue a job for `spec` and hand it straight to `runner` (a batch run owns its job)."""
    with store.session() as s:
        job = db.create_job(s, name=spec.name, spec=spec.model_dump(mode="json"), seed=spec.seed)
        db.claim_job(s, runner=runner, job_id=job.id)
        return job.id
