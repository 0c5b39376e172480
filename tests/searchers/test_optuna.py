"""The Optuna searchers: the space's mapping, the sampler per name, and what the study sees."""

from __future__ import annotations

import json

import optuna
import pytest
from optuna.trial import TrialState

from nas.searchers import OptunaSearcher, make_searcher
from nas.searchers.optuna_space import setting_distributions, width_distributions
from nas.space import SearchSpace
from tests.searchers.conftest import HAVE_TORCH, RICH, observe, run


def test_mapping_produces_every_kind_of_choice() -> None:
    searcher = make_searcher("optuna-random", RICH, 0)
    asked = [searcher.ask() for _ in range(150)]
    assert {c.depth for c in asked} == {1, 2, 3, 4}
    assert {c.activation for c in asked} == set(RICH.activation)
    assert {c.optimizer for c in asked} == set(RICH.optimizer)
    assert {c.batch_norm for c in asked} == set(RICH.batch_norm)
    assert {c.batch_size for c in asked} == set(RICH.batch_size)
    deep = [c.widths for c in asked if c.depth > 2]
    assert any(len(set(w)) == 1 for w in deep), "constant"
    assert any(list(w) == sorted(w, reverse=True) and len(set(w)) > 1 for w in deep), "funnel"
    assert any(list(w) != sorted(w, reverse=True) for w in deep), "free"
    widths = [w for c in asked for w in c.widths]
    assert min(widths) < 8 and max(widths) > 64  # log scale reaches both ends
    assert len({c.dropout for c in asked}) > 100 and len({c.learning_rate for c in asked}) > 100


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("n_layers", optuna.distributions.IntDistribution),
        ("shape", optuna.distributions.CategoricalDistribution),
        ("activation", optuna.distributions.CategoricalDistribution),
        ("dropout", optuna.distributions.FloatDistribution),
        ("weight_decay", optuna.distributions.FloatDistribution),
        ("batch_norm", optuna.distributions.CategoricalDistribution),
        ("optimizer", optuna.distributions.CategoricalDistribution),
        ("learning_rate", optuna.distributions.FloatDistribution),
        ("batch_size", optuna.distributions.CategoricalDistribution),
    ],
)
def test_every_setting_has_its_distribution(name: str, kind: type) -> None:
    assert isinstance(setting_distributions(RICH)[name], kind)


@pytest.mark.parametrize(
    ("shape", "names"),
    [("free", ["width_0", "width_1", "width_2"]), ("funnel", ["width_0", "width_1", "width_2"])]
    + [("constant", ["width_0"])],
)
def test_widths_are_conditional_on_depth_and_shape(shape: str, names: list[str]) -> None:
    widths = width_distributions(RICH, 3, shape)
    assert list(widths) == names
    assert all(d.log and (d.low, d.high) == RICH.width for d in widths.values())


def test_log_scales_and_switched_off_weight_decay() -> None:
    settings = setting_distributions(RICH)
    assert settings["learning_rate"].log and settings["weight_decay"].log
    off = SearchSpace(weight_decay=(0.0, 0.0))
    assert setting_distributions(off)["weight_decay"].single()
    searcher = make_searcher("tpe", off, 0, n_startup_trials=3)
    assert {c.weight_decay for c in run(searcher, 8)} == {0.0}


@pytest.mark.parametrize(
    ("name", "two", "sampler"),
    [
        ("tpe", False, optuna.samplers.TPESampler),
        ("tpe", True, optuna.samplers.TPESampler),
        ("optuna-random", False, optuna.samplers.RandomSampler),
        ("cmaes", False, optuna.samplers.CmaEsSampler),
        ("nsga2", False, optuna.samplers.NSGAIISampler),
        ("nsga2", True, optuna.samplers.NSGAIISampler),
    ],
)
def test_each_name_drives_its_sampler_and_directions(name: str, two: bool, sampler: type) -> None:
    searcher = make_searcher(name, RICH, 0, two_objectives=two)
    assert isinstance(searcher, OptunaSearcher)
    assert isinstance(searcher.study.sampler, sampler)
    expected = [optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE]
    assert searcher.study.directions == expected[: 2 if two else 1]


def test_nsga2_study_holds_both_objectives() -> None:
    searcher = make_searcher("nsga2", RICH, 0, two_objectives=True, population_size=4)
    run(searcher, 9)
    complete = searcher.study.get_trials(states=(TrialState.COMPLETE,))
    assert complete and all(len(t.values) == 2 and t.values[1] >= 1 for t in complete)


@pytest.mark.parametrize("two", [False, True])
def test_outcomes_reach_the_study_and_survive_a_resume(two: bool) -> None:
    searcher = make_searcher("tpe", RICH, 0, two_objectives=two)
    observations = {}
    for status in ("finished", "pruned", "failed", "diverged"):
        candidate = searcher.ask()
        observations[status] = observe(candidate, status)
        searcher.tell(candidate, observations[status])
    searcher.ask()  # left pending
    assert isinstance(searcher, OptunaSearcher)
    states = [TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.FAIL]
    states.append(TrialState.RUNNING)
    assert [t.state for t in searcher.study.trials] == states
    # a multi-objective study keeps no curves: there a pruned trial is only pruned
    curve = {} if two else dict(enumerate(observations["pruned"].curve))
    assert searcher.study.trials[1].intermediate_values == curve

    resumed = make_searcher("tpe", RICH, 0, two_objectives=two)
    assert isinstance(resumed, OptunaSearcher)
    resumed.load_state(json.loads(json.dumps(searcher.state())))
    assert [t.state for t in resumed.study.trials] == states
    assert [t.params for t in resumed.study.trials] == [t.params for t in searcher.study.trials]
    assert [t.values for t in resumed.study.trials] == [t.values for t in searcher.study.trials]
    assert resumed.study.trials[1].intermediate_values == curve


@pytest.mark.skipif(HAVE_TORCH, reason="checks the message shown without PyTorch")
def test_gp_without_pytorch_says_how_to_install_it() -> None:
    with pytest.raises(ImportError, match=r"nas-service\[gp\]"):
        make_searcher("gp", RICH, 0)


def test_scaling_is_a_parameter_only_when_the_space_offers_a_choice() -> None:
    assert "scaling" not in setting_distributions(RICH)  # the default: standard only
    both = SearchSpace(scaling=["standard", "minmax"])
    assert setting_distributions(both)["scaling"].choices == ("standard", "minmax")
    asked = run(make_searcher("tpe", both, 0, n_startup_trials=3), 12)
    assert {c.scaling for c in asked} == {"standard", "minmax"}


def test_a_sampler_stuck_on_one_point_is_moved_on_by_a_uniform_draw() -> None:
    """A duplicate is told as failed and teaches the sampler nothing; GP's acquisition can
    then propose the same point forever. After RANDOM_AFTER_DUPLICATES in a row, one
    seeded uniform draw from the space is asked instead of reporting it exhausted."""

    space = SearchSpace(n_layers=(1, 2))
    searcher = make_searcher("tpe", space, 0, start_at_centre=False)
    first = searcher.ask()
    stuck = dict(searcher.study.trials[0].params)
    searcher.study.sampler = optuna.samplers.PartialFixedSampler(stuck, searcher.study.sampler)
    second = searcher.ask()
    assert second.key() != first.key() and space.contains(second)
    again = make_searcher("tpe", space, 0, start_at_centre=False)
    again.ask()
    again.study.sampler = optuna.samplers.PartialFixedSampler(stuck, again.study.sampler)
    assert again.ask() == second  # the draw comes from the job's seed
