"""Stopping policies: from the curves of all trials so far, continue or stop one trial.

The search driver trains a trial in rungs of epochs; at each rung boundary a policy
(`policy.rungs(max_epochs)` names them) looks at every trial's curve, finished or not, and
returns a Decision: CONTINUE or STOP with a reason, as Ray Tune's schedulers do. Policies
are pure functions of their input: no I/O, no clock, no randomness, so a replay of the same
curves gives the same decisions, offline in a benchmark as online in a search.

Every policy first applies two shared rules: a curve with NaN or inf (a diverged trial) is
stopped with the reason "diverged", and a curve shorter than the policy's `min_epochs`
continues ("too few points"). Curves hold a higher-is-better metric, value at epoch i at
index i - 1.

Usage:
    >>> policy = LearningCurvePolicy(delta=0.01, min_epochs=5)
    >>> curves = {
    ...     "a": TrialCurve([0.50, 0.70, 0.80, 0.85, 0.88, 0.90, 0.91, 0.92], finished=True),
    ...     "b": TrialCurve([0.10, 0.12, 0.13, 0.13, 0.14]),
    ... }
    >>> policy.decide("b", curves, max_epochs=8).action
    'stop'
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

import numpy as np

from nas.curves import ACCURACY_BOUNDS, fit

CONTINUE: Final = "continue"
STOP: Final = "stop"
DIVERGED: Final = "diverged"
TOO_FEW_POINTS: Final = "too few points"

TrialId = Hashable


@dataclass(frozen=True)
class TrialCurve:
    """One trial's learning curve so far, and whether it ran its full epoch budget."""

    values: Sequence[float]
    finished: bool = False


@dataclass(frozen=True)
class Decision:
    """What the driver should do with a trial at a rung boundary, and why; a policy that
    forecasts the final value says it (the dashboard draws it past a pruned curve)."""

    action: str
    reason: str
    predicted_final: float | None = None


Curves = Mapping[TrialId, TrialCurve]


class StoppingPolicy(Protocol):
    """The extension point: where to ask (rungs) and what to do there (decide)."""

    @property
    def name(self) -> str:
        """Short registry name, e.g. "asha"."""
        ...

    def rungs(self, max_epochs: int) -> list[int]:
        """Epoch counts, below max_epochs, after which the driver asks `decide`."""
        ...

    def decide(self, trial_id: TrialId, curves: Curves, max_epochs: int) -> Decision:
        """CONTINUE or STOP for `trial_id`, whose curve so far is curves[trial_id]."""
        ...


def _positive_int(name: str, value: int, least: int = 1) -> int:
    if not isinstance(value, int) or value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    return value


def _probability(name: str, value: float) -> float:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return value


@dataclass(frozen=True)
class _Policy:
    """Shared rules (diverged, too few points, budget reached) around a policy's own rule."""

    name: str = field(init=False, default="")
    min_epochs: int = 1

    def __post_init__(self) -> None:
        _positive_int("min_epochs", self.min_epochs)

    def rungs(self, max_epochs: int) -> list[int]:
        return list(range(self.min_epochs, max_epochs))

    def decide(self, trial_id: TrialId, curves: Curves, max_epochs: int) -> Decision:
        values = np.asarray(curves[trial_id].values, dtype=float)
        if not np.all(np.isfinite(values)):
            return Decision(STOP, DIVERGED)
        if values.size < self.min_epochs:
            return Decision(CONTINUE, f"{TOO_FEW_POINTS}: {values.size} < {self.min_epochs}")
        if values.size >= max_epochs:
            return Decision(CONTINUE, "epoch budget reached")
        return self._decide(trial_id, values, curves, max_epochs)

    def _decide(
        self, trial_id: TrialId, values: np.ndarray, curves: Curves, max_epochs: int
    ) -> Decision:
        raise NotImplementedError


