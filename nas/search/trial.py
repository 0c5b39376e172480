"""One candidate's training, rung by rung: the work an executor does, wherever it runs.

A TrialTrainer holds a candidate's network between rungs, so a trial promoted to the next
rung continues where it stopped instead of training again. It knows nothing of searchers,
stopping policies or storage: it trains to the epoch it is told, reports the curve points,
and at the end scores the test rows and hands back the model as npz bytes.
"""

from __future__ import annotations

import math
import time
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nas.data import Split
from nas.nn import DivergenceWarning, EpochLog, MLPClassifier, MLPRegressor, to_bytes
from nas.nn.fitstate import Data, FitState
from nas.nn.population import fit_population
from nas.nn.training import train
from nas.search.fidelity import FULL, Schedule, fraction_for, subsample
from nas.space import Candidate
from nas.status import TrialStatus

RUNNING = TrialStatus.RUNNING
DIVERGED = TrialStatus.DIVERGED
FAILED = TrialStatus.FAILED


@dataclass(frozen=True)
class TrialTask:
    """What to train: the candidate, its seed (from the job's seed) and its epoch budget;
    with a data-fraction fidelity, the share of training rows for each rung's epochs."""

    number: int
    candidate: Candidate
    seed: int
    max_epochs: int
    data_fractions: Schedule = ()  # empty: every epoch on all training rows


@dataclass(frozen=True)
class RungResult:
    """The epochs one rung trained, and whether the trial can go on (running)."""

    number: int
    logs: tuple[EpochLog, ...]
    status: str  # running | diverged | failed
    error: str | None = None
    seconds: float = 0.0
    data_fraction: float = FULL  # share of the training rows these epochs trained on

    @property
    def epochs_done(self) -> int:
        return self.logs[-1].epoch if self.logs else 0


@dataclass(frozen=True)
class TrialOutcome:
    number: int
    test_metric: float | None
    model: bytes | None


def build_model(task: TrialTask, classification: bool) -> MLPClassifier | MLPRegressor:
    """The estimator for a candidate; stopping is the driver's, so the trainer never stops."""
    cls = MLPClassifier if classification else MLPRegressor
    return cls(
        **task.candidate.estimator_params(classification),
        max_iter=1,
        schedule_epochs=task.max_epochs,  # a cosine schedule spans the trial's budget
        tol=0.0,
        n_iter_no_change=10**9,
        warm_start=True,
        random_state=task.seed,
    )


