"""RayExecutor's faults: a worker killed with SIGKILL mid-trial (retried by the driver), a
trial over its timeout, more workers than CPUs or trials than slots, and the data set
read from the object store without copies.

The behaviour every executor shares (the same curves as LocalExecutor, promotion, finish,
discard) is the suite in tests/search/test_executor_suite.py, run on all four.
"""

from __future__ import annotations

import os
import signal

import pytest
from threadpoolctl import threadpool_limits

from nas import store as db
from nas.search.trial import FAILED, RUNNING, RungResult, TrialTask
from nas.space import Candidate
from tests.jobs import job_spec, run_job, trial_key
from workers import RayExecutor

CANDIDATE = Candidate(widths=(32,), activation="relu", learning_rate=1e-2, batch_size=64)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Run the in-process reference with the BLAS threads of a 1-CPU actor.

    Float32 matrix products sum in an order that depends on how BLAS splits them across
    threads, so curves are bit-identical only for equal thread counts (else they agree to
    about 1e-7). A Ray actor gets as many BLAS threads as CPUs; so does the reference here.
    """
    with threadpool_limits(limits=1):
        yield


def _task(i: int, epochs: int = 6) -> TrialTask:
    return TrialTask(i, CANDIDATE, seed=1000 + i, max_epochs=epochs)


class _Killer(RayExecutor):
    """Kills trial `victim`'s worker (SIGKILL) while its rung trains, `times` times."""

    def __init__(self, *args, victim: int, times: int, **kw):
        super().__init__(*args, **kw)
        self.victim, self.times, self.errors = victim, times, []

    def run(self, number: int, until_epoch: int) -> None:
        pid = self.worker_pid(number) if number == self.victim and self.times else None
        super().run(number, until_epoch)
        if pid is not None:  # the trial's network is built and its rung asked: mid-trial
            os.kill(pid, signal.SIGKILL)
            self.times -= 1

    def wait(self) -> list[RungResult]:
        results = super().wait()
        self.errors += [r.error for r in results if r.status == FAILED]
        return results


def test_a_worker_killed_mid_trial_is_retried_and_the_job_finishes(local_ray, digits, store):
    spec = job_spec(executor="ray", parallelism=2)
    killer = _Killer(digits, True, workers=2, victim=1, times=1)
    trials = run_job(store, spec, killer)
    assert killer.errors and all(e.startswith("worker died: ") for e in killer.errors)
    assert [t.status for t in trials] == ["finished"] * 4
    assert [t.attempt for t in trials] == [1, 2, 1, 1]
    with store.session() as s:
        assert len(db.curve(s, trials[1].id)) == 12  # one whole curve, from the retry
    reference = run_job(db.open_store("sqlite://"), job_spec())
    assert trial_key(trials[1]) == trial_key(reference[1])  # retried from scratch


def test_a_trial_killed_on_every_attempt_stays_failed(local_ray, digits, store):
    killer = _Killer(digits, True, workers=2, victim=0, times=3)
    trials = run_job(store, job_spec(executor="ray", parallelism=2), killer)
    assert len(killer.errors) == 3
    assert (trials[0].status, trials[0].attempt) == ("failed", 3)
    assert trials[0].error.startswith("worker died: ")
    assert [t.status for t in trials[1:]] == ["finished"] * 3


def test_a_trial_over_its_timeout_is_stopped_and_the_worker_replaced(local_ray, digits):
    ex = RayExecutor(digits, True, workers=1, trial_timeout=0.5)
    try:
        slow = Candidate(widths=(512, 512), batch_size=16)
        ex.start(TrialTask(0, slow, seed=1, max_epochs=500))
        ex.run(0, 500)
        [result] = ex.wait()
        assert (result.status, result.error) == (FAILED, "timeout after 0.5 s")
        assert result.epochs_done < 500  # cut short, not trained to the end and then failed
        ex.discard(0)
        ex.start(_task(0, epochs=1))
        ex.run(0, 1)
        assert ex.wait()[0].status == RUNNING
    finally:
        ex.close()


def test_more_workers_than_cpus_is_refused(local_ray, digits):
    with pytest.raises(ValueError, match="need 3 CPUs; the Ray cluster has 2"):
        RayExecutor(digits, True, workers=3)


def test_more_trials_than_slots_is_refused(local_ray, digits):
    ex = RayExecutor(digits, True, workers=1)
    try:
        ex.start(_task(0))
        with pytest.raises(RuntimeError, match="all 1 slots are busy"):
            ex.start(_task(1))
    finally:
        ex.close()


def test_the_data_set_is_read_from_the_object_store_without_copies(local_ray, digits):
    import ray

    from workers.actor import remote_actor

    actor = remote_actor(1.0).remote(1, ray.put(digits), True)
    try:
        # a copy would be a private, writeable array; the store's is a read-only view
        assert ray.get(actor.__ray_call__.remote(lambda a: a.data.X_train.flags.writeable)) is False
    finally:
        ray.kill(actor)
