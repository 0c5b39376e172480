"""The final choice by k-fold cross-validation on small data (search/selection.py,
spec.selection)."""

import numpy as np
import pytest
from pydantic import ValidationError

from nas import store as db
from nas.data import Split
from nas.nn import from_bytes
from nas.search import SearchDriver, load_problem, submit_and_claim
from nas.search.selection import Contender, applies, choose, fold_scores
from nas.space import Candidate
from nas.spec import JobSpec
from tests.search.test_refit import SPACE

GOOD = Candidate(widths=(16,), learning_rate=1e-2, batch_size=32)
POOR = Candidate(widths=(2,), learning_rate=1e-4, batch_size=32)  # barely moves in 3 epochs


def _spec(**kw) -> JobSpec:
    base = {
        "dataset": "iris",
        "space": SPACE,
        "budget": {"trials": 6},
        "stopping": {"policy": "none"},
        "searcher": "random",
        "seed": 3,
        "selection": True,
        "refit_seeds": 1,  # the served network is the chosen trial's own
    }
    return JobSpec.model_validate(base | kw)


def test_cross_validation_prefers_the_better_network_wherever_the_leaderboard_put_it():
    data = load_problem(_spec()).data
    contenders = [Contender(0, POOR, 1, 3), Contender(1, GOOD, 2, 20)]
    index, means = choose(contenders, data, classification=True, folds=4, seed=0)
    assert index == 1 and means[1] > means[0]
    again = choose(contenders, data, classification=True, folds=4, seed=0)
    assert again == (index, means)  # folds and trainings come from the seeds


def test_fold_scores_hold_every_training_and_validation_row_out_once():
    data = load_problem(_spec()).data
    rows = len(data.y_train) + len(data.y_val)
    scores = fold_scores(Contender(0, GOOD, 1, 5), data, True, folds=5, seed=0)
    assert len(scores) == 5 and all(0 <= s <= 1 for s in scores)
    assert rows >= 10


@pytest.mark.parametrize(
    ("rows", "top", "expected"), [(100, 3, True), (100, 1, False), (3000, 3, False), (8, 3, False)]
)
def test_cross_validation_runs_only_with_a_choice_and_small_data(rows, top, expected):
    half = rows // 2
    part = (np.zeros((half, 1)), np.zeros(half), np.zeros((rows - half, 1)), np.zeros(rows - half))
    sized = Split(*part, np.zeros((5, 1)), np.zeros(5))
    assert applies(sized, top, max_rows=2000, folds=5) is expected


def test_a_search_with_selection_serves_the_cross_validated_choice(store):
    spec = _spec()
    job_id = submit_and_claim(store, spec, "test")
    assert SearchDriver(spec, store, job_id, runner="test").run() == "finished"
    with store.session() as s:
        best, model = db.best_model(s, job_id)
        top = db.leaderboard(s, job_id, k=3)
        meta = model.meta
        by_number = {t.number: t for t in db.list_trials(s, job_id)}
    scores = meta["selection"]["scores"]
    assert [c["number"] for c in scores] == [t.number for t in top]  # the 3 best, in order
    winner = max(scores, key=lambda c: c["cv_metric"])
    assert meta["number"] == winner["number"]
    served = from_bytes(model.payload)
    served = getattr(served, "estimator", served)  # a table's model wraps the network
    assert served.hidden_layer_sizes == tuple(by_number[winner["number"]].params["widths"])
    if winner["number"] != best.number:  # the single split's pick is refit for the record
        assert meta["validation_choice"]["number"] == best.number


def test_selection_is_off_by_default_and_checked_by_field():
    assert JobSpec.model_validate({"dataset": "iris"}).selection is None
    with pytest.raises(ValidationError, match="selection.top"):
        JobSpec.model_validate({"dataset": "iris", "selection": {"top": 1}})
