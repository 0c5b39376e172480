"""Our search against gradient boosting on real tabular data (benchmarks/tabular_data.py).

For every data set and seed, the same rows for every method: the service's own split of
the seed (train / validation / test = 60 / 20 / 20). Three methods:

    ours      `nas run` at the defaults a user gets (TPE, the default space, budget and
              stopping, refit; the ensemble as the spec's default has it), through the
              same entry point (nas_cli.batch.run_batch, a CSV data set); its model trains
              on the training rows, chooses on the validation rows and is refit on both
    boosting  scikit-learn's HistGradientBoosting{Classifier,Regressor}() on the training
              and validation rows (text columns as pandas categories: its native
              handling; missing cells as NaN: its native handling)
    mlp       scikit-learn's MLP{Classifier,Regressor}() in a Pipeline with imputation,
              StandardScaler and OneHotEncoder, on the same rows

scored on the test rows (accuracy, R^2). Printed per set: the means over seeds, the paired
difference ours - boosting with its 95% t-interval over seeds (ahead / tie / behind), the
job's model against the validation split's single best (both from the same search: the
model's meta keeps the single best's refit score when an ensemble or the cross-validated
choice, --selection, served another), and each method's median wall time (the methods of a
seed run back to back, their order rotated from seed to seed, so load moves all alike).

    python benchmarks/tabular.py [--sets penguins wage ...] [--seeds 0 1 2]
        [--trials N] [--ensemble SIZE | --no-ensemble] [--selection] [--refit-seeds N]
        [--space JSON] [--out results.jsonl]
    python benchmarks/tabular.py --table results.jsonl   # the table of a saved run
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tabular_data import SEARCH_READS_RAW_ROWS, SETS, TabularSet, encoder, search_frame, split_rows

METHODS = ("ours", "boosting", "mlp")


def _paired(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """Mean of the per-seed differences a - b and its 95% t-interval (low, mean, high)."""
    from scipy import stats

    diff = np.asarray(a) - np.asarray(b)
    mean = float(diff.mean())
    if len(diff) < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff)))
    return mean - half, mean, mean + half


def run_ours(data: TabularSet, rows: dict, seed: int, options: dict[str, Any]) -> dict:
    """One `nas run` on the set's rows as a CSV; the job's model and its meta read back."""
    from nas import store as db
    from nas.spec import JobSpec
    from nas_cli.batch import run_batch

    fit_rows = np.concatenate([rows["train"], rows["val"]])
    frame = search_frame(data, fit_rows)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / f"{data.name}.csv"
        frame.to_csv(csv, index=False)
        raw = {
            "name": f"{data.name}-{seed}",
            "dataset": {"csv": str(csv), "target": data.target, "task": data.task},
            "seed": seed,
        }
        spec = JobSpec.model_validate(raw | options)
        _check_same_rows(spec, frame.drop(columns=[data.target]), data, rows)
        url = f"sqlite:///{tmp}/nas.db"
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            status = run_batch(spec, url=url)
        seconds = time.perf_counter() - started
        if status != 0:
            raise RuntimeError(f"the search on {data.name} (seed {seed}) did not finish")
        store = db.open_store(url)
        with store.session() as s:
            job = db.list_jobs(s)[0]
            trial, model = db.best_model(s, job.id) or (None, None)
            assert trial is not None and model is not None
            meta = dict(model.meta)
            n_trials = db.count_trials(s, job.id)
        store.close()
    score = trial.refit_test_metric if trial.refit_test_metric is not None else trial.test_metric
    ensemble = meta.get("ensemble")
    single = meta.get("single_test_metric", score) if ensemble else score
    if "validation_choice" in meta:  # cross-validation chose another than the split's best
        single = meta["validation_choice"]["test_metric"]
    return {
        "score": score,
        "single": single,
        "selection": "selection" in meta,
        "ensemble": score if ensemble else None,
        "members": len(ensemble["members"]) if ensemble else 1,
        "val": trial.val_metric,
        "trials": n_trials,
        "seconds": seconds,
    }


def _check_same_rows(spec: Any, features: pd.DataFrame, data: TabularSet, rows: dict) -> None:
    """The search's own split holds the very rows the other methods are scored on: the
    same targets in the same order (raw rows, which the service encodes itself), or the
    same encoded features."""
    from nas.search import load_problem

    d = load_problem(spec).data
    parts = (
        (d.X_train, d.y_train, "train"),
        (d.X_val, d.y_val, "val"),
        (d.X_test, d.y_test, "test"),
    )
    for X, y, name in parts:
        if not SEARCH_READS_RAW_ROWS:
            same = np.allclose(X, features.to_numpy(float)[rows[name]])
        elif data.task == "regression":
            same = np.allclose(np.asarray(y, float), data.labels[rows[name]])
        else:
            same = np.array_equal(np.asarray(y).astype(str), data.labels[rows[name]])
        if not same:
            raise RuntimeError(f"the search's {name} rows differ from the suite's")


def _sklearn_frame(data: TabularSet) -> pd.DataFrame:
    """Text columns as pandas categories (HistGradientBoosting's native handling)."""
    X = data.features.copy()
    for c in data.categorical:
        X[c] = X[c].astype("category")
    return X


def run_sklearn(data: TabularSet, rows: dict, seed: int, method: str) -> dict:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline

    classification = data.task == "classification"
    X, y = _sklearn_frame(data), data.labels
    fit_rows = np.concatenate([rows["train"], rows["val"]])
    if method == "boosting":
        cls = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
        model = cls(random_state=seed)  # the default; the seed only fixes its early-stop rows
    else:
        mlp = MLPClassifier if classification else MLPRegressor
        model = make_pipeline(encoder(data, scale=True), mlp(random_state=seed))
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X.iloc[fit_rows], y[fit_rows])
        score = float(model.score(X.iloc[rows["test"]], y[rows["test"]]))
    out = {"score": score, "seconds": time.perf_counter() - started}
    if method == "boosting":  # again on one OpenMP thread: on 2 shared cores its default
        # threads can wait on each other far longer than they work
        from sklearn.base import clone
        from threadpoolctl import threadpool_limits

        started = time.perf_counter()
        with threadpool_limits(1, user_api="openmp"):
            clone(model).fit(X.iloc[fit_rows], y[fit_rows]).score(
                X.iloc[rows["test"]], y[rows["test"]]
            )
        out["seconds_1_thread"] = time.perf_counter() - started
    return out


