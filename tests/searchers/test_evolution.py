"""Regularized evolution: aging, tournaments, and mutations that respect the space."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nas.searchers import EvolutionSearcher, Observation
from nas.searchers.mutation import crossover, mutate
from nas.space import Candidate, SearchSpace
from tests.searchers.conftest import RICH, observe, run


def tell_value(searcher: EvolutionSearcher, value: float, n_params: int = 100) -> Candidate:
    candidate = searcher.ask()
    searcher.tell(candidate, Observation(candidate, "finished", value, n_params, 5))
    return candidate


def member_values(searcher: EvolutionSearcher) -> list[float]:
    return [m.value for m in searcher.members]


def test_aging_removes_the_oldest_not_the_worst() -> None:
    searcher = EvolutionSearcher(RICH, 0, population=3, sample_size=2)
    for value in (0.9, 0.1, 0.5):  # the oldest member is the best
        tell_value(searcher, value)
    tell_value(searcher, 0.0)  # a child worse than everyone
    assert member_values(searcher) == [0.1, 0.5, 0.0]
    tell_value(searcher, 0.3)
    assert member_values(searcher) == [0.5, 0.0, 0.3]


@pytest.mark.parametrize("status", ["failed", "diverged"])
def test_failed_children_never_join(status: str) -> None:
    searcher = EvolutionSearcher(RICH, 0, population=3, sample_size=2)
    for value in (0.9, 0.1, 0.5):
        tell_value(searcher, value)
    child = searcher.ask()
    searcher.tell(child, observe(child, status))
    assert member_values(searcher) == [0.9, 0.1, 0.5]


def test_pruned_children_join_with_their_last_curve_point() -> None:
    searcher = EvolutionSearcher(RICH, 0, population=2, sample_size=1)
    child = searcher.ask()
    searcher.tell(child, Observation(child, "pruned", None, 10, 2, (0.2, 0.4)))
    assert member_values(searcher) == [0.4]


def test_random_until_the_population_is_full() -> None:
    searcher = EvolutionSearcher(RICH, 3, population=4, sample_size=2, start_at_centre=False)
    reference = np.random.default_rng(3)
    for _ in range(4):
        assert tell_value(searcher, 0.5) == RICH.sample(reference)


def test_the_centre_first_then_random_until_the_population_is_full() -> None:
    searcher = EvolutionSearcher(RICH, 3, population=4, sample_size=2)
    reference = np.random.default_rng(3)
    assert tell_value(searcher, 0.5) == RICH.centre()
    for _ in range(3):
        assert tell_value(searcher, 0.5) == RICH.sample(reference)


def test_tournament_of_the_whole_population_picks_the_best() -> None:
    searcher = EvolutionSearcher(RICH, 0, population=5, sample_size=5)
    told = {tell_value(searcher, v).key(): v for v in (0.3, 0.8, 0.1, 0.6, 0.2)}
    assert all(told[searcher.tournament().key()] == 0.8 for _ in range(10))


def test_tournament_picks_the_best_of_its_sample() -> None:
    searcher = EvolutionSearcher(RICH, 0, population=10, sample_size=2)
    told = {tell_value(searcher, float(v)).key(): float(v) for v in range(10)}
    winners = [told[searcher.tournament().key()] for _ in range(200)]
    assert 0.0 not in winners  # the worst member always meets a better one
    assert len(set(winners)) > 3  # but a small sample lets others than the best win


def test_two_objective_tournament_prefers_front_and_spread() -> None:
    searcher = EvolutionSearcher(RICH, 0, two_objectives=True, population=4, sample_size=4)
    points = [(0.9, 1000), (0.5, 500), (0.1, 100), (0.05, 2000)]  # the last is dominated
    told = {tell_value(searcher, v, n).key(): (v, n) for v, n in points}
    winners = {told[searcher.tournament().key()] for _ in range(50)}
    assert winners == {(0.9, 1000), (0.1, 100)}  # the front's ends: infinite crowding


SHAPED = {
    "free": SearchSpace(n_layers=(1, 5), width=(2, 300)),
    "funnel": SearchSpace(n_layers=(1, 5), width=(2, 300), shape=["funnel"]),
    "constant": SearchSpace(n_layers=(1, 5), width=(2, 300), shape=["constant"]),
    "funnel-or-constant": SearchSpace(n_layers=(2, 4), shape=["funnel", "constant"]),
    "fixed-depth-no-decay": SearchSpace(n_layers=(3, 3), weight_decay=(0.0, 0.0)),
    "narrow": SearchSpace(n_layers=(1, 2), width=(7, 9), shape=["funnel"], dropout=(0.2, 0.2)),
}


@pytest.mark.parametrize("space_name", SHAPED)
def test_mutations_and_crossover_stay_in_space(space_name: str) -> None:
    space = SHAPED[space_name]
    rng = np.random.default_rng(0)
    parents = [space.sample(rng) for _ in range(10)]
    for step in range(600):
        i = step % len(parents)
        child = mutate(parents[i], space, rng)
        assert space.contains(child), (parents[i], child)
        assert _changed_genes(parents[i], child) <= 1
        parents[i] = child
        mate = crossover(child, parents[(i + 1) % len(parents)], rng)
        assert space.contains(mate), (child, mate)


def test_constant_networks_stay_constant_when_funnels_are_allowed_too() -> None:
    space = SHAPED["funnel-or-constant"]
    rng = np.random.default_rng(1)
    parent = Candidate(widths=(32, 32, 32))
    for _ in range(200):
        child = mutate(parent, space, rng)
        assert len(set(child.widths)) == 1


def test_a_single_candidate_space_mutates_to_itself() -> None:
    space = SearchSpace(
        n_layers=(1, 1),
        width=(4, 4),
        activation=["relu"],
        dropout=(0.0, 0.0),
        weight_decay=(0.0, 0.0),
        batch_norm=[False],
        learning_rate=(0.01, 0.01),
        batch_size=[32],
    )
    parent = space.sample(np.random.default_rng(0))
    assert mutate(parent, space, np.random.default_rng(0)) == parent


@pytest.mark.parametrize("crossover_prob", [0.0, 0.5])
def test_resume_continues_exactly_where_it_stopped(crossover_prob: float) -> None:
    def fresh() -> EvolutionSearcher:
        return EvolutionSearcher(
            RICH, 5, population=5, sample_size=2, crossover_prob=crossover_prob
        )

    straight = fresh()
    run(straight, 12)
    expected = run(straight, 12, start=12)

    stopped = fresh()
    run(stopped, 12)
    resumed = fresh()
    resumed.load_state(json.loads(json.dumps(stopped.state())))
    assert run(resumed, 12, start=12) == expected


def _changed_genes(a: Candidate, b: Candidate) -> int:
    return sum(getattr(a, name) != getattr(b, name) for name in Candidate.model_fields)
