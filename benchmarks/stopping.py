"""Benchmark: stopping policies replayed over real learning curves from the nas.nn trainer.

Step 1 trains random candidates on built-in data sets for the full epoch budget and caches
their validation curves (benchmarks/cache/*.npz; --regenerate trains again). Step 2
replays every policy offline over the same trials in the same random arrival orders: a
trial runs rung by rung and the policy sees every curve so far, as the search driver will
show them. Step 3 measures how well nas.stopping.curves predicts the final value from 10, 25 and
50 % of the budget, against the last value as the prediction.

    python benchmarks/stopping.py                 # uses the cache, trains what is missing
    python benchmarks/stopping.py --regenerate    # trains every curve again

Epochs are counted as a fraction of no stopping; regret is the best final value among the
trials a policy let finish, below the best final value of all trials, in percentage points.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")  # the machine is shared: one core per run
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NAS_THREADS", "1")

from nas.stopping import (  # noqa: E402
    STOP,
    AshaPolicy,
    HyperbandPolicy,
    LearningCurvePolicy,
    MedianPolicy,
    NoStopping,
    PatiencePolicy,
    StoppingPolicy,
    TrialCurve,
    lce_asha,
)
from nas.stopping.calibration import Z90  # noqa: E402
from nas.stopping.curves import ACCURACY_BOUNDS, R2_BOUNDS, fit, predict  # noqa: E402

CACHE = Path(__file__).resolve().parent / "cache"
DATASETS = ("digits", "breast_cancer", "diabetes")
N_CANDIDATES = 200
MAX_EPOCHS = 50
N_ORDERS = 5  # arrival orders replayed per data set; every policy sees the same ones
PREDICTION_FRACTIONS = (0.10, 0.25, 0.50)


# --- step 1: learning curves ----------------------------------------------------------


def sample_candidate(rng: np.random.Generator) -> dict[str, object]:
    """A random network; the wide ranges include bad ones on purpose, so stopping matters."""
    depth = int(rng.integers(1, 4))
    return {
        "hidden_layer_sizes": [int(round(math.exp(rng.uniform(math.log(8), math.log(256)))))]
        * depth,
        "activation": str(rng.choice(["relu", "tanh", "logistic"])),
        "learning_rate_init": float(math.exp(rng.uniform(math.log(1e-4), math.log(1e-1)))),
        "alpha": float(math.exp(rng.uniform(math.log(1e-6), math.log(1e-1)))),
        "batch_size": int(rng.choice([16, 32, 64, 128, 256])),
        "dropout": float(rng.choice([0.0, 0.0, 0.1, 0.2, 0.3, 0.5])),
        "batch_norm": bool(rng.random() < 0.25),
    }


def load_split(name: str, seed: int) -> tuple[np.ndarray, ...]:
    """Train and validation rows of a built-in data set (nas.data's seeded split)."""
    from nas.data import load_builtin, split

    parts = split(load_builtin(name), seed, test_fraction=0.2, val_fraction=0.25)
    return parts.X_train, parts.y_train, parts.X_val, parts.y_val


def is_classification(name: str) -> bool:
    from nas.data import BUILTINS

    return BUILTINS[name] == "classification"


def metric_bounds(name: str) -> tuple[float, float]:
    return ACCURACY_BOUNDS if is_classification(name) else R2_BOUNDS


def train_curve(
    name: str,
    candidate: dict[str, object],
    data: tuple[np.ndarray, ...],
    max_epochs: int,
    seed: int,
) -> np.ndarray:
    """Validation metric per epoch, NaN after the trainer stopped (a diverged trial)."""
    from nas.nn import MLPClassifier, MLPRegressor

    estimator = MLPClassifier if is_classification(name) else MLPRegressor
    params = dict(candidate, hidden_layer_sizes=tuple(candidate["hidden_layer_sizes"]))  # type: ignore[call-overload]
    # tol=0 and n_iter_no_change past the budget: nothing but divergence ends training early.
    model = estimator(
        solver="adam",
        max_iter=max_epochs,
        tol=0.0,
        n_iter_no_change=max_epochs + 1,
        random_state=seed,
        **params,
    )
    X_tr, y_tr, X_val, y_val = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    scores = np.asarray(model.validation_scores_ or [], dtype=float)[:max_epochs]
    if scores.size < max_epochs and model.status_ != "diverged":
        raise RuntimeError(f"training ended after {scores.size} epochs: {model.status_}")
    curve = np.full(max_epochs, np.nan)
    curve[: scores.size] = scores  # a diverged epoch records no score: NaN from there on
    return curve


@dataclass(frozen=True)
class CurveSet:
    name: str
    curves: np.ndarray  # (n_candidates, max_epochs), NaN after a trainer stop
    candidates: list[dict[str, object]]
    seconds: float


def cache_path(name: str, n: int, max_epochs: int, seed: int) -> Path:
    return CACHE / f"curves_{name}_n{n}_e{max_epochs}_s{seed}.npz"


def generate(name: str, n: int, max_epochs: int, seed: int, regenerate: bool) -> CurveSet:
    path = cache_path(name, n, max_epochs, seed)
    if path.exists() and not regenerate:
        with np.load(path) as z:
            candidates = json.loads(str(z["candidates"]))
            return CurveSet(name, z["curves"], candidates, float(z["seconds"]))
    data = load_split(name, seed)
    rng = np.random.default_rng(seed)
    seeds = np.random.SeedSequence(seed).generate_state(n)
    candidates = [sample_candidate(rng) for _ in range(n)]
    start = time.perf_counter()
    curves = np.stack(
        [train_curve(name, c, data, max_epochs, int(s)) for c, s in zip(candidates, seeds)]
    )
    seconds = time.perf_counter() - start
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path, curves=curves, candidates=json.dumps(candidates), seconds=np.array(seconds)
    )
    return CurveSet(name, curves, candidates, seconds)


