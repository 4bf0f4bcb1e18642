"""Inference plans (``runtime.inference``): a Sequential of Dense,
activation and Dropout layers predicted on arrays gives the plain path's bits
(fast kernels off), follows its weights, and steps aside for everything it
does not cover."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from glassnet import config, layers, no_grad
from glassnet.models import Sequential
from glassnet.runtime import inference

ACTIVATIONS = [None, "relu", "tanh", "sigmoid", "linear"]


def _chain(activation, dtype="float32", use_bias=True):
    model = Sequential(
        [
            layers.Input((5,)),
            layers.Dense(16, activation=activation, use_bias=use_bias, dtype=dtype),
            layers.Dropout(0.5, dtype=dtype),
            layers.Activation(activation or "linear", dtype=dtype),
            layers.Dense(3, dtype=dtype),
        ]
    )
    rng = np.random.default_rng(0)
    model.set_weights([rng.standard_normal(w.shape) for w in model.get_weights()])
    return model


def _spy_on_plan(model):
    """The batch sizes the model's inference plan runs on from now on."""
    runs, plan = [], model._inference_plan()
    fns, extra, _ = model.__dict__["_inference_kept"]

    class Spy:
        def __call__(self, x):
            return runs.append(len(x)) or plan(x)

        def run(self, x):
            return runs.append(len(x)) or plan.run(x)

    model.__dict__["_inference_kept"] = (fns, extra, Spy())
    return runs


def _plain(model, x):
    with config.overrides(fast_kernels=False):
        return model.predict_on_batch(x)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch", [1, 7, 300])
@pytest.mark.parametrize("use_bias", [True, False])
def test_a_plan_gives_the_plain_path_s_bits(activation, dtype, batch, use_bias):
    model = _chain(activation, dtype, use_bias)
    x = np.random.default_rng(1).standard_normal((batch, 5)).astype(dtype)
    assert model._inference_plan() is not None
    expected = _plain(model, x)
    for got in (model.predict_on_batch(x), model.predict(x, batch_size=64, verbose=0)):
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


@config.overrides(fast_kernels=True)
def test_a_plan_is_the_one_that_runs_and_reads_the_weights_when_it_runs():
    model = _chain("tanh")
    x = np.ones((2, 5), "float32")
    plan = model._inference_plan()
    with no_grad():
        np.testing.assert_array_equal(plan(x), model.predict_on_batch(x))
    model.set_weights([w * 2 for w in model.get_weights()])
    with no_grad():
        np.testing.assert_array_equal(plan(x), _plain(model, x))
    assert model._inference_plan() is plan  # kept while the chain is
    runs = _spy_on_plan(model)
    model.predict_on_batch(x)
    model.predict(np.ones((5, 5), "float32"), batch_size=4, verbose=0)
    assert runs == [2, 4, 1]


def test_a_plan_steps_aside_where_it_does_not_apply():
    model = _chain("relu")
    plan = model._inference_plan()
    x = np.ones((2, 5), "float32")
    assert plan(x) is None  # a graph is recorded (model(x) keeps it)
    with no_grad():
        assert plan(x.astype("float64")) is None  # not the model's dtype
        assert plan(np.ones((2, 1, 5), "float32")) is None  # not 2-D
        with config.overrides(fast_kernels=False):
            assert plan(x) is None
    assert model(x).requires_grad


@pytest.mark.parametrize(
    "layer",
    [
        layers.Dense(3, activation="softmax"),
        layers.Activation("softmax"),
        layers.Dense(3, activity_regularizer="l2"),
        layers.BatchNormalization(),
        layers.Dense(3, dtype="float64"),
    ],
    ids=["dense softmax", "softmax", "activity regularizer", "batchnorm", "dtype"],
)
def test_layers_a_plan_does_not_cover_leave_the_plain_path(layer):
    model = Sequential([layers.Input((5,)), layers.Dense(4), layer])
    model.build((None, 5))
    assert model._inference_plan() is None
    assert inference.chain_plan(model._compute_layers(), "float32") is None


