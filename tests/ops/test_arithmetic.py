"""Elementwise arithmetic: clear errors and exact small cases."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import Tensor, ops
from glassnet.ops import arithmetic


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="Received: low=None, high=None"):
        arithmetic.clip(Tensor(np.ones(2)), None, None)


def test_clip_one_sided_and_gradient_mask():
    x = Tensor(np.array([-2.0, 0.5, 3.0]), requires_grad=True)
    y = arithmetic.clip(x, low=0.0)
    np.testing.assert_array_equal(y.data, [0.0, 0.5, 3.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0])


def test_maximum_with_python_number_is_relu_like():
    x = Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    ops.maximum(x, 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])


def test_pow_gradient_in_the_exponent():
    p = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    (2.0**p).sum().backward()
    np.testing.assert_allclose(p.grad, np.log(2.0) * np.array([4.0, 8.0]))


def test_where_takes_gradient_along_the_chosen_branch():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = Tensor(np.array([10.0]), requires_grad=True)
    ops.where(np.array([True, False, False]), x, y).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(y.grad, [2.0])
