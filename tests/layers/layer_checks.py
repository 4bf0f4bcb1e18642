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


def check_layer(
    layer: Layer,
    input_shape: tuple[int, ...],
    batch: int = 3,
    training: bool = False,
) -> Tensor:
    """Shape, weight count, config round trip and one training step."""
    x = _input((batch, *input_shape), layer.dtype)
    out = layer(x, training=training)
    expected = layer.compute_output_shape((None, *input_shape))
    assert out.data.shape == (batch, *expected[1:]), (out.data.shape, expected)
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
    inputs = Tensor(x, requires_grad=True)
    out = layer(inputs, training=True)
    loss = ops.sum(ops.mul(out, out))
    loss.backward()
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
    layer: Layer, input_shape: tuple[int, ...], training: bool = False, **kwargs: Any
) -> float:
    """Finite-difference check of d(output)/d(input, weights); layer in float64."""
    assert layer.dtype == "float64"
    x = _input((2, *input_shape), "float64", seed=1)
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
) -> None:
    """Same weights in, same outputs and input / weight gradients out (float32)."""
    import torch

    x = _input((4, *input_shape), "float32", seed=2)
    layer(x)
    keras_layer.build((None, *input_shape))
    keras_layer.set_weights(layer.get_weights())
    projection = np.random.default_rng(3).standard_normal(
        (4, *layer.compute_output_shape((None, *input_shape))[1:])
    )

    inputs = Tensor(x, requires_grad=True)
    out = layer(inputs, training=training)
    ops.sum(ops.mul(out, projection.astype("float32"))).backward()

    xt = torch.tensor(x, requires_grad=True)
    kout = keras_layer(xt, training=training)
    params = [w.value for w in keras_layer.trainable_weights]
    total = (kout * torch.tensor(projection, dtype=torch.float32)).sum()
    grads = torch.autograd.grad(total, [xt, *params])

    np.testing.assert_allclose(out.data, kout.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(inputs.grad, grads[0].numpy(), rtol=rtol, atol=atol)
    ours = layer.trainable_weights
    assert len(ours) == len(params)
    for w, g in zip(ours, grads[1:]):
        np.testing.assert_allclose(w.grad, g.numpy(), rtol=rtol, atol=atol)
    for w in ours:
        w.grad = None
    if training:
        for w, kw in zip(
            layer.non_trainable_weights, keras_layer.non_trainable_weights
        ):
            np.testing.assert_allclose(
                w.data, kw.value.detach().numpy(), rtol=rtol, atol=atol
            )
