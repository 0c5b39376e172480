"""Trials pages of a settled job, served from memory.

A finished, failed or cancelled job no longer changes, yet its trials table is what users
page through and sort, at any offset. SQL answers each page with an OFFSET walk and a
COUNT over the job's trials (1.5 ms at 10,000 trials on SQLite, more than the rest of the
request); here a settled job's trials are rendered once per API process, and every page
after that, in any order and at any offset, is a slice. Running jobs keep reading from
SQL: their trials change with every epoch. The snapshot is keyed by the job's stamp
(nas.store.versions), so a job that is requeued, or deleted and its id reused, is read
afresh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.schemas import TrialOut
from nas import store as db
from nas.status import FINAL_JOB_STATUSES
from nas.store import versions


class _Row(NamedTuple):
    """What ordering and filtering need of a trial."""

    id: int
    number: int
    status: str
    val_metric: float | None
    n_params: int | None
    epochs_run: int


def _ascending_nulls_last(column: str) -> Callable[[_Row], tuple[Any, ...]]:
    return lambda t: (getattr(t, column) is None, getattr(t, column) or 0, t.number)


def _descending_nulls_last(column: str) -> Callable[[_Row], tuple[Any, ...]]:
    return lambda t: (getattr(t, column) is None, -(getattr(t, column) or 0), t.number)


# The store's TRIAL_ORDERS, as Python sort keys (ties by number, NULLs last).
ORDER_KEYS: dict[str, Callable[[_Row], tuple[Any, ...]]] = {
    "number": lambda t: (t.number,),
    "-number": lambda t: (-t.number,),
    "val_metric": _ascending_nulls_last("val_metric"),
    "-val_metric": _descending_nulls_last("val_metric"),
    "n_params": _ascending_nulls_last("n_params"),
    "-n_params": _descending_nulls_last("n_params"),
    "epochs_run": lambda t: (t.epochs_run, t.number),
    "-epochs_run": lambda t: (-t.epochs_run, t.number),
}


@dataclass
class _Snapshot:
    stamp: versions.Stamp
    trials: list[_Row]
    rendered: dict[int, bytes]
    orders: dict[tuple[str, str | None], list[int]] = field(default_factory=dict)

    def order(self, order: str, status: str | None) -> list[int]:
        """Trial ids of one status (None: all) in `order`; sorted on first use (two
        threads may sort the same order at once: each stores the same list)."""
        key = (order, status)
        if key not in self.orders:
            chosen = [t for t in self.trials if status is None or t.status == status]
            self.orders[key] = [t.id for t in sorted(chosen, key=ORDER_KEYS[order])]
        return self.orders[key]


class SettledPages:
    """Per-process snapshots of the most recently read settled jobs (at most max_jobs).

    A page of a built snapshot is a slice, taken on the event loop; a snapshot is built in
    a worker thread (for 10,000 trials it takes a while). The table of snapshots changes
    under a lock, and a snapshot is built outside it (two threads may build the same one;
    the later replaces the earlier, and both serve the same pages).
    """

    def __init__(self, max_jobs: int = 8) -> None:
        self.max_jobs = max_jobs
        self.jobs: OrderedDict[int, _Snapshot] = OrderedDict()
        self._lock = threading.Lock()

    def page(
        self,
        session: Session,
        stamp: versions.Stamp,
        *,
        status: str | None,
        order: str,
        offset: int,
        limit: int,
    ) -> bytes | None:
        """The page as the API's Page[TrialOut] JSON, or None when the job still runs.
        Builds the job's snapshot first when this process has none for its stamp."""
        job_id, _, _, job_status = stamp
        if job_status not in FINAL_JOB_STATUSES:  # a late write moves the stamp
            return None
        with self._lock:
            snapshot = self.jobs.get(job_id)
        if snapshot is None or snapshot.stamp != stamp:
            snapshot = self._build(session, stamp)
            with self._lock:
                self.jobs[job_id] = snapshot
                while len(self.jobs) > self.max_jobs:
                    self.jobs.popitem(last=False)
        return _slice(snapshot, status, order, offset, limit)

    def slice(
        self, stamp: versions.Stamp, *, status: str | None, order: str, offset: int, limit: int
    ) -> bytes | None:
        """The page from the snapshot already built for this stamp; None when there is none
        (no read, no build: cheap enough for the event loop)."""
        with self._lock:
            snapshot = self.jobs.get(stamp[0])
            if snapshot is None or snapshot.stamp != stamp:
                return None
            self.jobs.move_to_end(stamp[0])
        return _slice(snapshot, status, order, offset, limit)

    def _build(self, session: Session, stamp: versions.Stamp) -> _Snapshot:
        query = select(db.Trial).where(db.Trial.job_id == stamp[0])
        trials = list(session.scalars(query.execution_options(populate_existing=True)))
        rendered = {t.id: TrialOut.model_validate(t).model_dump_json().encode() for t in trials}
        rows = [
            _Row(t.id, t.number, t.status, t.val_metric, t.n_params, t.epochs_run) for t in trials
        ]
        return _Snapshot(stamp, rows, rendered)


def _slice(snapshot: _Snapshot, status: str | None, order: str, offset: int, limit: int) -> bytes:
    ids = snapshot.order(order, status)
    items = b",".join(snapshot.rendered[i] for i in ids[offset : offset + limit])
    tail = f'],"total":{len(ids)},"offset":{offset},"limit":{limit}}}'.encode()
    return b'{"items":[' + items + tail
