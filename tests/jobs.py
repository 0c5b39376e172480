"""A small digits job run through the search driver, for tests that compare executors:
the spec, a runner that checks the job finished, and what two runs must agree on."""

from __future__ import annotations

from nas import store as db
from nas.search import SearchDriver, submit_and_claim
from nas.search.executors import Executor
from nas.spec import JobSpec

SMALL_SPACE = {
    "n_layers": [1, 1],
    "width": [16, 48],
    "activation": ["relu", "tanh"],
    "dropout": [0.0, 0.0],
    "batch_norm": [False],
    "batch_size": [64],
    "max_epochs": 12,
    "learning_rate": [3e-3, 3e-2],
}


def job_spec(**kw: object) -> JobSpec:
    base = {
        "dataset": "digits",
        "space": SMALL_SPACE,
        "budget": {"trials": 4},
        "stopping": {"policy": "none"},
        "searcher": "random",
        "seed": 5,
    }
    return JobSpec.model_validate({**base, **kw})


def run_job(store: db.Store, spec: JobSpec, executor: Executor | None = None) -> list[db.Trial]:
    """Run a job through the driver; return its trials, in number order."""
    job_id = submit_and_claim(store, spec, "test")
    driver = SearchDriver(spec, store, job_id, runner="test", executor=executor)
    assert driver.run() == "finished"
    with store.session() as s:
        assert db.get_job(s, job_id).status == "finished"
        return db.list_trials(s, job_id)


def trial_key(t: db.Trial) -> tuple:
    return (t.number, t.params, t.status, t.epochs_run, t.val_metric, t.test_metric)
