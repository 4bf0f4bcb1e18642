"""Training plans (``runtime.training``): a Sequential of Dense, activation
and Dropout(0) layers trained through its plan ends with the very weights
the plain path gives (fast kernels off), step by step and epoch by epoch,
and the plan steps aside for everything it does not cover."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import config, layers, optimizers
from glassnet.models import Sequential

CHAINS = {
    "fused tanh": lambda: [layers.Dense(8, activation="tanh"), layers.Dense(2)],
    "fused relu, sigmoid": lambda: [
        layers.Dense(8, activation="relu"),
        layers.Dense(6, activation="sigmoid"),
        layers.Dense(2),
    ],
    "activation layers": lambda: [
        layers.Dense(8),
        layers.Activation("tanh"),
        layers.Dense(8, use_bias=False),
        layers.Activation("relu"),
        layers.Dropout(0.0),
        layers.Activation("sigmoid"),
        layers.Dense(2),
        layers.Activation("linear"),
    ],
    "seed": lambda: [layers.Dense(1), layers.Activation("tanh"), layers.Dense(1)],
}


def _model(chain, dtype, optimizer, loss, seed=0):
    model = Sequential([layers.Input((3,), dtype=dtype), *CHAINS[chain]()])
    rng = np.random.default_rng(seed)
    model.set_weights([rng.standard_normal(w.shape) for w in model.get_weights()])
    model.compile(optimizer, loss)
    return model


def _data(dtype, outputs, n=50):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, 3)).astype(dtype)
    return x, rng.standard_normal((n, outputs)).astype(dtype)


def _train(fast, chain, dtype, make_optimizer, loss="mse", **fit):
    outputs = 1 if chain == "seed" else 2
    x, y = _data(dtype, outputs)
    model = _model(chain, dtype, make_optimizer(), loss)
    with config.overrides(fast_kernels=fast):
        history = model.fit(
            x, y, epochs=3, batch_size=16, shuffle=False, verbose=0, **fit
        )
    return model, history.history


@pytest.mark.parametrize("chain", sorted(CHAINS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "make_optimizer",
    [lambda: optimizers.SGD(0.05, momentum=0.5), lambda: optimizers.Adam(0.01)],
    ids=["sgd", "adam"],
)
def test_a_plan_trains_to_the_plain_path_s_bits(chain, dtype, make_optimizer):
    planned, logs = _train(True, chain, dtype, make_optimizer)
    assert planned._training_plan() is not None
    plain, plain_logs = _train(False, chain, dtype, make_optimizer)
    for a, b in zip(planned.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert logs == plain_logs


def test_sample_weights_and_other_losses_keep_the_bits():
    weights = np.random.default_rng(2).uniform(0.5, 2.0, 50)
    runs = [
        _train(
            fast,
            "fused relu, sigmoid",
            "float32",
            lambda: optimizers.Adam(0.01),
            loss="mae",
            sample_weight=weights,
            validation_split=0.2,
        )  # fmt: skip
        for fast in (True, False)
    ]
    for a, b in zip(runs[0][0].get_weights(), runs[1][0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1] == runs[1][1]


def test_the_plan_is_the_one_that_trains():
    model = _model("seed", "float32", optimizers.SGD(0.1), "mse")
    plan = model._training_plan()
    runs = []
    forward = plan.forward
    plan.forward = lambda x: runs.append(len(x)) or forward(x)
    x, y = _data("float32", 1, n=20)
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    assert runs == [8, 8, 4]


@pytest.mark.parametrize(
    "extra",
    [
        lambda: layers.Dense(2, kernel_regularizer="l2"),
        lambda: layers.Dense(2, activity_regularizer="l2"),
        lambda: layers.Dense(2, activation="softmax"),
        lambda: layers.Dropout(0.5),
        lambda: layers.BatchNormalization(),
        lambda: layers.Dense(2, trainable=False),
    ],
    ids=["regularizer", "activity", "softmax", "dropout", "batchnorm", "frozen"],
)
def test_layers_a_plan_does_not_cover_leave_the_plain_path(extra):
    model = Sequential([layers.Input((3,)), layers.Dense(4), extra()])
    model.compile("sgd", "mse")
    assert model._training_plan() is None
    x, y = _data("float32", model.output_shape[-1], n=8)
    model.fit(x, y, epochs=1, verbose=0)  # trains through the plain path


def test_freezing_a_layer_after_compile_drops_the_plan():
    model = _model("seed", "float32", optimizers.SGD(0.1), "mse")
    assert model._training_plan() is not None
    model.layers[0].trainable = False
    assert model._training_plan() is None
    before = model.layers[0].get_weights()
    x, y = _data("float32", 1, n=8)
    model.compile(optimizers.SGD(0.1), "mse")
    model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(before, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_loss_of_my_own_trains_through_the_plan_as_through_the_layers():
    from glassnet import ops

    def halved_mse(y_true, y_pred):
        return ops.mean(ops.square(y_pred - y_true), axis=-1) * 0.5

    weights = []
    for fast in (True, False):
        x, y = _data("float32", 1, n=24)
        model = _model("seed", "float32", optimizers.SGD(0.1), halved_mse)
        with config.overrides(fast_kernels=fast):
            model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "last",
    [
        lambda: [layers.Dense(2, activation="relu")],
        lambda: [layers.Dense(2), layers.Activation("relu")],
        lambda: [layers.Dense(2, activation="sigmoid")],
    ],
    ids=["fused relu", "relu layer", "fused sigmoid"],
)
def test_a_loss_that_is_the_output_itself_keeps_its_gradient_seed(last):
    # the output's gradient is then the compiled loss's cached seed: a plan
    # that wrote its local gradients into it would change every later step
    weights = []
    for fast in (True, False):
        x, y = _data("float32", 2, n=24)
        model = Sequential(
            [layers.Input((3,)), layers.Dense(8, activation="tanh"), *last()]
        )
        rng = np.random.default_rng(0)
        model.set_weights([rng.standard_normal(w.shape) for w in model.get_weights()])
        model.compile(optimizers.SGD(0.1), lambda t, p: p)
        with config.overrides(fast_kernels=fast):
            model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        assert model._training_plan() is not None
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
