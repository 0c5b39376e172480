"""Where a search's time goes: start-up, training, stopping decisions, store, searcher,
refit, and the rest of the driver's loop.

The driver charges every moment of its run to exactly one part. A part entered inside
another (the searcher asked inside a store transaction) pauses the outer one, so the parts
never count a second twice and add up to the wall time. `nas run` prints them at the end,
and the job row carries them (GET /jobs/{id}), so "the driver's own cost" is a measured
number, not a guess.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

STARTUP = "startup"  # from the command's (or the claim's) start to the first ask: imports,
# data, store, executor (a Ray's start), searcher
TRAINING = "training"  # executor calls: building, training, scoring and saving networks
STOPPING = "stopping"  # the stopping policy's decisions (curve fits)
STORE = "store"  # every read and write of the store
SEARCHER = "searcher"  # ask, tell and the searcher's saved state
REFIT = "refit"  # training the chosen candidate again on train + validation rows
OTHER = "other"  # the driver's own loop and its progress line
PARTS = (STARTUP, TRAINING, STOPPING, STORE, SEARCHER, REFIT, OTHER)
WORK = (TRAINING, REFIT)  # the work a user asked for; every other part is the driver's cost


def driver_share(seconds: dict[str, float]) -> float:
    """The driver's own cost as a share of the wall time (0 for an empty run)."""
    wall = sum(seconds.get(p, 0.0) for p in PARTS)
    own = wall - sum(seconds.get(p, 0.0) for p in WORK)
    return own / wall if wall > 0 else 0.0


class TimeBooks:
    """Seconds by part, each moment charged to the innermost part open (OTHER outside all).

    `started` is a reading of `clock` at which the job's work began (the command's first
    line, or the claim); the time until the books open is start-up.
    """

    def __init__(
        self, started: float | None = None, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.clock = clock
        now = clock()
        self.seconds = dict.fromkeys(PARTS, 0.0)
        self.seconds[STARTUP] = max(now - started, 0.0) if started is not None else 0.0
        self._open = [STARTUP]  # until start() the driver is still getting ready
        self._mark = now

    def start(self) -> None:
        """Start-up is over: the loop begins, and time outside any part is OTHER."""
        self._charge()
        self._open = [OTHER]

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        """Charge the time inside the block to `name` (the enclosing part pauses)."""
        if name not in self.seconds:
            raise ValueError(f"part must be one of {PARTS}; got {name!r}")
        self._charge()
        self._open.append(name)
        try:
            yield
        finally:
            self._charge()
            self._open.pop()

    def _charge(self) -> None:
        now = self.clock()
        self.seconds[self._open[-1]] += now - self._mark
        self._mark = now

    def snapshot(self) -> dict[str, float]:
        """Seconds by part so far, the wall time (their sum) and the driver's share."""
        self._charge()
        parts = {p: round(s, 4) for p, s in self.seconds.items()}
        # wall and share come from the rounded parts, so the numbers a user reads agree
        wall = round(sum(parts.values()), 4)
        return {**parts, "wall": wall, "driver_share": round(driver_share(parts), 4)}
