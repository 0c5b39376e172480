"""The SearchSpace as Optuna distributions, and a trial's parameters back to a Candidate.

The widths are conditional parameters: width_0 .. width_{depth-1} exist only when the
depth asks for them (one, width_0, for a constant network), so that Optuna's samplers
learn about layer i only from networks that have one. Names are fixed across trials,
which is what lets multivariate TPE (group=True) and CMA-ES relate trials to each other.
A funnel is sampled freely and then sorted widest first, so every trial lands in the
space. Floats are rounded as SearchSpace.sample rounds them, so equal choices share a key.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import Trial

from nas.space import OPTIONAL_CHOICES, Candidate, SearchSpace


def setting_distributions(space: SearchSpace) -> dict[str, BaseDistribution]:
    """The parameters every trial has: depth, shape and the training settings."""
    decay_low, decay_high = space.weight_decay  # [0, 0] is "off": a single value
    return {
        "n_layers": IntDistribution(*space.n_layers),
        "shape": CategoricalDistribution(space.shape),
        "activation": CategoricalDistribution(space.activation),
        "dropout": FloatDistribution(*space.dropout),
        "weight_decay": FloatDistribution(decay_low, decay_high, log=decay_low > 0),
        "batch_norm": CategoricalDistribution(space.batch_norm),
        "optimizer": CategoricalDistribution(space.optimizer),
        "learning_rate": FloatDistribution(*space.learning_rate, log=True),
        "batch_size": CategoricalDistribution(space.batch_size),
    } | _optional_choices(space)


def _optional_choices(space: SearchSpace) -> dict[str, BaseDistribution]:
    """Scaling, target scaling and label smoothing are parameters only when there is a
    choice: a space without one keeps the parameters (and so the samplers' streams) it had
    before they could be searched."""
    return {
        name: CategoricalDistribution(getattr(space, name))
        for name in OPTIONAL_CHOICES
        if len(getattr(space, name)) > 1
    }


def width_distributions(space: SearchSpace, depth: int, shape: str) -> dict[str, BaseDistribution]:
    """The width parameters a trial of this depth and shape has, log scale."""
    n_widths = 1 if shape == "constant" else depth
    return {f"width_{i}": IntDistribution(*space.width, log=True) for i in range(n_widths)}


def distributions(space: SearchSpace, params: dict[str, Any]) -> dict[str, BaseDistribution]:
    """Every distribution of a trial with these parameters (to rebuild it with add_trial).

    A trial saved before a parameter existed (scaling, ...) gets no distribution for it.
    """
    widths = width_distributions(space, params["n_layers"], params["shape"])
    every = setting_distributions(space) | widths
    return {name: d for name, d in every.items() if name in params}


def suggest(trial: Trial, space: SearchSpace) -> Candidate:
    """Let the trial's sampler choose every parameter, and return the candidate."""
    for name, distribution in setting_distributions(space).items():
        _suggest(trial, name, distribution)
    depth, shape = trial.params["n_layers"], trial.params["shape"]
    for name, distribution in width_distributions(space, depth, shape).items():
        _suggest(trial, name, distribution)
    return to_candidate(trial.params, space)


def centre_params(space: SearchSpace) -> dict[str, Any]:
    """The space's centre (SearchSpace.centre) as this module's trial parameters."""
    return params_of(space.centre(), space)


def params_of(c: Candidate, space: SearchSpace) -> dict[str, Any]:
    """An in-space candidate as this module's trial parameters (to enqueue it): the
    loosest shape the space allows it."""
    if "free" in space.shape:
        shape = "free"
    elif "funnel" in space.shape and list(c.widths) == sorted(c.widths, reverse=True):
        shape = "funnel"
    else:
        shape = "constant"
    widths = c.widths[:1] if shape == "constant" else c.widths
    names = setting_distributions(space)
    settings = {k: v for k, v in c.model_dump(exclude={"widths"}).items() if k in names}
    return {"n_layers": c.depth, "shape": shape, **settings} | {
        f"width_{i}": w for i, w in enumerate(widths)
    }


def to_candidate(params: dict[str, Any], space: SearchSpace) -> Candidate:
    depth, shape = params["n_layers"], params["shape"]
    if shape == "constant":
        widths = [params["width_0"]] * depth
    else:
        widths = [params[f"width_{i}"] for i in range(depth)]
    if shape == "funnel":
        widths.sort(reverse=True)
    return Candidate(
        widths=tuple(widths),
        activation=params["activation"],
        dropout=round(params["dropout"], 4),
        weight_decay=_significant(params["weight_decay"]),
        batch_norm=params["batch_norm"],
        optimizer=params["optimizer"],
        learning_rate=_significant(params["learning_rate"]),
        batch_size=params["batch_size"],
        **{name: params.get(name, getattr(space, name)[0]) for name in OPTIONAL_CHOICES},
    )


def _suggest(trial: Trial, name: str, distribution: BaseDistribution) -> None:
    if isinstance(distribution, IntDistribution):
        trial.suggest_int(name, distribution.low, distribution.high, log=distribution.log)
    elif isinstance(distribution, FloatDistribution):
        trial.suggest_float(name, distribution.low, distribution.high, log=distribution.log)
    elif isinstance(distribution, CategoricalDistribution):
        trial.suggest_categorical(name, distribution.choices)


def _significant(x: float) -> float:
    return float(f"{x:.4g}")
