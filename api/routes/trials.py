"""Trials: a job's trials paged and sorted, its leaderboard and Pareto front, one trial,
one trial's learning curve (poll with after_epoch), and all of a job's curves at once
after a cursor (what the dashboard polls)."""

from __future__ import annotations

from typing import Annotated, Literal

import anyio.to_thread
from fastapi import APIRouter, Query, Request, Response
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from api import cursor as cursors
from api.deps import (
    JobId,
    ReadsDep,
    SessionDep,
    TrialId,
    job_or_404,
    require_job,
    trial_or_404,
)
from api.errors import ApiError, not_found
from api.schemas import Curve, CurvePoint, CurvesUpdate, Page, TrialOut
from api.snapshots import SettledPages
from nas import store as db
from nas.status import FINAL_JOB_STATUSES, TrialStatus
from nas.store import versions

router = APIRouter(tags=["trials"])
_PAGE = TypeAdapter(Page[TrialOut])
_TRIALS = TypeAdapter(list[TrialOut])
# The hot reads (trials pages, leaderboard, curve) answer with rendered JSON, skipping a
# re-validation of what they just built (response_model still documents them in OpenAPI).
# They run on the event loop through api.reads, which awaits their SQL on PostgreSQL, and
# build a settled job's snapshot in a thread; the other routes are plain functions, run
# in the thread pool. Either way no request waits on the database on the event loop.
TrialOrder = Literal[
    "number", "-number", "val_metric", "-val_metric", "n_params", "-n_params", "epochs_run",
    "-epochs_run",
]  # fmt: skip


@router.get("/jobs/{job_id}/trials", response_model=Page[TrialOut])
async def list_trials(
    request: Request,
    reads: ReadsDep,
    job_id: JobId,
    status: TrialStatus | None = None,
    sort: TrialOrder = "number",
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """A page of the job's trials; sort by a column, a leading '-' for descending."""
    pages: SettledPages = request.app.state.settled_pages

    def read(session: Session) -> tuple[versions.Stamp, bytes | None]:
        stamp = versions.job_stamp(session.connection(), job_id)
        if stamp is None:
            raise not_found("job", job_id, "job_id")
        if stamp[3] in FINAL_JOB_STATUSES:  # settled: a slice of its snapshot
            return stamp, None
        total, items = db.page_trials(  # still running: from SQL
            session, job_id, status=status, order=sort, offset=offset, limit=limit
        )
        page = {"items": items, "total": total, "offset": offset, "limit": limit}
        return stamp, _PAGE.dump_json(_PAGE.validate_python(page))

    def build() -> bytes | None:  # long for a large job: in a thread
        with reads.store.session() as session:
            return pages.page(session, stamp, status=status, order=sort, offset=offset, limit=limit)

    stamp, body = await reads.run(read)
    if body is None:
        body = pages.slice(stamp, status=status, order=sort, offset=offset, limit=limit)
    if body is None:
        body = await anyio.to_thread.run_sync(build)
    if body is None:  # settled, then requeued meanwhile: the next read is from SQL
        raise ApiError(409, f"job {job_id} changed while read; read it again", "job_id")
    return Response(body, media_type="application/json")


@router.get("/jobs/{job_id}/leaderboard", response_model=list[TrialOut])
async def leaderboard(
    reads: ReadsDep, job_id: JobId, k: Annotated[int, Query(ge=1, le=1000)] = 10
) -> Response:
    """The k best finished trials by validation metric (higher is better), best first."""

    def read(session: Session) -> bytes:
        require_job(session, job_id)
        return _TRIALS.dump_json(_TRIALS.validate_python(db.leaderboard(session, job_id, k=k)))

    return Response(await reads.run(read), media_type="application/json")


@router.get("/jobs/{job_id}/pareto", response_model=list[TrialOut])
def pareto(session: SessionDep, job_id: JobId) -> list[db.Trial]:
    """Finished trials no other beats on both val_metric and n_params; smallest first."""
    job_or_404(session, job_id)
    return db.pareto_front(session, job_id)


@router.get("/trials/{trial_id}", response_model=TrialOut)
def get_trial(session: SessionDep, trial_id: TrialId) -> db.Trial:
    return trial_or_404(session, trial_id)


@router.get("/trials/{trial_id}/curve", response_model=Curve)
async def curve(
    reads: ReadsDep,
    trial_id: TrialId,
    after_epoch: Annotated[int, Query(ge=0, le=2**31)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Response:
    """Epochs after `after_epoch` (at most `limit`); poll with the last_epoch returned."""

    def read(session: Session) -> str:
        status = db.trial_status(session, trial_id)
        if status is None:
            raise not_found("trial", trial_id, "trial_id")
        points = db.curve(session, trial_id, after_epoch=after_epoch, limit=limit)
        return Curve(
            trial_id=trial_id,
            status=status,
            after_epoch=after_epoch,
            points=[CurvePoint(**vars(p)) for p in points],
            last_epoch=points[-1].epoch if points else after_epoch,
        ).model_dump_json()

    return Response(await reads.run(read), media_type="application/json")


@router.get("/jobs/{job_id}/curves", response_model=CurvesUpdate)
def job_curves(
    session: SessionDep,
    job_id: JobId,
    cursor: Annotated[str | None, Query(max_length=16_000)] = None,
) -> CurvesUpdate:
    """Every trial's val_metric curve in one call; with the cursor the last call returned,
    only new trials, the watched ones' rows, and epochs the client does not hold yet."""
    job_or_404(session, job_id)
    return cursors.read_after(session, job_id, cursors.parse(cursor))
