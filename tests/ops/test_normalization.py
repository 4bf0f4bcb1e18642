"""batch_norm: the batch statistics it hands back (the table checks the rest)."""

from __future__ import annotations

import contextlib
from functools import partial

import numpy as np
import pytest

from glassnet import Tensor, config, ops
from glassnet.autograd import no_grad


@pytest.mark.parametrize("fast", [False, True])
def test_batch_norm_returns_the_batch_moments_with_or_without_a_graph(fast):
    x = np.random.default_rng(0).normal(2.0, 3.0, (5, 4, 2)).astype(np.float32)
    gamma, beta = Tensor(np.ones(2, np.float32)), Tensor(np.zeros(2, np.float32))
    # the plain op gives bit for bit what NumPy's mean and var give; the fast
    # kernel sums block by block: the same up to the order of float sums
    check = (
        partial(np.testing.assert_allclose, rtol=1e-6)
        if fast
        else np.testing.assert_array_equal
    )
    for graph in (True, False):
        with contextlib.nullcontext() if graph else no_grad():
            with config.overrides(fast_kernels=fast):
                y, mean, var = ops.batch_norm(
                    Tensor(x, requires_grad=True),
                    gamma,
                    beta,
                    (0, 1),
                    return_moments=True,
                )
        assert y.requires_grad is graph
        # the moving averages of BatchNormalization follow them
        check(mean, x.mean(axis=(0, 1), keepdims=True))
        check(var, x.var(axis=(0, 1), keepdims=True))
    assert isinstance(mean, np.ndarray) and mean.dtype == np.float32
    assert isinstance(ops.batch_norm(Tensor(x), gamma, beta, axes=0), Tensor)
