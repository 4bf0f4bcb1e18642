"""The fast twin of ``ops.linear`` at inference: ``activation(x @ w + b)``
with no graph to record.

Under ``no_grad`` nothing will call a backward, so the twin does the plain
op's arithmetic -- the same matrix product, the bias added and the
activation applied in place, in the same order, so the same bits -- on the
arrays directly, without a Function instance, and writes the product into an
array from :func:`~glassnet.runtime.buffers.reusable`, so a large batch
lands in memory that is already mapped instead of paying a page fault per
page on every call. Inputs it does not cover (an input that is not a 2-D
array of the weights' dtype, a scipy sparse matrix) go to the plain op.
"""

from __future__ import annotations

import numpy as np

from glassnet.autograd import Tensor
from glassnet.ops import _special
from glassnet.ops.linalg import LINEAR_ACTIVATIONS, _zeros
from glassnet.runtime.buffers import reusable


def _relu(z: np.ndarray) -> None:
    np.maximum(z, _zeros(z.shape, z.dtype), out=z)


def _tanh(z: np.ndarray) -> None:
    np.tanh(z, out=z)


def _sigmoid(z: np.ndarray) -> None:
    _special.expit(z, out=z)


#: The activations applied in place, as the plain op's fused Functions do.
IN_PLACE = {None: None, "relu": _relu, "tanh": _tanh, "sigmoid": _sigmoid}


def _array(value):
    return value._data if type(value) is Tensor else value


def linear_inference(x, w, b=None, activation=None) -> Tensor:
    """``ops.linear(x, w, b, activation)`` outside the graph (see the module)."""
    xa, wa, ba = _array(x), _array(w), _array(b)
    if (
        type(xa) is not np.ndarray
        or type(wa) is not np.ndarray
        or xa.ndim != 2
        or wa.ndim != 2
        or xa.dtype != wa.dtype
        or xa.shape[1] != wa.shape[0]
        or (ba is not None and (type(ba) is not np.ndarray or ba.dtype != wa.dtype))
    ):
        fn = LINEAR_ACTIVATIONS[activation]
        return fn.apply(x, w) if b is None else fn.apply(x, w, b)
    z = np.matmul(xa, wa, out=reusable((xa.shape[0], wa.shape[1]), wa.dtype))
    if ba is not None:
        z += ba
    act = IN_PLACE[activation]
    if act is not None:
        act(z)
    return Tensor(z)
