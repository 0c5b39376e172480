"""Screening with the learned predictor: only the predicted best of a pool is trained."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nas.searchers import Observation, PredictorScreeningSearcher, RandomSearcher, make_searcher
from nas.searchers.predictor import PerformancePredictor, checkpoints, encode, kendall_tau
from nas.space import Candidate, SearchSpace
from tests.searchers.conftest import RICH, objective
from tests.searchers.drive import drive


def curve_of(candidate: Candidate, epochs: int = RICH.max_epochs) -> list[float]:
    """A rising curve whose final value is the synthetic objective; a finished one by default."""
    final = objective(candidate)
    return [final - 0.5 / e for e in range(1, epochs)] + [final]


def test_predictor_ranks_a_known_ordering_well() -> None:
    rng = np.random.default_rng(0)
    seen = [RICH.sample(rng) for _ in range(30)]
    held = [RICH.sample(rng) for _ in range(30)]
    predictor = PerformancePredictor(RICH, seed=0)
    predictor.fit([(c, curve_of(c)) for c in seen])
    tau = kendall_tau(predictor.predict(held), [objective(c) for c in held])
    assert tau >= 0.6


def test_an_early_curve_sharpens_the_prediction() -> None:
    """Held-out candidates ranked from their first 5 epochs: better than from the choices."""
    rng = np.random.default_rng(1)
    seen = [RICH.sample(rng) for _ in range(30)]
    held = [RICH.sample(rng) for _ in range(30)]
    predictor = PerformancePredictor(RICH, seed=0)
    predictor.fit([(c, noisy_curve(c, rng)) for c in seen])
    curves = [noisy_curve(c, rng) for c in held]
    finals = [c[-1] for c in curves]
    alone = kendall_tau(predictor.predict(held), finals)
    with_curve = kendall_tau(predictor.rank(held, [c[:5] for c in curves]), finals)
    assert with_curve > alone and with_curve >= 0.6


def test_an_early_view_that_ranks_backwards_gets_no_weight() -> None:
    """Early values that order the finished trials in reverse: rank() is the model's ranks."""
    rng = np.random.default_rng(4)
    seen = [RICH.sample(rng) for _ in range(30)]
    held = [RICH.sample(rng) for _ in range(20)]
    predictor = PerformancePredictor(RICH, seed=0)
    predictor.fit([(c, backwards(curve_of(c))) for c in seen])
    scores = predictor.rank(held, [backwards(curve_of(c))[:5] for c in held])
    assert kendall_tau(scores, predictor.predict(held)) == pytest.approx(1.0)


def backwards(curve: list[float]) -> list[float]:
    """The early epochs mirror the final value: the better the end, the worse the start."""
    return [-curve[-1] - 1.0 / e for e in range(1, len(curve))] + [curve[-1]]


def test_an_early_view_that_ranks_well_outweighs_a_model_that_cannot() -> None:
    """Finals unrelated to the choices, but shown by epoch 3: rank() follows the curves."""
    rng = np.random.default_rng(5)
    seen = [RICH.sample(rng) for _ in range(30)]
    held = [RICH.sample(rng) for _ in range(30)]
    luck = {c.key(): rng.normal() for c in seen + held}
    curves = {c.key(): [luck[c.key()] - 1.0 / e for e in range(1, RICH.max_epochs + 1)]
              for c in seen + held}  # fmt: skip
    predictor = PerformancePredictor(RICH, seed=0)
    predictor.fit([(c, curves[c.key()]) for c in seen])
    finals = [curves[c.key()][-1] for c in held]
    scores = predictor.rank(held, [curves[c.key()][:3] for c in held])
    assert kendall_tau(scores, finals) > max(0.8, kendall_tau(predictor.predict(held), finals))


def test_a_candidate_without_a_finite_point_ranks_by_the_model() -> None:
    rng = np.random.default_rng(6)
    seen = [RICH.sample(rng) for _ in range(20)]
    predictor = PerformancePredictor(RICH, seed=0)
    predictor.fit([(c, curve_of(c)) for c in seen])
    held = [RICH.sample(rng) for _ in range(10)]
    scores = predictor.rank(held, [[math.nan]] * len(held))
    assert kendall_tau(scores, predictor.predict(held)) == pytest.approx(1.0)


def noisy_curve(candidate: Candidate, rng: np.random.Generator) -> list[float]:
    """The objective plus a per-trial offset (its luck) that shows from the first epoch."""
    luck = rng.normal(0, 0.5)
    return [v + luck for v in curve_of(candidate)]


