"""The search driver end to end on the local executor, with a real SQLite store."""

from datetime import timedelta

import numpy as np
import pytest

from nas import store as db
from nas.nn import from_bytes
from nas.search import SearchDriver, load_problem, submit_and_claim, trial_seed
from nas.search.executors import LocalExecutor
from nas.search.trial import FAILED, RungResult
from nas.spec import JobSpec

TINY_SPACE = {
    "n_layers": [1, 2],
    "width": [4, 32],
    "activation": ["relu", "tanh"],
    "batch_size": [32, 64],
    "max_epochs": 8,
    "learning_rate": [1e-3, 3e-2],
}


def _spec(**kw) -> JobSpec:
    base = {
        "dataset": "iris",
        "space": TINY_SPACE,
        "budget": {"trials": 6},
        "stopping": {"policy": "none"},
        "searcher": "random",
        "seed": 3,
    }
    return JobSpec.model_validate({**base, **kw})


def _run(store, spec, runner="test", **kw):
    job_id = submit_and_claim(store, spec, runner)
    status = SearchDriver(spec, store, job_id, runner=runner, **kw).run()
    return job_id, status


def _trials(store, job_id):
    with store.session() as s:
        return db.list_trials(s, job_id)


def test_trial_budget_is_honoured_exactly_and_results_are_stored(store):
    job_id, status = _run(store, _spec())
    trials = _trials(store, job_id)
    assert status == "finished" and [t.number for t in trials] == list(range(6))
    assert all(t.status == "finished" and t.epochs_run == 8 for t in trials)
    assert all(t.test_metric is not None and t.seed == trial_seed(3, t.number) for t in trials)
    with store.session() as s:
        assert db.get_job(s, job_id).status == "finished"
        assert len(db.curve(s, trials[0].id)) == 8


def test_epoch_budget_is_honoured_exactly(store):
    job_id, _ = _run(store, _spec(budget={"trials": 100, "epochs": 30}))
    assert sum(t.epochs_run for t in _trials(store, job_id)) == 30


def test_same_spec_and_seed_give_identical_results(store):
    a, _ = _run(store, _spec(searcher="tpe", stopping={"policy": "asha"}))
    b, _ = _run(store, _spec(searcher="tpe", stopping={"policy": "asha"}))
    key = lambda t: (t.params, t.status, t.epochs_run, t.val_metric, t.test_metric)  # noqa: E731
    assert [key(t) for t in _trials(store, a)] == [key(t) for t in _trials(store, b)]


def test_stopping_prunes_and_saves_epochs(store):
    job_id, _ = _run(
        store,
        _spec(
            budget={"trials": 12},
            stopping={"policy": "asha"},
            space={**TINY_SPACE, "max_epochs": 27},
        ),
    )
    trials = _trials(store, job_id)
    assert {t.status for t in trials} >= {"finished", "pruned"}
    with store.session() as s:
        summary = db.job_summary(s, job_id, max_epochs=27)
    assert summary.epochs_saved > 0 and summary.epochs_spent < 12 * 27


def test_diverged_trials_are_recorded_not_fatal(store):
    space = {
        **TINY_SPACE,
        "optimizer": ["sgd"],
        "learning_rate": [5.0, 10.0],
        "activation": ["relu"],
    }
    job_id, status = _run(store, _spec(space=space, dataset="diabetes"))
    trials = _trials(store, job_id)
    assert status == "finished" and len(trials) == 6
    assert any(t.status == "diverged" and t.error for t in trials)


def test_a_candidate_already_trained_is_not_trained_again(store):
    one = {
        "n_layers": [1, 1],
        "width": [8, 8],
        "activation": ["relu"],
        "dropout": [0, 0],
        "weight_decay": [0, 0],
        "batch_norm": [False],
        "learning_rate": [1e-3, 1e-3],
        "batch_size": [32],
        "max_epochs": 3,
    }
    job_id, status = _run(store, _spec(space=one, budget={"trials": 5}))
    assert status == "finished" and len(_trials(store, job_id)) == 1


def test_best_model_is_kept_and_predicts(store):
    # the searched model (refit: test_refit.py; the ensemble: test_ensemble.py)
    job_id, _ = _run(store, _spec(refit=False, ensemble=False))
    with store.session() as s:
        best = db.leaderboard(s, job_id, k=1)[0]
        model = from_bytes(db.load_model(s, best.id).payload)
    from nas.search import load_problem

    data = load_problem(_spec()).data
    assert model.score(data.X_test, data.y_test) == pytest.approx(best.test_metric)


class _Crash(BaseException):
    """Stands in for the process dying: not an Exception, so nothing cleans up."""


def _crash_and_hand_over(store, spec, after_trials: int) -> int:
    """Runner "first" dies after `after_trials` trials; its job is reaped and claimed by
    runner "second". Returns the job's id."""

    def crash(p):
        if p.trials_done == after_trials:
            raise _Crash

    with pytest.raises(_Crash):
        _run(store, spec, runner="first", progress=crash)
    with store.session() as s:
        job_id = db.list_jobs(s)[0].id
        db.reap_stale(s, older_than=timedelta(seconds=-1))
        assert db.claim_job(s, runner="second", job_id=job_id) is not None
    return job_id


def test_a_crashed_run_resumes_without_duplicates_or_gaps(store):
    spec = _spec(
        budget={"trials": 7},
        searcher="evolution",
        searcher_options={"population": 4, "sample_size": 2},
    )
    job_id = _crash_and_hand_over(store, spec, after_trials=3)
    assert SearchDriver(spec, store, job_id, runner="second").run() == "finished"
    trials = _trials(store, job_id)
    assert [t.number for t in trials] == list(range(7))
    assert all(t.status == "finished" for t in trials)
    keys = {tuple(sorted((k, str(v)) for k, v in t.params.items())) for t in trials}
    assert len(keys) == 7


