"""Gradient-based search: a DARTS supernet picks the architectures, the driver retrains them.

Before its first proposal the searcher trains a Supernet (supernet.py) on the job's
training rows, its width and depth mixtures on the validation rows, then discretizes: the
top_k most probable architectures (the argmax first). Those are proposed first, with the
training settings the supernet used (the middle of the space); later asks keep cycling
through them with training settings drawn from the space, so a search of any length goes on
without repeats. The driver trains every proposal normally; the supernet's cost is reported
as presearch_epochs (2 passes per epoch: a weight step and an architecture step per batch).

The searcher needs the data, which the Searcher protocol does not carry: the driver calls
prepare(data, classification) when a searcher has it. The ranking is in the state, so a
resumed search never trains the supernet again.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from nas.data import Split
from nas.searchers.base import Observation, Proposals
from nas.searchers.choices import shaped, width_grid
from nas.searchers.options import check_number
from nas.searchers.supernet import Supernet
from nas.space import OPTIONAL_CHOICES, Candidate, SearchSpace

MAX_SUPERNET_WIDTH = 1024
SUPERNET_BATCH = 64


def middle_settings(space: SearchSpace) -> dict[str, Any]:
    """The training settings of the supernet and of the first proposals: the space's middle."""

    def geometric(bounds: tuple[float, float]) -> float:
        return 0.0 if bounds[0] == 0 else float(f"{math.sqrt(bounds[0] * bounds[1]):.4g}")

    return {
        "activation": "relu" if "relu" in space.activation else space.activation[0],
        "dropout": float(space.dropout[0]),
        "weight_decay": geometric(space.weight_decay),
        "batch_norm": False not in space.batch_norm,  # without batch norm where allowed
        "optimizer": "adam" if "adam" in space.optimizer else space.optimizer[0],
        "learning_rate": geometric(space.learning_rate),
        "batch_size": space.batch_size[len(space.batch_size) // 2],
        **{name: getattr(space, name)[0] for name in OPTIONAL_CHOICES},
    }


class DartsSearcher:
    """Supernet search once, then the top_k architectures, retrained by the driver."""

    def __init__(
        self,
        space: SearchSpace,
        seed: int,
        *,
        two_objectives: bool = False,
        epochs: int = 20,
        top_k: int = 3,
        weight_lr: float = 1e-3,
        arch_lr: float = 1e-2,
    ) -> None:
        if two_objectives:
            raise ValueError("darts optimizes one objective; use nsga2, tpe or evolution")
        if space.width[1] > MAX_SUPERNET_WIDTH:
            raise ValueError(
                f"darts trains a supernet of the widest layers: width must lie within "
                f"[1, {MAX_SUPERNET_WIDTH}] for darts; got {list(space.width)}"
            )
        check_number("epochs", epochs, 1, 1000, integer=True)
        check_number("top_k", top_k, 1, 100, integer=True)
        check_number("weight_lr", weight_lr, 0.0, 1.0, open_low=True)
        check_number("arch_lr", arch_lr, 0.0, 1.0, open_low=True)
        self.space = space
        self.seed = seed
        self.objectives: tuple[str, ...] = ("value",)
        self.epochs, self.top_k = epochs, top_k
        self.weight_lr, self.arch_lr = weight_lr, arch_lr
        self.settings = middle_settings(space)
        self.ranking: list[tuple[int, ...]] | None = None
        self.report: dict[str, Any] = {}
        self.drawn = 0
        self._data: tuple[Split, bool] | None = None
        self._rng = np.random.default_rng([seed, 1])
        self._proposals = Proposals()

    def prepare(self, data: Split, classification: bool) -> None:
        """Hand over the job's split; the supernet trains on the first ask."""
        self._data = (data, classification)

    def ask(self) -> Candidate:
        if self.ranking is None:
            self.ranking = self._search()
        return self._proposals.draw_new(self._next)

    def _next(self) -> Candidate:
        assert self.ranking is not None
        i, self.drawn = self.drawn, self.drawn + 1
        widths = self.ranking[i % len(self.ranking)]
        if i < len(self.ranking):
            return Candidate(widths=widths, **self.settings)
        return self.space.sample(self._rng).model_copy(update={"widths": widths})

    def _search(self) -> list[tuple[int, ...]]:
        if self._data is None:
            raise RuntimeError("darts needs the job's data: call prepare(data, classification)")
        started = time.perf_counter()
        data, classification = self._data
        train, val, n_out, loss = _targets(data, classification)
        depths = range(self.space.n_layers[0], self.space.n_layers[1] + 1)
        rng = np.random.default_rng([self.seed, 0])
        net = Supernet(
            train[0].shape[1], n_out, width_grid(self.space), depths,
            self.settings["activation"], loss, rng,
        )  # fmt: skip
        batch = min(SUPERNET_BATCH, len(train[0]))
        net.train(train, val, self.epochs, batch, self.weight_lr, self.arch_lr, rng)
        ranked: list[tuple[int, ...]] = []
        for widths, _ in net.ranking(self.top_k):
            arch = shaped(list(widths), self.space)
            if arch not in ranked:
                ranked.append(arch)
        self.report = {
            "width_probabilities": [_probabilities(a) for a in net.alpha],
            "depth_probabilities": _probabilities(net.beta),
            "presearch_epochs": 2 * self.epochs,
            "seconds": round(time.perf_counter() - started, 3),
        }
        return ranked

    def tell(self, candidate: Candidate, observation: Observation) -> None:
        self._proposals.settle(candidate)

    def state(self) -> dict[str, Any]:
        return {
            **self._proposals.state(),
            "ranking": None if self.ranking is None else [list(w) for w in self.ranking],
            "report": self.report,
            "drawn": self.drawn,
            "rng": self._rng.bit_generator.state,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self._proposals.load_state(state)
        ranking = state["ranking"]
        self.ranking = None if ranking is None else [tuple(w) for w in ranking]
        self.report, self.drawn = state["report"], int(state["drawn"])
        self._rng.bit_generator.state = state["rng"]


def _probabilities(logits: np.ndarray) -> list[float]:
    e = np.exp(logits - logits.max())
    return [round(float(p), 4) for p in e / e.sum()]


def _targets(
    data: Split, classification: bool
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], int, str]:
    """Standardized inputs and one-hot (or standardized) targets, scaled on train rows."""
    mean, std = data.X_train.mean(axis=0), data.X_train.std(axis=0)
    std[std == 0] = 1.0

    def inputs(X: np.ndarray) -> np.ndarray:
        return ((X - mean) / std).astype(np.float32)

    if classification:
        classes = np.unique(data.y_train)
        eye = np.eye(len(classes), dtype=np.float32)

        def onehot(y: np.ndarray) -> np.ndarray:
            return eye[np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)]

        train = (inputs(data.X_train), onehot(data.y_train))
        return train, (inputs(data.X_val), onehot(data.y_val)), len(classes), "log"
    y_mean, y_std = float(data.y_train.mean()), float(data.y_train.std()) or 1.0

    def target(y: np.ndarray) -> np.ndarray:
        return ((y - y_mean) / y_std).astype(np.float32).reshape(-1, 1)

    train = (inputs(data.X_train), target(data.y_train))
    return train, (inputs(data.X_val), target(data.y_val)), 1, "squared"
