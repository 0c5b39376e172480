"""The final choice by k-fold cross-validation on small data (search/selection.py,
spec.selection)."""

import numpy as np
import pytest
from pydantic import ValidationError
from sklearn.model_selection import StratifiedKFold

from nas import store as db
from nas.data import Split
from nas.nn import from_bytes
from nas.search import SearchDriver, load_problem, submit_and_claim
from nas.search.selection import Contender, applies, choose, fold_scores
from nas.search.trial import TrialTask, build_model
from nas.space import Candidate
from nas.spec import JobSpec
from nas_cli.report import selection_line
from tests.search.test_refit import _spec as refit_spec

GOOD = Candidate(widths=(16,), learning_rate=1e-2, batch_size=32)
POOR = Candidate(widths=(2,), learning_rate=1e-4, batch_size=32)  # barely moves in 3 epochs


def _spec(**kw) -> JobSpec:
    """test_refit's small iris search (one refit network) with the k-fold choice on; at
    seed 4 it serves another trial than the leaderboard's first."""
    return refit_spec(**({"selection": True, "budget": {"trials": 6}} | kw))


def test_cross_validation_prefers_the_better_network_wherever_the_leaderboard_put_it():
    data = load_problem(_spec()).data
    contenders = [Contender(0, POOR, 1, 3), Contender(1, GOOD, 2, 20)]
    index, means = choose(contenders, data, classification=True, folds=4, seed=0)
    assert index == 1 and means[1] > means[0]
    again = choose(contenders, data, classification=True, folds=4, seed=0)
    assert again == (index, means)  # folds and trainings come from the seeds


def test_a_fold_is_the_candidate_trained_on_the_others_from_its_own_seed_and_epochs():
    data = load_problem(_spec()).data
    contender = Contender(0, GOOD, 1, 5)
    scores = fold_scores(contender, data, True, folds=5, seed=0)
    X = np.vstack([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    fit_rows, held_out = next(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    by_hand = build_model(TrialTask(0, GOOD, 1, 5), True).set_params(max_iter=5, warm_start=False)
    by_hand.fit(X[fit_rows], y[fit_rows])
    assert len(scores) == 5
    assert scores[0] == by_hand.score(X[held_out], y[held_out])


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
    assert served.hidden_layer_sizes == tuple(by_number[winner["number"]].params["widths"])
    assert winner["number"] != best.number  # at this seed the folds overrule the split
    assert meta["validation_choice"]["number"] == best.number  # refit for the record
    assert f"trial {winner['number']}; the validation split's pick, #{best.number}" in (
        selection_line(meta) or ""
    )


def test_selection_is_off_by_default_and_checked_by_field():
    assert JobSpec.model_validate({"dataset": "iris"}).selection is None
    with pytest.raises(ValidationError, match="selection.top"):
        JobSpec.model_validate({"dataset": "iris", "selection": {"top": 1}})
