"""Ray execution of trials: RayExecutor, the Executor protocol on a Ray cluster.

The one layer that imports ray. It imports nas/ (trial training, data splits), never the
other way round: nas/ reaches it only through nas.runs, lazily, when a spec asks for Ray.
"""

from workers.cluster import connect
from workers.executor import RayExecutor

__all__ = ["RayExecutor", "connect"]