def test_pruned_curves_teach_the_model_at_their_fidelity() -> None:
    assert checkpoints(30) == [1, 2, 4, 8, 16, 30]
    predictor = PerformancePredictor(RICH, seed=0)
    c = RICH.sample(np.random.default_rng(2))
    rows = predictor.fit([(c, [0.1, 0.2]), (c, [0.3, math.nan, 0.5])])
    assert rows == 4  # epochs 1 and 2, then 1 and 3; the NaN point is skipped


def test_encoding_reads_the_choices() -> None:
    space = SearchSpace(
        n_layers=(1, 3),
        activation=["relu", "tanh"],
        optimizer=["adam", "sgd"],
        scaling=["standard", "minmax"],
    )
    c = Candidate(widths=(64, 16), activation="tanh", optimizer="sgd", learning_rate=1e-2,
                  weight_decay=0.0, batch_size=32, dropout=0.25, batch_norm=True,
                  scaling="minmax")  # fmt: skip
    expected = [2, 6, 4, 0, math.log2(80), 1, 1, 1, 0.25, -8, 1, -2, 5, math.log10(1e-2 / 32)]
    assert encode(c, space) == pytest.approx(expected)


def test_predict_before_fit_and_too_little_data_are_refused() -> None:
    predictor = PerformancePredictor(RICH, seed=0)
    c = RICH.sample(np.random.default_rng(3))
    with pytest.raises(RuntimeError, match="before fit"):
        predictor.predict([c])
    with pytest.raises(ValueError, match="at least 2"):
        predictor.fit([(c, [0.5])])
    predictor.fit([(c, curve_of(c))])
    with pytest.raises(ValueError, match="one curve per candidate: 2 for 1"):
        predictor.rank([c], [[0.1], [0.2]])
    with pytest.raises(ValueError, match="model must be one of forest, mlp"):
        PerformancePredictor(RICH, seed=0, model="svm")


@pytest.mark.parametrize("model", ["forest", "mlp"])
def test_screening_returns_the_predicted_best_of_the_pool(model: str) -> None:
    searcher = PredictorScreeningSearcher(RandomSearcher(RICH, 4), RICH, 4, pool=6, min_trials=5,
                                model=model)  # fmt: skip
    twin = RandomSearcher(RICH, 4)  # the same proposals, to see the whole pool
    for _ in range(5):
        c = searcher.ask()
        assert twin.ask() == c  # below min_trials: passed straight through
        twin.tell(c, Observation(c, "finished", objective(c), 10, 8))
        searcher.tell(c, Observation(c, "finished", objective(c), 10, 8, tuple(curve_of(c))))
    pool = [twin.ask() for _ in range(6)]
    predictor = PerformancePredictor(RICH, 4, model)
    predictor.fit(searcher.history)

    chosen = searcher.ask()

    assert chosen == pool[int(np.argmax(predictor.predict(pool)))]
    state = json.loads(json.dumps(searcher.state(), allow_nan=False))
    assert state["pending"] == [chosen.model_dump(mode="json")]  # the rest told, never trained
    assert set(state["keys"]) >= {c.key() for c in pool}  # and never proposed again
    assert state["screened_out"] == 5


def test_screening_resumes_with_its_history(tmp_path) -> None:
    searcher = make_searcher("evolution+predictor", RICH, 1, population=4, sample_size=2,
                             pool=3, min_trials=4)  # fmt: skip
    for _ in range(8):
        c = searcher.ask()
        searcher.tell(c, Observation(c, "finished", objective(c), 10, 8, tuple(curve_of(c))))
    resumed = make_searcher("evolution+predictor", RICH, 1, population=4, sample_size=2,
                            pool=3, min_trials=4)  # fmt: skip
    resumed.load_state(json.loads(json.dumps(searcher.state())))
    assert [resumed.ask() for _ in range(3)] == [searcher.ask() for _ in range(3)]


def test_the_driver_trains_only_the_screened_in(tmp_path) -> None:
    trials, state = drive(tmp_path, "tpe+predictor", trials=9, pool=4, min_trials=5)
    assert len(trials) == 9 and all(t.status == "finished" for t in trials)
    assert state["screened_out"] == (9 - 5) * 3  # each screened ask rejected 3 of 4
    assert len(state["keys"]) == 9 + state["screened_out"]
