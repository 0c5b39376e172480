"""A search with population training gives the leaderboard of the same search trained member
by member (LocalExecutor with as many slots), with the driver deciding everything."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from nas import store as db
from nas.nn.backend import BackendUnavailable, available
from nas.search import SearchDriver, load_problem, submit_and_claim
from nas.search.executors import LocalExecutor, PopulationExecutor, population_key
from nas.search.trial import FAILED, RUNNING, TrialTask, TrialTrainer, advance_population
from nas.space import Candidate
from nas.spec import JobSpec
from nas_cli.main import main

SPACE = {
    "n_layers": [1, 2],
    "width": [4, 32],
    "activation": ["relu", "tanh", "logistic"],
    "dropout": [0.0, 0.3],
    "batch_norm": [False, True],
    "optimizer": ["adam", "sgd"],
    "batch_size": [32, 64],
    "max_epochs": 9,
}


def _spec(**kw) -> JobSpec:
    base = {
        "dataset": "iris",
        "space": SPACE,
        "budget": {"trials": 14},
        "stopping": {"policy": "asha", "options": {"min_epochs": 1, "eta": 3}},
        "searcher": "random",
        "seed": 11,
        "population": {"size": 6},
    }
    return JobSpec.model_validate({**base, **kw})


def _search(store, spec, executor):
    job_id = submit_and_claim(store, spec, "test")
    assert SearchDriver(spec, store, job_id, runner="test", executor=executor).run() == "finished"
    with store.session() as s:
        trials = db.list_trials(s, job_id)
        curves = {t.number: [p.val_metric for p in db.curve(s, t.id)] for t in trials}
        board = [(t.number, t.val_metric) for t in db.leaderboard(s, job_id, k=20)]
        return trials, curves, board


def test_a_population_search_equals_the_search_member_by_member(store):
    spec = _spec()
    problem = load_problem(spec)
    data, cls = problem.data, problem.classification
    by_member = _search(store, spec, LocalExecutor(data, cls, slots=6))
    together = _search(store, spec, PopulationExecutor(data, cls, slots=6))
    (t1, c1, board1), (t2, c2, board2) = by_member, together
    assert {t.status for t in t1} >= {"finished", "pruned"}  # the driver stopped some
    assert len({(t.params["batch_size"], len(t.params["widths"])) for t in t1}) > 1
    key = [(t.number, t.params, t.status, t.epochs_run) for t in t1]
    assert [(t.number, t.params, t.status, t.epochs_run) for t in t2] == key
    for number, curve in c1.items():  # float32 training: equal up to rounding
        np.testing.assert_allclose(c2[number], curve, atol=1e-6)
    assert [n for n, _ in board2] == [n for n, _ in board1]
    np.testing.assert_allclose([v for _, v in board2], [v for _, v in board1], atol=1e-6)


def test_a_failing_member_is_recorded_and_the_others_train():
    spec = _spec()
    problem = load_problem(spec)
    tasks = [
        TrialTask(n, c, seed=n, max_epochs=4)
        for n, c in enumerate(spec.space.sample(np.random.default_rng(0)) for _ in range(3))
    ]
    runners = [TrialTrainer(t, problem.data, problem.classification) for t in tasks]
    runners[1].model.set_params(learning_rate_init=-1.0)  # refused by the estimator
    results = advance_population(runners, [2, 2, 2])
    assert [r.status for r in results] == [RUNNING, FAILED, RUNNING]
    assert "learning_rate_init" in (results[1].error or "")
    assert [r.epochs_done for r in results] == [2, 0, 2]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"population": {"size": 1}}, "population.size"),
        ({"population": None, "backend": "cupy"}, "backend"),
        ({"backend": "jax"}, "backend"),
    ],
)
def test_bad_population_settings_are_refused_with_the_field_named(change, field):
    with pytest.raises(ValidationError) as info:
        _spec(**change)
    text = str(info.value)
    assert field.split(".")[0] in text


@pytest.mark.skipif(available("cupy"), reason="CuPy and a GPU are here: cupy is not refused")
def test_cupy_where_it_cannot_run_is_refused_before_any_job_exists(tmp_path, capsys):
    spec = tmp_path / "spec.json"
    spec.write_text(_spec().model_dump_json())
    url = f"sqlite:///{tmp_path / 'nas.db'}"
    assert main(["run", str(spec), "--backend", "cupy", "--db", url]) == 2
    assert "backend 'cupy'" in capsys.readouterr().err
    with pytest.raises(BackendUnavailable, match="cupy"):
        PopulationExecutor(load_problem(_spec()).data, True, slots=2, backend="cupy")


def test_members_of_a_population_share_their_input_scaling():
    def key(scaling):
        return population_key(TrialTask(0, Candidate(widths=(8,), scaling=scaling), 1, 4))

    assert key("standard") != key("minmax") and key("minmax") == key("minmax")
