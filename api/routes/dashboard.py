"""The dashboard: one static page at / and its ES modules under /dashboard/, shipped inside
the package (uPlot vendored), so it works with no internet. The page carries no data: it
reads everything from /api/v1 with the user's token, so it needs no token itself."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent.parent / "dashboard"
# Only this origin's scripts and endpoints; uPlot sets element styles, hence inline styles.
POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    headers = {"Content-Security-Policy": POLICY, "Cache-Control": "no-cache"}
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=headers)


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/dashboard", StaticFiles(directory=STATIC), name="dashboard")
