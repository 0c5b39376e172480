"""The actor pool: long-lived trial actors started before the data, reused trial after
trial, a dead one replaced; a pool started early trains the reference curves."""

from __future__ import annotations

import os
import signal

import pytest
import ray
from threadpoolctl import threadpool_limits

from nas.search.trial import FAILED, RUNNING, TrialTask, TrialTrainer
from nas.space import Candidate
from workers import ActorPool, RayExecutor

SMALL = Candidate(widths=(16,), learning_rate=1e-2, batch_size=64)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """The in-process reference at a 1-CPU actor's thread count (see test_executors.py)."""
    with threadpool_limits(limits=1):
        yield


def _train(ex: RayExecutor, number: int, epochs: int = 2) -> tuple[int, str]:
    """One trial start to finish; (the pid of the worker that trained it, its status)."""
    ex.start(TrialTask(number, SMALL, seed=number, max_epochs=epochs))
    pid = ex.worker_pid(number)
    ex.run(number, epochs)
    [result] = ex.wait()
    ex.finish(number, keep_model=False)
    return pid, result.status


def test_one_actor_per_slot_trains_trial_after_trial(local_ray, digits):
    ex = RayExecutor(digits, True, workers=2)
    try:
        trained = [_train(ex, n) for n in range(5)]
        assert {status for _, status in trained} == {RUNNING}
        assert len({pid for pid, _ in trained}) <= 2  # no process started per trial
    finally:
        ex.close()


def test_a_killed_actor_is_replaced_and_the_pool_keeps_its_size(local_ray, digits):
    ex = RayExecutor(digits, True, workers=2)
    try:
        ex.start(TrialTask(0, Candidate(widths=(512, 512), batch_size=16), 1, 400))
        victim = ex.worker_pid(0)
        ex.run(0, 400)
        os.kill(victim, signal.SIGKILL)
        [result] = ex.wait()
        assert result.status == FAILED and result.error.startswith("worker died: ")
        ex.discard(0)
        for n in (1, 2):  # both slots train again, neither on the dead process
            ex.start(TrialTask(n, SMALL, seed=n, max_epochs=1))
            ex.run(n, 1)
        pids = {ex.worker_pid(1), ex.worker_pid(2)}
        done = ex.wait()
        while len(done) < 2:
            done += ex.wait()
        assert {r.status for r in done} == {RUNNING} and victim not in pids and len(pids) == 2
    finally:
        ex.close()


def test_a_pool_started_before_the_data_trains_the_reference_curves(local_ray, digits):
    pool = ActorPool(2)  # as `nas run` starts it, before the data set is read
    pids = set(ray.get([a.pid.remote() for a in pool.actors]))
    ex = RayExecutor(digits, True, workers=2, pool=pool)
    try:
        task = TrialTask(0, SMALL, seed=7, max_epochs=3)
        ex.start(task)
        assert ex.worker_pid(0) in pids
        ex.run(0, 3)
        [result] = ex.wait()
        reference = TrialTrainer(task, digits, True).advance(3)
        points = [(x.epoch, x.train_loss, x.val_loss, x.val_metric) for x in result.logs]
        assert points == [(x.epoch, x.train_loss, x.val_loss, x.val_metric) for x in reference.logs]
    finally:
        ex.close()


def test_an_actor_without_data_fails_its_trial_with_a_reason(local_ray):
    pool = ActorPool(1)
    try:
        actor = pool.actors[0]
        ray.get(actor.begin.remote(TrialTask(0, SMALL, seed=1, max_epochs=1)))
        result = ray.get(actor.advance.remote(1))
        assert (result.status, result.error) == (
            FAILED,
            "the actor has no data: load() before begin()",
        )
    finally:
        pool.close()


def test_a_pool_refuses_a_bad_size():
    with pytest.raises(ValueError, match="size must be >= 1"):
        ActorPool(0)
