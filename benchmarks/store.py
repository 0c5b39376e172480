"""Benchmark the SQL store on SQLite and PostgreSQL (issue 5 targets).

1. Read latency: with 10,000 trials and 500,000 epoch rows stored, time the leaderboard
   (top 10 of one job) and one-trial curve queries, each in a fresh session as an API
   request would: p50 and p99 in ms. Target: p99 < 20 ms on both back ends.
2. Concurrent writers: 8 processes each claim a job and record trials epoch by epoch (one
   commit per epoch) for --duration seconds. Target: no row lost; on PostgreSQL no
   "database is locked"; on SQLite writes serialized without errors.

    .venv/bin/python benchmarks/store.py                     # both back ends, 60 s writers
    .venv/bin/python benchmarks/store.py --duration 10 --backends sqlite

PostgreSQL runs in a scratch schema (nas_bench) that is dropped and recreated.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, func, insert, select, text, update
from sqlalchemy.engine import make_url

from nas.store import (
    EpochPoint,
    Store,
    claim_job,
    create_job,
    curve,
    end_trial,
    heartbeat_job,
    leaderboard,
    open_store,
    record_epoch,
    start_trial,
)
from nas.store.models import Epoch, Job, Trial, utcnow

PG_URL = os.environ.get("NAS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCHEMA = "nas_bench"


def fresh_url(backend: str, workdir: Path) -> str:
    """An empty database of the given kind."""
    if backend == "sqlite":
        return f"sqlite:///{workdir}/bench.db"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={SCHEMA}"})
    return url.render_as_string(hide_password=False)


def drop_schema() -> None:
    """Leave the shared test database as the benchmark found it."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    admin.dispose()


def populate(store: Store, n_trials: int, n_epochs: int) -> tuple[int, list[int]]:
    """Bulk-load one job with n_trials trials of n_epochs epochs each: (job id, trial ids)."""
    rng = np.random.default_rng(0)
    with store.session() as session:
        job = create_job(session, name="bench", spec={"max_epochs": n_epochs})
    now = utcnow()
    finals = rng.uniform(0.5, 0.99, n_trials)
    trials = [
        {
            "job_id": job.id,
            "number": i,
            "params": {"depth": int(rng.integers(1, 5)), "lr": float(10 ** rng.uniform(-4, -1))},
            "status": "finished" if i % 5 else "pruned",
            "epochs_run": n_epochs,
            "val_metric": float(finals[i]),
            "test_metric": float(finals[i] - 0.01),
            "n_params": int(rng.integers(1_000, 1_000_000)),
            "attempt": 1,
            "started": now,
            "finished": now,
        }
        for i in range(n_trials)
    ]
    with store.engine.begin() as connection:
        connection.execute(insert(Trial), trials)
        # A loaded job, not a queued one: the writers below must not claim it.
        connection.execute(update(Job).where(Job.id == job.id).values(status="finished"))
        ids = {number: id_ for number, id_ in connection.execute(select(Trial.number, Trial.id))}
    columns = ("trial_id", "epoch", "train_loss", "val_loss", "val_metric", "seconds")
    for start in range(0, n_trials, 1000):
        rows = [
            (ids[n], e, 1.0 / e, 1.1 / e, float(finals[n]) * e / n_epochs, 0.01)
            for n in range(start, min(start + 1000, n_trials))
            for e in range(1, n_epochs + 1)
        ]
        _bulk_epochs(store, columns, rows)
    with store.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return job.id, sorted(ids.values())


