"""Pareto ranking for two objectives: non-dominated fronts and crowding distance.

Convention throughout: a point is (value, n_params); the first objective is MAXIMIZED
(validation metric, higher is better) and the second MINIMIZED (parameter count). These
are the two ingredients of NSGA-II selection (Deb et al. 2002): a lower front wins, and
within a front the less crowded point wins, which keeps the front spread out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Point = tuple[float, float]


def dominates(a: Point, b: Point) -> bool:
    """a is no worse than b in both objectives and strictly better in one."""
    no_worse = a[0] >= b[0] and a[1] <= b[1]
    return no_worse and (a[0] > b[0] or a[1] < b[1])


def non_dominated_sort(points: Sequence[Point]) -> list[list[int]]:
    """Indices of points grouped into fronts: front 0 is the Pareto front, and so on.

    Each front lists its indices in ascending order.
    """
    dominated_by_me: list[list[int]] = [[] for _ in points]
    n_dominating = [0] * len(points)
    for i, a in enumerate(points):
        for j, b in enumerate(points):
            if dominates(a, b):
                dominated_by_me[i].append(j)
            elif dominates(b, a):
                n_dominating[i] += 1
    fronts: list[list[int]] = []
    current = [i for i, n in enumerate(n_dominating) if n == 0]
    while current:
        fronts.append(current)
        following = []
        for i in current:
            for j in dominated_by_me[i]:
                n_dominating[j] -= 1
                if n_dominating[j] == 0:
                    following.append(j)
        current = sorted(following)
    return fronts


def crowding_distance(front: Sequence[Point]) -> list[float]:
    """Per point of one front: the normalized side lengths of the cuboid around it.

    The two extreme points of each objective get infinity, so they are always kept.
    """
    distance = [0.0] * len(front)
    if not front:
        return distance
    for objective in range(2):
        order = sorted(range(len(front)), key=lambda i: front[i][objective])
        low, high = front[order[0]][objective], front[order[-1]][objective]
        distance[order[0]] = distance[order[-1]] = math.inf
        if high == low:
            continue
        for before, here, after in zip(order, order[1:], order[2:]):
            gap = front[after][objective] - front[before][objective]
            distance[here] += gap / (high - low)
    return distance
