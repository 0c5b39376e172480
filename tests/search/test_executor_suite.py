"""One executor suite, run on all four executors: LocalExecutor (the reference semantics),
PopulationExecutor (populations in this process), RayExecutor (a trial per Ray actor) and
RayPopulationExecutor (a population per Ray actor), the last two on a real local Ray.

Each must give the curves of a TrialTrainer trained alone for the same candidates and
seeds, continue a promoted trial instead of retraining it, return the test metric and the
model at finish, forget a discarded trial, and give the driver the trials LocalExecutor
gives it. A population trains its members as if alone, but in float32 some of its sums
run in another order (nas/nn/stack.py), so its numbers are compared to a tolerance; the
others must match exactly. Skipped, with the reason, only what an executor does not
support. Ray's faults (a killed worker, a timeout) are in tests/workers/test_executors.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from nas import store as db
from nas.data import Split
from nas.nn import from_bytes
from nas.search import load_problem
from nas.search.executors import Executor, LocalExecutor, PopulationExecutor
from nas.search.fidelity import schedule
from nas.search.trial import RUNNING, RungResult, TrialTask, TrialTrainer
from nas.space import Candidate
from tests.jobs import job_spec, run_job, trial_key

CANDIDATES = [  # 0 and 2 share a depth and a batch size: one population
    Candidate(widths=(32,), activation="relu", learning_rate=1e-2, batch_size=64),
    Candidate(widths=(24, 16), activation="tanh", learning_rate=5e-3, batch_size=32),
    Candidate(widths=(16,), batch_norm=True, dropout=0.1, learning_rate=1e-2, batch_size=64),
]
EPOCHS = 6
KINDS = ["local", "population", "ray", "ray-population"]
POPULATIONS = {"population", "ray-population"}
# float32 sums in another order: the curves part by about 1e-5 (relative) in six epochs
TOLERANCE = {"rtol": 1e-4, "atol": 1e-6}


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Run the in-process executors and references with a 1-CPU actor's BLAS threads.

    Float32 matrix products sum in an order that depends on how BLAS splits them across
    threads, so curves are bit-identical only for equal thread counts (else they agree to
    about 1e-7). A Ray actor gets as many BLAS threads as CPUs; so does the reference here.
    """
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def digits() -> Split:
    """The rows the driver trains on for job_spec(): executors must be given the same."""
    return load_problem(job_spec()).data


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    if request.param.startswith("ray"):
        request.getfixturevalue("local_ray")  # started once, at the first Ray executor
    return str(request.param)


def make_executor(kind: str, data: Split) -> Executor:
    if kind == "local":
        return LocalExecutor(data, True)
    if kind == "population":
        return PopulationExecutor(data, True, slots=3)
    from workers import RayExecutor, RayPopulationExecutor

    if kind == "ray":
        return RayExecutor(data, True, workers=2)
    return RayPopulationExecutor(data, True, size=3, workers=1)


@pytest.fixture
def executor(kind: str, digits: Split):
    ex = make_executor(kind, digits)
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


def assert_same_points(kind: str, got: list[tuple], expected: list[tuple]) -> None:
    """Equal epochs; equal numbers, or for a population equal to the tolerance."""
    assert [p[0] for p in got] == [p[0] for p in expected]
    if kind in POPULATIONS:
        np.testing.assert_allclose(np.array(got), np.array(expected), **TOLERANCE)
    else:
        assert got == expected


def test_same_candidates_and_seeds_give_the_reference_curves(kind, executor, digits):
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
        assert done[i].status == RUNNING
        assert_same_points(kind, _points(done[i]), _points(reference))


def test_a_promoted_trial_continues_instead_of_retraining(kind, executor, digits):
    executor.start(_task(0))
    executor.run(0, 2)
    first = _drain(executor, 1)[0]
    executor.run(0, EPOCHS)
    second = _drain(executor, 1)[0]
    assert [x.epoch for x in first.logs] == [1, 2]
    assert [x.epoch for x in second.logs] == list(range(3, EPOCHS + 1))
    straight = TrialTrainer(_task(0), digits, True).advance(EPOCHS)
    assert_same_points(kind, _points(first) + _points(second), _points(straight))


def test_a_data_fraction_schedule_trains_the_reference_rows(kind, executor, digits):
    if kind in POPULATIONS:
        pytest.skip("a population trains on all rows (the spec refuses it with data_fraction)")
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


def test_the_driver_gives_the_trials_it_gets_from_the_reference(kind, executor, store, tmp_path):
    reference = db.open_store(f"sqlite:///{tmp_path}/reference.db")
    try:
        expected = [trial_key(t) for t in run_job(reference, job_spec())]
    finally:
        reference.close()
    got = [trial_key(t) for t in run_job(store, job_spec(), executor)]
    assert [k[:4] for k in got] == [k[:4] for k in expected]  # number, params, status, epochs
    if kind in POPULATIONS:
        np.testing.assert_allclose([k[4:] for k in got], [k[4:] for k in expected], **TOLERANCE)
    else:
        assert got == expected
