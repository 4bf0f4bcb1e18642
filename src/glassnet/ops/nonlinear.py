"""Nonlinearities, each one Function with a closed-form local gradient.

They could be composed from exp, div and where, but one fused Function per
nonlinearity is one graph node instead of three to five, its backward reuses the
saved output where that is cheaper (``1 - y**2``), and the fused forms are
written so they never overflow (sigmoid via scipy's expit, silu via tanh,
softplus and the softmaxes via max-shifting). gelu needs erf, which has no
primitive op. SciPy is imported on the first call that needs it (``_special``).
"""

from __future__ import annotations

import math

import numpy as np

from glassnet.autograd import Function
from glassnet.ops import _special


class Tanh(Function):
    """y = tanh(x);  dy/dx = 1 - y**2."""

    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad_output):
        return (grad_output * (1.0 - self.y * self.y),)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dy/dx = y (1 - y)."""

    def forward(self, x):
        # NOTE: scipy's expit never overflows (unlike 1 / (1 + exp(-x)) for
        # x << 0) and is scikit-learn's logistic, so the MLP estimators match
        # scikit-learn bit for bit.
        self.y = _special.expit(x)
        return self.y

    def backward(self, grad_output):
        return (grad_output * self.y * (1.0 - self.y),)


class ReLU(Function):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0."""

    def forward(self, x):
        self.y = np.maximum(x, 0)
        return self.y

    def backward(self, grad_output):
        return (grad_output * (self.y > 0),)


class LeakyReLU(Function):
    """y = x if x > 0 else slope x;  dy/dx = 1 or slope."""

    def forward(self, x, negative_slope=0.01):
        self.slope = np.where(x > 0, 1.0, negative_slope).astype(x.dtype)
        return x * self.slope

    def backward(self, grad_output):
        return (grad_output * self.slope,)


class ELU(Function):
    """y = x if x > 0 else alpha (exp(x) - 1);  dy/dx = 1 or y + alpha."""

    def forward(self, x, alpha=1.0):
        self.positive = x > 0
        self.alpha = alpha
        self.y = np.where(self.positive, x, alpha * np.expm1(np.minimum(x, 0)))
        return self.y

    def backward(self, grad_output):
        return (grad_output * np.where(self.positive, 1.0, self.y + self.alpha),)


class Softplus(Function):
    """y = log(1 + exp(x));  dy/dx = sigmoid(x)."""

    def forward(self, x):
        self.x = x
        # NOTE: max(x, 0) + log1p(exp(-|x|)) never overflows.
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    def backward(self, grad_output):
        return (grad_output * 0.5 * (np.tanh(0.5 * self.x) + 1.0),)


class Softmax(Function):
    """y = exp(x) / sum(exp(x));  dL/dx = y (g - sum(g y)) along ``axis`` (fused)."""

    def forward(self, x, axis=-1):
        self.axis = axis
        # NOTE: subtract the max, or exp overflows for logits > 700.
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        self.y = e / e.sum(axis=axis, keepdims=True)
        return self.y

    def backward(self, grad_output):
        gy = grad_output * self.y
        return (gy - self.y * gy.sum(axis=self.axis, keepdims=True),)


class LogSoftmax(Function):
    """y = x - logsumexp(x);  dL/dx = g - softmax(x) sum(g) along ``axis`` (fused)."""

    def forward(self, x, axis=-1):
        self.axis = axis
        shifted = x - x.max(axis=axis, keepdims=True)
        self.y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        return self.y

    def backward(self, grad_output):
        total = grad_output.sum(axis=self.axis, keepdims=True)
        return (grad_output - np.exp(self.y) * total,)


class GELU(Function):
    """y = x Phi(x), Phi the normal CDF;  dy/dx = Phi(x) + x phi(x).
    approximate: y = x (1 + t) / 2, t = tanh(c (x + a x**3));
    dy/dx = (1 + t) / 2 + x (1 - t**2) c (1 + 3 a x**2) / 2."""

    def forward(self, x, approximate=False):
        self.x, self.approximate = x, approximate
        if approximate:
            c = math.sqrt(2.0 / math.pi)
            inner = c * (x + 0.044715 * x**3)
            self.t = np.tanh(inner)
            self.c_prime = c * (1.0 + 3 * 0.044715 * x * x)
            return 0.5 * x * (1.0 + self.t)
        self.cdf = 0.5 * (1.0 + _special.erf(x / math.sqrt(2.0)))
        return x * self.cdf

    def backward(self, grad_output):
        x = self.x
        if self.approximate:
            local = 0.5 * (1.0 + self.t) + 0.5 * x * (1.0 - self.t**2) * self.c_prime
        else:
            pdf = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
            local = self.cdf + x * pdf
        return (grad_output * local.astype(grad_output.dtype, copy=False),)


class SiLU(Function):
    """y = x sigmoid(x) (swish);  dy/dx = s (1 + x (1 - s)) with s = sigmoid(x)."""

    def forward(self, x):
        self.x = x
        self.s = 0.5 * (np.tanh(0.5 * x) + 1.0)
        return x * self.s

    def backward(self, grad_output):
        s = self.s
        return (grad_output * (s * (1.0 + self.x * (1.0 - s))),)


class Softsign(Function):
    """y = x / (1 + abs(x));  dy/dx = 1 / (1 + abs(x))**2."""

    def forward(self, x):
        self.d = 1.0 + np.abs(x)
        return x / self.d

    def backward(self, grad_output):
        return (grad_output / (self.d * self.d),)


def tanh(x):
    return Tanh.apply(x)


def sigmoid(x):
    return Sigmoid.apply(x)


def relu(x):
    return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def elu(x, alpha=1.0):
    return ELU.apply(x, alpha=alpha)


def softplus(x):
    return Softplus.apply(x)


def softmax(x, axis=-1):
    return Softmax.apply(x, axis=axis)


def log_softmax(x, axis=-1):
    return LogSoftmax.apply(x, axis=axis)


def gelu(x, approximate=False):
    """x Phi(x), Phi the normal CDF (via erf); ``approximate`` uses the tanh form."""
    return GELU.apply(x, approximate=approximate)


def silu(x):
    """x sigmoid(x), also called swish."""
    return SiLU.apply(x)


def softsign(x):
    return Softsign.apply(x)
