"""The merge layers: shapes and errors as Keras's, outputs and gradients
equal Keras's (same inputs, torch backend), finite differences in float64,
config round trips, and their functional forms in a model."""

from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet import layers, ops
from glassnet.autograd import Tensor, gradcheck
from glassnet.models import Model

# (name, keyword arguments, input shapes of one sample each)
CASES = [
    ("Add", {}, [(4,), (4,)]),
    ("Add", {}, [(3, 4), (3, 4), (3, 4)]),
    ("Add", {}, [(3, 4), (1, 4)]),
    ("Add", {}, [(3, 4), (4,)]),
    ("Subtract", {}, [(2, 3), (2, 3)]),
    ("Subtract", {}, [(2, 3), (1, 3)]),
    ("Multiply", {}, [(5,), (5,), (5,)]),
    ("Multiply", {}, [(2, 3), (2, 1)]),
    ("Average", {}, [(4,), (4,)]),
    ("Average", {}, [(2, 3), (2, 3), (2, 3)]),
    ("Maximum", {}, [(4,), (4,), (4,)]),
    ("Maximum", {}, [(2, 3), (3,)]),
    ("Minimum", {}, [(4,), (4,)]),
    ("Minimum", {}, [(2, 3), (1, 3)]),
    ("Concatenate", {}, [(3,), (4,)]),
    ("Concatenate", {"axis": 1}, [(2, 3), (5, 3), (1, 3)]),
    ("Concatenate", {"axis": -2}, [(2, 3), (4, 3)]),
    ("Dot", {"axes": 1}, [(4,), (4,)]),
    ("Dot", {"axes": -1}, [(3, 4), (5, 4)]),
    ("Dot", {"axes": (1, 2)}, [(3, 4), (2, 3)]),
    ("Dot", {"axes": [2, 1]}, [(3, 4), (4,)]),
    ("Dot", {"axes": 1, "normalize": True}, [(4,), (4,)]),
    ("Dot", {"axes": (2, 2), "normalize": True}, [(3, 4), (2, 4)]),
]
IDS = [f"{i}-{name}" for i, (name, _, _) in enumerate(CASES)]


def _inputs(shapes, dtype="float32", batch=3, seed=0):
    """Values away from ties (maximum/minimum) and from 0."""
    rng = np.random.default_rng(seed)
    out = []
    for i, shape in enumerate(shapes):
        base = rng.integers(-3, 4, (batch, *shape)) + 0.31 * (i + 1)
        out.append((base + rng.uniform(-0.05, 0.05, base.shape)).astype(dtype))
    return out


def _make(name, kwargs, dtype="float32"):
    return getattr(layers, name)(dtype=dtype, **kwargs)


@pytest.mark.parametrize(("name", "kwargs", "shapes"), CASES, ids=IDS)
def test_shape_config_and_a_training_step(name, kwargs, shapes):
    layer = _make(name, kwargs)
    xs = _inputs(shapes)
    out = layer(xs)
    expected = layer.compute_output_shape([(None, *s) for s in shapes])
    assert out.data.shape == (3, *expected[1:]) and out.data.dtype == np.float32
    assert layer.count_params() == 0 and layer.weights == []
    config = layer.get_config()
    config.pop("name")
    clone = type(layer).from_config(config)
    np.testing.assert_array_equal(clone(xs).data, out.data)
    assert clone.get_config() == {**config, "name": clone.name}
    tensors = [Tensor(x, requires_grad=True) for x in xs]
    ops.sum(ops.mul(layer(tensors), layer(tensors))).backward()
    for t, x in zip(tensors, xs):
        assert t.grad is not None and t.grad.shape == x.shape


@pytest.mark.parametrize(("name", "kwargs", "shapes"), CASES, ids=IDS)
def test_gradients_equal_finite_differences(name, kwargs, shapes):
    layer = _make(name, kwargs, dtype="float64")
    xs = _inputs(shapes, "float64", batch=2, seed=1)
    layer(xs)
    gradcheck(lambda *ts: layer.call(list(ts)), *xs, name=name)


def test_broadcast_gradient_sums_over_the_broadcast_axis():
    # (2, 3) + (1, 3): the second input's gradient adds its 2 rows of 1s
    a, b = Tensor(np.zeros((1, 2, 3)), True), Tensor(np.zeros((1, 1, 3)), True)
    ops.sum(layers.Add(dtype="float64")([a, b])).backward()
    np.testing.assert_array_equal(b.grad, np.full((1, 1, 3), 2.0))
    np.testing.assert_array_equal(a.grad, np.ones((1, 2, 3)))


def test_lower_rank_inputs_get_axes_after_the_batch():
    a = np.arange(6, dtype="float32").reshape(1, 2, 3)
    b = np.array([[10.0, 20.0]], dtype="float32")  # (1, 2): read as (1, 1, 2)
    with pytest.raises(ValueError, match="incompatible shapes"):
        layers.Add()([a, b])
    c = np.array([[100.0]], dtype="float32")  # (1, 1) -> (1, 1, 1)
    out = layers.Add()([a, c]).data
    np.testing.assert_array_equal(out, a + 100)