# --- step 2: replay -------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    epochs: int
    best_final: float


def replay(policy: StoppingPolicy, curves: np.ndarray, order: np.ndarray) -> Outcome:
    """Run the trials one after another in `order`, asking the policy at its rungs."""
    max_epochs = curves.shape[1]
    rungs = policy.rungs(max_epochs)
    seen: dict[int, TrialCurve] = {}
    epochs, best = 0, -math.inf
    for t in order.tolist():
        curve = curves[t]
        length = _trained_length(curve)  # the trainer itself ends a diverged trial
        stop_at = length
        for rung in rungs:
            if rung > length:
                break
            seen[t] = TrialCurve(curve[:rung].tolist())
            if policy.decide(t, seen, max_epochs).action == STOP:
                stop_at = rung
                break
        finished = stop_at == max_epochs and math.isfinite(curve[-1])
        seen[t] = TrialCurve(curve[:stop_at].tolist(), finished=finished)
        epochs += stop_at
        if finished:
            best = max(best, float(curve[-1]))
    return Outcome(epochs, best)


def _trained_length(curve: np.ndarray) -> int:
    bad = ~np.isfinite(curve)
    return int(np.argmax(bad)) + 1 if bad.any() else curve.size


def benchmark_policies(
    max_epochs: int, bounds: tuple[float, float], deltas: tuple[float, ...] = ()
) -> dict[str, StoppingPolicy]:
    """The policies compared, with budget-relative settings shared where they mean the same;
    `deltas` adds lce on the calibrated spread at these deltas."""
    warmup = max(1, max_epochs // 10)
    others: dict[str, StoppingPolicy] = {
        f"lce cal d={d:g}": LearningCurvePolicy(
            min_epochs=warmup, bounds=bounds, delta=d, calibrated=True
        )
        for d in deltas
    }
    return others | {
        "none": NoStopping(),
        "patience": PatiencePolicy(patience=max(3, max_epochs // 10), min_delta=1e-3),
        "median": MedianPolicy(min_epochs=warmup, n_startup_trials=5),
        "asha": AshaPolicy(eta=3, min_epochs=1),
        "hyperband": HyperbandPolicy(eta=3, min_epochs=1),
        "lce": LearningCurvePolicy(min_epochs=warmup, bounds=bounds),  # the default delta
        "lce+asha": lce_asha(min_epochs=warmup, eta=3, bounds=bounds),
    }


# --- step 3: prediction error ---------------------------------------------------------


def prediction_errors(
    curves: np.ndarray, bounds: tuple[float, float]
) -> dict[float, tuple[float, float, float]]:
    """Per budget fraction: MAE of curves.predict, MAE of the last value, and the share of
    finals inside the central 90 % interval (how honest the spread is; 90 % is honest)."""
    max_epochs = curves.shape[1]
    full = curves[np.all(np.isfinite(curves), axis=1)]
    out = {}
    for frac in PREDICTION_FRACTIONS:
        k = max(1, round(frac * max_epochs))
        preds = [fit(c[:k], bounds).predict(max_epochs) for c in full]
        mean = np.array([p.mean for p in preds])
        std = np.array([p.std for p in preds])
        final = full[:, -1]
        out[frac] = (
            float(np.mean(np.abs(mean - final))),
            float(np.mean(np.abs(full[:, k - 1] - final))),
            float(np.mean(np.abs(mean - final) <= Z90 * std)),
        )
    return out


def prediction_speed(n_points: int = 50, repeats: int = 50) -> tuple[float, float]:
    """Milliseconds per predict() on a noisy n-point curve: wall clock, and CPU time (which
    other users of a shared machine do not inflate)."""
    x = np.arange(1, n_points + 1)
    curve = 0.95 - 0.6 * x**-0.7 + np.random.default_rng(0).normal(0, 0.01, n_points)
    predict(curve, 2 * n_points)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        predict(curve, 2 * n_points)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall / repeats * 1000, cpu / repeats * 1000


# --- report ---------------------------------------------------------------------------


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> None:
    wall_ms, cpu_ms = prediction_speed()
    out(
        f"curves.predict on a 50-point curve: {wall_ms:.1f} ms wall, {cpu_ms:.1f} ms CPU "
        f"per prediction (load average {os.getloadavg()[0]:.1f})"
    )
    for name in args.datasets:
        cs = generate(name, args.candidates, args.epochs, args.seed, args.regenerate)
        curves = cs.curves
        finals = curves[:, -1]
        out(
            f"\n## {name}: {len(curves)} candidates x {args.epochs} epochs "
            f"(trained in {cs.seconds:.0f} s), best final {np.nanmax(finals):.4f}, "
            f"median final {np.nanmedian(finals):.4f}, diverged {int(np.isnan(finals).sum())}"
        )
        rng = np.random.default_rng(args.seed)
        orders = [rng.permutation(len(curves)) for _ in range(args.orders)]
        best = float(np.nanmax(finals))
        total = sum(_trained_length(c) for c in curves)
        out(f"{'policy':<10} {'epochs':>7} {'regret pp':>10} {'max regret':>11} {'seconds':>8}")
        policies = benchmark_policies(args.epochs, metric_bounds(name), tuple(args.deltas))
        for label, policy in policies.items():
            if args.policies and label not in args.policies:
                continue
            start = time.perf_counter()
            outcomes = [replay(policy, curves, order) for order in orders]
            used = np.mean([o.epochs for o in outcomes]) / total
            regrets = [100 * (best - o.best_final) for o in outcomes]
            seconds = (time.perf_counter() - start) / len(orders)
            out(
                f"{label:<10} {100 * used:6.1f}% {np.mean(regrets):10.2f} "
                f"{np.max(regrets):11.2f} {seconds:8.1f}"
            )
        out(f"{'predict at':<10} {'MAE lce':>8} {'MAE last':>9} {'ratio':>6} {'in 90%':>9}")
        for frac, (mae, mae_last, cover) in prediction_errors(curves, metric_bounds(name)).items():
            out(
                f"{100 * frac:8.0f} % {mae:8.4f} {mae_last:9.4f} "
                f"{mae / mae_last:6.2f} {100 * cover:8.0f}%"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--candidates", type=int, default=N_CANDIDATES)
    parser.add_argument("--epochs", type=int, default=MAX_EPOCHS)
    parser.add_argument("--orders", type=int, default=N_ORDERS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--regenerate", action="store_true", help="train every curve again")
    parser.add_argument(
        "--deltas", type=float, nargs="*", default=[], help="lce calibrated, at these deltas"
    )
    parser.add_argument("--policies", nargs="*", help="replay only these (default: all)")
    run(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
