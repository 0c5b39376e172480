"""Proxy screening wraps any searcher: pools screened, the best handed out, the rest told."""

import pytest

from nas.searchers import Observation, make_searcher
from nas.searchers.proxy_screening import ProxyResult, ProxyScreeningSearcher, kept
from nas.space import Candidate, SearchSpace

SPACE = SearchSpace(n_layers=(1, 2), width=(4, 64))


def _result(value):
    return ProxyResult(value, () if value is None else (value,), 10, 100, 0.1)


def test_kept_are_the_best_proxies_with_failures_last_and_ties_to_the_first():
    results = [_result(v) for v in (0.5, None, 0.9, 0.5, 0.7)]
    assert kept(results, 2) == {2, 4}
    assert kept(results, 4) == {0, 2, 3, 4}
    assert kept([_result(None), _result(0.1)], 1) == {1}


class Bench:
    """A screen that scores candidates by their first width (and counts its calls)."""

    def __init__(self):
        self.pools, self.records = [], []

    def __call__(self, pool):
        self.pools.append(list(pool))
        return [_result(c.widths[0] / 100) for c in pool]

    def record(self, pool, results, keep):
        self.records.append(sorted(keep))


@pytest.mark.parametrize("name", ["random", "tpe", "evolution"])
def test_screening_hands_out_each_pool_best_first_and_tells_the_rest_pruned(name):
    inner = make_searcher(name, SPACE, seed=0)
    bench = Bench()
    searcher = ProxyScreeningSearcher(inner, bench, pool=6, n_keep=2, record=bench.record)
    first, second = searcher.ask(), searcher.ask()
    pool = bench.pools[0]
    ranked = sorted(pool, key=lambda c: -c.widths[0])
    assert [first, second] == ranked[:2] and len(bench.records[0]) == 2
    assert {c.key() for c in pool} == set(searcher.state()["keys"])
    pending = {Candidate.model_validate(c).key() for c in searcher.state()["pending"]}
    assert pending == {first.key(), second.key()}  # the screened-out four were told
    for c in (first, second):
        searcher.tell(c, Observation(c, "finished", 0.9, 100, 8))
    assert searcher.ask() in bench.pools[1] and len(bench.pools) == 2


def test_screening_state_round_trips_with_the_queue():
    bench = Bench()
    a = ProxyScreeningSearcher(make_searcher("random", SPACE, 1), bench, pool=4, n_keep=2)
    first = a.ask()
    b = ProxyScreeningSearcher(make_searcher("random", SPACE, 1), Bench(), pool=4, n_keep=2)
    b.load_state(a.state())
    assert b.ask() == a.ask()  # the queued second of the pool, not a new pool
    b.tell(first, Observation(first, "failed", None, 0, 0))
