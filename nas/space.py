"""The search space (what a search may choose) and Candidate (one concrete choice).

Both are pydantic models with bounds, so a space from YAML, JSON or REST is checked before
any training starts, and an error names the field and the allowed range. Widths and the
rates that span orders of magnitude (weight decay, learning rate) are searched on a log
scale. A Candidate has a stable key, the same for equal choices in any process, so that a
search never trains the same network twice.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from nas.nn.activations import SEARCHABLE_ACTIVATIONS
from nas.nn.optimizers import OPTIMIZERS

if TYPE_CHECKING:
    Activation = str
    Optimizer = str
else:  # the trainer's registries: an activation or optimizer added there is searchable
    Activation = Literal[SEARCHABLE_ACTIVATIONS]
    Optimizer = Literal[tuple(OPTIMIZERS)]
Shape = Literal["free", "funnel", "constant"]
Scaling = Literal["standard", "minmax", "robust", "quantile", "piecewise"]
TargetScaling = Literal["standard", "log"]
LrSchedule = Literal["constant", "cosine"]
# list-valued choices that become a searched parameter only when they hold more than one
# value: a space that leaves them alone keeps the parameters, random streams and candidate
# keys it had before they existed (in this order, each drawn after the others)
OPTIONAL_CHOICES = ("scaling", "target_scaling", "label_smoothing", "lr_schedule")
MAX_WIDTH = 4096
MAX_LAYERS = 16


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# field: (lowest, highest, log scale); a log-scale range must start above 0
_BOUNDS: dict[str, tuple[float, float, bool]] = {
    "n_layers": (1, MAX_LAYERS, False),
    "width": (1, MAX_WIDTH, True),
    "dropout": (0.0, 0.9, False),
    "weight_decay": (0.0, 10.0, True),
    "learning_rate": (0.0, 10.0, True),
}


class SearchSpace(_Frozen):
    """Depth, widths, activation, regularization and optimizer settings to search over.

    A range is [low, high] (both included); a list is a set of choices. weight_decay
    [0, 0] switches weight decay off.
    """

    n_layers: tuple[int, int] = Field((1, 3), description="hidden layers, [low, high] in 1..16")
    width: tuple[int, int] = Field((16, 256), description="units per layer (log scale), 1..4096")
    shape: list[Shape] = Field(["free"], min_length=1, description="free, funnel or constant")
    activation: list[Activation] = Field(["relu", "tanh", "selu"], min_length=1)
    dropout: tuple[float, float] = Field((0.0, 0.5), description="rate, within [0, 0.9]")
    weight_decay: tuple[float, float] = Field((1e-6, 1e-2), description="lambda (log scale)")
    batch_norm: list[bool] = Field([False, True], min_length=1)
    optimizer: list[Optimizer] = Field(["adam"], min_length=1)
    learning_rate: tuple[float, float] = Field((1e-4, 3e-2), description="(log scale), (0, 10]")
    batch_size: list[int] = Field([32, 64, 128, 256], min_length=1)
    scaling: list[Scaling] = Field(
        ["standard"],
        min_length=1,
        description="input scaling fitted on the training rows: standard, minmax ([-1, 1]), "
        "robust (median and IQR, smoothly clipped), quantile (onto a normal), piecewise "
        "(each feature cut at up to 16 quantiles: a piecewise-linear numeric embedding)",
    )
    target_scaling: list[TargetScaling] = Field(
        ["standard"],
        min_length=1,
        description="regression targets: standard, or log (sign(y) log(1 + |y|), then "
        "standard) for skewed ones; classification ignores it",
    )
    label_smoothing: list[float] = Field(
        [0.0],
        min_length=1,
        description="classification: targets (1 - eps) y + eps / K, each eps in [0, 0.5]; "
        "regression ignores it",
    )
    lr_schedule: list[LrSchedule] = Field(
        ["constant"],
        min_length=1,
        description="constant, or cosine (warm-up over the first tenth of max_epochs, then "
        "half a cosine down to 0 at max_epochs; a refit anneals over its own epochs)",
    )
    max_epochs: int = Field(50, ge=1, le=10_000, description="epochs a candidate may train")

    @field_validator(*_BOUNDS)
    @classmethod
    def _within_bounds(cls, v: tuple[float, float], info: ValidationInfo) -> tuple[float, float]:
        name = info.field_name
        assert name is not None
        lowest, highest, log = _BOUNDS[name]
        if name == "weight_decay" and tuple(v) == (0, 0):
            return v  # weight decay off
        low, high = v
        open_low = log and lowest <= 0
        inside = (low > lowest if open_low else low >= lowest) and high <= highest
        if not inside:
            interval = f"{'(' if open_low else '['}{lowest:g}, {highest:g}]"
            off = " or be [0, 0]" if name == "weight_decay" else ""
            raise ValueError(f"{name} must lie within {interval}{off}; got {list(v)}")
        if low > high:
            raise ValueError(f"{name}: low {low} is above high {high}")
        return v

    @field_validator("label_smoothing")
    @classmethod
    def _smoothing(cls, v: list[float]) -> list[float]:
        if any(not 0 <= e <= 0.5 for e in v):
            raise ValueError(f"label_smoothing choices must lie within [0, 0.5]; got {v}")
        return sorted(set(v))

    @field_validator("batch_size")
    @classmethod
    def _batch(cls, v: list[int]) -> list[int]:
        if any(b < 1 or b > 65_536 for b in v):
            raise ValueError(f"batch_size choices must lie within [1, 65536]; got {v}")
        return sorted(set(v))

    # -- sampling and membership --------------------------------------------------------

    def sample(self, rng: np.random.Generator) -> Candidate:
        """One candidate drawn uniformly (log-uniformly for log-scale ranges)."""
        depth = int(rng.integers(self.n_layers[0], self.n_layers[1] + 1))
        shape = self.shape[int(rng.integers(len(self.shape)))]
        widths = [self._draw_width(rng) for _ in range(depth)]
        if shape == "constant":
            widths = [widths[0]] * depth
        elif shape == "funnel":
            widths = sorted(widths, reverse=True)
        return Candidate(
            widths=tuple(widths),
            activation=self.activation[int(rng.integers(len(self.activation)))],
            dropout=round(float(rng.uniform(*self.dropout)), 4),
            weight_decay=self._draw_log(rng, self.weight_decay),
            batch_norm=self.batch_norm[int(rng.integers(len(self.batch_norm)))],
            optimizer=self.optimizer[int(rng.integers(len(self.optimizer)))],
            learning_rate=self._draw_log(rng, self.learning_rate),
            batch_size=self.batch_size[int(rng.integers(len(self.batch_size)))],
            **{name: self._draw_choice(name, rng) for name in OPTIONAL_CHOICES},
        )

    def _draw_choice(self, name: str, rng: np.random.Generator) -> Any:
        # no draw for a single choice: spaces from before the choice existed keep their
        # random streams, and so their candidates
        choices = getattr(self, name)
        if len(choices) == 1:
            return choices[0]
        return choices[int(rng.integers(len(choices)))]

    def centre(self) -> Candidate:
        """The space's middle, a sensible first network before anything is known (as
        auto-sklearn and SMAC try the default configuration first): middle depth, the
        geometric middle of widths and rates, no more dropout than allowed, the first of
        each choice list and the middle batch size."""
        depth = (self.n_layers[0] + self.n_layers[1]) // 2
        width = round(math.sqrt(self.width[0] * self.width[1]))
        return Candidate(
            widths=(width,) * depth,
            activation=self.activation[0],
            dropout=self.dropout[0],
            weight_decay=_geometric_middle(self.weight_decay),
            batch_norm=self.batch_norm[0],
            optimizer=self.optimizer[0],
            learning_rate=_geometric_middle(self.learning_rate),
            batch_size=self.batch_size[len(self.batch_size) // 2],
            **{name: getattr(self, name)[0] for name in OPTIONAL_CHOICES},
        )

    def _draw_width(self, rng: np.random.Generator) -> int:
        lo, hi = np.log(self.width[0]), np.log(self.width[1] + 1)
        return int(min(self.width[1], max(self.width[0], math.floor(np.exp(rng.uniform(lo, hi))))))

    @staticmethod
    def _draw_log(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
        if bounds[0] == 0:
            return 0.0
        return float(f"{np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]))):.4g}")

    def contains(self, c: Candidate) -> bool:
        """Whether c is a choice this space allows (the shape rule included)."""
        w = c.widths
        shapes_ok = "free" in self.shape or (
            ("constant" in self.shape and len(set(w)) == 1)
            or ("funnel" in self.shape and list(w) == sorted(w, reverse=True))
        )
        return (
            self.n_layers[0] <= len(w) <= self.n_layers[1]
            and all(self.width[0] <= x <= self.width[1] for x in w)
            and shapes_ok
            and c.activation in self.activation
            and self.dropout[0] <= c.dropout <= self.dropout[1]
            and _within(c.weight_decay, self.weight_decay)
            and c.batch_norm in self.batch_norm
            and c.optimizer in self.optimizer
            and _within(c.learning_rate, self.learning_rate)
            and c.batch_size in self.batch_size
            and all(getattr(c, name) in getattr(self, name) for name in OPTIONAL_CHOICES)
        )


def _geometric_middle(bounds: tuple[float, float]) -> float:
    return 0.0 if bounds[0] == 0 else float(f"{math.sqrt(bounds[0] * bounds[1]):.4g}")


def _within(x: float, bounds: tuple[float, float]) -> bool:
    # 4 significant digits are kept when sampling; allow that rounding at the edges
    return bounds[0] * (1 - 1e-3) <= x <= bounds[1] * (1 + 1e-3)


class Candidate(_Frozen):
    """One network to train: its architecture and its training settings."""

    widths: tuple[int, ...] = Field(description="hidden layer widths, input side first")
    activation: Activation = "relu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    weight_decay: float = Field(0.0, ge=0.0)
    batch_norm: bool = False
    optimizer: Optimizer = "adam"
    learning_rate: float = Field(1e-3, gt=0.0)
    batch_size: int = Field(128, ge=1)
    scaling: Scaling = "standard"
    target_scaling: TargetScaling = "standard"  # regression only
    label_smoothing: float = Field(0.0, ge=0.0, le=0.5)  # classification only
    lr_schedule: LrSchedule = "constant"

    @field_validator("widths")
    @classmethod
    def _widths(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(w < 1 for w in v):
            raise ValueError(f"widths must be positive; got {list(v)}")
        return v

    @model_validator(mode="after")
    def _finite(self) -> Candidate:
        if not all(math.isfinite(x) for x in (self.dropout, self.weight_decay, self.learning_rate)):
            raise ValueError("dropout, weight_decay and learning_rate must be finite")
        return self

    @property
    def depth(self) -> int:
        return len(self.widths)

    def n_params(self, n_features: int, n_outputs: int) -> int:
        """Trainable parameters: weights and biases, plus gamma and beta with batch norm."""
        sizes = [n_features, *self.widths, n_outputs]
        dense = sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))
        return dense + (2 * sum(self.widths) if self.batch_norm else 0)

    def key(self) -> str:
        """A stable hash of the choice: equal candidates share it in any process."""
        choice = self.model_dump(mode="json")
        for name in OPTIONAL_CHOICES:  # at its default, as before it could be searched:
            if choice[name] == Candidate.model_fields[name].default:
                del choice[name]  # candidates stored then keep their keys
        canonical = json.dumps(choice, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def estimator_params(self, classification: bool = True) -> dict[str, Any]:
        """Keyword arguments for nas.nn.MLPClassifier, or MLPRegressor: each task takes its
        own of target_scaling and label_smoothing."""
        task = (
            {"label_smoothing": self.label_smoothing}
            if classification
            else {"target_scaling": self.target_scaling}
        )
        return task | {
            "hidden_layer_sizes": self.widths,
            "activation": self.activation,
            "dropout": self.dropout,
            "alpha": self.weight_decay,
            "batch_norm": self.batch_norm,
            "solver": self.optimizer,
            "learning_rate_init": self.learning_rate,
            "batch_size": self.batch_size,
            "scaling": self.scaling,
            "learning_rate": self.lr_schedule,
        }
