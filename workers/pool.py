"""A pool of long-lived trial actors, one per slot, started before the job's data exists.

After Ray's own start, a Ray job's start-up is its workers': a process each, importing the
trainer (scikit-learn under it, about 2 s each on the 2-core dev machine). A pool made as
soon as Ray is up boots its actors while the driver imports, reads the data set and opens
the store; the executor then gives them the data (once, from the object store) and keeps
them for the job, trial after trial. A dead actor is replaced by a new one.
"""

from __future__ import annotations

from typing import Any

from workers.actor import remote_actor


class ActorPool:
    """`size` TrialActors asking `cpus_per_worker` CPUs each, started now, without data."""

    def __init__(self, size: int, cpus_per_worker: float = 1.0) -> None:
        if size < 1 or cpus_per_worker <= 0:
            raise ValueError(
                f"size must be >= 1 and cpus_per_worker > 0; got {size}, {cpus_per_worker}"
            )
        self.cpus_per_worker = cpus_per_worker
        self.threads = max(1, int(cpus_per_worker))  # BLAS and trainer threads per actor
        self._actor_class = remote_actor(cpus_per_worker)
        self.actors: list[Any] = [self.new_actor() for _ in range(size)]

    def new_actor(self) -> Any:
        """One more actor (a replacement for a dead one); its process starts now."""
        return self._actor_class.remote(self.threads)

    def close(self) -> None:
        """Kill the actors (a pool the job did not use: they hold their CPUs until then)."""
        import ray

        for actor in self.actors:
            ray.kill(actor, no_restart=True)
        self.actors = []
