"""Keras 3 reads the files glassnet writes, and glassnet the files Keras writes.

Every model of the zoo is built, given random weights, compiled and trained a
step in one library, saved, and loaded by the other: the predictions agree
(float32, relative 1e-5) and the optimizer state (iteration count, learning
rate, slots in Keras's order) arrives unchanged. Skipped without Keras.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import glassnet
from glassnet.saving import load_model
from glassnet.saving.h5_weights import optimizer_values

from .zoo import (
    GRAPHS,
    ZOO,
    assert_same_outputs,
    data,
    glassnet_api,
    graph_inputs,
    randomize,
)

os.environ.setdefault("KERAS_BACKEND", "torch")


def _compiled(k, name):
    build, _, optimizer, loss, metrics = ZOO[name]
    model = build(k)
    randomize(model)
    model.compile(optimizer(k.optimizers), loss, metrics=metrics)
    return model


def _check_same_state(glassnet_model, keras_model):
    ours = optimizer_values(glassnet_model.optimizer, glassnet_model.trainable_weights)
    theirs = [np.asarray(v) for v in keras_model.optimizer.variables]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_array_equal(a.astype(b.dtype), b)


def _check_same_outputs(glassnet_model, keras_model, x):
    expected = np.asarray(keras_model.predict(x, verbose=0))
    np.testing.assert_allclose(
        glassnet_model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("name", sorted(ZOO))
def test_keras_file_loads_in_glassnet(keras, tmp_path, name):
    theirs = _compiled(keras, name)
    x, y = data(name, theirs.output_shape[-1])
    theirs.train_on_batch(x, y)
    path = tmp_path / f"{name}.keras"
    theirs.save(path)

    ours = load_model(path)

    assert type(ours) is (
        glassnet.models.Sequential
        if isinstance(theirs, keras.Sequential)
        else glassnet.models.Model
    )
    assert [layer.name for layer in ours.layers if layer.weights] == [
        layer.name for layer in theirs.layers if layer.weights
    ]
    _check_same_outputs(ours, theirs, x)
    _check_same_state(ours, theirs)


@pytest.mark.parametrize("name", sorted(ZOO))
def test_glassnet_file_loads_in_keras(keras, tmp_path, name):
    ours = _compiled(glassnet_api(), name)
    x, y = data(name, ours.output_shape[-1])
    ours.fit(x, y, batch_size=8, epochs=1, verbose=0)
    path = tmp_path / f"{name}.keras"
    ours.save(path)

    theirs = keras.saving.load_model(path)

    assert theirs.count_params() == ours.count_params()
    _check_same_outputs(ours, theirs, x)
    _check_same_state(ours, theirs)
    assert type(theirs.optimizer).__name__ == type(ours.optimizer).__name__


def test_keras_reads_glassnet_weights_file(keras, tmp_path):
    ours = _compiled(glassnet_api(), "conv2d")
    ours.save_weights(tmp_path / "w.weights.h5")
    theirs = _compiled(keras, "conv2d")
    theirs.load_weights(tmp_path / "w.weights.h5")
    x, _ = data("conv2d", 3)
    _check_same_outputs(ours, theirs, x)


def test_glassnet_reads_keras_weights_file(keras, tmp_path):
    theirs = _compiled(keras, "conv1d")
    theirs.save_weights(tmp_path / "w.weights.h5")
    ours = _compiled(glassnet_api(), "conv1d")
    ours.load_weights(tmp_path / "w.weights.h5")
    x, _ = data("conv1d", 1)
    _check_same_outputs(ours, theirs, x)


def test_keras_reads_glassnet_json(keras):
    ours = _compiled(glassnet_api(), "conv2d_padded")
    theirs = keras.models.model_from_json(ours.to_json())
    theirs.set_weights(ours.get_weights())
    x, _ = data("conv2d_padded", 2)
    _check_same_outputs(ours, theirs, x)


def test_float64_model_crosses_with_its_dtype_policy(keras, tmp_path):
    L = glassnet.layers
    ours = glassnet.models.Sequential([L.Input((3,)), L.Dense(2, dtype="float64")])
    ours.save(tmp_path / "f64.keras")
    theirs = keras.saving.load_model(tmp_path / "f64.keras")
    assert theirs.layers[0].dtype == "float64"
    assert load_model(tmp_path / "f64.keras").layers[0].dtype == "float64"
    theirs.save(tmp_path / "back.keras")
    back = load_model(tmp_path / "back.keras")
    x = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_array_equal(
        back.predict(x, verbose=0), ours.predict(x, verbose=0)
    )


def test_compile_objects_cross_both_ways(keras, tmp_path):
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    mae = keras.metrics.mean_absolute_error
    theirs.compile(
        keras.optimizers.Adam(0.02),
        keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
        metrics=[keras.metrics.RootMeanSquaredError(), mae],
    )
    theirs.save(tmp_path / "k.keras")
    ours = load_model(tmp_path / "k.keras")
    loss, (rmse, mae) = ours.loss, ours.get_compile_config()["metrics"]
    assert isinstance(loss, glassnet.losses.BinaryCrossentropy)
    assert loss.get_config()["from_logits"] is True
    assert loss.get_config()["label_smoothing"] == 0.1
    assert rmse["class_name"] == "RootMeanSquaredError" and mae == "mean_absolute_error"

    G = glassnet_api()
    ours = G.Sequential([G.Input((3,)), G.layers.Dense(2)])
    ours.compile(
        G.optimizers.RMSprop(0.02),
        glassnet.losses.Huber(delta=2.0),
        metrics=[glassnet.metrics.BinaryAccuracy(threshold=0.3), "mae"],
    )
    ours.save(tmp_path / "g.keras")
    theirs = keras.saving.load_model(tmp_path / "g.keras")
    assert type(theirs.optimizer).__name__ == "RMSprop"
    assert type(theirs.loss).__name__ == "Huber"
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    ours_loss = ours.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    theirs_loss = theirs.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    np.testing.assert_allclose(ours_loss, theirs_loss, rtol=1e-5)


# --- functional graphs of several inputs or outputs ---------------------------------
def _predictions(model, x):
    return model.predict(x, verbose=0)


def _graph_targets(model, x):
    """Targets near the model's outputs, in their structure (one mse each)."""
    rng = np.random.default_rng(5)
    return glassnet.tree.map_structure(
        lambda out: (np.asarray(out) + rng.normal(0, 0.1, np.shape(out))).astype(
            "float32"
        ),
        model.predict(x, verbose=0),
    )


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_graph_files_cross_both_ways(keras, tmp_path, name):
    build = GRAPHS[name][0]
    x = graph_inputs(name)
    ours = build(glassnet_api())
    randomize(ours)
    ours.save(tmp_path / "ours.keras")
    again = load_model(tmp_path / "ours.keras")
    assert_same_outputs(_predictions(again, x), _predictions(ours, x), rtol=0, atol=0)
    assert again.to_json() == ours.to_json()
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    assert [layer.name for layer in theirs.layers] == [x.name for x in ours.layers]
    assert_same_outputs(_predictions(ours, x), _predictions(theirs, x))

    keras_model = build(keras)
    count = len(keras_model.outputs)
    keras_model.compile("adam", ["mse"] * count, metrics=[["mae"]] * count)
    y = _graph_targets(keras_model, x)
    keras_model.fit(x, y, epochs=1, batch_size=5, verbose=0)
    keras_model.save(tmp_path / "theirs.keras")
    loaded = load_model(tmp_path / "theirs.keras")
    assert loaded.compiled
    _check_same_state(loaded, keras_model)
    assert_same_outputs(_predictions(loaded, x), _predictions(keras_model, x))
    mine = loaded.evaluate(x, y, verbose=0, return_dict=True)
    expected = keras_model.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(mine) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(mine[key], expected[key], rtol=1e-5, err_msg=key)
    assert load_model(tmp_path / "theirs.keras", compile=False).count_params() == (
        keras_model.count_params()
    )


