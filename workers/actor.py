"""The trial actor: one worker process that trains one trial at a time, rung by rung.

The actor keeps the trial's TrialTrainer (and so its network) between rungs, so a trial the
driver promotes continues where it stopped. It is reused for the next trial once the
driver finishes or discards the current one: a new worker process per trial would cost
more than a short trial. Every thread pool of the worker (BLAS, OpenMP, the trainer's own)
gets the CPUs Ray gave the actor, by the process's one thread policy (nas.nn.threads), so
N actors on N cores do not fight over them.

A trial actor can start before the job's data exists (workers/pool.py) and be given it
later (`load`): the trainer is imported in the actor's __init__, in the worker process, so
a driver that only makes the actor class (this module) imports nothing heavy.
"""

from __future__ import annotations

import os
import traceback
from typing import TYPE_CHECKING

import ray

from nas.nn.threads import apply_thread_policy

if TYPE_CHECKING:
    from nas.data import Split
    from nas.search.trial import RungResult, TrialOutcome, TrialTask, TrialTrainer


def _import_the_trainer() -> None:
    """In the worker: the trainer, scikit-learn under it, at start rather than at the first
    trial (about 2 s of the 2-core dev machine, spent while the driver gets ready)."""
    import nas.search.executors  # noqa: F401


class TrialActor:
    """Plain class (testable without Ray); `remote_actor` makes the Ray actor class of it."""

    def __init__(
        self, threads: int, data: Split | None = None, classification: bool = True
    ) -> None:
        apply_thread_policy(threads)
        _import_the_trainer()
        self.threads = threads
        self.load(data, classification)
        self.runner: TrialTrainer | None = None
        self.task: TrialTask | None = None
        self.error: str | None = None

    def load(self, data: Split | None, classification: bool) -> None:
        """The job's data. From the object store its arrays are read-only views of shared
        memory: one copy per node however many actors read them."""
        self.data = data
        self.classification = classification

    def pid(self) -> int:
        """The worker process id (fault-injection tests kill it)."""
        return os.getpid()

    def begin(self, task: TrialTask) -> None:
        """Build the trial's network; a failure is kept and reported by the first rung."""
        from nas.search.trial import TrialTrainer

        self.task, self.runner, self.error = task, None, None
        if self.data is None:
            self.error = "the actor has no data: load() before begin()"
            return
        try:
            self.runner = TrialTrainer(task, self.data, self.classification)
        except Exception as exc:  # reported as the trial's failure, never kills the actor
            self.error = _detail(exc)

    def advance(self, until_epoch: int) -> RungResult:
        from nas.search.trial import FAILED, RungResult

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


class PopulationActor:
    """One worker process holding up to a population's trials; each call trains every rung
    asked of them together (nas.search.executors.train_populations), so a promoted trial goes on
    where it stopped, on the actor it started on."""

    def __init__(self, data: Split, classification: bool, threads: int, backend: str) -> None:
        apply_thread_policy(threads)
        _import_the_trainer()
        self.data = data
        self.classification = classification
        self.backend = backend
        self.runners: dict[int, TrialTrainer] = {}
        self.errors: dict[int, str] = {}

    def begin(self, task: TrialTask) -> None:
        from nas.search.trial import TrialTrainer

        try:
            self.runners[task.number] = TrialTrainer(task, self.data, self.classification)
        except Exception as exc:  # reported as the trial's failure by its first rung
            self.errors[task.number] = _detail(exc)

    def advance(self, asked: list[tuple[int, int]]) -> list[RungResult]:
        from nas.search.executors import train_populations
        from nas.search.trial import FAILED, RungResult

        failed = {
            n: RungResult(n, (), FAILED, self.errors[n]) for n, _ in asked if n in self.errors
        }
        runnable = [(n, until) for n, until in asked if n not in failed]
        try:
            trained = train_populations(runnable, self.runners, self.backend)
        except Exception as exc:  # e.g. backend 'cupy' on a node without a GPU
            trained = [RungResult(n, (), FAILED, _detail(exc)) for n, _ in runnable]
        done = failed | {r.number: r for r in trained}
        return [done[n] for n, _ in asked]

    def outcome(self, number: int, keep_model: bool) -> TrialOutcome:
        return self.runners.pop(number).outcome(keep_model)

    def release(self, number: int) -> None:
        self.runners.pop(number, None)
        self.errors.pop(number, None)


def _detail(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def remote_population_actor(num_cpus: float, num_gpus: float) -> ray.actor.ActorClass:
    """The Ray actor class of PopulationActor; never restarted (the driver retries)."""
    return ray.remote(num_cpus=num_cpus, num_gpus=num_gpus, max_restarts=0, max_task_retries=0)(
        PopulationActor
    )
