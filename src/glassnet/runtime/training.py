"""Training plans: a training step of a Sequential model of dense layers and
elementwise activations, forward and backward straight on arrays.

A small model's step is mostly the machinery around its arithmetic: a Tensor,
a Function and a layer call per op, and a graph walked backwards. A plan does
the same arithmetic as the plain ops' forwards and backwards, in the same
order (the same bits, tested): per Dense layer ``z = x @ w``, ``z += b`` and
its fused activation in place; going back, the activation's local gradient,
then ``dL/dw = x.T @ g``, ``dL/db = sum(g over the batch)`` and ``dL/dx =
g @ w.T`` (not for the first layer, whose input needs none). The loss stays
the compiled loss, on a Tensor of the plan's output, whose gradient the plan
takes back through the layers into each weight's ``.grad``.

:func:`chain_training` is the seam's chooser (``seam.fast("chain_training",
layers, dtype)``): a plan when every layer is a Dense (its activation fused
or none), an Activation (relu, tanh, sigmoid, linear) or a Dropout of rate 0,
as glassnet defines them, trainable, without regularizers and of the model's
dtype; else None. A plan reads the weights when it runs, and gives None (the
plain path) when fast kernels are off in this thread or the input is not a
2-D array of the model's dtype.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet import activations
from glassnet.layers import Activation, Dense, Dropout
from glassnet.runtime.dense import IN_PLACE, product
from glassnet.runtime.inference import FORWARDS, dense_forward
from glassnet.runtime.settings import fast_kernels


def _relu_grad(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    return g * (y > 0)


def _tanh_grad(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    return g * (1.0 - y * y)


def _sigmoid_grad(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    return g * y * (1.0 - y)


#: the local gradients of the activations, from their outputs (their forwards
#: are the inference plans')
LOCAL_GRADS: dict[Callable, Callable | None] = {
    activations.relu: _relu_grad,
    activations.tanh: _tanh_grad,
    activations.sigmoid: _sigmoid_grad,
    activations.linear: None,
}
#: the same local gradients, for the activations Dense fuses (by name)
FUSED_GRADS = {
    None: None,
    "relu": _relu_grad,
    "tanh": _tanh_grad,
    "sigmoid": _sigmoid_grad,
}


class _Dense:
    """A Dense layer's forward and backward on arrays (see the module)."""

    def __init__(self, layer: Dense) -> None:
        self.layer = layer
        self.activate = IN_PLACE[layer._fused]
        self.local_grad = FUSED_GRADS[layer._fused]

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        z = dense_forward(self.layer, self.activate, x)
        return z, (x, z)

    def backward(self, g: np.ndarray, saved: Any, first: bool) -> np.ndarray | None:
        x, y = saved
        if self.local_grad is not None:
            g = self.local_grad(g, y)
        layer = self.layer
        grad_x = None if first else product(g, layer.kernel.data.T)
        layer.kernel.grad = x.T @ g
        if layer.bias is not None:
            layer.bias.grad = g.sum(axis=0)
        return grad_x


class _Activation:
    def __init__(self, forward: Callable, local_grad: Callable | None) -> None:
        self._forward, self.local_grad = forward, local_grad

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        y = self._forward(x)
        return y, y

    def backward(self, g: np.ndarray, saved: Any, first: bool) -> np.ndarray:
        return g if self.local_grad is None else self.local_grad(g, saved)


def _step(layer: Any, dtype: np.dtype) -> Any:
    kind = type(layer)
    if layer.activity_regularizer is not None or layer._dtype != dtype:
        return None
    if layer._regularizers or not layer.trainable:
        return None
    if kind is Dense:
        if layer._fused is None and layer.activation is not None:
            return None
        return _Dense(layer)
    if kind is Activation:
        if layer.activation is None:
            return _Activation(lambda x: x, None)
        if layer.activation not in LOCAL_GRADS:
            return None
        return _Activation(FORWARDS[layer.activation], LOCAL_GRADS[layer.activation])
    if kind is Dropout and layer.rate == 0:
        return _Activation(lambda x: x, None)
    return None


class TrainingPlan:
    """``forward(x) -> (output, tape)`` or None, and ``backward(tape, g)``,
    which fills the ``.grad`` of the layers' weights from ``g = dL/d(output)``."""

    def __init__(self, steps: list[Any], dtype: np.dtype) -> None:
        self.steps, self.dtype = steps, dtype

    def forward(self, x: Any) -> tuple[np.ndarray, list[Any]] | None:
        if (
            type(x) is not np.ndarray
            or x.ndim != 2
            or x.dtype != self.dtype
            or not fast_kernels()
        ):
            return None
        tape = []
        for step in self.steps:
            x, saved = step.forward(x)
            tape.append(saved)
        return x, tape

    def backward(self, tape: list[Any], g: np.ndarray) -> None:
        for i in range(len(self.steps) - 1, -1, -1):
            g = self.steps[i].backward(g, tape[i], i == 0)


def chain_training(layers: list[Any], dtype: Any) -> TrainingPlan | None:
    """A training plan for ``layers`` (see the module), or None."""
    dtype = np.dtype(dtype)
    steps = [_step(layer, dtype) for layer in layers]
    if not steps or any(step is None for step in steps):
        return None
    return TrainingPlan(steps, dtype)