@pytest.mark.parametrize("name", ["siamese", "two_heads", "nested_functional"])
def test_compiled_graphs_of_several_outputs_cross_both_ways(keras, tmp_path, name):
    build = GRAPHS[name][0]
    x = graph_inputs(name)
    ours = build(glassnet_api())
    randomize(ours)
    y = _graph_targets(ours, x)
    losses = ["mse", "mae"]
    if isinstance(y, dict):
        losses = dict(zip(sorted(y), losses))
    ours.compile(glassnet.optimizers.Adam(0.01), losses, loss_weights=[1.0, 0.5],
                 metrics=[["mae"], ["mse"]])  # fmt: skip
    ours.fit(x, y, epochs=1, batch_size=4, verbose=0)
    ours.save(tmp_path / "ours.keras")
    again = load_model(tmp_path / "ours.keras")
    assert again.get_compile_config() == ours.get_compile_config()
    assert again.evaluate(x, y, verbose=0) == ours.evaluate(x, y, verbose=0)
    if not any(type(layer).__name__ == "Dropout" for layer in ours.layers):
        args = dict(epochs=2, batch_size=4, verbose=0, shuffle=False)
        assert again.fit(x, y, **args).history == ours.fit(x, y, **args).history
        for a, b in zip(again.get_weights(), ours.get_weights()):
            np.testing.assert_array_equal(a, b)

    ours.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    _check_same_state(ours, theirs)
    mine = ours.evaluate(x, y, verbose=0, return_dict=True)
    expected = theirs.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(mine) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(mine[key], expected[key], rtol=1e-5, err_msg=key)


