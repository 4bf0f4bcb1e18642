"""What every fast kernel's test checks against its plain twin."""

from __future__ import annotations

import numpy as np


def assert_close(actual, expected, dtype):
    """Equal up to the order of float sums: rtol 1e-12 (float64) / 1e-5
    (float32) of the largest entry."""
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(
        actual, expected, rtol=rtol, atol=rtol * np.abs(expected).max()
    )


def assert_twins(fast, plain, dtype):
    """The fast results (output, gradients, ...) equal the plain ones, with
    the same dtypes and shapes."""
    for got, expected in zip(fast, plain, strict=True):
        assert got.dtype == expected.dtype == dtype
        assert got.shape == expected.shape
        assert_close(got, expected, dtype)


def assert_same_bits(run, reference, threads=(2, 4)):
    """``run(threads)`` gives ``reference`` bit for bit with each count."""
    for count in threads:
        for got, expected in zip(run(count), reference, strict=True):
            np.testing.assert_array_equal(got, expected)
