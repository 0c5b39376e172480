"""Fixtures shared by the top-level tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nas import store as db


@pytest.fixture
def store(tmp_path) -> Iterator[db.Store]:
    """A fresh SQLite store for one test."""
    s = db.open_store(f"sqlite:///{tmp_path / 'nas.db'}")
    yield s
    s.close()
