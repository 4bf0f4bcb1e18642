"""Subclassed models as in Keras 3: the same class bodies on glassnet and on Keras
(torch backend), the same weights copied in, then predictions, weight lists,
training values, losses and training runs compared."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest

import glassnet
from glassnet import layers as gl
from glassnet import ops as gops
from glassnet import optimizers
from glassnet.autograd import Tensor
from glassnet.models import Model, Sequential
from glassnet.saving import load_model, register_keras_serializable

os.environ.setdefault("KERAS_BACKEND", "torch")

OURS = SimpleNamespace(layers=gl, ops=gops, Model=Model, optimizers=optimizers)


def _fresh_names(keras):
    """Automatic names start again in both libraries (``dense``, ...)."""
    gl.clear_session()
    keras.backend.clear_session()


def _theirs(keras):
    return SimpleNamespace(
        layers=keras.layers,
        ops=keras.ops,
        Model=keras.Model,
        optimizers=keras.optimizers,
    )


def _np(value):
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, dict):
        return {k: _np(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_np(v) for v in value)
    import keras

    return keras.ops.convert_to_numpy(value)


def _data(n=24, features=4, outputs=2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype("float32")
    w = rng.standard_normal((features, outputs)).astype("float32")
    return x, np.tanh(x @ w).astype("float32")


# --- the same classes for both libraries ----------------------------------------------
def mlp_class(K, log=None, declares_training=False):
    """A block (its call declares training, its BatchNormalization uses it)
    inside a model whose call declares training or not."""

    class Block(K.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.dense = K.layers.Dense(units)
            self.norm = K.layers.BatchNormalization(momentum=0.5)

        def call(self, x, training=None):
            if log is not None:
                log.append(training)
            return K.ops.tanh(self.norm(self.dense(x), training=training))

    class MLP(K.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.blocks = [Block(8), Block(6)]
            self.head = K.layers.Dense(2)

        def call(self, inputs):
            x = inputs
            for block in self.blocks:
                x = block(x)
            return self.head(x)

    class TrainingMLP(MLP):
        def call(self, inputs, training=None):
            x = inputs
            for block in self.blocks:
                x = block(x, training=training)
            return self.head(x)

    return TrainingMLP if declares_training else MLP


def adds_loss_class(K, regularized=False):
    """A model that adds its own loss (and, if asked, regularized layers)."""

    class AddsLoss(K.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            extra = (
                dict(kernel_regularizer="l2", activity_regularizer="l1")
                if regularized
                else {}
            )
            self.hidden = K.layers.Dense(5, activation="tanh", **extra)
            self.out = K.layers.Dense(2)

        def call(self, x):
            y = self.out(self.hidden(x))
            self.add_loss(0.1 * K.ops.mean((y - 0.5) * (y - 0.5)))
            return y

    return AddsLoss


def structures_class(K):
    """Takes a list of two inputs; returns a tuple and a dict."""

    class TwoInTwoOut(K.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.left = K.layers.Dense(3)
            self.right = K.layers.Dense(3)

        def call(self, inputs):
            a, b = inputs
            left, right = self.left(a), self.right(b)
            return left + right, {"left": left, "right": right}

    return TwoInTwoOut


def _pair(keras, make, *args, **kwargs):
    ours = make(OURS, *args)(**kwargs)
    theirs = make(_theirs(keras), *args)(**kwargs)
    return ours, theirs


def _fit_both(ours, theirs, x, y, keras, loss=None, epochs=3, **compile_args):
    ours.compile(optimizers.SGD(0.05), loss, **compile_args)
    theirs.compile(keras.optimizers.SGD(0.05), loss, **compile_args)
    kwargs = dict(epochs=epochs, batch_size=6, shuffle=False, verbose=0)
    return ours.fit(x, y, **kwargs).history, theirs.fit(x, y, **kwargs).history


# --- Keras parity ---------------------------------------------------------------------
def test_weights_layers_and_predictions_equal_keras(keras):
    _fresh_names(keras)
    ours, theirs = _pair(keras, mlp_class, name="mlp")
    x, _ = _data()
    ours(x), theirs(x)
    assert [w.name for w in ours.weights] == [w.path for w in theirs.weights]
    assert [w.requires_grad for w in ours.weights] == [
        w.trainable for w in theirs.weights
    ]
    assert [layer.name for layer in ours.layers] == [
        layer.name for layer in theirs.layers
    ]
    assert [layer.count_params() for layer in ours.layers] == [
        layer.count_params() for layer in theirs.layers
    ]
    assert ours.count_params() == theirs.count_params()
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
    ours.blocks[0].trainable = False
    theirs.blocks[0].trainable = False
    assert [w.name for w in ours.trainable_weights] == [
        w.path for w in theirs.trainable_weights
    ]


def _training_values(model, log, x, y):
    """The ``training`` values the model's blocks see in fit, evaluate and
    predict (each a sorted list of the distinct values)."""
    seen = []
    model.fit(x, y, batch_size=24, verbose=0)  # Keras traces the step first
    for step, data in (
        (model.fit, (x, y)),
        (model.evaluate, (x, y)),
        (model.predict, (x,)),
    ):
        log.clear()
        step(*data, batch_size=24, verbose=0)
        seen.append(sorted(set(log), key=str))
    return seen


@pytest.mark.parametrize("declares_training", [False, True])
def test_training_reaches_a_nested_block_in_fit_evaluate_predict(
    keras, declares_training
):
    # As Keras 3's train_step: fit calls the model with training=True only if
    # its call declares training; otherwise its layers use their defaults.
    x, y = _data()
    results = []
    for K in (OURS, _theirs(keras)):
        log = []
        model = mlp_class(K, log, declares_training)()
        model.compile(K.optimizers.SGD(0.01), "mse")
        model(x)  # built (Keras traces the call on its first use)
        results.append(_training_values(model, log, x, y))
    assert results[0] == results[1]
    assert results[0][0] == ([True] if declares_training else [None])


@pytest.mark.parametrize("declares_training", [False, True])
def test_training_a_subclassed_model_equals_keras(keras, declares_training):
    ours, theirs = _pair(keras, mlp_class, None, declares_training)
    x, y = _data()
    ours(x), theirs(x)
    theirs.set_weights(ours.get_weights())
    got, want = _fit_both(ours, theirs, x, y, keras, loss="mse")
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-4)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):  # moving stats too
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("with_y", [True, False])
def test_a_model_compiled_without_a_loss_minimizes_its_own(keras, with_y):
    ours, theirs = _pair(keras, adds_loss_class)
    x, y = _data()
    ours(x), theirs(x)
    theirs.set_weights(ours.get_weights())
    ours(x), theirs(x)
    assert len(ours.losses) == len(theirs.losses) == 1
    np.testing.assert_allclose(
        float(ours.losses[0].data), float(_np(theirs.losses[0])), rtol=1e-5
    )
    got, want = _fit_both(ours, theirs, x, y if with_y else None, keras)
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-4)
    np.testing.assert_allclose(
        ours.evaluate(x, verbose=0), theirs.evaluate(x, verbose=0), rtol=1e-4
    )


def test_model_losses_add_to_the_compiled_loss_as_in_keras(keras):
    ours, theirs = _pair(keras, adds_loss_class, True)
    x, y = _data()
    ours(x), theirs(x)
    theirs.set_weights(ours.get_weights())
    ours(x), theirs(x)
    got = [float(v.data) for v in ours.losses]
    want = [float(_np(v)) for v in theirs.losses]
    np.testing.assert_allclose(got, want, rtol=1e-5)  # added, activity, kernel
    got, want = _fit_both(ours, theirs, x, y, keras, loss="mse")
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-4)
    np.testing.assert_allclose(
        ours.train_on_batch(x, y), theirs.train_on_batch(x, y), rtol=1e-4
    )
    np.testing.assert_allclose(
        ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0), rtol=1e-4
    )


def test_no_loss_at_all_is_keras_error(keras):
    x, y = _data()
    messages = []
    for K in (OURS, _theirs(keras)):
        model = mlp_class(K)()
        model.compile(K.optimizers.SGD(0.01))
        with pytest.raises(ValueError) as error:
            model.fit(x, y, verbose=0)
        messages.append(str(error.value))
    assert (
        messages[0]
        == messages[1]
        == ("No loss to compute. Provide a `loss` argument in `compile()`.")
    )


def test_lists_in_tuples_and_dicts_out_equal_keras(keras):
    ours, theirs = _pair(keras, structures_class)
    a, b = _data(6, 4)[0], _data(6, 5, seed=1)[0]
    got, want = ours([a, b]), theirs([a, b])
    assert isinstance(got, tuple) and sorted(got[1]) == ["left", "right"]
    theirs.set_weights(ours.get_weights())
    got, want = _np(ours([a, b])), _np(theirs([a, b]))
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)
    for key in ("left", "right"):
        np.testing.assert_allclose(got[1][key], want[1][key], rtol=1e-5, atol=1e-6)
    assert ours.count_params() == theirs.count_params() == 2 * 3 * 6 - 3
    assert ours.output_shape == ((None, 3), {"left": (None, 3), "right": (None, 3)})


# --- glassnet only --------------------------------------------------------------------
@register_keras_serializable(package="subclassed_models_tests")
class Scaled(gl.Layer):
    """A registered layer with a weight of its own."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="ones", name="b")

    def call(self, x):
        return x @ self.w + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@register_keras_serializable(package="subclassed_models_tests")
