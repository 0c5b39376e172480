"""RayExecutor: the Executor protocol with each running trial in a Ray actor.

The driver (nas.search) calls start, run, wait, finish and discard exactly as it does on
LocalExecutor, and gets the same curves for the same candidates and seeds; only the place
and the concurrency change. `slots` trials train at once, one per actor. The data set is
put in the object store once per executor (one job), and every actor reads it from there.

Faults come back as results, never as exceptions, so the driver records them and retries
the trial: a worker process that dies mid-rung gives status "failed" with error
"worker died: ...", and a trial that runs past `trial_timeout` seconds (summed over its
rungs) is killed and gives "timeout after N s". The dead actor is dropped; the next trial
gets a fresh one. The pool's actors are started with the executor, one per slot, and
kept for the job: a trial costs no process start, and the data is never shipped again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import ray
from ray.exceptions import RayActorError, RayError

from nas.data import Split
from nas.search.trial import FAILED, RungResult, TrialOutcome, TrialTask
from workers.cluster import connect, shutdown, worker_count
from workers.pool import ActorPool


@dataclass
class _Trial:
    """A started trial: its actor (None once dead), the rung in flight, time spent."""

    actor: Any
    begun: Any = None  # ObjectRef of begin() until it is seen done (the actor is up)
    rung: Any = None  # ObjectRef of the running advance(), or None between rungs
    rung_started: float = 0.0
    seconds: float = 0.0  # wall time of its finished rungs, for the per-trial timeout


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class RayExecutor:
    """Trials on Ray actors; `workers` of them train at once, `cpus_per_worker` each."""

    def __init__(
        self,
        data: Split,
        classification: bool,
        *,
        workers: int | None = None,
        address: str | None = None,
        cpus_per_worker: float = 1.0,
        trial_timeout: float | None = None,
        pool: ActorPool | None = None,
    ) -> None:
        """`pool`: actors started earlier (workers/pool.py), on the Ray this process is
        connected to; they get the data now and are this executor's to keep and close."""
        if pool is not None:
            cpus_per_worker = pool.cpus_per_worker
        if cpus_per_worker <= 0:
            raise ValueError(f"cpus_per_worker must be > 0; got {cpus_per_worker}")
        if trial_timeout is not None and trial_timeout <= 0:
            raise ValueError(f"trial_timeout must be > 0 seconds; got {trial_timeout}")
        self._owns_ray = connect(address)
        self.slots = worker_count(workers, cpus_per_worker, self._owns_ray)
        self.trial_timeout = trial_timeout
        self._data = ray.put(data)  # once per job; actors read it without copying
        self._classification = classification
        # one long-lived actor per slot, reused trial after trial (a dead one is replaced
        # by the next start()); made now if no pool was started earlier
        self._pool = pool or ActorPool(self.slots, cpus_per_worker)
        self._idle: list[Any] = []
        for actor in self._pool.actors[: self.slots]:
            self._idle.append(self._loaded(actor))
        for actor in self._pool.actors[self.slots :]:  # more than the cluster runs at once
            ray.kill(actor, no_restart=True)
        while len(self._idle) < self.slots:
            self._idle.append(self._new_actor())
        self._trials: dict[int, _Trial] = {}
        self._rungs: dict[Any, int] = {}  # rung ObjectRef -> trial number

    # -- the protocol -------------------------------------------------------------------

    def start(self, task: TrialTask) -> None:
        if task.number in self._trials:
            raise RuntimeError(f"trial {task.number} is already started")
        if len(self._trials) >= self.slots:  # one more actor would wait for a CPU forever
            raise RuntimeError(f"all {self.slots} slots are busy; finish or discard a trial")
        actor = self._idle.pop() if self._idle else self._new_actor()
        # an actor runs its calls in order: begin before any advance
        self._trials[task.number] = _Trial(actor, begun=actor.begin.remote(task))

    def run(self, number: int, until_epoch: int) -> None:
        trial = self._trials[number]
        if trial.rung is not None:
            raise RuntimeError(f"trial {number} already has a rung running")
        if trial.actor is None:
            raise RuntimeError(f"trial {number} lost its worker; finish or discard it")
        trial.rung = trial.actor.advance.remote(until_epoch)
        trial.rung_started = time.monotonic()
        self._rungs[trial.rung] = number

    def wait(self) -> list[RungResult]:
        """Return as soon as any rung is done (or timed out), with every rung done by then."""
        if not self._rungs:
            raise RuntimeError("wait() with no rung running")
        while True:
            ready, _ = ray.wait(list(self._rungs), num_returns=1, timeout=self._time_left())
            if ready:  # collect the others that are done too, without waiting for more
                ready, _ = ray.wait(list(self._rungs), num_returns=len(self._rungs), timeout=0)
            results = [self._collect(ref) for ref in ready] + self._expire()
            if results:
                return results

    def finish(self, number: int, keep_model: bool) -> TrialOutcome:
        trial = self._trials.pop(number)
        if trial.actor is None or trial.rung is not None:
            self._drop(trial)
            return TrialOutcome(number, None, None)
        try:
            outcome: TrialOutcome = ray.get(trial.actor.outcome.remote(keep_model))
        except RayError:  # the worker died after its last rung: the curve is kept
            self._drop(trial)
            return TrialOutcome(number, None, None)
        self._idle.append(trial.actor)
        return outcome

    def discard(self, number: int) -> None:
        trial = self._trials.pop(number, None)
        if trial is None:
            return
        if trial.actor is None or trial.rung is not None:  # a rung cannot be interrupted
            self._drop(trial)
            return
        trial.actor.release.remote()
        self._idle.append(trial.actor)

    def close(self) -> None:
        """Kill every actor; shut Ray down too when this executor started it."""
        for trial in list(self._trials.values()):
            self._drop(trial)
        for actor in self._idle:
            ray.kill(actor, no_restart=True)
        self._trials.clear()
        self._idle.clear()
        self._rungs.clear()
        self._shutdown()

    # -- helpers --------------------------------------------------------------------------

    def worker_pid(self, number: int) -> int:
        """Process id of the worker training trial `number` (for fault-injection tests)."""
        actor = self._trials[number].actor
        if actor is None:
            raise RuntimeError(f"trial {number} has no worker")
        return int(ray.get(actor.pid.remote()))

    def _new_actor(self) -> Any:
        return self._loaded(self._pool.new_actor())

    def _loaded(self, actor: Any) -> Any:
        actor.load.remote(self._data, self._classification)  # runs before any begin()
        return actor

    def _collect(self, ref: Any) -> RungResult:
        number = self._rungs.pop(ref)
        trial = self._trials[number]
        trial.seconds = self._spent(trial, time.monotonic())
        trial.rung, trial.begun = None, None
        try:
            result: RungResult = ray.get(ref)
            return result
        except RayActorError as exc:
            trial.actor = None  # the process is gone; Ray will not restart it
            return RungResult(number, (), FAILED, f"worker died: {_first_line(exc)}")
        except RayError as exc:
            self._drop(trial)
            return RungResult(number, (), FAILED, f"ray error: {_first_line(exc)}")

    def _spent(self, trial: _Trial, now: float) -> float:
        """Seconds the trial has trained; waiting for a worker to start does not count."""
        if trial.rung is None:
            return trial.seconds
        if trial.begun is not None:
            if not ray.wait([trial.begun], timeout=0)[0]:
                trial.rung_started = now  # its actor is not up yet: the clock waits too
                return trial.seconds
            trial.begun = None
        return trial.seconds + now - trial.rung_started

    def _time_left(self) -> float | None:
        if self.trial_timeout is None:
            return None
        now = time.monotonic()
        running = [t for t in self._trials.values() if t.rung is not None]
        left = min(self.trial_timeout - self._spent(t, now) for t in running)
        if any(t.begun is not None for t in running):
            left = min(left, 0.1)  # look again soon for the actor's start, to start its clock
        return max(left, 0.0)

    def _expire(self) -> list[RungResult]:
        """Kill the workers of trials past their timeout; their rungs come back failed."""
        if self.trial_timeout is None:
            return []
        now, expired = time.monotonic(), []
        for number, trial in self._trials.items():
            if trial.rung is not None and self._spent(trial, now) >= self.trial_timeout:
                self._drop(trial)
                expired.append(
                    RungResult(number, (), FAILED, f"timeout after {self.trial_timeout:g} s")
                )
        return expired

    def _drop(self, trial: _Trial) -> None:
        """Forget the trial's rung and kill its worker (it may be mid-rung)."""
        if trial.rung is not None:
            self._rungs.pop(trial.rung, None)
            trial.rung = None
        if trial.actor is not None:
            ray.kill(trial.actor, no_restart=True)
            trial.actor = None

    def _shutdown(self) -> None:
        if self._owns_ray:
            shutdown()
        self._owns_ray = False
