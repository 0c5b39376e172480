"""Pareto fronts and crowding distance on worked examples (maximize value, minimize n_params)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nas.searchers.pareto import crowding_distance, dominates, non_dominated_sort

#   index: (value, n_params)       why it lands where it does
WORKED = [
    (0.90, 100),  # 0  front 0: only 2 has a higher value, and 2 is bigger
    (0.80, 50),  # 1  front 0: only 7 is smaller, and 7 scores lower
    (0.95, 300),  # 2  front 0: the best value
    (0.70, 60),  # 3  front 1: dominated by 1 alone
    (0.85, 120),  # 4  front 1: dominated by 0 and 6
    (0.60, 200),  # 5  front 2: dominated by 3 and 4 (and by 0, 1, 6)
    (0.90, 100),  # 6  front 0: equal to 0, and equal points do not dominate each other
    (0.50, 40),  # 7  front 0: the smallest network
]


def test_worked_example_fronts() -> None:
    assert non_dominated_sort(WORKED) == [[0, 1, 2, 6, 7], [3, 4], [5]]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0.9, 10), (0.8, 20), True),
        ((0.9, 10), (0.9, 20), True),
        ((0.9, 10), (0.8, 10), True),
        ((0.9, 10), (0.9, 10), False),
        ((0.9, 20), (0.8, 10), False),
        ((0.8, 10), (0.9, 20), False),
    ],
)
def test_domination_maximizes_value_and_minimizes_size(
    a: tuple[float, float], b: tuple[float, float], expected: bool
) -> None:
    assert dominates(a, b) is expected


@pytest.mark.parametrize("seed", range(5))
def test_fronts_are_consistent_on_random_points(seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = [(float(v), float(n)) for v, n in rng.integers(0, 6, size=(30, 2))]
    fronts = non_dominated_sort(points)
    assert sorted(i for front in fronts for i in front) == list(range(len(points)))
    for rank, front in enumerate(fronts):
        later = [j for f in fronts[rank:] for j in f]
        assert not any(dominates(points[j], points[i]) for i in front for j in later)
        if rank:
            assert all(
                any(dominates(points[j], points[i]) for j in fronts[rank - 1]) for i in front
            )


def test_crowding_distance_worked_example() -> None:
    # the middle point's neighbours span the whole range of both objectives: 1 + 1
    front = [(1.0, 10.0), (0.5, 5.0), (0.0, 0.0)]
    assert crowding_distance(front) == [math.inf, 2.0, math.inf]


def test_crowding_distance_boundary_points_are_infinite() -> None:
    front = [(0.2, 90.0), (0.9, 400.0), (0.5, 150.0), (0.7, 300.0), (0.6, 200.0)]
    distance = crowding_distance(front)
    assert math.isinf(distance[0]) and math.isinf(distance[1])
    assert all(math.isfinite(d) and d > 0 for d in distance[2:])


@pytest.mark.parametrize("front", [[], [(0.5, 10.0)], [(0.5, 10.0), (0.6, 20.0)]])
def test_small_fronts_are_all_boundary(front: list[tuple[float, float]]) -> None:
    assert crowding_distance(front) == [math.inf] * len(front)
