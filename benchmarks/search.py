"""Searchers compared: best test accuracy and anytime performance at equal epoch budgets.

For each data set, searcher and seed, one search runs through the real driver (local
executor, a SQLite store in a temporary folder) with the same space, the same stopping
policy (--policy, lce by default) and the same budget (at most --trials trials and
--epochs epochs in total; --max-epochs a trial).
It prints, averaged over seeds:

    best test   test accuracy of the trial with the best validation accuracy (the test
                rows never choose anything), as searched (trained on the training rows)
    refit test  the same trial retrained on training + validation rows (spec.refit, on by
                default): the model the job keeps
    AUC         area under best-validation-accuracy-so-far vs epochs spent, as a
                fraction of the epoch budget (higher: good networks found sooner)
    sklearn     scikit-learn's default MLPClassifier (after StandardScaler), fitted on the
                training and validation rows together, scored on the same test rows

Against scikit-learn it also prints, per searcher, the paired per-seed differences (found
minus sklearn, on the same split) with a 95% t-interval over seeds: a test set of 30-36
rows moves by 0.03 a row, so a mean below sklearn's is a "tie" while the interval holds 0.

    python benchmarks/search.py [--datasets digits wine breast_cancer iris]
        [--searchers random tpe evolution cmaes nsga2 optuna-random gp] [--seeds 0 1 2]
        [--val-fraction 0.2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from dataclasses import astuple, dataclass
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
    "scaling": ["standard", "minmax"],
    "max_epochs": 30,
}
STOPPING = {"policy": "asha", "options": {"min_epochs": 2}}


def make_spec(
    dataset: str,
    searcher: str,
    seed: int,
    trials: int,
    epochs: int,
    val_fraction: float = 0.2,
    **overrides: object,
) -> JobSpec:
    """The benchmark's search: SPACE, STOPPING, the budget; overrides win."""
    return JobSpec.model_validate(
        {
            "name": f"{dataset}-{searcher}-{seed}",
            "dataset": {"name": dataset, "val_fraction": val_fraction},
            "space": SPACE,
            "searcher": searcher,
            "stopping": STOPPING,
            "budget": {"trials": trials, "epochs": epochs},
            "seed": seed,
        }
        | overrides
    )


def run_job(spec: JobSpec, store: db.Store) -> tuple[int, float]:
    """Run `spec` through the real driver (local executor); its job id and seconds."""
    job_id = submit_and_claim(store, spec, "bench")
    started = time.perf_counter()
    SearchDriver(spec, store, job_id, runner="bench").run()
    return job_id, time.perf_counter() - started


@dataclass(frozen=True)
class SearchRun:
    test: float  # the best-validation trial's, as searched
    refit: float  # the same trial's after its refit (NaN without one)
    auc: float
    epochs: int
    trials: int
    seconds: float


def run_search(
    dataset: str,
    searcher: str,
    seed: int,
    trials: int,
    epochs: int,
    folder: Path,
    **overrides: object,
) -> SearchRun:
    """One search through the driver, in a fresh SQLite store under `folder`."""
    spec = make_spec(dataset, searcher, seed, trials, epochs, **overrides)
    store = db.open_store(f"sqlite:///{folder / f'{spec.name}.db'}")
    job_id, seconds = run_job(spec, store)
    with store.session() as s:
        trials_ = db.list_trials(s, job_id)
        best = db.leaderboard(s, job_id, k=1)[0]
    store.close()
    refit = best.refit_test_metric if best.refit_test_metric is not None else float("nan")
    spent, best_val, area = 0, 0.0, 0.0
    for t in trials_:  # serial executor: trial numbers are completion order
        area += best_val * t.epochs_run
        spent += t.epochs_run
        if t.status == "finished" and t.val_metric is not None:
            best_val = max(best_val, t.val_metric)
    area += best_val * max(epochs - spent, 0)
    return SearchRun(best.test_metric, refit, area / epochs, spent, len(trials_), seconds)


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