@dataclass(frozen=True)
class NoStopping(_Policy):
    """Train every trial for the full budget (only diverged trials are stopped)."""

    name: str = field(init=False, default="none")

    def rungs(self, max_epochs: int) -> list[int]:
        return []

    def _decide(
        self, trial_id: TrialId, values: np.ndarray, curves: Curves, max_epochs: int
    ) -> Decision:
        return Decision(CONTINUE, "no stopping")


@dataclass(frozen=True)
class PatiencePolicy(_Policy):
    """Stop a trial whose best value improved by less than min_delta in `patience` epochs.

    The within-trial rule ("minimal change in cost"): it needs no other trials, so it also
    works for the first trial of a search, but it cannot tell a slow learner from a bad one.
    """

    name: str = field(init=False, default="patience")
    patience: int = 5
    min_delta: float = 1e-3

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive_int("patience", self.patience)
        if not self.min_delta >= 0.0:
            raise ValueError(f"min_delta must be >= 0, got {self.min_delta!r}")

    def rungs(self, max_epochs: int) -> list[int]:
        return list(range(max(self.min_epochs, self.patience + 1), max_epochs))

    def _decide(
        self, trial_id: TrialId, values: np.ndarray, curves: Curves, max_epochs: int
    ) -> Decision:
        if values.size <= self.patience:
            return Decision(CONTINUE, f"{TOO_FEW_POINTS}: {values.size} <= patience")
        gain = float(values[-self.patience :].max() - values[: -self.patience].max())
        if gain < self.min_delta:
            return Decision(
                STOP, f"best improved by {gain:.4g} < min_delta in {self.patience} epochs"
            )
        return Decision(CONTINUE, f"best improved by {gain:.4g} in {self.patience} epochs")


@dataclass(frozen=True)
class MedianPolicy(_Policy):
    """The Vizier median rule: stop a trial whose best value so far at epoch s is below the
    median of the other trials' running averages up to s.

    "Other trials" are all trials that reached epoch s, stopped or not (as Optuna's
    MedianPruner); the rule waits for `n_startup_trials` of them.
    """

    name: str = field(init=False, default="median")
    n_startup_trials: int = 5
    interval: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive_int("n_startup_trials", self.n_startup_trials, least=0)
        _positive_int("interval", self.interval)

    def rungs(self, max_epochs: int) -> list[int]:
        return list(range(self.min_epochs, max_epochs, self.interval))

    def _decide(
        self, trial_id: TrialId, values: np.ndarray, curves: Curves, max_epochs: int
    ) -> Decision:
        s = values.size
        averages = [
            float(np.mean(c.values[:s]))
            for other, c in curves.items()
            if other != trial_id and len(c.values) >= s and np.all(np.isfinite(c.values[:s]))
        ]
        if len(averages) < max(self.n_startup_trials, 1):
            return Decision(CONTINUE, f"only {len(averages)} other trials reached epoch {s}")
        median, best = float(np.median(averages)), float(values.max())
        if best < median:
            return Decision(STOP, f"best {best:.4g} < median {median:.4g} at epoch {s}")
        return Decision(CONTINUE, f"best {best:.4g} >= median {median:.4g} at epoch {s}")


def _geometric_rungs(min_epochs: int, eta: int, max_epochs: int) -> list[int]:
    rungs, r = [], min_epochs
    while r < max_epochs:
        rungs.append(r)
        r *= eta
    return rungs


