"""Keras guide "The Sequential model", feature by feature, on ``import glassnet as
keras``. Features the guide uses that other files already test are listed in
``tests/guides/__init__.py`` with the test that covers them."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as keras
from glassnet import layers, ops


def _x(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def test_a_sequential_model_is_its_layers_called_in_turn():
    """Guide feature: a Sequential model of named layers computes what calling
    the same layers one after the other computes."""
    first = layers.Dense(2, activation="relu", name="first")
    second = layers.Dense(3, activation="relu", name="second")
    third = layers.Dense(4, name="third")
    model = keras.Sequential([first, second, third])
    x = ops.ones((3, 3))
    by_model = model(x)
    by_hand = third(second(first(x)))
    np.testing.assert_array_equal(by_model.data, by_hand.data)
    assert by_model.shape == (3, 4)
    assert [layer.name for layer in model.layers] == ["first", "second", "third"]


def test_add_pop_and_name_make_it_behave_like_a_list_of_layers():
    """Guide features: ``add()`` to grow the model, ``pop()`` to drop the last
    layer, ``model.layers``, and the ``name`` argument of Sequential."""
    model = keras.Sequential(name="stack")
    for units in (2, 3, 4):
        model.add(layers.Dense(units, activation="relu"))
    assert model.name == "stack"
    assert len(model.layers) == 3
    last = model.layers[-1]
    model.pop()
    assert len(model.layers) == 2 and last not in model.layers
    assert model(_x(5, 7)).shape == (5, 3)  # the popped layer no longer runs


def test_a_layer_has_weights_only_once_it_has_seen_an_input():
    """Guide feature: a layer created without an input shape has no weights;
    its first call creates them from the input's shape."""
    layer = layers.Dense(3)
    assert layer.weights == []
    layer(ops.ones((1, 4)))
    assert [w.shape for w in layer.weights] == [(4, 3), (3,)]


def test_a_sequential_model_without_an_input_is_built_by_its_first_call(capsys):
    """Guide feature: without an input shape the model is not built (no
    weights, an "unbuilt" summary, as Keras 3 shows it); calling it on data
    builds it and its summary then shows the shapes."""
    model = keras.Sequential(
        [layers.Dense(2, activation="relu"), layers.Dense(3), layers.Dense(4)]
    )
    assert not model.built and model.weights == []
    model.summary()
    assert "unbuilt" in capsys.readouterr().out
    model(ops.ones((1, 4)))
    assert model.built and len(model.weights) == 6
    model.summary()
    shown = capsys.readouterr().out
    assert "unbuilt" not in shown and "Total params: 35 " in shown


def test_an_input_first_gives_a_built_model_whose_layers_leave_it_out(capsys):
    """Guide features: ``model.add(keras.Input(shape))`` lets ``summary()``
    work while the model grows, the Input is not one of ``model.layers``; the
    ``input_shape=`` keyword on the first layer does the same."""
    model = keras.Sequential()
    model.add(keras.Input(shape=(4,)))
    model.add(layers.Dense(2, activation="relu"))
    model.summary()
    assert "(None, 2)" in capsys.readouterr().out
    assert [type(layer).__name__ for layer in model.layers] == ["Dense"]
    legacy = keras.Sequential()
    legacy.add(layers.Dense(2, activation="relu", input_shape=(4,)))
    assert legacy.built and len(legacy.weights) == 2
    assert legacy.output_shape == model.output_shape == (None, 2)


def test_add_and_summary_show_how_convolutions_shrink_the_image():
    """Guide feature: the debugging workflow of ``add()`` then ``summary()`` /
    output shapes: strided Conv2D and MaxPooling2D stacks on a 250x250 RGB
    image, then GlobalMaxPooling2D and a Dense classifier."""
    model = keras.Sequential()
    model.add(keras.Input(shape=(250, 250, 3)))
    model.add(layers.Conv2D(32, 5, strides=2, activation="relu"))
    model.add(layers.Conv2D(32, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    assert model.output_shape == (None, 40, 40, 32)
    for pool in (3, 2):
        model.add(layers.Conv2D(32, 3, activation="relu"))
        model.add(layers.Conv2D(32, 3, activation="relu"))
        model.add(layers.MaxPooling2D(pool))
    assert model.output_shape == (None, 4, 4, 32)
    model.add(layers.GlobalMaxPooling2D())
    model.add(layers.Dense(10))
    assert model.output_shape == (None, 10)
    assert model(_x(1, 250, 250, 3)).shape == (1, 10)


def test_features_of_one_named_layer():
    """Guide feature: ``keras.Model(inputs=model.inputs,
    outputs=model.get_layer(name=...).output)`` extracts one intermediate
    layer's features of a Sequential model."""
    model = keras.Sequential(
        [
            keras.Input(shape=(12, 12, 3)),
            layers.Conv2D(4, 3, strides=2, activation="relu"),
            layers.Conv2D(5, 3, activation="relu", name="middle"),
            layers.Conv2D(6, 3, activation="relu"),
        ]
    )
    extractor = keras.Model(
        inputs=model.inputs, outputs=model.get_layer(name="middle").output
    )
    x = _x(2, 12, 12, 3)
    features = extractor(x)
    expected = model.layers[1](model.layers[0](x))
    assert features.shape == (2, 3, 3, 5)
    np.testing.assert_allclose(features.data, expected.data, rtol=1e-6)


def _regression(n=64, features=6, seed=0):
    x = _x(n, features, seed=seed)
    return x, np.tanh(x @ _x(features, 2, seed=seed + 1))


def test_freezing_all_but_the_last_layer_trains_only_the_last(tmp_path):
    """Guide feature (transfer learning): load saved weights, set ``trainable =
    False`` on every layer but the last, recompile and fit: only the last
    layer's weights move."""
    x, y = _regression()
    model = keras.Sequential(
        [
            keras.Input(shape=(6,)),
            layers.Dense(8, activation="relu"),
            layers.Dense(8, activation="relu"),
            layers.Dense(2),
        ]
    )
    path = tmp_path / "pretrained.weights.h5"
    model.save_weights(path)
    before = model.get_weights()
    model.set_weights([w + 1.0 for w in before])
    model.load_weights(path)
    for mine, saved in zip(model.get_weights(), before):
        np.testing.assert_array_equal(mine, saved)
    for layer in model.layers[:-1]:
        layer.trainable = False
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    after = model.get_weights()
    for old, new in zip(before[:4], after[:4]):
        np.testing.assert_array_equal(old, new)
    assert not np.allclose(before[4], after[4])
    assert len(model.trainable_weights) == 2


def test_a_frozen_base_model_under_a_new_head():
    """Guide feature (transfer learning): a pretrained model with ``trainable =
    False`` stacked in a Sequential model under fresh layers; fit trains the
    head only."""
    x, y = _regression()
    base = keras.Sequential(
        [keras.Input(shape=(6,)), layers.Dense(8, activation="relu")], name="base"
    )
    base.trainable = False
    model = keras.Sequential([base, layers.Dense(2)])
    frozen = base.get_weights()
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    for old, new in zip(frozen, base.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert len(model.trainable_weights) == 2
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("trainable", [True, False])
def test_the_frozen_base_counts_as_non_trainable_in_the_summary(trainable, capsys):
    """Guide feature (transfer learning): freezing moves the base model's
    parameters from trainable to non-trainable in ``summary()``."""
    base = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8)], name="base")
    base.trainable = trainable
    keras.Sequential([base, layers.Dense(2)]).summary()
    shown = capsys.readouterr().out
    assert f"Trainable params: {74 if trainable else 18}" in shown
