"""Payloads: npz data sets deduplicated by hash, models stored and replaced."""

from __future__ import annotations

import io

import numpy as np
from sqlalchemy.orm import Session

from nas.store import (
    add_dataset,
    create_job,
    end_trial,
    find_dataset,
    get_dataset,
    get_job,
    get_trial,
    load_model,
    save_model,
    save_refit,
    start_trial,
)


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_dataset_round_trip_and_dedup(session: Session) -> None:
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    payload = _npz(X=X, y=np.array([0, 1, 0, 1]))
    meta = {"source": "builtin:toy", "task": "classification", "n_rows": 4, "n_features": 3}
    dataset = add_dataset(session, name="toy", payload=payload, **meta)  # type: ignore[arg-type]
    again = add_dataset(session, name="toy2", payload=payload, **meta)  # type: ignore[arg-type]
    assert again.id == dataset.id and len(dataset.sha256) == 64
    loaded = get_dataset(session, dataset.id)
    assert loaded is not None
    np.testing.assert_array_equal(np.load(io.BytesIO(loaded.payload))["X"], X)
    assert find_dataset(session, "toy").id == dataset.id  # type: ignore[union-attr]
    assert find_dataset(session, "nope") is None


def test_model_save_replace_load(session: Session) -> None:
    job = create_job(session, name="a", spec={})
    trial = start_trial(session, job.id, params={})
    assert load_model(session, trial.id) is None
    save_model(session, trial.id, _npz(W0=np.ones((2, 2))), meta={"layers": 1})
    save_model(session, trial.id, _npz(W0=np.zeros((2, 2))), meta={"layers": 2}, format_version=2)
    model = load_model(session, trial.id)
    assert model is not None and model.meta == {"layers": 2} and model.format_version == 2
    np.testing.assert_array_equal(np.load(io.BytesIO(model.payload))["W0"], np.zeros((2, 2)))


def test_a_refit_is_recorded_and_its_model_replaces_the_searched_one(session: Session) -> None:
    job = create_job(session, name="a", spec={})
    trial = start_trial(session, job.id, params={})
    end_trial(session, trial.id, val_metric=0.9, test_metric=0.8)
    save_model(session, trial.id, _npz(W0=np.ones((2, 2))), meta={"number": 0})
    version = get_job(session, job.id).version  # type: ignore[union-attr]
    refit = _npz(W0=np.zeros((2, 2)))
    save_refit(session, trial.id, epochs=7, test_metric=0.85, payload=refit, meta={"refit": True})
    row = get_trial(session, trial.id)
    assert row is not None and (row.refit_epochs, row.refit_test_metric) == (7, 0.85)
    assert row.test_metric == 0.8  # the searched model's stays
    model = load_model(session, trial.id)
    assert model is not None and model.payload == refit and model.meta == {"refit": True}
    assert get_job(session, job.id).version > version  # type: ignore[union-attr]


def test_a_diverged_refit_keeps_the_searched_model(session: Session) -> None:
    job = create_job(session, name="a", spec={})
    trial = start_trial(session, job.id, params={})
    searched = _npz(W0=np.ones((2, 2)))
    save_model(session, trial.id, searched, meta={"number": 0})
    save_refit(session, trial.id, epochs=3, test_metric=float("nan"), payload=None)
    row = get_trial(session, trial.id)
    assert row is not None and row.refit_epochs == 3 and row.refit_test_metric is None
    model = load_model(session, trial.id)
    assert model is not None and model.payload == searched
