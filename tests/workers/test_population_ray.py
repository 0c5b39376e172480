"""RayPopulationExecutor: populations on Ray actors give PopulationExecutor's trials."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_limits

from nas import store as db
from nas.search.executors import PopulationExecutor
from tests.jobs import job_spec, run_job, trial_key
from workers import RayPopulationExecutor


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """The reference runs with a 1-CPU actor's BLAS threads (see test_executors.py)."""
    with threadpool_limits(limits=1):
        yield


@pytest.mark.parametrize(("workers", "policy"), [(1, "asha"), (2, "none")])
def test_populations_on_ray_give_the_in_process_trials(
    local_ray, digits, store, tmp_path, workers, policy
):
    # One worker: one call per wait, so even the driver's stopping decisions match. Two
    # workers return in any order; without stopping, every trial's curve still matches.
    spec = job_spec(
        budget={"trials": 6},
        population={"size": 3},
        stopping={"policy": policy, "options": {"min_epochs": 2} if policy == "asha" else {}},
    )
    reference = db.open_store(f"sqlite:///{tmp_path}/reference.db")
    try:
        expected = [
            trial_key(t) for t in run_job(reference, spec, PopulationExecutor(digits, True, 3))
        ]
    finally:
        reference.close()
    executor = RayPopulationExecutor(digits, True, size=3, workers=workers)
    assert executor.slots == 3 * workers
    assert [trial_key(t) for t in run_job(store, spec, executor)] == expected
