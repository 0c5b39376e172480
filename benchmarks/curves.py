"""Benchmark: how well nas.stopping.curves forecasts a learning curve's final value, and
how honest its spread is, on real curves of two trainers.

Curves: our trainer's (nas.nn, the cache of benchmarks/stopping.py: digits, breast_cancer,
diabetes) and scikit-learn's MLPClassifier / MLPRegressor trained epoch by epoch
(partial_fit) on data sets the project does not use: wine (scikit-learn) and OJ, College,
Auto (origin), Carseats (Sales > 8), Smarket and Auto (mpg, R^2) from the ISLP package's
bundled CSVs (`pip install --no-deps ISLP`; without it only wine). Cached under
benchmarks/cache/ like the stopping benchmark's.

From 10, 25 and 50 % of each curve the final value is forecast, and per data set:
MAE ratio (MAE of the forecast / MAE of the last value), the share of finals inside the
central 90 % interval, the mean and median Normal log-likelihood of the finals, and
Kendall's tau between forecast and final over the data set's curves beside the last
value's tau. Forecasts:

    raw         the ensemble's own spread (the forecast before calibration)
    default     with nas.stopping.calibration.DEFAULT (what a user gets)
    held-out    with a calibration fitted on the *other* data sets' curves only
    prior       nas.stopping.prior: kernel prior + calibration learned from the other
                data sets' curves and the first half of this data set's (a store that
                has seen earlier jobs), scored on the second half only

    python benchmarks/curves.py report [--seeds 0 1 2] [--candidates 60]
    python benchmarks/curves.py calibrate      # prints the DEFAULT calibration's numbers
    python benchmarks/curves.py fit-cost --trees /path/to/old/tree . [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")  # the machine is shared: one core per run
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import stopping  # noqa: E402  (benchmarks/stopping.py: our trainer's curves)
from scipy.stats import kendalltau, norm  # noqa: E402

from nas.stopping.calibration import (  # noqa: E402
    DEFAULT,
    KNOTS,
    RAW,
    Z90,
    Calibration,
    Residual,
    fit_calibration,
)
from nas.stopping.curves import ACCURACY_BOUNDS, R2_BOUNDS, fit  # noqa: E402
from nas.stopping.prior import CurvePrior  # noqa: E402

CACHE = Path(__file__).resolve().parent / "cache"
FRACTIONS = (0.10, 0.25, 0.50)
MAX_EPOCHS = 50
OURS = ("digits", "breast_cancer", "diabetes")
THEIRS = ("wine", "oj", "college", "auto_origin", "carseats", "smarket", "auto_mpg")


@dataclass(frozen=True)
class CurveSet:
    name: str
    trainer: str
    bounds: tuple[float, float]
    curves: np.ndarray  # (n, max_epochs), every value finite


# --- curves ---------------------------------------------------------------------------


def ours(name: str, n: int, seed: int) -> CurveSet:
    cs = stopping.generate(name, n, MAX_EPOCHS, seed, regenerate=False)
    full = cs.curves[np.all(np.isfinite(cs.curves), axis=1)]
    return CurveSet(f"{name}/s{seed}", "nas.nn", stopping.metric_bounds(name), full)


def _islp(name: str):  # type: ignore[no-untyped-def]
    from ISLP import load_data  # a benchmark-only dependency: its CSVs, nothing else

    return load_data(name)


def their_data(name: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """(X, y, classification) of a data set the project's benchmarks do not use."""
    import pandas as pd
    from sklearn.datasets import load_wine

    if name == "wine":
        X, y = load_wine(return_X_y=True)
        return X, y, True
    frames = {
        "oj": ("OJ", "Purchase", []),
        "college": ("College", "Private", []),
        "auto_origin": ("Auto", "origin", ["name"]),
        "carseats": ("Carseats", "Sales", []),
        "smarket": ("Smarket", "Direction", ["Today", "Year"]),
        "auto_mpg": ("Auto", "mpg", ["name"]),
    }
    source, target, drop = frames[name]
    df = _islp(source).drop(columns=[c for c in drop if c in _islp(source).columns])
    y = df.pop(target)
    X = pd.get_dummies(df, drop_first=True).to_numpy(dtype=float)
    if name == "carseats":
        return X, (y.to_numpy() > 8.0).astype(int), True
    if name == "auto_mpg":
        return X, y.to_numpy(dtype=float), False
    return X, pd.factorize(y)[0], True