def _promoted(trial_id: TrialId, curves: Curves, rung: int, eta: int, peers: set[TrialId]) -> bool:
    """ASHA's rule: is trial_id in the top 1/eta (at least one) of the peers at this rung?"""
    ranked = [
        (-float(c.values[rung - 1]), order, other)
        for order, (other, c) in enumerate(curves.items())
        if other in peers and len(c.values) >= rung and math.isfinite(c.values[rung - 1])
    ]
    ranked.sort(key=lambda item: item[:2])  # ties go to the earlier trial: deterministic
    top = max(1, len(ranked) // eta)
    return trial_id in {other for _, _, other in ranked[:top]}


@dataclass(frozen=True)
class AshaPolicy(_Policy):
    """Asynchronous successive halving (Li et al. 2020): at rung r = min_epochs * eta^k a
    trial goes on only if it is in the top 1/eta of all trials that have reached r so far.
    """

    name: str = field(init=False, default="asha")
    eta: int = 3
    max_epochs: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive_int("eta", self.eta, least=2)
        if self.max_epochs is not None and self.max_epochs < self.min_epochs:
            raise ValueError(
                f"max_epochs must be >= min_epochs ({self.min_epochs}), got {self.max_epochs}"
            )

    def rungs(self, max_epochs: int) -> list[int]:
        return _geometric_rungs(self.min_epochs, self.eta, self.max_epochs or max_epochs)

    def _decide(
        self, trial_id: TrialId, values: np.ndarray, curves: Curves, max_epochs: int
    ) -> Decision:
        return _asha_decision(trial_id, values, curves, self.rungs(max_epochs), self.eta, None)


def _asha_decision(
    trial_id: TrialId,
    values: np.ndarray,
    curves: Curves,
    rungs: list[int],
    eta: int,
    peers: set[TrialId] | None,
) -> Decision:
    reached = [r for r in rungs if r <= values.size]
    if not reached:
        return Decision(CONTINUE, f"{TOO_FEW_POINTS}: below the first rung")
    rung = reached[-1]
    if _promoted(trial_id, curves, rung, eta, set(curves) if peers is None else peers):
        return Decision(CONTINUE, f"promoted: top 1/{eta} at rung {rung}")
    return Decision(STOP, f"not in the top 1/{eta} at rung {rung}")


@dataclass(frozen=True)
class HyperbandPolicy(AshaPolicy):
    """Asynchronous Hyperband: ASHA brackets that start at min_epochs * eta^s, s = 0..s_max.

    A trial's bracket comes from a CRC32 of its id (stable across processes, unlike hash()),
    weighted as Hyperband's bracket sizes eta^s / (s + 1) so every bracket gets a similar
    budget; a trial competes only with trials of its own bracket.
    """

    name: str = field(init=False, default="hyperband")

    def bracket(self, trial_id: TrialId, max_epochs: int) -> int:
        n_brackets = len(self.rungs(max_epochs))
        sizes = np.array([self.eta**s / (s + 1) for s in range(n_brackets)])
        point = zlib.crc32(repr(trial_id).encode()) / 2**32 * sizes.sum()
        return int(min(np.searchsorted(np.cumsum(sizes), point, side="right"), n_brackets - 1))

    def _decide(
        self, trial_id: TrialId, values: np.ndarray, curves: Curves, max_epochs: int
    ) -> Decision:
        s = self.bracket(trial_id, max_epochs)
        peers = {t for t in curves if self.bracket(t, max_epochs) == s}
        rungs = self.rungs(max_epochs)[s:]
        decision = _asha_decision(trial_id, values, curves, rungs, self.eta, peers)
        return Decision(decision.action, f"bracket {s}: {decision.reason}")


@dataclass(frozen=True)
class LearningCurvePolicy(_Policy):
    """Stop a trial when P(its final value >= the best finished final value) < delta.

    The probability comes from nas.curves' ensemble extrapolation (Domhan et al. 2015).
    Until some trial has finished there is nothing to beat, so every trial continues.
    """

    name: str = field(init=False, default="lce")
    # 0.01, not 0.05: with Glorot's initial weights, 0.05 lost 0.70 and 1.08 points on two
    # of three data sets (benchmarks/stopping.py, seed 0); 0.01 lost at most 0.13 points
    # over three draws, at 24-38 % of the epochs (README, "Early stopping")
    delta: float = 0.01
    min_epochs: int = 5
    interval: int = 1
    bounds: tuple[float, float] = ACCURACY_BOUNDS

    def __post_init__(self) -> None:
        super().__post_init__()
        _probability("delta", self.delta)
        _positive_int("interval", self.interval)

    def rungs(self, max_epochs: int) -> list[int]:
        return list(range(self.min_epochs, max_epochs, self.interval))

    def _decide(
        self, trial_id: TrialId, values: np.ndarray, curves: Curves, max_epochs: int
    ) -> Decision:
        finals = [
            float(c.values[-1])
            for other, c in curves.items()
            if other != trial_id and c.finished and c.values and math.isfinite(c.values[-1])
        ]
        if not finals:
            return Decision(CONTINUE, "no finished trial to beat yet")
        best = max(finals)
        forecast = fit(values, self.bounds).predict(max_epochs)
        p = forecast.prob_exceeds(best)
        verdict = STOP if p < self.delta else CONTINUE
        sign = "<" if verdict == STOP else ">="
        reason = f"P(final >= {best:.4g}) = {p:.3g} {sign} delta {self.delta}"
        return Decision(verdict, reason, forecast.mean)


@dataclass(frozen=True)
class AnyOf:
    """Stop when any of the policies says stop; ask at the union of their rungs."""

    policies: tuple[StoppingPolicy, ...]
    name: str = ""

    def __post_init__(self) -> None:
        if not self.policies:
            raise ValueError("policies must not be empty")
        if not self.name:
            object.__setattr__(self, "name", "+".join(p.name for p in self.policies))

    def rungs(self, max_epochs: int) -> list[int]:
        return sorted({r for p in self.policies for r in p.rungs(max_epochs)})

    def decide(self, trial_id: TrialId, curves: Curves, max_epochs: int) -> Decision:
        """Ask each policy whose rung this is; stop at the first STOP."""
        values = curves[trial_id].values
        if not np.all(np.isfinite(np.asarray(values, dtype=float))):
            return Decision(STOP, DIVERGED)
        reasons = []
        for policy in self.policies:
            if len(values) not in policy.rungs(max_epochs):
                continue  # e.g. ASHA ranks trials only at its own rungs
            decision = policy.decide(trial_id, curves, max_epochs)
            if decision.action == STOP:
                return Decision(STOP, f"{policy.name}: {decision.reason}", decision.predicted_final)
            reasons.append(f"{policy.name}: {decision.reason}")
        return Decision(CONTINUE, "; ".join(reasons) or f"epoch {len(values)} is no rung")


def lce_asha(
    delta: float = 0.01,
    min_epochs: int = 5,
    eta: int = 3,
    asha_min_epochs: int | None = None,
    bounds: tuple[float, float] = ACCURACY_BOUNDS,
) -> AnyOf:
    """Curve extrapolation and ASHA together: a trial must pass both to go on."""
    asha = AshaPolicy(min_epochs=asha_min_epochs or min_epochs, eta=eta)
    lce = LearningCurvePolicy(delta=delta, min_epochs=min_epochs, bounds=bounds)
    return AnyOf((lce, asha), name="lce+asha")


POLICIES: Final = {
    "none": NoStopping,
    "patience": PatiencePolicy,
    "median": MedianPolicy,
    "asha": AshaPolicy,
    "hyperband": HyperbandPolicy,
    "lce": LearningCurvePolicy,
    "lce+asha": lce_asha,
}


def make_policy(name: str, options: Mapping[str, object] | None = None) -> StoppingPolicy:
    """The policy called `name` with its options; ValueError names a bad name or option."""
    if name not in POLICIES:
        raise ValueError(f"policy must be one of {list(POLICIES)}; got {name!r}")
    try:
        return POLICIES[name](**dict(options or {}))  # type: ignore[operator]
    except TypeError as exc:  # an option the policy does not have
        raise ValueError(f"policy {name!r}: {exc}") from None
