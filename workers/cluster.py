"""Connecting to Ray: an existing cluster by address, or a local Ray on this machine's CPUs.

An address (argument, else NAS_RAY_ADDRESS) means a cluster someone else runs, made with
`ray start --head` and `ray start --address`: we attach and leave it running. Without one
we start a private local Ray (address="local", so a stray `ray start` on the machine is not
picked up by accident) sized to the CPUs, with no dashboard and a small object store, and
whoever started it shuts it down.
"""

from __future__ import annotations

import os

import ray

ADDRESS_ENV = "NAS_RAY_ADDRESS"
# Data sets here are tabular and small; Ray's default (30% of RAM) would be wasted.
LOCAL_OBJECT_STORE_BYTES = 128 * 2**20


def connect(address: str | None = None, *, num_cpus: int | None = None) -> bool:
    """Make sure this process is a Ray driver; True when this call started Ray itself.

    An already connected process (a test fixture, an API server) is reused as it is.
    """
    if ray.is_initialized():
        return False
    address = address or os.environ.get(ADDRESS_ENV) or None
    if address:  # the cluster's own settings (CPUs, dashboard) were made by `ray start`
        ray.init(address=address, log_to_driver=False, configure_logging=False)
        return False
    ray.init(
        address="local",
        num_cpus=num_cpus or os.cpu_count() or 1,
        object_store_memory=LOCAL_OBJECT_STORE_BYTES,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    return True


def cluster_cpus() -> float:
    """CPUs the cluster has in all (alive nodes), to refuse more workers than can run."""
    return float(ray.cluster_resources().get("CPU", 0.0))


def worker_count(workers: int | None, cpus_per_worker: float, owns_ray: bool) -> int:
    """`workers`, or as many as the cluster's CPUs hold; more than fit are refused (and a
    Ray this process started for them is shut down again)."""
    total = cluster_cpus()
    count = workers or max(1, int(total // cpus_per_worker))
    if count * cpus_per_worker > total:
        if owns_ray and ray.is_initialized():
            ray.shutdown()
        raise ValueError(
            f"{count} workers x {cpus_per_worker:g} CPUs need "
            f"{count * cpus_per_worker:g} CPUs; the Ray cluster has {total:g} "
            "(add nodes, lower --workers, or give each worker a fraction of a CPU)"
        )
    return count
