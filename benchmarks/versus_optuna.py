"""The whole search against the way users do it today: `nas run` vs Optuna + scikit-learn.

The peer is what a user writes instead of this service (issue 19): Optuna's TPESampler and
MedianPruner(n_startup_trials=5, n_warmup_steps=5) over scikit-learn's MLPClassifier,
trained with partial_fit one epoch at a time, StandardScaler on the training rows, the
validation accuracy reported after every epoch. Both sides get the same rows (the split
`nas run` makes from the seed: nas.data.split with test 0.2, validation 0.3, written to
an npz the peer reads), the same space where scikit-learn has it (depth 1-3, widths 16-512
log, relu/tanh, weight decay 1e-6..1e-2 log as alpha, learning rate 1e-4..1e-2 log, batch
32/64/128; scikit-learn has no dropout, batch norm or min-max scaling), the same budget
(trials, at most max_epochs epochs each) and the same seed.

Each side runs as a user runs it: a fresh process started by this script (imports and
start-up included), `nas run <spec> --seed S` on ours, the peer's script on theirs. Per
seed the two run back to back, in alternating order, so load from others on a shared
machine falls on both alike. Two thread settings: the defaults (no thread variables) and
one thread (OPENBLAS/OMP/MKL_NUM_THREADS=1, and NAS_THREADS=1 for ours).

Reported per data set and thread setting, medians over seeds:
  wall      seconds from the process's start to the end of its budget (ours: with the refit)
  to 0.5    seconds until the best validation accuracy so far came within 0.5 point of
            that side's final best (from trial end stamps; finished trials only, as the
            leaderboard and Optuna's best_trial count them)
  ratio     the peer's wall / ours, median of the per-seed ratios (>= 3 is the target)
  test      test accuracy of what each side hands the user: ours the refit model (`nas
            run`'s default), the peer's best trial's network; the paired difference ours -
            peer with its 95 % t-interval over seeds

    python benchmarks/versus_optuna.py                          # digits, breast_cancer, seeds 0-4
    python benchmarks/versus_optuna.py --datasets digits --seeds 0 1 --threads default
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "digits-tpe.yaml"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


# -- the peer: what a user writes with Optuna and scikit-learn (run in its own process) --


def peer(data_path: str, seed: int, trials: int, max_epochs: int, started: float) -> None:
    """Optuna TPE + MedianPruner over scikit-learn's MLPClassifier, epoch by epoch."""
    import warnings

    import numpy as np
    import optuna
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore", ConvergenceWarning)
    d = np.load(data_path)
    scaler = StandardScaler().fit(d["X_train"])
    X_train, X_val, X_test = (scaler.transform(d[k]) for k in ("X_train", "X_val", "X_test"))
    y_train, y_val, y_test = d["y_train"], d["y_val"], d["y_test"]
    classes = np.unique(np.concatenate([y_train, y_val, y_test]))
    trace: list[tuple[float, float, float]] = []  # (time, val accuracy, test accuracy)

    def objective(trial: optuna.Trial) -> float:
        depth = trial.suggest_int("n_layers", 1, 3)
        widths = [trial.suggest_int(f"width_{i}", 16, 512, log=True) for i in range(depth)]
        clf = MLPClassifier(
            widths,
            activation=trial.suggest_categorical("activation", ["relu", "tanh"]),
            alpha=trial.suggest_float("alpha", 1e-6, 1e-2, log=True),
            learning_rate_init=trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True),
            batch_size=trial.suggest_categorical("batch_size", [32, 64, 128]),
            random_state=seed * 1000 + trial.number,
        )
        for epoch in range(max_epochs):
            clf.partial_fit(X_train, y_train, classes=classes)
            val = clf.score(X_val, y_val)
            trial.report(val, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        trace.append((time.time(), val, clf.score(X_test, y_test)))
        return val

    sampler = optuna.samplers.TPESampler(seed=seed)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=5)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    study.optimize(objective, n_trials=trials)
    best = max(trace, key=lambda t: t[1])  # the first of the best, as study.best_trial
    print(json.dumps({"trace": [(t - started, v) for t, v, _ in trace], "test": best[2]}))


