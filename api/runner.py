"""Wiring the job runner (nas.runner) to the service's settings: executor and timings.

The claim-and-drive loop lives in nas/runner.py and imports neither FastAPI nor Ray; this
module picks the executor the settings name and runs the loop in a thread (`nas serve`)
or in the foreground (`nas runner`).
"""

from __future__ import annotations

import importlib.util
import threading

from api.config import Settings
from nas import store as db
from nas.runner import ExecutorFactory, JobRunner, RunnerTiming, runner_name


class ExecutorUnavailable(RuntimeError):  # noqa: N818 - names a state
    """The configured executor cannot be used here; the message says what to do instead."""


def executor_factory(settings: Settings) -> ExecutorFactory | None:
    """None for the local executor (the driver's default); a Ray factory for "ray"."""
    if settings.executor == "local":
        return None
    if importlib.util.find_spec("workers") is None:
        raise ExecutorUnavailable(
            "executor 'ray' needs the workers package (RayExecutor), which is not installed "
            "in this build; start with --executor local (or NAS_EXECUTOR=local)"
        )
    raise ExecutorUnavailable(
        "executor 'ray' is not wired into the runner yet (issue 7 follow-up); "
        "start with --executor local (or NAS_EXECUTOR=local)"
    )


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
