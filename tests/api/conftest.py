"""API fixtures: the real app served by uvicorn on a free loopback port, httpx as client.

`serve(**settings)` starts a server (in a thread of this process, SQLite in tmp_path,
local executor, fast runner polling) and stops it at teardown; `server` is a shared one
for the whole session, and `finished_job` a small iris search it ran to the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.config import Settings
from tests.api.util import Server, start_server, submit, tiny_spec, wait_job


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path = tmp_path_factory.mktemp("api") / "nas.db"
    with start_server(fast_settings(f"sqlite:///{path}")) as running:
        yield running


@pytest.fixture(scope="session")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.api, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def finished_job(client: httpx.Client) -> dict[str, Any]:
    job_id = submit(client, tiny_spec(trials=3))
    return wait_job(client, job_id)


def fast_settings(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "executor": "local",
        "runner_poll_seconds": 0.1,
        "runner_heartbeat_seconds": 0.5,
        "events_poll_seconds": 0.1,
    }
    return Settings(**(values | overrides))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start extra servers with other settings; each is stopped at teardown."""
    stack: list[Any] = []

    def start(**overrides: Any) -> Server:
        ctx = start_server(fast_settings(f"sqlite:///{tmp_path}/nas-{len(stack)}.db", **overrides))
        stack.append(ctx)
        return ctx.__enter__()

    yield start
    for ctx in reversed(stack):
        ctx.__exit__(None, None, None)
