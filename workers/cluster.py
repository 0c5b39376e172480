"""Connecting to Ray: an existing cluster by address, or a local Ray on this machine's CPUs.

An address (argument, else NAS_RAY_ADDRESS) means a cluster someone else runs, made with
`ray start --head` and `ray start --address`: we attach and leave it running. Without one
we start a private local Ray (address="local", so a stray `ray start` on the machine is not
picked up by accident) sized to the CPUs, with no dashboard and a small object store, and
whoever started it shuts it down (shutdown()). A watchdog (workers.reaper) started with it
kills whatever of it is left once this process is gone, even after a SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid

import ray

from workers import reaper

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
    global _watchdog
    token = uuid.uuid4().hex
    _watchdog = reaper.watch(token)  # first: a driver killed inside init is reaped too
    try:
        with reaper.tagged(token):
            ray.init(
                address="local",
                num_cpus=num_cpus or os.cpu_count() or 1,
                object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
    except BaseException:
        _release_watchdog()
        raise
    return True


_watchdog: subprocess.Popen[bytes] | None = None  # the reaper of the local Ray we started


def shutdown() -> None:
    """Shut down the Ray this process is connected to; a local one we started is then
    reaped, so none of its processes outlives this call."""
    if ray.is_initialized():
        ray.shutdown()
    _release_watchdog()


def _release_watchdog() -> None:
    global _watchdog
    if _watchdog is not None and _watchdog.stdin is not None:
        _watchdog.stdin.close()  # the watchdog reaps what is left, then exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            _watchdog.wait(timeout=30)
    _watchdog = None


def cluster_cpus() -> float:
    """CPUs the cluster has in all (alive nodes), to refuse more workers than can run."""
    return float(ray.cluster_resources().get("CPU", 0.0))


def worker_count(workers: int | None, cpus_per_worker: float, owns_ray: bool) -> int:
    """`workers`, or as many as the cluster's CPUs hold; more than fit are refused (and a
    Ray this process started for them is shut down again)."""
    total = cluster_cpus()
    count = workers or max(1, int(total // cpus_per_worker))
    if count * cpus_per_worker > total:
        if owns_ray:
            shutdown()
        raise ValueError(
            f"{count} workers x {cpus_per_worker:g} CPUs need "
            f"{count * cpus_per_worker:g} CPUs; the Ray cluster has {total:g} "
            "(add nodes, lower --workers, or give each worker a fraction of a CPU)"
        )
    return count
