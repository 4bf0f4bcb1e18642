"""Reductions over axes: sum, mean, max, min; and the weight penalty
``l1 sum|w| + l2 sum w**2`` (one node per weight: every training step adds the
penalties of every regularized layer)."""

from __future__ import annotations

import numpy as np

from glassnet.autograd import Function


def _normalize_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(a % ndim for a in axis))


def _expand(grad, shape, axes, keepdims):
    """Put the reduced axes back (as size 1) so ``grad`` broadcasts to ``shape``."""
    if keepdims:
        return grad
    return grad.reshape([1 if i in axes else n for i, n in enumerate(shape)])


def _spread(grad, shape):
    """``grad`` copied out over ``shape`` (a fresh, writable, contiguous array)."""
    # NOTE: empty + fill, not np.broadcast_to(...).copy(): that pays Python-level
    # checks, which dominate on small arrays; the contiguous result keeps the
    # ops downstream on NumPy's fast loops.
    out = np.empty(shape, dtype=grad.dtype)
    out[...] = grad
    return out


class Sum(Function):
    """y = sum(x, axis);  dy/dx = 1, broadcast back over the summed axes."""

    def forward(self, x, axis=None, keepdims=False):
        self.shape = x.shape
        self.axes = _normalize_axis(axis, x.ndim)
        self.keepdims = keepdims
        return x.sum(axis=self.axes, keepdims=keepdims)

    def backward(self, grad_output):
        grad = _expand(grad_output, self.shape, self.axes, self.keepdims)
        return (_spread(grad, self.shape),)


class Mean(Function):
    """y = mean(x, axis);  dy/dx = 1/n, broadcast back over the averaged axes."""

    def forward(self, x, axis=None, keepdims=False):
        self.shape = x.shape
        self.axes = _normalize_axis(axis, x.ndim)
        self.keepdims = keepdims
        self.count = int(np.prod([x.shape[a] for a in self.axes]))
        # NOTE: sum / count is what ndarray.mean computes, bit for bit, without
        # its Python-level wrapper (which costs more than the sum on small arrays).
        return x.sum(axis=self.axes, keepdims=keepdims) / self.count

    def backward(self, grad_output):
        grad = _expand(grad_output, self.shape, self.axes, self.keepdims)
        return (_spread(grad / self.count, self.shape),)


class Max(Function):
    """y = max(x, axis);  the gradient goes to the arg-max (split evenly on ties)."""

    def forward(self, x, axis=None, keepdims=False):
        self.x = x
        self.axes = _normalize_axis(axis, x.ndim)
        self.keepdims = keepdims
        self.y = x.max(axis=self.axes, keepdims=True)
        return self.y if keepdims else np.squeeze(self.y, axis=self.axes)

    def backward(self, grad_output):
        grad = _expand(grad_output, self.x.shape, self.axes, self.keepdims)
        winners = self.x == self.y
        return (grad * winners / winners.sum(axis=self.axes, keepdims=True),)


class Min(Max):
    """y = min(x, axis);  the gradient goes to the arg-min (split evenly on ties)."""

    def forward(self, x, axis=None, keepdims=False):
        # min(x) = -max(-x); the arg-max mask of -x is the arg-min mask of x and
        # the two sign flips cancel, so Max.backward serves unchanged.
        return -super().forward(-x, axis=axis, keepdims=keepdims)


class Penalty(Function):
    """r = l1 sum|w| + l2 sum w**2;  dr/dw = l1 sign(w) + 2 l2 w."""

    def forward(self, w, l1=0.0, l2=0.0):
        self.w, self.l1, self.l2 = w, l1, l2
        total = 0.0
        if l1:
            total += l1 * np.abs(w).sum()
        if l2:
            total += l2 * np.vdot(w, w)
        return np.asarray(total, dtype=w.dtype)

    def backward(self, grad_output):
        grad = np.zeros_like(self.w)
        if self.l1:
            grad += self.l1 * np.sign(self.w)
        if self.l2:
            grad += (2.0 * self.l2) * self.w
        return (grad * grad_output,)


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return Mean.apply(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return Max.apply(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    return Min.apply(x, axis=axis, keepdims=keepdims)


def l1_l2_penalty(w, l1=0.0, l2=0.0):
    """``l1 * sum(|w|) + l2 * sum(w**2)`` over all of ``w``: a scalar."""
    return Penalty.apply(w, l1=l1, l2=l2)
