"""The behaviour every searcher promises the driver; each test runs for every searcher."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nas.searchers import SEARCHERS, Observation, SpaceExhaustedError, make_searcher
from nas.space import OPTIONAL_CHOICES, SearchSpace
from tests.searchers.conftest import CASES, RICH, build, observe, run

SPACES = {
    "rich": RICH,
    "funnel": SearchSpace(n_layers=(2, 5), shape=["funnel"], weight_decay=(0.0, 0.0)),
    "constant": SearchSpace(n_layers=(1, 3), shape=["constant"], batch_norm=[True]),
    "options": SearchSpace(
        activation=["relu", "selu", "gelu"],
        scaling=["standard", "robust"],
        target_scaling=["standard", "log"],
        label_smoothing=[0.0, 0.1],
        lr_schedule=["constant", "cosine"],
    ),
}


@pytest.mark.parametrize("space_name", SPACES)
@pytest.mark.parametrize(("name", "two"), CASES)
def test_candidates_stay_in_space_and_never_repeat(name: str, two: bool, space_name: str) -> None:
    space = SPACES[space_name]
    asked = run(build(name, two, space), 30)
    assert all(space.contains(c) for c in asked)
    assert len({c.key() for c in asked}) == len(asked)


@pytest.mark.parametrize("name", ["random", "tpe", "nsga2", "evolution", "rl", "tpe+predictor"])
def test_every_offered_option_is_proposed(name: str) -> None:
    space = SPACES["options"]
    asked = run(build(name, False, space), 30)
    for option in OPTIONAL_CHOICES:
        assert {getattr(c, option) for c in asked} == set(getattr(space, option)), option


@pytest.mark.parametrize(("name", "two"), CASES)
def test_objectives_name_what_is_optimized(name: str, two: bool) -> None:
    expected = ("value", "n_params") if two else ("value",)
    assert build(name, two).objectives == expected


@pytest.mark.parametrize(("name", "two"), CASES)
def test_same_seed_same_sequence(name: str, two: bool) -> None:
    first = [c.key() for c in run(build(name, two, seed=7), 20)]
    second = [c.key() for c in run(build(name, two, seed=7), 20)]
    assert first == second


@pytest.mark.parametrize(("name", "two"), CASES)
def test_different_seeds_differ(name: str, two: bool) -> None:
    first = [c.key() for c in run(build(name, two, seed=1), 10)]
    second = [c.key() for c in run(build(name, two, seed=2), 10)]
    assert first != second


@pytest.mark.parametrize(("name", "two"), CASES)
def test_resume_never_repeats_a_candidate(name: str, two: bool) -> None:
    searcher = build(name, two)
    before = run(searcher, 10)
    pending = [searcher.ask(), searcher.ask()]
    state = json.loads(json.dumps(searcher.state(), allow_nan=False))

    resumed = build(name, two)
    resumed.load_state(state)
    for candidate in pending:  # still pending after the resume: their tells are accepted
        resumed.tell(candidate, observe(candidate))
    after = run(resumed, 15, start=10)

    assert {c.key() for c in after}.isdisjoint(c.key() for c in before + pending)
    assert all(RICH.contains(c) for c in after)


@pytest.mark.parametrize(("name", "two"), CASES)
def test_failed_and_diverged_results_do_not_stop_the_search(name: str, two: bool) -> None:
    searcher = build(name, two)
    for i in range(8):
        candidate = searcher.ask()
        searcher.tell(candidate, observe(candidate, "failed" if i % 2 else "diverged"))
    assert all(RICH.contains(c) for c in run(searcher, 12))


@pytest.mark.parametrize("told_first", [0, 12], ids=["before-any-tell", "after-start-up"])
@pytest.mark.parametrize(("name", "two"), CASES)
def test_pending_asks_are_distinct(name: str, two: bool, told_first: int) -> None:
    searcher = build(name, two)
    run(searcher, told_first)  # 12 is past the random start-up of model-based searchers
    pending = [searcher.ask() for _ in range(8)]
    assert len({c.key() for c in pending}) == len(pending)
    assert len(searcher.state()["pending"]) == len(pending)
    for candidate in pending:
        searcher.tell(candidate, observe(candidate))


@pytest.mark.parametrize(("name", "two"), CASES)
def test_an_exhausted_space_ends_the_search(name: str, two: bool) -> None:
    single = SearchSpace(
        n_layers=(2, 2),
        width=(8, 8),
        activation=["relu"],
        dropout=(0.1, 0.1),
        weight_decay=(0.0, 0.0),
        batch_norm=[False],
        learning_rate=(1e-3, 1e-3),
        batch_size=[64],
    )
    searcher = build(name, two, single)
    only = searcher.ask()
    searcher.tell(only, observe(only))
    with pytest.raises(SpaceExhaustedError):
        searcher.ask()


@pytest.mark.parametrize(("name", "two"), CASES)
def test_telling_a_candidate_never_asked_is_refused(name: str, two: bool) -> None:
    searcher = build(name, two)
    stranger = RICH.sample(np.random.default_rng(99))
    with pytest.raises(ValueError, match="not pending"):
        searcher.tell(stranger, observe(stranger))


def test_unknown_searcher_names_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="allowed: tpe, random, optuna-random"):
        make_searcher("hyperband", RICH, 0)


@pytest.mark.parametrize(
    ("name", "options", "two", "parameter"),
    [
        ("evolution", {"population": 1}, False, "population"),
        ("evolution", {"population": 4, "sample_size": 5}, False, "sample_size"),
        ("evolution", {"sample_size": 0}, False, "sample_size"),
        ("evolution", {"crossover_prob": 1.5}, False, "crossover_prob"),
        ("nsga2", {"population_size": 1}, True, "population_size"),
        ("nsga2", {"crossover_prob": -0.1}, True, "crossover_prob"),
        ("tpe", {"n_startup_trials": -1}, False, "n_startup_trials"),
        ("tpe", {"population": 10}, False, "population"),
        ("random", {"seed_offset": 1}, False, "seed_offset"),
        ("cmaes", {}, True, "cmaes"),
        ("rl", {"policy_lr": 0.0}, False, "policy_lr"),
        ("rl", {"bins": 1}, False, "bins"),
        ("rl", {"entropy": "high"}, False, "entropy"),
        ("darts", {"epochs": True}, False, "epochs"),
        ("rl", {}, True, "rl"),
        ("darts", {"top_k": 0}, False, "top_k"),
        ("darts", {"arch_lr": 2.0}, False, "arch_lr"),
        ("darts", {}, True, "darts"),
        ("tpe+predictor", {"pool": 0}, False, "pool"),
        ("tpe+predictor", {"min_trials": 1}, False, "min_trials"),
        ("evolution+predictor", {"model": "svm"}, False, "model"),
        ("evolution+predictor", {"population": 1}, False, "population"),
        ("tpe+predictor", {}, True, "predictor"),
    ],
)
def test_bad_options_are_refused_by_name(
    name: str, options: dict[str, object], two: bool, parameter: str
) -> None:
    with pytest.raises(ValueError, match=parameter):
        make_searcher(name, RICH, 0, two_objectives=two, **options)


def test_every_searcher_is_registered_with_its_options() -> None:
    assert set(SEARCHERS) == {
        "random", "tpe", "optuna-random", "cmaes", "gp", "nsga2", "evolution",
        "rl", "darts", "tpe+predictor", "evolution+predictor",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("status", "value", "message"),
    [
        ("done", 1.0, "status"),
        ("finished", None, "needs a value"),
        ("pruned", float("nan"), "finite"),
    ],
)
def test_observation_refuses_inconsistent_results(
    status: str, value: float | None, message: str
) -> None:
    candidate = RICH.sample(np.random.default_rng(0))
    with pytest.raises(ValueError, match=message):
        Observation(candidate, status, value, 10, 1)
