"""batch_norm: the batch statistics it hands back (the table checks the rest)."""

from __future__ import annotations

import contextlib

import numpy as np

from glassnet import Tensor, ops
from glassnet.autograd import no_grad


def test_batch_norm_returns_the_batch_moments_with_or_without_a_graph():
    x = np.random.default_rng(0).normal(2.0, 3.0, (5, 4, 2)).astype(np.float32)
    gamma, beta = Tensor(np.ones(2, np.float32)), Tensor(np.zeros(2, np.float32))
    for graph in (True, False):
        with contextlib.nullcontext() if graph else no_grad():
            y, mean, var = ops.batch_norm(
                Tensor(x, requires_grad=True), gamma, beta, (0, 1), return_moments=True
            )
        assert y.requires_grad is graph
        # bit for bit what NumPy's mean and var give: the moving averages of
        # BatchNormalization follow them
        np.testing.assert_array_equal(mean, x.mean(axis=(0, 1), keepdims=True))
        np.testing.assert_array_equal(var, x.var(axis=(0, 1), keepdims=True))
    assert isinstance(mean, np.ndarray) and mean.dtype == np.float32
    assert isinstance(ops.batch_norm(Tensor(x), gamma, beta, axes=0), Tensor)
