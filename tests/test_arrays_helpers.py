"""harmonise._util.arrays: the numpy helpers weight/ and estimate/ share."""

from __future__ import annotations

import numpy as np
import pytest

from harmonise._util.arrays import bincount, dense_codes, frozen, frozen_copy, row_numbers, sum_rows


@pytest.mark.parametrize(
    "key",
    [
        np.array([5, 2, 2, 9, 5], dtype=np.int64),  # small non-negative: bincount remap
        np.array([10**9, 3, 10**9], dtype=np.int64),  # too sparse for bincount: np.unique
        np.array([-1, 4, -1, 0]),  # negative: np.unique
        np.array(["b", "a", "b"]),  # not integers
        np.array([], dtype=np.int64),
    ],
    ids=["bincount", "sparse", "negative", "text", "empty"],
)
def test_dense_codes_number_values_in_sorted_order(key: np.ndarray) -> None:
    expected = np.unique(key, return_inverse=True)[1].reshape(-1)
    got = dense_codes(key)
    assert got.dtype == np.int64 and np.array_equal(got, expected)


def test_frozen_copy_never_aliases() -> None:
    a = np.arange(3.0)
    out = frozen_copy(a)
    a[0] = 99
    assert out[0] == 0 and not out.flags.writeable
    assert frozen_copy(np.arange(3), np.float64).dtype == np.float64


def test_frozen_shares_only_a_frozen_array_of_its_own() -> None:
    own = frozen_copy(np.arange(3.0))
    assert frozen(own, np.float64) is own
    assert frozen(own, np.int64) is not own  # another dtype: a copy
    view = own[:2]
    assert frozen(view, np.float64) is not view  # a view of someone else's data
    writeable = np.arange(3.0)
    assert frozen(writeable, np.float64) is not writeable


def test_sum_rows_and_bincount_group_like_a_loop() -> None:
    rng = np.random.default_rng(1)
    index = rng.integers(0, 6, 200).astype(np.int64)
    x = rng.normal(size=(200, 3))
    loop = np.column_stack([np.bincount(index, weights=x[:, j], minlength=8) for j in range(3)])
    assert np.array_equal(sum_rows(index, x, 8), loop)  # same order of additions: exact
    assert np.array_equal(bincount(index, None, 8), np.bincount(index, minlength=8))
    assert bincount(index, None, 8).dtype == np.float64


@pytest.mark.parametrize(
    ("mask", "limit", "expected"),
    [
        ([False, True, False, True], 10, "2, 4"),
        ([True] * 5, 2, "1, 2 and 3 more"),
        ([False], 10, ""),
    ],
    ids=["some", "limited", "none"],
)
def test_row_numbers_are_one_based(mask: list[bool], limit: int, expected: str) -> None:
    assert row_numbers(np.array(mask), limit) == expected
