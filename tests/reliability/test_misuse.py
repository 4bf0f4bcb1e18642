"""Misuse, table by table: layers, optimizers, callbacks, losses and metrics,
the scikit-learn estimators and autograd, used wrongly.

Each case gives the error type glassnet documents, a pattern its message must
match (naming the argument, and what came), and what must not change: after
the error the weights, counters and fitted attributes are as before. A
constructor that raises has made nothing, so its cases check no state.

A case's ``setup()`` returns ``(misuse, state)``: ``misuse()`` must raise,
``state()`` (or None) snapshots what must survive it.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from glassnet import Tensor, callbacks, layers, losses, metrics, ops, optimizers
from glassnet.autograd import Function
from glassnet.models import Sequential
from glassnet.sklearn import MLPClassifier, MLPRegressor


@dataclass
class Case:
    id: str
    setup: Callable[[], tuple[Callable[[], Any], Callable[[], Any] | None]]
    error: type[BaseException]
    match: str


def constructor(id: str, make: Callable[[], Any], error: type, match: str) -> Case:
    return Case(id, lambda: (make, None), error, match)


def same(a: Any, b: Any) -> bool:
    """Equal to the bit (NaN equal to NaN), through lists, tuples and dicts."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and np.array_equal(
            a, b, equal_nan=a.dtype.kind in "fc"
        )
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def run(case: Case) -> None:
    misuse, state = case.setup()
    before = None if state is None else state()
    with pytest.raises(case.error, match=case.match):
        misuse()
    if state is not None:
        assert same(state(), before), "the failed call changed the state"


def _id(case: Case) -> str:
    return case.id


