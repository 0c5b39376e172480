"""The dashboard's incremental read of a job's curves, and its cursor: what a client
already holds, as a string.

"<after_id>;<id>.<attempt>.<epoch>,..." names the newest trial the client has seen and,
for each trial that may still change (running, or failed with a retry to come), the
attempt and last epoch it holds. The server writes it, the client sends it back as is;
it stays short because only unfinished trials are listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from api.errors import ApiError
from api.schemas import CurveSlice, CurvesUpdate, TrialOut
from nas import store as db
from nas.store.trials import DEFAULT_MAX_ATTEMPTS

MAX_NEW_TRIALS, MAX_POINTS = 1000, 200_000  # per answer; `more` says another call is due
MAX_WATCHED = 1000  # beyond this the URL would pass uvicorn's 16 KiB request-line limit
MAX_ID = 2**31 - 1


@dataclass
class Cursor:
    after_id: int = 0
    watched: dict[int, tuple[int, int]] = field(default_factory=dict)  # id: (attempt, epoch)

    def encode(self) -> str:
        items = ",".join(f"{t}.{a}.{e}" for t, (a, e) in sorted(self.watched.items()))
        return f"{self.after_id};{items}"


def _refuse(why: str) -> ApiError:
    return ApiError(
        422, f"cursor: {why}; send back the cursor a previous call returned", "cursor", "query"
    )


def _number(text: str) -> int:
    if not text.isdigit() or len(text) > 10 or int(text) > MAX_ID:
        raise _refuse(f"{text[:20]!r} is not an integer in [0, {MAX_ID}]")
    return int(text)


def parse(text: str | None) -> Cursor:
    """The cursor a client sent back; empty or absent means 'from the start'."""
    if not text:
        return Cursor()
    head, sep, rest = text.partition(";")
    if not sep:
        raise _refuse("expected '<after_id>;<id>.<attempt>.<epoch>,...'")
    watched: dict[int, tuple[int, int]] = {}
    entries = rest.split(",") if rest else []
    if len(entries) > MAX_WATCHED:
        raise _refuse(f"at most {MAX_WATCHED} watched trials")
    for entry in entries:
        parts = entry.split(".")
        if len(parts) != 3:
            raise _refuse(f"entry {entry[:30]!r} is not <id>.<attempt>.<epoch>")
        trial_id, attempt, epoch = (_number(p) for p in parts)
        watched[trial_id] = (attempt, epoch)
    return Cursor(_number(head), watched)


def _may_change(trial: db.Trial) -> bool:
    return trial.status == "running" or (
        trial.status == "failed" and trial.attempt < DEFAULT_MAX_ATTEMPTS
    )


def read_after(session: Session, job_id: int, seen: Cursor) -> CurvesUpdate:
    """New trials (their whole curves, up to MAX_POINTS points), the watched trials' rows
    and their epochs after those the client holds, and the cursor for the next call."""
    trials = db.trials_for_update(
        session, job_id, after_id=seen.after_id, ids=list(seen.watched), limit=MAX_NEW_TRIALS
    )
    new = [t for t in trials if t.id > seen.after_id]
    more = len(new) == MAX_NEW_TRIALS
    points, kept = 0, set[int]()
    for t in new:
        if kept and points + t.epochs_run > MAX_POINTS:
            more = True
            break
        points += t.epochs_run
        kept.add(t.id)
    trials = [t for t in trials if t.id in kept or t.id in seen.watched]
    after = {}
    for t in trials:
        attempt, epoch = seen.watched.get(t.id, (t.attempt, 0))
        after[t.id] = epoch if attempt == t.attempt else 0  # a retry starts its curve anew
    fetched = db.curves_after(session, after)
    following = Cursor(max(kept, default=seen.after_id))
    for t in trials:
        epochs, _ = fetched[t.id]
        if _may_change(t):
            following.watched[t.id] = (t.attempt, epochs[-1] if epochs else after[t.id])
    return CurvesUpdate(
        trials=[TrialOut.model_validate(t) for t in trials],
        curves=[
            CurveSlice(trial_id=t, after_epoch=after[t], epochs=e, val_metric=v)
            for t, (e, v) in fetched.items()
            if e or after[t] == 0
        ],
        cursor=following.encode(),
        more=more,
    )