class Residual(gl.Layer):
    """A registered layer made of layers: the file holds their weights."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = gl.Dense(3, activation="tanh")
        self.scale = Scaled(3)

    def call(self, x):
        return x + self.scale(self.inner(x))


def test_registered_subclassed_layers_round_trip_through_keras_files(tmp_path):
    model = Sequential([gl.Input((4,)), Scaled(3), Residual(), gl.Dense(1)])
    x, _ = _data(n=5)
    path = tmp_path / "subclassed.keras"
    model.save(path)
    again = load_model(path)
    assert [type(layer) for layer in again.layers] == [Scaled, Residual, gl.Dense]
    assert len(again.weights) == len(model.weights) == 2 + 4 + 2
    for a, b in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        again.predict(x, verbose=0), model.predict(x, verbose=0)
    )


def test_a_partly_frozen_layer_saves_its_weights_in_order(tmp_path):
    model = Sequential([gl.Input((3,)), Residual()])
    model.layers[0].inner.trainable = False  # clears requires_grad, not the order
    model.save_weights(tmp_path / "frozen.weights.h5")
    fresh = Sequential([gl.Input((3,)), Residual()])
    fresh.load_weights(tmp_path / "frozen.weights.h5")
    for a, b in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_frozen_sublayer_keeps_its_weights_in_fit():
    model = mlp_class(OURS)()
    x, y = _data()
    model(x)
    model.blocks[0].trainable = False
    before = [w.data.copy() for w in model.blocks[0].weights]
    model.compile(optimizers.SGD(0.1), "mse")
    model.fit(x, y, epochs=2, batch_size=6, verbose=0)
    for w, old in zip(model.blocks[0].weights, before):
        np.testing.assert_array_equal(w.data, old)
        assert w.grad is None  # no gradient is even computed
    assert not model.blocks[0].dense.kernel.requires_grad


def test_a_model_with_its_own_build_finds_its_output_shape_from_call():
    class OwnBuild(Model):
        def __init__(self):
            super().__init__()
            self.dense = gl.Dense(3)

        def build(self, input_shape):
            self.dense.build(input_shape)

        def call(self, x):
            return self.dense(x)

    model = OwnBuild()
    x, y = _data(outputs=3)
    model.compile("sgd", "mse")
    model.fit(x, y, verbose=0)
    assert model.output_shape == (None, 3) and model.count_params() == 15


def test_glassnet_is_importable_as_keras_for_these_classes():
    # the same class bodies ran on glassnet above; the namespace they used
    assert OURS.Model is glassnet.models.Model and OURS.layers.Layer is gl.Layer


def _two_inputs(lib):
    """A subclassed model of a dict of two inputs and one output."""

    class TwoInputs(lib.Model):
        def __init__(self):
            super().__init__()
            self.left = lib.layers.Dense(4, activation="tanh")
            self.right = lib.layers.Dense(4, activation="tanh")
            self.head = lib.layers.Dense(1)

        def call(self, inputs):
            joined = self.left(inputs["numbers"]) + self.right(inputs["more"])
            return self.head(joined)

    return TwoInputs()


def test_a_subclassed_model_fits_and_predicts_on_a_dict_of_inputs(keras):
    rng = np.random.default_rng(0)
    x = {
        "numbers": rng.standard_normal((24, 3)).astype("float32"),
        "more": rng.standard_normal((24, 2)).astype("float32"),
    }
    y = (x["numbers"].sum(1, keepdims=True) - x["more"][:, :1]).astype("float32")
    theirs, ours = _two_inputs(keras), _two_inputs(glassnet)
    theirs(x)
    ours(x)
    ours.set_weights(theirs.get_weights())
    results = []
    for model, lib in ((ours, glassnet), (theirs, keras)):
        model.compile(lib.optimizers.SGD(0.05), "mse")
        history = model.fit(
            x, y, epochs=3, batch_size=8, shuffle=False, validation_split=0.25,
            verbose=0,
        )  # fmt: skip
        results.append(
            [
                history.history["loss"],
                history.history["val_loss"],
                model.evaluate(x, y, verbose=0),
                model.predict(x, batch_size=5, verbose=0),
            ]
        )
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="cardinality"):
        ours.predict({"numbers": x["numbers"], "more": x["more"][:5]}, verbose=0)


def _doubling_sequential(Sequential, ops):
    class Doubling(Sequential):
        """A Sequential whose own call doubles its layers' output."""

        def call(self, inputs, training=None):
            return ops.multiply(super().call(inputs, training=training), 2.0)

    return Doubling


def test_a_sequential_with_its_own_call_builds_its_layers_as_keras_does(keras):
    _fresh_names(keras)
    x, y = _data(outputs=3)
    ours = _doubling_sequential(Sequential, gops)(
        [gl.Input((4,)), gl.Dense(5, activation="tanh"), gl.Dense(3)]
    )
    theirs = _doubling_sequential(keras.Sequential, keras.ops)(
        [keras.Input((4,)), keras.layers.Dense(5, activation="tanh"),
         keras.layers.Dense(3)]
    )  # fmt: skip
    assert [w.shape for w in ours.get_weights()] == [
        tuple(w.shape) for w in theirs.get_weights()
    ]
    assert ours.output_shape == tuple(theirs.output_shape) == (None, 3)
    theirs.set_weights(ours.get_weights())
    expected = theirs.predict(x, verbose=0)
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6
    )
    with glassnet.no_grad():  # its own call, not the layers' plan
        np.testing.assert_allclose(ours(x).data, expected, rtol=1e-5, atol=1e-6)
    ours.compile(optimizers.SGD(0.1), "mse")
    before = [w.copy() for w in ours.get_weights()]
    ours.fit(x, y, epochs=2, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, ours.get_weights()))