# --- layers ----------------------------------------------------------------------
L = layers
LAYER_CONSTRUCTORS = [
    constructor("Dense units=0", lambda: L.Dense(0), ValueError, "units=0"),
    constructor("Dense units=2.5", lambda: L.Dense(2.5), ValueError, "units=2.5"),
    constructor("Dense units='4'", lambda: L.Dense("4"), ValueError, "units='4'"),
    constructor(
        "Dense activation",
        lambda: L.Dense(2, activation="rleu"),
        ValueError,
        "Unknown activation: 'rleu'",
    ),
    constructor(
        "Dense kernel_initializer",
        lambda: L.Dense(2, kernel_initializer="glorot"),
        ValueError,
        "Unknown initializer: 'glorot'",
    ),
    constructor(
        "Dense dtype", lambda: L.Dense(1, dtype="int32"), ValueError, "dtype='int32'"
    ),
    constructor("Dense name", lambda: L.Dense(1, name=3), TypeError, "name=3"),
    constructor(
        "Dense input_dim", lambda: L.Dense(1, input_dim=0), ValueError, "input_dim=0"
    ),
    constructor(
        "Dense unknown keyword", lambda: L.Dense(1, unitz=2), TypeError, "unitz"
    ),
    constructor("Conv2D filters=0", lambda: L.Conv2D(0, 3), ValueError, "filters=0"),
    constructor(
        "Conv2D filters=2.0", lambda: L.Conv2D(2.0, 3), ValueError, "filters=2.0"
    ),
    constructor(
        "Conv2D kernel_size=0", lambda: L.Conv2D(2, 0), ValueError, "kernel_size=0"
    ),
    constructor(
        "Conv2D kernel_size of 3 axes",
        lambda: L.Conv2D(2, (3, 3, 3)),
        ValueError,
        r"kernel_size=\(3, 3, 3\)",
    ),
    constructor(
        "Conv2D strides=0", lambda: L.Conv2D(2, 3, strides=0), ValueError, "strides=0"
    ),
    constructor(
        "Conv2D padding",
        lambda: L.Conv2D(2, 3, padding="full"),
        ValueError,
        "padding='full'",
    ),
    constructor(
        "Conv2D dilation_rate=0",
        lambda: L.Conv2D(2, 3, dilation_rate=0),
        ValueError,
        "dilation_rate=0",
    ),
    constructor(
        "Conv2D strides with dilation",
        lambda: L.Conv2D(2, 3, strides=2, dilation_rate=2),
        ValueError,
        r"strides=\(2, 2\) and dilation_rate=\(2, 2\)",
    ),
    constructor(
        "Conv2D data_format",
        lambda: L.Conv2D(2, 3, data_format="channels_first"),
        ValueError,
        "data_format='channels_first'",
    ),
    constructor(
        "Conv1D kernel_size of 2 axes",
        lambda: L.Conv1D(2, (3, 3)),
        ValueError,
        r"kernel_size=\(3, 3\)",
    ),
    constructor(
        "Conv1D padding",
        lambda: L.Conv1D(2, 3, padding="full"),
        ValueError,
        r"'causal'.*padding='full'",
    ),
    constructor(
        "MaxPooling2D pool_size=0",
        lambda: L.MaxPooling2D(0),
        ValueError,
        "pool_size=0",
    ),
    constructor(
        "MaxPooling2D strides=0",
        lambda: L.MaxPooling2D(2, strides=0),
        ValueError,
        "strides=0",
    ),
    constructor(
        "MaxPooling2D padding",
        lambda: L.MaxPooling2D(2, padding="full"),
        ValueError,
        "padding='full'",
    ),
    constructor(
        "AveragePooling2D pool_size of 3 axes",
        lambda: L.AveragePooling2D((2, 2, 2)),
        ValueError,
        r"pool_size=\(2, 2, 2\)",
    ),
    constructor(
        "GlobalMaxPooling2D data_format",
        lambda: L.GlobalMaxPooling2D(data_format="channels_first"),
        ValueError,
        "data_format='channels_first'",
    ),
    constructor("Dropout rate=1.5", lambda: L.Dropout(1.5), ValueError, "rate=1.5"),
    constructor("Dropout rate=-0.1", lambda: L.Dropout(-0.1), ValueError, "rate=-0.1"),
    constructor(
        "Dropout rate='0.5'", lambda: L.Dropout("0.5"), ValueError, "rate='0.5'"
    ),
    constructor(
        "Dropout noise_shape",
        lambda: L.Dropout(0.5, noise_shape=3),
        ValueError,
        "noise_shape=3",
    ),
    constructor(
        "BatchNormalization momentum",
        lambda: L.BatchNormalization(momentum=1.5),
        ValueError,
        "momentum=1.5",
    ),
    constructor(
        "BatchNormalization momentum type",
        lambda: L.BatchNormalization(momentum="high"),
        ValueError,
        "momentum='high'",
    ),
    constructor(
        "BatchNormalization epsilon",
        lambda: L.BatchNormalization(epsilon=0),
        ValueError,
        "epsilon=0",
    ),
    constructor(
        "BatchNormalization axis='x'",
        lambda: L.BatchNormalization(axis="x"),
        TypeError,
        "axis='x'",
    ),
    constructor(
        "BatchNormalization axis=1.5",
        lambda: L.BatchNormalization(axis=1.5),
        TypeError,
        "axis=1.5",
    ),
    constructor(
        "Reshape target_shape=(0,)",
        lambda: L.Reshape((0,)),
        ValueError,
        r"target_shape=\(0,\)",
    ),
    constructor(
        "Reshape two -1",
        lambda: L.Reshape((-1, -1)),
        ValueError,
        r"target_shape=\(-1, -1\)",
    ),
    constructor(
        "Reshape target_shape='abc'",
        lambda: L.Reshape("abc"),
        ValueError,
        "target_shape='abc'",
    ),
    constructor(
        "Reshape target_shape=(2.5,)",
        lambda: L.Reshape((2.5,)),
        ValueError,
        r"target_shape=\(2.5,\)",
    ),
    constructor(
        "ZeroPadding2D padding=-1",
        lambda: L.ZeroPadding2D(-1),
        ValueError,
        "padding=-1",
    ),
    constructor("UpSampling2D size=0", lambda: L.UpSampling2D(0), ValueError, "size=0"),
    constructor(
        "UpSampling2D interpolation",
        lambda: L.UpSampling2D(interpolation="bilinear"),
        ValueError,
        "interpolation='bilinear'",
    ),
    constructor(
        "Activation name",
        lambda: L.Activation("sigmod"),
        ValueError,
        "Unknown activation: 'sigmod'",
    ),
    constructor("Input without shape", lambda: L.Input(), ValueError, "shape=None"),
    constructor(
        "Input negative shape",
        lambda: L.Input((-1,)),
        ValueError,
        r"shape=\(-1,\)",
    ),
]


