"""Stopping policies: one behavioural suite every policy runs, then each policy's own rule."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from nas.stopping import (
    CONTINUE,
    DIVERGED,
    POLICIES,
    STOP,
    AnyOf,
    AshaPolicy,
    Decision,
    HyperbandPolicy,
    LearningCurvePolicy,
    MedianPolicy,
    NoStopping,
    PatiencePolicy,
    StoppingPolicy,
    TrialCurve,
    lce_asha,
)

MAX_EPOCHS = 30
EPOCHS = np.arange(1, MAX_EPOCHS + 1, dtype=float)


def _rising(top: float, rate: float = 0.7) -> list[float]:
    return list(top - (top - 0.1) * EPOCHS**-rate)


def _population() -> dict[int, TrialCurve]:
    """Twelve finished trials of spread-out quality and noise: the shared suite's history."""
    rng = np.random.default_rng(0)
    return {
        i: TrialCurve(list(np.clip(_rising(0.3 + 0.05 * i) + rng.normal(0, 0.01, 30), 0, 1)), True)
        for i in range(12)
    }


POLICY_FACTORIES: dict[str, Callable[[], StoppingPolicy]] = {
    "none": NoStopping,
    "patience": PatiencePolicy,
    "median": MedianPolicy,
    "asha": lambda: AshaPolicy(eta=3),
    "hyperband": lambda: HyperbandPolicy(eta=3),
    "lce": LearningCurvePolicy,
    "lce+asha": lce_asha,
}


@pytest.fixture(params=sorted(POLICY_FACTORIES))
def policy(request: pytest.FixtureRequest) -> StoppingPolicy:
    return POLICY_FACTORIES[request.param]()


def _with(trial: list[float], finished: bool = False) -> dict[object, TrialCurve]:
    curves: dict[object, TrialCurve] = dict(_population())
    curves["new"] = TrialCurve(trial, finished)
    return curves


# --- the shared suite -----------------------------------------------------------------


def test_registry_names_every_policy() -> None:
    assert set(POLICIES) == set(POLICY_FACTORIES)
    for name, make in POLICIES.items():
        assert make().name == name


@pytest.mark.parametrize("length", [1, 3, 5, 9, 15, 27, 29])
@pytest.mark.parametrize("top", [0.2, 0.5, 0.9])
def test_identical_input_gives_identical_decisions(
    policy: StoppingPolicy, length: int, top: float
) -> None:
    curves = _with(_rising(top)[:length])
    first = policy.decide("new", curves, MAX_EPOCHS)
    again = policy.decide("new", dict(curves), MAX_EPOCHS)
    fresh = type(policy).decide(policy, "new", _with(_rising(top)[:length]), MAX_EPOCHS)
    assert first == again == fresh
    assert isinstance(first, Decision)
    assert first.action in (CONTINUE, STOP)
    assert first.reason


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 4, -1])
def test_diverged_curve_is_stopped(policy: StoppingPolicy, bad: float, where: int) -> None:
    curve = _rising(0.9)[:10]
    curve[where] = bad
    assert policy.decide("new", _with(curve), MAX_EPOCHS) == Decision(STOP, DIVERGED)


def test_too_few_points_continue(policy: StoppingPolicy) -> None:
    min_epochs = getattr(policy, "min_epochs", 1)
    for length in {0, min_epochs - 1}:
        decision = policy.decide("new", _with([0.01] * length), MAX_EPOCHS)
        assert decision.action == CONTINUE


def test_a_lone_first_trial_continues(policy: StoppingPolicy) -> None:
    curves = {"only": TrialCurve(_rising(0.9)[:10])}
    for rung in policy.rungs(MAX_EPOCHS):
        if rung <= 10:
            curves = {"only": TrialCurve(_rising(0.9)[:rung])}
            assert policy.decide("only", curves, MAX_EPOCHS).action == CONTINUE


@pytest.mark.parametrize("max_epochs", [1, 2, 10, 50, 200])
def test_rungs_are_sorted_epochs_below_the_budget(policy: StoppingPolicy, max_epochs: int) -> None:
    rungs = policy.rungs(max_epochs)
    assert rungs == sorted(set(rungs))
    assert all(1 <= r < max_epochs for r in rungs)


def test_the_best_trial_is_never_stopped(policy: StoppingPolicy) -> None:
    best = list(np.clip(np.array(_rising(0.99)) + 0.02, 0, 1))
    for rung in policy.rungs(MAX_EPOCHS):
        decision = policy.decide("new", _with(best[:rung]), MAX_EPOCHS)
        assert decision.action == CONTINUE, (rung, decision)


def test_policies_are_values() -> None:
    assert AshaPolicy(eta=2, min_epochs=3) == AshaPolicy(eta=2, min_epochs=3)
    assert hash(LearningCurvePolicy()) == hash(LearningCurvePolicy())


