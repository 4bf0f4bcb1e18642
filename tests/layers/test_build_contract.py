"""Keras's layer contract: ``build(input_shape)`` by hand marks the layer built,
so its first call neither builds again (no second set of weights) nor throws
away weights set in between; a second build of a layer with weights is an
error; Dense applies to the last axis of inputs of any rank >= 2."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import layers
from glassnet.models import Sequential

from .layer_checks import keras_module

# (layer factory, input shape of one sample) for every layer type
LAYERS = [
    (lambda: layers.Dense(3), (4,)),
    (lambda: layers.Dense(2, activation="relu"), (3, 4)),
    (lambda: layers.Conv2D(2, 3), (6, 6, 2)),
    (lambda: layers.Conv2D(2, 3, padding="same", activation="relu"), (5, 5, 1)),
    (lambda: layers.Conv1D(2, 3), (7, 2)),
    (lambda: layers.BatchNormalization(), (4,)),
    (lambda: layers.BatchNormalization(axis=1), (3, 4)),
    (lambda: layers.MaxPooling2D(), (4, 4, 2)),
    (lambda: layers.AveragePooling2D(), (4, 4, 2)),
    (lambda: layers.GlobalAveragePooling2D(), (4, 4, 2)),
    (lambda: layers.GlobalMaxPooling2D(), (4, 4, 2)),
    (lambda: layers.ZeroPadding2D(1), (3, 3, 2)),
    (lambda: layers.UpSampling2D(), (3, 3, 2)),
    (lambda: layers.Flatten(), (3, 2)),
    (lambda: layers.Reshape((6,)), (3, 2)),
    (lambda: layers.Activation("tanh"), (5,)),
    (lambda: layers.ReLU(max_value=1.0), (5,)),
    (lambda: layers.LeakyReLU(), (5,)),
    (lambda: layers.ELU(), (5,)),
    (lambda: layers.Softmax(), (2, 5)),
    (lambda: layers.Dropout(0.5), (5,)),
    (lambda: layers.Layer(), (5,)),
    (lambda: layers.Conv2DTranspose(2, 3, strides=2), (4, 4, 2)),
    (lambda: layers.Embedding(3, 2), (4,)),
    (lambda: layers.LayerNormalization(), (4,)),
    (lambda: layers.MaxPooling1D(2), (6, 2)),
    (lambda: layers.AveragePooling1D(2), (6, 2)),
    (lambda: layers.GlobalAveragePooling1D(), (5, 2)),
    (lambda: layers.GlobalMaxPooling1D(), (5, 2)),
    (lambda: layers.ZeroPadding1D(1), (3, 2)),
    (lambda: layers.UpSampling1D(2), (3, 2)),
    (lambda: layers.Cropping1D(1), (5, 2)),
    (lambda: layers.Cropping2D(1), (5, 5, 2)),
    (lambda: layers.RepeatVector(3), (4,)),
    (lambda: layers.Permute((2, 1)), (3, 4)),
    (lambda: layers.Rescaling(2.0, offset=-1.0), (3,)),
    (lambda: layers.Identity(), (3,)),
    (lambda: layers.Lambda(np.negative), (3,)),
    (lambda: layers.SimpleRNN(3), (4, 2)),
    (lambda: layers.LSTM(2, return_sequences=True), (4, 3)),
    (lambda: layers.GRU(2, reset_after=False), (3, 2)),
    (lambda: layers.Bidirectional(layers.LSTM(2)), (4, 3)),
    # the merge layers: a list of input shapes
    (lambda: layers.Add(), [(3,), (3,)]),
    (lambda: layers.Subtract(), [(2, 3), (1, 3)]),
    (lambda: layers.Multiply(), [(3,), (3,), (3,)]),
    (lambda: layers.Average(), [(3,), (3,)]),
    (lambda: layers.Maximum(), [(3,), (3,)]),
    (lambda: layers.Minimum(), [(3,), (3,)]),
    (lambda: layers.Concatenate(), [(2, 3), (2, 4)]),
    (lambda: layers.Dot(axes=-1), [(2, 3), (4, 3)]),
]
IDS = [f"{i}-{type(make()).__name__}" for i, (make, _) in enumerate(LAYERS)]


def _several(shape):
    return isinstance(shape, list)


def _batched(shape):
    """``(None, *shape)``, or a list of them for a merge layer's inputs."""
    if _several(shape):
        return [(None, *s) for s in shape]
    return (None, *shape)


def _x(shape, seed=0):
    if _several(shape):
        return [_x(s, seed + i) for i, s in enumerate(shape)]
    rng = np.random.default_rng(seed)
    return rng.uniform(0.2, 1.5, (2, *shape)).astype("float32")


def _new_weights(layer, seed=1):
    rng = np.random.default_rng(seed)
    # positive values: a valid moving variance for BatchNormalization
    return [rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) for w in layer.get_weights()]


