"""Batch runs: a job spec in, a finished job in the store and a report on the terminal out."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from nas import store as db
from nas.search import Problem, SearchDriver, load_problem, local_executor, submit_and_claim
from nas.search.executors import Executor
from nas.spec import JobSpec
from nas_cli.report import (
    ProgressLine,
    ensemble_line,
    refit_line,
    selection_line,
    summary_line,
    table,
    time_line,
)

if TYPE_CHECKING:
    from workers.pool import ActorPool


def make_executor(
    spec: JobSpec,
    problem: Problem,
    *,
    ray_address: str | None = None,
    pool: ActorPool | None = None,
) -> Executor:
    """The spec's executor; Ray is imported only here, and only when the spec asks for it
    (`pool`: its trial actors, started earlier by nas_cli.cluster.early_ray)."""
    if spec.executor == "local":
        return local_executor(spec, problem)
    from workers import ray_executor  # nas/ never imports ray at module level

    return ray_executor(spec, problem, ray_address, pool)


def data_lines(problem: Problem) -> list[str]:
    """The task (and why, when inferred) and what the preprocessing made of each column."""
    task = "classification" if problem.classification else "regression"
    lines = [f"task: {task}" + (f" (inferred: {problem.task_note})" if problem.task_note else "")]
    if problem.preprocessing is not None:
        roles = []
        for c in problem.preprocessing.columns:
            detail = c.reason or (f"{len(c.levels)} levels" if c.role == "categorical" else "")
            detail += ", +missing" if c.indicator else ""
            roles.append(f"{c.name} {c.role}" + (f" ({detail.strip(', ')})" if detail else ""))
        lines.append(
            f"columns (fitted on the training rows, {problem.n_features} inputs): "
            + "; ".join(roles)
        )
    return lines


def close_claimed(store: db.Store, job_id: int, runner: str, exc: BaseException) -> None:
    """Mark a job this process claimed as failed (cancelled on Ctrl-C) with the error."""
    status = "cancelled" if isinstance(exc, KeyboardInterrupt) else "failed"
    error = f"{type(exc).__name__}: {exc}" if status == "failed" else "interrupted"
    try:
        with store.session() as s:
            db.finish_job(s, job_id, runner=runner, status=status, error=error[:2000])
    except Exception:  # the store itself is gone: the lease runs out and a runner reaps it
        pass


def run_batch(
    spec: JobSpec,
    *,
    url: str | None = None,
    out: str | None = None,
    ray_address: str | None = None,
    started: float | None = None,
    pool: ActorPool | None = None,
) -> int:
    """Run `spec` as a new job and print its report; `started` (time.perf_counter()) is when
    the command began, so its start-up is booked with the job's time (default: now)."""
    started = time.perf_counter() if started is None else started
    store = db.open_store(url)
    if spec.warm_start is not None:  # refused before the job exists: WarmStartError
        with store.session() as s:
            db.warm_start_source(s, spec.warm_start.job_id, spec.warm_start.top)
    problem = load_problem(spec, store)  # DataError before the job exists: nothing is left
    runner = f"{socket.gethostname()}:cli"
    job_id = submit_and_claim(store, spec, runner)
    d = problem.data
    print(
        f"job {job_id}: {spec.name} on {problem.name} ({len(d.y_train)} train, "
        f"{len(d.y_val)} validation, {len(d.y_test)} test rows), searcher {spec.searcher}, "
        f"stopping {spec.stopping.policy}, seed {spec.seed}, executor {spec.executor}"
        + (f" ({spec.parallelism} workers)" if spec.executor == "ray" else ""),
        file=sys.stderr,
    )
    for line in data_lines(problem):
        print(line, file=sys.stderr)
    progress = ProgressLine()
    try:
        executor = make_executor(spec, problem, ray_address=ray_address, pool=pool)
        driver = SearchDriver(
            spec,
            store,
            job_id,
            runner=runner,
            executor=executor,
            problem=problem,
            progress=progress,
            started=started,
        )
        status = driver.run()
    except BaseException as exc:  # a claimed job never stays running: close it, then re-raise
        close_claimed(store, job_id, runner, exc)
        raise
    finally:
        progress.close()
    with store.session() as s:
        top = db.leaderboard(s, job_id, k=10)
        print(
            table(
                top, "leaderboard (validation metric; test metric reported, never used to choose)"
            )
        )
        best = db.best_model(s, job_id)
        test_rows = spec.dataset.test_fraction > 0
        meta = best[1].meta if best else None
        ensemble = ensemble_line(meta, test_rows) if meta else None
        refit = refit_line(top[:1], test_rows=test_rows, meta=meta)
        if meta and (chosen := selection_line(meta)):
            print(chosen)
        if refit and not ensemble:
            print(refit)
        if ensemble:
            print(ensemble)
        if spec.two_objectives:
            print()
            print(table(db.pareto_front(s, job_id), "Pareto front (val metric vs parameters)"))
        print(summary_line(db.job_summary(s, job_id, max_epochs=spec.space.max_epochs)))
        job = db.get_job(s, job_id)
        if job is not None and job.timings:
            print(time_line(job.timings))
        if out:
            with Path(out).open("w") as handle:
                db.export_json(s, job_id, handle)
            print(f"results written to {out}")
    store.close()
    return 0 if status == "finished" else 1
