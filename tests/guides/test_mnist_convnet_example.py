"""Keras example "Simple MNIST convnet" on ``import glassnet as keras``, with
MNIST shrunk to scikit-learn's ``load_digits`` (8x8 images, 1797 of them,
bundled: no download). The images are enlarged to 16x16 (each pixel a 2x2
block) so that the example's two valid 3x3 convolutions and two 2x2 poolings
still leave a 2x2 map; the architecture is otherwise the example's."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet

pytest.importorskip("sklearn")

NUM_CLASSES = 10
INPUT_SHAPE = (16, 16, 1)


def load_data():
    """((x_train, y_train), (x_test, y_test)) as the example prepares them:
    float32 in [0, 1], a channel axis, one-hot labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.kron(digits.images, np.ones((2, 2))) / 16.0
    images = np.expand_dims(images.astype("float32"), -1)
    labels = glassnet.utils.to_categorical(digits.target, NUM_CLASSES)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(images))
    train, test = order[:1400], order[1400:]
    return (images[train], labels[train]), (images[test], labels[test])


def build(k):
    """The example's convnet, from the module ``k`` (glassnet or Keras)."""
    return k.Sequential(
        [
            k.Input(shape=INPUT_SHAPE),
            k.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            k.layers.MaxPooling2D(pool_size=(2, 2)),
            k.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            k.layers.MaxPooling2D(pool_size=(2, 2)),
            k.layers.Flatten(),
            k.layers.Dropout(0.5),
            k.layers.Dense(NUM_CLASSES, activation="softmax"),
        ]
    )


def test_the_data_is_prepared_as_the_example_prepares_mnist():
    """Example features: pixels scaled to [0, 1] in float32,
    ``np.expand_dims(x, -1)`` for the channel, ``keras.utils.to_categorical``
    for the labels."""
    (x_train, y_train), (x_test, y_test) = load_data()
    assert x_train.shape == (1400, *INPUT_SHAPE) and x_test.shape == (397, *INPUT_SHAPE)
    assert x_train.dtype == "float32" and 0 <= x_train.min() <= x_train.max() <= 1
    assert y_train.shape == (1400, NUM_CLASSES)
    np.testing.assert_array_equal(y_test.sum(axis=1), 1)


def test_the_model_and_its_summary_equal_keras(keras, capsys):
    """Example features: the Sequential convnet (Conv2D, MaxPooling2D, Flatten,
    Dropout, Dense softmax) and ``model.summary()``: the same layers, shapes
    and parameter counts as Keras's, and the same predictions with Keras's
    weights."""
    glassnet.layers.clear_session()
    keras.utils.clear_session()
    ours, theirs = build(glassnet), build(keras)
    ours.summary()
    mine = capsys.readouterr().out
    theirs.summary()
    assert mine == capsys.readouterr().out
    assert ours.count_params() == theirs.count_params()
    ours.set_weights(theirs.get_weights())
    (_, _), (x_test, _) = load_data()
    np.testing.assert_allclose(
        ours.predict(x_test[:32], verbose=0),
        keras.ops.convert_to_numpy(theirs.predict(x_test[:32], verbose=0)),
        rtol=1e-5,
        atol=1e-6,
    )


def test_train_and_evaluate_as_the_example_does():
    """Example features: compile with ``"categorical_crossentropy"``,
    ``"adam"`` and ``["accuracy"]``; fit with ``batch_size=128`` and
    ``validation_split=0.1``; ``evaluate`` returns ``[loss, accuracy]``
    (a shortened run: 6 epochs instead of 15)."""
    np.random.seed(0)
    (x_train, y_train), (x_test, y_test) = load_data()
    model = build(glassnet)
    model.compile(
        loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"]
    )
    history = model.fit(
        x_train, y_train, batch_size=128, epochs=6, validation_split=0.1, verbose=0
    )
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    score = model.evaluate(x_test, y_test, verbose=0)
    assert len(score) == 2
    assert score[1] > 0.8, score