def _built(layer, shape):
    layer.build(shape)
    return layer


def _weights(obj):
    return lambda: [w.data.copy() for w in obj.weights] + [obj.built]


def _call(layer, shape, built_for=None):
    def setup():
        if built_for is not None:
            _built(layer, built_for)
        return (lambda: layer(np.ones(shape, "float32"))), _weights(layer)

    return setup


def _set_weights(make, values):
    def setup():
        target = make()
        return (lambda: target.set_weights(values())), _weights(target)

    return setup


def _build_again(make, shape):
    def setup():
        layer = _built(make(), shape)
        return (lambda: layer.build(shape)), _weights(layer)

    return setup


def _model():
    return Sequential([L.Input((3,)), L.Dense(2, activation="relu"), L.Dense(1)])


LAYER_USE = [
    Case(
        "Dense called on rank 1",
        _call(L.Dense(2), (3,), built_for=(None, 3)),
        ValueError,
        r"min_ndim=2.*found shape=\(3,\)",
    ),
    Case(
        "Dense called on other features",
        _call(L.Dense(2), (4, 5), built_for=(None, 3)),
        ValueError,
        r"axis -1 of size 3.*found shape=\(4, 5\)",
    ),
    Case(
        "Conv2D called on rank 3",
        _call(L.Conv2D(2, 3), (2, 6, 6), built_for=(None, 6, 6, 1)),
        ValueError,
        r"expected ndim=4, found ndim=3",
    ),
    Case(
        "Conv2D first call on rank 3",
        _call(L.Conv2D(2, 3), (2, 6, 6)),
        ValueError,
        r"rank 4.*input_shape=\(2, 6, 6\)",
    ),
    Case(
        "Conv2D kernel larger than the image",
        _call(L.Conv2D(2, 5), (1, 3, 3, 1)),
        ValueError,
        "zero or negative",
    ),
    Case(
        "Conv1D called on rank 4",
        _call(L.Conv1D(2, 3), (2, 6, 6, 1), built_for=(None, 6, 1)),
        ValueError,
        "expected ndim=3, found ndim=4",
    ),
    Case(
        "MaxPooling2D called on rank 3",
        _call(L.MaxPooling2D(), (2, 4, 4), built_for=(None, 4, 4, 1)),
        ValueError,
        "expected ndim=4, found ndim=3",
    ),
    Case(
        "BatchNormalization called on other features",
        _call(L.BatchNormalization(), (2, 5), built_for=(None, 3)),
        ValueError,
        r"expected shape=\(None, 3\), found shape=\(2, 5\)",
    ),
    Case(
        "Dense built without features",
        lambda: (lambda layer: (lambda: layer.build((None, None)), _weights(layer)))(
            L.Dense(2)
        ),
        ValueError,
        r"last axis.*input_shape=\(None, None\)",
    ),
    Case(
        "layer set_weights count",
        _set_weights(lambda: _built(L.Dense(2), (None, 3)), lambda: [np.zeros((3, 2))]),
        ValueError,
        "has 2 weights, but the weight list has 1",
    ),
    Case(
        "layer set_weights shape",
        _set_weights(
            lambda: _built(L.Dense(2), (None, 3)),
            lambda: [np.full((3, 2), 7.0), np.zeros(3)],
        ),
        ValueError,
        r"'dense.*/bias' has shape \(2,\); the value has shape \(3,\)",
    ),
    Case(
        "model set_weights count",
        _set_weights(_model, lambda: [np.zeros((3, 2))] * 3),
        ValueError,
        "has 4 weights, but the weight list has 3",
    ),
    Case(
        "model set_weights shape",
        _set_weights(
            _model,
            lambda: [np.full((3, 2), 7.0), np.zeros(2), np.zeros((2, 1)), np.zeros(2)],
        ),
        ValueError,
        r"shape \(1,\); the value has shape \(2,\)",
    ),
    Case(
        "Dense built twice",
        _build_again(lambda: L.Dense(2), (None, 3)),
        ValueError,
        r"already built.*input_shape=\(None, 3\)",
    ),
    Case(
        "Conv2D built twice",
        _build_again(lambda: L.Conv2D(2, 3), (None, 5, 5, 1)),
        ValueError,
        "already built",
    ),
    Case(
        "BatchNormalization built twice",
        _build_again(lambda: L.BatchNormalization(), (None, 4)),
        ValueError,
        "already built",
    ),
    Case(
        "count_params before build",
        lambda: (lambda layer: (layer.count_params, _weights(layer)))(L.Dense(2)),
        ValueError,
        r"count_params\(\).*isn't built",
    ),
    Case(
        "model called on another input shape",
        lambda: (lambda m: (lambda: m(np.ones((2, 4))), _weights(m)))(_model()),
        ValueError,
        r"expected shape=\(None, 3\), found shape=\(2, 4\)",
    ),
    Case(
        "Sequential.add of a non-layer",
        lambda: (lambda m: (lambda: m.add("dense"), _weights(m)))(_model()),
        TypeError,
        "Received: 'dense'",
    ),
]


