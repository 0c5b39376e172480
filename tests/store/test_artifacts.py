"""Payloads: npz data sets deduplicated by hash, models stored and replaced."""

from __future__ import annotations

import io

import numpy as np
from sqlalchemy.orm import Session

from nas.store import (
    add_dataset,
    create_job,
    find_dataset,
    get_dataset,
    load_model,
    save_model,
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