def test_a_keras_file_of_nested_outputs_loads_uncompiled_with_a_warning(
    keras, tmp_path
):
    inputs = keras.Input((3,))
    first, second = keras.layers.Dense(1)(inputs), keras.layers.Dense(2)(inputs)
    model = keras.Model(inputs, [first, [second]])
    model.compile("sgd", "mse")
    model.save(tmp_path / "nested.keras")
    with pytest.warns(UserWarning, match="nested outputs.*loaded without its compile"):
        loaded = load_model(tmp_path / "nested.keras")
    assert not loaded.compiled
    x = np.ones((2, 3), "float32")
    assert_same_outputs(_predictions(loaded, x), _predictions(model, x))


_MASKED_HEADS = {
    "pooling": lambda k, e: k.layers.GlobalAveragePooling1D()(e),
    "lstm": lambda k, e: k.layers.LSTM(3)(e),
    "dense_pooling": lambda k, e: k.layers.GlobalAveragePooling1D()(
        k.layers.Dense(3)(e)
    ),
}


def _masked_model(k, head):
    """Embedding(mask_zero=True) then ``head``: Keras's config passes the
    mask on as a NotEqual node, given to the head as ``mask=``."""
    ids = k.Input((5,), dtype="int32")
    embedded = k.layers.Embedding(10, 4, mask_zero=True)(ids)
    return k.Model(ids, _MASKED_HEADS[head](k, embedded))


@pytest.mark.parametrize("head", sorted(_MASKED_HEADS))
def test_keras_masks_of_a_functional_model_cross_both_ways(keras, tmp_path, head):
    theirs = _masked_model(keras, head)
    randomize(theirs)
    theirs.save(tmp_path / "theirs.keras")
    x = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 0, 6], [0, 0, 7, 8, 9]], "int32")

    loaded = load_model(tmp_path / "theirs.keras")
    _check_same_outputs(loaded, theirs, x)
    rebuilt = glassnet.models.Model.from_config(theirs.get_config())
    assert [layer.name for layer in rebuilt.layers] == [
        layer.name for layer in loaded.layers
    ]

    # the mask given as mask= is the one glassnet's Embedding gives itself
    ours = _masked_model(glassnet_api(), head)
    ours.set_weights(loaded.get_weights())
    np.testing.assert_array_equal(_predictions(ours, x), _predictions(loaded, x))

    for model in (loaded, ours):
        model.save(tmp_path / "ours.keras")
        _check_same_outputs(model, keras.saving.load_model(tmp_path / "ours.keras"), x)


def test_an_unknown_keras_operation_node_is_named(keras):
    config = _masked_model(keras, "pooling").get_config()
    operation = next(e for e in config["layers"] if e["class_name"] == "NotEqual")
    operation["class_name"] = operation["registered_name"] = "Greater"
    with pytest.raises(ValueError, match="Unknown layer: 'Greater'"):
        glassnet.models.Model.from_config(config)
