"""Matrix products: matmul, the batched dot product of the ``Dot`` layer, and the
fused affine map of a dense layer (optionally with its relu / tanh / sigmoid in
the same node). At inference ``linear`` may hand over to its fast twin,
:mod:`glassnet.runtime.dense` (asked through :func:`glassnet.ops.seam.fast`)."""

from __future__ import annotations

import numpy as np

from glassnet.autograd import Function
from glassnet.ops import _special, seam


class MatMul(Function):
    """z = x @ y;  dL/dx = g @ y.T, dL/dy = x.T @ g (batched over leading axes)."""

    def forward(self, x, y):
        x, y = np.asarray(x), np.asarray(y)
        if (
            x.ndim == 0
            or y.ndim == 0
            or x.shape[-1] != y.shape[-2 if y.ndim > 1 else 0]
        ):
            raise ValueError(
                "matmul needs the last axis of the first operand to match the "
                f"second-to-last axis of the second. Received: shapes {x.shape} "
                f"and {y.shape}."
            )
        self.x, self.y = x, y
        try:
            return x @ y
        except ValueError:
            raise ValueError(
                "matmul needs the leading (batch) axes of both operands to "
                f"broadcast. Received: shapes {x.shape} and {y.shape}."
            ) from None

    def backward(self, grad_output):
        x, y, g = self.x, self.y, grad_output
        need_x, need_y = self.needs_input_grad
        grad_x = grad_y = None
        if x.ndim == 1 and y.ndim == 1:
            return (g * y if need_x else None, g * x if need_y else None)
        if x.ndim == 1:
            grad_x = (y @ g[..., None])[..., 0] if need_x else None
            grad_y = x[:, None] * g[..., None, :] if need_y else None
            return grad_x, grad_y
        if y.ndim == 1:
            grad_x = g[..., :, None] * y if need_x else None
            if need_y:
                grad_y = (np.swapaxes(x, -1, -2) @ g[..., None])[..., 0]
                grad_y = grad_y.reshape(-1, y.shape[0]).sum(axis=0)
            return grad_x, grad_y
        if need_x:
            grad_x = g @ np.swapaxes(y, -1, -2)
        if need_y:
            grad_y = np.swapaxes(x, -1, -2) @ g
        return grad_x, grad_y


class BatchDot(Function):
    """z[b, i..., j...] = sum_k x[b, i..., k...] y[b, j..., k...], summing
    x's axis ``axes[0]`` against y's axis ``axes[1]`` sample by sample;
    dL/dx = g @ y.T, dL/dy = x.T @ g per sample (axes moved, rest flattened).
    A result of one axis (the batch) becomes ``(batch, 1)``, as in Keras."""

    def forward(self, x, y, axes=(-1, -1)):
        a, c = axes[0] % x.ndim, axes[1] % y.ndim
        if x.ndim < 2 or y.ndim < 2 or 0 in (a, c) or x.shape[a] != y.shape[c]:
            raise ValueError(
                "batch_dot sums one non-batch axis of x against one of y, of the "
                f"same size. Received: shapes {x.shape} and {y.shape}, axes={axes}"
            )
        self.axes, self.x_shape, self.y_shape = (a, c), x.shape, y.shape
        xm = np.moveaxis(x, a, -1)  # (batch, i..., k)
        ym = np.moveaxis(y, c, 1)  # (batch, k, j...)
        self.x2 = xm.reshape(len(x), -1, x.shape[a])
        self.y2 = ym.reshape(len(y), y.shape[c], -1)
        self.moved = xm.shape[:-1], ym.shape[2:]
        z = (self.x2 @ self.y2).reshape(*xm.shape[:-1], *ym.shape[2:])
        return z.reshape(len(x), 1) if z.ndim == 1 else z

    def backward(self, grad_output):
        g = grad_output.reshape(len(grad_output), self.x2.shape[1], self.y2.shape[2])
        need_x, need_y = self.needs_input_grad
        grad_x = grad_y = None
        if need_x:
            grad_x = g @ np.swapaxes(self.y2, 1, 2)
            grad_x = grad_x.reshape(*self.moved[0], self.x_shape[self.axes[0]])
            grad_x = np.moveaxis(grad_x, -1, self.axes[0])
        if need_y:
            grad_y = np.swapaxes(self.x2, 1, 2) @ g
            grad_y = grad_y.reshape(len(g), self.y_shape[self.axes[1]], *self.moved[1])
            grad_y = np.moveaxis(grad_y, 1, self.axes[1])
        return grad_x, grad_y


