"""Reductions: exact gradients, including ties."""

from __future__ import annotations

import numpy as np

from glassnet import Tensor, ops


def test_sum_and_mean_over_axes_with_keepdims():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    y = ops.mean(x, axis=(0, 2), keepdims=True)
    assert y.shape == (1, 3, 1)
    np.testing.assert_allclose(y.data.ravel(), x.data.mean(axis=(0, 2)))
    ops.sum(y * Tensor(np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1))).backward()
    np.testing.assert_allclose(x.grad[1, :, 3], [1 / 8, 2 / 8, 3 / 8])


def test_max_splits_gradient_evenly_between_ties():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]), requires_grad=True)
    ops.max(x, axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1, 0, 0]])


def test_min_over_all_axes():
    x = Tensor(np.array([[4.0, -1.0], [2.0, 5.0]]), requires_grad=True)
    y = ops.min(x)
    assert y.shape == () and y.item() == -1.0
    y.backward()
    np.testing.assert_array_equal(x.grad, [[0, 1], [0, 0]])


def test_tensor_methods_reduce():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    assert x.sum(axis=0).shape == (3,)
    assert x.mean().item() == 2.5
    assert x.max(axis=-1, keepdims=True).shape == (2, 1)
