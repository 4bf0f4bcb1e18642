"""gradcheck finds wrong gradients and says where."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import Tensor, ops
from glassnet.autograd import Function, GradcheckError, gradcheck


class WrongSquare(Function):
    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad_output):
        g = grad_output * 2 * self.x
        g.flat[-1] *= 1.01  # one entry 1% off
        return (g,)


def test_gradcheck_returns_small_error_for_correct_gradients():
    x = np.random.default_rng(0).normal(size=(2, 3))
    assert gradcheck(ops.tanh, x) < 1e-8


def test_gradcheck_names_op_input_and_index_of_a_wrong_entry():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(GradcheckError, match=r"WrongSquare.*input 0 at index \(1, 1\)"):
        gradcheck(WrongSquare.apply, x, name="WrongSquare")


def test_gradcheck_runs_in_float64_and_passes_integers_through():
    seen = []

    def fn(x, labels):
        seen.append((x.dtype, labels.dtype))
        return ops.softmax_cross_entropy(x, labels)

    logits = np.ones((2, 3), dtype=np.float32)
    assert gradcheck(fn, logits, np.array([0, 2])) < 1e-6
    assert set(seen) == {(np.dtype(np.float64), np.dtype(np.int64))}


def test_gradcheck_accepts_tensors():
    x = Tensor(np.array([0.3, 0.7]))
    assert gradcheck(lambda t: t * t * t, x) < 1e-6


def test_random_direction_mode_for_large_inputs():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(64, 32)), rng.normal(size=(32, 16))
    assert gradcheck(lambda a, b: ops.tanh(a @ b), x, w, directions=3) < 1e-6
    with pytest.raises(GradcheckError, match="WrongSquare: input 0 along random"):
        gradcheck(WrongSquare.apply, x, directions=2, name="WrongSquare")
