"""The FastAPI app factory: routes under /api/v1, OpenAPI at /docs, the dashboard at /,
store and runner in the lifespan."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from api import errors
from api.config import Settings
from api.deps import require_token
from api.job_runner import executor_factory, make_runner, start_in_thread
from api.readcache import ReadCache
from api.reads import Reads
from api.routes import choices, dashboard, datasets, health, jobs, models, trials
from api.snapshots import SettledPages
from nas import store as db

PREFIX = "/api/v1"
log = logging.getLogger("api")


def create_app(settings: Settings | None = None, *, store: db.Store | None = None) -> FastAPI:
    """The app; with settings.runner, a job runner works beside it in a thread.

    Refuses to build (ExecutorUnavailable) when the configured executor cannot run here,
    so a misconfigured server fails at start-up, not at its first job.
    """
    settings = settings or Settings()
    if settings.runner:
        executor_factory(settings)  # fail fast: e.g. a Ray cluster that cannot be reached

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = store or db.open_store(settings.database_url)
        app.state.store = opened
        app.state.reads = Reads(opened)
        runner = None
        if settings.runner:
            runner = make_runner(settings, opened, role="serve")
            app.state.runner_thread = start_in_thread(runner)
            app.state.runner = runner
        # Everything alive now (modules, the app, the engine) lives as long as the process:
        # out of the collector's sight, its full passes walk only what requests create.
        # Measured under load: full passes of 100-130 ms, several per 10 s, down to 4-8 ms.
        gc.freeze()
        # The routes' worker threads. Starlette's 40 suit routes that mostly wait; ours
        # mostly render, and forty threads rendering at once take the GIL from the event
        # loop, which stretches the tail of every answer (see docs/service.md).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()
                app.state.runner_thread.join(timeout=30)
            await app.state.reads.close()
            if store is None:
                opened.close()

    body_limit = settings.max_upload_bytes + 64 * 1024  # the CSV plus its form fields
    app = FastAPI(
        title="nas-service",
        summary="Neural architecture search for tabular data: submit searches, read results.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.settled_pages = SettledPages()
    errors.install(app)
    # chunked bodies: counted as read, the 413 raised inside the app (so rendered as JSON)
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=body_limit)
    app.add_middleware(errors.ContentLengthLimit, max_body_size=body_limit)
    if settings.read_cache_mb:
        app.add_middleware(ReadCache, settings=settings)  # runs first
    api = APIRouter(prefix=PREFIX)
    api.include_router(health.router)
    secured = [Depends(require_token)]
    for module in (datasets, jobs, trials, models, choices):
        api.include_router(module.router, dependencies=secured)
    app.include_router(api)
    dashboard.install(app)
    return app


def app_from_env() -> FastAPI:
    """The app from NAS_* variables alone: what each process of `nas serve --workers N` runs.

    Those processes are API only (NAS_RUNNER=false, set by `nas serve`): the one runner
    works in the supervising process, so a job is never claimed twice by one server.
    """
    return create_app(Settings())
