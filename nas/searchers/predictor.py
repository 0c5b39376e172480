"""A learned performance predictor: candidate (and its early curve) -> final validation metric.

Trained on the trials a search has told, it ranks proposals before any of them trains
(Baker et al. 2017, "Accelerating neural architecture search using performance
prediction"). Each trial gives a few rows, one per checkpoint epoch e of its curve, with the
fidelity log(e) / log(max_epochs) as one more feature: so the many trials a stopping policy
prunes after a few epochs teach the model too, not only the few that finish. A prediction
asks for fidelity 1 (the final epoch). When a candidate's early curve is known, a second
model, fitted on the trials that finished, adds to its last observed value the gain it
expects from there to the end (the candidate, the point's fidelity and value -> final minus
value): the observed value carries the trial's own luck, which no model of the choices can.

Two models, chosen by benchmarks/methods.py's measured rank correlation: a random forest
(scikit-learn) and a small ensemble of our own MLPRegressor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from nas.space import Candidate, SearchSpace

MODELS = ("forest", "mlp")
NO_WEIGHT_DECAY = -8.0  # log10 lambda standing for "off"


def encode(candidate: Candidate, space: SearchSpace) -> list[float]:
    """The candidate's choices as numbers: depth, log widths, one-hots, log rates."""
    deepest = space.n_layers[1]
    widths = [math.log2(w) for w in candidate.widths] + [0.0] * (deepest - candidate.depth)
    features = [float(candidate.depth), *widths, math.log2(sum(candidate.widths))]
    features += [float(candidate.activation == a) for a in space.activation[1:]]
    features += [float(candidate.optimizer == o) for o in space.optimizer[1:]]
    wd = candidate.weight_decay
    features += [
        candidate.dropout,
        math.log10(wd) if wd > 0 else NO_WEIGHT_DECAY,
        float(candidate.batch_norm),
        math.log10(candidate.learning_rate),
        math.log2(candidate.batch_size),
        # how far a fixed number of epochs moves the weights: rate per example seen
        math.log10(candidate.learning_rate / candidate.batch_size),
    ]
    return features


def checkpoints(n_epochs: int) -> list[int]:
    """Epochs 1, 2, 4, 8, ... and the last one: a few rows per curve, dense early on."""
    return sorted({*(2**k for k in range(int(math.log2(max(n_epochs, 1))) + 1)), n_epochs})


class PerformancePredictor:
    """Fit on (candidate, curve) pairs; predict final validation metrics (higher is better)."""

    def __init__(self, space: SearchSpace, seed: int, model: str = "forest") -> None:
        if model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
        self.space = space
        self.seed = seed
        self.model = model
        self._members: list = []  # candidate, fidelity -> metric at that fidelity
        self._curve_members: list = []  # candidate, fidelity, metric there -> final metric

    def _fidelity(self, epoch: int) -> float:
        top = self.space.max_epochs
        return math.log(epoch) / math.log(top) if top > 1 else 1.0

    def _row(self, candidate: Candidate, epoch: int) -> list[float]:
        return [*encode(candidate, self.space), self._fidelity(epoch)]

    def fit(self, trials: Sequence[tuple[Candidate, Sequence[float]]]) -> int:
        """Learn from each trial's curve at its checkpoints; returns the rows used."""
        X, y, X_curve, y_curve = [], [], [], []
        for candidate, curve in trials:
            final = curve[-1] if len(curve) == self.space.max_epochs else math.nan
            for epoch in checkpoints(len(curve)):
                value = curve[epoch - 1]
                if not math.isfinite(value):
                    continue
                X.append(self._row(candidate, epoch))
                y.append(float(value))
                if math.isfinite(final) and epoch < len(curve):
                    X_curve.append([*X[-1], float(value)])
                    y_curve.append(float(final - value))
        if len(y) < 2:
            raise ValueError(f"the predictor needs at least 2 finite curve points; got {len(y)}")
        self._members = _fit(self.model, np.asarray(X), np.asarray(y), self.seed)
        self._curve_members = (
            _fit(self.model, np.asarray(X_curve), np.asarray(y_curve), self.seed)
            if len(y_curve) >= 2
            else []
        )
        return len(y)

    @property
    def fitted(self) -> bool:
        return bool(self._members)

    def predict(
        self,
        candidates: Sequence[Candidate],
        curves: Sequence[Sequence[float]] | None = None,
    ) -> np.ndarray:
        """Predicted final metrics, from the candidates alone or with their early curves."""
        if not self._members:
            raise RuntimeError("predict() before fit()")
        final = _mean(self._members, [self._row(c, self.space.max_epochs) for c in candidates])
        if curves is None or not self._curve_members:
            return final
        seen = [_last_finite(curve) for curve in curves]
        rows = [[*self._row(c, max(n, 1)), v if n else 0.0] for c, (n, v) in zip(candidates, seen)]
        with_curve = np.array([v for _, v in seen]) + _mean(self._curve_members, rows)
        return np.where([n > 0 for n, _ in seen], with_curve, final)


def _mean(members: list, rows: list[list[float]]) -> np.ndarray:
    X = np.asarray(rows)
    return np.mean([m.predict(X) for m in members], axis=0)


def _last_finite(curve: Sequence[float]) -> tuple[int, float]:
    """(epoch, value) of the curve's last finite point; (0, nan) if it has none."""
    for epoch in range(len(curve), 0, -1):
        if math.isfinite(curve[epoch - 1]):
            return epoch, float(curve[epoch - 1])
    return 0, math.nan


def _fit(model: str, X: np.ndarray, y: np.ndarray, seed: int) -> list:
    if model == "forest":
        from sklearn.ensemble import RandomForestRegressor

        forest = RandomForestRegressor(
            n_estimators=100, min_samples_leaf=2, random_state=seed % 2**32
        )
        return [forest.fit(X, y)]
    from nas.nn import MLPRegressor

    seeds = np.random.SeedSequence(seed).generate_state(5)
    members = []
    for member_seed in seeds:  # an ensemble: members disagree where data is thin
        mlp = MLPRegressor(
            (32, 32),
            activation="tanh",
            alpha=1e-3,
            learning_rate_init=3e-3,
            max_iter=300,
            batch_size=32,
            random_state=int(member_seed),
            dtype="float64",
        )
        members.append(mlp.fit(X, y))
    return members


def kendall_tau(predicted: Sequence[float], actual: Sequence[float]) -> float:
    """Rank agreement in [-1, 1] (tau-b, ties counted); nan when either side is constant."""
    from scipy.stats import kendalltau

    return float(kendalltau(predicted, actual).statistic)
