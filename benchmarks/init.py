"""Initial weights compared: the same networks started from He's and Glorot's bounds.

For each data set and split (the job spec's split for that seed: train + validation rows
to fit, test rows to score), each network below is fitted with init="he" and with
init="glorot" from the same random_state, next to scikit-learn's default MLPClassifier
(after StandardScaler) on the same rows. It prints mean test accuracy and the paired
difference Glorot - He with its 95% t-interval over the splits.

    python benchmarks/init.py [--datasets iris wine breast_cancer digits] [--splits 30]
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

import numpy as np
from search import paired_interval, sklearn_baseline

from nas.nn import MLPClassifier
from nas.search import load_problem
from nas.spec import JobSpec

NETWORKS: dict[str, dict[str, Any]] = {
    # scikit-learn's default network; alpha is its 1e-4 / (2 n): its penalty is divided by
    # the rows, ours is not
    "(100,), 200 epochs, full batch": dict(
        hidden_layer_sizes=(100,), max_iter=200, batch_size=200, alpha=3.5e-7
    ),
    "(64, 64), 50 epochs, batch 64, dropout 0.15": dict(
        hidden_layer_sizes=(64, 64), max_iter=50, batch_size=64, alpha=1e-4, dropout=0.15
    ),
}


def fitted_accuracy(dataset: str, seed: int, init: str, params: dict[str, Any]) -> float:
    """Test accuracy of one network fitted on the split's training + validation rows."""
    d = load_problem(JobSpec.model_validate({"dataset": dataset, "seed": seed})).data
    clf = MLPClassifier(
        init=init,
        learning_rate_init=1e-3,
        scaling="standard",
        tol=0.0,
        n_iter_no_change=10**6,
        random_state=seed,
        **params,
    )
    clf.fit(np.vstack([d.X_train, d.X_val]), np.concatenate([d.y_train, d.y_val]))
    return float(clf.score(d.X_test, d.y_test))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", nargs="+", default=["iris", "wine", "breast_cancer", "digits"]
    )
    parser.add_argument("--splits", type=int, default=30, help="seeds 0..N-1 (30)")
    args = parser.parse_args()
    seeds = range(args.splits)
    print(f"{'data set':<14} {'network':<44} {'He':>7} {'Glorot':>7}   Glorot - He [95%]")
    for dataset in args.datasets:
        for name, params in NETWORKS.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a diverged fit is scored as it stands
                he = [fitted_accuracy(dataset, s, "he", params) for s in seeds]
                glorot = [fitted_accuracy(dataset, s, "glorot", params) for s in seeds]
            low, mean, high = paired_interval(glorot, he)
            print(
                f"{dataset:<14} {name:<44} {np.mean(he):7.4f} {np.mean(glorot):7.4f}   "
                f"{mean:+.4f} [{low:+.4f}, {high:+.4f}]",
                flush=True,
            )
        base = np.mean([sklearn_baseline(dataset, s) for s in seeds])
        print(f"{dataset:<14} {'scikit-learn default MLPClassifier':<44} {base:7.4f}")


if __name__ == "__main__":
    main()
