"""Store fixtures: every store test runs on SQLite and on the PostgreSQL server.

SQLite gets a fresh file per test; PostgreSQL a fresh schema per test (reached through
search_path in the URL), dropped afterwards, so parallel or repeated runs never collide.
PostgreSQL being down is a failure, not a skip: CI starts it (.ci/run).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from nas.store import Store, open_store
from tests.pg import fresh_schema_url

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """A URL to an empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/nas.db"
        return
    with fresh_schema_url() as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = open_store(db_url)
    yield opened
    opened.close()


@pytest.fixture
def session(store: Store) -> Iterator[Session]:
    with store.session() as s:
        yield s
