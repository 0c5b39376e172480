"""Cheaper evaluations compared: data-fraction fidelity, proxy screening and warm start
beside plain random search and TPE, at the same epoch budget; and the proxy's Kendall tau.

Every search runs through the real driver (local executor, one SQLite store per data set
and seed) with benchmarks/search.py's space, ASHA stopping and budget. Epochs are counted
in full-data, full-candidate epochs: an epoch on a quarter of the rows costs 0.25, a
proxy epoch costs its share of the full candidate's parameters, and the driver holds every
method to the same budget in these units. Warm start is seeded by a finished TPE job on
the same data set with another seed (its cost is the earlier job's, not counted here).

    best test@X  test metric of the trial with the best validation metric once X of the
                 epoch budget is spent (the test rows never choose anything)
    AUC          area under best-validation-so-far vs epochs spent, / budget

Kendall tau: candidates drawn at random from the space, each trained as a proxy and in
full (max_epochs, all rows); tau between the proxies' and the full validation metrics.

    python benchmarks/fidelity.py [--datasets digits wine breast_cancer] [--seeds 0]
        [--trials 60] [--epochs 300] [--tau-candidates 20]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import kendalltau
from search import SPACE, make_spec, run_job

from nas import store as db
from nas.proxy import proxy_seed, train_proxy
from nas.search import load_problem, trial_seed
from nas.space import SearchSpace
from nas.trial import TrialRunner, TrialTask

PROXY = {"width_scale": 0.25, "epochs": 3, "keep": 0.25, "pool": 8}
WARM_TOP = 5
# name -> spec overrides (warm_start's job_id is filled in per data set and seed)
METHODS: dict[str, dict[str, Any]] = {
    "random": {"searcher": "random"},
    "tpe": {"searcher": "tpe"},
    "tpe+data-fraction": {"searcher": "tpe", "fidelity": {"data_fraction": {"min": 0.25}}},
    "tpe+proxy": {"searcher": "tpe", "proxy": PROXY},
    "tpe+warm-start": {"searcher": "tpe", "warm_start": {"job_id": None, "top": WARM_TOP}},
}
MARKS = (0.25, 0.5, 1.0)


def events(store: db.Store, job_id: int) -> list[tuple[float, float | None, float | None]]:
    """(epochs spent, val, test) per trial and proxy in the order they ended; proxies
    carry no val/test of a full network, only cost."""
    with store.session() as s:
        costs = db.epochs_cost(s, job_id)
        rows: list[tuple[Any, float, float | None, float | None]] = [
            (
                t.finished or t.started,
                costs.get(t.id, 0.0),
                t.val_metric if t.status == "finished" else None,  # only finished ones rank
                t.test_metric,
            )
            for t in db.list_trials(s, job_id)
        ]
        rows += [(p.created, p.cost, None, None) for p in db.list_proxies(s, job_id)]
    rows.sort(key=lambda r: r[0])
    return [(cost, val, test) for _, cost, val, test in rows]


def anytime(
    steps: list[tuple[float, float | None, float | None]], budget: float
) -> tuple[list[float], float, float]:
    """Best test at each mark of the budget, the AUC of best val so far, epochs spent."""
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


def proxy_tau(dataset: str, seed: int, n: int) -> tuple[float, float, float]:
    """Kendall tau of proxy vs full validation metrics over n random candidates; and the
    proxies' cost as a share of the full trainings'."""
    spec = make_spec(dataset, "random", seed, 1, 1)
    problem = load_problem(spec)
    space = SearchSpace.model_validate(SPACE)
    rng = np.random.default_rng(seed)
    proxy_vals, full_vals, proxy_cost = [], [], 0.0
    for i in range(n):
        c = space.sample(rng)
        r = train_proxy(
            c,
            width_scale=PROXY["width_scale"],
            epochs=PROXY["epochs"],
            seed=proxy_seed(seed, i),
            problem=problem,
        )
        task = TrialTask(i, c, trial_seed(seed, i), space.max_epochs)
        logs = TrialRunner(task, problem.data, problem.classification).advance(space.max_epochs)
        proxy_vals.append(r.value if r.value is not None else -1.0)
        full_vals.append(logs.logs[-1].val_metric if logs.logs else -1.0)
        proxy_cost += r.cost
    tau = float(kendalltau(proxy_vals, full_vals).statistic)
    return tau, proxy_cost / (n * space.max_epochs), float(np.mean(full_vals))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["digits", "wine", "breast_cancer"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=300, help="epoch budget per search")
    parser.add_argument("--tau-candidates", type=int, default=20)
    args = parser.parse_args()
    print(
        f"budget per search: {args.trials} trials or {args.epochs} full epochs; ASHA (eta 3, "
        f"min 2 epochs, max {SPACE['max_epochs']}); seeds {args.seeds}; proxy {PROXY}"
    )
    marks = " ".join(f"{'test@' + format(m, '.0%'):>9}" for m in MARKS)
    print(
        f"{'data set':<14} {'method':<18} {marks} {'AUC':>6} {'epochs':>7} {'trials':>6} {'s':>6}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.datasets:
            for seed in args.seeds:
                store = db.open_store(f"sqlite:///{Path(tmp) / f'{dataset}-{seed}.db'}")
                source_spec = make_spec(dataset, "tpe", seed + 1000, args.trials, args.epochs)
                source, _ = run_job(source_spec, store)
                for name, overrides in METHODS.items():
                    if "warm_start" in overrides:
                        overrides = overrides | {"warm_start": {"job_id": source, "top": WARM_TOP}}
                    rest = {k: v for k, v in overrides.items() if k != "searcher"}
                    searcher = overrides["searcher"]
                    spec = make_spec(
                        dataset,
                        searcher,
                        seed,
                        args.trials,
                        args.epochs,
                        name=f"{dataset}-{name}-{seed}",
                        **rest,
                    )
                    job_id, seconds = run_job(spec, store)
                    at, auc, spent = anytime(events(store, job_id), args.epochs)
                    with store.session() as s:
                        n = db.count_trials(s, job_id)
                    cells = " ".join(f"{x:9.4f}" for x in at)
                    print(
                        f"{dataset:<14} {name:<18} {cells} {auc:6.3f} {spent:7.1f} {n:6d} "
                        f"{seconds:6.1f}",
                        flush=True,
                    )
                store.close()
            started = time.perf_counter()
            tau, share, _ = proxy_tau(dataset, args.seeds[0], args.tau_candidates)
            print(
                f"{dataset:<14} proxy Kendall tau {tau:+.3f} over {args.tau_candidates} random "
                f"candidates (proxies cost {share:.1%} of full training; "
                f"{time.perf_counter() - started:.0f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
