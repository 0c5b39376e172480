"""RayPopulationExecutor: the Executor protocol with one Ray actor per population.

Each of `workers` actors holds up to `size` trials. A trial stays on the actor it started
on (its network lives there between rungs), and new trials go where trials of the same
depth and batch size already are, so populations stay large. The rungs the driver asks
for between two waits are sent to each idle actor as one call, which trains them as
populations (nas.search.executors.train_populations); an actor still busy gets its rungs when
it is done. With one worker the results equal PopulationExecutor's, rung for rung.

Faults come back as results: an actor that dies fails the rungs it was training
("worker died: ...") and its trials; the driver records them and retries.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import RayError

from nas.data import Split
from nas.search.executors import PopulationKey, population_key
from nas.search.trial import FAILED, RungResult, TrialOutcome, TrialTask
from workers.actor import remote_population_actor
from workers.cluster import connect, shutdown, worker_count


@dataclass
class _Home:
    """One actor: its trials (with their population keys), rungs waiting, the call in flight."""

    actor: Any
    trials: dict[int, PopulationKey] = field(default_factory=dict)
    pending: list[tuple[int, int]] = field(default_factory=list)
    asked: list[tuple[int, int]] = field(default_factory=list)  # the rungs of `call`
    call: Any = None  # ObjectRef of the running advance(), or None when idle
    dead: bool = False


class RayPopulationExecutor:
    def __init__(
        self,
        data: Split,
        classification: bool,
        *,
        size: int,
        workers: int | None = None,
        address: str | None = None,
        cpus_per_worker: float = 1.0,
        backend: str = "numpy",
    ) -> None:
        if size < 1 or cpus_per_worker <= 0:
            raise ValueError(
                f"size must be >= 1 and cpus_per_worker > 0; got {size}, {cpus_per_worker}"
            )
        self._owns_ray = connect(address)
        self.workers = worker_count(workers, cpus_per_worker, self._owns_ray)
        self.size = size
        self.slots = self.workers * size
        self._actor_class = remote_population_actor(cpus_per_worker, 1 if backend == "cupy" else 0)
        self._args = (ray.put(data), classification, max(1, int(cpus_per_worker)), backend)
        self._homes: list[_Home] = []
        self._where: dict[int, _Home] = {}

    def start(self, task: TrialTask) -> None:
        if task.number in self._where:
            raise RuntimeError(f"trial {task.number} is already started")
        home = self._home_for(population_key(task))
        home.trials[task.number] = population_key(task)
        self._where[task.number] = home
        if not home.dead:
            home.actor.begin.remote(task)

    def _home_for(self, key: PopulationKey) -> _Home:
        """Where trials of this key already are; else a new actor; else the emptiest."""
        room = [h for h in self._homes if len(h.trials) < self.size and not h.dead]
        same = [h for h in room if key in Counter(h.trials.values())]
        if same:
            return max(same, key=lambda h: Counter(h.trials.values())[key])
        live = [h for h in self._homes if not h.dead]
        if len(live) < self.workers:
            home = _Home(self._actor_class.remote(*self._args))
            self._homes.append(home)
            return home
        if not room:
            raise RuntimeError(f"all {self.slots} slots are busy; finish or discard a trial")
        return min(room, key=lambda h: len(h.trials))

    def run(self, number: int, until_epoch: int) -> None:
        self._where[number].pending.append((number, until_epoch))

    def wait(self) -> list[RungResult]:
        """Send each idle actor its asked rungs; return every call done once one is."""
        failed: list[RungResult] = []
        for home in self._homes:
            if home.pending and home.dead:
                failed += [RungResult(n, (), FAILED, "worker died") for n, _ in home.pending]
                home.pending = []
            elif home.pending and home.call is None:
                home.call = home.actor.advance.remote(home.pending)
                home.asked, home.pending = home.pending, []
        if failed:
            return failed
        calls = {h.call: h for h in self._homes if h.call is not None}
        if not calls:
            raise RuntimeError("wait() with no rung running")
        ray.wait(list(calls), num_returns=1)
        ready, _ = ray.wait(list(calls), num_returns=len(calls), timeout=0)
        return [r for ref in ready for r in self._collect(calls[ref])]

    def _collect(self, home: _Home) -> list[RungResult]:
        ref, asked = home.call, home.asked
        home.call = None
        try:
            results: list[RungResult] = ray.get(ref)
            return results
        except RayError as exc:
            self._kill(home)
            why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return [RungResult(n, (), FAILED, f"worker died: {why}") for n, _ in asked]

    def finish(self, number: int, keep_model: bool) -> TrialOutcome:
        home = self._where.pop(number)
        home.trials.pop(number, None)
        if home.dead:
            return TrialOutcome(number, None, None)
        try:
            outcome: TrialOutcome = ray.get(home.actor.outcome.remote(number, keep_model))
        except RayError:  # the worker died after the last rung: the curve is kept
            self._kill(home)
            return TrialOutcome(number, None, None)
        return outcome

    def discard(self, number: int) -> None:
        home = self._where.pop(number, None)
        if home is None:
            return
        home.trials.pop(number, None)
        home.pending = [(n, u) for n, u in home.pending if n != number]
        if not home.dead:
            home.actor.release.remote(number)

    def close(self) -> None:
        """Kill every actor; shut Ray down too when this executor started it."""
        for home in getattr(self, "_homes", []):
            self._kill(home)
        self._homes, self._where = [], {}
        if self._owns_ray:
            shutdown()
        self._owns_ray = False

    def _kill(self, home: _Home) -> None:
        if not home.dead:
            ray.kill(home.actor, no_restart=True)
            home.dead = True
