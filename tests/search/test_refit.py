"""Refit: the chosen trial retrained on train + validation rows (search/refit.py, spec.refit)."""

import math
from dataclasses import replace

import numpy as np
import pytest

from nas import store as db
from nas.nn import from_bytes
from nas.search import SearchDriver, load_problem, submit_and_claim
from nas.search.refit import best_epoch, refit
from nas.search.trial import TrialTask, build_model
from nas.space import Candidate
from nas.spec import JobSpec

SPACE = {
    "n_layers": [1, 2],
    "width": [4, 32],
    "activation": ["relu", "tanh"],
    "batch_size": [32, 64],
    "learning_rate": [1e-3, 3e-2],
    "max_epochs": 8,
}


def _spec(**kw) -> JobSpec:
    base = {
        "dataset": "iris",
        "space": SPACE,
        "budget": {"trials": 5},
        "stopping": {"policy": "none"},
        "searcher": "random",
        "seed": 4,
        "ensemble": False,  # the single network's refit (test_ensemble.py: the ensemble's)
        "refit_seeds": 1,  # one network (test_seed_averaging_*: the average of several)
    }
    return JobSpec.model_validate(base | kw)


def _run(store, spec, problem=None):
    job_id = submit_and_claim(store, spec, "test")
    assert SearchDriver(spec, store, job_id, runner="test", problem=problem).run() == "finished"
    with store.session() as s:
        trials = db.list_trials(s, job_id)
        best = db.best_model(s, job_id)
        assert best is not None
        curves = {t.id: [p.val_metric for p in db.curve(s, t.id)] for t in trials}
        return job_id, trials, best[0], best[1], curves


@pytest.mark.parametrize(
    ("curve", "epoch"),
    [
        ([0.5, 0.9, 0.7], 2),
        ([0.5, 0.9, 0.9, 0.8], 3),  # ties: the latest
        ([None, math.nan, 0.4, 0.3], 3),  # missing and diverged points are skipped
    ],
)
def test_best_epoch_is_where_the_validation_metric_peaked(curve, epoch):
    assert best_epoch(curve) == epoch


def test_best_epoch_refuses_a_curve_without_values():
    with pytest.raises(ValueError, match="no finite validation metric"):
        best_epoch([None, math.nan])


def test_refit_trains_on_train_and_validation_rows_for_the_epochs_given():
    data = load_problem(_spec()).data
    candidate = Candidate(widths=(8,), learning_rate=1e-2, batch_size=32)
    outcome = refit(candidate, seed=7, epochs=5, data=data, classification=True)
    model = from_bytes(outcome.model)
    assert outcome.epochs == 5 and model.n_iter_ == 5
    # the same network trained by hand on train + val rows, from the same seed
    by_hand = build_model(TrialTask(0, candidate, 7, 5), classification=True)
    by_hand.set_params(max_iter=5, warm_start=False)
    by_hand.fit(np.vstack([data.X_train, data.X_val]), np.concatenate([data.y_train, data.y_val]))
    np.testing.assert_array_equal(
        model.predict_proba(data.X_test), by_hand.predict_proba(data.X_test)
    )
    assert outcome.test_metric == pytest.approx(by_hand.score(data.X_test, data.y_test))
    # and it is not the network trained on the training rows alone
    alone = build_model(TrialTask(0, candidate, 7, 5), classification=True)
    alone.set_params(max_iter=5, warm_start=False).fit(data.X_train, data.y_train)
    assert not np.array_equal(model.predict_proba(data.X_test), alone.predict_proba(data.X_test))


def test_the_chosen_trial_is_refit_for_its_best_epochs_and_its_model_kept(store):
    _, trials, chosen, model, curves = _run(store, _spec())
    data = load_problem(_spec()).data
    assert chosen.refit_epochs == best_epoch(curves[chosen.id])
    assert [t.id for t in trials if t.refit_epochs is not None] == [chosen.id]
    assert model.meta["refit"] is True and model.meta["epochs"] == chosen.refit_epochs
    network = from_bytes(model.payload)
    assert network.n_iter_ == chosen.refit_epochs
    assert network.score(data.X_test, data.y_test) == pytest.approx(chosen.refit_test_metric)
    # the searched model's test metric is kept beside the refit one
    assert chosen.test_metric is not None


