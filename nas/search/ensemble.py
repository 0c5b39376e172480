"""Ensembles of the found networks: greedy selection with replacement, the weighted model,
and its file (npz + JSON, no pickle).

Greedy ensemble selection (Caruana, Niculescu-Mizil, Crew and Ksikes, ICML 2004), as
auto-sklearn and AutoGluon build their final model: start from nothing, and `size` times
add the network (repeats allowed) whose addition gives the averaged prediction the best
validation metric; a network's weight is the share of rounds that chose it. Averaging
class probabilities (or regression outputs) of a few good, different networks lowers the
variance a single network's seed and split leave in it; repeats let a good one weigh more,
and a network that does not help the average is never chosen.

The file holds each member's own npz (nas.nn.serialize's format, bit for bit) as a byte
array beside a JSON list of members and weights, so every member loads as it would alone.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from nas.nn import from_bytes as network_from_bytes

FORMAT = "ensemble/1"  # nas.nn.load refuses it by this format_version, naming it


def selection_score(prediction: np.ndarray, target: np.ndarray, classification: bool) -> tuple:
    """The selection criterion, higher is better: accuracy then log loss (accuracy ties
    often on a few hundred rows, and the probabilities still tell the better average
    apart); R^2 for a regression."""
    if classification:
        accuracy = float(np.mean(prediction.argmax(axis=1) == target))
        p = np.clip(prediction[np.arange(target.size), target], 1e-15, None)
        return accuracy, float(np.mean(np.log(p)))
    residual = float(np.sum((target - prediction) ** 2))
    total = float(np.sum((target - target.mean()) ** 2)) or 1.0
    return (1.0 - residual / total,)


def greedy_selection(
    predictions: Sequence[np.ndarray], target: np.ndarray, classification: bool, size: int
) -> list[int]:
    """How often each network is chosen in `size` rounds of greedy selection with
    replacement on the validation rows (ties: the earlier network, so rank the pool best
    first). `predictions` are class probabilities (rows x classes, `target` the class
    indices) or regression outputs (rows, `target` the values)."""
    if size < 1 or not predictions:
        raise ValueError(
            f"size must be >= 1 and the pool non-empty; got {size}, {len(predictions)}"
        )
    counts = [0] * len(predictions)
    total = np.zeros_like(predictions[0], dtype=np.float64)
    for rounds in range(1, size + 1):
        scores = [
            selection_score((total + p) / rounds, target, classification) for p in predictions
        ]
        best = max(range(len(scores)), key=lambda i: (scores[i], -i))
        counts[best] += 1
        total += predictions[best]
    return counts


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


def is_ensemble(payload: bytes) -> bool:
    with np.load(io.BytesIO(payload), allow_pickle=False) as data:
        return (
            "meta" in data.files and json.loads(str(data["meta"])).get("format_version") == FORMAT
        )


def from_bytes(payload: bytes) -> Ensemble:
    with np.load(io.BytesIO(payload), allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        if meta.get("format_version") != FORMAT:
            raise ValueError(
                f"not an ensemble file (format_version {meta.get('format_version')!r})"
            )
        payloads = [data[f"member_{i}"].tobytes() for i in range(len(meta["members"]))]
    members = [network_from_bytes(p) for p in payloads]
    info = [{k: v for k, v in m.items() if k != "weight"} for m in meta["members"]]
    return Ensemble(members, [m["weight"] for m in meta["members"]], info)


def load_model(payload: bytes) -> Any:
    """A stored model's estimator: an Ensemble, or a single network (nas.nn.from_bytes)."""
    return from_bytes(payload) if is_ensemble(payload) else network_from_bytes(payload)