def test_a_subclass_with_its_own_call_is_not_planned():
    class Doubled(layers.Dense):
        def call(self, x, training=False):
            return super().call(x) * 2

    model = Sequential([layers.Input((5,)), Doubled(3)])
    assert model._inference_plan() is None
    x = np.ones((1, 5), "float32")
    np.testing.assert_allclose(
        model.predict_on_batch(x), 2 * (x @ model.get_weights()[0])
    )


def test_a_pickled_model_plans_again():
    model = _chain("sigmoid")
    x = np.ones((3, 5), "float32")
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_on_batch(x), model.predict_on_batch(x))
    assert again._inference_plan() is not None


def test_the_output_is_never_the_input():
    model = Sequential([layers.Input((5,)), layers.Dropout(0.5)])
    x = np.ones((2, 5), "float32")
    out = model.predict_on_batch(x)
    assert out is not x and not np.shares_memory(out, x)


@pytest.mark.parametrize("predict", ["predict_on_batch", "predict", "call"])
def test_outputs_in_reused_memory_are_never_handed_out_twice(predict):
    # 300 x 512 float32 outputs are large enough to come from runtime.buffers
    model = Sequential(
        [layers.Input((5,)), layers.Dense(512, activation="relu"), layers.Dense(512)]
    )
    x = np.random.default_rng(0).standard_normal((300, 5)).astype("float32")

    def run(x):
        if predict == "call":
            with no_grad():
                return model(x).data
        if predict == "predict":
            return model.predict(x, batch_size=len(x), verbose=0)
        return model.predict_on_batch(x)

    first = run(x)
    kept = first.copy()
    second = run(-x)
    assert not np.shares_memory(first, second)
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_array_equal(second, _plain(model, -x))
    assert model._inference_plan().run(x) is not None


@pytest.mark.parametrize("batch", [1, 7, 1024])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_one_feature_layers_the_seed_s_give_the_plain_path_s_bits(batch, dtype):
    model = Sequential(
        [
            layers.Input((1,)),
            layers.Dense(1, dtype=dtype),
            layers.Activation("tanh", dtype=dtype),
            layers.Dense(1, dtype=dtype),
        ]
    )
    model.set_weights([np.array(v).reshape(w.shape) for v, w in
                       zip([-0.7, 0.0, 1.3, 0.2], model.get_weights())])  # fmt: skip
    x = np.random.default_rng(2).standard_normal((batch, 1)).astype(dtype)
    x[::3] = -0.0
    expected = _plain(model, x)
    got = model.predict_on_batch(x)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_a_call_outside_any_graph_runs_the_plan_to_the_plain_bits(activation):
    model = _chain(activation)
    x = np.random.default_rng(3).standard_normal((9, 5)).astype("float32")
    with no_grad(), config.overrides(fast_kernels=False):
        expected = model(x)
    runs = _spy_on_plan(model)
    with no_grad():
        for got in (model(x), model(x, training=False), model(x.astype("float64"))):
            assert type(got) is type(expected) and not got.requires_grad
            np.testing.assert_array_equal(got.data, expected.data)
    assert runs == [9, 9, 9]
    assert model(x).requires_grad  # a graph is recorded: the layers' calls
    assert runs == [9, 9, 9]


def test_a_call_that_trains_or_checks_goes_through_the_layers():
    model = Sequential([layers.Input((5,)), layers.Dense(64), layers.Dropout(0.5)])
    x = np.ones((50, 5), "float32")
    with no_grad():
        inference = model(x).data
        training = model(x, training=True).data
        assert not np.array_equal(training, inference)  # dropout ran
        np.testing.assert_array_equal(
            training[training != 0] / 2, inference[training != 0]
        )
        with pytest.raises(ValueError, match="incompatible with the layer"):
            model(np.ones((2, 4), "float32"))
        with pytest.raises(ValueError, match="NaN"):
            model(np.full((2, 5), np.nan, "float32"))
