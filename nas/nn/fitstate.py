"""What training needs of an estimator, and what it gives back: the one hand-over between
the estimators and the trainer, whether a network trains alone or in a population.

An estimator builds a FitState (its fit_state method) and keeps it between fits; the
trainer reads the network, optimizer, stopping rule and data from it, and writes back the
trained network, optimizer state, history and status. Neither reaches into the other.

Training stops, and `status` says why, on:

    max_iter      the epoch limit
    target_loss   the cost came close to zero (<= target_loss)
    converged     minimal change in cost: no improvement by tol for n_iter_no_change epochs
    early_stopping  the validation metric stalled likewise; the best weights are restored
    stopped       the per-epoch callback asked to stop (a search's pruning decision)
    diverged      the cost became NaN or inf; the last finite weights are restored
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nas.nn.network import Network
from nas.nn.optimizers import Optimizer

MAX_ITER = "max_iter"
TARGET_LOSS = "target_loss"
CONVERGED = "converged"
EARLY_STOPPING = "early_stopping"
STOPPED = "stopped"
DIVERGED = "diverged"


class DivergenceWarning(UserWarning):
    """Training stopped because the cost became NaN or inf (try a smaller learning rate)."""


@dataclass(frozen=True)
class EpochLog:
    """What one epoch reports to a callback: the points of a learning curve."""

    epoch: int
    train_loss: float
    val_loss: float | None
    val_metric: float | None
    seconds: float


Callback = Callable[[EpochLog], "bool | None"]


@dataclass
class StoppingRule:
    batch_size: int
    max_iter: int  # epochs of this fit
    tol: float
    n_iter_no_change: int
    target_loss: float
    early_stopping: bool
    shuffle: bool


@dataclass
class History:
    """Everything training has seen, kept across fit and partial_fit calls."""

    loss_curve: list[float] = field(default_factory=list)
    val_loss_curve: list[float] = field(default_factory=list)
    validation_scores: list[float] = field(default_factory=list)
    best_loss: float = math.inf
    best_validation_score: float = -math.inf
    no_improvement: int = 0
    steps: int = 0


@dataclass(frozen=True)
class Data:
    """Scaled inputs (rows, n_in) and encoded targets (rows, n_out), as the network sees them;
    members of a population that share the data share one Data."""

    X: np.ndarray
    Y: np.ndarray
    X_val: np.ndarray | None = None
    Y_val: np.ndarray | None = None


@dataclass
class FitState:
    """One estimator's training: its network and optimizer (K = 1), how to stop, what it
    has seen, its random stream (initial weights, shuffles, dropout masks), and this fit's
    data. metric names the validation metric (higher is better): accuracy or r2."""

    net: Network
    optimizer: Optimizer
    loss: str
    metric: str
    rule: StoppingRule
    rng: np.random.Generator
    history: History = field(default_factory=History)
    status: str = "initialized"
    data: Data | None = None  # set by each fit_state call, dropped when its training ends
