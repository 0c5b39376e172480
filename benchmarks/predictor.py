"""Rank correlations of the cheap stand-ins for a full training: the learned predictor and
the reduced-architecture proxy, on held-out candidates, beside the noise ceiling.

Per data set and seed: 60 random candidates of benchmarks/search.py's space, each trained
to the end. The predictor is fitted on the first 30 (what it has seen after 30 finished
trials) and scored on the other 30, never on the ones it was fitted on: Kendall tau-b
(ties counted) between its prediction and their final validation metric,

    forest, mlp         from the candidates' choices alone (what screening uses)
    epoch e value       the held-out trials' own validation metric at epoch e (ASHA's first
                        two rungs, 2 and 6): the early curve alone
    forest + epoch e    the predictor's rank() blending both views (nas/searchers/predictor.py)
    retrained           the same 30 candidates trained again with other seeds: one retraining,
                        and the mean of --reruns of them, against the first training. A
                        predictor from the choices alone cannot beat the mean's tau by more
                        than chance: what is left is training noise and tied accuracies
    proxy               each held-out candidate at a quarter of its width for 3 epochs

    python benchmarks/predictor.py [--datasets digits wine breast_cancer] [--seeds 0 1 2 3 4]
        [--reruns 3]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy

import argparse
from collections.abc import Mapping
from typing import Any

import numpy as np
from search import SPACE

from nas.nn.optimizers import set_num_threads
from nas.search import Problem, load_problem
from nas.search.proxy import train_proxy
from nas.search.trial import TrialTask, TrialTrainer
from nas.searchers.predictor import MODELS, PerformancePredictor, kendall_tau
from nas.space import Candidate, SearchSpace
from nas.spec import JobSpec

SEEN = 30  # finished trials the predictor is fitted on; as many are held out
EARLY = (2, 6)  # ASHA's first two rungs in the benchmark's stopping (min 2 epochs, eta 3)


def final_curves(
    candidates: list[Candidate], seeds: list[int], problem: Problem, epochs: int
) -> list[list[float]]:
    """Each candidate's validation curve, trained to `epochs` with its seed."""
    curves = []
    for i, (c, s) in enumerate(zip(candidates, seeds)):
        logs = TrialTrainer(TrialTask(i, c, s, epochs), problem.data, problem.classification)
        curve = logs.advance(epochs).logs
        curves.append([float("nan") if x.val_metric is None else x.val_metric for x in curve])
    return curves


def taus(dataset: str, seed: int, reruns: int, proxy: Mapping[str, Any]) -> dict[str, float]:
    """Held-out Kendall taus of one data set and seed (see the module docstring)."""
    space = SearchSpace.model_validate(SPACE)
    problem = load_problem(JobSpec.model_validate({"dataset": dataset, "seed": seed}))
    rng = np.random.default_rng([seed, 7])
    candidates = [space.sample(rng) for _ in range(2 * SEEN)]
    top = space.max_epochs
    curves = final_curves(candidates, [seed * 1000 + i for i in range(2 * SEEN)], problem, top)
    held, held_curves = candidates[SEEN:], curves[SEEN:]
    finals = [c[-1] for c in held_curves]
    again = [
        [c[-1] for c in final_curves(held, [seed * 1000 + 500 * r + i for i in range(SEEN)],
                                     problem, top)]
        for r in range(1, reruns + 1)
    ]  # fmt: skip
    out: dict[str, float] = {}
    predictors = {m: PerformancePredictor(space, seed, m) for m in MODELS}
    for model, predictor in predictors.items():
        predictor.fit(list(zip(candidates[:SEEN], curves[:SEEN])))
        out[model] = kendall_tau(predictor.predict(held), finals)
    for e in EARLY:
        early = [c[:e] for c in held_curves]
        out[f"epoch {e} value"] = kendall_tau([c[-1] for c in early], finals)
        blended = predictors[MODELS[0]].rank(held, early)
        out[f"{MODELS[0]} + epoch {e}"] = kendall_tau(blended, finals)
    out["retrained"] = kendall_tau(again[0], finals)
    out[f"mean of {reruns} retrained"] = kendall_tau(np.mean(again, axis=0), finals)
    proxies = [
        train_proxy(c, width_scale=proxy["width_scale"], epochs=proxy["epochs"],
                    seed=seed * 1000 + 900 + i, problem=problem)
        for i, c in enumerate(held)
    ]  # fmt: skip
    out["proxy"] = kendall_tau([-1.0 if p.value is None else p.value for p in proxies], finals)
    out["proxy cost %"] = 100 * sum(p.cost for p in proxies) / (SEEN * top)
    return out


def print_taus(
    datasets: list[str], seeds: list[int], reruns: int, proxy: Mapping[str, Any]
) -> None:
    print(
        f"\nKendall tau-b on {SEEN} held-out finished trials (the predictor fitted on {SEEN} "
        f"others); mean (sd) over seeds {seeds}; target for the predictor >= 0.6"
    )
    rows = {d: [taus(d, s, reruns, proxy) for s in seeds] for d in datasets}
    names = list(next(iter(rows.values()))[0])
    print("| data set | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for dataset, per_seed in rows.items():
        cells = [
            f"{np.mean([t[n] for t in per_seed]):.3f} ({np.std([t[n] for t in per_seed]):.2f})"
            for n in names
        ]
        print(f"| {dataset} | " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["digits", "wine", "breast_cancer"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--reruns", type=int, default=3)
    args = parser.parse_args()
    set_num_threads(1)
    from methods import PROXY

    print_taus(args.datasets, args.seeds, args.reruns, PROXY)


if __name__ == "__main__":
    main()