@pytest.mark.parametrize("case", LAYER_CONSTRUCTORS + LAYER_USE, ids=_id)
def test_layers(case):
    run(case)


# --- optimizers --------------------------------------------------------------------
O = optimizers


def _apply(grads, variables):
    def setup():
        opt = O.Adam(0.1)
        weights = [np.ones((2, 2)), np.ones(3)]
        opt.apply([np.ones((2, 2)), np.ones(3)], weights)  # state exists

        def state():
            return [opt.iterations, [w.copy() for w in weights], opt.variables]

        return (lambda: opt.apply(grads, [weights[i] for i in variables])), state

    return setup


OPTIMIZERS = [
    constructor(
        "SGD learning_rate<0", lambda: O.SGD(-1), ValueError, "learning_rate=-1"
    ),
    constructor(
        "SGD learning_rate str",
        lambda: O.SGD("fast"),
        ValueError,
        "learning_rate='fast'",
    ),
    constructor(
        "SGD momentum>1", lambda: O.SGD(momentum=1.5), ValueError, "momentum=1.5"
    ),
    constructor("Adam beta_1>1", lambda: O.Adam(beta_1=1.5), ValueError, "beta_1=1.5"),
    constructor(
        "Adam beta_2<0", lambda: O.Adam(beta_2=-0.1), ValueError, "beta_2=-0.1"
    ),
    constructor("Adam epsilon<0", lambda: O.Adam(epsilon=-1), ValueError, "epsilon=-1"),
    constructor(
        "Adam clipnorm and global_clipnorm",
        lambda: O.Adam(clipnorm=1.0, global_clipnorm=1.0),
        ValueError,
        "clipnorm=1.0, global_clipnorm=1.0",
    ),
    constructor(
        "SGD lr and learning_rate",
        lambda: O.SGD(learning_rate=0.5, lr=0.1),
        ValueError,
        "lr=0.1, learning_rate=0.5",
    ),
    constructor(
        "Adam lr and learning_rate",
        lambda: O.Adam(learning_rate=0.5, lr=0.1),
        ValueError,
        "lr=0.1, learning_rate=0.5",
    ),
    constructor("RMSprop rho>1", lambda: O.RMSprop(rho=2), ValueError, "rho=2"),
    constructor(
        "Adagrad initial_accumulator_value<0",
        lambda: O.Adagrad(initial_accumulator_value=-1),
        ValueError,
        "initial_accumulator_value=-1",
    ),
    constructor(
        "SGD weight_decay<0",
        lambda: O.SGD(weight_decay=-1.0),
        ValueError,
        "weight_decay=-1.0",
    ),
    constructor(
        "SGD clipvalue<0",
        lambda: O.SGD(clipvalue=-1.0),
        ValueError,
        "clipvalue=-1.0",
    ),
    constructor(
        "SGD misspelt keyword", lambda: O.SGD(momentun=0.9), TypeError, "momentun"
    ),
    constructor(
        "Adam step_dtype",
        lambda: O.Adam(step_dtype="float32"),
        ValueError,
        "step_dtype='float32'",
    ),
    Case(
        "apply with fewer gradients",
        _apply([np.ones((2, 2))], [0, 1]),
        ValueError,
        "1 gradients for 2 variables",
    ),
    Case(
        "apply with a gradient of another shape",
        _apply([np.ones((2, 2)), np.ones(4)], [0, 1]),
        ValueError,
        r"Gradient of shape \(4,\).*shape \(3,\)",
    ),
]


