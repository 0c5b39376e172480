"""The read cache over real HTTP: repeats are served from memory, and a store write shows
at the very next read; ETags give 304s; the token and 404s still hold."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import text

from api.readcache import _Entry, _Memory
from nas import store as db
from tests.api.util import Server
from tests.pg import fresh_schema_url


@pytest.fixture(params=["sqlite", "postgresql"])
def job_with_trials(
    request: pytest.FixtureRequest, serve: Callable[..., Server]
) -> Iterator[tuple[Server, db.Store, int, int]]:
    """A job with one trial, on each back end (PostgreSQL: each lookup must see the latest
    commit, which the cache's own autocommit connection is there for)."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    server = serve(runner=False, **({"database_url": url} if url else {}))
    store = db.open_store(server.settings.database_url)
    with store.session() as s:
        job = db.create_job(s, name="watched", spec={}).id
        trial = db.start_trial(s, job, params={"widths": [8]}).id
        db.record_epochs(s, trial, [db.EpochPoint(1, val_metric=0.5)])
    yield server, store, job, trial
    store.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_schema_url() as url:
        yield url


def _behind_the_stores_back(store: db.Store, sql: str) -> None:
    """A write that does not bump the job's version: only a cached answer can hide it."""
    with store.engine.begin() as connection:
        connection.execute(text(sql))


def test_a_repeat_comes_from_memory_until_the_store_writes(job_with_trials: tuple) -> None:
    server, store, job, trial = job_with_trials
    reads = [f"/jobs/{job}/trials", f"/jobs/{job}/leaderboard", f"/trials/{trial}/curve"]
    with httpx.Client(base_url=server.api) as client:
        first = {path: client.get(path) for path in reads}
        _behind_the_stores_back(store, "UPDATE nas_epochs SET val_metric = 0.25")
        _behind_the_stores_back(store, "UPDATE nas_trials SET number = 7")
        for path, response in first.items():
            again = client.get(path)
            assert again.content == response.content and again.headers["etag"]
        with store.session() as s:  # a real write: every read of the job is afresh
            db.record_epochs(s, trial, [db.EpochPoint(2, val_metric=0.75)])
        curve = client.get(f"/trials/{trial}/curve").json()
        assert [p["val_metric"] for p in curve["points"]] == [0.25, 0.75]
        assert client.get(f"/jobs/{job}/trials").json()["items"][0]["number"] == 7


def test_a_matching_etag_gets_304_until_the_job_changes(job_with_trials: tuple) -> None:
    server, store, job, trial = job_with_trials
    url = f"{server.api}/jobs/{job}/trials"
    tag = httpx.get(url).headers["etag"]
    unchanged = httpx.get(url, headers={"If-None-Match": tag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    other_page = httpx.get(url, params={"limit": 1}, headers={"If-None-Match": tag})
    assert other_page.status_code == 200  # a tag stands for one URL's answer
    with store.session() as s:
        db.end_trial(s, trial, status="finished")
    changed = httpx.get(url, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert changed.json()["items"][0]["status"] == "finished"


def test_the_token_and_404s_are_not_bypassed(serve: Callable[..., Server]) -> None:
    server = serve(runner=False, api_token="sesame")
    store = db.open_store(server.settings.database_url)
    with store.session() as s:
        job = db.create_job(s, name="secret", spec={}).id
    url = f"{server.api}/jobs/{job}/leaderboard"
    good = {"Authorization": "Bearer sesame"}
    assert httpx.get(url, headers=good).status_code == 200
    assert httpx.get(url, headers=good).status_code == 200  # now cached
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    with store.session() as s:
        assert db.delete_job(s, job)
    gone = httpx.get(url, headers=good)
    assert gone.status_code == 404 and gone.json()["errors"][0]["field"] == "job_id"
    store.close()


def test_bad_queries_are_still_refused(job_with_trials: tuple) -> None:
    server, _, job, _ = job_with_trials
    url = f"{server.api}/jobs/{job}/trials"
    assert httpx.get(url).status_code == 200
    r = httpx.get(url, params={"limit": 0})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "limit"


def test_off_when_given_no_memory(serve: Callable[..., Server]) -> None:
    server = serve(runner=False, read_cache_mb=0)
    store = db.open_store(server.settings.database_url)
    with store.session() as s:
        job = db.create_job(s, name="a", spec={}).id
    store.close()
    assert "etag" not in httpx.get(f"{server.api}/jobs/{job}/trials").headers


def test_a_scan_of_one_off_reads_does_not_push_out_the_polled_ones() -> None:
    memory = _Memory(max_bytes=64_000)  # probation 16 kB, protected 48 kB
    polled = [(f"/polled/{i}", b"") for i in range(10)]
    for key in polled:
        memory.put(key, _Entry(b'"t"', b"x" * 1000, b"application/json"))
        assert memory.get(key) is not None  # asked again: protected
    for i in range(1000):  # a scan: every key once, 1 MB in all
        memory.put((f"/scan/{i}", b""), _Entry(b'"t"', b"y" * 1000, b"application/json"))
    assert all(memory.get(key) is not None for key in polled)
    assert sum(memory.sizes) <= 64_000 and memory.get(("/scan/0", b"")) is None
    assert memory.get(("/scan/999", b"")) is not None  # the scan's newest, in probation
