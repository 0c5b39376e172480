"""The dashboard's cursor over a job's curves: what a client already holds, as a string.

"<after_id>;<id>.<attempt>.<epoch>,..." names the newest trial the client has seen and,
for each trial that may still change (running, or failed with a retry to come), the
attempt and last epoch it holds. The server writes it, the client sends it back as is;
it stays short because only unfinished trials are listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from api.errors import ApiError

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