@pytest.mark.parametrize("case", OPTIMIZERS, ids=_id)
def test_optimizers(case):
    run(case)


# --- callbacks -----------------------------------------------------------------------
C = callbacks
CALLBACKS = [
    constructor(
        "EarlyStopping mode",
        lambda: C.EarlyStopping(mode="lowest"),
        ValueError,
        "mode='lowest'",
    ),
    constructor(
        "EarlyStopping patience<0",
        lambda: C.EarlyStopping(patience=-1),
        ValueError,
        "patience=-1",
    ),
    constructor(
        "EarlyStopping patience str",
        lambda: C.EarlyStopping(patience="3"),
        ValueError,
        "patience='3'",
    ),
    constructor(
        "EarlyStopping start_from_epoch<0",
        lambda: C.EarlyStopping(start_from_epoch=-2),
        ValueError,
        "start_from_epoch=-2",
    ),
    constructor(
        "EarlyStopping min_delta str",
        lambda: C.EarlyStopping(min_delta="0.1"),
        ValueError,
        "min_delta='0.1'",
    ),
    constructor(
        "ReduceLROnPlateau factor>=1",
        lambda: C.ReduceLROnPlateau(factor=1.5),
        ValueError,
        "factor=1.5",
    ),
    constructor(
        "ReduceLROnPlateau factor<0",
        lambda: C.ReduceLROnPlateau(factor=-0.5),
        ValueError,
        "factor=-0.5",
    ),
    constructor(
        "ReduceLROnPlateau patience<0",
        lambda: C.ReduceLROnPlateau(patience=-1),
        ValueError,
        "patience=-1",
    ),
    constructor(
        "ReduceLROnPlateau cooldown float",
        lambda: C.ReduceLROnPlateau(cooldown=1.5),
        ValueError,
        "cooldown=1.5",
    ),
    constructor(
        "ReduceLROnPlateau min_lr<0",
        lambda: C.ReduceLROnPlateau(min_lr=-1),
        ValueError,
        "min_lr=-1",
    ),
    constructor(
        "ReduceLROnPlateau mode",
        lambda: C.ReduceLROnPlateau(mode="up"),
        ValueError,
        "mode='up'",
    ),
    constructor(
        "LearningRateScheduler schedule",
        lambda: C.LearningRateScheduler(0.1),
        TypeError,
        "schedule=0.1",
    ),
    constructor(
        "LambdaCallback hook name",
        lambda: C.LambdaCallback(on_epoch_ends=print),
        ValueError,
        "Unknown callback hook 'on_epoch_ends'",
    ),
    constructor(
        "CSVLogger filename", lambda: C.CSVLogger(None), TypeError, "filename=None"
    ),
]


