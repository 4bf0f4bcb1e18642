"""Atomic compile: a compile that fails (a bad optimizer, loss, metric,
loss_weights or keyword) raises before it assigns anything, so the previous
compile is whole: the same optimizer with its state, loss, metrics and
``compiled``, and the next fit trains as if the failed call never happened.
Unknown metric names fail at compile, not at the first fit.
"""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import metrics, optimizers
from glassnet.layers import Dense, Input
from glassnet.models import Sequential

from .model_state import LABELS, MODELS, X, Y, case, expect_failure, regressor

OPTIMIZER = r"Unknown optimizer: 'adamm'\. Did you mean 'adam'.*Valid names are: "

CASES = [
    case('compile("adamm", "mse")', ValueError, OPTIMIZER + r".*optimizer='adamm'"),
    case('compile("SDG", "mse")', ValueError, r"Did you mean 'SGD'\?"),
    case(
        'compile(3, "mse")', TypeError, r"optimizer identifier.*Received: optimizer=3"
    ),
    case('compile(None, "mse")', ValueError, r"optimizer is required.*optimizer=None"),
    case(
        'compile({"class_name": "Adamm"}, "mse")',
        ValueError,
        r"Unknown optimizer: 'Adamm'\. Did you mean 'Adam'",
    ),
    case(
        'compile(optimizers.SGD(learning_rate=0.1), "mse2")',
        ValueError,
        r"Unknown loss: 'mse2'\. Did you mean 'mse'.*Received: loss='mse2'",
    ),
    case(
        'compile("sgd", "mean_squared_eror")',
        ValueError,
        r"Did you mean 'mean_squared_error'",
    ),
    case(
        'compile("sgd", "MeanSquaredEror")',
        ValueError,
        r"Did you mean 'MeanSquaredError'",
    ),
    case('compile("sgd", 3)', TypeError, r"loss identifier.*Received: loss=3"),
    case(
        'compile("sgd", {"class_name": "Nope"})',
        ValueError,
        r"Unknown loss: 'Nope'.*Valid names are: .*mse",
    ),
    case(
        'compile("sgd", "mse", metrics=["acuracy"])',
        ValueError,
        r"Unknown metric: 'acuracy'\. Did you mean 'accuracy'.*metric='acuracy'",
    ),
    case(
        'compile("sgd", "mse", metrics=["mae", "banana"])',
        ValueError,
        r"Unknown metric: 'banana'\. Valid names are: .*Received: metric='banana'",
    ),
    case(
        'compile("sgd", "mse", metrics="mean_absolute_eror")',
        ValueError,
        r"Did you mean 'mean_absolute_error'",
    ),
    case(
        'compile("sgd", "mse", metrics={"out": "mae"})',
        TypeError,
        r"metrics must be a list.*Received: metrics=\{'out': 'mae'\}",
    ),
    case(
        'compile("sgd", "mse", metrics=[None])',
        TypeError,
        r"not None\. Received: metrics=\[None\]",
    ),
    case(
        'compile("sgd", "mse", metrics=[3])',
        TypeError,
        r"metric identifier.*Received: metric=3",
    ),
    case(
        'compile("sgd", "mse", metrics=[{"class_name": "BinaryAcuracy"}])',
        ValueError,
        r"Unknown metric: 'BinaryAcuracy'\. Did you mean 'BinaryAccuracy'",
    ),
    case(
        'compile("sgd", "mse", loss_weights=[0.5, 1.0])',
        ValueError,
        r"loss_weights.*one output.*Received: loss_weights=\[0\.5, 1\.0\]",
    ),
    case(
        'compile("sgd", "mse", loss_weights="half")',
        TypeError,
        r"loss weight must be a number.*'half'",
    ),
    case(
        'compile("sgd", "mse", weighted_metrics=["mea"])',
        ValueError,
        r"Unknown metric: 'mea'",
    ),
    case(
        'compile("sgd", "mse", weighted_metrics=[None])',
        TypeError,
        r"weighted_metrics.*not None\. Received: weighted_metrics=\[None\]",
    ),
    case(
        'compile("sgd", "mse", metric=["mae"])',
        TypeError,
        r"compile\(\) got an unexpected keyword argument 'metric'\. Did you mean "
        r"'metrics'.*Received: metric=\['mae'\]",
    ),
    case(
        'compile("sgd", los="mse")',
        TypeError,
        r"unexpected keyword argument 'los'\. Did you mean 'loss'",
    ),
    case(
        'compile("sgd", "mse", steps_per_execution=0)',
        ValueError,
        r"compile\(\): `steps_per_execution` must be a positive integer.*=0",
    ),
    case(
        'compile({"class_name": "SGD", "config": {"learning_rate": -1}}, "mse")',
        ValueError,
        r"`learning_rate` must be a number >= 0.*learning_rate=-1",
    ),
    case(
        'compile("adam", "sparse_categorical_crossentropy", metrics=["acc", "f1"])',
        ValueError,
        r"Unknown metric: 'f1'",
        "classifier",
    ),
]


