"""GET /health: is the database reachable (and Ray, when this process's runner trains
there)? No token needed."""

from __future__ import annotations

import anyio
import anyio.to_thread
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.config import Settings
from api.deps import SettingsDep, StoreDep
from api.job_runner import ray_status
from api.schemas import Health
from nas import store as db

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(store: StoreDep, settings: SettingsDep) -> Health | JSONResponse:
    # The probes run in a thread of their own, not the routes' pool: health answers even
    # while every route thread waits on the database.
    one = anyio.CapacityLimiter(1)
    database, ray = await anyio.to_thread.run_sync(_probe, store, settings, limiter=one)
    ok = database == "ok" and ray in (None, "ok")
    body = Health(status="ok" if ok else "degraded", database=database, executor=settings.executor)
    body.ray = ray
    if ok:
        return body
    return JSONResponse(body.model_dump(), status_code=503)


def _probe(store: db.Store, settings: Settings) -> tuple[str, str | None]:
    """The database's state, and Ray's when this process's runner trains there."""
    try:
        with store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # reported, not raised: health answers while the db is down
        database = f"unreachable: {type(exc).__name__}"
    ray = ray_status() if settings.runner and settings.executor == "ray" else None
    return database, ray
