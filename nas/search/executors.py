"""Executors: where trials train. The Executor protocol, LocalExecutor, PopulationExecutor.

The driver decides everything (which candidate, continue or stop); an executor only
trains: start a trial, run it to an epoch, report finished rungs, and at the end return
the test metric and the model. LocalExecutor trains in-process, one rung at a time, in the
order asked: it is the reference semantics that every other executor (Ray's) must match.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Protocol

from nas.data import Split
from nas.nn.backend import check_backend
from nas.search.trial import RungResult, TrialOutcome, TrialTask, TrialTrainer, advance_population


class Executor(Protocol):
    slots: int  # trials that can train at once

    def start(self, task: TrialTask) -> None:
        """Build the trial's network (nothing trains yet)."""
        ...

    def run(self, number: int, until_epoch: int) -> None:
        """Ask trial `number` to train up to `until_epoch`; returns at once."""
        ...

    def wait(self) -> list[RungResult]:
        """Block until at least one asked rung is done; return every done rung."""
        ...

    def finish(self, number: int, keep_model: bool) -> TrialOutcome:
        """Score the test rows, return the model if asked, and release the trial."""
        ...

    def discard(self, number: int) -> None:
        """Release a failed or diverged trial without scoring it."""
        ...

    def close(self) -> None: ...


class LocalExecutor:
    """In-process and serial: when the driver waits, the asked rungs run one after another.

    With slots > 1 the driver keeps that many trials going and each wait() trains every
    asked rung, member by member: the reference a PopulationExecutor with as many slots
    must match, result for result.
    """

    def __init__(self, data: Split, classification: bool, slots: int = 1) -> None:
        if slots < 1:
            raise ValueError(f"slots must be >= 1; got {slots}")
        self.slots = slots
        self.data = data
        self.classification = classification
        self._trials: dict[int, TrialTrainer] = {}
        self._queue: deque[tuple[int, int]] = deque()

    def start(self, task: TrialTask) -> None:
        self._trials[task.number] = TrialTrainer(task, self.data, self.classification)

    def run(self, number: int, until_epoch: int) -> None:
        self._queue.append((number, until_epoch))

    def wait(self) -> list[RungResult]:
        if not self._queue:
            raise RuntimeError("wait() with no rung running")
        asked, self._queue = list(self._queue), deque()
        return [self._trials[number].advance(until) for number, until in asked]

    def finish(self, number: int, keep_model: bool) -> TrialOutcome:
        return self._trials.pop(number).outcome(keep_model)

    def discard(self, number: int) -> None:
        self._trials.pop(number, None)

    def close(self) -> None:
        self._trials.clear()
        self._queue.clear()


class PopulationExecutor(LocalExecutor):
    """In-process, and the asked rungs of trials that share a depth and a batch size train
    together as one population (nas.nn.population), up to `slots` trials at once.

    Results are those of LocalExecutor with as many slots (each member trains as if
    alone); only the time changes. backend 'cupy' trains the populations on a GPU.
    """

    def __init__(
        self, data: Split, classification: bool, slots: int, backend: str = "numpy"
    ) -> None:
        check_backend(backend)  # refused here, before any training
        super().__init__(data, classification, slots)
        self.backend = backend

    def wait(self) -> list[RungResult]:
        if not self._queue:
            raise RuntimeError("wait() with no rung running")
        asked, self._queue = list(self._queue), deque()
        return train_populations(asked, self._trials, self.backend)


PopulationKey = tuple[int, int, str, str, float]


def population_key(task: TrialTask) -> PopulationKey:
    """Trials with equal keys can train as one population: depth, batch size and what
    shapes the rows (input and target scaling, label smoothing: members see the same
    rows)."""
    c = task.candidate
    return c.depth, c.batch_size, c.scaling, c.target_scaling, c.label_smoothing


def train_populations(
    asked: list[tuple[int, int]], trials: Mapping[int, TrialTrainer], backend: str
) -> list[RungResult]:
    """Train the asked (trial, until_epoch) rungs, one population per key; results in order."""
    groups: dict[PopulationKey, list[tuple[int, int]]] = {}
    for number, until in asked:
        groups.setdefault(population_key(trials[number].task), []).append((number, until))
    done: dict[int, RungResult] = {}
    for group in groups.values():
        runners = [trials[number] for number, _ in group]
        for result in advance_population(runners, [u for _, u in group], backend):
            done[result.number] = result
    return [done[number] for number, _ in asked]
