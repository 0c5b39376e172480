"""Ray for a batch run, started before the trainer is imported.

A Ray run's start-up is Ray's own (its daemons) and its workers' (a process each, importing
the trainer). Started here, first, the workers boot on the other cores while this process
imports the trainer, reads the data set and opens the store, instead of after all that.
The run then owns Ray: it shuts it down at the end (an address means a cluster others run,
which is left running).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nas.spec import JobSpec
    from workers.pool import ActorPool


@contextmanager
def early_ray(spec: JobSpec, address: str | None) -> Iterator[ActorPool | None]:
    """Connect to Ray and start the spec's trial actors, for the run inside the block.

    Yields None, starting nothing, for a spec that does not run on Ray; population specs
    get Ray but no pool (their actors are made by their executor).
    """
    if spec.executor != "ray":
        yield None
        return
    import ray

    from workers.cluster import connect

    started = connect(address)
    try:
        pool = None
        if spec.population is None:
            from workers.pool import ActorPool

            pool = ActorPool(spec.parallelism)
        yield pool
    finally:
        if started and ray.is_initialized():
            ray.shutdown()
