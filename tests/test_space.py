import subprocess
import sys

import numpy as np
import pytest
from pydantic import ValidationError

from nas.nn import MLPClassifier
from nas.space import Candidate, SearchSpace


@pytest.mark.parametrize("shape", ["free", "funnel", "constant"])
def test_samples_lie_in_the_space_and_follow_the_shape(shape):
    space = SearchSpace(shape=[shape], n_layers=(2, 4), width=(4, 300))
    rng = np.random.default_rng(0)
    for _ in range(200):
        c = space.sample(rng)
        assert space.contains(c)
        if shape == "funnel":
            assert list(c.widths) == sorted(c.widths, reverse=True)
        if shape == "constant":
            assert len(set(c.widths)) == 1
    assert not SearchSpace(shape=["constant"]).contains(Candidate(widths=(8, 16)))


def test_key_is_stable_across_processes_and_differs_between_choices():
    c = Candidate(widths=(64, 32), activation="tanh", dropout=0.1, learning_rate=3e-3)
    code = (
        "from nas.space import Candidate; print(Candidate(widths=(64, 32), "
        "activation='tanh', dropout=0.1, learning_rate=3e-3).key())"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == c.key()
    assert Candidate(widths=(64, 32)).key() != Candidate(widths=(32, 64)).key()


@pytest.mark.parametrize("batch_norm", [False, True])
def test_parameter_count_matches_the_trained_network(batch_norm):
    c = Candidate(widths=(7, 5), batch_norm=batch_norm)
    X, y = np.random.default_rng(0).normal(size=(30, 4)), np.arange(30) % 3
    model = MLPClassifier(**c.estimator_params(), max_iter=1).fit(X, y)
    assert c.n_params(4, 3) == model.n_params_


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("width", (0, 64), r"width must lie within \[1, 4096\]"),
        ("width", (64, 8), "width: low 64 is above high 8"),
        ("n_layers", (1, 40), r"n_layers must lie within \[1, 16\]"),
        ("learning_rate", (0, 0.1), r"learning_rate must lie within \(0, 10\]"),
        ("dropout", (0.0, 1.0), r"dropout must lie within \[0, 0.9\]"),
        ("activation", [], "at least 1 item"),
        ("activation", ["swish"], "relu"),
        ("batch_size", [0, 32], r"batch_size choices must lie within \[1, 65536\]"),
        ("max_epochs", 0, "greater than or equal to 1"),
    ],
)
def test_bad_spaces_name_the_field_and_range(field, value, message):
    with pytest.raises(ValidationError, match=message) as info:
        SearchSpace(**{field: value})
    assert info.value.errors()[0]["loc"][0] == field


def test_weight_decay_zero_range_switches_it_off():
    c = SearchSpace(weight_decay=(0, 0)).sample(np.random.default_rng(0))
    assert c.weight_decay == 0.0


def test_scaling_is_a_choice_the_space_can_offer():
    space = SearchSpace(scaling=["standard", "minmax"])
    rng = np.random.default_rng(0)
    drawn = {space.sample(rng).scaling for _ in range(50)}
    assert drawn == {"standard", "minmax"}
    assert {SearchSpace().sample(rng).scaling for _ in range(20)} == {"standard"}  # the default
    assert not SearchSpace().contains(Candidate(widths=(32,), scaling="minmax"))
    with pytest.raises(ValidationError, match="quantile"):
        SearchSpace(scaling=["rank"])


def test_target_scaling_and_label_smoothing_are_choices_each_task_takes_its_own():
    space = SearchSpace(target_scaling=["standard", "log"], label_smoothing=[0.0, 0.1])
    rng = np.random.default_rng(0)
    drawn = [space.sample(rng) for _ in range(60)]
    assert {c.target_scaling for c in drawn} == {"standard", "log"}
    assert {c.label_smoothing for c in drawn} == {0.0, 0.1}
    assert all(space.contains(c) for c in drawn)
    c = Candidate(widths=(8,), target_scaling="log", label_smoothing=0.1)
    assert c.estimator_params(classification=True)["label_smoothing"] == 0.1
    assert "target_scaling" not in c.estimator_params(classification=True)
    assert c.estimator_params(classification=False)["target_scaling"] == "log"
    assert "label_smoothing" not in c.estimator_params(classification=False)
    with pytest.raises(ValidationError, match=r"label_smoothing.*\[0, 0.5\]"):
        SearchSpace(label_smoothing=[0.0, 0.7])
    with pytest.raises(ValidationError, match="target_scaling"):
        SearchSpace(target_scaling=["sqrt"])


def test_a_default_space_draws_the_same_candidates_as_before_the_new_choices():
    """Single-choice options draw nothing: old seeds give old candidates, with old keys."""
    plain = SearchSpace()
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    a = [plain.sample(rng_a) for _ in range(5)]
    b = [SearchSpace(target_scaling=["log"], label_smoothing=[0.1]).sample(rng_b) for _ in range(5)]
    assert [c.widths for c in a] == [c.widths for c in b]
    assert [c.learning_rate for c in a] == [c.learning_rate for c in b]


def test_a_candidates_scaling_reaches_the_trainer():
    c = Candidate(widths=(5,), scaling="minmax")
    X, y = np.random.default_rng(0).normal(size=(30, 4)) * 50, np.arange(30) % 3
    model = MLPClassifier(**c.estimator_params(), max_iter=1).fit(X, y)
    assert model.scaling == "minmax"


def test_default_options_keep_the_key_candidates_had_before_they_were_choices():
    import hashlib
    import json

    c = Candidate(widths=(64, 32), activation="tanh")
    new = ("scaling", "target_scaling", "label_smoothing", "lr_schedule")
    before = {k: v for k, v in c.model_dump(mode="json").items() if k not in new}
    canonical = json.dumps(before, sort_keys=True).encode()
    assert c.key() == hashlib.sha256(canonical).hexdigest()[:16]
    changes = ({"scaling": "minmax"}, {"target_scaling": "log"}, {"label_smoothing": 0.1})
    for change in (*changes, {"lr_schedule": "cosine"}):
        assert c.model_copy(update=change).key() != c.key()


@pytest.mark.parametrize(
    "space",
    [
        SearchSpace(),
        SearchSpace(n_layers=(2, 5), width=(4, 300), shape=["funnel"], weight_decay=(0, 0)),
        SearchSpace(shape=["constant"], batch_size=[16], scaling=["minmax", "standard"]),
    ],
)
def test_the_centre_is_in_the_space_and_in_its_middle(space):
    c = space.centre()
    assert space.contains(c)
    assert c.depth == (space.n_layers[0] + space.n_layers[1]) // 2
    assert c.scaling == space.scaling[0] and c.activation == space.activation[0]
    low, high = space.learning_rate
    assert c.learning_rate == pytest.approx((low * high) ** 0.5, rel=1e-3)
