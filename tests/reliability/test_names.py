"""Unknown names are caught when they are given, with the closest valid names
("did you mean", from ``difflib``, ignoring case and underscores), all the
valid names, and Keras's ``Received: kind='name'`` at the end: losses, metrics,
optimizers, activations, initializers, regularizers (by name or config dict),
the same names given to a layer's constructor, and layer classes in
``Sequential.from_config``. Every registry gets this from
``_registry.Registry.lookup``.
"""

from __future__ import annotations

import re

import pytest

from glassnet import (
    activations,
    initializers,
    losses,
    metrics,
    optimizers,
    regularizers,
)
from glassnet._registry import Registry, close_matches
from glassnet.layers import (  # noqa: F401  (the calls in NAMES use them)
    Activation,
    BatchNormalization,
    Conv2D,
    Dense,
)
from glassnet.models import Sequential

from .model_state import case, expect_failure, regressor


def named(call: str, kind: str, bad: str, suggestion: str | None):
    """``call`` raises ValueError: unknown ``kind`` ``bad``, did you mean
    ``suggestion`` (first), the valid names, ``Received: kind='bad'`` last."""
    return pytest.param(call, kind, bad, suggestion, id=call)


def _config(name):
    return {"layers": [{"class_name": name, "config": {}}]}


NAMES = [
    named('losses.get("mse2")', "loss", "mse2", "mse"),
    named('losses.get("mean_squared_eror")', "loss", "mean_squared_eror",
          "mean_squared_error"),
    named('losses.get("BinaryCrossEntropy")', "loss", "BinaryCrossEntropy",
          "BinaryCrossentropy"),
    named('losses.deserialize({"class_name": "Hubber"})', "loss", "Hubber", "Huber"),
    named('losses.get("sparse_categorical_crossentopy")', "loss",
          "sparse_categorical_crossentopy", "sparse_categorical_crossentropy"),
    named('losses.get("banana")', "loss", "banana", None),
    named('metrics.get("acuracy")', "metric", "acuracy", "accuracy"),
    named('metrics.get("ACC")', "metric", "ACC", "acc"),
    named('metrics.get("RootMeanSquaredEror")', "metric", "RootMeanSquaredEror",
          "RootMeanSquaredError"),
    named('optimizers.get("adamm")', "optimizer", "adamm", "adam"),
    named('optimizers.get("SDG")', "optimizer", "SDG", "SGD"),
    named('optimizers.get("RMSProp")', "optimizer", "RMSProp", "RMSprop"),
    named('optimizers.get("adagrd")', "optimizer", "adagrd", "adagrad"),
    named('activations.get("rleu")', "activation", "rleu", "relu"),
    named('activations.get("sofmax")', "activation", "sofmax", "softmax"),
    named('activations.get("leaky-relu")', "activation", "leaky-relu", "leaky_relu"),
    named('initializers.get("glorot_unifrom")', "initializer", "glorot_unifrom",
          "glorot_uniform"),
    named('initializers.get("HeNormel")', "initializer", "HeNormel", "HeNormal"),
    named('initializers.get({"class_name": "Zero"})', "initializer", "Zero",
          "Zeros"),
    named('regularizers.get("l1_l3")', "regularizer", "l1_l3", "l1_l2"),
    named('regularizers.get("dropout")', "regularizer", "dropout", None),
    # --- the same names, given to a layer -------------------------------------------
    named('Dense(2, activation="rleu")', "activation", "rleu", "relu"),
    named('Conv2D(2, 3, activation="Relu")', "activation", "Relu", "relu"),
    named('Activation("tanhh")', "activation", "tanhh", "tanh"),
    named('Dense(2, kernel_initializer="glorot_unifrom")', "initializer",
          "glorot_unifrom", "glorot_uniform"),
    named('Dense(2, bias_initializer="zeroes")', "initializer", "zeroes", "zeros"),
    named('BatchNormalization(gamma_initializer="onez")', "initializer", "onez",
          "ones"),
    named('Dense(2, kernel_regularizer="l22")', "regularizer", "l22", "l2"),
    named('Dense(2, activity_regularizer="l1_l")', "regularizer", "l1_l", "l1_l2"),
    # --- layer classes --------------------------------------------------------------
    named('Sequential.from_config(_config("Dence"))', "layer", "Dence", "Dense"),
    named('Sequential.from_config(_config("Conv2d"))', "layer", "Conv2d", "Conv2D"),
    named('Sequential.from_config(_config("maxpooling2d"))', "layer", "maxpooling2d",
          "MaxPooling2D"),
    named('Sequential.from_config(_config("Banana"))', "layer", "Banana", None),
]  # fmt: skip


@pytest.mark.parametrize("call, kind, bad, suggestion", NAMES)
def test_an_unknown_name_says_what_was_meant(call, kind, bad, suggestion):
    with pytest.raises(ValueError) as raised:
        eval(call)
    message = str(raised.value)
    assert message.startswith(f"Unknown {kind}: {bad!r}.")
    if suggestion is None:
        assert "Did you mean" not in message
    else:
        assert re.search(rf"\. Did you mean {suggestion!r}( or '[^']+')*\?", message)
    assert re.search(r" Valid names are: \w+, \w+", message)
    assert message.endswith(f". Received: {kind}={bad!r}")


#: Names given to a model: the model is left as it was.
CASES = [
    case('add(Dense(2, activation="rleu"))', ValueError, r"Did you mean 'relu'"),
    case(
        'add(Dense(2, kernel_initializer="glorot_unifrom"))',
        ValueError,
        r"Did you mean 'glorot_uniform'",
    ),
    case('add(Activation("sigmoud"))', ValueError, r"Did you mean 'sigmoid'"),
    case('compile("sgd", "huberr")', ValueError, r"Did you mean 'huber'"),
    case(
        'compile("sgd", "mse", metrics=["mae", "mse", "maee"])',
        ValueError,
        r"Unknown metric: 'maee'\. Did you mean 'mae'",
    ),
]


@pytest.mark.parametrize("call, model, error, pattern", CASES)
def test_an_unknown_name_given_to_a_model_changes_nothing(call, model, error, pattern):
    model = Sequential([Dense(3, input_dim=4)]) if call.startswith("add") else None
    expect_failure(model or regressor(), call, error, pattern, globals())


def test_every_registry_suggests():
    registries = [
        module._registry
        for module in (activations, initializers, losses, metrics, optimizers)
    ]
    registries.append(regularizers._registry)
    assert all(isinstance(r, Registry) for r in registries)
    for registry in registries:
        name = registry.names()[0]
        with pytest.raises(ValueError, match=f"Did you mean {name!r}"):
            registry.lookup(name + "x")


def test_close_matches_prefers_the_spelling_style_it_was_given():
    names = ["adam", "Adam", "adamw", "AdamW", "sgd", "SGD"]
    assert close_matches("adamm", names) == ["adam", "adamw"]
    assert close_matches("Adamm", names) == ["Adam", "AdamW"]
    assert close_matches("SDG", names) == ["SGD"]
    assert close_matches("zzz", names) == []
    assert close_matches(3, names) == []


def test_a_name_that_is_not_a_string_is_a_type_error():
    with pytest.raises(TypeError, match="Received: loss=3"):
        losses.get(3)
    with pytest.raises(TypeError, match="Received: activation=3"):
        Dense(2, activation=3)
