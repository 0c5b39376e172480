"""An epoch's row order is argsort of the keys, exactly, however it is computed.

A member trained in a population must see the rows in the order it sees alone, and a
seed must give the same order as before the radix ranking: both rest on this.
"""

import numpy as np
import pytest

from nas.nn.batches import RADIX, epoch_order


@pytest.mark.parametrize(
    "shape", [(1,), (2,), (1797,), (32, 1797), (3, 4, 500), (5, RADIX // 4), (2, RADIX // 4 + 1)]
)
def test_the_order_is_argsort_of_uniform_keys(shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(5):
        keys = rng.random(shape)
        np.testing.assert_array_equal(epoch_order(keys), np.argsort(keys, axis=-1))


def test_keys_whose_leading_bits_tie_in_long_runs_are_still_ranked_exactly():
    # 30 values of the leading 16 bits for 300 keys a row: runs of about ten tied
    # neighbours, each needing several swapping rounds
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 30, (4, 300)) / RADIX + rng.random((4, 300)) * 1e-7
    np.testing.assert_array_equal(epoch_order(keys), np.argsort(keys, axis=-1))


def test_keys_in_order_give_the_identity():
    n = 1797
    np.testing.assert_array_equal(epoch_order(np.arange(n) / n), np.arange(n))
