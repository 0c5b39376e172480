"""An ensemble of fitted networks (a weighted average) and its file (npz + JSON, no pickle).

The model a search may return instead of one network (nas.search.ensemble chooses the
members and weights by greedy selection). It lives beside the network so that
`nas.nn.load` reads whatever the service downloads, ensembles included, with nothing else
of nas: a TabularModel wraps an Ensemble as it wraps a network, so raw rows are
preprocessed once and then averaged over the members.

The file holds each member's own npz (nas.nn.serialize's format, bit for bit, without
preprocessing) as a byte array beside a JSON list of members and weights, so every member
loads as it would alone; a table's preprocessing sits beside them as it sits beside a
network (nas.nn.serialize.with_preprocessing).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

FORMAT = "ensemble/1"  # the format_version in an ensemble file's meta


def _weighted(predictions: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    return np.average(np.stack(predictions), axis=0, weights=np.asarray(weights, np.float64))


class Ensemble:
    """A weighted average of fitted networks of one task: class probabilities averaged for
    a classifier (the class is their argmax), outputs averaged for a regressor."""

    def __init__(
        self, members: Sequence[Any], weights: Sequence[float], info: Sequence[dict] = ()
    ) -> None:
        if not members or len(members) != len(weights):
            raise ValueError("an ensemble needs one weight per member and at least one member")
        w = np.asarray(weights, dtype=np.float64)
        if not np.isfinite(w).all() or (w <= 0).any():
            raise ValueError(f"member weights must be positive; got {w.tolist()}")
        self.members = list(members)
        self.weights = (w / w.sum()).tolist()
        self.info = [dict(x) for x in info] or [{} for _ in self.members]
        first = self.members[0]
        self.n_features_in_ = int(first.n_features_in_)
        self.classes_ = getattr(first, "classes_", None)

    @property
    def classification(self) -> bool:
        return self.classes_ is not None

    def predict_proba(self, X: Any) -> np.ndarray:
        if not self.classification:
            raise AttributeError("a regression ensemble has no predict_proba")
        return _weighted([m.predict_proba(X) for m in self.members], self.weights)

    def predict(self, X: Any) -> np.ndarray:
        if self.classes_ is not None:
            return self.classes_[self.predict_proba(X).argmax(axis=1)]
        return _weighted([np.asarray(m.predict(X), np.float64) for m in self.members], self.weights)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy for a classifier, R^2 for a regressor (as the members' own score)."""
        from sklearn.metrics import accuracy_score, r2_score

        if self.classification:
            return float(accuracy_score(y, self.predict(X)))
        return float(r2_score(y, self.predict(X)))


def to_bytes(ensemble: Ensemble, member_payloads: Sequence[bytes]) -> bytes:
    """The ensemble as npz bytes: each member's own npz payload and a JSON list of members."""
    meta = {
        "format_version": FORMAT,
        "estimator": "Ensemble",
        "members": [
            info | {"weight": w} for info, w in zip(ensemble.info, ensemble.weights, strict=True)
        ],
    }
    arrays = {f"member_{i}": np.frombuffer(p, np.uint8) for i, p in enumerate(member_payloads)}
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, meta=np.array(json.dumps(meta)), **arrays)
    return buf.getvalue()


def is_ensemble_meta(meta: Mapping[str, Any]) -> bool:
    return meta.get("format_version") == FORMAT


def is_ensemble(payload: bytes) -> bool:
    """Whether a model file holds an ensemble (with or without preprocessing beside it)."""
    with np.load(io.BytesIO(payload), allow_pickle=False) as data:
        return "meta" in data.files and is_ensemble_meta(json.loads(str(data["meta"])))


def member_payloads(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> list[bytes]:
    """The members' own npz bytes, in order, from an ensemble file's arrays."""
    members = meta.get("members")
    if not isinstance(members, list) or not members:
        raise ValueError("an ensemble file needs a non-empty list of members")
    missing = [i for i in range(len(members)) if f"member_{i}" not in arrays]
    if missing:
        raise ValueError(f"ensemble file lacks member_{missing[0]}")
    return [arrays[f"member_{i}"].tobytes() for i in range(len(members))]


def assemble(members: Sequence[Any], meta: Mapping[str, Any]) -> Ensemble:
    """The Ensemble of loaded members, with the weights and info the file's meta records."""
    records = meta["members"]
    info = [{k: v for k, v in m.items() if k != "weight"} for m in records]
    return Ensemble(members, [m["weight"] for m in records], info)
