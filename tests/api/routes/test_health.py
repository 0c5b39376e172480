"""GET /health: the database answers; no token needed."""

from __future__ import annotations

import httpx


def test_health_reports_the_database_and_executor(client: httpx.Client) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "executor": "local", "ray": None}


def test_openapi_and_docs_are_served(client: httpx.Client, server) -> None:  # type: ignore[no-untyped-def]
    schema = httpx.get(server.url + "/openapi.json").json()
    assert "/api/v1/jobs" in schema["paths"] and "/api/v1/jobs/{job_id}/predict" in schema["paths"]
    assert httpx.get(server.url + "/docs").status_code == 200