# --- bad parameters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "parameter"),
    [
        (lambda: AshaPolicy(eta=1), "eta"),
        (lambda: HyperbandPolicy(eta=0), "eta"),
        (lambda: AshaPolicy(min_epochs=10, max_epochs=5), "max_epochs"),
        (lambda: HyperbandPolicy(min_epochs=10, max_epochs=5), "max_epochs"),
        (lambda: AshaPolicy(min_epochs=0), "min_epochs"),
        (lambda: LearningCurvePolicy(delta=0.0), "delta"),
        (lambda: LearningCurvePolicy(delta=1.0), "delta"),
        (lambda: LearningCurvePolicy(delta=-0.1), "delta"),
        (lambda: LearningCurvePolicy(interval=0), "interval"),
        (lambda: LearningCurvePolicy(calibrated="yes"), "calibrated"),  # type: ignore[arg-type]
        (lambda: LearningCurvePolicy(learned_prior=1), "learned_prior"),  # type: ignore[arg-type]
        (lambda: LearningCurvePolicy(prior="store"), "prior"),  # type: ignore[arg-type]
        (lambda: MedianPolicy(n_startup_trials=-1), "n_startup_trials"),
        (lambda: PatiencePolicy(patience=0), "patience"),
        (lambda: PatiencePolicy(min_delta=-1.0), "min_delta"),
        (lambda: AnyOf(()), "policies"),
        (lambda: lce_asha(delta=2.0), "delta"),
    ],
)
def test_invalid_parameters_name_the_parameter(make: Callable[[], object], parameter: str) -> None:
    with pytest.raises(ValueError, match=f"^{parameter} must"):
        make()


def test_eta_message_says_what_was_given() -> None:
    with pytest.raises(ValueError, match="eta must be an integer >= 2, got 1"):
        AshaPolicy(eta=1)


# --- each policy's own rule -----------------------------------------------------------


def test_patience_stops_a_plateau_and_continues_a_climb() -> None:
    policy = PatiencePolicy(patience=3, min_delta=0.01)
    flat = [0.5, 0.6, 0.7, 0.7, 0.705, 0.704]
    climbing = [0.5, 0.6, 0.7, 0.72, 0.74, 0.76]
    assert policy.decide(0, {0: TrialCurve(flat)}, 20).action == STOP
    assert policy.decide(0, {0: TrialCurve(climbing)}, 20).action == CONTINUE


def test_median_rule_worked_example() -> None:
    # Running averages up to epoch 3 of the others: 0.6, 0.4 and 0.1, so the median is 0.4.
    others = {
        "a": TrialCurve([0.5, 0.6, 0.7, 0.8], finished=True),
        "b": TrialCurve([0.2, 0.4, 0.6]),
        "c": TrialCurve([0.1, 0.1, 0.1]),
    }
    policy = MedianPolicy(n_startup_trials=3)
    below = {**others, "x": TrialCurve([0.1, 0.3, 0.35])}  # best 0.35 < 0.4
    above = {**others, "x": TrialCurve([0.1, 0.45, 0.2])}  # best 0.45 >= 0.4
    assert policy.decide("x", below, 10) == Decision(STOP, "best 0.35 < median 0.4 at epoch 3")
    assert policy.decide("x", above, 10).action == CONTINUE
    assert MedianPolicy(n_startup_trials=4).decide("x", below, 10).action == CONTINUE