class _FailingLastTrial(LocalExecutor):
    """Reports the last trial's first rung as a lost worker, `times` times."""

    def __init__(self, *args, last: int, times: int):
        super().__init__(*args)
        self.last, self.times = last, times

    def wait(self):
        [result] = super().wait()
        if result.number == self.last and self.times:
            self.times -= 1
            return [RungResult(result.number, (), FAILED, "worker died: test")]
        return [result]


@pytest.mark.parametrize(("times", "status", "attempt"), [(1, "finished", 2), (3, "failed", 3)])
def test_a_failed_trial_is_retried_after_the_trial_budget_is_used(store, times, status, attempt):
    spec = _spec(budget={"trials": 3})
    problem = load_problem(spec)
    executor = _FailingLastTrial(problem.data, problem.classification, last=2, times=times)
    job_id, run_status = _run(store, spec, executor=executor, problem=problem)
    trials = _trials(store, job_id)
    assert run_status == "finished" and [t.number for t in trials] == [0, 1, 2]
    assert (trials[2].status, trials[2].attempt) == (status, attempt)
    assert [t.status for t in trials[:2]] == ["finished", "finished"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"space": {"width": [-4, 16]}}, "space.width"),
        ({"space": {"learning_rate": [0.1, 0.01]}}, "space.learning_rate"),
        ({"space": {"activation": []}}, "space.activation"),
        ({"dataset": "mnist"}, "dataset"),
        ({"searcher": "hillclimb"}, "searcher"),
        ({"budget": {"trials": None}}, "budget"),
        ({"stopping": {"policy": "asha", "options": {"eta": 1}}}, "stopping"),
    ],
)
def test_bad_specs_are_refused_with_the_field_named(change, field):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as info:
        _spec(**change)
    locs = {".".join(str(x) for x in e["loc"]) for e in info.value.errors()}
    assert any(loc.startswith(field) for loc in locs), locs


def test_csv_without_the_named_target_is_refused_when_read(tmp_path):
    from nas.data import DataError

    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n1,2,0\n3,4,1\n")
    spec = _spec(dataset={"csv": str(path), "target": "label"})  # validation opens no file
    with pytest.raises(DataError, match="target column 'label' is not in the CSV header"):
        load_problem(spec)


def test_two_objectives_give_a_pareto_front(store):
    job_id, _ = _run(store, _spec(searcher="nsga2", objectives=["val_metric", "n_params"]))
    with store.session() as s:
        front = db.pareto_front(s, job_id)
    assert front and all(np.isfinite(t.val_metric) for t in front)


def test_curve_extrapolation_on_regression_uses_r2_bounds(store):
    spec = _spec(
        dataset="diabetes",
        stopping={"policy": "lce", "options": {"min_epochs": 3}},
        budget={"trials": 5},
    )
    job_id, status = _run(store, spec)
    trials = _trials(store, job_id)
    assert status == "finished" and len(trials) == 5
    pruned = [t for t in trials if t.status == "pruned"]
    assert pruned, "the search this test relies on prunes with lce"
    # the policy's forecast of the final value is stored for the dashboard to draw
    assert all(t.predicted_final is not None and t.predicted_final <= 1.0 for t in pruned)
    assert all(t.predicted_final is None for t in trials if t.status == "finished")


def test_learned_prior_is_built_from_earlier_jobs_on_the_same_data_set(store):
    lce = {"policy": "lce", "options": {"min_epochs": 3, "learned_prior": True}}
    first = _spec(stopping=lce)
    job_id = submit_and_claim(store, first, "test")
    assert SearchDriver(first, store, job_id, runner="test").policy.prior is None  # no history
    _run(store, _spec(budget={"trials": 10}))  # ten finished curves on iris
    _run(store, _spec(dataset="wine", budget={"trials": 10}))  # another data set's
    again = _spec(stopping=lce, seed=4)
    job_id = submit_and_claim(store, again, "test")
    prior = SearchDriver(again, store, job_id, runner="test").policy.prior
    assert prior is not None and prior.n_curves == 10
    plain = _spec(stopping={"policy": "lce"}, seed=5)
    job_id = submit_and_claim(store, plain, "test")
    assert SearchDriver(plain, store, job_id, runner="test").policy.prior is None  # off by default


def test_a_trial_written_after_the_job_was_taken_over_does_not_break_the_resume(store):
    # runner "first" loses its lease; before it notices, it writes one more trial whose
    # ask never reached the saved searcher state. The new owner resumes and finishes.
    spec = _spec(budget={"trials": 6})
    job_id = _crash_and_hand_over(store, spec, after_trials=2)
    with store.session() as s:
        stray = {**_trials(store, job_id)[0].params, "widths": [5]}
        assert not db.save_searcher_state(s, job_id, {}, runner="first")  # lands nowhere
        late = db.start_trial(s, job_id, params=stray, worker="first", seed=1, n_params=10)
        db.end_trial(s, late.id, status="finished", val_metric=0.5)
    assert SearchDriver(spec, store, job_id, runner="second").run() == "finished"
    trials = _trials(store, job_id)
    assert [t.number for t in trials] == list(range(len(trials))) and len(trials) >= 6
    assert {t.status for t in trials} == {"finished"}


def test_a_runner_that_lost_its_job_starts_no_more_trials(store):
    spec = _spec(budget={"trials": 6})
    job_id = submit_and_claim(store, spec, "first")
    with store.session() as s:
        db.release_job(s, job_id, runner="first")
        assert db.claim_job(s, runner="second", job_id=job_id) is not None
    assert SearchDriver(spec, store, job_id, runner="first").run() == "cancelled"
    assert _trials(store, job_id) == []
