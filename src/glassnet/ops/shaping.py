"""Shape operations: reshape, transpose, broadcast, indexing, concatenate, stack."""

from __future__ import annotations

import numpy as np

from glassnet.autograd import Function


class Reshape(Function):
    """y = reshape(x, shape);  dL/dx = reshape(dL/dy, x.shape)."""

    def forward(self, x, shape=None):
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, grad_output):
        return (grad_output.reshape(self.shape),)


class Transpose(Function):
    """y = transpose(x, axes);  dL/dx = transpose(dL/dy, inverse(axes))."""

    def forward(self, x, axes=None):
        self.axes = None if axes is None else tuple(a % x.ndim for a in axes)
        return np.transpose(x, self.axes)

    def backward(self, grad_output):
        if self.axes is None:
            return (np.transpose(grad_output),)
        return (np.transpose(grad_output, np.argsort(self.axes)),)


class BroadcastTo(Function):
    """y = broadcast_to(x, shape);  the backward walk sums dL/dy back to x.shape."""

    def forward(self, x, shape=None):
        return np.broadcast_to(x, shape)

    def backward(self, grad_output):
        return (grad_output,)


def _is_basic(index):
    """Whether ``x[index]`` is basic indexing (a view: no position repeats)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer))
        for p in parts
    )


class GetItem(Function):
    """y = x[index];  dL/dx scatters dL/dy back into zeros (adding repeated indices)."""

    def forward(self, x, index=None):
        self.shape, self.dtype, self.index = x.shape, x.dtype, index
        return x[index]

    def backward(self, grad_output):
        grad = np.zeros(self.shape, dtype=self.dtype)
        if _is_basic(self.index):
            grad[self.index] = grad_output
        else:
            # NOTE: add.at, because an integer-array index may repeat positions.
            np.add.at(grad, self.index, grad_output)
        return (grad,)


class Concatenate(Function):
    """y = concatenate(xs, axis);  dL/dxs are the matching slices of dL/dy."""

    def forward(self, *xs, axis=0):
        self.axis = axis
        self.splits = np.cumsum([x.shape[axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=axis)

    def backward(self, grad_output):
        return tuple(np.split(grad_output, self.splits, axis=self.axis))


class Stack(Function):
    """y = stack(xs, axis);  dL/dxs are dL/dy taken apart along ``axis``."""

    def forward(self, *xs, axis=0):
        self.axis = axis
        return np.stack(xs, axis=axis)

    def backward(self, grad_output):
        n = grad_output.shape[self.axis]
        return tuple(np.take(grad_output, i, axis=self.axis) for i in range(n))


def reshape(x, shape):
    return Reshape.apply(x, shape=shape)


def transpose(x, axes=None):
    return Transpose.apply(x, axes=axes)


def broadcast_to(x, shape):
    return BroadcastTo.apply(x, shape=tuple(shape))


expand = broadcast_to


def getitem(x, index):
    if isinstance(index, tuple):
        index = tuple(getattr(i, "data", i) for i in index)
    else:
        index = getattr(index, "data", index)
    return GetItem.apply(x, index=index)


def concatenate(xs, axis=0):
    return Concatenate.apply(*xs, axis=axis)


def stack(xs, axis=0):
    return Stack.apply(*xs, axis=axis)
