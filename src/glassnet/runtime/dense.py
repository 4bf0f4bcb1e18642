"""The fast twin of ``ops.linear`` at inference: ``activation(x @ w + b)``
with no graph to record.

Under ``no_grad`` nothing will call a backward, so the twin does the plain
op's arithmetic -- the same matrix product, the bias added and the
activation applied in place, in the same order, so the same bits -- on the
arrays directly, without a Function instance, and writes the product into an
array from :func:`~glassnet.runtime.buffers.reusable`, so a large batch
lands in memory that is already mapped instead of paying a page fault per
page on every call. Its chooser (:func:`choose`) leaves to the plain op the
inputs it does not cover (an input that is not a 2-D array of the weights'
dtype, a scipy sparse matrix) and products too small to gain.
"""

from __future__ import annotations

import numpy as np

from glassnet.autograd import Tensor, is_grad_enabled
from glassnet.ops import _special
from glassnet.ops.linalg import LINEAR_ACTIVATIONS, _zeros
from glassnet.runtime.buffers import MIN_BYTES, reusable
from glassnet.runtime.settings import fast_kernels


def _relu(z: np.ndarray) -> None:
    np.maximum(z, _zeros(z.shape, z.dtype), out=z)


def _tanh(z: np.ndarray) -> None:
    np.tanh(z, out=z)


def _sigmoid(z: np.ndarray) -> None:
    _special.expit(z, out=z)


def product(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` for 2-D arrays of one dtype (into ``out`` if given). With an
    inner dimension of 1, NumPy's matmul takes a plain loop several times
    slower than ``np.dot``'s BLAS call; each element is then a single
    product, the same bits either way (tested), so ``np.dot`` computes it."""
    if a.shape[1] == 1:
        return np.dot(a, b, out)
    return np.matmul(a, b) if out is None else np.matmul(a, b, out=out)


#: The activations applied in place, as the plain op's fused Functions do.
IN_PLACE = {None: None, "relu": _relu, "tanh": _tanh, "sigmoid": _sigmoid}


def choose(x, w, **settings):
    """The seam's chooser for ``linear``: the twin when no graph is recorded,
    ``x @ w`` is a product of two 2-D arrays of one dtype with an output large
    enough to gain from reuse (smaller ones cost more in these checks than
    they save), and fast kernels are on. Cheapest checks first: a training
    step pays only the first."""
    if is_grad_enabled():
        return None
    xa = x._data if type(x) is Tensor else x
    wa = w._data if type(w) is Tensor else w
    if (
        type(xa) is not np.ndarray
        or type(wa) is not np.ndarray
        or xa.ndim != 2
        or wa.ndim != 2
        or len(xa) * wa.shape[1] * wa.itemsize < MIN_BYTES
        or xa.dtype != wa.dtype
        or xa.shape[1] != wa.shape[0]
        or not fast_kernels()
    ):
        return None
    return linear_inference


def linear_inference(x, w, b=None, activation=None) -> Tensor:
    """``ops.linear(x, w, b, activation)`` outside the graph, for the operands
    :func:`choose` accepts (see the module)."""
    xa = x._data if type(x) is Tensor else x
    wa = w._data if type(w) is Tensor else w
    ba = b._data if type(b) is Tensor else b
    if ba is not None and (type(ba) is not np.ndarray or ba.dtype != wa.dtype):
        fn = LINEAR_ACTIVATIONS[activation]  # NOTE: the plain op's casting rules
        return fn.apply(x, w, b)
    z = product(xa, wa, reusable((xa.shape[0], wa.shape[1]), wa.dtype))
    if ba is not None:
        z += ba
    act = IN_PLACE[activation]
    if act is not None:
        act(z)
    return Tensor(z)