@pytest.mark.parametrize("case", CALLBACKS, ids=_id)
def test_callbacks(case):
    run(case)


# --- losses and metrics ------------------------------------------------------------
def _ones(*shape):
    return np.full(shape, 0.5, dtype="float32")


def _metric(make, y_true, y_pred, seed_labels=False, **kwargs):
    def setup():
        metric = make()
        seed = np.zeros(4) if seed_labels else _ones(4, 3)
        metric.update_state(seed, _ones(4, 3))  # some state to keep
        return (
            lambda: metric.update_state(y_true, y_pred, **kwargs),
            lambda: {k: v for k, v in vars(metric).items() if k != "fn"},
        )

    return setup


SHAPES = r"incompatible shapes.*y_true.shape=\(4, 3\), y_pred.shape=\(4, 2\)"
LOSSES_AND_METRICS = [
    constructor(
        "mean_squared_error shapes",
        lambda: losses.mean_squared_error(_ones(4, 3), _ones(4, 2)),
        ValueError,
        SHAPES,
    ),
    constructor(
        "MeanSquaredError shapes",
        lambda: losses.MeanSquaredError()(_ones(4, 3), _ones(4, 2)),
        ValueError,
        SHAPES,
    ),
    constructor(
        "mean_squared_error samples",
        lambda: losses.mean_squared_error(_ones(4, 2), _ones(3, 2)),
        ValueError,
        r"y_true.shape=\(4, 2\), y_pred.shape=\(3, 2\)",
    ),
    constructor(
        "binary_crossentropy shapes",
        lambda: losses.binary_crossentropy(_ones(4, 3), _ones(4, 2)),
        ValueError,
        SHAPES,
    ),
    constructor(
        "categorical_crossentropy shapes",
        lambda: losses.categorical_crossentropy(_ones(4, 3), _ones(4, 2)),
        ValueError,
        r"y_true.s.*\(4, 3\)",
    ),
    constructor(
        "sparse_categorical_crossentropy labels",
        lambda: losses.sparse_categorical_crossentropy(np.array([0, 5]), _ones(2, 3)),
        ValueError,
        r"\[0, 3\).*labels from 0 to 5",
    ),
    constructor(
        "mean_absolute_error metric shapes",
        lambda: metrics.mean_absolute_error(_ones(4, 3), _ones(4, 2)),
        ValueError,
        SHAPES,
    ),
    Case(
        "MeanAbsoluteError update shapes",
        _metric(metrics.MeanAbsoluteError, _ones(4, 3), _ones(4, 2)),
        ValueError,
        SHAPES,
    ),
    Case(
        "MeanAbsoluteError update samples",
        _metric(metrics.MeanAbsoluteError, _ones(4, 3), _ones(3, 3)),
        ValueError,
        r"y_true.shape=\(4, 3\), y_pred.shape=\(3, 3\)",
    ),
    Case(
        "CategoricalAccuracy update shapes",
        _metric(metrics.CategoricalAccuracy, _ones(4, 3), _ones(4, 2)),
        ValueError,
        r"one-hot of shape \(4, 2\) or labels of shape \(4,\).*\(4, 3\)",
    ),
    Case(
        "SparseCategoricalAccuracy labels shape",
        _metric(
            metrics.SparseCategoricalAccuracy,
            np.zeros((4, 2)),
            _ones(4, 3),
            seed_labels=True,
        ),
        ValueError,
        r"y_true.shape=\(4, 2\), y_pred.shape=\(4, 3\)",
    ),
    Case(
        "MeanSquaredError sample_weight length",
        _metric(
            metrics.MeanSquaredError, _ones(4, 3), _ones(4, 3), sample_weight=[1, 2]
        ),
        ValueError,
        r"sample_weight of shape \(2,\) for values of shape \(4,\)",
    ),
]


@pytest.mark.parametrize("case", LOSSES_AND_METRICS, ids=_id)
def test_losses_and_metrics(case):
    run(case)


