"""The job runner: claim queued jobs from the store and drive them, one at a time.

A runner is a loop over the store, nothing more: reap jobs whose runner went silent (they
come back queued, with their finished trials kept), claim the oldest queued job, run the
search driver on it, repeat. Any number of runners can share one database (claim_job is
atomic), and a runner that dies leaves its job to be reaped and resumed by the next one.
While the driver trains, a heartbeat thread keeps the job's lease (and its running
trials') fresh, so a long rung is never mistaken for a dead runner.

It knows nothing of HTTP or Ray: `nas serve` runs it in a thread beside the API, `nas
runner` runs it alone, and the executor comes from a factory the composition root picks.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from nas import store as db
from nas.search.driver import SearchDriver
from nas.search.executors import Executor
from nas.search.problem import Problem, load_problem
from nas.spec import JobSpec

log = logging.getLogger("nas.search.job_runner")

# Builds the executor for one job; None means the driver's default, LocalExecutor.
ExecutorFactory = Callable[[JobSpec, Problem], Executor | None]


def runner_name(role: str = "runner") -> str:
    """A name unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{role}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class RunnerTiming:
    poll_seconds: float = 1.0  # how often an idle runner looks for work
    heartbeat_seconds: float = 5.0  # how often a busy runner refreshes its lease
    stale_seconds: float = 60.0  # a lease older than this is a dead runner's


class JobRunner:
    def __init__(
        self,
        store: db.Store,
        *,
        name: str | None = None,
        executor_factory: ExecutorFactory | None = None,
        timing: RunnerTiming = RunnerTiming(),
    ) -> None:
        self.store = store
        self.name = name or runner_name()
        self.executor_factory = executor_factory
        self.timing = timing
        self.stop_event = threading.Event()
        self.current_job: int | None = None

    # -- the loop -----------------------------------------------------------------------

    def run_forever(self) -> None:
        """Work until stop() is called; errors in one job never end the loop."""
        log.info("runner %s started", self.name)
        while not self.stop_event.is_set():
            try:
                worked = self.run_once()
            except db.StoreUnavailable as exc:
                log.warning("runner %s: %s", self.name, exc)
                worked = False
            except Exception:
                log.exception("runner %s: unexpected error", self.name)
                worked = False
            if not worked:
                self.stop_event.wait(self.timing.poll_seconds)
        log.info("runner %s stopped", self.name)

    def run_once(self) -> bool:
        """Reap, then claim and drive one job; False when there was nothing to do."""
        with self.store.session() as s:
            report = db.reap_stale(s, older_than=timedelta(seconds=self.timing.stale_seconds))
            if report.jobs_requeued:
                log.info("requeued jobs %s (their runner went silent)", report.jobs_requeued)
            job = db.claim_job(s, runner=self.name)
        if job is None:
            return False
        self.current_job = job.id
        try:
            self._drive(job.id, job.spec)
        finally:
            self.current_job = None
        return True

    def stop(self) -> None:
        """Stop after the running rung; the job goes back to the queue for the next runner."""
        self.stop_event.set()

    # -- one job ------------------------------------------------------------------------

    def _fail(self, job_id: int, error: str) -> None:
        with self.store.session() as s:
            db.finish_job(s, job_id, runner=self.name, status="failed", error=error)

    def _release(self, job_id: int) -> None:
        try:
            with self.store.session() as s:
                db.release_job(s, job_id, runner=self.name)
        except db.StoreUnavailable:  # still down: the lease runs out and a runner reaps it
            pass

    def _drive(self, job_id: int, raw_spec: dict) -> None:
        started = time.perf_counter()  # the job's start-up (data, executor) is booked from here
        try:
            spec = JobSpec.model_validate(raw_spec)
            problem = load_problem(spec, self.store)
            executor = self.executor_factory(spec, problem) if self.executor_factory else None
        except Exception as exc:  # a job that cannot start fails; the runner goes on
            log.warning("job %d cannot start: %s", job_id, exc)
            self._fail(job_id, f"cannot start: {exc}")
            return
        driver = SearchDriver(  # told to stop at its next rung boundary when the runner stops
            spec,
            self.store,
            job_id,
            runner=self.name,
            executor=executor,
            problem=problem,
            keep_going=lambda: not self.stop_event.is_set(),
            started=started,
        )
        beat = threading.Event()
        heart = threading.Thread(target=self._beat, args=(job_id, beat), daemon=True)
        heart.start()
        try:
            status = driver.run()
        except Exception as exc:  # a claimed job never stays running
            if isinstance(exc, db.StoreUnavailable) or db.is_disconnect(exc):
                # transient (the database went away, or dropped this connection): the next
                # runner resumes it from the store
                log.warning("job %d handed back to the queue: %s", job_id, exc)
                self._release(job_id)
                return
            log.exception("job %d failed", job_id)
            self._fail(job_id, f"{type(exc).__name__}: {exc}"[:2000])
            return
        finally:
            beat.set()
            heart.join()
        if self.stop_event.is_set() and status == "cancelled":
            with self.store.session() as s:  # stopped by us, not by a user: requeue it
                if db.release_job(s, job_id, runner=self.name):
                    log.info("job %d released to the queue", job_id)
                    return
        log.info("job %d %s", job_id, status)

    def _beat(self, job_id: int, done: threading.Event) -> None:
        while not done.wait(self.timing.heartbeat_seconds):
            try:
                with self.store.session() as s:
                    if not db.heartbeat_job(s, job_id, runner=self.name):
                        return  # cancelled or taken over; the driver sees it at its next rung
                    for trial in db.list_trials(s, job_id, status="running"):
                        db.heartbeat_trial(s, trial.id)
            except Exception as exc:  # a missed beat is retried; the lease has slack
                log.warning("heartbeat of job %d failed: %s", job_id, exc)
