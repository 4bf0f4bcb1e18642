"""Elementwise arithmetic primitives.

Each Function returns the gradient at the broadcast shape; the backward walk sums
it back to each input's shape.
"""

from __future__ import annotations

import numpy as np

from glassnet.autograd import Function


class Add(Function):
    """z = x + y;  dz/dx = 1, dz/dy = 1."""

    def forward(self, x, y):
        return x + y

    def backward(self, grad_output):
        return grad_output, grad_output


class Sub(Function):
    """z = x - y;  dz/dx = 1, dz/dy = -1."""

    def forward(self, x, y):
        return x - y

    def backward(self, grad_output):
        return grad_output, -grad_output if self.needs_input_grad[1] else None


class Mul(Function):
    """z = x * y;  dz/dx = y, dz/dy = x."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, grad_output):
        need_x, need_y = self.needs_input_grad
        return (
            grad_output * self.y if need_x else None,
            grad_output * self.x if need_y else None,
        )


class Div(Function):
    """z = x / y;  dz/dx = 1/y, dz/dy = -z/y."""

    def forward(self, x, y):
        self.y = y
        self.z = x / y
        return self.z

    def backward(self, grad_output):
        need_x, need_y = self.needs_input_grad
        grad_x = grad_output / self.y
        return grad_x if need_x else None, -grad_x * self.z if need_y else None


class Neg(Function):
    """y = -x;  dy/dx = -1."""

    def forward(self, x):
        return -x

    def backward(self, grad_output):
        return (-grad_output,)


class Pow(Function):
    """z = x ** p;  dz/dx = p x**(p-1), dz/dp = z log(x) (for x > 0)."""

    def forward(self, x, p):
        self.x, self.p = x, p
        self.z = x**p
        return self.z

    def backward(self, grad_output):
        need_x, need_p = self.needs_input_grad
        grad_x = grad_p = None
        if need_x:
            grad_x = grad_output * self.p * self.x ** (self.p - 1)
        if need_p:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_x = np.where(self.x > 0, np.log(np.where(self.x > 0, self.x, 1)), 0)
            grad_p = grad_output * self.z * log_x
        return grad_x, grad_p


class Exp(Function):
    """y = exp(x);  dy/dx = y."""

    def forward(self, x):
        self.y = np.exp(x)
        return self.y

    def backward(self, grad_output):
        return (grad_output * self.y,)


class Log(Function):
    """y = log(x);  dy/dx = 1/x."""

    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, grad_output):
        return (grad_output / self.x,)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 y)."""

    def forward(self, x):
        self.y = np.sqrt(x)
        return self.y

    def backward(self, grad_output):
        return (grad_output / (2 * self.y),)


class Abs(Function):
    """y = abs(x);  dy/dx = sign(x) (0 at 0)."""

    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, grad_output):
        return (grad_output * np.sign(self.x),)


class Maximum(Function):
    """z = max(x, y);  the gradient goes to the larger input (split evenly on ties)."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return np.maximum(x, y)

    def backward(self, grad_output):
        x_wins = (self.x > self.y) + 0.5 * (self.x == self.y)
        return grad_output * x_wins, grad_output * (1 - x_wins)


class Minimum(Function):
    """z = min(x, y);  the gradient goes to the smaller input (split evenly on ties)."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return np.minimum(x, y)

    def backward(self, grad_output):
        x_wins = (self.x < self.y) + 0.5 * (self.x == self.y)
        return grad_output * x_wins, grad_output * (1 - x_wins)


class Clip(Function):
    """y = clip(x, low, high);  dy/dx = 1 inside [low, high], 0 outside."""

    def forward(self, x, low=None, high=None):
        self.inside = np.ones(np.shape(x), dtype=bool)
        if low is not None:
            self.inside &= x >= low
        if high is not None:
            self.inside &= x <= high
        return np.clip(x, low, high)

    def backward(self, grad_output):
        return (grad_output * self.inside,)


class Where(Function):
    """z = where(condition, x, y);  the gradient follows the branch that was taken."""

    def forward(self, x, y, condition=None):
        self.condition = np.asarray(condition, dtype=bool)
        return np.where(self.condition, x, y)

    def backward(self, grad_output):
        zero = np.zeros((), dtype=grad_output.dtype)
        return (
            np.where(self.condition, grad_output, zero),
            np.where(self.condition, zero, grad_output),
        )


class Cast(Function):
    """y = x in another float dtype;  dy/dx = 1 (the walk casts the gradient back)."""

    def forward(self, x, dtype=None):
        return x.astype(dtype)

    def backward(self, grad_output):
        return (grad_output,)


def add(x, y):
    return Add.apply(x, y)


def sub(x, y):
    return Sub.apply(x, y)


def mul(x, y):
    return Mul.apply(x, y)


def div(x, y):
    return Div.apply(x, y)


def neg(x):
    return Neg.apply(x)


def pow(x, p):  # noqa: A001  (mirrors the builtin on purpose)
    return Pow.apply(x, p)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def abs(x):  # noqa: A001
    return Abs.apply(x)


def maximum(x, y):
    return Maximum.apply(x, y)


def minimum(x, y):
    return Minimum.apply(x, y)


def clip(x, low=None, high=None):
    if low is None and high is None:
        raise ValueError("clip needs low, high or both. Received: low=None, high=None")
    return Clip.apply(x, low=low, high=high)


def cast(x, dtype):
    """``x`` as ``dtype`` (a float dtype: the gradient flows back through it)."""
    return Cast.apply(x, dtype=dtype)


def where(condition, x, y):
    """Pick ``x`` where ``condition`` holds, ``y`` elsewhere (condition is data)."""
    condition = getattr(condition, "data", condition)
    return Where.apply(x, y, condition=condition)
