"""Reduced architectures as proxies: a candidate scaled down in width, trained for a few
epochs, stands in for the full one when ranking a pool of proposals.

A proxy trains in-process on the job's training rows and is scored on its validation rows
(never the test rows). Its cost is counted in full-candidate epochs: an epoch of a network
with a quarter of the parameters costs a quarter of an epoch of the full one, since dense
layers' work grows with their parameter count.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from nas import store as db
from nas.search.trial import TrialTask, TrialTrainer
from nas.searchers.proxy_screening import ProxyResult
from nas.space import Candidate

if TYPE_CHECKING:
    from nas.search.problem import Problem
    from nas.spec import ProxySpec

PROXY_STREAM = 1  # seeds proxies apart from trials: SeedSequence(job seed, (1, number))


def scale(candidate: Candidate, width_scale: float) -> Candidate:
    """The same candidate with every hidden layer width_scale as wide (at least one unit)."""
    widths = tuple(max(1, round(w * width_scale)) for w in candidate.widths)
    return candidate.model_copy(update={"widths": widths})


def proxy_seed(job_seed: int, number: int) -> int:
    """Proxy `number`'s seed, spawned from the job's apart from the trials' seeds."""
    return int(
        np.random.SeedSequence(job_seed, spawn_key=(PROXY_STREAM, number)).generate_state(1)[0]
    )


def train_proxy(
    candidate: Candidate, *, width_scale: float, epochs: int, seed: int, problem: Problem
) -> ProxyResult:
    """Train the scaled-down candidate for `epochs`; a failure is a result, never raised."""
    small = scale(candidate, width_scale)
    runner = TrialTrainer(TrialTask(-1, small, seed, epochs), problem.data, problem.classification)
    result = runner.advance(epochs)
    curve = tuple(float("nan") if x.val_metric is None else x.val_metric for x in result.logs)
    finite = [v for v in curve if math.isfinite(v)]
    ok = result.status == "running" and len(finite) == len(curve) and bool(finite)
    n_small = small.n_params(problem.n_features, problem.n_outputs)
    n_full = candidate.n_params(problem.n_features, problem.n_outputs)
    cost = len(curve) * n_small / max(n_full, 1)
    return ProxyResult(finite[-1] if ok else None, curve, n_small, n_full, cost)


class PoolScreen:
    """The driver's side of screening: train a pool's proxies, record them in the store,
    and charge their cost to the job's epoch budget (`spend`)."""

    def __init__(
        self,
        spec: ProxySpec,
        problem: Problem,
        store: db.Store,
        job_id: int,
        job_seed: int,
        spend: Callable[[float], None],
    ) -> None:
        self.spec, self.problem, self.store, self.job_id = spec, problem, store, job_id
        self.job_seed, self.spend = job_seed, spend
        with store.session() as s:
            self.next_number = db.count_proxies(s, job_id)  # a resumed job goes on counting

    def __call__(self, pool: Sequence[Candidate]) -> list[ProxyResult]:
        results = []
        for i, candidate in enumerate(pool):
            seed = proxy_seed(self.job_seed, self.next_number + i)
            results.append(
                train_proxy(
                    candidate,
                    width_scale=self.spec.width_scale,
                    epochs=self.spec.epochs,
                    seed=seed,
                    problem=self.problem,
                )
            )
            self.spend(results[-1].cost)
        return results

    def record(
        self, pool: Sequence[Candidate], results: Sequence[ProxyResult], kept: set[int]
    ) -> None:
        rows = [
            {
                "params": c.model_dump(mode="json"),
                "width_scale": self.spec.width_scale,
                "epochs": len(r.curve),
                "n_params": r.n_params,
                "val_metric": r.value,
                "cost": r.cost,
                "kept": i in kept,
            }
            for i, (c, r) in enumerate(zip(pool, results))
        ]
        with self.store.session() as s:
            db.record_proxies(s, self.job_id, rows)
        self.next_number += len(rows)