@pytest.mark.parametrize(("make", "shape"), LAYERS, ids=IDS)
def test_explicit_build_marks_the_layer_built(make, shape):
    layer = make()
    layer.build(_batched(shape))
    assert layer.built and layer._build_shape == _batched(shape)
    count = layer.count_params()
    weights = layer.weights
    out = layer(_x(shape))
    assert layer.count_params() == count  # no second set of weights
    assert all(a is b for a, b in zip(layer.weights, weights))
    expected = layer.compute_output_shape(_batched(shape))
    assert out.data.shape == (2, *expected[1:])


@pytest.mark.parametrize(("make", "shape"), LAYERS, ids=IDS)
def test_weights_set_after_build_survive_the_first_call(make, shape):
    layer = make()
    layer.build(_batched(shape))
    values = _new_weights(layer)
    layer.set_weights(values)
    out = layer(_x(shape)).data
    for got, value in zip(layer.get_weights(), values):
        np.testing.assert_array_equal(got, value)
    twin = make()  # built by its first call, then given the same weights
    twin(_x(shape))
    twin.set_weights(values)
    np.testing.assert_array_equal(out, twin(_x(shape)).data)


@pytest.mark.parametrize(("make", "shape"), LAYERS[:7], ids=IDS[:7])
def test_a_second_build_of_a_layer_with_weights_changes_nothing(make, shape):
    layer = make()
    layer.build((None, *shape))
    before = layer.get_weights()
    with pytest.raises(ValueError, match=r"already built.*Received: input_shape="):
        layer.build((None, *shape))
    assert len(layer.get_weights()) == len(before)
    for got, value in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(got, value)


def test_a_layer_built_by_hand_gives_the_model_its_input_shape():
    dense = layers.Dense(2)
    dense.build((None, 3))
    dense.set_weights([np.ones((3, 2), "float32"), np.zeros(2, "float32")])
    model = Sequential([dense])
    assert model.built and model.count_params() == 8
    np.testing.assert_array_equal(model.predict(np.ones((1, 3)), verbose=0), [[3, 3]])


def test_a_weightless_layer_built_by_hand_still_checks_the_rank():
    pool = layers.MaxPooling2D()
    pool.build((None, 4, 4, 1))
    with pytest.raises(ValueError, match=r"expected ndim=4, found ndim=3"):
        pool(np.ones((2, 4, 4), "float32"))


def test_dense_applies_to_the_last_axis_of_any_rank():
    dense = layers.Dense(2)
    dense.build((None, 4))
    kernel, bias = _new_weights(dense)
    dense.set_weights([kernel, bias])
    x = _x((3, 4))
    out = dense(x).data
    assert out.shape == (2, 3, 2)
    np.testing.assert_allclose(out, x @ kernel + bias, rtol=1e-6)
    assert dense(_x((5, 3, 4))).data.shape == (2, 5, 3, 2)
    with pytest.raises(ValueError, match=r"min_ndim=2.*found shape=\(4,\)"):
        dense(np.ones(4, "float32"))
    with pytest.raises(ValueError, match=r"axis -1 of size 4.*found shape=\(2, 3, 5\)"):
        dense(np.ones((2, 3, 5), "float32"))


def test_dense_on_rank_3_input_equals_keras_with_copied_weights():
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    keras = keras_module()
    ours = layers.Dense(3, activation="tanh")
    ours.build((None, 4))
    theirs = keras.layers.Dense(3, activation="tanh")
    theirs.build((None, 4))
    weights = _new_weights(ours)
    ours.set_weights(weights)
    theirs.set_weights(weights)
    x = _x((5, 4)) - 0.8
    expected = keras.ops.convert_to_numpy(theirs(x))
    np.testing.assert_allclose(ours(x).data, expected, rtol=1e-5, atol=1e-6)


def test_the_table_has_every_layer_class():
    # a new layer joins the table (InputLayer is built when made)
    public = {
        name
        for name in layers.__all__
        if isinstance(getattr(layers, name), type)
        and issubclass(getattr(layers, name), layers.Layer)
    }
    tested = {type(make()).__name__ for make, _ in LAYERS}
    assert public - tested == {"InputLayer"}


@pytest.mark.parametrize(
    ("layer", "shape", "ndim"),
    [
        (layers.MaxPooling1D(2), (6, 2), 3),
        (layers.AveragePooling1D(2), (6, 2), 3),
        (layers.GlobalAveragePooling1D(), (5, 2), 3),
        (layers.GlobalMaxPooling1D(), (5, 2), 3),
        (layers.ZeroPadding1D(1), (3, 2), 3),
        (layers.UpSampling1D(2), (3, 2), 3),
        (layers.Cropping1D(1), (5, 2), 3),
        (layers.Cropping2D(1), (5, 5, 2), 4),
        (layers.RepeatVector(3), (4,), 2),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, layers.Layer) else None,
)
def test_layers_of_a_fixed_rank_check_it_on_every_call(layer, shape, ndim):
    layer(_x(shape))
    with pytest.raises(ValueError, match=rf"expected ndim={ndim}, found ndim="):
        layer(np.ones((2, *shape, 1), "float32"))
