"""Shared pieces of the Ray tests: a small local Ray, data, specs, a job-running helper.

Ray is started few times (on 2 shared cores each start costs seconds): test_executors.py
shares one module-scoped local Ray; the cluster and shutdown tests make their own.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

# Ray 2.59-2.60 give a `ray start` cluster token auth, but a driver that joins it by
# address sends the token only in token mode, and Ray reads the mode once, at import:
# so it is set before ray is imported (docs/cluster.md's recipe says the same).
os.environ.setdefault("RAY_AUTH_MODE", "token")
# `ray start` in token mode refuses to start without a token (it creates none), so a
# fresh machine's first cluster test gets one for this run, shared by nodes and driver.
if not (
    os.environ.get("RAY_AUTH_TOKEN")
    or os.environ.get("RAY_AUTH_TOKEN_PATH")
    or (Path.home() / ".ray" / "auth_token").exists()
):
    os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)

import ray  # noqa: E402

from nas import store as db
from nas.data import Split
from nas.search import SearchDriver, load_problem, submit_and_claim
from nas.search.executors import Executor
from nas.spec import JobSpec

RAY_PROCESSES = ("raylet", "gcs_server")

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


@pytest.fixture(scope="session")
def digits() -> Split:
    """The rows the driver trains on for job_spec(): executors must be given the same."""
    return load_problem(job_spec()).data


@pytest.fixture(autouse=True)
def _no_cluster_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NAS_RAY_ADDRESS", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """A private local Ray with 2 CPUs, no dashboard and a small object store."""
    assert not ray.is_initialized()
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=96 * 2**20,
        log_to_driver=False,
        configure_logging=False,
    )
    yield
    ray.shutdown()


@pytest.fixture
def store(tmp_path: object) -> Iterator[db.Store]:
    s = db.open_store(f"sqlite:///{tmp_path}/nas.db")
    yield s
    s.close()


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


def ray_children() -> list[psutil.Process]:
    """Ray's daemons that this process started (a local Ray's are its children)."""
    me = psutil.Process(os.getpid())
    return [p for p in me.children(recursive=True) if _name(p) in RAY_PROCESSES]


def _name(p: psutil.Process) -> str:
    try:
        return p.name()
    except psutil.Error:
        return ""
