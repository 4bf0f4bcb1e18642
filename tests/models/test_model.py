"""Model / Sequential: training against Keras 3, fit options, clear errors."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

from glassnet import optimizers
from glassnet.layers import (
    Activation,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    Input,
)
from glassnet.models import Model, Sequential

os.environ.setdefault("KERAS_BACKEND", "torch")


def _data(n=60, features=4, outputs=3, seed=0, classes=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype("float32")
    if classes:
        return x, rng.integers(0, outputs, n)
    return x, rng.standard_normal((n, outputs)).astype("float32")


def _twins(keras, specs, input_dim):
    """The same stack (and the same initial weights) in glassnet and Keras."""
    ours = Sequential(
        [Input((input_dim,))] + [Dense(u, activation=a) for u, a in specs]
    )
    theirs = keras.Sequential(
        [keras.Input((input_dim,))]
        + [keras.layers.Dense(u, activation=a) for u, a in specs]
    )
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def _assert_weights_close(ours, theirs, rtol=1e-5, atol=1e-6):
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# --- parity with Keras 3 -----------------------------------------------------------
@pytest.mark.parametrize(
    "optimizer, loss, specs, classes",
    [
        ("sgd", "mse", [(5, "tanh"), (3, None)], False),
        ("adam", "mse", [(5, "relu"), (3, "sigmoid")], False),
        ("rmsprop", "mae", [(6, "elu"), (3, None)], False),
        (
            "adam",
            "sparse_categorical_crossentropy",
            [(5, "relu"), (3, "softmax")],
            True,
        ),
    ],
)
def test_one_training_step_equals_keras(keras, optimizer, loss, specs, classes):
    x, y = _data(classes=classes)
    ours, theirs = _twins(keras, specs, 4)
    ours.compile(optimizer=optimizer, loss=loss)
    theirs.compile(optimizer=optimizer, loss=loss)
    ours_loss = ours.train_on_batch(x, y)
    theirs_loss = theirs.train_on_batch(x, y)
    np.testing.assert_allclose(ours_loss, theirs_loss, rtol=1e-5)
    _assert_weights_close(ours, theirs)


def test_fit_history_and_weights_equal_keras(keras):
    x, y = _data(n=50)
    ours, theirs = _twins(keras, [(8, "tanh"), (3, None)], 4)
    ours.compile(optimizers.SGD(learning_rate=0.05), "mse", metrics=["mae"])
    theirs.compile(keras.optimizers.SGD(learning_rate=0.05), "mse", metrics=["mae"])
    kwargs = dict(epochs=3, batch_size=16, shuffle=False, validation_split=0.2)
    h_ours = ours.fit(x, y, verbose=0, **kwargs).history
    h_theirs = theirs.fit(x, y, verbose=0, **kwargs).history
    assert set(h_ours) == set(h_theirs) == {"loss", "mae", "val_loss", "val_mae"}
    for key in h_ours:
        np.testing.assert_allclose(h_ours[key], h_theirs[key], rtol=1e-5)
    _assert_weights_close(ours, theirs)
    np.testing.assert_allclose(
        ours.evaluate(x, y, verbose=0),
        theirs.evaluate(x, y, verbose=0),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )


def test_sample_weight_step_equals_keras(keras):
    x, y = _data()
    weights = np.linspace(0, 2, len(x))
    ours, theirs = _twins(keras, [(3, None)], 4)
    ours.compile("sgd", "mse")
    theirs.compile("sgd", "mse")
    a = ours.train_on_batch(x, y, sample_weight=weights)
    b = theirs.train_on_batch(x, y, sample_weight=weights)
    np.testing.assert_allclose(a, b, rtol=1e-5)
    _assert_weights_close(ours, theirs)


def test_accuracy_metric_equals_keras(keras):
    x, y = _data(classes=True)
    ours, theirs = _twins(keras, [(3, "softmax")], 4)
    for model in (ours, theirs):
        model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    a = ours.evaluate(x, y, verbose=0, return_dict=True)
    b = theirs.evaluate(x, y, verbose=0, return_dict=True)
    assert set(a) == set(b) == {"loss", "accuracy"}
    np.testing.assert_allclose(list(a.values()), [b["loss"], b["accuracy"]], rtol=1e-5)


# --- fit options -------------------------------------------------------------------
def _small_model(**compile_kwargs):
    model = Sequential([Dense(4, activation="tanh", input_dim=3), Dense(2)])
    model.compile(**{"optimizer": "sgd", "loss": "mse", **compile_kwargs})
    return model


def test_validation_split_holds_out_the_last_samples():
    x, y = _data(n=40, features=3, outputs=2)
    model = _small_model()
    history = model.fit(x, y, epochs=1, validation_split=0.25, verbose=0)
    held_out = model.evaluate(x[30:], y[30:], verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][0], held_out, rtol=1e-6)


def test_class_weight_weighs_the_training_samples_not_the_held_out_ones(keras):
    """As in Keras: the validation split is taken first, class weights then
    scale the training samples' losses only (val_loss is unweighted)."""
    import glassnet

    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3)).astype("float32")
    y = rng.integers(0, 3, 40)

    def fit(lib, weights=None):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(3, "softmax")])
        if weights is not None:
            model.set_weights(weights)
        model.compile(lib.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
        start = [w.copy() for w in model.get_weights()]
        history = model.fit(
            x, y, epochs=2, batch_size=10, shuffle=False, validation_split=0.25,
            class_weight={0: 1.0, 1: 4.0, 2: 0.5}, verbose=0,
        )  # fmt: skip
        return model, start, history.history

    ours, start, history = fit(glassnet)
    held_out = ours.evaluate(x[30:], y[30:], verbose=0)
    np.testing.assert_allclose(history["val_loss"][-1], held_out)
    _, _, expected = fit(keras, start)
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(history[key], expected[key], rtol=1e-5)


def test_validation_data_and_metrics_in_history():
    x, y = _data(n=40, features=3, outputs=2)
    model = _small_model(metrics=["mae", "mse"])
    history = model.fit(
        x, y, epochs=2, batch_size=8, validation_data=(x[:10], y[:10]), verbose=0
    )
    assert set(history.history) == {
        "loss",
        "mae",
        "mse",
        "val_loss",
        "val_mae",
        "val_mse",
    }
    assert model.history is history and history.epoch == [0, 1]


def test_initial_epoch_and_shuffle_seeded():
    x, y = _data(n=40, features=3, outputs=2)
    runs = []
    for _ in range(2):
        model = _small_model()
        model.set_weights([np.full_like(w, 0.1) for w in model.get_weights()])
        np.random.seed(0)
        history = model.fit(x, y, epochs=4, initial_epoch=2, batch_size=8, verbose=0)
        runs.append(history.history["loss"])
    assert len(runs[0]) == 2 and runs[0] == runs[1]


def test_class_weight_is_a_per_class_sample_weight():
    x, labels = _data(n=30, outputs=3, classes=True)
    a = Sequential([Dense(3, activation="softmax", input_dim=4)])
    b = Sequential([Dense(3, activation="softmax", input_dim=4)])
    b.set_weights(a.get_weights())
    for model in (a, b):
        model.compile("sgd", "sparse_categorical_crossentropy")
    class_weight = {0: 1.0, 1: 2.0, 2: 0.5}
    a.train_on_batch(x, labels, class_weight=class_weight)
    b.train_on_batch(x, labels, sample_weight=[class_weight[c] for c in labels])
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)


