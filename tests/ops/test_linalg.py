"""matmul and the fused linear map: errors and exact small cases."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import Tensor, ops


def test_matmul_with_incompatible_shapes_names_both_shapes():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        a @ b


def test_matmul_with_unbroadcastable_batches_names_both_shapes():
    a, b = Tensor(np.ones((2, 3, 4))), Tensor(np.ones((5, 4, 1)))
    with pytest.raises(ValueError, match=r"\(2, 3, 4\) and \(5, 4, 1\)"):
        a @ b


def test_matmul_of_scalar_is_rejected():
    with pytest.raises(ValueError, match=r"\(\) and \(2,\)"):
        ops.matmul(Tensor(2.0), Tensor(np.ones(2)))


def test_linear_equals_matmul_plus_bias_and_is_one_node():
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(5, 3)), requires_grad=True)
    w = Tensor(rng.normal(size=(3, 2)), requires_grad=True)
    b = Tensor(rng.normal(size=2), requires_grad=True)
    z = ops.linear(x, w, b)
    assert z.grad_fn.name == "Linear" and z.grad_fn.inputs == (x, w, b)
    np.testing.assert_allclose(z.data, x.data @ w.data + b.data)
    z.sum().backward()
    np.testing.assert_allclose(b.grad, [5.0, 5.0])
    np.testing.assert_allclose(w.grad, x.data.sum(axis=0)[:, None] * np.ones(2))


def test_linear_without_bias_and_shape_error():
    x, w = Tensor(np.ones((4, 3))), Tensor(np.ones((3, 2)), requires_grad=True)
    ops.linear(x, w).sum().backward()
    np.testing.assert_allclose(w.grad, np.full((3, 2), 4.0))
    with pytest.raises(ValueError, match=r"x.shape=\(4, 3\), w.shape=\(2, 2\)"):
        ops.linear(x, Tensor(np.ones((2, 2))))
