"""The network picture's data: the strongest units of each layer, and their weights."""

from __future__ import annotations

import numpy as np

from api.picture import network_picture


def test_the_strongest_units_are_kept_in_order_with_their_weights() -> None:
    w0 = np.array([[0.1, 5.0, 0.0, -4.0], [0.1, 0.2, 0.0, 0.3]])  # 2 inputs, 4 hidden
    w1 = np.array([[1.0], [1.0], [0.0], [-1.0]])  # 4 hidden, 1 output
    picture = network_picture([w0, w1], [np.zeros(4), np.array([0.5])], 2, ["a", "b"], ["y"])
    hidden = picture["layers"][1]
    assert hidden["units"] == 4 and hidden["shown"] == [1, 3]  # |w| in and out largest
    assert picture["layers"][0]["names"] == ["a", "b"] and picture["layers"][2]["bias"] == [0.5]
    assert picture["weights"][0] == [[5.0, -4.0], [0.2, 0.3]]
    assert picture["weights"][1] == [[1.0], [-1.0]]
    assert picture["max_abs_weight"] == 5.0


def test_names_that_do_not_fit_the_layer_are_dropped() -> None:
    picture = network_picture([np.ones((3, 2))], [np.zeros(2)], 8, ["only", "two"], None)
    assert picture["layers"][0]["names"] is None
