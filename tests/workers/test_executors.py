"""One executor suite, run on LocalExecutor (the reference) and on RayExecutor (real Ray).

Both must give the same curves for the same candidates and seeds, continue a promoted trial
instead of retraining it, return the test metric and the model at finish, and forget a
discarded trial. Ray alone is then checked for faults: a worker killed with SIGKILL mid-trial
(retried by the driver), a trial over its timeout, more workers than CPUs.
"""

from __future__ import annotations

import os
import signal

import pytest
from threadpoolctl import threadpool_limits

from nas import store as db
from nas.nn import from_bytes
from nas.search.executors import Executor, LocalExecutor
from nas.search.fidelity import schedule
from nas.search.trial import FAILED, RUNNING, RungResult, TrialTask, TrialTrainer
from nas.space import Candidate
from tests.workers.conftest import job_spec, run_job, trial_key
from workers import RayExecutor

CANDIDATES = [
    Candidate(widths=(32,), activation="relu", learning_rate=1e-2, batch_size=64),
    Candidate(widths=(24, 16), activation="tanh", learning_rate=5e-3, batch_size=32),
    Candidate(widths=(16,), batch_norm=True, dropout=0.1, learning_rate=1e-2, batch_size=64),
]
EPOCHS = 6


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Run the in-process reference with the BLAS threads of a 1-CPU actor.

    Float32 matrix products sum in an order that depends on how BLAS splits them across
    threads, so curves are bit-identical only for equal thread counts (else they agree to
    about 1e-7). A Ray actor gets as many BLAS threads as CPUs; so does the reference here.
    """
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(params=["local", "ray"])
def executor(request, digits, local_ray):
    ex: Executor = (
        LocalExecutor(digits, True)
        if request.param == "local"
        else RayExecutor(digits, True, workers=2)
    )
    yield ex
    ex.close()


def _task(i: int, epochs: int = EPOCHS) -> TrialTask:
    return TrialTask(i, CANDIDATES[i], seed=1000 + i, max_epochs=epochs)


def _drain(ex: Executor, asked: int) -> dict[int, RungResult]:
    """Wait until `asked` rungs are back; each number at most once."""
    done: dict[int, RungResult] = {}
    while len(done) < asked:
        for r in ex.wait():
            assert r.number not in done
            done[r.number] = r
    return done


def _points(r: RungResult) -> list[tuple]:
    return [(x.epoch, x.train_loss, x.val_loss, x.val_metric) for x in r.logs]


def test_same_candidates_and_seeds_give_the_reference_curves(executor, digits):
    done: dict[int, RungResult] = {}
    numbers = list(range(len(CANDIDATES)))
    for batch in (numbers[k : k + executor.slots] for k in range(0, 3, executor.slots)):
        for i in batch:  # as many at once as the executor trains at once
            executor.start(_task(i))
            executor.run(i, EPOCHS)
        done |= _drain(executor, len(batch))
        for i in batch:
            executor.discard(i)
    for i in numbers:
        reference = TrialTrainer(_task(i), digits, True).advance(EPOCHS)
        assert done[i].status == RUNNING and _points(done[i]) == _points(reference)


def test_a_promoted_trial_continues_instead_of_retraining(executor, digits):
    executor.start(_task(0))
    executor.run(0, 2)
    first = _drain(executor, 1)[0]
    executor.run(0, EPOCHS)
    second = _drain(executor, 1)[0]
    assert [x.epoch for x in first.logs] == [1, 2]
    assert [x.epoch for x in second.logs] == list(range(3, EPOCHS + 1))
    straight = TrialTrainer(_task(0), digits, True).advance(EPOCHS)
    assert _points(first) + _points(second) == _points(straight)


def test_a_data_fraction_schedule_trains_the_reference_rows(executor, digits):
    task = TrialTask(0, CANDIDATES[0], 1000, EPOCHS, schedule([2], EPOCHS, low=0.25, eta=2))
    executor.start(task)
    executor.run(0, 2)
    first = _drain(executor, 1)[0]
    executor.run(0, EPOCHS)
    second = _drain(executor, 1)[0]
    assert (first.data_fraction, second.data_fraction) == (0.25, 1.0)
    reference = TrialTrainer(task, digits, True)
    assert _points(first) == _points(reference.advance(2))
    assert _points(second) == _points(reference.advance(EPOCHS))


def test_finish_returns_the_test_metric_and_a_model_that_predicts(executor, digits):
    executor.start(_task(0))
    executor.run(0, EPOCHS)
    _drain(executor, 1)
    outcome = executor.finish(0, keep_model=True)
    model = from_bytes(outcome.model)
    assert outcome.number == 0 and outcome.test_metric is not None
    assert model.score(digits.X_test, digits.y_test) == pytest.approx(outcome.test_metric)
    executor.start(_task(1))  # the slot is free again
    executor.run(1, 1)
    assert _drain(executor, 1)[1].epochs_done == 1
    assert executor.finish(1, keep_model=False).model is None


def test_discard_forgets_the_trial_and_wait_needs_a_rung(executor):
    executor.start(_task(2))
    executor.run(2, 1)
    _drain(executor, 1)
    executor.discard(2)
    executor.discard(2)  # twice is harmless
    with pytest.raises(RuntimeError):
        executor.wait()
    executor.start(_task(2))  # the same number starts afresh (a retry)
    executor.run(2, 1)
    assert [x.epoch for x in _drain(executor, 1)[2].logs] == [1]


def test_the_driver_gives_the_same_trials_on_both(executor, store, tmp_path):
    reference = db.open_store(f"sqlite:///{tmp_path}/reference.db")
    try:
        expected = [trial_key(t) for t in run_job(reference, job_spec())]
    finally:
        reference.close()
    assert [trial_key(t) for t in run_job(store, job_spec(), executor)] == expected


# -- Ray only: faults ----------------------------------------------------------------------


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
