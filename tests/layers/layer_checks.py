"""Shared checks for layers: ``check_layer``, float64 gradcheck, Keras parity.

``check_layer(layer, input_shape)`` runs a layer through its whole lifecycle:
output shape against ``compute_output_shape``, the parameter count against the
weights, the ``get_config`` / ``from_config`` round trip (same outputs with the
same weights) and one training step (gradients of the right shapes, weights
change). ``layer_gradcheck`` differentiates the layer with respect to its input
and every trainable weight by finite differences (float64). ``keras_parity``
copies the weights into the Keras 3 twin (torch backend) and compares outputs
and input / weight gradients.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import numpy as np

from glassnet import ops
from glassnet.autograd import Tensor, gradcheck
from glassnet.layers import Layer


def _input(shape: tuple[int, ...], dtype: str, seed: int = 0) -> np.ndarray:
    # NOTE: values away from 0 keep relu / max kinks away from the difference step.
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.2, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    return x.astype(dtype)


def _differentiable(x: np.ndarray) -> bool:
    """Float inputs get a gradient; integer ones (Embedding's indices) none."""
    return np.issubdtype(x.dtype, np.floating)


def check_layer(
    layer: Layer,
    input_shape: tuple[int, ...],
    batch: int = 3,
    training: bool = False,
    x: np.ndarray | None = None,
) -> Tensor:
    """Shape, weight count, config round trip and one training step (on ``x``
    when given, else random floats of ``(batch, *input_shape)``)."""
    x = _input((batch, *input_shape), layer.dtype) if x is None else x
    out = layer(x, training=training)
    expected = layer.compute_output_shape((None, *input_shape))
    assert out.data.shape == (len(x), *expected[1:]), (out.data.shape, expected)
    assert out.data.dtype == np.dtype(layer.dtype)
    assert layer.count_params() == sum(w.data.size for w in layer.weights)
    assert len(layer.weights) == len(layer.trainable_weights) + len(
        layer.non_trainable_weights
    )

    config = layer.get_config()
    config.pop("name")
    clone = type(layer).from_config(config)
    assert clone.name != layer.name
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).data, layer(x).data)
    assert clone.get_config() == {**config, "name": clone.name}

    params = layer.trainable_weights
    before = [w.data.copy() for w in params]
    inputs = Tensor(x, requires_grad=_differentiable(x))
    out = layer(inputs, training=True)
    loss = ops.sum(ops.mul(out, out))
    loss.backward()
    if _differentiable(x):
        assert inputs.grad is not None and inputs.grad.shape == x.shape
    for w in params:
        assert w.grad is not None and w.grad.shape == w.data.shape
        w.data -= 1e-2 * w.grad
        w.grad = None
    for w, old in zip(params, before):
        assert not np.array_equal(w.data, old), f"{w.name} did not change"
    return out


@contextlib.contextmanager
def _swapped_weights(layer: Layer, tensors: list[Tensor]):
    """Temporarily replace the layer's trainable weights by ``tensors``."""
    old = layer.trainable_weights
    swap = {id(o): n for o, n in zip(old, tensors)}
    saved = dict(vars(layer))
    for key, value in saved.items():
        if id(value) in swap:
            setattr(layer, key, swap[id(value)])
    layer._weights = [swap.get(id(w), w) for w in layer._weights]
    try:
        yield
    finally:
        for key in saved:
            setattr(layer, key, saved[key])


def layer_gradcheck(
    layer: Layer,
    input_shape: tuple[int, ...],
    training: bool = False,
    x: np.ndarray | None = None,
    **kwargs: Any,
) -> float:
    """Finite-difference check of d(output)/d(input, weights); layer in float64
    (integer inputs ``x`` are passed through, not differentiated)."""
    assert layer.dtype == "float64"
    x = _input((2, *input_shape), "float64", seed=1) if x is None else x
    layer(x)

    def fn(inputs, *weights):
        with _swapped_weights(layer, list(weights)):
            return layer.call(inputs, training=training)

    weights = [w.data.copy() for w in layer.trainable_weights]
    return gradcheck(fn, x, *weights, name=layer.name, **kwargs)


def keras_module():
    """keras with the torch backend (the caller importorskips both first)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    return keras


def keras_parity(
    layer: Layer,
    keras_layer: Any,
    input_shape: tuple[int, ...],
    training: bool = False,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    x: np.ndarray | None = None,
    input_grad: bool | None = None,
) -> float:
    """Same weights in, same outputs and input / weight gradients out (float32),
    on ``x`` when given; ``input_grad=False`` (the default for integer input)
    skips the input's gradient. Returns the worst difference relative to the
    largest Keras value of its array."""
    import torch

    x = _input((4, *input_shape), "float32", seed=2) if x is None else x
    differentiable = _differentiable(x) if input_grad is None else input_grad
    layer(x)
    keras_layer.build((None, *input_shape))
    keras_layer.set_weights(layer.get_weights())
    projection = np.random.default_rng(3).standard_normal(
        (len(x), *layer.compute_output_shape((None, *input_shape))[1:])
    )

    inputs = Tensor(x, requires_grad=differentiable)
    out = layer(inputs, training=training)
    ops.sum(ops.mul(out, projection.astype("float32"))).backward()

    xt = torch.tensor(x, requires_grad=differentiable)
    kout = keras_layer(xt, training=training)
    params = [w.value for w in keras_layer.trainable_weights]
    total = (kout * torch.tensor(projection, dtype=torch.float32)).sum()
    grads = torch.autograd.grad(total, [xt, *params] if differentiable else params)

    pairs = [(out.data, kout.detach().numpy())]
    if differentiable:
        pairs.append((inputs.grad, grads[0].numpy()))
        grads = grads[1:]
    ours = layer.trainable_weights
    assert len(ours) == len(params)
    pairs += [(w.grad, g.numpy()) for w, g in zip(ours, grads)]
    for a, b in pairs:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    for w in ours:
        w.grad = None
    if training:
        for w, kw in zip(
            layer.non_trainable_weights, keras_layer.non_trainable_weights
        ):
            np.testing.assert_allclose(
                w.data, kw.value.detach().numpy(), rtol=rtol, atol=atol
            )
    return max(
        float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30)) if b.size else 0.0
        for a, b in pairs
    )
