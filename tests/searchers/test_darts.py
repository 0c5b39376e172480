"""The darts searcher: supernet once, top architectures first, retrained by the driver."""

from __future__ import annotations

import json

import pytest

from nas.searchers import DartsSearcher, Observation
from nas.searchers.darts import middle_settings
from nas.space import Candidate, SearchSpace
from tests.searchers.conftest import RICH, tiny_split
from tests.searchers.drive import SMALL_SPACE, drive


def test_the_driver_hands_over_the_data_and_retrains_the_top_architectures(tmp_path) -> None:
    trials, state = drive(tmp_path, "darts", trials=5, epochs=3, top_k=2)
    assert [t.status for t in trials] == ["finished"] * 5
    space = SearchSpace.model_validate(SMALL_SPACE)
    ranking = [tuple(w) for w in state["ranking"]]
    first = [Candidate.model_validate(t.params) for t in trials[: len(ranking)]]
    assert [c.widths for c in first] == ranking  # the argmax first, then the runner-up
    assert all(c.model_dump(exclude={"widths"}) == middle_settings(space) for c in first)
    assert {Candidate.model_validate(t.params).widths for t in trials} <= set(ranking)
    assert state["report"]["presearch_epochs"] == 6
    assert len(state["report"]["width_probabilities"]) == 2  # one mixture per layer


def test_a_resumed_search_does_not_train_the_supernet_again() -> None:
    searcher = DartsSearcher(RICH, 0, epochs=2)
    searcher.prepare(tiny_split(), True)
    for _ in range(4):
        c = searcher.ask()
        searcher.tell(c, Observation(c, "finished", 0.8, 10, 5, (0.8,)))
    resumed = DartsSearcher(RICH, 0, epochs=2)  # no data handed over: it cannot train
    resumed.load_state(json.loads(json.dumps(searcher.state(), allow_nan=False)))
    assert [resumed.ask() for _ in range(3)] == [searcher.ask() for _ in range(3)]


def test_asking_without_the_data_says_what_is_missing() -> None:
    with pytest.raises(RuntimeError, match="prepare"):
        DartsSearcher(RICH, 0).ask()


def test_a_supernet_too_wide_is_refused_by_field() -> None:
    with pytest.raises(ValueError, match="width must lie within"):
        DartsSearcher(SearchSpace(width=(16, 4096)), 0)
