"""A reinforcement-learning controller: REINFORCE over the space's discrete choices.

After Zoph and Le (2017), without the recurrent network: each decision (depth, the width of
each layer from a log grid, activation, dropout, weight decay, batch norm, optimizer,
learning rate, batch size, the ranges cut into bins) has its own softmax over logits, and
a candidate is one draw from each. When a candidate is told, its reward R (the validation
metric) moves every decision it used:

    logits_d += lr * A * (onehot(choice_d) - softmax(logits_d))      (grad of log pi)
    A = (R - b) / s,  b <- m b + (1 - m) R,  s^2 <- m s^2 + (1 - m) (R - b)^2

b is the moving-average baseline (less variance, same expected gradient); dividing by the
running spread s makes lr mean the same for accuracies and R^2. An optional entropy bonus
keeps the policy from collapsing early. Failed and diverged trials carry no reward.
The logits, baseline, spread, the choices of pending candidates and the random state are
the whole memory, plain JSON, so a resumed search goes on without replaying anything.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nas.searchers.base import MAX_DRAWS, Observation, Proposals
from nas.searchers.choices import linear_grid, log_grid, shaped, width_grid
from nas.searchers.options import check_number
from nas.space import OPTIONAL_CHOICES, Candidate, SearchSpace

ADVANTAGE_CLIP = 3.0


def decisions(space: SearchSpace, bins: int) -> dict[str, list[Any]]:
    """Every decision the controller makes, with its choices (JSON values)."""
    low, high = space.n_layers
    choices: dict[str, list[Any]] = {"depth": list(range(low, high + 1))}
    for layer in range(high):
        choices[f"width_{layer}"] = width_grid(space)
    choices["activation"] = list(space.activation)
    choices["dropout"] = linear_grid(space.dropout, bins)
    choices["weight_decay"] = log_grid(space.weight_decay, bins)
    choices["batch_norm"] = list(space.batch_norm)
    choices["optimizer"] = list(space.optimizer)
    choices["learning_rate"] = log_grid(space.learning_rate, bins)
    choices["batch_size"] = list(space.batch_size)
    choices["scaling"] = list(space.scaling)
    for name in OPTIONAL_CHOICES[1:]:  # decisions only when chosen among: older spaces'
        if len(getattr(space, name)) > 1:  # controllers keep their streams
            choices[name] = list(getattr(space, name))
    return choices


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max())
    return e / e.sum()


class ReinforceSearcher:
    """A factorized softmax policy over the space's decisions, trained by REINFORCE."""

    def __init__(
        self,
        space: SearchSpace,
        seed: int,
        *,
        two_objectives: bool = False,
        policy_lr: float = 0.2,
        baseline_decay: float = 0.9,
        entropy: float = 0.0,
        bins: int = 5,
    ) -> None:
        if two_objectives:
            raise ValueError("rl optimizes one objective; use nsga2, tpe or evolution")
        check_number("policy_lr", policy_lr, 0.0, 10.0, open_low=True)
        check_number("baseline_decay", baseline_decay, 0.0, 0.999)
        check_number("entropy", entropy, 0.0, 1.0)
        check_number("bins", bins, 2, 20, integer=True)
        self.space = space
        self.objectives: tuple[str, ...] = ("value",)
        self.policy_lr = policy_lr
        self.baseline_decay = baseline_decay
        self.entropy = entropy
        self.choices = decisions(space, bins)
        self.logits = {name: np.zeros(len(c)) for name, c in self.choices.items()}
        self.baseline: float | None = None
        self.spread: float | None = None  # running mean of (R - b)^2
        self._actions: dict[str, dict[str, int]] = {}  # pending key -> choice per decision
        self._rng = np.random.default_rng(seed)
        self._proposals = Proposals()

    def probabilities(self, name: str) -> np.ndarray:
        """The policy's current distribution over one decision's choices."""
        return _softmax(self.logits[name])

    def ask(self) -> Candidate:
        draws = iter(range(2 * MAX_DRAWS))
        actions: dict[str, int] = {}

        def draw() -> Candidate:
            # past half the tries the policy has collapsed onto old candidates: explore
            uniform = next(draws) >= MAX_DRAWS // 2
            actions.clear()
            actions.update(self._sample(uniform))
            return self._candidate(actions)

        candidate = self._proposals.draw_new(draw)
        self._actions[candidate.key()] = dict(actions)
        return candidate

    def _sample(self, uniform: bool) -> dict[str, int]:
        depth = self._draw("depth", uniform)
        layers = 1 if set(self.space.shape) == {"constant"} else self.choices["depth"][depth]
        used = ["depth", *(f"width_{i}" for i in range(layers))]
        used += [n for n in self.choices if not n.startswith(("depth", "width_"))]
        return {name: depth if name == "depth" else self._draw(name, uniform) for name in used}

    def _draw(self, name: str, uniform: bool) -> int:
        n = len(self.choices[name])
        p = None if uniform else self.probabilities(name)
        return int(self._rng.choice(n, p=p))

    def _candidate(self, actions: dict[str, int]) -> Candidate:
        pick = {name: self.choices[name][i] for name, i in actions.items()}
        widths = [pick.get(f"width_{i}", pick["width_0"]) for i in range(pick["depth"])]
        fixed = {n: getattr(self.space, n)[0] for n in OPTIONAL_CHOICES if n not in pick}
        settings = {n: pick[n] for n in Candidate.model_fields if n in pick and n != "widths"}
        return Candidate(widths=shaped(widths, self.space), **settings, **fixed)

    def tell(self, candidate: Candidate, observation: Observation) -> None:
        self._proposals.settle(candidate)
        actions = self._actions.pop(candidate.key(), None)
        reward = observation.score
        if reward is None or actions is None:
            return
        advantage = self._advantage(reward)
        for name, chosen in actions.items():
            p = self.probabilities(name)
            step = -advantage * p
            step[chosen] += advantage
            if self.entropy:
                step -= self.entropy * p * (np.log(p) + (-(p * np.log(p)).sum()))
            self.logits[name] += self.policy_lr * step

    def _advantage(self, reward: float) -> float:
        """(R - b) / s, clipped; then b and s move towards this reward."""
        if self.baseline is None:
            self.baseline = reward
            return 0.0
        delta = reward - self.baseline
        m = self.baseline_decay
        self.spread = delta**2 if self.spread is None else m * self.spread + (1 - m) * delta**2
        self.baseline = m * self.baseline + (1 - m) * reward
        scale = np.sqrt(self.spread) + 1e-12
        return float(np.clip(delta / scale, -ADVANTAGE_CLIP, ADVANTAGE_CLIP))

    def state(self) -> dict[str, Any]:
        return {
            **self._proposals.state(),
            "logits": {name: v.tolist() for name, v in self.logits.items()},
            "baseline": self.baseline,
            "spread": self.spread,
            "actions": self._actions,
            "rng": self._rng.bit_generator.state,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self._proposals.load_state(state)
        self.logits = {name: np.asarray(v, dtype=float) for name, v in state["logits"].items()}
        self.baseline, self.spread = state["baseline"], state["spread"]
        self._actions = {k: dict(v) for k, v in state["actions"].items()}
        self._rng.bit_generator.state = state["rng"]
