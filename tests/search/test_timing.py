"""Time books: every moment charged to one part, parts add up to the wall time, and a
driver's run leaves them on its job row."""

from __future__ import annotations

import pytest

from nas import store as db
from nas.search import SearchDriver, submit_and_claim
from nas.search.timing import PARTS, STARTUP, STORE, TRAINING, TimeBooks, driver_share
from nas.spec import JobSpec


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


def test_an_inner_part_pauses_the_outer_and_parts_add_up_to_the_wall_time():
    clock = Clock()
    books = TimeBooks(started=97.0, clock=clock)  # 3 s of start-up before the books opened
    clock.tick(1)  # still getting ready: start-up
    books.start()
    clock.tick(0.5)  # the loop itself: other
    with books.part(STORE):
        clock.tick(2)
        with books.part("searcher"):
            clock.tick(4)
        clock.tick(1)
    with books.part(TRAINING):
        clock.tick(10)
    seconds = books.snapshot()
    assert seconds[STARTUP] == 4 and seconds[STORE] == 3 and seconds["searcher"] == 4
    assert seconds[TRAINING] == 10 and seconds["other"] == 0.5
    assert seconds["wall"] == sum(seconds[p] for p in PARTS) == 21.5
    assert seconds["driver_share"] == pytest.approx(11.5 / 21.5, abs=1e-4)


def test_a_part_left_by_an_exception_is_still_closed():
    clock = Clock()
    books = TimeBooks(clock=clock)
    books.start()
    with pytest.raises(RuntimeError), books.part(TRAINING):
        clock.tick(2)
        raise RuntimeError("boom")
    clock.tick(1)
    seconds = books.snapshot()
    assert (seconds[TRAINING], seconds["other"]) == (2, 1)


def test_an_unknown_part_is_refused_naming_the_parts():
    with pytest.raises(ValueError, match="part must be one of"), TimeBooks().part("lunch"):
        pass


def test_the_driver_share_is_everything_but_training_and_refit():
    assert driver_share({TRAINING: 9.0, "refit": 0.5, STORE: 0.5}) == pytest.approx(0.05)
    assert driver_share({}) == 0.0


def test_a_finished_run_leaves_its_time_books_on_the_job(store):
    spec = JobSpec.model_validate(
        {
            "dataset": "iris",
            "space": {"n_layers": [1, 1], "width": [4, 16], "max_epochs": 8},
            "budget": {"trials": 4},
            "stopping": {"policy": "lce", "options": {"min_epochs": 3}},
            "searcher": "tpe",
            "seed": 1,
        }
    )
    job_id = submit_and_claim(store, spec, "test")
    driver = SearchDriver(spec, store, job_id, runner="test")
    assert driver.run() == "finished"
    with store.session() as s:
        timings = db.get_job(s, job_id).timings
    assert set(timings) == {*PARTS, "wall", "driver_share"}
    assert timings["wall"] == pytest.approx(sum(timings[p] for p in PARTS), abs=1e-3)
    assert all(timings[p] >= 0 for p in PARTS)
    # every part that ran was booked: networks trained, rungs stored, curves decided on
    assert timings[TRAINING] > 0 and timings[STORE] > 0 and timings["stopping"] > 0
    assert timings["searcher"] > 0 and timings["refit"] > 0
