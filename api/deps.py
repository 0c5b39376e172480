"""Dependencies as Annotated aliases, the FastAPI template's way: SessionDep, SettingsDep."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.config import Settings
from api.errors import ApiError, not_found
from api.reads import Reads
from nas import store as db

# The dependencies below are async on purpose: they never block (the database is reached
# only in threads), and a sync dependency costs a thread-pool hop on every request
# (measured: a third of a cheap read's time).


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> db.Store:
    store: db.Store = request.app.state.store
    return store


async def get_session(store: Annotated[db.Store, Depends(get_store)]) -> AsyncIterator[Session]:
    session = store.session()  # connects lazily, on first use in the (threaded) route
    try:
        yield session
    finally:
        await close_off_the_loop(session)


async def close_off_the_loop(session: Session) -> None:
    """Close a session without the event loop waiting on the database.

    A session that never connected, or one on SQLite (a library in this process: ending a
    read in WAL mode waits for nothing), closes at once, here. One on a server database
    ends its transaction (a rollback, a round trip) in a worker thread under a limiter of
    its own, as FastAPI exits its threaded dependencies: a close queued behind the routes'
    thread pool could wait for routes that are themselves waiting for a pooled connection,
    which under load is a deadlock.
    """
    if not session.in_transaction() or session.get_bind().dialect.name == "sqlite":
        session.close()
        return
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_reads(request: Request) -> Reads:
    reads: Reads = request.app.state.reads
    return reads


StoreDep = Annotated[db.Store, Depends(get_store)]
SessionDep = Annotated[Session, Depends(get_session)]
ReadsDep = Annotated[Reads, Depends(get_reads)]

_bearer = HTTPBearer(auto_error=False, description="NAS_API_TOKEN, when the server sets one")


async def require_token(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """With NAS_API_TOKEN set, every route but /health needs `Authorization: Bearer <it>`."""
    expected = settings.token
    if expected is None:
        return
    given = credentials.credentials if credentials else ""
    if not secrets.compare_digest(given.encode(), expected.encode()):
        raise _unauthorized()


def _unauthorized() -> ApiError:
    message = "missing or wrong bearer token (Authorization: Bearer <NAS_API_TOKEN>)"
    return ApiError(401, message, "Authorization", "header", {"WWW-Authenticate": "Bearer"})


MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
JobId = Annotated[int, Path(ge=1, le=MAX_ID, description="a job's id")]
TrialId = Annotated[int, Path(ge=1, le=MAX_ID, description="a trial's id")]
DatasetId = Annotated[int, Path(ge=1, le=MAX_ID, description="a data set's id")]


def job_or_404(session: Session, job_id: int) -> db.Job:
    job = db.get_job(session, job_id)
    if job is None:
        raise not_found("job", job_id, "job_id")
    return job


def require_job(session: Session, job_id: int) -> None:
    """404 unless the job exists; for reads that need its id, not its row."""
    if not db.job_exists(session, job_id):
        raise not_found("job", job_id, "job_id")


def trial_or_404(session: Session, trial_id: int) -> db.Trial:
    trial = db.get_trial(session, trial_id)
    if trial is None:
        raise not_found("trial", trial_id, "trial_id")
    return trial
