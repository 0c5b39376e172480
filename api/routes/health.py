"""GET /health: is the database reachable (and Ray, when this process's runner trains
there)? No token needed."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import SettingsDep, StoreDep
from api.job_runner import ray_status
from api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(store: StoreDep, settings: SettingsDep) -> Health | JSONResponse:
    try:
        with store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # reported, not raised: health answers while the db is down
        database = f"unreachable: {type(exc).__name__}"
    ray = None
    if settings.runner and settings.executor == "ray":
        ray = ray_status()
    ok = database == "ok" and ray in (None, "ok")
    body = Health(status="ok" if ok else "degraded", database=database, executor=settings.executor)
    body.ray = ray
    if ok:
        return body
    return JSONResponse(body.model_dump(), status_code=503)
