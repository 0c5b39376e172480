"""Ray execution of trials: RayExecutor (a trial per actor) and RayPopulationExecutor
(a population per actor), the Executor protocol on a Ray cluster.

The one layer that imports ray. It imports nas/ (trial training, data splits), never the
other way round: nas/ reaches it only through nas_cli.batch, lazily, when a spec asks for Ray.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workers.cluster import connect
from workers.executor import RayExecutor
from workers.population import RayPopulationExecutor

if TYPE_CHECKING:  # types only: every actor process imports this package, keep it light
    from nas.search import Problem
    from nas.search.executors import Executor
    from nas.spec import JobSpec

__all__ = ["RayExecutor", "RayPopulationExecutor", "connect", "ray_executor"]


def ray_executor(spec: JobSpec, problem: Problem, address: str | None) -> Executor:
    """The Ray executor a spec asks for: a population per actor, or a trial per actor."""
    if spec.population is not None:
        return RayPopulationExecutor(
            problem.data,
            problem.classification,
            size=spec.population.size,
            workers=spec.parallelism,
            address=address,
            backend=spec.backend,
        )
    return RayExecutor(
        problem.data, problem.classification, workers=spec.parallelism, address=address
    )
