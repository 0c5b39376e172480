"""Read-side questions the API and dashboard ask of a job: leaderboard, curves' summary,
Pareto front and parameter importance; and the finished curves of earlier jobs that a
learned curve prior (nas.stopping.prior) is built from.

Each is one or two indexed queries plus a little NumPy, so the answers stay fast past tens
of thousands of trials. Metric direction is higher-is-better throughout.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from nas.status import STOPPED_TRIAL_STATUSES, TrialStatus
from nas.store.models import TRIAL_STATUSES, Epoch, Job, Trial

STOPPED_STATUSES = STOPPED_TRIAL_STATUSES
MAX_BINS = 8


@dataclass(frozen=True)
class JobSummary:
    """A job at a glance: trial counts and the epochs that early stopping saved."""

    job_id: int
    status: str
    trials_by_status: dict[str, int] = field(default_factory=dict)
    n_trials: int = 0
    epochs_spent: int = 0
    epochs_saved: int = 0
    max_epochs: int | None = None
    best_val_metric: float | None = None


_LEADERBOARD = (
    select(Trial)
    .where(
        Trial.job_id == bindparam("job_id"),
        Trial.status == bindparam("status"),
        Trial.val_metric.is_not(None),
    )
    .order_by(Trial.val_metric.desc(), Trial.number)
    .limit(bindparam("k"))
)  # built once: a dashboard asks this on every poll


def leaderboard(
    session: Session, job_id: int, *, k: int = 10, status: str = "finished"
) -> list[Trial]:
    """The top `k` trials of a job by validation metric, best first (ties: lower number)."""
    return list(session.scalars(_LEADERBOARD, {"job_id": job_id, "status": status, "k": k}))


def pareto_front(session: Session, job_id: int) -> list[Trial]:
    """Finished trials that no other beats on both val_metric (higher) and n_params (lower).

    Sorted by size, a trial is on the front exactly when it scores better than every
    smaller one: one pass after one sorted, narrow query. Returned smallest first.
    """
    query = (
        select(Trial.id, Trial.val_metric)
        .where(
            Trial.job_id == job_id,
            Trial.status == "finished",
            Trial.val_metric.is_not(None),
            Trial.n_params.is_not(None),
        )
        .order_by(Trial.n_params, Trial.val_metric.desc(), Trial.number)
    )
    front: list[int] = []
    best = -np.inf
    for trial_id, val_metric in session.execute(query):
        if val_metric is not None and val_metric > best:
            front.append(trial_id)
            best = val_metric
    if not front:
        return []
    trials = session.scalars(select(Trial).where(Trial.id.in_(front)))
    return sorted(trials, key=lambda t: (t.n_params or 0, -(t.val_metric or 0.0)))


def _groups(values: list[Any]) -> np.ndarray:
    """Group labels for one parameter: quantile bins if numeric and varied, else categories."""
    numeric = [isinstance(v, int | float) and not isinstance(v, bool) for v in values]
    if all(numeric) and len(set(values)) > MAX_BINS:
        x = np.asarray(values, dtype=np.float64)
        edges = np.quantile(x, np.linspace(0, 1, MAX_BINS + 1)[1:-1])
        return np.searchsorted(edges, x, side="right")
    keys = [json.dumps(v, sort_keys=True) for v in values]
    _, labels = np.unique(np.asarray(keys), return_inverse=True)
    return labels


def eta_squared(groups: np.ndarray, y: np.ndarray) -> float:
    """Fraction of the variance of `y` explained by the grouping (one-way ANOVA)."""
    total = float(np.sum((y - y.mean()) ** 2))
    if total == 0.0:
        return 0.0
    counts = np.bincount(groups)
    sums = np.bincount(groups, weights=y)
    present = counts > 0
    between = float(np.sum(sums[present] ** 2 / counts[present]) - y.size * y.mean() ** 2)
    return min(max(between / total, 0.0), 1.0)


def param_importance(session: Session, job_id: int) -> dict[str, float]:
    """How much each search parameter explains val_metric across finished trials.

    Eta-squared per parameter (numeric ones binned by quantiles), normalized to sum to 1:
    cheap and honest about what it is, a marginal, one-parameter-at-a-time view. With
    fewer than two finished trials, or no spread in val_metric, every value is 0.
    """
    query = select(Trial.params, Trial.val_metric).where(
        Trial.job_id == job_id, Trial.status == "finished", Trial.val_metric.is_not(None)
    )
    rows = session.execute(query).all()
    names = sorted({name for params, _ in rows for name in params})
    if len(rows) < 2:
        return dict.fromkeys(names, 0.0)
    y = np.asarray([metric for _, metric in rows], dtype=np.float64)
    raw = {name: eta_squared(_groups([p.get(name) for p, _ in rows]), y) for name in names}
    total = sum(raw.values())
    return {name: (value / total if total > 0 else 0.0) for name, value in raw.items()}


def job_summary(session: Session, job_id: int, *, max_epochs: int | None = None) -> JobSummary:
    """Trials by status, epochs spent, and epochs saved by stopping trials early.

    Saved epochs are what pruned and diverged trials did not run of the full budget:
    `max_epochs`, else the job spec's space.max_epochs, else the most epochs a finished
    trial ran (a finished trial ran the whole budget).
    """
    job = session.get(Job, job_id)
    if job is None:
        raise KeyError(f"no job with id {job_id}")
    query = (
        select(
            Trial.status,
            func.count(),
            func.coalesce(func.sum(Trial.epochs_run), 0),
            func.max(Trial.epochs_run),
            func.max(Trial.val_metric),
        )
        .where(Trial.job_id == job_id)
        .group_by(Trial.status)
    )
    rows = session.execute(query).all()
    by_status: dict[str, int] = dict.fromkeys(TRIAL_STATUSES, 0)
    spent = {status: int(total) for status, _, total, _, _ in rows}
    most = {status: longest for status, _, _, longest, _ in rows}
    by_status |= {status: int(count) for status, count, *_ in rows}
    budget = max_epochs or (job.spec.get("space") or {}).get("max_epochs") or most.get("finished")
    stopped = sum(by_status[s] for s in STOPPED_STATUSES)
    saved = stopped * budget - sum(spent.get(s, 0) for s in STOPPED_STATUSES) if budget else 0
    finished_best = [best for status, *_, best in rows if status == "finished" and best is not None]
    return JobSummary(
        job_id=job_id,
        status=job.status,
        trials_by_status=by_status,
        n_trials=sum(by_status.values()),
        epochs_spent=sum(spent.values()),
        epochs_saved=max(int(saved), 0),
        max_epochs=int(budget) if budget else None,
        best_val_metric=finished_best[0] if finished_best else None,
    )


def finished_curves(
    session: Session,
    *,
    dataset: Mapping[str, Any],
    exclude_job: int | None = None,
    limit: int = 1000,
) -> list[list[float]]:
    """Validation-metric curves of the newest `limit` finished trials (each its full epoch
    budget) of other jobs on the same data set (their spec's `dataset` equals `dataset`),
    oldest first. Curves with a missing value or trained on part of the rows (data-fraction
    fidelity) are left out: a prior learns what full training does."""
    jobs = session.execute(select(Job.id, Job.spec).where(Job.id != (exclude_job or -1))).all()
    wanted = dict(dataset)
    ids = [job_id for job_id, spec in jobs if (spec or {}).get("dataset") == wanted]
    if not ids:
        return []
    newest = (
        select(Trial.id)
        .where(Trial.job_id.in_(ids), Trial.status == TrialStatus.FINISHED)
        .order_by(Trial.id.desc())
        .limit(limit)
    )
    trial_ids = sorted(session.scalars(newest))
    points = session.execute(
        select(Epoch.trial_id, Epoch.val_metric, Epoch.data_fraction)
        .where(Epoch.trial_id.in_(trial_ids))
        .order_by(Epoch.trial_id, Epoch.epoch)
    )
    curves: dict[int, list[float | None]] = {t: [] for t in trial_ids}
    partial: set[int] = set()
    for trial_id, value, fraction in points:
        curves[trial_id].append(value)
        if fraction < 1.0:
            partial.add(trial_id)
    return [
        [float(v) for v in values if v is not None]
        for t, values in curves.items()
        if values and t not in partial and None not in values
    ]
