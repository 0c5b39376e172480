"""Each tabular-MLP ingredient against the trainer without it, on the suite's real data.

A search only gains from an ingredient in its space if candidates trained with it score
better; so each ingredient is measured as a paired difference over the candidates a
search would try: per data set and seed, a few candidates drawn from the default space,
each trained once as drawn (the baseline) and once with the ingredient, from the same
seed, on the service's own rows (the CSV path: nas.data.reader and nas.data.prepare, the
split of the job's seed). Score: the test metric at the epoch of the best validation
metric (what a search's choice and refit aim at), read after every epoch.

    PYTHONPATH=. python benchmarks/ingredients.py --sets penguins diabetes --seeds 0 1 2
    python benchmarks/ingredients.py --table results.jsonl

Prints, per data set and ingredient, the mean difference with a 95 % t-interval over the
(seed, candidate) pairs, and how often the ingredient won.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tabular import _paired  # noqa: E402
from tabular_data import SETS, TabularSet  # noqa: E402

EPOCHS = 50  # the default space's max_epochs

# ingredient -> (the estimator parameters it sets, the task it applies to, or None for both)
INGREDIENTS: dict[str, tuple[dict[str, Any], str | None]] = {
    "minmax": ({"scaling": "minmax"}, None),
    "robust": ({"scaling": "robust"}, None),
    "quantile": ({"scaling": "quantile"}, None),
    "piecewise": ({"scaling": "piecewise"}, None),
    "cosine": ({"learning_rate": "cosine"}, None),  # over the 50 epochs: max_iter
    "label_smoothing_0.1": ({"label_smoothing": 0.1}, "classification"),
    "target_log": ({"target_scaling": "log"}, "regression"),
    "gelu": ({"activation": "gelu"}, None),
    "selu": ({"activation": "selu"}, None),
    "mish": ({"activation": "mish"}, None),
}


def service_rows(data: TabularSet, seed: int) -> Any:
    """The set through the service's CSV path and split for `seed` (what `nas run` sees)."""
    from nas.data.preprocess import prepare
    from nas.data.reader import read_csv

    payload = data.frame.to_csv(index=False).encode()
    dataset = read_csv(payload, data.target, data.task, data.name)
    return prepare(dataset, seed).split


def score(params: dict[str, Any], seed: int, split: Any, classification: bool) -> dict:
    """Train once; the test metric at the best validation epoch (the latest among ties)."""
    from nas.nn import MLPClassifier, MLPRegressor

    cls = MLPClassifier if classification else MLPRegressor
    model = cls(**params, max_iter=EPOCHS, tol=0.0, n_iter_no_change=10**9, random_state=seed)
    tests: list[float] = []

    def log(_: Any) -> None:
        tests.append(float(model.score(split.X_test, split.y_test)))

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(split.X_train, split.y_train, X_val=split.X_val, y_val=split.y_val, callback=log)
    vals = [v if v is not None and np.isfinite(v) else -np.inf for v in model.validation_scores_]
    best = max(range(len(vals)), key=lambda i: (vals[i], i))
    test = tests[best] if np.isfinite(tests[best]) else float("nan")
    return {"val": vals[best], "test": test, "seconds": time.perf_counter() - started}


def run(data: TabularSet, seed: int, candidates: int, ingredients: list[str]) -> list[dict]:
    from nas.space import SearchSpace

    split = service_rows(data, seed)
    classification = data.task == "classification"
    rng = np.random.default_rng(seed)
    space = SearchSpace()
    out = []
    for k in range(candidates):
        params = space.sample(rng).estimator_params(classification)
        base = score(params, seed, split, classification)
        for name in ingredients:
            change, task = INGREDIENTS[name]
            if task not in (None, data.task) or all(params.get(p) == v for p, v in change.items()):
                continue
            row = {"set": data.name, "seed": seed, "candidate": k, "ingredient": name}
            out.append(
                row | {"base": base, "with": score(params | change, seed, split, classification)}
            )
    return out


def table(rows: list[dict]) -> str:
    lines = [
        "| set | ingredient | pairs | with - without, test [95%] | | wins / losses | time ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    keys = sorted({(r["set"], r["ingredient"]) for r in rows}, key=lambda k: (k[1], k[0]))
    verdicts: dict[str, list[str]] = {}
    means: dict[tuple[str, str], float] = {}
    ratios: dict[tuple[str, str], float] = {}
    for name, ingredient in keys:
        sel = [r for r in rows if r["set"] == name and r["ingredient"] == ingredient]
        sel = [r for r in sel if np.isfinite(r["with"]["test"]) and np.isfinite(r["base"]["test"])]
        if len(sel) < 2:
            continue
        a, b = [r["with"]["test"] for r in sel], [r["base"]["test"] for r in sel]
        low, mean, high = _paired(a, b)
        verdict = "ahead" if low > 0 else "behind" if high < 0 else "tie"
        verdicts.setdefault(ingredient, []).append(verdict)
        wins = sum(x > y for x, y in zip(a, b))
        losses = sum(x < y for x, y in zip(a, b))
        ratio = float(np.median([r["with"]["seconds"] / r["base"]["seconds"] for r in sel]))
        means[ingredient, name], ratios[ingredient, name] = mean, ratio
        lines.append(
            f"| {name} | {ingredient} | {len(sel)} | {mean:+.4f} [{low:+.4f}, {high:+.4f}] "
            f"| {verdict} | {wins} / {losses} | {ratio:.2f} |"
        )
    lines += [
        "",
        "| ingredient | sets | ahead | tie | behind | mean of the sets' differences "
        "| median time ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for ingredient, vs in sorted(verdicts.items()):
        mean = np.mean([m for (i, _), m in means.items() if i == ingredient])
        ratio = np.median([t for (i, _), t in ratios.items() if i == ingredient])
        lines.append(
            f"| {ingredient} | {len(vs)} | {vs.count('ahead')} | {vs.count('tie')} "
            f"| {vs.count('behind')} | {mean:+.4f} | {ratio:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--candidates", type=int, default=4, help="drawn per data set and seed")
    parser.add_argument(
        "--ingredients", nargs="+", default=list(INGREDIENTS), choices=list(INGREDIENTS)
    )
    parser.add_argument("--out", type=Path, help="append the raw pairs here (JSON lines)")
    parser.add_argument("--table", type=Path, help="only print the table of saved pairs")
    args = parser.parse_args()
    if args.table:
        print(table([json.loads(line) for line in args.table.read_text().splitlines()]))
        return
    rows: list[dict] = []
    for name in args.sets:
        data = SETS[name]()
        for seed in args.seeds:
            started = time.perf_counter()
            new = run(data, seed, args.candidates, args.ingredients)
            rows += new
            print(
                f"{name} seed {seed}: {len(new)} pairs, {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            if args.out:
                with args.out.open("a") as f:
                    f.writelines(json.dumps(r) + "\n" for r in new)
    print(table(rows))


if __name__ == "__main__":
    main()