@pytest.mark.parametrize("call, model, error, pattern", CASES)
def test_a_failed_compile_changes_nothing(call, model, error, pattern):
    expect_failure(MODELS[model](), call, error, pattern, globals())


def test_after_a_failed_compile_training_goes_on_as_if_it_never_happened():
    args = dict(epochs=2, batch_size=8, shuffle=False, verbose=0)
    clean, tried = (Sequential([Input((4,)), Dense(3)]) for _ in range(2))
    tried.set_weights(clean.get_weights())
    for model in (clean, tried):  # the same weights and Adam moments in both
        model.compile("adam", "mse", metrics=["mae"])
        model.fit(X, Y, **args)
    for bad in (
        dict(optimizer="adamm"),
        dict(optimizer=None),
        dict(loss="mse2"),
        dict(metrics=["acuracy"]),
        dict(loss_weights=[1.0, 2.0]),
        dict(weighted_metrics=["acuracy"]),
        dict(optimizer="sgd", loss="mae", metric=["mse"]),
    ):
        with pytest.raises((ValueError, TypeError, NotImplementedError)):
            tried.compile(**{"optimizer": "sgd", "loss": "mae", **bad})
    assert clean.fit(X, Y, **args).history == tried.fit(X, Y, **args).history
    for a, b in zip(clean.get_weights(), tried.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_metric_names_are_checked_at_compile_not_at_fit():
    model = Sequential([Input((4,)), Dense(3)])
    with pytest.raises(ValueError, match="Unknown metric: 'mea'"):
        model.compile("sgd", "mse", metrics=["mea"])
    assert not model.compiled


def test_accuracy_still_picks_its_variant_at_the_first_fit():
    model = Sequential([Input((4,)), Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert not model._compile_metrics.built
    model.fit(X, LABELS, verbose=0)
    assert model._compile_metrics.slots[0].fn is metrics.sparse_categorical_accuracy
    model.compile("adam", "categorical_crossentropy", metrics=["acc"])
    model.fit(X, np.eye(3)[LABELS], verbose=0)
    assert model._compile_metrics.slots[0].fn is metrics.categorical_accuracy


def test_metric_objects_and_configs_are_resolved_at_compile():
    model = Sequential([Input((4,)), Dense(1, activation="sigmoid")])
    model.compile(
        "sgd",
        "binary_crossentropy",
        metrics=[{"class_name": "BinaryAccuracy", "config": {}}, metrics.mae],
    )
    history = model.fit(X, (LABELS > 0).astype("float32"), verbose=0)
    assert list(history.history) == ["loss", "binary_accuracy", "mean_absolute_error"]


def test_a_good_compile_replaces_the_previous_one_whole():
    model = regressor()
    old = model.optimizer
    model.compile(optimizers.SGD(0.01), "mae", metrics=["mse"])
    assert model.optimizer is not old and model.loss == "mae"
    history = model.fit(X, Y, verbose=0)
    assert list(history.history) == ["loss", "mse"]


def test_the_snapshot_sees_what_a_half_applied_call_would_change():
    def trains_then_fails(model):
        model.train_on_batch(X, Y)
        raise ValueError("too late")

    def replaces_the_optimizer_then_fails(model):
        model.optimizer = optimizers.SGD()
        raise ValueError("too late")

    for call in (trains_then_fails, replaces_the_optimizer_then_fails):
        with pytest.raises(AssertionError):
            expect_failure(regressor(), call, ValueError, "too late")
