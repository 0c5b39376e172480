"""Parallel training on Ray: throughput by worker count, scheduling overhead, identical curves.

One run, four measurements, all through the real driver (nas.search) and store (SQLite):

0. end to end, as a user runs it: `nas run` of the same 48-trial spec (the spec of 1.
   below) in a fresh process, start-up included (imports, Ray's start, the actors' start),
   with `--executor local` (one plain process) and `--executor ray --workers 1` and `2`,
   no thread variables, taken in turn `--repeats` times; medians and the ratios the issue
   sets as targets: one Ray worker within 10 % of the plain process, two >= 1.8x one;

1. trials per minute for each worker count, on a spec whose trials take about a second
   (digits, 2 hidden layers of 192-320 units, batch 16, 20 epochs, random searcher, no
   early stopping), and the speed-up over the first count;
2. scheduling overhead per rung: wall time of run()/wait() round trips minus the time the
   actor spent training, for rungs of no work and rungs of one epoch;
3. with a serial searcher (TPE and ASHA, one worker) LocalExecutor and RayExecutor give the
   same candidates and the same curves, epoch by epoch (BLAS capped to the actor's thread
   count on both sides: float32 products sum in a thread-dependent order).

    python benchmarks/parallel.py [--workers 1 2 4 8 16] [--trials 16] [--ray-address HOST:PORT]
    python benchmarks/parallel.py --end-to-end-trials 48 --repeats 3   # 0. alone: --only-end-to-end

Worker counts above the cluster's CPUs are skipped. Without --ray-address (or
NAS_RAY_ADDRESS) a local Ray is started on this machine's CPUs.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ray
from threadpoolctl import threadpool_limits

from nas import store as db
from nas.nn.threads import apply_thread_policy
from nas.search import SearchDriver, load_problem, submit_and_claim
from nas.search.executors import Executor, LocalExecutor
from nas.search.trial import TrialTask, TrialTrainer
from nas.space import Candidate
from nas.spec import JobSpec
from workers import RayExecutor, connect
from workers.cluster import cluster_cpus

SECOND_LONG = {  # trials of about a second on one core
    "n_layers": [2, 2],
    "width": [192, 320],
    "activation": ["relu", "tanh"],
    "dropout": [0.0, 0.0],
    "batch_norm": [False],
    "batch_size": [16],
    "max_epochs": 20,
    "learning_rate": [1e-3, 1e-2],
}
SMALL = {**SECOND_LONG, "n_layers": [1, 2], "width": [16, 64], "batch_size": [32], "max_epochs": 27}


def spec(space: dict[str, Any], trials: int, **kw: Any) -> JobSpec:
    base = {"dataset": "digits", "space": space, "budget": {"trials": trials}, "seed": 0}
    return JobSpec.model_validate({**base, "searcher": "random", **kw})


def run_job(store: db.Store, job: JobSpec, executor: Executor) -> tuple[int, float]:
    job_id = submit_and_claim(store, job, "bench")
    started = time.perf_counter()
    assert SearchDriver(job, store, job_id, runner="bench", executor=executor).run() == "finished"
    return job_id, time.perf_counter() - started


def throughput(store: db.Store, counts: list[int], trials: int) -> None:
    job = spec(SECOND_LONG, trials, stopping={"policy": "none"})
    data = load_problem(job).data
    cpus = cluster_cpus()
    print(f"{'workers':>7} {'seconds':>8} {'trials/min':>10} {'speed-up':>8} {'s/trial':>8}")
    first = None
    for n in counts:
        if n > cpus:
            print(f"{n:>7} skipped: more workers than the cluster's {cpus:g} CPUs")
            continue
        ex = RayExecutor(data, True, workers=n)
        job_id, wall = run_job(store, job, ex)
        with store.session() as s:
            trained = [t for t in db.list_trials(s, job_id) if t.status == "finished"]
            inside = sum(p.seconds or 0.0 for t in trained for p in db.curve(s, t.id))
        rate = len(trained) / wall * 60
        first = first or rate
        print(
            f"{n:>7} {wall:>8.2f} {rate:>10.1f} {rate / first:>7.2f}x {inside / len(trained):>8.2f}"
        )


def _train_one(job: JobSpec) -> None:
    """One second-long trial in a plain process, one thread as in an actor."""
    apply_thread_policy(1)
    data = load_problem(job).data
    TrialTrainer(
        TrialTask(0, Candidate(widths=(256, 256), batch_size=16), 1, 20), data, True
    ).advance(20)


def _warm_up(_: int) -> None:
    load_problem(spec(SECOND_LONG, 1))


def ceiling(counts: list[int], trials: int) -> None:
    """The machine's own speed-up: the same kind of trial in N plain processes, no Ray.

    On a shared machine other work takes cores; this shows how much parallelism is left.
    """
    job = spec(SECOND_LONG, trials)
    first = None
    for n in (c for c in counts if c <= (os.cpu_count() or 1)):
        # spawn, not fork: a fork would inherit this process's Ray driver state
        with multiprocessing.get_context("spawn").Pool(n) as pool:
            pool.map(_warm_up, range(n))  # imports done before the clock starts
            started = time.perf_counter()
            pool.map(_train_one, [job] * trials)
            rate = trials / (time.perf_counter() - started) * 60
        first = first or rate
        print(f"  {n} processes: {rate:.1f} trials/min, speed-up {rate / first:.2f}x")


def overhead(rungs: int) -> None:
    job = spec(SMALL, 1)
    ex = RayExecutor(load_problem(job).data, True, workers=1)
    try:
        ex.start(TrialTask(0, Candidate(widths=(32,)), seed=1, max_epochs=10**6))
        ex.run(0, 0)
        ex.wait()  # the actor is up
        for label, step in (("no-work", 0), ("1-epoch", 1)):
            wall = inside = 0.0
            for k in range(1, rungs + 1):
                started = time.perf_counter()
                ex.run(0, k * step)
                [result] = ex.wait()
                wall += time.perf_counter() - started
                inside += result.seconds
            per_rung = (wall - inside) / rungs * 1e3
            print(f"  {label} rungs: {per_rung:.2f} ms per rung (n={rungs}, wall {wall:.2f} s)")
    finally:
        ex.close()


def curves(store: db.Store, trials: int) -> None:
    job = spec(SMALL, trials, searcher="tpe", stopping={"policy": "asha"})
    data = load_problem(job).data
    with threadpool_limits(limits=1):  # as in a 1-CPU actor
        apply_thread_policy(1)
        local_id, _ = run_job(store, job, LocalExecutor(data, True))
    ray_id, _ = run_job(store, job, RayExecutor(data, True, workers=1))

    def rows(job_id: int) -> list[tuple]:
        with store.session() as s:
            return [
                (t.params, t.status, p.epoch, p.train_loss, p.val_loss, p.val_metric)
                for t in db.list_trials(s, job_id)
                for p in db.curve(s, t.id)
            ]

    a, b = rows(local_id), rows(ray_id)
    with store.session() as s:
        statuses = [t.status for t in db.list_trials(s, ray_id)]
    print(
        f"  {len(statuses)} trials ({statuses.count('pruned')} pruned by ASHA), "
        f"{len(a)} epoch points: identical = {a == b}"
    )


def end_to_end(trials: int, repeats: int, counts: list[int]) -> None:
    """`nas run` from a fresh process: local, then Ray with each worker count, in turn."""
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.endswith("_THREADS")}
    env.pop("NAS_RAY_ADDRESS", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    ways = {"local": ["--executor", "local"]}
    ways |= {f"ray x{n}": ["--executor", "ray", "--workers", str(n)] for n in counts}
    walls: dict[str, list[float]] = {way: [] for way in ways}
    shares: dict[str, list[float]] = {way: [] for way in ways}
    with tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / "spec.json"
        job = spec(SECOND_LONG, trials, stopping={"policy": "none"}, refit=False)
        spec_path.write_text(json.dumps(job.model_dump(mode="json")))
        url = f"sqlite:///{tmp}/e2e.db"
        nas = [sys.executable, "-m", "nas_cli"]
        subprocess.run(
            [*nas, "db", "upgrade", "--url", url], env=env, check=True, capture_output=True
        )
        for r in range(repeats):
            order = list(ways) if r % 2 == 0 else list(reversed(ways))
            for way in order:
                started = time.perf_counter()
                subprocess.run(
                    [*nas, "run", str(spec_path), "--db", url, *ways[way]],
                    env=env,
                    check=True,
                    capture_output=True,
                )
                walls[way].append(time.perf_counter() - started)
                shares[way].append(_driver_share(url))
                print(f"  repeat {r + 1}: {way:<8} {walls[way][-1]:7.2f} s", flush=True)
    median = {way: statistics.median(w) for way, w in walls.items()}
    print(f"  {'way':<8} {'median s':>9} {'trials/min':>10} {'driver':>7}")
    for way in ways:
        rate = trials / median[way] * 60
        share = statistics.median(shares[way])
        print(f"  {way:<8} {median[way]:9.2f} {rate:10.1f} {share:7.0%}")
    if "ray x1" in median:
        print(
            f"  one Ray worker / plain process: {median['ray x1'] / median['local']:.2f}x the time"
        )
    for n in counts[1:]:
        print(
            f"  {n} Ray workers: {median['ray x1'] / median[f'ray x{n}']:.2f}x one worker's speed"
        )


def _driver_share(url: str) -> float:
    store = db.open_store(url)
    try:
        with store.session() as s:
            timings = db.list_jobs(s, limit=1)[0].timings or {}
        return float(timings.get("driver_share", float("nan")))
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--trials", type=int, default=16, help="trials per worker count")
    parser.add_argument("--rungs", type=int, default=200, help="rungs timed for overhead")
    parser.add_argument("--ray-address", help="an existing cluster (default: a local Ray)")
    parser.add_argument("--end-to-end-trials", type=int, default=48, help="trials of 0.")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each way in 0.")
    parser.add_argument("--only-end-to-end", action="store_true", help="0. alone")
    parser.add_argument("--skip-end-to-end", action="store_true", help="1.-3. alone")
    args = parser.parse_args()
    if not args.skip_end_to_end:  # first, before this process starts a Ray of its own
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"0. end to end: `nas run`, {args.end_to_end_trials} trials, start-up included, "
            f"{args.repeats} repeats in turn; {os.cpu_count()} CPUs, load average {load}"
        )
        end_to_end(args.end_to_end_trials, args.repeats, args.workers)
        if args.only_end_to_end:
            return
    connect(args.ray_address)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"Ray {ray.__version__}, {cluster_cpus():g} CPUs in the cluster, "
        f"{os.cpu_count()} on this machine, load average {load}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = db.open_store(f"sqlite:///{tmp}/bench.db")
        print(f"\n1. throughput: {args.trials} trials of digits, 2x192-320 units, 20 epochs")
        throughput(store, args.workers, args.trials)
        print("   the machine's ceiling: the same trials in plain processes, without Ray")
        ceiling(args.workers, args.trials)
        print("\n2. scheduling overhead per rung (run + wait, minus training in the actor)")
        overhead(args.rungs)
        print("\n3. LocalExecutor vs RayExecutor, TPE + ASHA, one worker")
        curves(store, trials=12)
        store.close()
    ray.shutdown()


if __name__ == "__main__":
    main()