@pytest.mark.parametrize(("name", "kwargs", "shapes"), CASES, ids=IDS)
def test_outputs_and_gradients_equal_keras(keras, name, kwargs, shapes):
    import torch

    ours = _make(name, kwargs)
    theirs = getattr(keras.layers, name)(**kwargs)
    xs = _inputs(shapes, seed=2)
    tensors = [Tensor(x, requires_grad=True) for x in xs]
    out = ours(tensors)
    projection = np.random.default_rng(3).standard_normal(out.data.shape)
    ops.sum(ops.mul(out, projection.astype("float32"))).backward()
    torch_xs = [torch.tensor(x, requires_grad=True) for x in xs]
    kout = theirs(torch_xs)
    total = (kout * torch.tensor(projection, dtype=torch.float32)).sum()
    grads = torch.autograd.grad(total, torch_xs)
    np.testing.assert_allclose(out.data, kout.detach().numpy(), rtol=1e-5, atol=1e-6)
    for t, g in zip(tensors, grads):
        np.testing.assert_allclose(t.grad, g.numpy(), rtol=1e-5, atol=1e-6)
    keras_shape = theirs.compute_output_shape([(None, *s) for s in shapes])
    assert ours.compute_output_shape([(None, *s) for s in shapes]) == keras_shape
    assert ours.get_config() == theirs.get_config() | {"name": ours.name}


# (layer maker, input shapes with the batch, the error's start) as Keras raises
ERRORS = [
    (lambda L: L.Add(), [(None, 3)], "A merge layer should be called on a list"),
    (lambda L: L.Add(), [(None, 3), (None, 4)], "Inputs have incompatible shapes"),
    (lambda L: L.Add(), [(2, 3), (4, 3)], "Cannot merge tensors with different batch"),
    (
        lambda L: L.Subtract(),
        [(None, 3), (None, 3), (None, 3)],
        "A `Subtract` layer should be called on exactly 2 inputs",
    ),
    (
        lambda L: L.Concatenate(),
        [(None, 3, 4), (None, 2, 4)],
        "A `Concatenate` layer requires inputs with matching shapes",
    ),
    (
        lambda L: L.Concatenate(axis=1),
        [(None, 3), (None, 4, 2)],
        "A `Concatenate` layer requires inputs with matching shapes",
    ),
    (
        lambda L: L.Dot(axes=1),
        [(None, 3), (None, 4)],
        "Incompatible input shapes: axis values 3 (at axis 1) != 4",
    ),
    (
        lambda L: L.Dot(axes=1),
        [(None, 3), (None, 3), (None, 3)],
        "A `Dot` layer should be called on a list of 2 inputs",
    ),
]


@pytest.mark.parametrize(("make", "shapes", "message"), ERRORS)
def test_build_errors_are_keras_errors(make, shapes, message):
    with pytest.raises(
        ValueError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        make(layers).build(shapes if len(shapes) > 1 else shapes[0])
    pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    with pytest.raises(ValueError) as theirs:
        make(keras.layers).build(shapes if len(shapes) > 1 else shapes[0])
    assert str(theirs.value).startswith(message)


@pytest.mark.parametrize(
    ("axes", "error", "message"),
    [
        ("1", TypeError, "Invalid type for argument `axes`"),
        ((1, 2, 3), ValueError, "it should contain two elements"),
        ((1, 2.0), ValueError, "list elements should be integers"),
    ],
)
def test_dot_checks_its_axes(axes, error, message):
    with pytest.raises(error, match=message):
        layers.Dot(axes=axes)


def test_dot_never_sums_the_batch_axis():
    with pytest.raises(ValueError, match="batch_dot"):
        layers.Dot(axes=(0, 0))(_inputs([(3,), (3,)]))


def test_functional_forms_make_and_call_the_layer():
    a, b = layers.Input((4,)), layers.Input((4,))
    forms = {
        "add": layers.add([a, b]),
        "subtract": layers.subtract([a, b]),
        "multiply": layers.multiply([a, b]),
        "average": layers.average([a, b]),
        "maximum": layers.maximum([a, b]),
        "minimum": layers.minimum([a, b]),
        "concatenate": layers.concatenate([a, b], axis=1),
        "dot": layers.dot([a, b], axes=1, normalize=True),
    }
    model = Model([a, b], forms)
    x, y = _inputs([(4,), (4,)])
    out = model([x, y])
    np.testing.assert_allclose(out["add"].data, x + y)
    np.testing.assert_allclose(out["subtract"].data, x - y)
    np.testing.assert_allclose(out["multiply"].data, x * y)
    np.testing.assert_allclose(out["average"].data, (x + y) / 2)
    np.testing.assert_allclose(out["maximum"].data, np.maximum(x, y))
    np.testing.assert_allclose(out["minimum"].data, np.minimum(x, y))
    np.testing.assert_allclose(out["concatenate"].data, np.concatenate([x, y], 1))
    cosine = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    np.testing.assert_allclose(out["dot"].data[:, 0], cosine, rtol=1e-5)
    # a dict's outputs in the order of its sorted keys, as Keras lists them
    sizes = [4, 4, 8, 1, 4, 4, 4, 4]
    assert model.output_shape == [(None, n) for n in sizes]
    assert layers.concatenate([a, b], name="joined").shape == (None, 8)


def test_a_merge_layer_of_unknown_sizes_builds_and_runs():
    a, b = layers.Input((None, 3)), layers.Input((None, 3))
    joined = layers.Concatenate(axis=1)([a, b])
    assert joined.shape == (None, None, 3)
    summed = layers.Add()([a, b])
    assert summed.shape == (None, None, 3)
    model = Model([a, b], [joined, summed])
    out = model([np.ones((2, 4, 3)), np.ones((2, 4, 3))])
    assert out[0].data.shape == (2, 8, 3) and out[1].data.shape == (2, 4, 3)