def test_without_refit_the_searched_model_is_kept(store):
    spec = _spec(refit=False)
    _, trials, chosen, model, _ = _run(store, spec)
    assert all(t.refit_epochs is None and t.refit_test_metric is None for t in trials)
    assert "refit" not in model.meta
    data = load_problem(spec).data
    assert from_bytes(model.payload).score(data.X_test, data.y_test) == pytest.approx(
        chosen.test_metric
    )


def test_the_test_rows_never_influence_a_choice(store):
    """Scrambled test labels change test metrics only: same trials, same choice, same refit."""
    spec = _spec(searcher="tpe", stopping={"policy": "asha"}, budget={"trials": 6})
    problem = load_problem(spec)
    scrambled = np.random.default_rng(0).permutation(problem.data.y_test)
    assert not np.array_equal(scrambled, problem.data.y_test)
    other = replace(problem, data=replace(problem.data, y_test=scrambled))
    a = _run(store, spec, problem)
    b = _run(store, spec, other)

    def choices(trials):
        return [(t.params, t.status, t.epochs_run, t.val_metric, t.refit_epochs) for t in trials]

    assert choices(a[1]) == choices(b[1])
    assert a[2].number == b[2].number
    assert [t.test_metric for t in a[1]] != [t.test_metric for t in b[1]]


def test_refit_is_on_by_default_and_can_be_switched_off():
    assert _spec().refit is True
    assert _spec(refit=False).model_dump()["refit"] is False


def test_seed_averaging_refits_from_the_trials_seed_first_then_from_drawn_ones():
    from nas.search.refit import member_seed, refit_averaged

    data = load_problem(_spec()).data
    candidate = Candidate(widths=(8,), learning_rate=1e-2, batch_size=32)
    averaged = refit_averaged(candidate, 7, 5, data, classification=True, n=3)
    assert averaged is not None
    assert averaged.seeds == [7, member_seed(7, 1), member_seed(7, 2)]
    assert len(set(averaged.seeds)) == 3
    alone = refit(candidate, seed=7, epochs=5, data=data, classification=True)
    assert averaged.first.model == alone.model  # the first is today's single refit
    ensemble = from_bytes(averaged.model)
    members = [from_bytes(refit(candidate, s, 5, data, True).model) for s in averaged.seeds]
    mean = np.mean([m.predict_proba(data.X_test) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.predict_proba(data.X_test), mean, rtol=1e-12)
    assert averaged.test_metric == pytest.approx(ensemble.score(data.X_test, data.y_test))


def test_a_job_with_refit_seeds_serves_the_average_and_records_one_networks_score(store):
    spec = _spec(refit_seeds=3)
    _, _, best, model, _ = _run(store, spec)
    served = from_bytes(model.payload)
    assert len(served.members) == 3 and served.weights == pytest.approx([1 / 3] * 3)
    ens = model.meta["ensemble"]
    assert ens["kind"] == "seeds" and ens["size"] == 3
    assert {m["number"] for m in ens["members"]} == {best.number}
    assert best.refit_test_metric == pytest.approx(ens["test_metric"])
    assert model.meta["single_test_metric"] is not None


def test_refit_seeds_is_checked_by_field_and_leaves_an_ensemble_alone():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="refit_seeds"):
        _spec(refit_seeds=0)
    with pytest.raises(ValidationError, match="refit_seeds"):
        _spec(refit_seeds=33)
    with_ensemble = JobSpec.model_validate({"dataset": "iris", "ensemble": True})
    assert with_ensemble.refit_seeds == 5  # the default, unused there: members refit alone
