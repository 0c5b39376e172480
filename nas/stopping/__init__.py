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

from collections.abc import Mapping
from typing import Final

from nas.stopping.asha import AshaPolicy, HyperbandPolicy
from nas.stopping.base import (
    CONTINUE,
    DIVERGED,
    STOP,
    TOO_FEW_POINTS,
    AnyOf,
    Curves,
    Decision,
    NoStopping,
    StoppingPolicy,
    TrialCurve,
    TrialId,
)
from nas.stopping.lce import LearningCurvePolicy, lce_asha
from nas.stopping.median import MedianPolicy
from nas.stopping.patience import PatiencePolicy

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


__all__ = [
    "CONTINUE",
    "DIVERGED",
    "POLICIES",
    "STOP",
    "TOO_FEW_POINTS",
    "AnyOf",
    "AshaPolicy",
    "Curves",
    "Decision",
    "HyperbandPolicy",
    "LearningCurvePolicy",
    "MedianPolicy",
    "NoStopping",
    "PatiencePolicy",
    "StoppingPolicy",
    "TrialCurve",
    "TrialId",
    "lce_asha",
    "make_policy",
]
