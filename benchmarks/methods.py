"""Search methods compared in one run: predictor screening, REINFORCE, DARTS, random, TPE.

Each method is a name -> spec overrides (METHODS): one line adds another. Every search runs
through the real driver via benchmarks/search.py's run_one (same space, ASHA stopping, the
same budget of trials and epochs, the same seeds). Printed per data set, means over seeds:

    best test   test metric of the best-validation trial (test rows never choose anything)
    AUC         area under best-validation-so-far vs epochs spent, a share of the budget.
                DARTS pays its supernet first (presearch epochs, counted as 2 epochs per
                supernet epoch: a weight pass and an architecture pass), with nothing found
                meanwhile, and trains candidates with the budget left.
    epochs      epochs spent (presearch included)

Then the predictor: 2 x 30 random candidates per data set and seed trained to the end; fit
on the first 30, Kendall tau between predicted and actual final validation metric on the
held-out 30, from the candidate alone and with its first 5 epochs; beside it, the tau of
the epoch-5 value alone and of the same 30 candidates retrained with other seeds (what
training noise and tied accuracies leave to predict at all). And the epochs screening
saved: proposals screened out, their cost at the run's mean epochs per trial, and the
epochs the screened search needed to reach the plain search's final best.

    python benchmarks/methods.py [--datasets digits wine breast_cancer] [--seeds 0 1]
        [--methods random tpe ...] [--trials 100] [--epochs 400]
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
from search import SPACE, run_one

from nas import store as db
from nas.nn.optimizers import set_num_threads
from nas.search import load_problem
from nas.searchers.predictor import MODELS, PerformancePredictor, kendall_tau
from nas.space import SearchSpace
from nas.spec import JobSpec
from nas.trial import TrialRunner, TrialTask

SCREEN = {"pool": 8, "min_trials": 10}
METHODS: dict[str, dict[str, Any]] = {
    "random": {"searcher": "random"},
    "tpe": {"searcher": "tpe"},
    "evolution": {"searcher": "evolution"},
    "tpe+predictor": {"searcher": "tpe+predictor", "searcher_options": SCREEN},
    "evolution+predictor": {"searcher": "evolution+predictor", "searcher_options": SCREEN},
    "rl": {"searcher": "rl"},
    "darts": {"searcher": "darts", "searcher_options": {"epochs": 20, "top_k": 3}},
}
EARLY_EPOCHS = 5


def presearch_epochs(overrides: dict[str, Any]) -> int:
    """Epochs a method spends before its first trial (the DARTS supernet)."""
    if overrides.get("searcher") != "darts":
        return 0
    return 2 * int(overrides.get("searcher_options", {}).get("epochs", 20))


def run_method(
    dataset: str, method: str, seed: int, trials: int, epochs: int, folder: Path
) -> dict[str, Any]:
    overrides = {**METHODS[method], "name": f"{dataset}-{method}-{seed}"}
    pre = presearch_epochs(overrides)
    fields = {k: v for k, v in overrides.items() if k != "searcher"}
    test, area, spent, n, seconds = run_one(
        dataset, overrides["searcher"], seed, trials, epochs - pre, folder, **fields
    )
    store = db.open_store(f"sqlite:///{folder / (overrides['name'] + '.db')}")
    with store.session() as s:
        job = db.list_jobs(s)[0]
        state = (job.searcher_state or {}).get("searcher", {})
        rows = db.list_trials(s, job.id)
        path = [(t.epochs_run or 0, t.val_metric if t.status == "finished" else None) for t in rows]
    store.close()
    return {
        "test": test,
        "auc": area * (epochs - pre) / epochs,  # best so far is 0 while the supernet trains
        "epochs": spent + pre,
        "trials": n,
        "seconds": seconds,
        "pre": pre,
        "path": path,
        "screened_out": state.get("screened_out", 0),
    }


def epochs_to_reach(path: list[tuple[int, float | None]], target: float) -> int | None:
    """Epochs spent when the best finished validation metric first reached target."""
    spent = 0
    for epochs, value in path:
        spent += epochs
        if value is not None and value >= target - 1e-12:
            return spent
    return None


def final_best(path: list[tuple[int, float | None]]) -> float:
    return max((v for _, v in path if v is not None), default=0.0)


def predictor_taus(dataset: str, seed: int) -> dict[str, float]:
    """Held-out Kendall tau of each model, alone and with the early curve, and of epoch 5."""
    space = SearchSpace.model_validate(SPACE)
    problem = load_problem(JobSpec.model_validate({"dataset": dataset, "seed": seed}))
    rng = np.random.default_rng([seed, 7])
    candidates = [space.sample(rng) for _ in range(60)]
    task = (problem.data, problem.classification)
    curves = []
    for i, c in enumerate(candidates):
        runner = TrialRunner(TrialTask(i, c, seed * 1000 + i, space.max_epochs), *task)
        curves.append([log.val_metric for log in runner.advance(space.max_epochs).logs])
    train = list(zip(candidates[:30], curves[:30]))
    held, finals = candidates[30:], [c[-1] for c in curves[30:]]
    early = [c[:EARLY_EPOCHS] for c in curves[30:]]
    again = [  # the held-out candidates trained once more, with other seeds
        TrialRunner(TrialTask(i, c, seed * 1000 + 500 + i, space.max_epochs), *task)
        .advance(space.max_epochs)
        .logs[-1]
        .val_metric
        for i, c in enumerate(held)
    ]
    taus = {
        "retrained (ceiling)": kendall_tau(again, finals),
        f"epoch {EARLY_EPOCHS} value": kendall_tau([c[-1] for c in early], finals),
    }
    for model in MODELS:
        predictor = PerformancePredictor(space, seed, model)
        predictor.fit(train)
        taus[model] = kendall_tau(predictor.predict(held), finals)
        taus[f"{model} + curve"] = kendall_tau(predictor.predict(held, early), finals)
    return taus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["digits", "wine", "breast_cancer"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--trials", type=int, default=100, help="enough that epochs bind")
    parser.add_argument("--epochs", type=int, default=400, help="epoch budget per search")
    args = parser.parse_args()
    set_num_threads(1)
    started = time.perf_counter()
    load = os.getloadavg()
    print(
        f"budget per search: {args.trials} trials or {args.epochs} epochs; ASHA (eta 3, min 2 "
        f"epochs, max 30); seeds {args.seeds}; 1 BLAS thread; load average "
        f"{load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}"
    )
    print()
    print("| data set | method | best test | AUC | epochs (presearch) | trials | seconds |")
    print("|---|---|---|---|---|---|---|")
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.datasets:
            for method in args.methods:
                results = [
                    run_method(dataset, method, s, args.trials, args.epochs, Path(tmp))
                    for s in args.seeds
                ]
                runs[dataset, method] = results
                mean = {k: float(np.mean([r[k] for r in results])) for k in results[0]
                        if k not in ("path",)}  # fmt: skip
                print(
                    f"| {dataset} | {method} | {mean['test']:.4f} | {mean['auc']:.3f} | "
                    f"{mean['epochs']:.0f} ({mean['pre']:.0f}) | {mean['trials']:.0f} | "
                    f"{mean['seconds']:.1f} |"
                )
    print_screening(runs, args.datasets)
    print_taus(args.datasets, args.seeds)
    print(f"\nwall time {time.perf_counter() - started:.0f} s")


def print_screening(runs: dict[tuple[str, str], list[dict[str, Any]]], datasets: list[str]) -> None:
    print("\nepochs saved by screening (proposals: sums over seeds; epochs to reach: per seed)")
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
                target = final_best(p["path"])
                reach_plain.append(epochs_to_reach(p["path"], target))
                reach_screened.append(epochs_to_reach(s["path"], target))
            print(
                f"| {dataset} | {base} | {out} | {cost:.0f} | {_seeds(reach_plain)} | "
                f"{_seeds(reach_screened)} |"
            )


def _seeds(values: list[int | None]) -> str:
    return ", ".join("not reached" if v is None else str(v) for v in values)


def print_taus(datasets: list[str], seeds: list[int]) -> None:
    print(
        f"\npredictor: Kendall tau on 30 held-out finished trials, fitted on 30 "
        f"(mean over seeds {seeds}; target >= 0.6)"
    )
    rows = {d: [predictor_taus(d, s) for s in seeds] for d in datasets}
    names = list(next(iter(rows.values()))[0])
    print("| data set | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for dataset, taus in rows.items():
        cells = [f"{np.mean([t[n] for t in taus]):.3f}" for n in names]
        print(f"| {dataset} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