def _bulk_epochs(store: Store, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    if store.dialect == "postgresql":
        raw = store.engine.raw_connection()
        try:
            cursor = raw.cursor()
            with cursor.copy(f"COPY nas_epochs ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
        return
    with store.engine.begin() as connection:
        connection.execute(insert(Epoch), [dict(zip(columns, row, strict=True)) for row in rows])


def time_queries(
    store: Store, job_id: int, trial_ids: list[int], repeats: int
) -> dict[str, list[float]]:
    """Milliseconds per call, each call in its own session like one API request."""
    rng = np.random.default_rng(1)
    timings: dict[str, list[float]] = {"leaderboard top 10": [], "one curve (50 epochs)": []}
    timings["curve poll after_epoch=45"] = []
    for _ in range(repeats):
        trial_id = int(rng.choice(trial_ids))
        for name, query in (
            ("leaderboard top 10", lambda s: leaderboard(s, job_id, k=10)),
            ("one curve (50 epochs)", lambda s, t=trial_id: curve(s, t)),
            ("curve poll after_epoch=45", lambda s, t=trial_id: curve(s, t, after_epoch=45)),
        ):
            begin = time.perf_counter()
            with store.session() as session:
                result = query(session)
            timings[name].append((time.perf_counter() - begin) * 1000)
            assert result
    return timings


@dataclass
class WriterResult:
    job_id: int | None = None
    committed: int = 0
    locked: int = 0
    errors: list[str] = field(default_factory=list)


def writer(url: str, duration: float, epochs: int) -> WriterResult:
    """One runner process: claim a job, record epochs one commit at a time until time's up."""
    result = WriterResult()
    store = open_store(url)
    runner = f"bench-{os.getpid()}"
    deadline = time.monotonic() + duration
    with store.session() as session:
        job = claim_job(session, runner=runner)
        assert job is not None, "no queued job for this writer"
        result.job_id = job.id
        while time.monotonic() < deadline:
            try:
                trial = start_trial(session, job.id, params={"w": runner})
                for epoch in range(1, epochs + 1):
                    point = EpochPoint(epoch, 1.0 / epoch, 1.1 / epoch, epoch / epochs, 0.001)
                    if record_epoch(session, trial.id, point):
                        result.committed += 1
                    else:
                        result.errors.append("epoch refused: trial not running")
                end_trial(session, trial.id, status="finished")
                heartbeat_job(session, job.id, runner=runner)
            except Exception as exc:  # noqa: BLE001 - counted, the run goes on
                session.rollback()
                message = str(exc).splitlines()[0]
                result.locked += "database is locked" in message
                result.errors.append(message)
    store.close()
    return result


def run_writers(url: str, processes: int, duration: float) -> dict[str, Any]:
    store = open_store(url)
    with store.session() as session:
        job_ids = [create_job(session, name=f"w{i}", spec={}).id for i in range(processes)]
    spawn = multiprocessing.get_context("spawn")
    begin = time.perf_counter()
    with spawn.Pool(processes) as pool:
        results = pool.starmap(writer, [(url, duration, 50)] * processes)
    elapsed = time.perf_counter() - begin
    claimed = [r.job_id for r in results]
    assert sorted(claimed) == sorted(job_ids), f"writers claimed {claimed}, queued {job_ids}"
    with store.session() as session:
        stored = session.scalar(
            select(func.count())
            .select_from(Epoch)
            .join(Trial, Trial.id == Epoch.trial_id)
            .where(Trial.job_id.in_(job_ids))
        )
    store.close()
    committed = sum(r.committed for r in results)
    return {
        "committed": committed,
        "stored": stored,
        "lost": committed - (stored or 0),
        "locked": sum(r.locked for r in results),
        "errors": sum(len(r.errors) for r in results),
        "first_error": next((e for r in results for e in r.errors), ""),
        "rate": committed / duration,
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=500)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60.0)
    args = parser.parse_args()

    lines = [
        "| back end | query | calls | p50 ms | p99 ms | target p99 < 20 ms |",
        "|---" * 6 + "|",
    ]
    header = "| back end | writers | wall s | epochs committed | rows stored | lost | locked |"
    write_lines = [header + " errors | epochs/s, all writers |", "|---" * 9 + "|"]
    with tempfile.TemporaryDirectory() as workdir:
        for backend in args.backends:
            url = fresh_url(backend, Path(workdir))
            store = open_store(url)
            begin = time.perf_counter()
            job_id, trial_ids = populate(store, args.trials, args.epochs)
            with store.session() as session:
                n_rows = session.scalar(select(func.count()).select_from(Epoch))
            print(
                f"{backend}: loaded {args.trials} trials, {n_rows} epoch rows "
                f"in {time.perf_counter() - begin:.1f} s",
                flush=True,
            )
            for name, ms in time_queries(store, job_id, trial_ids, args.repeats).items():
                p50, p99 = np.percentile(ms, [50, 99])
                verdict = "met" if p99 < 20 else "MISSED"
                lines.append(
                    f"| {backend} | {name} | {len(ms)} | {p50:.2f} | {p99:.2f} | {verdict} |"
                )
            store.close()
            w = run_writers(url, args.processes, args.duration)
            write_lines.append(
                f"| {backend} | {args.processes} | {w['seconds']:.0f} | {w['committed']} | "
                f"{w['stored']} | {w['lost']} | {w['locked']} | {w['errors']} | {w['rate']:.0f} |"
            )
            if w["first_error"]:
                print(f"{backend}: first writer error: {w['first_error']}")
            if backend == "postgresql":
                drop_schema()
    print()
    print("\n".join(lines))
    print()
    print("\n".join(write_lines))


if __name__ == "__main__":
    main()