@pytest.mark.parametrize("eta", [2, 3, 4])
@pytest.mark.parametrize("n_trials", [4, 8, 9, 12, 30])
def test_asha_promotes_exactly_the_top_1_over_eta_of_a_rung(eta: int, n_trials: int) -> None:
    policy = AshaPolicy(eta=eta, min_epochs=2)
    rung = policy.rungs(100)[1]
    rng = np.random.default_rng(eta * 100 + n_trials)
    finals = rng.permutation(n_trials) / n_trials
    curves = {i: TrialCurve([float(v)] * rung) for i, v in enumerate(finals)}
    promoted = {i for i in curves if policy.decide(i, curves, 100).action == CONTINUE}
    expected = set(np.argsort(-finals)[: max(1, n_trials // eta)].tolist())
    assert promoted == expected


def test_asha_rungs_are_geometric() -> None:
    assert AshaPolicy(eta=3, min_epochs=1).rungs(100) == [1, 3, 9, 27, 81]
    assert AshaPolicy(eta=2, min_epochs=5, max_epochs=40).rungs(100) == [5, 10, 20]


def test_asha_ties_go_to_the_earlier_trial() -> None:
    curves = {i: TrialCurve([0.5]) for i in range(4)}
    decisions = [AshaPolicy(eta=2).decide(i, curves, 10).action for i in range(4)]
    assert decisions == [CONTINUE, CONTINUE, STOP, STOP]


def test_hyperband_brackets_are_stable_and_all_used() -> None:
    policy = HyperbandPolicy(eta=3, min_epochs=1)
    brackets = [policy.bracket(i, 81) for i in range(3000)]
    assert brackets == [policy.bracket(i, 81) for i in range(3000)]
    assert set(brackets) == set(range(len(policy.rungs(81))))


def test_hyperband_compares_a_trial_only_within_its_bracket() -> None:
    policy = HyperbandPolicy(eta=2, min_epochs=1)
    zero = [i for i in range(200) if policy.bracket(i, 16) == 0][:2]
    other = [i for i in range(200) if policy.bracket(i, 16) != 0][:10]
    curves = {i: TrialCurve([0.9]) for i in other}
    curves |= {zero[0]: TrialCurve([0.5]), zero[1]: TrialCurve([0.4])}
    assert policy.decide(zero[0], curves, 16).action == CONTINUE
    assert policy.decide(zero[1], curves, 16).action == STOP


def test_lce_waits_for_a_finished_trial() -> None:
    hopeless = TrialCurve([0.1, 0.11, 0.12, 0.12, 0.13, 0.13])
    running = {"good": TrialCurve(_rising(0.95)[:20]), "x": hopeless}
    assert LearningCurvePolicy().decide("x", running, MAX_EPOCHS).action == CONTINUE
    finished = {"good": TrialCurve(_rising(0.95), finished=True), "x": hopeless}
    decision = LearningCurvePolicy().decide("x", finished, MAX_EPOCHS)
    assert decision.action == STOP
    assert decision.reason.startswith("P(final >= ")
    # its forecast of the final value travels with the decision (the dashboard draws it)
    assert decision.predicted_final is not None and 0.1 <= decision.predicted_final < 0.95
    combined = lce_asha(min_epochs=5).decide("x", finished, MAX_EPOCHS)
    assert combined.predicted_final == decision.predicted_final


def test_lce_continues_a_trial_that_may_still_win() -> None:
    curves = {"good": TrialCurve(_rising(0.9), True), "x": TrialCurve(_rising(0.95)[:8])}
    assert LearningCurvePolicy().decide("x", curves, MAX_EPOCHS).action == CONTINUE


def test_lce_never_decides_before_min_epochs() -> None:
    curves = {"good": TrialCurve(_rising(0.95), True), "x": TrialCurve([0.1, 0.1, 0.1])}
    policy = LearningCurvePolicy(min_epochs=4)
    assert policy.rungs(MAX_EPOCHS)[0] == 4
    assert policy.decide("x", curves, MAX_EPOCHS).action == CONTINUE


def test_any_of_asks_each_policy_only_at_its_own_rungs() -> None:
    combined = lce_asha(min_epochs=3, eta=3)
    assert combined.rungs(30) == sorted(set(range(3, 30)) | {3, 9, 27})
    curves = {"good": TrialCurve(_rising(0.95), True), "x": TrialCurve(_rising(0.94)[:4])}
    curves |= {i: TrialCurve(_rising(0.99)[:4]) for i in range(5)}
    # Epoch 4 is no ASHA rung, so being last of seven there does not stop the trial.
    assert combined.decide("x", curves, 30).action == CONTINUE


def test_lce_continues_a_trial_at_the_best_final_without_a_forecast() -> None:
    finished = {"good": TrialCurve(_rising(0.8), finished=True)}
    falling = TrialCurve([0.95, 0.9, 0.85, 0.82, 0.81, 0.805])  # at 0.805 >= 0.8, going down
    decision = LearningCurvePolicy().decide("x", {**finished, "x": falling}, MAX_EPOCHS)
    assert decision.action == CONTINUE and decision.predicted_final is None


def test_lce_with_a_prior_decides_from_it() -> None:
    from nas.stopping.prior import CurvePrior

    rng = np.random.default_rng(0)
    stuck_then_learn = [
        np.clip(
            0.1 + 0.85 * (1 - np.exp(-np.maximum(EPOCHS - 8, 0) / 3)) + rng.normal(0, 0.005, 30),
            0,
            1,
        )
        for _ in range(30)
    ]
    prior = CurvePrior.build(stuck_then_learn, (0.0, 1.0))
    curves = {"good": TrialCurve(_rising(0.9), finished=True), "x": TrialCurve([0.1] * 6)}
    assert LearningCurvePolicy().decide("x", curves, MAX_EPOCHS).action == STOP
    with_prior = LearningCurvePolicy(prior=prior).decide("x", curves, MAX_EPOCHS)
    assert with_prior.action == CONTINUE  # stored curves that began flat went on to 0.95
    assert with_prior.predicted_final is not None and with_prior.predicted_final > 0.8
