"""Cheaper evaluations through the driver (LocalExecutor, real SQLite store): data-fraction
fidelity, proxy screening and warm start, each end to end."""

import pytest

from nas import store as db
from nas.search import SearchDriver, submit_and_claim
from nas.spec import JobSpec
from tests.search.test_driver import _run, _trials
from tests.search.test_driver import _spec as spec_of

SPACE = {
    "n_layers": [1, 2],
    "width": [8, 64],
    "activation": ["relu", "tanh"],
    "batch_size": [32, 64],
    "max_epochs": 8,
    "learning_rate": [1e-3, 3e-2],
}
ASHA = {"policy": "asha", "options": {"min_epochs": 2, "eta": 2}}


def _spec(**kw) -> JobSpec:
    base = {"space": SPACE, "budget": {"trials": 8}, "stopping": ASHA}
    return spec_of(**{**base, **kw})


@pytest.fixture
def store(tmp_path):
    s = db.open_store(f"sqlite:///{tmp_path / 'nas.db'}")
    yield s
    s.close()


def _fractions(store, trial):
    with store.session() as s:
        return [p.data_fraction for p in db.curve(s, trial.id)]


def test_data_fraction_grows_at_each_rung_and_every_epoch_records_it(store):
    spec = _spec(fidelity={"data_fraction": {"min": 0.25, "eta": 2}})
    job_id, status = _run(store, spec)
    trials = _trials(store, job_id)
    assert status == "finished" and len(trials) == 8
    finished = [t for t in trials if t.status == "finished"]
    assert finished, "ASHA lets the best trials run to the end"
    for t in finished:  # rungs 2, 4 of 8 epochs: a quarter, a half, then all rows
        assert _fractions(store, t) == [0.25] * 2 + [0.5] * 2 + [1.0] * 4
    for t in trials:
        assert _fractions(store, t)[:2] == [0.25, 0.25]


def test_without_the_option_every_epoch_uses_all_rows(store):
    job_id, _ = _run(store, _spec(budget={"trials": 2}))
    assert all(set(_fractions(store, t)) == {1.0} for t in _trials(store, job_id))


def test_the_epoch_budget_counts_epochs_on_a_fraction_as_that_fraction(store):
    spec = _spec(
        fidelity={"data_fraction": {"min": 0.25, "eta": 2}}, budget={"trials": 100, "epochs": 12}
    )
    job_id, _ = _run(store, spec)
    trials = _trials(store, job_id)
    spent = sum(sum(_fractions(store, t)) for t in trials)
    assert 11 <= spent <= 12
    assert sum(t.epochs_run for t in trials) > 12  # more epochs than the budget's full ones


def test_proxy_screening_trains_only_the_kept_candidates_and_records_the_proxies(store):
    spec = _spec(
        proxy={"width_scale": 0.25, "epochs": 2, "keep": 0.25, "pool": 8},
        stopping={"policy": "none"},
        budget={"trials": 4},
    )
    job_id, status = _run(store, spec)
    trials = _trials(store, job_id)
    with store.session() as s:
        proxies = db.list_proxies(s, job_id)
    assert status == "finished" and len(trials) == 4
    assert all(t.status == "finished" and t.epochs_run == 8 for t in trials)  # in full
    assert len(proxies) == 16 and sum(p.kept for p in proxies) == 4  # 2 pools of 8, keep 2
    expected = []
    for pool in (proxies[:8], proxies[8:]):  # the best two proxies of each pool, best first
        best = sorted(pool, key=lambda p: (-(p.val_metric or -1.0), p.number))[:2]
        assert all(p.kept for p in best)
        expected += [p.params for p in best]
    assert [t.params for t in trials] == expected
    assert all(p.epochs == 2 and p.width_scale == 0.25 for p in proxies)
    assert all(0 < p.cost < 2 for p in proxies)  # a quarter-width network: cheaper epochs


def test_warm_start_trains_the_source_top_candidates_first_and_links_the_jobs(store):
    source, _ = _run(store, _spec(stopping={"policy": "none"}, budget={"trials": 6}))
    with store.session() as s:
        top = [t.params for t in db.leaderboard(s, source, k=3)]
    job_id, status = _run(store, _spec(seed=9, warm_start={"job_id": source, "top": 3}))
    trials = _trials(store, job_id)
    assert status == "finished" and len(trials) == 8
    assert [t.params for t in trials[:3]] == top
    assert all(t.params not in top for t in trials[3:])
    with store.session() as s:
        assert db.get_job(s, job_id).warm_start_job_id == source


@pytest.mark.parametrize("source", ["missing", "running"])
def test_warm_start_from_a_missing_or_unfinished_job_fails_the_job_saying_why(store, source):
    if source == "missing":
        source_id, expected = 999, "no job with id 999"
    else:
        with store.session() as s:
            job = db.create_job(s, name="busy", spec={}, seed=0)
            db.claim_job(s, runner="other", job_id=job.id)
            source_id, expected = job.id, "only a finished job can seed another"
    spec = _spec(warm_start={"job_id": source_id, "top": 2})
    job_id = submit_and_claim(store, spec, "test")
    with pytest.raises(db.WarmStartError, match=expected):
        SearchDriver(spec, store, job_id, runner="test").run()
    with store.session() as s:
        job = db.get_job(s, job_id)
        assert job.status == "failed" and expected in job.error
        assert db.count_trials(s, job_id) == 0
