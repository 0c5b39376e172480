"""The event loop never waits on the database: while one job's read is held up inside
PostgreSQL (a lock it waits for), /health and every other job's reads still answer.

The held read is real: job A's version lookup first takes a shared advisory lock that
this test holds exclusively, so its statement sits in PostgreSQL, waiting, until the
test lets go. Had that wait been on the event loop, nothing else would be answered.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import Connection, text

from nas import store as db
from nas.store import versions
from tests.api.util import Server
from tests.pg import fresh_schema_url


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_schema_url() as url:
        yield url


def _job(store: db.Store, name: str) -> tuple[int, int]:
    with store.session() as s:
        job = db.create_job(s, name=name, spec={"space": {"max_epochs": 3}}).id
        trial = db.start_trial(s, job, params={"widths": [8]}).id
        db.record_epochs(s, trial, [db.EpochPoint(1, val_metric=0.5)])
        db.end_trial(s, trial, status="finished", val_metric=0.5)
    return job, trial


def _held_for(job_id: int, key: int, lookup: Callable) -> Callable:
    """`lookup`, made to wait for advisory lock `key` first when it reads job `job_id`."""

    def held(connection: Connection, wanted: int) -> versions.Stamp | None:
        if wanted == job_id:
            connection.execute(text("SELECT pg_advisory_lock_shared(:k)"), {"k": key})
            connection.execute(text("SELECT pg_advisory_unlock_shared(:k)"), {"k": key})
        return lookup(connection, wanted)

    return held


def _waiting_on(store: db.Store, key: int) -> int:
    """Sessions waiting in PostgreSQL for the advisory lock `key` (not yet granted)."""
    query = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND objid = :k AND database = (SELECT oid FROM pg_database WHERE datname = "
        "current_database())"
    )
    with store.engine.connect() as connection:
        return int(connection.execute(query, {"k": key}).scalar_one())


@pytest.mark.parametrize("read_cache_mb", [64, 0], ids=["read cache", "no read cache"])
def test_a_read_held_in_the_database_stalls_nothing_else(
    serve: Callable[..., Server],
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    read_cache_mb: int,
) -> None:
    server = serve(runner=False, database_url=pg_url, read_cache_mb=read_cache_mb)
    store = db.open_store(pg_url)
    held_job, _ = _job(store, "held")
    other_job, other_trial = _job(store, "other")
    key = secrets.randbelow(2**31)
    # the read cache and the trials route both look the job's version up through this
    monkeypatch.setattr(versions, "job_stamp", _held_for(held_job, key, versions.job_stamp))
    holder = store.engine.connect()
    holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
    answers: dict[str, httpx.Response] = {}

    def read_held_job() -> None:
        with httpx.Client(base_url=server.api, timeout=60) as c:
            answers["held"] = c.get(f"/jobs/{held_job}/trials")

    reader = threading.Thread(target=read_held_job)
    reader.start()
    try:
        with httpx.Client(base_url=server.api, timeout=10) as client:
            for _ in range(200):  # until the held read is waiting inside PostgreSQL
                if _waiting_on(store, key):
                    break
                threading.Event().wait(0.05)
            assert _waiting_on(store, key) == 1
            for _ in range(2):  # a second time: a cached answer where the cache is on
                assert client.get("/health").json()["database"] == "ok"
                trials = client.get(f"/jobs/{other_job}/trials").json()
                assert [t["id"] for t in trials["items"]] == [other_trial]
                board = client.get(f"/jobs/{other_job}/leaderboard").json()
                assert [t["id"] for t in board] == [other_trial]
                points = client.get(f"/trials/{other_trial}/curve").json()["points"]
                assert [p["epoch"] for p in points] == [1]
                assert client.get(f"/jobs/{other_job}").json()["status"] == "queued"
            assert reader.is_alive() and "held" not in answers  # still held, all along
            assert _waiting_on(store, key) == 1
    finally:
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        holder.close()
        reader.join(timeout=30)
        store.close()
    assert answers["held"].status_code == 200
    assert answers["held"].json()["total"] == 1


def test_health_answers_while_every_route_thread_waits_on_the_database(
    serve: Callable[..., Server], pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One route thread (NAS_API_THREADS=1), and the held read in it: /health's probe runs
    in a thread of its own and still says the database answers."""
    server = serve(runner=False, database_url=pg_url, read_cache_mb=0, api_threads=1)
    store = db.open_store(pg_url)
    held_job, _ = _job(store, "held")
    key = secrets.randbelow(2**31)
    monkeypatch.setattr(versions, "job_stamp", _held_for(held_job, key, versions.job_stamp))
    holder = store.engine.connect()
    holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
    reader = threading.Thread(
        target=lambda: httpx.get(f"{server.api}/jobs/{held_job}/trials", timeout=60)
    )
    reader.start()
    try:
        for _ in range(200):
            if _waiting_on(store, key):
                break
            threading.Event().wait(0.05)
        assert _waiting_on(store, key) == 1
        health = httpx.get(f"{server.api}/health", timeout=10)
        assert health.status_code == 200 and health.json()["database"] == "ok"
        assert reader.is_alive()
    finally:
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        holder.close()
        reader.join(timeout=30)
        store.close()
