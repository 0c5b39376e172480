"""The trial actor: one worker process that trains one trial at a time, rung by rung.

The actor keeps the trial's TrialRunner (and so its network) between rungs, so a trial the
driver promotes continues where it stopped. It is reused for the next trial once the
driver finishes or discards the current one: a new worker process per trial would cost
more than a short trial. BLAS and the trainer's own threads are capped to the CPUs Ray
gave the actor, so N actors on N cores do not fight over them.
"""

from __future__ import annotations

import os
import traceback

import ray
from threadpoolctl import threadpool_limits

from nas.data import Split
from nas.nn.optimizers import set_num_threads
from nas.trial import FAILED, RungResult, TrialOutcome, TrialRunner, TrialTask


class TrialActor:
    """Plain class (testable without Ray); `remote_actor` makes the Ray actor class of it."""

    def __init__(self, data: Split, classification: bool, threads: int) -> None:
        # `data` arrives from the object store: its arrays are read-only views of shared
        # memory, one copy per node however many actors read them.
        self.data = data
        self.classification = classification
        self.threads = threads
        threadpool_limits(limits=threads)
        set_num_threads(threads)
        self.runner: TrialRunner | None = None
        self.task: TrialTask | None = None
        self.error: str | None = None

    def pid(self) -> int:
        """The worker process id (fault-injection tests kill it)."""
        return os.getpid()

    def begin(self, task: TrialTask) -> None:
        """Build the trial's network; a failure is kept and reported by the first rung."""
        self.task, self.runner, self.error = task, None, None
        try:
            self.runner = TrialRunner(task, self.data, self.classification)
        except Exception as exc:  # reported as the trial's failure, never kills the actor
            self.error = "".join(traceback.format_exception_only(type(exc), exc)).strip()

    def advance(self, until_epoch: int) -> RungResult:
        if self.runner is None:
            number = self.task.number if self.task is not None else -1
            return RungResult(number, (), FAILED, self.error or "advance() before begin()")
        return self.runner.advance(until_epoch)

    def outcome(self, keep_model: bool) -> TrialOutcome:
        """Score the test rows and release the trial: the actor is free for the next one."""
        if self.runner is None:
            raise RuntimeError("outcome() before begin()")
        try:
            return self.runner.outcome(keep_model)
        finally:
            self.runner = None

    def release(self) -> None:
        self.task, self.runner, self.error = None, None, None


def remote_actor(num_cpus: float) -> ray.actor.ActorClass:
    """The Ray actor class, asking for `num_cpus`; never restarted (the driver retries)."""
    return ray.remote(num_cpus=num_cpus, max_restarts=0, max_task_retries=0)(TrialActor)
