"""Keras guide "The Functional API", feature by feature, on ``import glassnet as
keras``. Features already tested elsewhere (Input attributes, summary, saving,
feature extraction, custom layers in configs) are listed in
``tests/guides/__init__.py`` with the tests that cover them."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as keras
from glassnet import layers, ops


def _x(*shape, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, shape).astype("float32")


def test_train_evaluate_and_predict_a_functional_classifier():
    """Guide feature: a functional MLP on flattened images trained with a
    from-logits ``SparseCategoricalCrossentropy``, ``RMSprop`` and the
    ``"accuracy"`` metric, with ``validation_split``; ``evaluate`` returns
    ``[loss, accuracy]``."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (120, 16)).astype("float32")
    y = x[:, :3].argmax(axis=1)
    np.random.seed(0)
    inputs = keras.Input(shape=(16,))
    hidden = layers.Dense(32, activation="relu")(inputs)
    hidden = layers.Dense(32, activation="relu")(hidden)
    model = keras.Model(inputs=inputs, outputs=layers.Dense(3)(hidden), name="mlp")
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.RMSprop(),
        metrics=["accuracy"],
    )
    history = model.fit(x, y, batch_size=16, epochs=8, validation_split=0.2, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    loss, accuracy = model.evaluate(x, y, verbose=2)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert accuracy > 0.6 and loss > 0


def _encoder_layers():
    image = keras.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(4, 3, activation="relu")(image)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    return image, layers.GlobalMaxPooling2D()(x)


def _decode(code):
    x = layers.Reshape((4, 4, 1))(code)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(8, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(4, 3, activation="relu")(x)
    return layers.Conv2DTranspose(1, 3, activation="relu")(x)


def test_one_graph_of_layers_makes_two_models_that_share_them():
    """Guide feature: an encoder model and an autoencoder model defined on the
    same graph of layers (Conv2D, MaxPooling2D, GlobalMaxPooling2D, Reshape,
    Conv2DTranspose, UpSampling2D) hold the very same weights."""
    image, code = _encoder_layers()
    encoder = keras.Model(image, code, name="encoder")
    autoencoder = keras.Model(image, _decode(code), name="autoencoder")
    assert encoder.output_shape == (None, 16)
    assert autoencoder.output_shape == (None, 28, 28, 1)
    shared = {id(w) for w in encoder.weights}
    assert shared <= {id(w) for w in autoencoder.weights}
    x = _x(2, 28, 28, 1)
    before = encoder.predict(x, verbose=0)
    encoder.layers[1].kernel.assign(encoder.layers[1].kernel.data * 2)
    assert not np.allclose(before, encoder.predict(x, verbose=0))
    np.testing.assert_allclose(
        autoencoder.layers[1].kernel.data, encoder.layers[1].kernel.data
    )


def test_models_called_like_layers_compose_an_autoencoder():
    """Guide feature: every model is callable: an encoder model and a decoder
    model (its own Input) called on a new Input make an autoencoder whose
    output is the decoder's of the encoder's."""
    image, code = _encoder_layers()
    encoder = keras.Model(image, code, name="encoder")
    code_input = keras.Input(shape=(16,), name="encoded_img")
    decoder = keras.Model(code_input, _decode(code_input), name="decoder")
    new_image = keras.Input(shape=(28, 28, 1), name="img")
    autoencoder = keras.Model(new_image, decoder(encoder(new_image)))
    assert [layer.name for layer in autoencoder.layers][1:] == ["encoder", "decoder"]
    x = _x(2, 28, 28, 1)
    expected = decoder.predict(encoder.predict(x, verbose=0), verbose=0)
    np.testing.assert_allclose(autoencoder.predict(x, verbose=0), expected, rtol=1e-5)
    assert autoencoder.count_params() == encoder.count_params() + decoder.count_params()


def test_an_ensemble_averages_the_outputs_of_three_models():
    """Guide feature: ensembling: three models of one builder called on one
    Input, their outputs joined by ``layers.average``."""

    def one_model():
        inputs = keras.Input(shape=(8,))
        return keras.Model(inputs, layers.Dense(1)(inputs))

    members = [one_model() for _ in range(3)]
    inputs = keras.Input(shape=(8,))
    ensemble = keras.Model(inputs, layers.average([m(inputs) for m in members]))
    x = _x(5, 8)
    expected = np.mean([m.predict(x, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.predict(x, verbose=0), expected, rtol=1e-5)
    assert ensemble.count_params() == 3 * 9


def _tickets_model(words=100, tags=6, departments=4):
    title = keras.Input(shape=(None,), name="title")
    body = keras.Input(shape=(None,), name="body")
    tag_input = keras.Input(shape=(tags,), name="tags")
    # NOTE: glassnet has no recurrent layers; the guide's LSTMs become poolings
    title_features = layers.GlobalAveragePooling1D()(layers.Embedding(words, 8)(title))
    body_features = layers.GlobalAveragePooling1D()(layers.Embedding(words, 4)(body))
    x = layers.concatenate([title_features, body_features, tag_input])
    priority = layers.Dense(1, name="priority")(x)
    department = layers.Dense(departments, name="department")(x)
    return keras.Model(
        inputs=[title, body, tag_input],
        outputs={"priority": priority, "department": department},
    )


def _tickets_data(n=6, words=100, tags=6):
    rng = np.random.default_rng(0)
    return {
        "title": rng.integers(0, words, (n, 10)),
        "body": rng.integers(0, words, (n, 25)),
        "tags": rng.integers(0, 2, (n, tags)).astype("float32"),
    }


def test_the_ticket_model_of_three_inputs_and_two_outputs_predicts():
    """Guide feature: a model of several inputs (two texts of any length and
    tags) and two named outputs, predicted from a dict of arrays."""
    model = _tickets_model()
    predicted = model.predict(_tickets_data(), verbose=0)
    assert {name: a.shape for name, a in predicted.items()} == {
        "priority": (6, 1),
        "department": (6, 4),
    }


def test_the_ticket_model_trains_with_a_loss_per_output():
    """Guide features: compile with a dict of losses and ``loss_weights``;
    fit on dicts of inputs and targets."""
    model = _tickets_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
    )
    rng = np.random.default_rng(0)
    model.fit(
        _tickets_data(),
        {"priority": rng.random((6, 1)), "department": rng.random((6, 4))},
        epochs=1,
        batch_size=3,
        verbose=0,
    )


def test_a_toy_resnet_trains():
    """Guide feature: a small ResNet (two residual blocks joined by
    ``layers.add``, Dropout) trained with a from-logits
    ``CategoricalCrossentropy``, the ``"acc"`` metric name and
    ``validation_split``."""
    np.random.seed(0)
    inputs = keras.Input(shape=(12, 12, 3), name="img")
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    block_1 = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(block_1)
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(x)
    block_2 = layers.add([x, block_1])
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(block_2)
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(x)
    block_3 = layers.add([x, block_2])
    x = layers.Conv2D(8, 3, activation="relu")(block_3)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    model = keras.Model(inputs, layers.Dense(3)(x), name="toy_resnet")
    assert model.output_shape == (None, 3)
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (40, 12, 12, 3)).astype("float32")
    labels = keras.utils.to_categorical(
        images[:, :, :, :].mean(axis=(1, 2)).argmax(1), 3
    )
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=["acc"],
    )
    history = model.fit(
        images, labels, batch_size=8, epochs=2, validation_split=0.2, verbose=0
    )
    assert sorted(history.history) == ["acc", "loss", "val_acc", "val_loss"]


def test_one_embedding_shared_by_two_text_inputs():
    """Guide feature: a shared layer: one Embedding called on two inputs, one
    set of weights, the same vectors for the same word ids."""
    shared = layers.Embedding(50, 6)
    first = keras.Input(shape=(None,), dtype="int32")
    second = keras.Input(shape=(None,), dtype="int32")
    model = keras.Model([first, second], [shared(first), shared(second)])
    assert len(model.weights) == 1
    ids = np.array([[3, 7, 9]])
    a, b = model.predict([ids, ids[:, ::-1]], verbose=0)
    np.testing.assert_array_equal(a[:, ::-1], b)


UNITS, STEPS, FEATURES = 6, 4, 3


class Recurrent(layers.Layer):
    """A plain recurrent cell written with Dense layers and ``ops``; it returns
    every step's state (batch, steps, units)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.projection_1 = layers.Dense(UNITS, activation="tanh")
        self.projection_2 = layers.Dense(UNITS, activation="tanh")

    def call(self, inputs):
        state = ops.zeros((inputs.shape[0], UNITS))
        states = []
        for t in range(inputs.shape[1]):
            state = self.projection_1(inputs[:, t, :]) + self.projection_2(state)
            states.append(state)
        return ops.stack(states, axis=1)


def test_a_functional_model_inside_a_subclassed_layer():
    """Guide feature (mixing styles): a subclassed layer whose ``call`` ends in
    a functional model set as its attribute; that model's weights join the
    layer's."""
    features = keras.Input((None, UNITS))
    pooled = layers.GlobalAveragePooling1D()(features)
    classifier = keras.Model(features, layers.Dense(1)(pooled))

    class Classified(Recurrent):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.classifier = classifier

        def call(self, inputs):
            return self.classifier(super().call(inputs))

    layer = Classified()
    out = layer(ops.zeros((1, STEPS, FEATURES)))
    assert out.shape == (1, 1)
    assert len(layer.weights) == 6 and classifier.weights[0] in layer.weights


def test_a_subclassed_layer_inside_a_functional_model_of_a_fixed_batch():
    """Guide feature (mixing styles): ``keras.Input(batch_shape=...)`` and a
    Conv1D feeding a subclassed recurrent layer inside a functional model."""
    inputs = keras.Input(batch_shape=(2, STEPS, FEATURES))
    x = layers.Conv1D(5, 3)(inputs)
    outputs = layers.Dense(1)(Recurrent()(x))
    model = keras.Model(inputs, outputs)
    assert model.input_shape == (2, STEPS, FEATURES)
    assert model(_x(2, STEPS, FEATURES)).shape == (2, STEPS - 2, 1)


def test_plot_model_writes_a_file_as_keras_does(tmp_path):
    """Guide feature: ``keras.utils.plot_model(model, "file.png",
    show_shapes=True)``."""
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, layers.Dense(2)(inputs))
    keras.utils.plot_model(model, str(tmp_path / "model.png"), show_shapes=True)
    assert (tmp_path / "model.png").exists()
