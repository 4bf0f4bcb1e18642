"""One-hot labels and normalized rows, as Keras's ``numerical_utils``."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import ops
from glassnet.autograd import Tensor


def to_categorical(x: Any, num_classes: int | None = None) -> Any:
    """The one-hot rows of the integer labels ``x``.

    As Keras: labels shaped ``(..., 1)`` lose that last axis; ``num_classes``
    defaults to ``max(x) + 1``; an array or a list gives a float64 NumPy array
    of shape ``x.shape + (num_classes,)``, a glassnet Tensor a float32 Tensor
    (``ops.one_hot``).

    >>> to_categorical([0, 2, 1])
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    """
    if isinstance(x, Tensor):
        if x.ndim > 1 and x.shape[-1] == 1:
            x = ops.reshape(x, x.shape[:-1])
        if num_classes is None:
            num_classes = int(np.max(x.data)) + 1
        return ops.one_hot(x, num_classes)
    labels = np.array(x, dtype="int64")
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = labels.reshape(-1)
    if not num_classes:
        num_classes = int(np.max(labels)) + 1
    if labels.size and labels.max() >= num_classes:
        raise ValueError(
            f"to_categorical: label {labels.max()} is not below num_classes="
            f"{num_classes}. Received: num_classes={num_classes}"
        )
    categorical = np.zeros((labels.shape[0], num_classes))
    categorical[np.arange(labels.shape[0]), labels] = 1
    return categorical.reshape(shape + (num_classes,))


def normalize(x: Any, axis: int = -1, order: int = 2) -> Any:
    """``x`` divided by its ``order``-norm along ``axis``.

    A NumPy array gives a NumPy array (rows of norm 0 are left as they are); a
    Tensor or a list gives a Tensor, computed as Keras's ``ops.normalize``
    (norms below 1e-7 count as 1e-7), differentiable through a Tensor.
    """
    if isinstance(x, np.ndarray):
        norm = np.atleast_1d(np.linalg.norm(x, order, axis))
        norm[norm == 0] = 1
        return x / np.expand_dims(norm, axis or -1)
    if not isinstance(order, int) or order < 1:
        raise ValueError(
            f"Argument `order` must be an int >= 1. Received: order={order!r}"
        )
    epsilon = 1e-7
    x = ops.convert_to_tensor(x)
    if x.ndim == 0:
        x = ops.expand_dims(x, 0)
    if order == 2:
        # NOTE: Keras's x * min(rsqrt(sum x**2), 1 / epsilon), with the bound
        # taken before the power, so a zero row gives no division warning.
        squares = ops.sum(ops.square(x), axis=axis, keepdims=True)
        return ops.multiply(x, ops.power(ops.maximum(squares, epsilon**2), -0.5))
    norm = ops.norm(x, ord=order, axis=axis, keepdims=True)
    return ops.divide(x, ops.maximum(norm, epsilon))