# --- the scikit-learn estimators ------------------------------------------------------
rng = np.random.default_rng(0)
X = rng.standard_normal((40, 3))
Y = X @ np.array([1.0, 2.0, 3.0])
LABELS = (X[:, 0] > 0).astype(int)
SMALL = {"hidden_layer_sizes": (5,), "random_state": 0, "max_iter": 20}
DIVERGED = "Solver produced non-finite parameter weights"


def _fitted(est):
    return {
        k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")
    } | {"weights": [a.copy() for a in est.coefs_ + est.intercepts_]}


def _estimator_state(est):
    def state():
        fitted = copy.deepcopy(_fitted(est)) if hasattr(est, "coefs_") else {}
        return [sorted(vars(est)), fitted, est.get_params()]

    return state


def _estimator(make, misuse, **params):
    """``make()`` an estimator (fitted or not), give it ``params``, then the
    misuse."""

    def setup():
        est = make().set_params(**params)
        return (lambda: misuse(est)), _estimator_state(est)

    return setup


def _regressor(**kwargs):
    return lambda: MLPRegressor(**{**SMALL, "solver": "sgd", **kwargs}).fit(X, Y)


def _classifier(**kwargs):
    return lambda: MLPClassifier(**{**SMALL, "solver": "sgd", **kwargs}).fit(X, LABELS)


def _diverge(est, method="fit", scale=1.0):
    getattr(est, method)(X * scale, Y * 1e3 * scale)


ESTIMATORS = [
    Case(
        "unfitted regressor diverges",
        _estimator(
            lambda: MLPRegressor(**SMALL, solver="sgd"),
            _diverge,
            learning_rate_init=10.0,
        ),
        ValueError,
        DIVERGED,
    ),
    Case(
        "fitted regressor diverges on refit",
        _estimator(_regressor(), _diverge, learning_rate_init=10.0),
        ValueError,
        DIVERGED,
    ),
    Case(
        "warm-start regressor diverges",
        _estimator(_regressor(warm_start=True), _diverge, learning_rate_init=10.0),
        ValueError,
        DIVERGED,
    ),
    Case(
        "regressor partial_fit diverges",
        _estimator(
            _regressor(batch_size=4),
            lambda est: _diverge(est, "partial_fit", scale=1e100),
            learning_rate_init=10.0,
        ),
        ValueError,
        DIVERGED,
    ),
    Case(
        "classifier diverges on refit",
        _estimator(
            _classifier(),
            lambda est: est.fit(X * 1e150, LABELS),
            learning_rate_init=1.0,
        ),
        ValueError,
        DIVERGED,
    ),
    Case(
        "classifier first partial_fit diverges",
        _estimator(
            lambda: MLPClassifier(**SMALL, solver="sgd", batch_size=1),
            lambda est: est.partial_fit(X * 1e300, LABELS, classes=[0, 1]),
            learning_rate_init=100.0,
        ),
        ValueError,
        DIVERGED,
    ),
    Case(
        "predict before fit",
        _estimator(lambda: MLPRegressor(**SMALL), lambda est: est.predict(X)),
        NotFittedError,
        "not fitted yet",
    ),
    Case(
        "predict_proba before fit",
        _estimator(lambda: MLPClassifier(**SMALL), lambda est: est.predict_proba(X)),
        NotFittedError,
        "not fitted yet",
    ),
    Case(
        "predict with other features",
        _estimator(_regressor(), lambda est: est.predict(np.ones((2, 4)))),
        ValueError,
        "X has 4 features, but MLPRegressor is expecting 3 features",
    ),
    Case(
        "first classifier partial_fit without classes",
        _estimator(
            lambda: MLPClassifier(**SMALL), lambda est: est.partial_fit(X, LABELS)
        ),
        ValueError,
        "classes must be passed on the first call to partial_fit",
    ),
    Case(
        "classifier partial_fit with a new class",
        _estimator(_classifier(), lambda est: est.partial_fit(X, LABELS + 1)),
        ValueError,
        r"`y` has classes not in `self.classes_`",
    ),
    Case(
        "warm-start classifier with other classes",
        _estimator(_classifier(warm_start=True), lambda est: est.fit(X, LABELS + 1)),
        ValueError,
        "warm_start can only be used where `y` has the same classes",
    ),
]


