"""Training data as a fidelity: nested, deterministic subsamples that grow at each rung."""

import numpy as np
import pytest

from nas.data import load_builtin, split
from nas.nn.scaling import Scaler
from nas.search.fidelity import fraction_for, schedule, subsample
from nas.search.trial import TrialTask, TrialTrainer, build_model
from nas.space import Candidate


def test_schedule_grows_by_eta_per_rung_and_ends_on_all_rows():
    plan = schedule([2, 4, 8, 16], max_epochs=20, low=0.25, eta=2)
    assert plan == ((2, 0.25), (4, 0.5), (8, 1.0), (16, 1.0), (20, 1.0))
    assert [fraction_for(plan, e) for e in (1, 2, 3, 4, 5, 20)] == [0.25, 0.25, 0.5, 0.5, 1, 1]
    assert schedule([], max_epochs=10, low=0.1, eta=3) == ((10, 1.0),)


def test_subsample_is_deterministic_nested_and_keeps_every_class():
    y = np.repeat(np.arange(5), [40, 30, 20, 6, 4])
    small = subsample(y, 0.1, seed=7, stratify=True)
    assert np.array_equal(small, subsample(y, 0.1, seed=7, stratify=True))
    assert not np.array_equal(small, subsample(y, 0.1, seed=8, stratify=True))
    assert set(y[small]) == set(range(5))  # even the 4-row class
    larger = subsample(y, 0.5, seed=7, stratify=True)
    assert set(small) < set(larger) and len(larger) == 20 + 15 + 10 + 3 + 2
    assert np.array_equal(subsample(y, 1.0, seed=7, stratify=True), np.arange(y.size))


@pytest.fixture(scope="module")
def digits():
    return split(load_builtin("digits"), seed=0)


def test_a_promoted_trial_keeps_its_weights_and_trains_on_more_rows(digits):
    plan = schedule([2, 4], max_epochs=6, low=0.25, eta=2)
    task = TrialTask(0, Candidate(widths=(16,), batch_size=64), seed=11, max_epochs=6)
    runner = TrialTrainer(TrialTask(**{**task.__dict__, "data_fractions": plan}), digits, True)
    seen = []
    fit_state = runner.model.fit_state

    def spy(X, y, **kw):  # the rows each rung really trains on (prepared once a fraction)
        seen.append(len(X))
        return fit_state(X, y, **kw)

    runner.model.fit_state = spy
    first = runner.advance(2)
    weights = [w.copy() for w in runner.model.coefs_]
    second = runner.advance(4)
    third = runner.advance(6)
    n = len(digits.y_train)
    assert (first.data_fraction, second.data_fraction, third.data_fraction) == (0.25, 0.5, 1.0)
    assert seen[0] < seen[1] < seen[2] == n and abs(seen[0] - n / 4) < 10
    assert [x.epoch for x in second.logs] == [3, 4]  # went on, not started again
    # the weights after rung 1 are where rung 2 started: rerunning rung 1 alone agrees
    again = TrialTrainer(TrialTask(**{**task.__dict__, "data_fractions": plan}), digits, True)
    again.advance(2)
    assert all(np.array_equal(a, b) for a, b in zip(weights, again.model.coefs_))


def test_validation_and_test_rows_are_never_subsampled(digits):
    plan = schedule([3], max_epochs=6, low=0.25, eta=2)
    runner = TrialTrainer(TrialTask(0, Candidate(widths=(16,)), 5, 6, plan), digits, True)
    result = runner.advance(3)
    assert result.data_fraction == 0.25
    val = runner.model.score(digits.X_val, digits.y_val)
    assert result.logs[-1].val_metric == pytest.approx(val)
    outcome = runner.outcome(keep_model=False)
    assert outcome.test_metric == pytest.approx(runner.model.score(digits.X_test, digits.y_test))


@pytest.mark.parametrize("name", ["digits", "diabetes"])
def test_a_share_of_the_rows_trains_under_the_scaling_of_all_of_them(name):
    """The first rung trains on a quarter of the rows, scaled (inputs, and a regressor's
    targets) by every training row: the curve of the same network trained on those rows
    scaled beforehand, by hand."""
    data = split(load_builtin(name), seed=0)
    classification = name == "digits"
    plan = schedule([2], max_epochs=4, low=0.25, eta=2)
    task = TrialTask(0, Candidate(widths=(16,), batch_size=64), 3, 4, plan)
    trial = TrialTrainer(task, data, classification)
    first = trial.advance(2)
    assert first.data_fraction == 0.25

    inputs = Scaler.fit(data.X_train, "standard", hold=True)  # clip_inputs, the default
    X, X_val = (inputs.transform(A, np.dtype(np.float64)) for A in (data.X_train, data.X_val))
    y, y_val = data.y_train, data.y_val
    by_hand = build_model(task, classification).set_params(scaling=None, max_iter=2)
    if not classification:
        targets = Scaler.fit(y.reshape(-1, 1), "standard")
        y, y_val = (targets.transform(v.reshape(-1, 1), np.dtype(np.float64)) for v in (y, y_val))
        y, y_val = y.ravel(), y_val.ravel()
        by_hand.set_params(target_scaling=None)
    rows = subsample(data.y_train, 0.25, task.seed, stratify=classification)
    logs = []
    by_hand.fit(X[rows], y[rows], X_val=X_val, y_val=y_val, callback=logs.append)
    points = [(p.train_loss, p.val_loss, p.val_metric) for p in first.logs]
    assert points == [(p.train_loss, p.val_loss, p.val_metric) for p in logs]
    assert trial.advance(4).data_fraction == 1.0  # and it goes on under the same scaling


def test_a_trial_trained_rung_by_rung_equals_one_fit_of_all_its_epochs(digits):
    # the trainer prepares a trial's rows once and goes on from its fit state each rung
    task = TrialTask(0, Candidate(widths=(16,), batch_size=64, dropout=0.1), seed=4, max_epochs=6)
    runner = TrialTrainer(task, digits, True)
    curve = [log.val_metric for e in (2, 3, 6) for log in runner.advance(e).logs]
    alone = build_model(task, True).set_params(max_iter=6)
    logs = []
    alone.fit(
        digits.X_train, digits.y_train, X_val=digits.X_val, y_val=digits.y_val, callback=logs.append
    )
    assert curve == [log.val_metric for log in logs] and len(curve) == 6
    assert all(np.array_equal(a, b) for a, b in zip(runner.model.coefs_, alone.coefs_))
