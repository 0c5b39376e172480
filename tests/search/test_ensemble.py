"""Ensembles of the found networks (nn/ensemble.py, search/ensemble.py,
search/ensemble_step.py, spec.ensemble)."""

import io

import numpy as np
import pytest
from pydantic import ValidationError

from nas import store as db
from nas.nn import (
    MLPClassifier,
    MLPRegressor,
    Preprocessing,
    TabularModel,
    from_bytes,
    load,
    to_bytes,
    with_preprocessing,
)
from nas.search import SearchDriver, load_problem, submit_and_claim
from nas.search.ensemble import Ensemble, greedy_selection, is_ensemble
from nas.search.ensemble import to_bytes as ensemble_to_bytes
from nas.search.ensemble_step import TopValues, build_ensemble
from nas.search.refit import refit
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
        "budget": {"trials": 6},
        "stopping": {"policy": "none"},
        "searcher": "random",
        "seed": 4,
        "ensemble": {"size": 8, "pool": 5},
    }
    return JobSpec.model_validate(base | kw)


def _run(store, spec):
    job_id = submit_and_claim(store, spec, "test")
    assert SearchDriver(spec, store, job_id, runner="test").run() == "finished"
    with store.session() as s:
        best = db.best_model(s, job_id)
        assert best is not None
        return job_id, db.list_trials(s, job_id), best[0], best[1]


# -- greedy selection -------------------------------------------------------------------


def test_selection_averages_networks_whose_errors_cancel_and_skips_a_useless_one():
    target = np.linspace(-1, 1, 50)
    wave = 0.3 * np.sin(np.arange(50))
    over, under, noise = target + wave, target - wave, np.zeros(50)
    counts = greedy_selection([over, noise, under], target, classification=False, size=10)
    assert counts[1] == 0  # predicting nothing never helps
    assert counts[0] == counts[2] == 5  # the average of the two is exact


def test_selection_keeps_the_best_alone_when_nothing_helps_and_counts_sum_to_size():
    target = np.array([0, 1, 1, 0, 1])
    right = np.eye(2)[target] * 0.8 + 0.1
    wrong = np.eye(2)[1 - target] * 0.8 + 0.1
    assert greedy_selection([wrong, right], target, classification=True, size=7) == [0, 7]


def test_selection_breaks_accuracy_ties_by_log_loss_then_by_rank():
    target = np.array([0, 1])
    sure = np.array([[0.9, 0.1], [0.1, 0.9]])
    unsure = np.array([[0.6, 0.4], [0.4, 0.6]])
    assert greedy_selection([unsure, sure], target, True, 1) == [0, 1]
    assert greedy_selection([sure, sure.copy()], target, True, 1) == [1, 0]


def test_selection_refuses_an_empty_pool_or_size():
    with pytest.raises(ValueError, match="size"):
        greedy_selection([np.zeros(3)], np.zeros(3), False, 0)
    with pytest.raises(ValueError, match="pool"):
        greedy_selection([], np.zeros(3), False, 3)


def test_top_values_admits_only_the_k_best_so_far():
    top = TopValues(2)
    assert [top.admit(v) for v in (0.5, 0.4, 0.3, 0.6, 0.45)] == [True, True, False, True, False]
    assert top.values == [0.6, 0.5]
    assert not TopValues(0).admit(1.0)


# -- the model and its file -------------------------------------------------------------


def _fitted(seed: int, regression: bool = False):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    if regression:
        return MLPRegressor((6,), max_iter=5, random_state=seed).fit(X, X @ [1.0, -2.0, 0.5]), X
    y = np.array(["a", "b", "c"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 1)]
    return MLPClassifier((6,), max_iter=5, random_state=seed).fit(X, y), X


def test_ensemble_averages_probabilities_and_outputs_by_weight():
    (a, X), (b, _) = _fitted(1), _fitted(2)
    ens = Ensemble([a, b], [3, 1])
    expected = 0.75 * a.predict_proba(X) + 0.25 * b.predict_proba(X)
    np.testing.assert_allclose(ens.predict_proba(X), expected)
    assert list(ens.predict(X)) == list(a.classes_[expected.argmax(axis=1)])
    assert ens.n_features_in_ == 3 and list(ens.classes_) == ["a", "b", "c"]
    (r1, X), (r2, _) = _fitted(1, True), _fitted(2, True)
    reg = Ensemble([r1, r2], [1, 1])
    np.testing.assert_allclose(reg.predict(X), (r1.predict(X) + r2.predict(X)) / 2)
    with pytest.raises(AttributeError):
        reg.predict_proba(X)
    with pytest.raises(ValueError, match="weight"):
        Ensemble([a, b], [1, 0])


def test_the_file_round_trips_bit_for_bit_without_pickle_and_nas_nn_load_reads_it():
    (a, X), (b, _) = _fitted(1), _fitted(2)
    ens = Ensemble([a, b], [2, 1], [{"number": 3}, {"number": 5}])
    payload = ensemble_to_bytes(ens, [to_bytes(a), to_bytes(b)])
    assert is_ensemble(payload) and not is_ensemble(to_bytes(a))
    back = load(io.BytesIO(payload))
    assert isinstance(back, Ensemble)
    np.testing.assert_array_equal(back.predict_proba(X), ens.predict_proba(X))
    assert back.weights == ens.weights and [i["number"] for i in back.info] == [3, 5]
    assert isinstance(from_bytes(to_bytes(a)), MLPClassifier)
    assert from_bytes(to_bytes(ens)).weights == ens.weights  # nas.nn.save writes one too


