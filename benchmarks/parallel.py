"""Parallel training on Ray: throughput by worker count, scheduling overhead, identical curves.

One run, three measurements, all through the real driver (nas.search) and store (SQLite):

1. trials per minute for each worker count, on a spec whose trials take about a second
   (digits, 2 hidden layers of 192-320 units, batch 16, 20 epochs, random searcher, no
   early stopping), and the speed-up over the first count;
2. scheduling overhead per rung: wall time of run()/wait() round trips minus the time the
   actor spent training, for rungs of no work and rungs of one epoch;
3. with a serial searcher (TPE and ASHA, one worker) LocalExecutor and RayExecutor give the
   same candidates and the same curves, epoch by epoch (BLAS capped to the actor's thread
   count on both sides: float32 products sum in a thread-dependent order).

    python benchmarks/parallel.py [--workers 1 2 4 8 16] [--trials 16] [--ray-address HOST:PORT]

Worker counts above the cluster's CPUs are skipped. Without --ray-address (or
NAS_RAY_ADDRESS) a local Ray is started on this machine's CPUs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from typing import Any

import ray
from threadpoolctl import threadpool_limits

from nas import store as db
from nas.nn.optimizers import set_num_threads
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
    """One second-long trial in a plain process, BLAS capped as in an actor."""
    set_num_threads(1)
    data = load_problem(job).data
    with threadpool_limits(limits=1):
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
        set_num_threads(1)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--trials", type=int, default=16, help="trials per worker count")
    parser.add_argument("--rungs", type=int, default=200, help="rungs timed for overhead")
    parser.add_argument("--ray-address", help="an existing cluster (default: a local Ray)")
    args = parser.parse_args()
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