class TrialTrainer:
    def __init__(self, task: TrialTask, data: Split, classification: bool) -> None:
        self.task = task
        self.data = data
        self.model = build_model(task, classification)
        self.epochs_done = 0
        # (data fraction, the model's fit state, that fraction's checked and scaled rows)
        self._prepared: tuple[float, FitState, Data] | None = None

    def advance(self, until_epoch: int) -> RungResult:
        """Train up to `until_epoch`; failures come back as a result, never raised."""
        started = time.perf_counter()
        logs: list[EpochLog] = []
        epochs = self.epochs_to(until_epoch)
        if epochs <= 0:
            return RungResult(self.task.number, (), RUNNING)
        fraction = fraction_for(self.task.data_fractions, until_epoch)
        try:
            state = self._fit_state(fraction, epochs)
            with warnings.catch_warnings():  # divergence is reported as the rung's status
                warnings.simplefilter("ignore", DivergenceWarning)
                train([state], [logs.append])
        except Exception as exc:  # a failing trial is recorded, never fatal to its job
            return self._failed(logs, exc, time.perf_counter() - started, fraction)
        return self._trained(logs, time.perf_counter() - started, fraction)

    def _fit_state(self, fraction: float, epochs: int) -> FitState:
        """The model's fit state with this rung's data and epochs. The rows are checked,
        scaled and encoded once per data fraction, not once per rung: a trial's rungs train
        on the same arrays, and the checks and scaling cost about a millisecond a call."""
        if self._prepared is None or self._prepared[0] != fraction:
            d = self.data
            X, y = self.training_data(fraction)
            # scaling is the whole training set's, whatever share a rung trains on
            scaling = (d.X_train, d.y_train) if fraction < FULL else None
            self.model.set_params(max_iter=epochs)
            state = self.model.fit_state(X, y, X_val=d.X_val, y_val=d.y_val, scaling_rows=scaling)
            assert state.data is not None  # train drops it when done; it is kept here
            self._prepared = (fraction, state, state.data)
        _, state, data = self._prepared
        state.data = data
        state.rule.max_iter = epochs
        return state

    def epochs_to(self, until_epoch: int) -> int:
        """Epochs left to train to reach `until_epoch` (never past the trial's budget)."""
        return min(until_epoch, self.task.max_epochs) - self.epochs_done

    def training_data(self, fraction: float) -> tuple[np.ndarray, np.ndarray]:
        """The training rows for `fraction`, drawn from the trial's seed (nested, stratified)."""
        d = self.data
        if fraction >= FULL:
            return d.X_train, d.y_train
        stratify = isinstance(self.model, MLPClassifier)
        rows = subsample(d.y_train, fraction, self.task.seed, stratify)
        return d.X_train[rows], d.y_train[rows]

    def _failed(
        self, logs: list[EpochLog], exc: Exception, seconds: float, fraction: float = FULL
    ) -> RungResult:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return RungResult(self.task.number, tuple(logs), FAILED, detail, seconds, fraction)

    def _trained(self, logs: list[EpochLog], seconds: float, fraction: float = FULL) -> RungResult:
        self.epochs_done += len(logs)
        status = DIVERGED if self.model.status_ == "diverged" else RUNNING
        return RungResult(self.task.number, tuple(logs), status, None, seconds, fraction)

    def outcome(self, keep_model: bool) -> TrialOutcome:
        """Test metric (reported, never used for a choice) and the model's npz bytes."""
        if self.epochs_done == 0:
            return TrialOutcome(self.task.number, None, None)
        d = self.data
        score = float(self.model.score(d.X_test, d.y_test)) if len(d.y_test) else math.nan
        return TrialOutcome(  # no test rows (test_fraction 0): no test metric
            self.task.number,
            score if np.isfinite(score) else None,
            to_bytes(self.model) if keep_model else None,
        )


def advance_population(
    runners: Sequence[TrialTrainer], until_epochs: Sequence[int], backend: str = "numpy"
) -> list[RungResult]:
    """Train several trials' rungs as one population (nas.nn.population), one result each.

    Every trial's result is the one TrialTrainer.advance would give (the population trains
    each member as if alone); one member's failure is its own result, never the others'.
    The trials must share their depth and batch size (the executor groups them so).
    """
    started = time.perf_counter()
    results: dict[int, RungResult] = {}
    todo = []
    for runner, until in zip(runners, until_epochs):
        epochs = runner.epochs_to(until)
        if epochs <= 0:
            results[runner.task.number] = RungResult(runner.task.number, (), RUNNING)
        else:
            runner.model.set_params(max_iter=epochs)
            todo.append(runner)
    logs: list[list[EpochLog]] = [[] for _ in todo]

    def failed(i: int, exc: Exception) -> None:
        results[todo[i].task.number] = todo[i]._failed(logs[i], exc, 0.0)

    if todo:
        d = todo[0].data
        try:
            with warnings.catch_warnings():  # divergence is reported as the rung's status
                warnings.simplefilter("ignore", DivergenceWarning)
                fit_population(
                    [r.model for r in todo],
                    d.X_train,
                    d.y_train,
                    X_val=d.X_val,
                    y_val=d.y_val,
                    callbacks=[log.append for log in logs],
                    backend=backend,
                    on_error=failed,
                )
        except Exception as exc:  # the population itself failed: each member records it
            for i, runner in enumerate(todo):
                results.setdefault(runner.task.number, runner._failed(logs[i], exc, 0.0))
    seconds = time.perf_counter() - started
    for i, runner in enumerate(todo):
        if runner.task.number not in results:
            share = sum(log.seconds for log in logs[i]) or seconds / len(todo)
            results[runner.task.number] = runner._trained(logs[i], share)
    return [results[r.task.number] for r in runners]
