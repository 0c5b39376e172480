"""What a client gets when the server, not the request, is at fault."""

from __future__ import annotations

import psycopg
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from api.errors import install
from nas import store as db


def _app(error: Exception) -> TestClient:
    app = FastAPI()
    install(app)

    @app.get("/boom")
    def boom() -> None:
        raise error

    return TestClient(app, raise_server_exceptions=False)


def test_a_database_cut_under_a_read_is_503_with_retry_after_not_500() -> None:
    # what pg_terminate_backend does to a statement in flight (seen in benchmarks/chaos.py)
    cut = OperationalError(
        "SELECT 1",
        {},
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        connection_invalidated=True,
    )
    for error in (cut, db.StoreUnavailable("cannot reach postgresql://...")):
        r = _app(error).get("/boom")
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert r.json()["message"] == "the database is unavailable; retry shortly"
        assert "postgresql" not in r.text and "SELECT" not in r.text  # nothing of the server


def test_any_other_fault_is_500_saying_nothing_of_the_server() -> None:
    r = _app(RuntimeError("secret /srv/path")).get("/boom")
    assert r.status_code == 500 and "secret" not in r.text
