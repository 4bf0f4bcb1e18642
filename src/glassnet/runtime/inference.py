"""Inference plans: a Sequential model of dense layers and elementwise
activations run on arrays, outside the graph.

``predict`` and ``predict_on_batch`` of a small model spend most of a small
batch's time around the arithmetic: a Tensor, a Function and a layer call
per step. A plan is the same arithmetic as the plain ops, in the same order
(the same bits, tested), straight on NumPy arrays: per Dense layer ``x @ w``,
``+= b`` and its fused activation in place, as ``ops.linear``'s Functions do;
per activation layer its op's forward; Dropout is the identity at inference.

:func:`chain_plan` is the seam's chooser (``seam.fast("chain_inference",
layers, dtype)``): a plan when every layer is one of those kinds as glassnet
defines it (no subclass with its own ``call``, no activity regularizer, the
model's dtype), else None. A plan reads the weights when it runs, so it
follows ``set_weights`` and training, and gives None (the caller's plain
path) when a graph is being recorded, fast kernels are off in this thread, or
the input is not a 2-D array of the model's dtype.

A Dense layer's output large enough to be mapped afresh by the C library on
every call (:data:`~glassnet.runtime.buffers.MIN_BYTES` or more) is written
into an array from :func:`~glassnet.runtime.buffers.reusable`, which hands
it out again only once nothing else refers to it; the plan's output is
always an array of its own (never the input), except for a chain that
leaves its input as it is (Dropout and linear activations only).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from glassnet import activations
from glassnet.autograd import is_grad_enabled
from glassnet.layers import Activation, Dense, Dropout
from glassnet.ops import _special
from glassnet.runtime.buffers import MIN_BYTES, reusable
from glassnet.runtime.dense import IN_PLACE, product
from glassnet.runtime.settings import fast_kernels

#: the plain activation ops' forwards, by glassnet's activation function
FORWARDS: dict[Callable, Callable[[np.ndarray], np.ndarray]] = {
    activations.relu: lambda x: np.maximum(x, 0),
    activations.tanh: np.tanh,
    activations.sigmoid: _special.expit,
    activations.linear: lambda x: x,
}


def dense_forward(layer: Dense, activate: Any, x: np.ndarray) -> np.ndarray:
    """A Dense layer's output for ``x``: ``ops.linear``'s arithmetic, its
    fused activation ``activate`` (from ``IN_PLACE``) applied in place."""
    w = layer.kernel.data
    if len(x) * w.shape[1] * w.itemsize < MIN_BYTES:
        z = product(x, w)
    else:  # the same product, into memory already mapped (see the module)
        z = product(x, w, reusable((len(x), w.shape[1]), w.dtype))
    if layer.bias is not None:
        z += layer.bias.data
    if activate is not None:
        activate(z)
    return z


def _identity(x: np.ndarray) -> np.ndarray:
    return x


def _step(layer: Any, dtype: np.dtype) -> Callable[[np.ndarray], np.ndarray] | None:
    """The plan's step for ``layer``, or None if the layer is not one a plan
    runs as its plain ops do."""
    kind = type(layer)
    if layer.activity_regularizer is not None or layer._dtype != dtype:
        return None
    if kind is Dense:
        if layer._fused is None and layer.activation is not None:
            return None  # an activation ops.linear does not fuse
        return partial(dense_forward, layer, IN_PLACE[layer._fused])
    if kind is Activation:
        if layer.activation is None:
            return _identity
        return FORWARDS.get(layer.activation)
    if kind is Dropout:
        return _identity
    return None


class InferencePlan:
    """``plan(x)``: the layers' output for ``x`` on arrays, or None (see the
    module); :meth:`run` the same for a caller that records no graph in any
    case."""

    def __init__(self, steps: list[Callable[[np.ndarray], np.ndarray]], dtype):
        self.steps, self.dtype = steps, dtype

    def __call__(self, x: Any) -> np.ndarray | None:
        return None if is_grad_enabled() else self.run(x)

    def run(self, x: Any) -> np.ndarray | None:
        """The output for ``x`` whatever this thread's gradient mode: for
        ``predict_on_batch``, which returns arrays only."""
        if (
            type(x) is not np.ndarray
            or x.ndim != 2
            or x.dtype != self.dtype
            or not fast_kernels()
        ):
            return None
        for step in self.steps:
            x = step(x)
        return x


def chain_plan(layers: list[Any], dtype: Any) -> InferencePlan | None:
    """A plan running ``layers`` one after the other at inference (see the
    module), or None."""
    dtype = np.dtype(dtype)
    steps = [_step(layer, dtype) for layer in layers]
    if not steps or any(step is None for step in steps):
        return None
    return InferencePlan(steps, dtype)
