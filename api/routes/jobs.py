"""Jobs: submit (202), list, inspect with progress and a time-left estimate, cancel,
delete, parameter importance, and a server-sent event stream for live dashboards."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.deps import JobId, SessionDep, SettingsDep, StoreDep, job_or_404
from api.errors import conflict
from api.limits import check_limits
from api.schemas import JobCreated, JobDetail, JobOut, JobRequest, Page, Progress
from nas import store as db
from nas.status import FINAL_JOB_STATUSES, JobStatus

router = APIRouter(prefix="/jobs", tags=["jobs"])
FINAL = FINAL_JOB_STATUSES


@router.post("", status_code=202, response_model=JobCreated)
def submit_job(
    spec: JobRequest, session: SessionDep, settings: SettingsDep, response: Response
) -> JobCreated:
    """Validate the spec against the server's limits and queue it; a runner picks it up."""
    check_limits(spec, settings, session)
    job = db.create_job(session, name=spec.name, spec=spec.model_dump(mode="json"), seed=spec.seed)
    url = f"/api/v1/jobs/{job.id}"
    response.headers["Location"] = url
    return JobCreated(id=job.id, status=job.status, url=url)


@router.get("", response_model=Page[JobDetail])
def list_jobs(
    session: SessionDep,
    status: JobStatus | None = None,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict:
    """A page of jobs, newest first, each with its progress (as GET /jobs/{id} gives it)."""
    items = [
        describe(session, job)
        for job in db.list_jobs(session, status=status, limit=limit, offset=offset)
    ]
    total = db.count_jobs(session, status=status)
    return {"items": items, "total": total, "offset": offset, "limit": limit}


def describe(session: Session, job: db.Job) -> JobDetail:
    """A job's status with progress, best so far, epochs spent and saved, and time left."""
    spec = job.spec
    max_epochs = (spec.get("space") or {}).get("max_epochs")
    summary = db.job_summary(session, job.id, max_epochs=max_epochs)
    running = summary.trials_by_status.get("running", 0)
    budget = spec.get("budget") or {}
    elapsed = None
    if job.started is not None:
        elapsed = ((job.finished or datetime.now(UTC)) - job.started).total_seconds()
    shares = []
    done = summary.n_trials - running
    if budget.get("trials"):
        shares.append(done / budget["trials"])
    if budget.get("epochs"):
        shares.append(summary.epochs_spent / budget["epochs"])
    if budget.get("seconds") and elapsed is not None:
        shares.append(elapsed / budget["seconds"])
    fraction = min(max(shares), 1.0) if shares else None
    if job.status in FINAL:
        fraction, eta = (1.0 if job.status == "finished" else fraction), 0.0
    elif job.status == "running" and fraction and elapsed is not None:
        eta = elapsed * (1 - fraction) / fraction
    else:
        eta = None
    top = db.leaderboard(session, job.id, k=1)
    return JobDetail(
        **JobOut.model_validate(job).model_dump(),
        spec=spec,
        progress=Progress(
            trials_done=done,
            trials_running=running,
            trials_budget=budget.get("trials"),
            trials_by_status=summary.trials_by_status,
            fraction=fraction,
        ),
        best_val_metric=top[0].val_metric if top else None,
        best_trial_id=top[0].id if top else None,
        epochs_spent=summary.epochs_spent,
        epochs_saved=summary.epochs_saved,
        elapsed_seconds=elapsed,
        eta_seconds=eta,
    )


@router.get("/{job_id}", response_model=JobDetail)
def get_job(session: SessionDep, job_id: JobId) -> JobDetail:
    return describe(session, job_or_404(session, job_id))


@router.post("/{job_id}/cancel", response_model=JobOut)
def cancel_job(session: SessionDep, job_id: JobId) -> db.Job:
    """Cancel a queued or running job; its runner stops at the next rung boundary."""
    job = job_or_404(session, job_id)
    if not db.cancel_job(session, job_id):
        job = job_or_404(session, job_id)
        raise conflict(f"job {job_id} is already {job.status}; only queued or running jobs")
    return job_or_404(session, job.id)


@router.delete("/{job_id}", status_code=204, response_class=Response)
def delete_job(session: SessionDep, job_id: JobId) -> Response:
    """Delete a job with its trials, curves and models; a running job must be cancelled first."""
    job_or_404(session, job_id)
    if not db.delete_job(session, job_id):
        raise conflict(f"job {job_id} is running; cancel it first (POST .../cancel)")
    return Response(status_code=204)


@router.get("/{job_id}/importance", response_model=dict[str, float])
def importance(session: SessionDep, job_id: JobId) -> dict[str, float]:
    """Share of the validation metric's variance each search parameter explains (sums to 1)."""
    job_or_404(session, job_id)
    return db.param_importance(session, job_id)


def _existing(session: SessionDep, job_id: JobId) -> int:
    return job_or_404(session, job_id).id


@router.get("/{job_id}/events", response_class=EventSourceResponse)
async def events(
    store: StoreDep,
    settings: SettingsDep,
    job_id: Annotated[int, Depends(_existing)],
    max_seconds: Annotated[float, Query(gt=0, le=3600)] = 600,
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events: `job` (the job's detail) on every change, `end` when it is final
    (or after max_seconds; reconnect to go on)."""

    def snapshot() -> JobDetail | None:
        with store.session() as s:
            job = db.get_job(s, job_id)
            return None if job is None else describe(s, job)

    deadline = time.monotonic() + max_seconds
    last: str | None = None
    while True:
        current = await run_in_threadpool(snapshot)
        if current is None:  # deleted while watched
            yield ServerSentEvent(event="end", data={"status": "deleted"})
            return
        # the clock's fields change every poll: an event is for a change of what was done
        key = current.model_dump_json(exclude={"elapsed_seconds", "eta_seconds", "timings"})
        if key != last:
            last = key
            yield ServerSentEvent(event="job", data=current)
        if current.status in FINAL or time.monotonic() >= deadline:
            yield ServerSentEvent(event="end", data={"status": current.status})
            return
        await asyncio.sleep(settings.events_poll_seconds)
