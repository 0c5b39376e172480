"""Read-side queries: leaderboard, Pareto front, parameter importance, job summary."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from nas.store import (
    EpochPoint,
    Store,
    create_job,
    end_trial,
    finished_curves,
    job_summary,
    leaderboard,
    page_trials,
    param_importance,
    pareto_front,
    record_epochs,
    start_trial,
)
from nas.store.queries import eta_squared


def _trial(
    session: Session,
    job_id: int,
    *,
    val: float | None,
    n_params: int = 100,
    status: str = "finished",
    epochs: int = 3,
    params: dict[str, object] | None = None,
) -> int:
    trial = start_trial(session, job_id, params=params or {}, n_params=n_params)
    record_epochs(session, trial.id, [EpochPoint(e, val_metric=val) for e in range(1, epochs + 1)])
    test = None if val is None else val - 0.01
    end_trial(session, trial.id, status=status, val_metric=val, test_metric=test)
    return trial.number


def test_leaderboard_is_best_first_and_skips_unfinished(session: Session) -> None:
    job = create_job(session, name="a", spec={})
    other = create_job(session, name="b", spec={})
    for val in (0.5, 0.9, 0.7, 0.9):
        _trial(session, job.id, val=val)
    _trial(session, job.id, val=0.99, status="pruned")
    _trial(session, job.id, val=None, status="failed")
    _trial(session, other.id, val=1.0)
    start_trial(session, job.id, params={})
    top = leaderboard(session, job.id, k=3)
    assert [(t.number, t.val_metric) for t in top] == [(1, 0.9), (3, 0.9), (2, 0.7)]
    assert top[0].test_metric == pytest.approx(0.89)
    assert [t.number for t in leaderboard(session, job.id, status="pruned")] == [4]


def test_pareto_front_maximizes_metric_and_minimizes_size(session: Session) -> None:
    job = create_job(session, name="a", spec={})
    points = [(0.6, 100), (0.8, 100), (0.7, 200), (0.9, 400), (0.85, 300), (0.9, 500), (0.95, 50)]
    for val, size in points:
        _trial(session, job.id, val=val, n_params=size)
    _trial(session, job.id, val=0.99, n_params=10, status="pruned")
    front = pareto_front(session, job.id)
    assert [(t.val_metric, t.n_params) for t in front] == [(0.95, 50)]
    job2 = create_job(session, name="b", spec={})
    for val, size in points[:6]:
        _trial(session, job2.id, val=val, n_params=size)
    front = pareto_front(session, job2.id)
    assert [(t.val_metric, t.n_params) for t in front] == [(0.8, 100), (0.85, 300), (0.9, 400)]
    assert pareto_front(session, create_job(session, name="c", spec={}).id) == []


def test_eta_squared_matches_the_anova_definition() -> None:
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 4, size=200)
    y = groups * 0.5 + rng.normal(size=200)
    means = np.array([y[groups == g].mean() for g in range(4)])
    counts = np.bincount(groups)
    expected = np.sum(counts * (means - y.mean()) ** 2) / np.sum((y - y.mean()) ** 2)
    assert eta_squared(groups, y) == pytest.approx(expected)
    assert eta_squared(groups, np.ones(200)) == 0.0


def test_importance_finds_the_parameter_that_matters(session: Session) -> None:
    job = create_job(session, name="a", spec={})
    rng = np.random.default_rng(1)
    for _ in range(60):
        depth = int(rng.integers(1, 4))
        lr = float(10 ** rng.uniform(-4, -1))
        act = str(rng.choice(["relu", "tanh"]))
        widths = [int(rng.choice([32, 64]))]
        val = 0.3 * depth + 0.01 * rng.normal()
        params = {"depth": depth, "lr": lr, "activation": act, "widths": widths}
        _trial(session, job.id, val=val, params=params, epochs=1)
    importance = param_importance(session, job.id)
    assert set(importance) == {"depth", "lr", "activation", "widths"}
    assert sum(importance.values()) == pytest.approx(1.0)
    assert max(importance, key=importance.__getitem__) == "depth"
    assert importance["depth"] > 0.8
    empty = create_job(session, name="b", spec={})
    assert param_importance(session, empty.id) == {}


def test_summary_counts_trials_and_epochs_saved(session: Session) -> None:
    job = create_job(session, name="a", spec={"space": {"max_epochs": 12}})
    _trial(session, job.id, val=0.8, epochs=10)
    _trial(session, job.id, val=0.9, epochs=10)
    _trial(session, job.id, val=0.5, epochs=3, status="pruned")
    _trial(session, job.id, val=0.4, epochs=1, status="diverged")
    _trial(session, job.id, val=None, epochs=2, status="failed")
    start_trial(session, job.id, params={})
    summary = job_summary(session, job.id)
    assert summary.trials_by_status == {
        "running": 1,
        "finished": 2,
        "pruned": 1,
        "diverged": 1,
        "failed": 1,
    }
    assert summary.n_trials == 6
    assert summary.epochs_spent == 10 + 10 + 3 + 1 + 2
    assert summary.epochs_saved == (12 - 3) + (12 - 1)  # the spec's space.max_epochs
    assert summary.best_val_metric == 0.9 and summary.status == "queued"
    assert job_summary(session, job.id, max_epochs=20).epochs_saved == 17 + 19
    no_budget = create_job(session, name="b", spec={})
    _trial(session, no_budget.id, val=0.8, epochs=6)
    _trial(session, no_budget.id, val=0.5, epochs=2, status="pruned")
    assert job_summary(session, no_budget.id).epochs_saved == 4
    with pytest.raises(KeyError):
        job_summary(session, 10_000)


def test_pages_and_leaderboards_are_read_in_index_order_on_sqlite(
    session: Session, store: Store
) -> None:
    """No per-request sort of the whole job: the dashboard's reads walk an index."""
    if store.dialect != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans by table statistics")
    job = create_job(session, name="plans", spec={})
    for i in range(30):
        _trial(session, job.id, val=None if i % 7 == 0 else round(i % 5 / 10, 1), epochs=1)
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, params, context, many) -> None:  # type: ignore[no-untyped-def]
        statements.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        total, page = page_trials(session, job.id, order="-val_metric", offset=10, limit=5)
        board = leaderboard(session, job.id, k=5)
        filtered = page_trials(session, job.id, status="finished", order="-val_metric")
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    rows = [(t.val_metric, t.number) for t in filtered[1]]
    scored = sorted((r for r in rows if r[0] is not None), key=lambda r: (-r[0], r[1]))
    assert rows == scored + [r for r in rows if r[0] is None]  # ties by number, NULLs last
    assert [(t.val_metric, t.number) for t in board] == scored[:5]
    assert total == 30 and [(t.val_metric, t.number) for t in page] == rows[10:15]
    raw = session.connection().connection.driver_connection
    plans = [
        " ".join(str(row) for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        for sql, params in statements
        if "ORDER BY" in sql
    ]
    assert len(plans) == 3
    assert not [p for p in plans if "TEMP B-TREE" in p], plans


def test_finished_curves_are_other_jobs_full_curves_on_the_same_data_set(session: Session) -> None:
    digits, wine = {"name": "digits"}, {"name": "wine"}
    earlier = create_job(session, name="a", spec={"dataset": digits})
    other_data = create_job(session, name="b", spec={"dataset": wine})
    current = create_job(session, name="c", spec={"dataset": digits})

    def trial(
        job_id: int, values: list[float | None], status: str = "finished", part: float = 1.0
    ) -> None:
        t = start_trial(session, job_id, params={})
        points = [
            EpochPoint(e, val_metric=v, data_fraction=part) for e, v in enumerate(values, start=1)
        ]
        record_epochs(session, t.id, points)
        end_trial(session, t.id, status=status)

    trial(earlier.id, [0.5, 0.6, 0.7])
    trial(earlier.id, [0.2, 0.3, 0.4])
    trial(earlier.id, [0.1, 0.2], status="pruned")  # not its full budget
    trial(earlier.id, [0.3, None, 0.5])  # a missing value
    trial(earlier.id, [0.3, 0.4, 0.5], part=0.5)  # trained on half the rows
    trial(other_data.id, [0.9, 0.9, 0.9])  # another data set
    trial(current.id, [0.8, 0.8, 0.8])  # the asking job's own
    curves = finished_curves(session, dataset=digits, exclude_job=current.id)
    assert curves == [[0.5, 0.6, 0.7], [0.2, 0.3, 0.4]]
    # the newest three finished trials, of which two are left out
    assert finished_curves(session, dataset=digits, exclude_job=current.id, limit=3) == [
        [0.2, 0.3, 0.4]
    ]
    assert finished_curves(session, dataset={"name": "iris"}) == []
