"""Wiring the job runner (nas.search.job_runner) to the service's settings: executor and timings.

The claim-and-drive loop lives in nas/search/job_runner.py and imports neither FastAPI nor Ray; this
module picks the executor the settings name and runs the loop in a thread (`nas serve`)
or in the foreground (`nas runner`).
"""

from __future__ import annotations

import importlib.util
import threading

from api.config import Settings
from nas import store as db
from nas.search import Problem
from nas.search.executors import Executor
from nas.search.job_runner import ExecutorFactory, JobRunner, RunnerTiming, runner_name
from nas.spec import JobSpec


class ExecutorUnavailable(RuntimeError):  # noqa: N818 - names a state
    """The configured executor cannot be used here; the message says what to do instead."""


def executor_factory(settings: Settings) -> ExecutorFactory | None:
    """None for the local executor (the driver's default); a Ray factory for "ray".

    For Ray, this process connects once, here (to settings.ray_address, NAS_RAY_ADDRESS or
    a local Ray on this machine's CPUs), so every job starts on a warm cluster.
    """
    if settings.executor == "local":
        return None
    if importlib.util.find_spec("workers") is None:
        raise ExecutorUnavailable(
            "executor 'ray' needs the workers package (RayExecutor), which is not installed "
            "in this build; start with --executor local (or NAS_EXECUTOR=local)"
        )
    from workers import ray_executor
    from workers.cluster import connect

    try:
        connect(settings.ray_address)
    except Exception as exc:  # unreachable cluster: one line, not a stack trace
        raise ExecutorUnavailable(f"cannot reach Ray at {settings.ray_address!r}: {exc}") from None

    def build(spec: JobSpec, problem: Problem) -> Executor:
        return ray_executor(spec, problem, settings.ray_address)

    return build


def ray_status() -> str:
    """'ok' when this process is connected to a Ray cluster with CPUs alive."""
    import ray

    if not ray.is_initialized():
        return "not connected"
    try:
        cpus = ray.cluster_resources().get("CPU", 0)
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok" if cpus > 0 else "no CPUs alive"


def make_runner(settings: Settings, store: db.Store, role: str = "runner") -> JobRunner:
    timing = RunnerTiming(
        poll_seconds=settings.runner_poll_seconds,
        heartbeat_seconds=settings.runner_heartbeat_seconds,
        stale_seconds=settings.runner_stale_seconds,
    )
    return JobRunner(
        store,
        name=runner_name(role),
        executor_factory=executor_factory(settings),
        timing=timing,
    )


def start_in_thread(runner: JobRunner) -> threading.Thread:
    thread = threading.Thread(target=runner.run_forever, name="nas-runner", daemon=True)
    thread.start()
    return thread
