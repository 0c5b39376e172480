"""Variation operators of the evolutionary searcher: mutate one gene, cross two parents.

Every operator maps an in-space candidate to an in-space candidate, the shape rule
included: a child of a constant-width network stays constant (all layers resized
together), a child of a funnel stays a funnel (widths re-sorted, widest first). Layer
changes are local moves, as in regularized evolution (Real et al. 2019); the training
settings are redrawn from the space, since their good values are not near the parent's
in any useful sense for categoricals and a fresh log-uniform draw explores rates well.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nas.space import Candidate, SearchSpace

RESIZE_FACTOR = 2.0
SETTINGS = (
    "activation",
    "dropout",
    "weight_decay",
    "batch_norm",
    "optimizer",
    "learning_rate",
    "batch_size",
    "scaling",
    "target_scaling",
    "label_smoothing",
    "lr_schedule",
)
_LATER_GENES = ("lr_schedule",)  # added after crossover's draws were fixed


def mutate(parent: Candidate, space: SearchSpace, rng: np.random.Generator) -> Candidate:
    """The parent with one gene changed, chosen uniformly among those the space lets vary.

    In a space with a single candidate there is nothing to vary and the parent comes
    back unchanged; the searcher's duplicate check then reports the space exhausted.
    """
    genes = _variable_genes(parent, space)
    if not genes:
        return parent
    gene = genes[int(rng.integers(len(genes)))]
    if gene in SETTINGS:
        fresh = space.sample(rng)
        return parent.model_copy(update={gene: getattr(fresh, gene)})
    shape = _shape_of(parent, space)
    widths = _LAYER_MOVES[gene](list(parent.widths), space, rng, shape)
    if shape == "funnel":
        widths.sort(reverse=True)
    return parent.model_copy(update={"widths": tuple(widths)})


def crossover(a: Candidate, b: Candidate, rng: np.random.Generator) -> Candidate:
    """Uniform crossover: each gene from either parent with equal odds.

    The widths travel as one gene, so the child's architecture is one parent's and keeps
    that parent's shape.
    """
    genes: dict[str, Any] = {}
    for name in Candidate.model_fields:
        if name in _LATER_GENES and getattr(a, name) == getattr(b, name):
            genes[name] = getattr(a, name)  # no draw: a seeded run's stream is as before
            continue
        genes[name] = getattr(a if rng.random() < 0.5 else b, name)
    return Candidate(**genes)


def _variable_genes(parent: Candidate, space: SearchSpace) -> list[str]:
    genes = [name for name in SETTINGS if len(set(getattr(space, name))) > 1]
    if parent.depth < space.n_layers[1]:
        genes.append("add_layer")
    if parent.depth > space.n_layers[0]:
        genes.append("remove_layer")
    if space.width[0] < space.width[1]:
        genes.append("resize_layer")
    return genes


def _shape_of(parent: Candidate, space: SearchSpace) -> str:
    """The shape rule the child must keep: the loosest one the space allows the parent."""
    if "free" in space.shape:
        return "free"
    if "constant" in space.shape and len(set(parent.widths)) == 1:
        return "constant"
    return "funnel"


def _add_layer(
    widths: list[int], space: SearchSpace, rng: np.random.Generator, shape: str
) -> list[int]:
    low, high = math.log(space.width[0]), math.log(space.width[1])
    drawn = int(np.clip(round(math.exp(rng.uniform(low, high))), *space.width))
    widths.insert(int(rng.integers(len(widths) + 1)), widths[0] if shape == "constant" else drawn)
    return widths


def _remove_layer(
    widths: list[int], space: SearchSpace, rng: np.random.Generator, shape: str
) -> list[int]:
    del widths[int(rng.integers(len(widths)))]
    return widths


def _resize_layer(
    widths: list[int], space: SearchSpace, rng: np.random.Generator, shape: str
) -> list[int]:
    """One layer (all of them in a constant network) times or divided by RESIZE_FACTOR."""
    i = int(rng.integers(len(widths)))
    factor = RESIZE_FACTOR if rng.random() < 0.5 else 1 / RESIZE_FACTOR
    resized = int(np.clip(round(widths[i] * factor), *space.width))
    if shape == "constant":
        return [resized] * len(widths)
    widths[i] = resized
    return widths


_LAYER_MOVES = {
    "add_layer": _add_layer,
    "remove_layer": _remove_layer,
    "resize_layer": _resize_layer,
}
