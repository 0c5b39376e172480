"""The job's final model as an ensemble of its best trials (spec.ensemble), after the search.

The pool is the job's best trials by validation metric whose searched networks the driver
kept (finished or pruned, the top `ensemble.pool`). Greedy selection (search/ensemble.py)
weighs them on the validation rows, where the searched networks made their choice; the
chosen ones are then refit like the single model (search/refit.py: train + validation
rows, each for the epochs its own validation metric peaked at, from its own seed) unless
spec.refit is off. The leaderboard's best trial is refit too, so the single best's test
score stands beside the ensemble's in the model's meta. The ensemble is stored as that
trial's model (the job's best model), in one transaction, as a refit is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nas import store as db
from nas.nn import from_bytes, without_preprocessing
from nas.search.ensemble import (
    Ensemble,
    greedy_selection,
    is_ensemble,
    selection_score,
    to_bytes,
)
from nas.search.problem import Problem
from nas.search.refit import best_epoch, refit
from nas.space import Candidate
from nas.spec import JobSpec


@dataclass(frozen=True)
class _Member:
    trial_id: int
    number: int
    candidate: Candidate
    seed: int
    val_metric: float
    epochs: int  # where its validation metric peaked: its refit's epochs
    payload: bytes  # the searched network, bare (the job's preprocessing goes on the whole)


class TopValues:
    """The `k` highest validation metrics so far: whether a trial's network is worth keeping
    for the ensemble's pool (the driver stores those networks, and only those)."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.values: list[float] = []

    def admit(self, value: float) -> bool:
        if self.k < 1:
            return False
        if len(self.values) == self.k and value <= self.values[-1]:
            return False
        self.values = sorted([*self.values, value], reverse=True)[: self.k]
        return True


def _pool(store: db.Store, job_id: int, k: int, max_epochs: int) -> list[_Member]:
    """The top `k` kept trials by validation metric, best first (ties: lower number)."""
    with store.session() as s:
        ranked = sorted(
            (
                t
                for t in db.list_trials(s, job_id)
                if t.status in ("finished", "pruned")
                and t.val_metric is not None
                and math.isfinite(t.val_metric)
            ),
            key=lambda t: (-float(t.val_metric or 0.0), t.number),
        )
        pool: list[_Member] = []
        for t in ranked:
            model = db.load_model(s, t.id)
            if model is None or model.meta.get("refit") or t.seed is None:
                continue
            curve = [p.val_metric for p in db.curve(s, t.id, limit=max_epochs)]
            candidate = Candidate.model_validate(t.params)
            pool.append(
                _Member(
                    t.id,
                    t.number,
                    candidate,
                    t.seed,
                    float(t.val_metric or 0.0),
                    best_epoch(curve),
                    without_preprocessing(model.payload),
                )
            )
            if len(pool) == k:
                break
    return pool


def _validation_predictions(
    pool: list[_Member], problem: Problem
) -> tuple[list[np.ndarray], np.ndarray]:
    d = problem.data
    networks: list[Any] = [from_bytes(m.payload) for m in pool]  # bare networks
    if problem.classification:
        classes = networks[0].classes_
        target = np.searchsorted(classes, d.y_val)
        return [n.predict_proba(d.X_val) for n in networks], target
    return [np.asarray(n.predict(d.X_val), np.float64) for n in networks], np.asarray(
        d.y_val, float
    )


def build_ensemble(store: db.Store, job_id: int, spec: JobSpec, problem: Problem) -> bool:
    """Select, refit (as spec.refit says) and store the job's ensemble; a rerun after a
    crash finds it stored and leaves it. False when none could be built (no finished
    trial, or every chosen network diverged in its refit): the single model's way then."""
    assert spec.ensemble is not None
    max_epochs = spec.space.max_epochs
    with store.session() as s:
        chosen = db.leaderboard(s, job_id, k=1)
        if not chosen:
            return False
        best = chosen[0]
        stored = db.load_model(s, best.id)
        if stored is not None and is_ensemble(stored.payload):
            return True
    pool = _pool(store, job_id, spec.ensemble.pool, max_epochs)
    if best.id not in {m.trial_id for m in pool}:
        return False  # the best trial's searched network is not kept: nothing to build on
    predictions, target = _validation_predictions(pool, problem)
    counts = greedy_selection(predictions, target, problem.classification, spec.ensemble.size)
    val_score = _val_score(predictions, counts, target, problem.classification)
    members = [(m, c) for m, c in zip(pool, counts) if c > 0]
    data, classification = problem.data, problem.classification
    payloads: dict[int, bytes | None] = {}
    single_test = None
    if spec.refit:
        best_member = next(m for m in pool if m.trial_id == best.id)
        to_refit = {m.trial_id: m for m in (best_member, *(m for m, _ in members))}
        for m in to_refit.values():
            out = refit(m.candidate, m.seed, m.epochs, data, classification)
            payloads[m.trial_id] = None if out.test_metric is None else out.model
            if m.trial_id == best.id:
                single_test = out.test_metric
    else:
        payloads = {m.trial_id: m.payload for m, _ in members}
    kept = [(m, c) for m, c in members if payloads.get(m.trial_id) is not None]
    if not kept:
        return False  # every chosen network diverged in its refit
    info = [
        {"trial_id": m.trial_id, "number": m.number, "val_metric": m.val_metric, "epochs": m.epochs}
        for m, _ in kept
    ]
    ensemble = Ensemble(
        [from_bytes(payloads[m.trial_id] or b"") for m, _ in kept], [c for _, c in kept], info
    )
    test = ensemble.score(data.X_test, data.y_test)
    test_metric = test if math.isfinite(test) else None
    best_epochs = next(m.epochs for m in pool if m.trial_id == best.id)
    meta = {
        "number": best.number,
        "val_metric": best.val_metric,
        "refit": spec.refit,
        "epochs": best_epochs,
        "rows": "train+validation" if spec.refit else "train",
        "ensemble": {
            "size": spec.ensemble.size,
            "pool": len(pool),
            "val_metric": val_score,
            "test_metric": test_metric,
            "members": [i | {"weight": w} for i, w in zip(info, ensemble.weights)],
        },
        "single_test_metric": single_test if spec.refit else best.test_metric,
    }
    members_bytes = [payloads[m.trial_id] or b"" for m, _ in kept]
    payload = problem.package(to_bytes(ensemble, members_bytes))  # preprocessing once, beside
    with store.session() as s:
        if spec.refit:
            db.save_refit(
                s, best.id, epochs=best_epochs, test_metric=test_metric, payload=payload, meta=meta
            )
        else:
            db.save_model(s, best.id, payload, meta=meta)
    return True


def _val_score(
    predictions: list[np.ndarray], counts: list[int], target: np.ndarray, classification: bool
) -> float:
    """The ensemble's validation metric (accuracy or R^2): chosen on these rows, so it is
    optimistic, as the best trial's own validation metric is."""
    average = np.average(np.stack(predictions), axis=0, weights=np.asarray(counts, np.float64))
    return float(selection_score(average, target, classification)[0])
