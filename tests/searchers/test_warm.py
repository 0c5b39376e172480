"""Warm start wraps any searcher: seeds first, once each, then the inner searcher."""

from nas.searchers import Observation, make_searcher
from nas.searchers.warm import WarmStartSearcher
from nas.space import Candidate, SearchSpace

SPACE = SearchSpace(n_layers=(1, 2), width=(4, 64))


def test_warm_start_hands_out_seeds_first_once_each_then_the_inner_searcher():
    seeds = [Candidate(widths=(8,)), Candidate(widths=(16, 8)), Candidate(widths=(8,))]
    searcher = WarmStartSearcher(make_searcher("random", SPACE, 0))
    searcher.add_seeds(seeds)
    assert [searcher.ask(), searcher.ask()] == seeds[:2]
    third = searcher.ask()
    assert third not in seeds
    for c in (*seeds[:2], third):
        searcher.tell(c, Observation(c, "finished", 0.5, 10, 4))
    again = WarmStartSearcher(make_searcher("random", SPACE, 0))
    again.load_state(searcher.state())
    assert again.seeded and not again.seeds and again.ask() == searcher.ask()


def test_warm_start_tells_the_inner_searcher_a_seed_it_proposes_itself():
    inner = make_searcher("random", SPACE, 0)
    twin = make_searcher("random", SPACE, 0).ask()  # what the inner searcher asks first
    searcher = WarmStartSearcher(inner)
    searcher.add_seeds([twin])
    assert searcher.ask() == twin
    searcher.tell(twin, Observation(twin, "finished", 0.7, 10, 4))
    fresh = searcher.ask()
    assert fresh != twin and inner.state()["pending"] == [fresh.model_dump(mode="json")]