def theirs(name: str, n: int, seed: int) -> CurveSet:
    """scikit-learn's MLP trained one epoch per partial_fit, validation metric per epoch."""
    path = CACHE / f"sklearn_{name}_n{n}_e{MAX_EPOCHS}_s{seed}.npz"
    if not path.exists():
        curves = _train_theirs(name, n, seed)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, curves=curves)
    with np.load(path) as z:
        curves = z["curves"]
    classification = name != "auto_mpg"
    bounds = ACCURACY_BOUNDS if classification else R2_BOUNDS
    full = curves[np.all(np.isfinite(curves), axis=1)]
    return CurveSet(f"{name}/s{seed}", "sklearn", bounds, full)


def _train_theirs(name: str, n: int, seed: int) -> np.ndarray:
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.preprocessing import StandardScaler

    X, y, classification = their_data(name)
    X_tr, X_val, y_tr, y_val = train_test_split(
        X, y, test_size=0.3, random_state=seed, stratify=y if classification else None
    )
    scaler = StandardScaler().fit(X_tr)
    X_tr, X_val = scaler.transform(X_tr), scaler.transform(X_val)
    rng = np.random.default_rng(seed)
    curves = np.full((n, MAX_EPOCHS), np.nan)
    for i in range(n):
        c = stopping.sample_candidate(rng)
        params = {
            "hidden_layer_sizes": tuple(c["hidden_layer_sizes"]),  # type: ignore[call-overload]
            "activation": c["activation"],
            "learning_rate_init": c["learning_rate_init"],
            "alpha": c["alpha"],
            "batch_size": c["batch_size"],
            "random_state": int(rng.integers(2**31)),
        }
        model = (MLPClassifier if classification else MLPRegressor)(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in range(MAX_EPOCHS):
                if classification:
                    model.partial_fit(X_tr, y_tr, classes=np.unique(y))
                else:
                    model.partial_fit(X_tr, y_tr)
                score = model.score(X_val, y_val)
                if not math.isfinite(score):
                    break
                curves[i, epoch] = score
    return curves


def curve_sets(
    seeds: Sequence[int], n_ours: int, n_theirs: int, our_sets: Sequence[str] = OURS
) -> list[CurveSet]:
    sets = [ours(name, n_ours, s) for s in seeds for name in our_sets]
    try:
        _islp("OJ")
        names = THEIRS
    except ImportError:
        print("ISLP is not installed: scikit-learn's curves on wine only", file=sys.stderr)
        names = ("wine",)
    sets += [theirs(name, n_theirs, s) for s in seeds for name in names]
    return sets


# --- forecasts ------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One forecast of one curve from its first n epochs."""

    fraction: float
    mean: float
    raw_std: float
    headroom: float
    last: float
    final: float
    bounds: tuple[float, float]

    def residual(self) -> Residual:
        return Residual(
            self.fraction, self.raw_std, self.headroom, self.mean, self.last, self.final
        )


def cases(cs: CurveSet, fractions: Sequence[float]) -> list[Case]:
    out = []
    horizon = cs.curves.shape[1]
    for curve in cs.curves:
        for frac in fractions:
            n = max(1, round(frac * horizon))
            raw = fit(curve[:n], cs.bounds, calibration=RAW).raw(horizon)
            last, final = float(curve[n - 1]), float(curve[-1])
            out.append(Case(frac, raw.mean, raw.raw_std, raw.headroom, last, final, cs.bounds))
    return out


def held_out_calibration(
    sets: list[CurveSet], name: str, knots_cases: dict[str, list[Case]]
) -> Calibration:
    """The calibration fitted on every data set but `name` (and but its other seeds)."""
    base = name.split("/")[0]
    residuals = [
        c.residual()
        for other, rows in knots_cases.items()
        if other.split("/")[0] != base
        for c in rows
    ]
    return fit_calibration(residuals)


@dataclass(frozen=True)
class Scores:
    mae_ratio: float
    coverage: float
    mean_loglik: float
    median_loglik: float
    tau: float
    tau_last: float


def score(means: np.ndarray, stds: np.ndarray, last: np.ndarray, final: np.ndarray) -> Scores:
    stds = np.maximum(stds, 1e-300)
    loglik = norm.logpdf(final, means, stds)
    return Scores(
        float(np.mean(np.abs(means - final)) / max(np.mean(np.abs(last - final)), 1e-12)),
        float(np.mean(np.abs(final - means) <= Z90 * stds)),
        float(np.mean(loglik)),
        float(np.median(loglik)),
        float(kendalltau(means, final).statistic),
        float(kendalltau(last, final).statistic),
    )


# --- reports --------------------------------------------------------------------------


def report(args: argparse.Namespace, out: Callable[[str], None] = print) -> None:
    sets = curve_sets(args.seeds, args.candidates, args.sklearn_candidates, args.ours)
    knots_cases = {cs.name: cases(cs, KNOTS) for cs in sets}
    eval_cases = {cs.name: cases(cs, FRACTIONS) for cs in sets}
    out(
        f"{len(sets)} curve sets, {sum(len(cs.curves) for cs in sets)} curves of "
        f"{MAX_EPOCHS} epochs; load average {os.getloadavg()[0]:.1f}"
    )
    out(
        f"{'data set':<18} {'trainer':<8} {'from':>4} {'forecast':<9} {'MAE ratio':>9} "
        f"{'in 90%':>7} {'mean ll':>10} {'median ll':>9} {'tau':>6} {'tau last':>8}"
    )
    rows: dict[tuple[str, float], list[Scores]] = {}
    for cs in sets:
        held = held_out_calibration(sets, cs.name, knots_cases)
        prior = _prior_for(sets, cs, args)
        for frac in FRACTIONS:
            at = [c for c in eval_cases[cs.name] if c.fraction == frac]
            ways = {"raw": RAW, "default": DEFAULT, "held-out": held}
            for way, cal in ways.items():
                s = _score_cases(at, cal)
                rows.setdefault((way, frac), []).append(s)
                out(_row(cs, frac, way, s))
            if prior is not None:
                s = _score_prior(cs, frac, prior)
                rows.setdefault(("prior", frac), []).append(s)
                out(_row(cs, frac, "prior", s))
    out("\nmedian over data sets (and seeds):")
    for (way, frac), scores in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        med = {f: float(np.median([getattr(s, f) for s in scores])) for f in Scores.__annotations__}
        worst_tau = min(s.tau - s.tau_last for s in scores)
        cover = [100 * s.coverage for s in scores]
        out(
            f"{way:<9} from {100 * frac:3.0f} %: MAE ratio {med['mae_ratio']:.2f}, "
            f"in 90 % {med['coverage']:.0%} (range {min(cover):.0f}-{max(cover):.0f} %), "
            f"mean ll {med['mean_loglik']:.3g}, median ll {med['median_loglik']:.2f}, "
            f"tau {med['tau']:.2f} vs last {med['tau_last']:.2f} "
            f"(worst difference {worst_tau:+.2f})"
        )


def _score_cases(at: list[Case], cal: Calibration) -> Scores:
    means = np.array([np.clip(cal.mean(c.fraction, c.mean, c.last), *c.bounds) for c in at])
    stds = np.array([cal.std(c.fraction, c.raw_std, c.headroom) for c in at])
    return score(means, stds, np.array([c.last for c in at]), np.array([c.final for c in at]))


def _prior_for(sets: list[CurveSet], cs: CurveSet, args: argparse.Namespace) -> CurvePrior | None:
    """The prior a store would hold: other data sets' curves of the same metric kind, and
    the first half of this one's (an earlier job on it); None without --prior."""
    if not args.prior:
        return None
    base = cs.name.split("/")[0]
    stored = [
        c
        for other in sets
        if other.name.split("/")[0] != base and other.bounds == cs.bounds
        for c in other.curves
    ]
    stored += list(cs.curves[: len(cs.curves) // 2])
    return CurvePrior.build(stored, cs.bounds)


def _score_prior(cs: CurveSet, frac: float, prior: CurvePrior) -> Scores:
    horizon = cs.curves.shape[1]
    n = max(1, round(frac * horizon))
    held = cs.curves[len(cs.curves) // 2 :]
    preds = [prior.predict(c[:n], horizon) for c in held]
    return score(
        np.array([p.mean for p in preds]),
        np.array([p.std for p in preds]),
        held[:, n - 1],
        held[:, -1],
    )


def _row(cs: CurveSet, frac: float, way: str, s: Scores) -> str:
    return (
        f"{cs.name:<18} {cs.trainer:<8} {100 * frac:3.0f}% {way:<9} {s.mae_ratio:9.2f} "
        f"{100 * s.coverage:6.0f}% {s.mean_loglik:10.3g} {s.median_loglik:9.2f} "
        f"{s.tau:6.2f} {s.tau_last:8.2f}"
    )


def calibrate(args: argparse.Namespace, out: Callable[[str], None] = print) -> None:
    sets = curve_sets(args.seeds, args.candidates, args.sklearn_candidates, args.ours)
    residuals = [c.residual() for cs in sets for c in cases(cs, KNOTS)]
    cal = fit_calibration(residuals)
    out(f"fitted on {len(residuals)} forecasts from {len(sets)} curve sets:")
    for field in ("knots", "scales", "floors", "shrinks"):
        out(f"    {field}=({', '.join(f'{v:.3g}' for v in getattr(cal, field))}),")


# --- fit cost in a default search -----------------------------------------------------

_COUNT = r"""
import contextlib, io, json, sys, tempfile, time
import nas.stopping.curves as curves
import nas.stopping.lce as lce
stats = {"fits": 0, "fit_cpu_s": 0.0, "fit_wall_s": 0.0}
original = curves.fit
def counted(*a, **k):
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        return original(*a, **k)
    finally:
        stats["fits"] += 1
        stats["fit_wall_s"] += time.perf_counter() - wall
        stats["fit_cpu_s"] += time.process_time() - cpu
curves.fit = lce.fit = counted
from nas_cli.main import main
db = tempfile.mkdtemp()
wall, cpu = time.perf_counter(), time.process_time()
with contextlib.redirect_stdout(io.StringIO()) as printed:
    rc = main(["run", sys.argv[1], "--executor", "local", "--db", f"sqlite:///{db}/nas.db"])
stats.update(rc=rc, run_wall_s=time.perf_counter() - wall, run_cpu_s=time.process_time() - cpu)
stats["best"] = next((l for l in printed.getvalue().splitlines() if "0." in l), "")
print(json.dumps(stats))
"""


def fit_cost(args: argparse.Namespace, out: Callable[[str], None] = print) -> None:
    """`nas run SPEC --executor local` under each source tree, alternating, repeats times:
    curves.fit calls and their seconds, and the run's (medians; ratios against the first)."""
    trees = [str(Path(t).resolve()) for t in args.trees]
    results: dict[str, list[dict[str, float]]] = {t: [] for t in trees}
    for r in range(args.repeats):
        for tree in trees if r % 2 == 0 else trees[::-1]:
            env = dict(os.environ, PYTHONPATH=tree)
            done = subprocess.run(
                [sys.executable, "-c", _COUNT, str(Path(tree) / args.spec)],
                env=env,
                cwd=tree,
                capture_output=True,
                text=True,
                check=True,
            )
            results[tree].append(json.loads(done.stdout.strip().splitlines()[-1]))
            out(f"{tree}: {results[tree][-1]}")
    first = trees[0]
    for tree in trees:
        med = {
            k: float(np.median([x[k] for x in results[tree]]))
            for k in ("fits", "fit_cpu_s", "fit_wall_s", "run_wall_s", "run_cpu_s")
        }
        base = {k: float(np.median([x[k] for x in results[first]])) for k in med}
        out(
            f"{tree}: {med['fits']:.0f} fits, {med['fit_cpu_s']:.2f} s CPU "
            f"({med['fit_wall_s']:.2f} s wall) in fits, run {med['run_wall_s']:.1f} s wall "
            f"{med['run_cpu_s']:.1f} s CPU; fit CPU x{med['fit_cpu_s'] / base['fit_cpu_s']:.2f}, "
            f"run CPU x{med['run_cpu_s'] / base['run_cpu_s']:.2f} of the first tree"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, handler in (("report", report), ("calibrate", calibrate)):
        p = sub.add_parser(name)
        p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
        p.add_argument("--candidates", type=int, default=60, help="our trainer's, per set")
        p.add_argument("--sklearn-candidates", type=int, default=30)
        p.add_argument("--prior", action="store_true", help="also score the learned prior")
        p.add_argument("--ours", nargs="*", default=list(OURS), help="our trainer's data sets")
        p.set_defaults(handler=handler)
    p = sub.add_parser("fit-cost")
    p.add_argument("--trees", nargs="+", default=["."])
    p.add_argument("--spec", default="examples/digits-tpe.yaml")
    p.add_argument("--repeats", type=int, default=3)
    p.set_defaults(handler=fit_cost)
    args = parser.parse_args(argv)
    args.handler(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
