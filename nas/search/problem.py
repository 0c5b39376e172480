"""The job's problem: its data set read and split once from the seed, its preprocessing
fitted on the training rows, and the shapes a candidate needs; the executor that trains in
this process; a batch run's own job."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nas import store as db
from nas.data import (
    DataError,
    Dataset,
    Split,
    check_refusals,
    from_npz,
    load_builtin,
    load_csv,
    prepare,
    split,
)
from nas.nn import Preprocessing, with_preprocessing
from nas.search.executors import Executor, LocalExecutor, PopulationExecutor
from nas.spec import DataSpec, JobSpec

SPEC_HINT = "set dataset.{option}: auto"


@dataclass(frozen=True)
class Problem:
    """The job's data, split once from its seed, and the shapes a candidate needs.

    A table's (CSV or stored) rows come preprocessed: `preprocessing` was fitted on the
    training rows and is saved with every model (package); built-ins have none.
    """

    data: Split
    classification: bool
    n_features: int
    n_outputs: int
    preprocessing: Preprocessing | None = None
    name: str = ""
    task_note: str | None = None  # why the task was inferred, when it was

    def package(self, model: bytes) -> bytes:
        """A trained model's npz bytes (a network, or an ensemble of bare networks) with the
        job's preprocessing beside it, once: raw rows are preprocessed, then predicted."""
        return with_preprocessing(model, self.preprocessing)


def load_problem(spec: JobSpec, store: db.Store | None = None) -> Problem:
    """The spec's data set, split by its seed; a stored data set (dataset.id) needs `store`.
    Every problem with the data is a one-line DataError naming the column (and row)."""
    ds = spec.dataset
    preprocessing = None
    try:
        data = _read(ds, spec.seed, store)
        check_refusals(data, ds.categorical, ds.missing, SPEC_HINT)
        if ds.name is not None:  # numbers without gaps: no preprocessing of their own
            parts = split(data, spec.seed, ds.test_fraction, ds.val_fraction)
        else:
            prepared = prepare(data, spec.seed, ds.test_fraction, ds.val_fraction, ds.drop)
            parts, preprocessing = prepared.split, prepared.preprocessing
    except DataError:
        raise
    except ValueError as exc:
        raise DataError(f"{ds.name or ds.csv or ds.id} cannot be split: {exc}") from None
    classification = data.task == "classification"
    n_classes = len(np.unique(data.y)) if classification else 0
    n_outputs = (1 if n_classes == 2 else n_classes) if classification else 1
    n_features = parts.X_train.shape[1]
    if n_features == 0:
        raise DataError(f"{data.name}: no feature column is left to learn from (all dropped)")
    return Problem(
        parts, classification, n_features, n_outputs, preprocessing, data.name, data.task_note
    )


def _read(ds: DataSpec, seed: int, store: db.Store | None) -> Dataset:
    if ds.id is not None:
        return _retask(_stored_dataset(ds.id, store), ds.task)
    if ds.name is not None:
        return load_builtin(ds.name, seed=seed)
    assert ds.csv is not None and ds.target is not None
    return load_csv(ds.csv, ds.target, ds.task)


def _retask(data: Dataset, task: str | None) -> Dataset:
    """A stored data set under the task the spec names, when it names another."""
    if task is None or task == data.task:
        return data
    y = data.y
    if task == "regression":
        try:
            y = y.astype(np.float64)
        except ValueError:
            raise DataError(
                f"target {data.target!r} is not numeric: it cannot be regressed"
            ) from None
    return Dataset(data.name, data.features, y, task, data.target, "as the spec asks")


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