def test_an_ensemble_with_preprocessing_loads_as_a_tabular_model_preprocessing_once():
    (a, X), (b, _) = _fitted(1), _fitted(2)
    ens = Ensemble([a, b], [1, 3])
    prep = Preprocessing.numbers(["p", "q", "r"])
    payload = with_preprocessing(ensemble_to_bytes(ens, [to_bytes(a), to_bytes(b)]), prep)
    assert is_ensemble(payload)
    model = from_bytes(payload)
    assert isinstance(model, TabularModel) and isinstance(model.estimator, Ensemble)
    rows = [dict(zip("pqr", map(float, x))) for x in X[:6]]
    np.testing.assert_array_equal(model.predict_proba(rows), ens.predict_proba(X[:6]))
    assert from_bytes(to_bytes(model)).preprocessing == prep  # and saves back the same


def test_an_ensemble_member_carrying_preprocessing_is_refused():
    (a, _), (b, _) = _fitted(1), _fitted(2)
    prep = Preprocessing.numbers(["p", "q", "r"])
    bad = ensemble_to_bytes(Ensemble([a, b], [1, 1]), [with_preprocessing(to_bytes(a), prep)] * 2)
    with pytest.raises(ValueError, match="bare network"):
        from_bytes(bad)


# -- the spec ---------------------------------------------------------------------------


def test_spec_switches_the_ensemble_on_and_off_and_bounds_it():
    base = {"dataset": "iris"}
    assert JobSpec.model_validate(base).ensemble is None  # the default: the single best
    assert JobSpec.model_validate(base | {"ensemble": False}).ensemble is None
    assert JobSpec.model_validate(base | {"ensemble": True}).ensemble is not None
    assert JobSpec.model_validate(base | {"ensemble": {"size": 5}}).ensemble.size == 5
    with pytest.raises(ValidationError, match=r"ensemble\.size"):
        JobSpec.model_validate(base | {"ensemble": {"size": 0}})
    with pytest.raises(ValidationError, match=r"ensemble\.pool"):
        JobSpec.model_validate(base | {"ensemble": {"pool": 101}})


# -- the job's model --------------------------------------------------------------------


def test_the_job_model_is_the_refit_ensemble_and_scores_as_recorded(store):
    spec = _spec()
    job_id, trials, chosen, model = _run(store, spec)
    data = load_problem(spec).data
    ens = from_bytes(model.payload)
    assert isinstance(ens, Ensemble)
    info = model.meta["ensemble"]
    assert model.meta["refit"] is True and sum(m["weight"] for m in info["members"]) == 1
    assert chosen.refit_test_metric == pytest.approx(ens.score(data.X_test, data.y_test))
    assert info["test_metric"] == chosen.refit_test_metric
    by_number = {t.number: t for t in trials}
    for m, network in zip(info["members"], ens.members):
        t = by_number[m["number"]]
        assert t.status in ("finished", "pruned") and m["trial_id"] == t.id
        # each member is its trial refit on train + validation rows for its peak epochs
        again = refit(Candidate.model_validate(t.params), t.seed, m["epochs"], data, True)
        np.testing.assert_array_equal(
            from_bytes(again.model).predict_proba(data.X_test), network.predict_proba(data.X_test)
        )
    # the single best's refit score stands beside it
    single = refit(
        Candidate.model_validate(chosen.params), chosen.seed, chosen.refit_epochs, data, True
    )
    assert model.meta["single_test_metric"] == pytest.approx(single.test_metric)
    # a rerun (after a crash) leaves the stored ensemble as it is
    assert build_ensemble(store, job_id, spec, load_problem(spec))
    with store.session() as s:
        assert db.load_model(s, chosen.id).payload == model.payload


def test_the_pool_keeps_the_best_trials_networks(store):
    spec = _spec(ensemble={"size": 3, "pool": 3})
    _, trials, _, _ = _run(store, spec)
    with store.session() as s:
        kept = {t.number for t in trials if db.load_model(s, t.id) is not None}
    top = sorted(trials, key=lambda t: (-t.val_metric, t.number))[:3]
    assert {t.number for t in top} <= kept


def test_without_refit_the_members_are_the_searched_networks(store):
    spec = _spec(refit=False)
    _, trials, chosen, model = _run(store, spec)
    ens = from_bytes(model.payload)
    assert model.meta["refit"] is False and chosen.refit_test_metric is None
    data = load_problem(spec).data
    assert model.meta["ensemble"]["test_metric"] == pytest.approx(
        ens.score(data.X_test, data.y_test)
    )
    assert model.meta["single_test_metric"] == chosen.test_metric


def test_ensemble_false_with_one_refit_seed_keeps_the_single_refit_network(store):
    spec = _spec(ensemble=False, refit_seeds=1)
    _, _, chosen, model = _run(store, spec)
    assert "ensemble" not in model.meta and not is_ensemble(model.payload)
    data = load_problem(spec).data
    network = from_bytes(model.payload)
    assert network.score(data.X_test, data.y_test) == pytest.approx(chosen.refit_test_metric)
