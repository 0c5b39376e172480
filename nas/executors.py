"""Executors: where trials train. The Executor protocol and LocalExecutor.

The driver decides everything (which candidate, continue or stop); an executor only
trains: start a trial, run it to an epoch, report finished rungs, and at the end return
the test metric and the model. LocalExecutor trains in-process, one rung at a time, in the
order asked: it is the reference semantics that every other executor (Ray's) must match.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from nas.data import Split
from nas.trial import RungResult, TrialOutcome, TrialRunner, TrialTask


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
    """In-process and serial: rungs run one at a time when the driver waits."""

    slots = 1

    def __init__(self, data: Split, classification: bool) -> None:
        self.data = data
        self.classification = classification
        self._trials: dict[int, TrialRunner] = {}
        self._queue: deque[tuple[int, int]] = deque()

    def start(self, task: TrialTask) -> None:
        self._trials[task.number] = TrialRunner(task, self.data, self.classification)

    def run(self, number: int, until_epoch: int) -> None:
        self._queue.append((number, until_epoch))

    def wait(self) -> list[RungResult]:
        if not self._queue:
            raise RuntimeError("wait() with no rung running")
        number, until = self._queue.popleft()
        return [self._trials[number].advance(until)]

    def finish(self, number: int, keep_model: bool) -> TrialOutcome:
        return self._trials.pop(number).outcome(keep_model)

    def discard(self, number: int) -> None:
        self._trials.pop(number, None)

    def close(self) -> None:
        self._trials.clear()
        self._queue.clear()