class Linear(Function):
    """z = x @ w + b (fused, one node per dense layer);  dL/dx = g w.T,
    dL/dw = x.T g, dL/db = sum(g over the batch). ``b`` may be omitted."""

    def forward(self, x, w, b=None):
        if x.shape[-1] != w.shape[0]:
            raise ValueError(
                f"linear needs x's last axis ({x.shape[-1]}) to equal w's first "
                f"({w.shape[0]}). Received: x.shape={x.shape}, w.shape={w.shape}."
            )
        self.x, self.w = x, w
        z = x @ w
        if b is not None:
            z += b
        return z

    def backward(self, grad_output):
        g = grad_output
        need = self.needs_input_grad + (False,) * (3 - len(self.needs_input_grad))
        grad_x = g @ self.w.T if need[0] else None
        if self.x.ndim == 2:
            grad_w = self.x.T @ g if need[1] else None
            grad_b = g.sum(axis=0) if need[2] else None
        else:
            x2 = self.x.reshape(-1, self.x.shape[-1])
            g2 = g.reshape(-1, g.shape[-1])
            grad_w = x2.T @ g2 if need[1] else None
            grad_b = g2.sum(axis=0) if need[2] else None
        return (grad_x, grad_w, grad_b)[: len(self.needs_input_grad)]


_ZEROS: dict[tuple, np.ndarray] = {}


def _zeros(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A read-only array of zeros, kept for the few shapes a training loop uses
    (a fresh one costs a memset in every step); large ones are not kept."""
    key = (shape, dtype)
    zeros = _ZEROS.get(key)
    if zeros is None:
        zeros = np.zeros(shape, dtype)
        if zeros.size <= 1 << 20:
            if len(_ZEROS) >= 16:
                _ZEROS.clear()
            zeros.flags.writeable = False
            _ZEROS[key] = zeros
    return zeros


class LinearReLU(Linear):
    """y = max(x @ w + b, 0) (one node);  Linear's gradients of g * (y > 0)."""

    def forward(self, x, w, b=None):
        # NOTE: in place: z is this op's own fresh array, so no second output copy.
        # Against an array of zeros, not the scalar 0: NumPy's maximum has no
        # vectorised loop for a stride-0 (scalar) operand.
        z = super().forward(x, w, b)
        self.y = np.maximum(z, _zeros(z.shape, z.dtype), out=z)
        return self.y

    def backward(self, grad_output):
        return super().backward(grad_output * (self.y > 0))


class LinearTanh(Linear):
    """y = tanh(x @ w + b) (one node);  Linear's gradients of g * (1 - y**2)."""

    def forward(self, x, w, b=None):
        z = super().forward(x, w, b)
        self.y = np.tanh(z, out=z)
        return self.y

    def backward(self, grad_output):
        return super().backward(grad_output * (1.0 - self.y * self.y))


class LinearSigmoid(Linear):
    """y = sigmoid(x @ w + b) (one node);  Linear's gradients of g * y * (1 - y)."""

    def forward(self, x, w, b=None):
        z = super().forward(x, w, b)
        # NOTE: scipy's expit, as ops.sigmoid (never overflows; scikit-learn's).
        self.y = _special.expit(z, out=z)
        return self.y

    def backward(self, grad_output):
        return super().backward(grad_output * self.y * (1.0 - self.y))


#: The activations ``linear`` fuses into its node, by name.
LINEAR_ACTIVATIONS = {
    None: Linear,
    "relu": LinearReLU,
    "tanh": LinearTanh,
    "sigmoid": LinearSigmoid,
}


def matmul(x, y):
    return MatMul.apply(x, y)


def batch_dot(x, y, axes=(-1, -1)):
    """Per sample, the sum of ``x``'s axis ``axes[0]`` against ``y``'s axis
    ``axes[1]`` (Keras's ``batch_dot``, for the ``Dot`` layer)."""
    if isinstance(axes, (int, np.integer)):
        axes = (int(axes), int(axes))
    return BatchDot.apply(x, y, axes=tuple(axes))


def linear(x, w, b=None, activation=None):
    """``activation(x @ w + b)`` as one graph node; ``activation`` is None,
    "relu", "tanh" or "sigmoid" (applied in place on the node's own output, and
    differentiated from that output)."""
    fn = None
    if activation is None or isinstance(activation, str):
        fn = LINEAR_ACTIVATIONS.get(activation)
    if fn is None:
        raise ValueError(
            "linear fuses only these activations: "
            f"{sorted(k for k in LINEAR_ACTIVATIONS if k)} or None. "
            f"Received: activation={activation!r}"
        )
    fast = seam.fast("linear", x, w)
    if fast is not None:
        return fast(x, w, b, activation=activation)
    return fn.apply(x, w) if b is None else fn.apply(x, w, b)
