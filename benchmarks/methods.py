"""Every search method in one run, one accounting of cost: random and TPE beside evolution,
predictor screening, REINFORCE, DARTS, data-fraction fidelity, proxy screening, warm start.

Each method is a name -> spec overrides (METHODS): one line adds another. Every search runs
through the real driver (local executor, one SQLite store per data set and seed) with
benchmarks/search.py's space and ASHA stopping and the same budget of trials and epochs.

Cost, one unit for all: full-data, full-candidate epochs, which is what the driver's epoch
budget counts. An epoch on a fraction f of the training rows costs f (data fraction); a
proxy's epoch costs its parameters' share of the full candidate's (proxy screening); the
DARTS supernet costs 2 per supernet epoch (a weight pass and an architecture pass), paid
before its first trial and taken off its budget. Warm start is seeded by this run's own
finished `random` job on the same data set and seed (same split: no test row chose
anything); that job's cost is not charged to it (it is the `random` row).

Printed per data set, means over seeds:

    test@X      test metric of the best-validation trial so far once X of the epoch budget
                is spent (test rows never choose anything); test@100% is the search's answer
    AUC         area under best-validation-so-far vs epochs spent, a share of the budget
    epochs      epochs spent (presearch and proxies included)

Then the epochs predictor screening saved, the proxies' Kendall tau against full training,
and the predictor's Kendall tau (benchmarks/predictor.py).

    python benchmarks/methods.py [--datasets digits wine breast_cancer] [--seeds 0 1 2 3 4]
        [--methods random tpe ...] [--trials 100] [--epochs 300] [--tau-seeds 0 1 2 3 4]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy: see the README section

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from predictor import print_taus
from search import make_spec, run_job

from nas import store as db
from nas.nn.optimizers import set_num_threads

SCREEN = {"pool": 8, "min_trials": 10}
PROXY = {"width_scale": 0.25, "epochs": 3, "keep": 0.25, "pool": 8}
WARM_TOP = 5
WARM_SOURCE = "random"  # the finished job (same data set and seed) warm start is seeded by
METHODS: dict[str, dict[str, Any]] = {
    "random": {"searcher": "random"},
    "tpe": {"searcher": "tpe"},
    "evolution": {"searcher": "evolution"},
    "tpe+predictor": {"searcher": "tpe+predictor", "searcher_options": SCREEN},
    "evolution+predictor": {"searcher": "evolution+predictor", "searcher_options": SCREEN},
    "rl": {"searcher": "rl"},
    "darts": {"searcher": "darts", "searcher_options": {"epochs": 20, "top_k": 3}},
    "tpe+data-fraction": {"searcher": "tpe", "fidelity": {"data_fraction": {"min": 0.25}}},
    "tpe+proxy": {"searcher": "tpe", "proxy": PROXY},
    "tpe+warm-start": {"searcher": "tpe", "warm_start": {"job_id": None, "top": WARM_TOP}},
}
MARKS = (0.25, 0.5, 1.0)

Event = tuple[float, float | None, float | None]  # cost, val (finished only), test


def presearch_epochs(overrides: dict[str, Any]) -> int:
    """Epochs a method spends before its first trial (the DARTS supernet)."""
    if overrides.get("searcher") != "darts":
        return 0
    return 2 * int(overrides.get("searcher_options", {}).get("epochs", 20))


def events(store: db.Store, job_id: int, presearch: float) -> list[Event]:
    """(cost, val, test) per presearch, trial and proxy in the order they ended; proxies
    and unfinished trials carry cost only (only finished trials rank)."""
    with store.session() as s:
        costs = db.epochs_cost(s, job_id)
        rows: list[tuple[Any, float, float | None, float | None]] = [
            (
                t.finished or t.started,
                costs.get(t.id, 0.0),
                t.val_metric if t.status == "finished" else None,
                t.test_metric,
            )
            for t in db.list_trials(s, job_id)
        ]
        rows += [(p.created, p.cost, None, None) for p in db.list_proxies(s, job_id)]
    rows.sort(key=lambda r: r[0])
    head: list[Event] = [(presearch, None, None)] if presearch else []
    return head + [(cost, val, test) for _, cost, val, test in rows]


def anytime(steps: list[Event], budget: float) -> tuple[list[float], float, float]:
    """Test of the best-validation trial at each mark of the budget, the AUC of best
    validation so far (a share of the budget), and the epochs spent."""
    spent, best_val, best_test, area = 0.0, 0.0, float("nan"), 0.0
    at: dict[float, float] = {}
    for cost, val, test in steps:
        for mark in MARKS:
            if mark not in at and spent + cost > mark * budget + 1e-9:
                at[mark] = best_test
        area += best_val * cost
        spent += cost
        if val is not None and val > best_val:
            best_val, best_test = val, float("nan") if test is None else test
    area += best_val * max(budget - spent, 0)
    return [at.get(m, best_test) for m in MARKS], area / budget, spent


def epochs_to_reach(steps: list[Event], target: float) -> float | None:
    """Epochs spent when the best finished validation metric first reached target."""
    spent = 0.0
    for cost, val, _ in steps:
        spent += cost
        if val is not None and val >= target - 1e-12:
            return spent
    return None


def final_best(steps: list[Event]) -> float:
    return max((v for _, v, _ in steps if v is not None), default=0.0)


def run_method(
    store: db.Store,
    dataset: str,
    method: str,
    seed: int,
    trials: int,
    epochs: int,
    jobs: dict[str, int],
) -> dict[str, Any]:
    """One search of `method`; jobs maps the methods already run (same data set, seed) to
    their job ids, for warm start."""
    overrides = dict(METHODS[method])
    if "warm_start" in overrides:
        overrides["warm_start"] = {"job_id": jobs[WARM_SOURCE], "top": WARM_TOP}
    pre = presearch_epochs(overrides)
    rest = {k: v for k, v in overrides.items() if k != "searcher"}
    name = f"{dataset}-{method}-{seed}"
    spec = make_spec(dataset, overrides["searcher"], seed, trials, epochs - pre, name=name, **rest)
    job_id, seconds = run_job(spec, store)
    jobs[method] = job_id
    steps = events(store, job_id, pre)
    at, auc, spent = anytime(steps, epochs)
    with store.session() as s:
        job = db.get_job(s, job_id)
        state = (job.searcher_state or {}).get("searcher", {}) if job else {}
        n = db.count_trials(s, job_id)
    return {
        **{f"test@{m:.0%}": v for m, v in zip(MARKS, at)},
        "auc": auc,
        "epochs": spent,
        "trials": n,
        "seconds": seconds,
        "steps": steps,
        "screened_out": state.get("screened_out", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["digits", "wine", "breast_cancer"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--trials", type=int, default=100, help="enough that epochs bind")
    parser.add_argument("--epochs", type=int, default=300, help="epoch budget per search")
    parser.add_argument("--tau-seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--reruns", type=int, default=3, help="retrainings for the ceiling")
    args = parser.parse_args()
    if "tpe+warm-start" in args.methods and WARM_SOURCE not in args.methods:
        parser.error(f"tpe+warm-start is seeded by the {WARM_SOURCE} job: list {WARM_SOURCE}")
    methods = sorted(args.methods, key=lambda m: m != WARM_SOURCE)  # the source runs first
    set_num_threads(1)
    started = time.perf_counter()
    print(
        f"budget per search: {args.trials} trials or {args.epochs} full-data, full-candidate "
        f"epochs; ASHA (eta 3, min 2 epochs, max 30); seeds {args.seeds}; 1 BLAS thread; "
        f"load average {_load()}"
    )
    marks = " | ".join(f"test@{m:.0%}" for m in MARKS)
    print(f"\n| data set | method | {marks} | AUC | epochs | trials | seconds |")
    print("|---" * (len(MARKS) + 6) + "|")
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.datasets:
            for seed in args.seeds:
                store = db.open_store(f"sqlite:///{Path(tmp) / f'{dataset}-{seed}.db'}")
                jobs: dict[str, int] = {}
                for method in methods:
                    result = run_method(
                        store, dataset, method, seed, args.trials, args.epochs, jobs
                    )
                    runs.setdefault((dataset, method), []).append(result)
                store.close()
            for method in args.methods:
                print_row(dataset, method, runs[dataset, method])
    print_screening(runs, args.datasets)
    print(f"\nsearches done: {time.perf_counter() - started:.0f} s; load average {_load()}")
    print_taus(args.datasets, args.tau_seeds, args.reruns, PROXY)
    print(f"\nwall time {time.perf_counter() - started:.0f} s; load average {_load()}")


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def print_row(dataset: str, method: str, results: list[dict[str, Any]]) -> None:
    mean = {k: float(np.mean([r[k] for r in results])) for k in results[0] if k != "steps"}
    cells = " | ".join(_metric(mean[f"test@{m:.0%}"]) for m in MARKS)
    print(
        f"| {dataset} | {method} | {cells} | {mean['auc']:.3f} | {mean['epochs']:.1f} | "
        f"{mean['trials']:.0f} | {mean['seconds']:.1f} |",
        flush=True,
    )


def print_screening(runs: dict[tuple[str, str], list[dict[str, Any]]], datasets: list[str]) -> None:
    print("\nepochs saved by predictor screening (proposals: sums over seeds; epochs to reach: "
          "per seed)")  # fmt: skip
    print("| data set | searcher | screened out | their cost at mean epochs/trial | "
          "epochs to plain's best: plain | screened |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for dataset in datasets:
        for base in ("tpe", "evolution"):
            plain, screened = runs.get((dataset, base)), runs.get((dataset, f"{base}+predictor"))
            if not plain or not screened:
                continue
            out = sum(r["screened_out"] for r in screened)
            cost = sum(r["screened_out"] * r["epochs"] / max(r["trials"], 1) for r in screened)
            reach_plain, reach_screened = [], []
            for p, s in zip(plain, screened):
                target = final_best(p["steps"])
                reach_plain.append(epochs_to_reach(p["steps"], target))
                reach_screened.append(epochs_to_reach(s["steps"], target))
            print(
                f"| {dataset} | {base} | {out} | {cost:.0f} | {_seeds(reach_plain)} | "
                f"{_seeds(reach_screened)} |"
            )


def _metric(value: float) -> str:
    """A mean test metric; '-' where a seed had no finished trial yet."""
    return "-" if np.isnan(value) else f"{value:.4f}"


def _seeds(values: list[float | None]) -> str:
    return ", ".join("not reached" if v is None else f"{v:.0f}" for v in values)


if __name__ == "__main__":
    main()