@pytest.mark.parametrize("case", ESTIMATORS, ids=_id)
def test_estimators(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # the overflow itself
        run(case)


def test_an_estimator_refits_normally_after_a_failed_fit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        est = MLPRegressor(**SMALL, solver="sgd", learning_rate_init=10.0)
        with pytest.raises(ValueError, match=DIVERGED):
            est.fit(X, Y * 1e3)
        est.set_params(learning_rate_init=0.001).fit(X, Y)
        fresh = MLPRegressor(**SMALL, solver="sgd").fit(X, Y)
    assert same(_fitted(est), _fitted(fresh))


# --- autograd ------------------------------------------------------------------------
def _graph():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True, name="x")
    w = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True, name="w")
    return x, w, ops.mul(x, w)


def _grads(*tensors):
    return lambda: [t.grad for t in tensors]  # no gradient half accumulated


def _backward(misuse):
    def setup():
        x, w, y = _graph()
        return (lambda: misuse(x, w, y)), _grads(x, w)

    return setup


def _add_one(t):
    t.data += 1.0  # through the property: the tensor knows it changed


class _TwoGradients(Function):
    """A broken op: backward gives two gradients for one input."""

    def forward(self, x):
        return x * 2.0

    def backward(self, grad_output):
        return grad_output, grad_output


AUTOGRAD = [
    Case(
        "backward on a non-scalar without a gradient",
        _backward(lambda x, w, y: y.backward()),
        RuntimeError,
        r"scalar tensor; this one has shape \(3,\)",
    ),
    Case(
        "backward with a gradient of another shape",
        _backward(lambda x, w, y: y.backward(np.ones(2))),
        ValueError,
        r"gradient has shape \(2,\), but the tensor has shape \(3,\)",
    ),
    Case(
        "backward after an in-place change of an input",
        _backward(lambda x, w, y: (w.assign_add(1.0), ops.sum(y).backward())),
        RuntimeError,
        r"'w' was modified in place.*after Mul",
    ),
    Case(
        "backward after += on .data",
        _backward(lambda x, w, y: (_add_one(x), ops.sum(y).backward())),
        RuntimeError,
        "'x' was modified in place",
    ),
    Case(
        "backward of a tensor without a graph",
        _backward(lambda x, w, y: Tensor(np.ones(1)).backward()),
        RuntimeError,
        "needs a tensor that requires grad",
    ),
    Case(
        "backward of a broken Function",
        _backward(lambda x, w, y: ops.sum(_TwoGradients.apply(x)).backward()),
        RuntimeError,
        "_TwoGradients.backward returned 2 gradients for 1 inputs",
    ),
    constructor(
        "requires_grad on integers",
        lambda: Tensor(np.arange(3), requires_grad=True),
        TypeError,
        "dtype=int64",
    ),
    constructor(
        "requires_grad on booleans",
        lambda: Tensor(np.array([True]), requires_grad=True),
        TypeError,
        "dtype=bool",
    ),
]


@pytest.mark.parametrize("case", AUTOGRAD, ids=_id)
def test_autograd(case):
    run(case)


TABLES = {
    "layers": LAYER_CONSTRUCTORS + LAYER_USE,
    "optimizers": OPTIMIZERS,
    "callbacks": CALLBACKS,
    "losses and metrics": LOSSES_AND_METRICS,
    "estimators": ESTIMATORS,
    "autograd": AUTOGRAD,
}


def test_the_suite_covers_every_entry_point_of_this_share():
    counts = {name: len(table) for name, table in TABLES.items()}
    assert all(count >= 8 for count in counts.values()), counts
    assert sum(counts.values()) >= 55
    ids = [case.id for table in TABLES.values() for case in table]
    assert len(set(ids)) == len(ids)
