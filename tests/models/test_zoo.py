"""A zoo of functional and subclassed models compared with Keras 3 in one place.

Every entry is written once, as a function of the module it builds from
(``glassnet`` itself, as ``import glassnet as keras`` would give it, or
``keras``), so both libraries run the very same lines. For each entry Keras's
model gets random weights, they are copied into glassnet's model with
``set_weights(keras_model.get_weights())`` (so glassnet's weight order must be
Keras's), and then parameter counts, weight shapes, output shapes and
predictions (``predict`` and a ``training=False`` call, float32, relative
1e-5) must agree.

What the entries cover, between them:

================================  =============================================
kind                              entries
================================  =============================================
several inputs                    siamese, nested_functional, mixed_inputs,
                                  tagged_text, subclassed_two_in_two_out
several outputs                   siamese, two_heads, nested_functional,
                                  subclassed_two_in_two_out
residual (skip connections)       residual, unet, subclassed_attributes
a shared layer                    siamese, nested_functional,
                                  subclassed_two_in_two_out
a nested model                    nested_functional, subclassed_hybrid
merge layers                      Add, Subtract, Multiply, Average, Maximum,
                                  Minimum, Concatenate, Dot (see MERGES)
Embedding                         text, tagged_text
Conv2DTranspose                   decoder, unet
subclassed Model, layer attrs     subclassed_attributes
subclassed Model, lists / dicts   subclassed_collections
custom Layer with add_weight      custom_layer_functional
  inside a functional model
subclassed Model, nested custom   subclassed_training
  layer, training-dependent
  Dropout and BatchNormalization
================================  =============================================

Several-output models are only predicted here: training them is not part of
this file.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from saving.zoo import (
    GRAPH_INDICES,
    GRAPHS,
    INDICES,
    ZOO,
    assert_same_outputs,
    randomize,
)

RTOL, ATOL = 1e-5, 1e-6


# --- new functional entries -------------------------------------------------------
def unet(k):
    """Down with Conv2D and pooling, up with Conv2DTranspose, skips joined by
    Concatenate and Add."""
    L = k.layers
    image = k.Input((8, 8, 2), name="image")
    down = L.Conv2D(4, 3, padding="same", activation="relu")(image)
    low = L.MaxPooling2D()(down)
    low = L.Conv2D(6, 3, padding="same", activation="relu")(low)
    up = L.Conv2DTranspose(4, 2, strides=2, activation="relu")(low)
    joined = L.Concatenate()([up, down])
    x = L.Conv2D(4, 1)(joined)
    x = L.Add()([x, down])
    x = L.Conv2DTranspose(3, 3, padding="same")(x)
    return k.Model(image, L.Conv2D(1, 1, activation="sigmoid")(x), name="unet")


def _gate_class(k):
    """A custom layer with its own weights (one of them frozen) made by
    ``add_weight`` in ``build``."""

    class Gate(k.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.kernel = self.add_weight(
                shape=(input_shape[-1], self.units),
                initializer="glorot_uniform",
                name="kernel",
            )
            self.gate = self.add_weight(
                shape=(self.units,), initializer="zeros", name="gate"
            )
            self.offset = self.add_weight(
                shape=(self.units,),
                initializer="ones",
                trainable=False,
                name="offset",
            )

        def call(self, inputs):
            z = k.ops.matmul(inputs, self.kernel)
            return z * k.ops.sigmoid(self.gate) + self.offset

        def compute_output_shape(self, input_shape):
            return (*input_shape[:-1], self.units)

    return Gate


def custom_layer_functional(k):
    """Two custom Gate layers on one input, merged by Multiply and Subtract."""
    L = k.layers
    Gate = _gate_class(k)
    inputs = k.Input((5,))
    a = Gate(4, name="gate_a")(inputs)
    b = Gate(4, name="gate_b")(L.Dense(3, activation="tanh")(inputs))
    x = L.Subtract()([L.Multiply()([a, b]), b])
    return k.Model(inputs, L.Dense(2)(x), name="gated")


# --- subclassed entries ----------------------------------------------------------
def subclassed_attributes(k):
    """A Model subclass whose layers are plain attributes, with a skip."""
    L = k.layers

    class ConvNet(k.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.conv = L.Conv2D(4, 3, padding="same", activation="relu")
            self.conv_skip = L.Conv2D(4, 1)
            self.pool = L.GlobalAveragePooling2D()
            self.head = L.Dense(3, activation="softmax")

        def call(self, inputs):
            x = self.conv(inputs) + self.conv_skip(inputs)
            return self.head(self.pool(x))

    return ConvNet(name="convnet")


def subclassed_collections(k):
    """A Model subclass holding a list of layers and a dict of heads."""
    L = k.layers

    class Towers(k.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.hidden = [L.Dense(8, activation="tanh") for _ in range(3)]
            self.heads = {
                "mean": L.Dense(2),
                "scale": L.Dense(2, activation="softplus"),
            }
            self.join = L.Concatenate()

        def call(self, inputs):
            x = inputs
            for layer in self.hidden:
                x = layer(x)
            return self.join([self.heads["mean"](x), self.heads["scale"](x)])

    return Towers(name="towers")


def subclassed_training(k):
    """A Model subclass with a nested custom layer whose Dropout and
    BatchNormalization follow ``training``."""
    L = k.layers

    class Block(L.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.dense = L.Dense(units)
            self.norm = L.BatchNormalization(momentum=0.8)
            self.drop = L.Dropout(0.3)

        def call(self, x, training=None):
            x = self.norm(self.dense(x), training=training)
            return self.drop(k.ops.relu(x), training=training)

    class Classifier(k.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.block1 = Block(8)
            self.block2 = Block(6)
            self.out = L.Dense(3, activation="softmax")

        def call(self, inputs, training=None):
            x = self.block1(inputs, training=training)
            return self.out(self.block2(x, training=training))

    return Classifier(name="classifier")


def subclassed_two_in_two_out(k):
    """A Model subclass on a dict of two inputs, one shared layer, a list of
    two outputs."""
    L = k.layers

    class Pair(k.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.shared = L.Dense(4, activation="relu")
            self.score = L.Dense(1, activation="sigmoid")
            self.mix = L.Dense(3)

        def call(self, inputs):
            a, b = self.shared(inputs["query"]), self.shared(inputs["doc"])
            joined = k.ops.concatenate([a, b], axis=-1)
            return [self.score(a * b), self.mix(joined)]

    return Pair(name="pair")


def subclassed_hybrid(k):
    """A Model subclass that uses a functional model and a Sequential as layers."""
    L = k.layers
    inner_in = k.Input((6,))
    encoder = k.Model(inner_in, L.Dense(4, activation="tanh")(inner_in), name="encoder")
    head = k.Sequential([k.Input((4,)), L.Dense(2)], name="head")

    class Hybrid(k.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.encoder = encoder
            self.head = head
            self.norm = L.LayerNormalization()

        def call(self, inputs):
            return self.head(self.norm(self.encoder(inputs)))

    return Hybrid(name="hybrid")


#: name -> (build, input shapes of one sample, {input key: vocabulary} or None)
ENTRIES = {
    # reused from saving/zoo.py
    "siamese": (GRAPHS["siamese"][0], GRAPHS["siamese"][1], None),
    "two_heads": (GRAPHS["two_heads"][0], GRAPHS["two_heads"][1], None),
    "nested_functional": (*GRAPHS["nested_functional"], None),
    "mixed_inputs": (*GRAPHS["mixed_inputs"], None),
    "tagged_text": (*GRAPHS["tagged_text"], GRAPH_INDICES["tagged_text"]),
    "residual": (ZOO["residual"][0], ZOO["residual"][1], None),
    "inception": (ZOO["inception"][0], ZOO["inception"][1], None),
    "decoder": (ZOO["decoder"][0], ZOO["decoder"][1], None),
    "text": (ZOO["text"][0], ZOO["text"][1], {None: INDICES["text"]}),
    # new here
    "unet": (unet, (8, 8, 2), None),
    "custom_layer_functional": (custom_layer_functional, (5,), None),
    "subclassed_attributes": (subclassed_attributes, (6, 6, 2), None),
    "subclassed_collections": (subclassed_collections, (5,), None),
    "subclassed_training": (subclassed_training, (7,), None),
    "subclassed_two_in_two_out": (
        subclassed_two_in_two_out,
        {"query": (5,), "doc": (5,)},
        None,
    ),
    "subclassed_hybrid": (subclassed_hybrid, (6,), None),
}
SUBCLASSED = {name for name in ENTRIES if name.startswith("subclassed_")}
#: entries whose outputs depend on a random draw when training (Dropout)
DROPOUT = {"two_heads", "subclassed_training"}
#: the merge layers the functional entries use, each at least once
MERGES = {
    "Add": ("residual", "unet", "mixed_inputs"),
    "Subtract": ("siamese", "custom_layer_functional"),
    "Multiply": ("mixed_inputs", "custom_layer_functional"),
    "Average": ("nested_functional",),
    "Maximum": ("mixed_inputs",),
    "Minimum": ("mixed_inputs",),
    "Concatenate": ("residual", "inception", "tagged_text", "unet"),
    "Dot": ("siamese", "mixed_inputs"),
}


def _inputs(name, n=6, seed=0):
    _, shapes, indices = ENTRIES[name]
    indices = indices or {}
    rng = np.random.default_rng(seed)

    def one(shape, key=None):
        if key in indices:
            return rng.integers(0, indices[key], (n, *shape)).astype("int32")
        return rng.uniform(-1, 1, (n, *shape)).astype("float32")

    if isinstance(shapes, dict):
        return {key: one(shape, key) for key, shape in shapes.items()}
    if isinstance(shapes, list):
        return [one(shape) for shape in shapes]
    return one(shapes)


def _numpy(keras, value):
    """Outputs of either library (Tensors, torch tensors) as NumPy arrays."""
    return keras.tree.map_structure(
        lambda v: (
            np.asarray(getattr(v, "data", None))
            if isinstance(v, glassnet.Tensor)
            else keras.ops.convert_to_numpy(v)
        ),
        value,
    )


def _shapes(value):
    if isinstance(value, dict):
        return {key: _shapes(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shapes(v) for v in value]
    return np.shape(value)


def _twins(keras, name):
    """Both libraries' models from the same code; Keras's random weights in
    glassnet's model."""
    build, *_ = ENTRIES[name]
    keras.utils.clear_session()
    glassnet.layers.clear_session()
    ours, theirs = build(glassnet), build(keras)
    if name in SUBCLASSED:  # built by a first call, as in Keras
        x = _inputs(name, n=2, seed=9)
        ours(x), theirs(x)
    randomize(theirs)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def test_the_zoo_covers_the_kinds_it_claims():
    assert len(ENTRIES) >= 12
    assert len(SUBCLASSED) >= 4
    builders = {entry[0] for entry in ENTRIES.values()}
    assert len(builders) == len(ENTRIES)
    glassnet.layers.clear_session()
    for merge, names in MERGES.items():
        for name in names:
            model = ENTRIES[name][0](glassnet)
            kinds = {type(layer).__name__ for layer in model.layers}
            assert merge in kinds, (merge, name)


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_weights_shapes_and_predictions_equal_keras(keras, name):
    ours, theirs = _twins(keras, name)
    assert ours.count_params() == theirs.count_params()
    assert len(ours.weights) == len(theirs.weights)
    assert [tuple(w.shape) for w in ours.get_weights()] == [
        tuple(w.shape) for w in theirs.get_weights()
    ]
    assert [bool(w.requires_grad) for w in ours.weights] == [
        bool(w.trainable) for w in theirs.weights
    ]
    for mine, their in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(mine, their)
    if name not in SUBCLASSED:
        assert ours.output_shape == theirs.output_shape
        assert ours.input_shape == theirs.input_shape

    x = _inputs(name)
    expected = _numpy(keras, theirs.predict(x, verbose=0))
    called = _numpy(keras, ours(x, training=False))
    predicted = ours.predict(x, verbose=0)
    assert _shapes(predicted) == _shapes(expected)
    assert_same_outputs(predicted, expected, RTOL, ATOL)
    batched = ours.predict(x, batch_size=4, verbose=0)
    assert_same_outputs(batched, expected, RTOL, ATOL)
    assert _shapes(called) == _shapes(expected)
    assert_same_outputs(called, _numpy(keras, theirs(x, training=False)), RTOL, ATOL)
    assert_same_outputs(called, expected, RTOL, ATOL)


@pytest.mark.parametrize("name", sorted(set(ENTRIES) - DROPOUT))
def test_a_training_call_equals_keras(keras, name):
    """``training=True`` (BatchNormalization on the batch's statistics) gives
    Keras's outputs and leaves the moving statistics where Keras leaves them."""
    ours, theirs = _twins(keras, name)
    x = _inputs(name, n=8, seed=3)
    assert_same_outputs(
        _numpy(keras, ours(x, training=True)),
        _numpy(keras, theirs(x, training=True)),
        RTOL,
        ATOL,
    )
    for mine, their in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, their, rtol=RTOL, atol=ATOL)


def test_dropout_and_batchnorm_follow_training_in_a_subclassed_model(keras):
    ours, theirs = _twins(keras, "subclassed_training")
    x = _inputs("subclassed_training", n=16)
    inference = _numpy(keras, ours(x, training=False))
    assert_same_outputs(inference, _numpy(keras, ours(x)), RTOL, ATOL)
    trained = _numpy(keras, ours(x, training=True))
    assert trained.shape == inference.shape
    assert not np.allclose(trained, inference)
    np.testing.assert_allclose(trained.sum(axis=-1), 1.0, rtol=1e-5)
