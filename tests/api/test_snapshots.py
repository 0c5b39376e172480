"""A settled job's trials pages from memory equal SQL's, in every order, filter and offset."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from api.routes.trials import _PAGE, TrialOrder
from api.snapshots import ORDER_KEYS, SettledPages
from nas import store as db
from nas.status import TrialStatus
from nas.store import versions
from nas.store.trials import TRIAL_ORDERS


def _settled_job(store: db.Store, n: int = 40) -> int:
    """Trials with ties, NULL metrics and sizes, and every end status."""
    rng = random.Random(0)
    with store.session() as s:
        job = db.create_job(s, name="settled", spec={}).id
        db.claim_job(s, runner="r", job_id=job)
        for _ in range(n):
            size = rng.choice([None, 100, 200, 300])
            trial = db.start_trial(s, job, params={}, n_params=size).id
            epochs = rng.randint(0, 3)
            points = [
                db.EpochPoint(e, val_metric=rng.choice([0.5, 0.75, 0.9]))
                for e in range(1, epochs + 1)
            ]
            db.record_epochs(s, trial, points)
            status = rng.choice(["finished", "pruned", "failed", "diverged"])
            db.end_trial(s, trial, status=status)
        db.finish_job(s, job, runner="r")
    return job


def test_orders_match_the_store() -> None:
    assert set(ORDER_KEYS) == set(TRIAL_ORDERS) == set(TrialOrder.__args__)


def test_every_page_equals_sqls(tmp_path: Path) -> None:
    store = db.open_store(f"sqlite:///{tmp_path}/nas.db")
    job = _settled_job(store)
    pages = SettledPages()
    statuses: list[str | None] = [None, *TrialStatus]
    with store.session() as s:
        stamp = versions.job_stamp(s.connection(), job)
        assert stamp is not None and stamp[3] == "finished"
        for order in ORDER_KEYS:
            for status in statuses:
                for offset, limit in [(0, 50), (0, 7), (13, 5), (39, 10), (60, 5)]:
                    mine = pages.page(
                        s, stamp, status=status, order=order, offset=offset, limit=limit
                    )
                    total, items = db.page_trials(
                        s, job, status=status, order=order, offset=offset, limit=limit
                    )
                    sql = {"items": items, "total": total, "offset": offset, "limit": limit}
                    assert mine is not None
                    expected = json.loads(_PAGE.dump_json(_PAGE.validate_python(sql)))
                    assert json.loads(mine) == expected, (order, status, offset)
    store.close()


@pytest.mark.parametrize("status", ["queued", "running"])
def test_a_job_that_can_still_change_reads_from_sql(tmp_path: Path, status: str) -> None:
    store = db.open_store(f"sqlite:///{tmp_path}/nas.db")
    with store.session() as s:
        job = db.create_job(s, name="live", spec={}).id
        if status == "running":
            db.claim_job(s, runner="r", job_id=job)
        stamp = versions.job_stamp(s.connection(), job)
        assert stamp is not None
        assert SettledPages().page(s, stamp, status=None, order="number", offset=0, limit=5) is None
    store.close()


def test_a_new_stamp_rebuilds(tmp_path: Path) -> None:
    store = db.open_store(f"sqlite:///{tmp_path}/nas.db")
    job = _settled_job(store, n=3)
    pages = SettledPages(max_jobs=1)
    with store.session() as s:
        stamp = versions.job_stamp(s.connection(), job)
        assert stamp is not None
        before = json.loads(
            pages.page(s, stamp, status=None, order="number", offset=0, limit=9) or b""
        )
        trial = db.start_trial(s, job, params={}).id  # e.g. a late write of a cancelled job
        db.end_trial(s, trial, status="finished")
        later = versions.job_stamp(s.connection(), job)
        assert later is not None and later != stamp
        after = json.loads(
            pages.page(s, later, status=None, order="number", offset=0, limit=9) or b""
        )
    assert (before["total"], after["total"]) == (3, 4)
    store.close()