def run_seed(data: TabularSet, seed: int, options: dict[str, Any], turn: int) -> dict:
    rows = split_rows(data, seed)
    out: dict[str, Any] = {"set": data.name, "seed": seed}
    order = METHODS[turn % 3 :] + METHODS[: turn % 3]
    for method in order:
        if method == "ours":
            out[method] = run_ours(data, rows, seed, options)
        else:
            out[method] = run_sklearn(data, rows, seed, method)
    return out


def _verdict(low: float, high: float) -> str:
    return "ahead" if low > 0 else "behind" if high < 0 else "tie"


def describe(data: TabularSet) -> str:
    kinds = []
    if data.categorical:
        kinds.append(f"{len(data.categorical)} text")
    if data.has_missing:
        kinds.append("missing")
    return ", ".join(kinds) or "numeric"


def table(results: list[dict], sets: dict[str, TabularSet]) -> str:
    """Markdown: means over seeds, paired intervals, median wall times, the targets (the
    time one against boosting's faster way, its default threads or one thread)."""
    head = (
        "| set | rows | features | task | cells | seeds | ours | single best | boosting | mlp "
        "| ours - boosting [95%] | | single - boosting [95%] | | ours - single [95%] "
        "| ours s | boosting s | mlp s "
        "| boosting s (1 thread) | ours / boosting time | within max(10x, 300 s) |"
    )
    lines = [head, "|" + "---|" * 21]
    verdicts: list[str] = []
    single_verdicts: list[str] = []
    for name, data in sets.items():
        runs = [r for r in results if r["set"] == name]
        if not runs:
            continue
        ours = [r["ours"]["score"] for r in runs]
        single = [r["ours"]["single"] for r in runs]
        boost = [r["boosting"]["score"] for r in runs]
        mlp = [r["mlp"]["score"] for r in runs]
        low, mean, high = _paired(ours, boost)
        verdicts.append(_verdict(low, high))
        s_low, s_mean, s_high = _paired(single, boost)
        single_verdicts.append(_verdict(s_low, s_high))
        e_low, e_mean, e_high = _paired(ours, single)
        ensembled = any(
            r["ours"]["ensemble"] is not None or r["ours"].get("selection") for r in runs
        )
        wall = {m: float(np.median([r[m]["seconds"] for r in runs])) for m in METHODS}
        one = float(np.median([r["boosting"].get("seconds_1_thread", np.inf) for r in runs]))
        fastest = min(wall["boosting"], one)  # the ratio against boosting's faster way
        cells = (
            f"{name} | {len(data.frame)} | {data.features.shape[1]} | "
            f"{'cls' if data.task == 'classification' else 'reg'} | {describe(data)} | "
            f"{len(runs)} | {np.mean(ours):.4f} | {np.mean(single):.4f} | {np.mean(boost):.4f} | "
            f"{np.mean(mlp):.4f} | {mean:+.4f} [{low:+.4f}, {high:+.4f}] | {verdicts[-1]} | "
            f"{s_mean:+.4f} [{s_low:+.4f}, {s_high:+.4f}] | {single_verdicts[-1]} | "
            + (f"{e_mean:+.4f} [{e_low:+.4f}, {e_high:+.4f}]" if ensembled else "off")
            + f" | {wall['ours']:.1f} | {wall['boosting']:.2f} | {wall['mlp']:.2f} | "
            f"{one:.2f} | {wall['ours'] / fastest:.0f}x | "
            f"{'met' if wall['ours'] <= max(10 * fastest, 300.0) else 'MISSED'} |"
        )
        lines.append("| " + cells)
    lines.append("")
    for who, found in (("ours (the job's model)", verdicts), ("single best", single_verdicts)):
        ahead, behind = found.count("ahead"), found.count("behind")
        met = behind == 0 and ahead * 2 >= len(found)
        lines.append(
            f"{who}: ahead on {ahead}, tie on {found.count('tie')}, behind on {behind} of "
            f"{len(found)} sets; target (never behind, ahead on at least half): "
            + ("met" if met else "MISSED")
        )
    if not SEARCH_READS_RAW_ROWS:
        lines.append(
            "text and missing cells reach our search one-hot encoded and imputed by "
            "scikit-learn, fitted on the training + validation rows (tabular_data.py)"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--trials", type=int, help="budget.trials (default: the spec's)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--ensemble", type=int, metavar="SIZE", help="ensemble.size")
    group.add_argument("--no-ensemble", action="store_true", help="the single best only")
    parser.add_argument(
        "--selection", action="store_true", help="spec.selection on: k-fold choice on small data"
    )
    parser.add_argument("--refit-seeds", type=int, help="spec.refit_seeds: seed averaging")
    parser.add_argument("--space", type=json.loads, help='spec.space as JSON: {"scaling": [...]}')
    parser.add_argument("--out", help="append each seed's results to this JSON-lines file")
    parser.add_argument("--table", help="print the table of a saved JSON-lines file and stop")
    args = parser.parse_args()
    if args.table:
        results = [json.loads(line) for line in Path(args.table).read_text().splitlines()]
        names = list(dict.fromkeys(r["set"] for r in results))
        print(table(results, {n: SETS[n]() for n in names}))
        return
    options: dict[str, Any] = {}
    if args.trials:
        options["budget"] = {"trials": args.trials}
    if args.no_ensemble:
        options["ensemble"] = False
    elif args.ensemble:
        options["ensemble"] = {"size": args.ensemble}
    if args.selection:
        options["selection"] = True
    if args.refit_seeds:
        options["refit_seeds"] = args.refit_seeds
    if args.space:
        options["space"] = args.space
    sets = {n: SETS[n]() for n in args.sets}
    results = []
    for data in sets.values():
        for turn, seed in enumerate(args.seeds):
            result = run_seed(data, seed, options, turn)
            results.append(result)
            o = result["ours"]
            print(
                f"{data.name} seed {seed}: ours {o['score']:.4f} (single {o['single']:.4f}, "
                f"{o['members']} members, {o['trials']} trials, {o['seconds']:.1f} s) "
                f"boosting {result['boosting']['score']:.4f} "
                f"({result['boosting']['seconds']:.2f} s) mlp {result['mlp']['score']:.4f}",
                flush=True,
            )
            if args.out:
                with open(args.out, "a") as handle:
                    handle.write(json.dumps(result) + "\n")
    print()
    print(table(results, sets))


if __name__ == "__main__":
    main()