def test_nan_loss_stops_training_before_touching_the_weights():
    x, y = _data(n=40, features=3, outputs=2)
    y = y * 1e30
    model = _small_model(optimizer=optimizers.SGD(learning_rate=1e10))
    with pytest.warns(RuntimeWarning, match="training stopped"):
        history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert len(history.history["loss"]) < 5 and model.stop_training
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_predict_batches_lists_and_dtype():
    model = _small_model()
    x = np.random.default_rng(0).standard_normal((70, 3))
    full = model.predict_on_batch(x)
    batched = model.predict(x, batch_size=16, verbose=0)
    assert batched.dtype == np.float32 and batched.shape == (70, 2)
    np.testing.assert_allclose(batched, full, rtol=1e-6)
    np.testing.assert_allclose(
        model.predict(x[:2].tolist(), verbose=0), full[:2], rtol=1e-6
    )


def test_evaluate_and_test_on_batch_forms():
    x, y = _data(n=20, features=3, outputs=2)
    model = _small_model(metrics=["mae"])
    loss, mae = model.evaluate(x, y, verbose=0)
    as_dict = model.evaluate(x, y, verbose=0, return_dict=True)
    assert as_dict == {"loss": loss, "mae": mae}
    np.testing.assert_allclose(model.test_on_batch(x, y), [loss, mae], rtol=1e-6)


