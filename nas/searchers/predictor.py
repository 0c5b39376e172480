"""A learned performance predictor: candidate (and its early curve) -> final validation metric.

Trained on the trials a search has told, it ranks proposals before any of them trains
(Baker et al. 2017, "Accelerating neural architecture search using performance
prediction"). Each trial gives a few rows, one per checkpoint epoch e of its curve, with the
fidelity log(e) / log(max_epochs) as one more feature: so the many trials a stopping policy
prunes after a few epochs teach the model too, not only the few that finish. A prediction
asks for fidelity 1 (the final epoch).

When candidates' early curves are known (rank()), two views of the final metric are
blended: the model's prediction from the choices, and the last observed value plus the
mean gain from that epoch to the end on the finished trials. Each view's weight is its
Kendall tau on the finished trials it was fitted on, measured out of fold for the model, so
neither view sees its own answers. The observed value carries the trial's own luck, which
no model of the choices can; the model smooths the noise of a single early point.

Two models, chosen by benchmarks/methods.py's measured rank correlation: a random forest
(scikit-learn) and a small ensemble of our own MLPRegressor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from nas.space import OPTIONAL_CHOICES, Candidate, SearchSpace

MODELS = ("forest", "mlp")
NO_WEIGHT_DECAY = -8.0  # log10 lambda standing for "off"
FOLDS = 5  # out-of-fold predictions on the finished trials weigh the model's view


def encode(candidate: Candidate, space: SearchSpace) -> list[float]:
    """The candidate's choices as numbers: depth, log widths, one-hots, log rates."""
    deepest = space.n_layers[1]
    widths = [math.log2(w) for w in candidate.widths] + [0.0] * (deepest - candidate.depth)
    features = [float(candidate.depth), *widths, math.log2(sum(candidate.widths))]
    features += [float(candidate.activation == a) for a in space.activation[1:]]
    features += [float(candidate.optimizer == o) for o in space.optimizer[1:]]
    for name in OPTIONAL_CHOICES:
        features += [float(getattr(candidate, name) == v) for v in getattr(space, name)[1:]]
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
        self._trials: list[tuple[Candidate, Sequence[float]]] = []  # what fit() saw
        self._weights: dict[int, float] = {}  # epoch -> the model view's weight in rank()

    def _fidelity(self, epoch: int) -> float:
        top = self.space.max_epochs
        return math.log(epoch) / math.log(top) if top > 1 else 1.0

    def _row(self, candidate: Candidate, epoch: int) -> list[float]:
        return [*encode(candidate, self.space), self._fidelity(epoch)]

    def _rows(
        self, trials: Sequence[tuple[Candidate, Sequence[float]]]
    ) -> tuple[list[list[float]], list[float]]:
        X, y = [], []
        for candidate, curve in trials:
            for epoch in checkpoints(len(curve)):
                value = curve[epoch - 1]
                if math.isfinite(value):
                    X.append(self._row(candidate, epoch))
                    y.append(float(value))
        return X, y

    def fit(self, trials: Sequence[tuple[Candidate, Sequence[float]]]) -> int:
        """Learn from each trial's curve at its checkpoints; returns the rows used."""
        X, y = self._rows(trials)
        if len(y) < 2:
            raise ValueError(f"the predictor needs at least 2 finite curve points; got {len(y)}")
        self._members = _fit(self.model, np.asarray(X), np.asarray(y), self.seed)
        self._trials = list(trials)
        self._weights = {}
        return len(y)

    @property
    def fitted(self) -> bool:
        return bool(self._members)

    def predict(self, candidates: Sequence[Candidate]) -> np.ndarray:
        """Predicted final metrics from the candidates' choices alone."""
        if not self._members:
            raise RuntimeError("predict() before fit()")
        return _mean(self._members, [self._row(c, self.space.max_epochs) for c in candidates])

    def rank(
        self, candidates: Sequence[Candidate], curves: Sequence[Sequence[float]]
    ) -> np.ndarray:
        """Scores in (0, 1], higher is better: the model's ranks blended with the early
        curves' (last finite value plus the mean gain to the end), weighted by each view's
        tau on the finished trials. A candidate with no finite point ranks by the model."""
        if len(curves) != len(candidates):
            raise ValueError(
                f"curves must hold one curve per candidate: {len(curves)} for "
                f"{len(candidates)} candidates"
            )
        model = self.predict(candidates)
        seen = [_last_finite(curve) for curve in curves]
        finished = self._finished()
        expected = np.array(
            [v + _mean_gain(finished, n) if n else math.nan for n, v in seen], dtype=float
        )
        expected = np.where(np.isnan(expected), model, expected)
        w = np.array([self._model_weight(n) if n else 1.0 for n, _ in seen])
        return w * _fractional_ranks(model) + (1 - w) * _fractional_ranks(expected)

    def _finished(self) -> list[tuple[Candidate, Sequence[float]]]:
        return [self._trials[i] for i in self._finished_at()]

    def _finished_at(self) -> list[int]:
        top = self.space.max_epochs
        return [
            i
            for i, (_, curve) in enumerate(self._trials)
            if len(curve) == top and math.isfinite(curve[-1])
        ]

    def _model_weight(self, epoch: int) -> float:
        """tau(model, final) / (tau(model, final) + tau(value at epoch, final)), taus at 0
        or above, measured on the finished trials (the model's out of fold); 1/2 if both 0."""
        if epoch not in self._weights:
            finished = self._finished()
            finals = [curve[-1] for _, curve in finished]
            at_epoch = [curve[epoch - 1] for _, curve in finished]
            by_model = max(_tau_or_zero(self._out_of_fold(), finals), 0.0)
            by_value = max(_tau_or_zero(at_epoch, finals), 0.0)
            total = by_model + by_value
            self._weights[epoch] = by_model / total if total > 0 else 0.5
        return self._weights[epoch]

    def _out_of_fold(self) -> list[float]:
        """Each finished trial's predicted final by a model fitted without it (FOLDS folds;
        the pruned trials' rows are always in); nan where a fold leaves too little."""
        finished = self._finished_at()
        predictions = [math.nan] * len(finished)
        for fold in range(FOLDS):
            idx = list(range(fold, len(finished), FOLDS))
            out = {finished[i] for i in idx}
            X, y = self._rows([t for j, t in enumerate(self._trials) if j not in out])
            if not idx or len(y) < 2:
                continue
            members = _fit(self.model, np.asarray(X), np.asarray(y), self.seed)
            rows = [self._row(self._trials[finished[i]][0], self.space.max_epochs) for i in idx]
            for i, p in zip(idx, _mean(members, rows)):
                predictions[i] = float(p)
        return predictions


def _mean(members: list, rows: list[list[float]]) -> np.ndarray:
    X = np.asarray(rows)
    return np.mean([m.predict(X) for m in members], axis=0)


def _mean_gain(finished: list[tuple[Candidate, Sequence[float]]], epoch: int) -> float:
    """Mean of final minus the value at `epoch` over the finished trials (0 if none)."""
    gains = [c[-1] - c[epoch - 1] for _, c in finished if math.isfinite(c[epoch - 1])]
    return float(np.mean(gains)) if gains else 0.0


def _fractional_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks in (0, 1], ties sharing their mean rank."""
    from scipy.stats import rankdata

    return np.asarray(rankdata(values), dtype=float) / max(len(values), 1)


def _tau_or_zero(predicted: Sequence[float], actual: Sequence[float]) -> float:
    """kendall_tau over the finite pairs; 0 where it is undefined (too few, or constant)."""
    pairs = [(p, a) for p, a in zip(predicted, actual) if math.isfinite(p) and math.isfinite(a)]
    if len(pairs) < 3:
        return 0.0
    tau = kendall_tau(*zip(*pairs))
    return tau if math.isfinite(tau) else 0.0


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