# -- the two sides, each in a fresh process ----------------------------------------------


def environment(threads: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (*THREAD_VARS, "NAS_THREADS")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if threads == "one":
        env |= {name: "1" for name in THREAD_VARS} | {"NAS_THREADS": "1"}
    return env


def run_ours(spec: Path, db: str, seed: int, threads: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "nas_cli", "run", str(spec), "--seed", str(seed)]
    started = time.time()
    done = subprocess.run(
        [*command, "--db", db], env=environment(threads), capture_output=True, text=True
    )
    wall = time.time() - started
    if done.returncode != 0:
        raise RuntimeError(f"nas run failed:\n{done.stderr[-2000:]}")
    return {"wall": wall, **read_job(db, started)}


def read_job(db_url: str, started: float) -> dict[str, Any]:
    """The latest job's trace (finished trials by end time), refit test accuracy, books."""
    from nas import store as db

    store = db.open_store(db_url)
    try:
        with store.session() as s:
            job = db.list_jobs(s, limit=1)[0]
            trials = sorted(
                (t for t in db.list_trials(s, job.id) if t.status == "finished"),
                key=lambda t: t.finished,
            )
            trace = [(_epoch(t.finished) - started, t.val_metric) for t in trials]
            chosen = db.leaderboard(s, job.id, k=1)[0]
            test = chosen.refit_test_metric or chosen.test_metric
            return {"trace": trace, "test": test, "timings": job.timings}
    finally:
        store.close()


def _epoch(when: datetime) -> float:
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def run_peer(data: Path, seed: int, trials: int, max_epochs: int, threads: str) -> dict[str, Any]:
    started = time.time()
    command = [sys.executable, __file__, "--peer", str(data), str(seed), str(trials)]
    done = subprocess.run(
        [*command, str(max_epochs), repr(started)],
        env=environment(threads),
        capture_output=True,
        text=True,
    )
    wall = time.time() - started
    if done.returncode != 0:
        raise RuntimeError(f"the peer failed:\n{done.stderr[-2000:]}")
    return {"wall": wall, **json.loads(done.stdout.strip().splitlines()[-1])}


def within(trace: list[tuple[float, float]], points: float = 0.005) -> float:
    """Seconds until the best so far came within `points` of the final best."""
    if not trace:
        return math.nan
    final = max(v for _, v in trace)
    best = -math.inf
    for t, v in sorted(trace):
        best = max(best, v)
        if best >= final - points:
            return t
    return math.nan


# -- the comparison -----------------------------------------------------------------------


def prepare(dataset: str, trials: int, tmp: Path) -> tuple[Path, Path, int]:
    """Our spec for `dataset` (examples/digits-tpe.yaml with its name and budget) and the
    seed-independent part; the split itself is written per seed by split_for."""
    import yaml

    spec = yaml.safe_load(SPEC.read_text())
    spec["dataset"]["name"] = dataset
    spec["name"] = f"{dataset}-versus-optuna"
    spec["budget"] = {"trials": trials}
    path = tmp / f"{dataset}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path, tmp / f"{dataset}-split.npz", int(spec["space"]["max_epochs"])


def split_for(spec_path: Path, seed: int, out: Path) -> None:
    """The rows `nas run --seed seed` trains, validates and tests on, for the peer."""
    import numpy as np

    from nas.search import load_problem
    from nas.spec import load_spec

    data = load_problem(load_spec(spec_path, {"seed": seed})).data
    arrays = {k: getattr(data, k) for k in ("X_train", "y_train", "X_val", "y_val")}
    np.savez(out, **arrays, X_test=data.X_test, y_test=data.y_test)


def t_interval(diffs: list[float]) -> tuple[float, float, float]:
    from scipy import stats

    mean = statistics.fmean(diffs)
    if len(diffs) < 2:
        return mean, math.nan, math.nan
    half = stats.t.ppf(0.975, len(diffs) - 1) * statistics.stdev(diffs) / math.sqrt(len(diffs))
    return mean, mean - half, mean + half


def compare(args: argparse.Namespace) -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} CPUs, "
        f"load average {load} at the start; {args.trials} trials, seeds {args.seeds}"
    )
    header = (
        f"{'data set':<14} {'threads':<8} {'ours s':>7} {'peer s':>7} {'ratio':>6} "
        f"{'ours to 0.5':>11} {'peer to 0.5':>11} {'ours test':>9} {'peer test':>9} "
        f"{'ours - peer [95% CI]':>26} {'driver':>6}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        db = f"sqlite:///{tmp / 'nas.db'}"
        subprocess.run(
            [sys.executable, "-m", "nas_cli", "db", "upgrade", "--url", db],
            env=environment("default"),
            check=True,
            capture_output=True,
        )  # a user's store exists after the first run: its creation is not timed
        for dataset in args.datasets:
            spec, data, max_epochs = prepare(dataset, args.trials, tmp)
            for threads in args.threads:
                runs = []
                for i, seed in enumerate(args.seeds):
                    split_for(spec, seed, data)
                    result = {}
                    for side in ("ours", "peer") if i % 2 == 0 else ("peer", "ours"):
                        result[side] = (
                            run_ours(spec, db, seed, threads)
                            if side == "ours"
                            else run_peer(data, seed, args.trials, max_epochs, threads)
                        )
                    runs.append(result)
                    o, p = result["ours"], result["peer"]
                    share = (o["timings"] or {}).get("driver_share", math.nan)
                    print(
                        f"  {dataset} {threads} seed {seed}: ours {o['wall']:.1f} s "
                        f"(test {o['test']:.4f}, driver {share:.0%}), peer {p['wall']:.1f} s "
                        f"(test {p['test']:.4f}), ratio {p['wall'] / o['wall']:.2f}",
                        flush=True,
                    )
                rows.append(summary(dataset, threads, runs))
    print()
    print(header)
    for row in rows:
        print(row)


def summary(dataset: str, threads: str, runs: list[dict[str, dict[str, Any]]]) -> str:
    def median(side: str, key: str) -> float:
        return statistics.median(r[side][key] for r in runs)

    def median_within(side: str) -> float:
        return statistics.median(within(r[side]["trace"]) for r in runs)

    ratio = statistics.median(r["peer"]["wall"] / r["ours"]["wall"] for r in runs)
    mean, low, high = t_interval([r["ours"]["test"] - r["peer"]["test"] for r in runs])
    shares = [(r["ours"]["timings"] or {}).get("driver_share", math.nan) for r in runs]
    return (
        f"{dataset:<14} {threads:<8} {median('ours', 'wall'):7.1f} {median('peer', 'wall'):7.1f} "
        f"{ratio:6.2f} {median_within('ours'):11.1f} {median_within('peer'):11.1f} "
        f"{median('ours', 'test'):9.4f} {median('peer', 'test'):9.4f} "
        f"{mean:+9.4f} [{low:+.4f}, {high:+.4f}] {statistics.median(shares):6.0%}"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--peer":
        data, seed, trials, max_epochs, started = sys.argv[2:7]
        peer(data, int(seed), int(trials), int(max_epochs), float(started))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["digits", "breast_cancer"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--threads", nargs="+", choices=["default", "one"], default=["default", "one"]
    )
    parser.add_argument("--trials", type=int, default=60, help="budget.trials on both sides")
    args = parser.parse_args()
    if args.trials < 1:
        parser.error(f"--trials must be >= 1; got {args.trials}")
    compare(args)


if __name__ == "__main__":
    main()