def test_train_on_batch_decreases_loss():
    x, y = _data(n=32, features=3, outputs=2)
    model = _small_model(optimizer=optimizers.SGD(learning_rate=0.1))
    first = model.train_on_batch(x, y)
    for _ in range(20):
        last = model.train_on_batch(x, y)
    assert last < first


def test_batchnorm_and_dropout_train_differently_from_inference():
    x, y = _data(n=64, features=4, outputs=1)
    model = Sequential(
        [Input((4,)), Dense(8), BatchNormalization(), Dropout(0.5, seed=0), Dense(1)]
    )
    model.compile("adam", "mse")
    model.fit(x * 3 + 2, y, epochs=2, batch_size=16, verbose=0)
    bn = model.layers[1]
    assert not np.allclose(bn.moving_mean.data, 0)
    np.testing.assert_array_equal(
        model.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    assert len(model.trainable_weights) == 6 and len(model.non_trainable_weights) == 2


def test_functional_model_trains_like_sequential():
    inputs = Input((3,))
    outputs = Dense(2)(Activation("tanh")(Dense(4)(inputs)))
    model = Model(inputs, outputs)
    seq = Sequential([Input((3,)), Dense(4), Activation("tanh"), Dense(2)])
    seq.set_weights(model.get_weights())
    x, y = _data(n=16, features=3, outputs=2)
    for m in (model, seq):
        m.compile("sgd", "mse")
        m.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), seq.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert [type(layer).__name__ for layer in model.layers][0] == "InputLayer"


def test_sequential_add_pop_and_lazy_build():
    model = Sequential()
    model.add(Dense(3))
    model.add(Flatten())
    assert not model.built
    model.predict(np.ones((2, 5)), verbose=0)
    assert model.built and model.count_params() == 18
    popped = model.pop()
    assert isinstance(popped, Flatten) and len(model.layers) == 1
    with pytest.raises(ValueError, match="unique names"):
        model.add(Dense(1, name=model.layers[0].name))


def test_get_set_weights_round_trip():
    model = _small_model()
    weights = [w + 1 for w in model.get_weights()]
    model.set_weights(weights)
    for a, b in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="has 4 weights"):
        model.set_weights(weights[:2])


def test_regularizers_add_to_the_loss():
    x, y = _data(n=10, features=3, outputs=2)
    plain = Sequential([Dense(2, input_dim=3, kernel_initializer="ones")])
    reg = Sequential(
        [Dense(2, input_dim=3, kernel_initializer="ones", kernel_regularizer="l2")]
    )
    for model in (plain, reg):
        model.compile("sgd", "mse")
    difference = reg.evaluate(x, y, verbose=0) - plain.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(difference, 0.01 * 6, rtol=1e-5)


# --- errors ------------------------------------------------------------------------
def test_fit_before_compile():
    model = Sequential([Dense(1, input_dim=2)])
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.ones((4, 2)), np.ones(4))


def test_x_and_y_lengths_must_match():
    model = _small_model()
    with pytest.raises(ValueError, match="x with 10 samples, y with 9"):
        model.fit(np.ones((10, 3)), np.ones((9, 2)), verbose=0)


def test_wrong_input_shape_names_layer_and_shapes():
    model = _small_model()
    with pytest.raises(ValueError, match=r"'dense.*\(None, 3\).*\(5, 7\)"):
        model.predict(np.ones((5, 7)), verbose=0)


def test_unknown_names_list_valid_ones():
    model = Sequential([Dense(1, input_dim=2)])
    with pytest.raises(ValueError, match="Valid names.*mse"):
        model.compile("sgd", loss="mean_squared_errorr")
    with pytest.raises(ValueError, match="Valid names.*adam"):
        model.compile("adamm", loss="mse")


