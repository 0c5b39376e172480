"""Searchers compared: best test accuracy and anytime performance at equal epoch budgets.

For each data set, searcher and seed, one search runs through the real driver (local
executor, a SQLite store in a temporary folder) with the same space, the same ASHA
stopping and the same budget (at most --trials trials and --epochs epochs in total).
It prints, averaged over seeds:

    best test   test accuracy of the trial with the best validation accuracy (the test
                rows never choose anything)
    AUC         area under best-validation-accuracy-so-far vs epochs spent, as a
                fraction of the epoch budget (higher: good networks found sooner)
    sklearn     scikit-learn's default MLPClassifier (after StandardScaler), fitted on the
                training and validation rows together, scored on the same test rows

    python benchmarks/search.py [--datasets digits wine breast_cancer iris]
        [--searchers random tpe evolution cmaes nsga2 optuna-random gp] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from nas import store as db
from nas.search import SearchDriver, load_problem, submit_and_claim
from nas.spec import JobSpec

SPACE = {
    "n_layers": [1, 3],
    "width": [16, 256],
    "activation": ["relu", "tanh"],
    "dropout": [0.0, 0.3],
    "weight_decay": [1e-6, 1e-2],
    "batch_norm": [False, True],
    "optimizer": ["adam"],
    "learning_rate": [1e-4, 1e-2],
    "batch_size": [32, 64, 128],
    "max_epochs": 30,
}


def run_one(
    dataset: str,
    searcher: str,
    seed: int,
    trials: int,
    epochs: int,
    folder: Path,
    overrides: dict | None = None,
):
    """One search; `overrides` replace top-level spec fields (a method in methods.py)."""
    raw = {
        "name": f"{dataset}-{searcher}-{seed}",
        "dataset": dataset,
        "space": SPACE,
        "searcher": searcher,
        "stopping": {"policy": "asha", "options": {"min_epochs": 2}},
        "budget": {"trials": trials, "epochs": epochs},
        "seed": seed,
    }
    spec = JobSpec.model_validate({**raw, **(overrides or {})})
    store = db.open_store(f"sqlite:///{folder / f'{spec.name}.db'}")
    job_id = submit_and_claim(store, spec, "bench")
    started = time.perf_counter()
    SearchDriver(spec, store, job_id, runner="bench").run()
    seconds = time.perf_counter() - started
    with store.session() as s:
        trials_ = db.list_trials(s, job_id)
        best = db.leaderboard(s, job_id, k=1)[0]
    store.close()
    spent, best_val, area = 0, 0.0, 0.0
    for t in trials_:  # serial executor: trial numbers are completion order
        area += best_val * t.epochs_run
        spent += t.epochs_run
        if t.status == "finished" and t.val_metric is not None:
            best_val = max(best_val, t.val_metric)
    area += best_val * max(epochs - spent, 0)
    return best.test_metric, area / epochs, spent, len(trials_), seconds


def sklearn_baseline(dataset: str, seed: int) -> float:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    spec = JobSpec.model_validate({"dataset": dataset, "seed": seed})
    d = load_problem(spec).data
    model = make_pipeline(StandardScaler(), MLPClassifier(random_state=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(np.vstack([d.X_train, d.X_val]), np.concatenate([d.y_train, d.y_val]))
    return float(model.score(d.X_test, d.y_test))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", nargs="+", default=["digits", "wine", "breast_cancer", "iris"]
    )
    parser.add_argument(
        "--searchers", nargs="+", default=["random", "tpe", "evolution", "cmaes", "nsga2"]
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=600, help="epoch budget per search")
    args = parser.parse_args()
    print(
        f"budget per search: {args.trials} trials or {args.epochs} epochs; ASHA (eta 3, "
        f"min 2 epochs, max 30); seeds {args.seeds}"
    )
    print(
        f"{'data set':<14} {'searcher':<14} {'best test':>9} {'AUC':>6} {'epochs':>7} "
        f"{'trials':>6} {'seconds':>8}"
    )
    checks: list[tuple[str, bool]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.datasets:
            auc: dict[str, float] = {}
            tests: dict[str, float] = {}
            for searcher in args.searchers:
                runs = [
                    run_one(dataset, searcher, s, args.trials, args.epochs, Path(tmp))
                    for s in args.seeds
                ]
                test, area, spent, n, secs = (float(np.mean(x)) for x in zip(*runs))
                auc[searcher], tests[searcher] = area, test
                print(
                    f"{dataset:<14} {searcher:<14} {test:9.4f} {area:6.3f} {spent:7.0f} "
                    f"{n:6.0f} {secs:8.1f}"
                )
            base = float(np.mean([sklearn_baseline(dataset, s) for s in args.seeds]))
            print(f"{dataset:<14} {'sklearn MLP':<14} {base:9.4f}")
            worst = min(tests.values())
            checks.append(
                (
                    f"{dataset}: every searcher's best test >= sklearn default "
                    f"({worst:.4f} vs {base:.4f})",
                    worst >= base,
                )
            )
            if dataset == "digits":
                checks.append(
                    (f"digits: every searcher's best test >= 0.975 ({worst:.4f})", worst >= 0.975)
                )
            for s in ("tpe", "evolution"):
                if s in auc and "random" in auc:
                    checks.append(
                        (
                            f"{dataset}: {s} AUC {auc[s]:.3f} > random {auc['random']:.3f}",
                            auc[s] > auc["random"],
                        )
                    )
    print()
    for text, ok in checks:
        print(f"[{'met' if ok else 'MISSED'}] {text}")


if __name__ == "__main__":
    main()
