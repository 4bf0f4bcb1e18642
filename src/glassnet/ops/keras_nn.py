"""Keras 3's ``keras.ops`` neural-network functions on arrays and Tensors
(integers computed in float32, as in ``keras_core``); ``gelu`` defaults to the
tanh approximation and ``leaky_relu`` to a slope of 0.2, as ``keras.ops`` do."""

from __future__ import annotations

import numpy as np

from glassnet.autograd.tensor import Tensor
from glassnet.ops.arithmetic import Clip
from glassnet.ops.keras_core import FLOATX, _array, _axis, _floating, _value
from glassnet.ops.nonlinear import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Softsign,
    Tanh,
)


# --- neural-network functions -----------------------------------------------------
def relu(x):
    return ReLU.apply(_value(x))


def relu6(x):
    return Clip.apply(_floating(x), low=0.0, high=6.0)


def sigmoid(x):
    return Sigmoid.apply(_floating(x))


def tanh(x):
    return Tanh.apply(_floating(x))


def softplus(x):
    return Softplus.apply(_floating(x))


def softsign(x):
    return Softsign.apply(_floating(x))


def silu(x):
    return SiLU.apply(_floating(x))


swish = silu


def elu(x, alpha=1.0):
    return ELU.apply(_floating(x), alpha=alpha)


def leaky_relu(x, negative_slope=0.2):
    return LeakyReLU.apply(_floating(x), negative_slope=negative_slope)


def gelu(x, approximate=True):
    return GELU.apply(_floating(x), approximate=approximate)


def softmax(x, axis=-1):
    return Softmax.apply(_floating(x), axis=_axis(axis))


def log_softmax(x, axis=-1):
    return LogSoftmax.apply(_floating(x), axis=_axis(axis))


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Rows of ``eye(num_classes)`` (float32) for the integer labels ``x``, on a
    new axis ``axis``; a label outside ``[0, num_classes)`` gives zeros."""
    if sparse:
        raise ValueError("glassnet has no sparse tensors. Received: sparse=True")
    labels = np.asarray(_array(x))
    if labels.dtype.kind not in "iub":
        labels = labels.astype(np.int64)
    encoded = labels[..., None] == np.arange(num_classes)
    encoded = encoded.astype(dtype or FLOATX)
    return Tensor(encoded if axis == -1 else np.moveaxis(encoded, -1, axis))


__all__ = [
    "elu",
    "gelu",
    "leaky_relu",
    "log_softmax",
    "one_hot",
    "relu",
    "relu6",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "tanh",
]
