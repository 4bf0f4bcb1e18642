"""Activation layers with arguments (``ReLU``, ``LeakyReLU``, ``ELU``,
``Softmax``): the layer lifecycle, float64 finite differences, Keras 3's
outputs and gradients with the same arguments, and Keras's argument errors."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import layers

from .layer_checks import check_layer, keras_module, keras_parity, layer_gradcheck

CASES = [
    ("ReLU", {}),
    ("ReLU", {"max_value": 1.0}),
    ("ReLU", {"negative_slope": 0.1}),
    ("ReLU", {"threshold": 0.5}),
    ("ReLU", {"max_value": 1.2, "negative_slope": 0.2, "threshold": 0.4}),
    ("LeakyReLU", {}),
    ("LeakyReLU", {"negative_slope": 0.05}),
    ("ELU", {}),
    ("ELU", {"alpha": 0.5}),
    ("Softmax", {}),
    ("Softmax", {"axis": 1}),
    ("Softmax", {"axis": [1, 2]}),
]
SHAPE = (3, 4)
IDS = [f"{name}-{kwargs}" for name, kwargs in CASES]


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_lifecycle_and_finite_differences(name, kwargs):
    check_layer(getattr(layers, name)(**kwargs), SHAPE)
    layer = getattr(layers, name)(dtype="float64", **kwargs)
    assert layer_gradcheck(layer, SHAPE) < 1e-6


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=IDS)
def test_outputs_and_gradients_equal_keras(name, kwargs):
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    keras = keras_module()
    theirs = getattr(keras.layers, name)(**kwargs)
    assert keras_parity(getattr(layers, name)(**kwargs), theirs, SHAPE) < 1e-5


def test_the_defaults_are_keras_3s():
    assert layers.LeakyReLU().negative_slope == 0.3
    relu = layers.ReLU()
    assert (relu.max_value, relu.negative_slope, relu.threshold) == (None, 0.0, 0.0)
    assert layers.ELU().alpha == 1.0 and layers.Softmax().axis == -1


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: layers.ReLU(max_value=-1), "max_value=-1"),
        (lambda: layers.ReLU(negative_slope=-0.1), "negative_slope=-0.1"),
        (lambda: layers.ReLU(threshold="high"), "threshold='high'"),
        (lambda: layers.ReLU(threshold=-0.5), "threshold=-0.5"),
        (lambda: layers.LeakyReLU(negative_slope=None), "negative_slope=None"),
    ],
)
def test_bad_arguments_say_which_and_what_came(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_model_of_them_saves_and_loads(tmp_path):
    from glassnet import models

    model = models.Sequential(
        [
            layers.Input((4,)),
            layers.Dense(5),
            layers.LeakyReLU(0.1),
            layers.Dense(5),
            layers.ReLU(max_value=6.0),
            layers.Dense(3),
            layers.ELU(),
            layers.Softmax(),
        ]
    )
    x = np.random.default_rng(0).standard_normal((6, 4)).astype("float32")
    model.save(tmp_path / "m.keras")
    again = models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(
        again.predict(x, verbose=0), model.predict(x, verbose=0)
    )
