"""Ray execution of trials: RayExecutor (a trial per actor) and RayPopulationExecutor
(a population per actor), the Executor protocol on a Ray cluster; ActorPool, the trial
actors a composition root can start before the job's data exists.

The one layer that imports ray. It imports nas/ (trial training, data splits), never the
other way round: nas/ reaches it only through nas_cli.batch, lazily, when a spec asks for Ray.
The names load on first use (PEP 562): `workers.cluster` and `workers.pool` import Ray but
not the trainer, so a driver can start Ray and its actors before its own heavy imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: every actor process imports this package, keep it light
    from nas.search import Problem
    from nas.search.executors import Executor
    from nas.spec import JobSpec
    from workers.cluster import connect
    from workers.executor import RayExecutor
    from workers.pool import ActorPool
    from workers.population import RayPopulationExecutor

__all__ = ["ActorPool", "RayExecutor", "RayPopulationExecutor", "connect", "ray_executor"]

_HOME = {
    "ActorPool": "workers.pool",
    "RayExecutor": "workers.executor",
    "RayPopulationExecutor": "workers.population",
    "connect": "workers.cluster",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'workers' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def ray_executor(
    spec: JobSpec, problem: Problem, address: str | None, pool: ActorPool | None = None
) -> Executor:
    """The Ray executor a spec asks for: a population per actor, or a trial per actor (on
    `pool`'s actors when one was started earlier; a population spec does not use one)."""
    from workers.executor import RayExecutor
    from workers.population import RayPopulationExecutor

    if spec.population is not None:
        if pool is not None:
            pool.close()
        return RayPopulationExecutor(
            problem.data,
            problem.classification,
            size=spec.population.size,
            workers=spec.parallelism,
            address=address,
            backend=spec.backend,
        )
    return RayExecutor(
        problem.data,
        problem.classification,
        workers=spec.parallelism,
        address=address,
        pool=pool,
    )
