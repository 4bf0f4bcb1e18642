"""User-defined Functions: the seed's module shape, composed with built-ins."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import Tensor, ops
from glassnet.autograd import Function, gradcheck


class Multiply(Function):
    """Exactly the seed's Multiply, written as a glassnet Function."""

    def forward(self, x, y):
        self.x = x
        self.y = y
        return x * y

    def backward(self, dLdz):
        dzdx = self.y
        dLdx = dLdz * dzdx

        dzdy = self.x
        dLdy = dLdz * dzdy
        return [dLdx, dLdy]


def test_user_function_composes_with_built_in_ops():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    w = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    y = ops.tanh(Multiply.apply(x + 1.0, w)).sum()
    y.backward()
    d = 1.0 - np.tanh((x.data + 1.0) * w.data) ** 2
    np.testing.assert_allclose(x.grad, d * w.data)
    np.testing.assert_allclose(w.grad, d * (x.data + 1.0))


def test_user_function_passes_gradcheck_with_broadcasting():
    rng = np.random.default_rng(0)
    worst = gradcheck(Multiply.apply, rng.normal(size=(3, 1)), rng.normal(size=(4,)))
    assert worst < 1e-6


def test_each_application_gets_a_fresh_instance():
    x = Tensor(2.0, requires_grad=True)
    y = Multiply.apply(Multiply.apply(x, 3.0), x)  # 3 x^2
    assert y.grad_fn is not y.grad_fn.inputs[0].grad_fn
    y.backward()
    assert x.grad == 12.0


def test_needs_input_grad_and_python_number_inputs():
    seen = []

    class Scale(Function):
        def forward(self, x, k):
            self.k = k
            return x * k

        def backward(self, grad_output):
            seen.append(self.needs_input_grad)
            return grad_output * self.k, None

    x = Tensor(np.ones(2), requires_grad=True)
    Scale.apply(x, 3.0).sum().backward()
    assert seen == [(True, False)]
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_backward_returning_wrong_number_of_gradients_is_reported():
    class Broken(Function):
        def forward(self, x, y):
            return x + y

        def backward(self, grad_output):
            return (grad_output,)

    y = Broken.apply(Tensor(1.0, requires_grad=True), Tensor(2.0))
    with pytest.raises(RuntimeError, match="Broken.backward returned 1 gradients"):
        y.backward()


def test_backward_returning_wrong_shape_is_reported():
    class Broken(Function):
        def forward(self, x):
            return x * 2

        def backward(self, grad_output):
            return (np.ones(5),)

    y = Broken.apply(Tensor(np.ones(3), requires_grad=True)).sum()
    with pytest.raises(RuntimeError, match=r"Broken.backward.*\(5,\).*\(3,\)"):
        y.backward()


def test_missing_forward_or_backward_says_which():
    class NoBackward(Function):
        def forward(self, x):
            return x

    y = NoBackward.apply(Tensor(1.0, requires_grad=True))
    with pytest.raises(NotImplementedError, match="NoBackward"):
        y.backward()