def paired_interval(found: list[float], bases: list[float]) -> tuple[float, float, float]:
    """Mean of the per-seed differences found - bases and its 95% t-interval (low, mean,
    high); one seed gives no interval (its own difference at both ends)."""
    from scipy import stats

    diff = np.asarray(found) - np.asarray(bases)
    mean = round(float(diff.mean()), 12)  # an exact tie is not a hair below 0
    if len(diff) < 2 or not np.isfinite(diff).all():
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff)))
    return mean - half, mean, mean + half


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
    parser.add_argument("--epochs", type=int, default=1500, help="epoch budget per search")
    parser.add_argument("--max-epochs", type=int, default=50, help="epochs of a full trial")
    parser.add_argument("--policy", default="lce", help="stopping policy (default: lce)")
    parser.add_argument(
        "--val-fraction", type=float, default=0.2, help="validation share of the rows (0.2)"
    )
    args = parser.parse_args()
    space = SPACE | {"max_epochs": args.max_epochs}
    stopping = {"policy": args.policy}
    print(
        f"budget per search: {args.trials} trials or {args.epochs} epochs; stopping "
        f"{args.policy} (its defaults), at most {args.max_epochs} epochs a trial; "
        f"seeds {args.seeds}; validation share {args.val_fraction}",
        flush=True,
    )
    print(
        f"{'data set':<14} {'searcher':<14} {'best test':>9} {'refit test':>10} {'AUC':>6} "
        f"{'epochs':>7} {'trials':>6} {'seconds':>8}"
    )
    checks: list[tuple[str, bool]] = []
    verdicts: list[tuple[str, str]] = []  # paired against sklearn: met, tie or MISSED
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.datasets:
            auc: dict[str, float] = {}
            per_seed: dict[str, list[tuple[float, ...]]] = {}
            tests: dict[str, float] = {}
            refits: dict[str, float] = {}
            for searcher in args.searchers:
                runs = [
                    astuple(
                        run_search(
                            dataset,
                            searcher,
                            s,
                            args.trials,
                            args.epochs,
                            Path(tmp),
                            space=space,
                            stopping=stopping,
                            val_fraction=args.val_fraction,
                        )
                    )
                    for s in args.seeds
                ]
                per_seed[searcher] = runs
                test, refit, area, spent, n, secs = (float(np.mean(x)) for x in zip(*runs))
                auc[searcher], tests[searcher], refits[searcher] = area, test, refit
                print(
                    f"{dataset:<14} {searcher:<14} {test:9.4f} {refit:10.4f} {area:6.3f} "
                    f"{spent:7.0f} {n:6.0f} {secs:8.1f}",
                    flush=True,
                )
            bases = [sklearn_baseline(dataset, s) for s in args.seeds]
            base = float(np.mean(bases))
            print(f"{dataset:<14} {'sklearn MLP':<14} {base:9.4f}")
            print(f"{dataset:<14} per seed: sklearn {' '.join(f'{b:.4f}' for b in bases)}")
            for searcher, runs in per_seed.items():
                for label, column in (("best", 0), ("refit", 1)):
                    found = [r[column] for r in runs]
                    print(
                        f"{dataset:<14} per seed: {searcher} {label} "
                        f"{' '.join(f'{x:.4f}' for x in found)}"
                    )
                    low, mean, high = paired_interval(found, bases)
                    verdicts.append(
                        (
                            f"{dataset}: {searcher} {label} - sklearn = {mean:+.4f} "
                            f"[{low:+.4f}, {high:+.4f}] over {len(bases)} seeds",
                            "met" if mean >= 0 else ("tie" if high >= 0 else "MISSED"),
                        )
                    )
            for label, found in (("best test", tests), ("refit test", refits)):
                worst = min(found.values())
                checks.append(
                    (
                        f"{dataset}: every searcher's {label} >= sklearn default "
                        f"({worst:.4f} vs {base:.4f})",
                        worst >= base,
                    )
                )
                if dataset == "digits":
                    checks.append(
                        (f"digits: every searcher's {label} >= 0.975 ({worst:.4f})", worst >= 0.975)
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
    print("\npaired against sklearn, mean difference [95% t-interval over seeds]:")
    for text, verdict in verdicts:
        print(f"[{verdict}] {text}")


if __name__ == "__main__":
    main()