def test_nan_inputs_are_rejected():
    model = _small_model()
    x = np.ones((4, 3))
    x[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(x, np.ones((4, 2)), verbose=0)


def test_count_params_unbuilt_is_clear():
    with warnings.catch_warnings():
        with pytest.raises(ValueError, match="isn't built"):
            Sequential([Dense(2)]).count_params()


class SubclassedMLP(Model):
    def __init__(self):
        super().__init__()
        self.hidden = Dense(8, activation="tanh")
        self.blocks = [Dropout(0.1, seed=0), Dense(2)]

    def call(self, x, training=False):
        x = self.hidden(x)
        for layer in self.blocks:
            x = layer(x, training=training)
        return x


def test_subclassed_model_tracks_its_layers_and_trains():
    x, y = _data(n=32, features=3, outputs=2)
    model = SubclassedMLP()
    model.compile(optimizers.SGD(learning_rate=0.1), "mse")
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert model.name.startswith("subclassed_mlp")
    assert [type(layer).__name__ for layer in model.layers] == [
        "Dense",
        "Dropout",
        "Dense",
    ]
    assert model.count_params() == 3 * 8 + 8 + 8 * 2 + 2
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(x, verbose=0).shape == (32, 2)


def test_float64_tensor_inputs_are_cast_to_the_layer_dtype():
    from glassnet.autograd import Tensor

    layer = Dense(2)
    out = layer(Tensor(np.ones((1, 3))))
    assert out.data.dtype == np.float32


def test_sequential_config_round_trip():
    model = Sequential(
        [Input((4,)), Dense(3, activation="relu"), BatchNormalization(), Dense(1)],
        name="original",
    )
    config = model.get_config()
    for entry in config["layers"]:
        entry["config"]["name"] += "_copy"
    clone = Sequential.from_config({**config, "name": "copy"})
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).standard_normal((5, 4))
    np.testing.assert_array_equal(
        clone.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    assert [type(layer) for layer in clone.layers] == [
        type(layer) for layer in model.layers
    ]
    unknown = "Unknown layer: 'Densse'. Did you mean 'Dense'"
    with pytest.raises(ValueError, match=unknown):
        Sequential.from_config({"layers": [{"class_name": "Densse", "config": {}}]})


def test_regularizers_equal_keras(keras):
    x, y = _data(n=8, features=3, outputs=2)
    kwargs = dict(
        activity_regularizer="l2", kernel_regularizer="l1", bias_regularizer="l2"
    )
    ours = Sequential([Input((3,)), Dense(2, bias_initializer="ones", **kwargs)])
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, **kwargs)])
    theirs.set_weights(ours.get_weights())
    ours.compile("sgd", "mse")
    theirs.compile("sgd", "mse")
    np.testing.assert_allclose(
        ours.train_on_batch(x, y), theirs.train_on_batch(x, y), rtol=1e-5
    )
    _assert_weights_close(ours, theirs)


def test_one_dimensional_x_is_one_feature_per_sample():
    model = Sequential([Dense(1)])
    out = model.predict(np.arange(5.0), verbose=0)
    assert out.shape == (5, 1) and model.layers[0].kernel.data.shape == (1, 1)
    with pytest.raises(ValueError, match=r"one feature per sample.*\(3,\)"):
        _small_model().predict(np.ones(3), verbose=0)


def test_shuffled_batches_gathered_in_groups_visit_every_sample_once():
    # x is one-hot in its first 7 of 2**17 features, so fit gathers shuffled
    # batches two at a time (about 1 MB a group) and the last group is short.
    # With batch_size=1, mse and SGD lr=0.5, a visit sets the sample's weight
    # to its target exactly (w -= 0.5 * 2 * (w - y)); untouched weights stay 0.
    n, features = 7, 1 << 17
    x = np.zeros((n, features), dtype=np.float32)
    x[np.arange(n), np.arange(n)] = 1.0
    y = np.arange(1.0, n + 1.0)
    model = Sequential([Dense(1, use_bias=False, kernel_initializer="zeros")])
    model.compile(optimizers.SGD(0.5), "mse")
    np.random.seed(0)
    model.fit(x, y, batch_size=1, epochs=1, verbose=0)
    kernel = model.layers[0].kernel.data[:, 0]
    np.testing.assert_array_equal(kernel[:n], y)
    assert not kernel[n:].any()
