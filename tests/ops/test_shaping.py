"""Shape ops: exact gradients of indexing, concatenation and stacking."""

from __future__ import annotations

import numpy as np

from glassnet import Tensor, ops


def test_fancy_index_with_repeats_adds_gradients():
    x = Tensor(np.zeros((3, 2)), requires_grad=True)
    x[np.array([2, 0, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 1], [0, 0], [2, 2]])


def test_boolean_mask_and_tensor_index():
    x = Tensor(np.arange(4.0), requires_grad=True)
    x[Tensor(np.array([True, False, True, False]))].sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 0, 1, 0])


def test_concatenate_and_stack_route_gradient_slices():
    a = Tensor(np.ones((2, 1)), requires_grad=True)
    b = Tensor(np.ones((2, 3)), requires_grad=True)
    weights = Tensor(np.arange(8.0).reshape(2, 4))
    (ops.concatenate([a, b], axis=1) * weights).sum().backward()
    np.testing.assert_array_equal(a.grad, [[0], [4]])
    np.testing.assert_array_equal(b.grad, [[1, 2, 3], [5, 6, 7]])

    c, d = (
        Tensor(np.ones(2), requires_grad=True),
        Tensor(np.ones(2), requires_grad=True),
    )
    s = ops.stack([c, d], axis=1)
    assert s.shape == (2, 2)
    (s * weights[:, :2]).sum().backward()
    np.testing.assert_array_equal(c.grad, [0, 4])
    np.testing.assert_array_equal(d.grad, [1, 5])


def test_broadcast_to_and_expand_sum_back():
    x = Tensor(np.ones((3, 1)), requires_grad=True)
    y = ops.expand(x, (2, 3, 4))
    assert y.shape == (2, 3, 4)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((3, 1), 8.0))


def test_reshape_and_transpose_round_trip():
    x = Tensor(np.arange(6.0).reshape(1, 2, 3), requires_grad=True)
    y = ops.transpose(ops.reshape(x, (3, 2)), (1, 0))
    np.testing.assert_array_equal(y.data, x.data.reshape(3, 2).T)
    (y * Tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    np.testing.assert_array_equal(x.grad.ravel(), [0, 3, 1, 4, 2, 5])
