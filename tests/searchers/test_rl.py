"""The REINFORCE controller: rewarded choices grow likelier; its memory is plain JSON."""

from __future__ import annotations

import json

import numpy as np

from nas.searchers import Observation, ReinforceSearcher
from nas.searchers.rl import decisions
from nas.space import Candidate, SearchSpace
from tests.searchers.conftest import RICH

SPACE = SearchSpace(activation=["relu", "tanh", "logistic"])


def reward_tanh(candidate: Candidate) -> Observation:
    value = 0.9 if candidate.activation == "tanh" else 0.5
    return Observation(candidate, "finished", value, 10, 5, (value,))


def test_a_rewarded_choice_grows_likelier() -> None:
    searcher = ReinforceSearcher(SPACE, seed=0)
    before = searcher.probabilities("activation")[SPACE.activation.index("tanh")]
    for _ in range(40):
        c = searcher.ask()
        searcher.tell(c, reward_tanh(c))
    after = searcher.probabilities("activation")[SPACE.activation.index("tanh")]
    assert before == 1 / 3 and after > 0.8
    # a decision the reward ignores stays near uniform on the whole
    assert searcher.probabilities("batch_norm").max() < 0.8


def test_failed_trials_move_nothing_and_the_baseline_tracks_rewards() -> None:
    searcher = ReinforceSearcher(SPACE, seed=1, baseline_decay=0.5)
    c = searcher.ask()
    searcher.tell(c, Observation(c, "failed", None, 0, 0))
    assert searcher.baseline is None
    assert all(np.all(v == 0) for v in searcher.logits.values())
    for value in (0.2, 0.6):
        c = searcher.ask()
        searcher.tell(c, Observation(c, "finished", value, 10, 5, (value,)))
    assert searcher.baseline == 0.4  # 0.5 * 0.2 + 0.5 * 0.6


def test_the_entropy_bonus_keeps_the_policy_broader() -> None:
    def entropy_after(bonus: float) -> float:
        searcher = ReinforceSearcher(SPACE, seed=2, entropy=bonus)
        for _ in range(30):
            c = searcher.ask()
            searcher.tell(c, reward_tanh(c))
        p = searcher.probabilities("activation")
        return float(-(p * np.log(p)).sum())

    assert entropy_after(0.5) > entropy_after(0.0)


def test_choices_are_grids_inside_the_space() -> None:
    choices = decisions(RICH, bins=4)
    assert choices["depth"] == [1, 2, 3, 4]
    assert choices["width_0"] == [4, 8, 16, 32, 64, 128] and "width_3" in choices
    assert choices["dropout"] == [0.0, 0.1667, 0.3333, 0.5]
    assert choices["learning_rate"][0] == 1e-4 and choices["learning_rate"][-1] == 3e-2
    off = SearchSpace(weight_decay=(0.0, 0.0))
    assert decisions(off, bins=4)["weight_decay"] == [0.0]


def test_a_resumed_policy_goes_on_without_replaying() -> None:
    searcher = ReinforceSearcher(SPACE, seed=3)
    for _ in range(10):
        c = searcher.ask()
        searcher.tell(c, reward_tanh(c))
    pending = searcher.ask()
    resumed = ReinforceSearcher(SPACE, seed=3)
    resumed.load_state(json.loads(json.dumps(searcher.state(), allow_nan=False)))

    for s in (searcher, resumed):  # the pending candidate's reward still teaches the policy
        s.tell(pending, reward_tanh(pending))
    later = [[s.ask() for _ in range(5)] for s in (searcher, resumed)]
    assert later[0] == later[1]
    assert all(np.array_equal(searcher.logits[n], resumed.logits[n]) for n in searcher.logits)
