"""Nonlinearities stay finite where naive formulas overflow."""

from __future__ import annotations

import numpy as np

from glassnet import Tensor, ops


def test_sigmoid_softplus_softmax_are_finite_at_extremes():
    x = Tensor(np.array([-1e4, -800.0, 0.0, 800.0, 1e4]), requires_grad=True)
    for fn in (ops.sigmoid, ops.softplus, ops.softmax, ops.log_softmax, ops.elu):
        x.zero_grad()
        y = fn(x)
        assert np.isfinite(y.data).all(), fn.__name__
        (y * Tensor(np.linspace(-1.0, 1.0, 5))).sum().backward()
        assert np.isfinite(x.grad).all(), fn.__name__
    np.testing.assert_allclose(ops.softplus(x).data, [0, 0, np.log(2), 800, 1e4])


def test_softmax_rows_sum_to_one_along_the_chosen_axis():
    x = Tensor(np.random.default_rng(0).normal(size=(3, 4)))
    np.testing.assert_allclose(ops.softmax(x, axis=0).data.sum(axis=0), np.ones(4))
    np.testing.assert_allclose(np.exp(ops.log_softmax(x).data).sum(axis=1), np.ones(3))


def test_relu_and_leaky_relu_exact():
    x = Tensor(np.array([-2.0, 3.0]), requires_grad=True)
    (ops.relu(x) + ops.leaky_relu(x, 0.1)).sum().backward()
    np.testing.assert_allclose(x.grad, [0.1, 2.0])
