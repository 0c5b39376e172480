"""Fixtures shared by the top-level tests, and the local Ray that executor tests share.

Ray is imported only by the tests that use it (through `local_ray` or workers/), but its
authentication mode is read once, at import, so it is set here, before anything can.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from nas import store as db

# Ray 2.59-2.60 give a `ray start` cluster token auth, but a driver that joins it by
# address sends the token only in token mode, and Ray reads the mode once, at import:
# so it is set before ray is imported (docs/cluster.md's recipe says the same).
os.environ.setdefault("RAY_AUTH_MODE", "token")
# `ray start` in token mode refuses to start without a token (it creates none), so a
# fresh machine's first cluster test gets one for this run, shared by nodes and driver.
if not (
    os.environ.get("RAY_AUTH_TOKEN")
    or os.environ.get("RAY_AUTH_TOKEN_PATH")
    or (Path.home() / ".ray" / "auth_token").exists()
):
    os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)


@pytest.fixture
def store(tmp_path) -> Iterator[db.Store]:
    """A fresh SQLite store for one test."""
    s = db.open_store(f"sqlite:///{tmp_path / 'nas.db'}")
    yield s
    s.close()


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """A private local Ray with 2 CPUs, no dashboard and a small object store, shared by
    the tests of one module (on 2 shared cores each start costs seconds). Executors find
    it connected and use it; NAS_RAY_ADDRESS is ignored meanwhile."""
    import ray

    assert not ray.is_initialized()
    with pytest.MonkeyPatch.context() as env:
        env.delenv("NAS_RAY_ADDRESS", raising=False)
        env.delenv("RAY_ADDRESS", raising=False)
        ray.init(
            address="local",
            num_cpus=2,
            include_dashboard=False,
            object_store_memory=96 * 2**20,
            log_to_driver=False,
            configure_logging=False,
        )
        yield
        ray.shutdown()
