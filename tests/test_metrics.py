from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet import Tensor, losses, metrics

# Keras 3's torch backend trips a NumPy 2 deprecation inside its own code.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation:DeprecationWarning"
)

RNG = np.random.default_rng(0)
LABELS = RNG.integers(0, 4, 12)
PROBS = RNG.dirichlet(np.ones(4), 12).astype(np.float32)
ONE_HOT = np.eye(4, dtype=np.float32)[LABELS]
BINARY = (RNG.random((12, 1)) > 0.5).astype(np.float32)
SCORES = RNG.random((12, 1)).astype(np.float32)
REAL_T, REAL_P = RNG.standard_normal((2, 12, 3)).astype(np.float32)

TABLE = [
    ("binary_accuracy", BINARY, SCORES, {}),
    ("binary_accuracy", BINARY, SCORES, {"threshold": 0.3}),
    ("categorical_accuracy", ONE_HOT, PROBS, {}),
    ("sparse_categorical_accuracy", LABELS, PROBS, {}),
    ("sparse_categorical_accuracy", LABELS[:, None], PROBS, {}),
    ("top_k_categorical_accuracy", ONE_HOT, PROBS, {"k": 2}),
    ("mean_squared_error", REAL_T, REAL_P, {}),
    ("mean_absolute_error", REAL_T, REAL_P, {}),
]


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


def test_hand_worked_values():
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    p = np.array([[0.9], [0.6], [0.4], [0.1]])
    np.testing.assert_array_equal(metrics.binary_accuracy(y, p), [1, 0, 0, 1])
    np.testing.assert_array_equal(metrics.binary_accuracy(y, p, 0.3), [1, 0, 1, 1])
    labels, scores = np.array([2, 0]), np.array([[0.1, 0.2, 0.7], [0.3, 0.6, 0.1]])
    np.testing.assert_array_equal(
        metrics.sparse_categorical_accuracy(labels, scores), [1, 0]
    )
    np.testing.assert_array_equal(
        metrics.categorical_accuracy(np.eye(3)[labels], scores), [1, 0]
    )
    np.testing.assert_array_equal(
        metrics.top_k_categorical_accuracy(np.eye(3)[labels], scores, k=2), [1, 1]
    )
    np.testing.assert_allclose(metrics.mse(np.array([1.0, 2.0]), np.zeros(2)), 2.5)
    # Tensors are accepted and the result is a plain array
    out = metrics.mae(Tensor(np.array([[1.0, -3.0]])), Tensor(np.zeros((1, 2))))
    assert isinstance(out, np.ndarray) and out.tolist() == [2.0]


@pytest.mark.parametrize("name, y_true, y_pred, kwargs", TABLE)
def test_functions_equal_keras(name, y_true, y_pred, kwargs):
    keras = _keras()
    got = getattr(metrics, name)(y_true, y_pred, **kwargs)
    want = getattr(keras.metrics, name)(y_true, y_pred, **kwargs)
    want = keras.ops.convert_to_numpy(want)
    if want.ndim == got.ndim + 1:  # Keras 3 keeps binary_accuracy elementwise
        want = want.mean(axis=-1)
    assert isinstance(got, np.ndarray) and got.shape == (len(y_true),)
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize(
    "cls, y_true, y_pred",
    [
        ("BinaryAccuracy", BINARY, SCORES),
        ("CategoricalAccuracy", ONE_HOT, PROBS),
        ("SparseCategoricalAccuracy", LABELS, PROBS),
        ("MeanSquaredError", REAL_T, REAL_P),
        ("MeanAbsoluteError", REAL_T, REAL_P),
        ("RootMeanSquaredError", REAL_T, REAL_P),
    ],
)
def test_stateful_metrics_over_batches_equal_keras(cls, y_true, y_pred):
    keras = _keras()
    ours, theirs = getattr(metrics, cls)(), getattr(keras.metrics, cls)()
    weight = np.linspace(0.0, 2.0, len(y_true)).astype(np.float32)
    for batch in (slice(0, 5), slice(5, 12)):
        ours.update_state(y_true[batch], y_pred[batch], sample_weight=weight[batch])
        theirs.update_state(y_true[batch], y_pred[batch], sample_weight=weight[batch])
    want = float(keras.ops.convert_to_numpy(theirs.result()))
    assert ours.result() == pytest.approx(want, rel=1e-5)
    ours.reset_state()
    assert ours.result() == 0.0


def test_mean_and_sum():
    m = metrics.Mean()
    m.update_state([1.0, 2.0, 3.0])
    m.update_state(np.array([10.0]), sample_weight=[3.0])
    assert m.result() == pytest.approx((6 + 30) / 6)
    s = metrics.Sum()
    assert s([1.0, 2.0]) == 3.0 and s([4.0]) == 7.0
    assert metrics.Mean().result() == 0.0


@pytest.mark.parametrize("cls", ["Mean", "Sum"])
@pytest.mark.parametrize(
    "values_shape, weight_shape",
    [
        ((4, 4), (4,)),
        ((2, 3), (2,)),
        ((2, 3), (2, 1)),
        ((3, 4), (3, 4)),
        ((2, 3, 2), (2,)),
    ],
)
def test_weights_line_up_with_the_first_axes_as_in_keras(
    keras, cls, values_shape, weight_shape
):
    # one weight per sample weighs all of that sample's steps (a square batch
    # once took the weights per step instead)
    rng = np.random.default_rng(0)
    values = rng.normal(size=values_shape)
    weight = rng.uniform(0.0, 2.0, size=weight_shape)
    ours, theirs = getattr(metrics, cls)(), getattr(keras.metrics, cls)()
    ours.update_state(values, sample_weight=weight)
    theirs.update_state(values, sample_weight=weight)
    want = float(keras.ops.convert_to_numpy(theirs.result()))
    assert ours.result() == pytest.approx(want, rel=1e-6)


def test_per_sample_weights_of_a_sequence_metric_equal_keras(keras):
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 3))
    weight = np.array([1.0, 0.25])
    for cls in ("MeanAbsoluteError", "MeanSquaredError"):
        ours, theirs = getattr(metrics, cls)(), getattr(keras.metrics, cls)()
        ours.update_state(y_true, y_pred, sample_weight=weight)
        theirs.update_state(y_true, y_pred, sample_weight=weight)
        want = float(keras.ops.convert_to_numpy(theirs.result()))
        assert ours.result() == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("cls", ["Mean", "Sum"])
@pytest.mark.parametrize("weights", [None, "per sample", "per step", "scalar"])
def test_batches_of_other_lengths_count_per_sample_as_in_keras(keras, cls, weights):
    # a batch of 2 sequences of 6 steps counts 2 samples, as one of 3 steps
    rng = np.random.default_rng(2)
    ours, theirs = getattr(metrics, cls)(), getattr(keras.metrics, cls)()
    for steps in (3, 6):
        values = rng.normal(size=(2, steps))
        weight = {
            None: None,
            "per sample": rng.uniform(0.5, 2.0, 2),
            "per step": rng.uniform(0.0, 2.0, (2, steps)),
            "scalar": np.float64(steps),
        }[weights]
        ours.update_state(values, sample_weight=weight)
        theirs.update_state(values, sample_weight=weight)
    want = float(keras.ops.convert_to_numpy(theirs.result()))
    assert ours.result() == pytest.approx(want, rel=1e-6)


def test_weights_that_do_not_line_up_are_refused():
    with pytest.raises(ValueError, match=r"shape \(3,\) for values of shape \(2, 3\)"):
        metrics.Mean().update_state(np.ones((2, 3)), sample_weight=np.ones(3))


@pytest.mark.parametrize(
    "loss, y_shape, out_shape, expected",
    [
        ("binary_crossentropy", (8, 1), (8, 1), "binary_accuracy"),
        ("binary_crossentropy", (8, 3), (8, 3), "binary_accuracy"),
        (losses.BinaryCrossentropy(), (8, 1), (8, 1), "binary_accuracy"),
        ("categorical_crossentropy", (8, 3), (8, 3), "categorical_accuracy"),
        (
            "sparse_categorical_crossentropy",
            (8,),
            (8, 3),
            "sparse_categorical_accuracy",
        ),
        (
            losses.sparse_categorical_crossentropy,
            (8, 1),
            (8, 3),
            "sparse_categorical_accuracy",
        ),
        ("mse", (8, 1), (8, 1), "binary_accuracy"),
        ("mse", (8,), (8, 5), "sparse_categorical_accuracy"),
        ("mse", (8, 1), (8, 5), "sparse_categorical_accuracy"),
        ("mse", (8, 5), (8, 5), "categorical_accuracy"),
        (None, (8, 5), (8, 5), "categorical_accuracy"),
    ],
)
def test_resolve_accuracy(loss, y_shape, out_shape, expected):
    assert metrics.resolve_accuracy(loss, y_shape, out_shape).__name__ == expected


def test_accuracy_from_shapes():
    np.testing.assert_array_equal(
        metrics.accuracy(LABELS, PROBS),
        metrics.sparse_categorical_accuracy(LABELS, PROBS),
    )
    assert metrics.get("acc") is metrics.accuracy


def test_get_and_config():
    assert metrics.get("mse") is metrics.mean_squared_error
    assert metrics.get("binary_accuracy") is metrics.binary_accuracy
    acc = metrics.get("BinaryAccuracy")
    assert isinstance(acc, metrics.BinaryAccuracy) and acc.name == "binary_accuracy"
    custom = metrics.BinaryAccuracy(name="acc", threshold=0.7)
    again = metrics.deserialize(metrics.serialize(custom))
    assert again.get_config() == custom.get_config()
    assert again.fn_kwargs == {"threshold": 0.7}
    assert metrics.serialize(metrics.mae) == "mean_absolute_error"
    with pytest.raises(ValueError, match="Valid names are: .*binary_accuracy"):
        metrics.get("binary_acc")


# --- Metric subclasses with state in variables (Keras 3's add_variable) ------------
class TruePositives(metrics.Metric):
    """Written as the Keras guide writes its custom metric, on NumPy."""

    def __init__(self, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(
            shape=(), initializer="zeros", name="true_positives"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        hits = (np.asarray(y_true) >= 0.5) & (np.asarray(y_pred) >= 0.5)
        values = hits.astype(self.dtype)
        if sample_weight is not None:
            values = values * np.broadcast_to(
                np.asarray(sample_weight, self.dtype).reshape(-1, 1), values.shape
            )
        self.true_positives.assign_add(values.sum())

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


def _keras_true_positives(keras):
    ops = keras.ops

    class KerasTruePositives(keras.metrics.Metric):
        def __init__(self, name="binary_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(
                shape=(), initializer="zeros", name="true_positives"
            )

        def update_state(self, y_true, y_pred, sample_weight=None):
            hits = ops.logical_and(y_true >= 0.5, y_pred >= 0.5)
            values = ops.cast(hits, self.dtype)
            if sample_weight is not None:
                weight = ops.reshape(ops.cast(sample_weight, self.dtype), (-1, 1))
                values = values * ops.broadcast_to(weight, ops.shape(values))
            self.true_positives.assign_add(ops.sum(values))

        def result(self):
            return self.true_positives

        def reset_state(self):
            self.true_positives.assign(0.0)

    return KerasTruePositives()


def test_a_metric_keeps_its_state_in_variables():
    metric = TruePositives()
    assert metric.variables == [metric.true_positives]
    assert metric.true_positives.name == "binary_true_positives/true_positives"
    assert metric.dtype == "float32" and metric.true_positives.dtype == np.float32
    metric.update_state(BINARY, SCORES)
    expected = float(((BINARY >= 0.5) & (SCORES >= 0.5)).sum())
    assert float(metric.result()) == expected
    metric.update_state(BINARY[:4], SCORES[:4], sample_weight=np.full(4, 2.0))
    hits = ((BINARY[:4] >= 0.5) & (SCORES[:4] >= 0.5)).sum()
    assert float(metric.result().numpy()) == expected + 2 * hits
    metric.reset_state()
    assert float(metric.result()) == 0.0

    # the Keras wording for a subclass that forgot the base class's __init__
    class Forgot(metrics.Metric):
        def __init__(self):
            self.count = self.add_variable(shape=())

    with pytest.raises(RuntimeError, match="forgot to call `super"):
        Forgot()


def test_the_default_reset_and_automatic_names_equal_keras():
    keras = _keras()

    def make(base):
        class Counts(base):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.v = self.add_variable(shape=(2,), initializer="ones", name="v")
                self.u = self.add_variable(shape=(), initializer="zeros")
                self.w = self.add_variable(shape=(), initializer="zeros")
                self.inner = (
                    metrics if base is metrics.Metric else keras.metrics
                ).Sum()

            def update_state(self, values):
                self.u.assign_add(np.float32(1.0))
                self.w.assign_sub(np.float32(1.0))

            def result(self):
                return self.v

        return Counts()

    ours, theirs = make(metrics.Metric), make(keras.metrics.Metric)
    assert [v.name for v in ours.variables] == [v.path for v in theirs.variables]
    for metric in (ours, theirs):
        metric.update_state(None)
        metric.reset_state()  # Keras resets every variable to zeros
    for a, b in zip(ours.variables, theirs.variables):
        np.testing.assert_array_equal(a.numpy(), keras.ops.convert_to_numpy(b))
    assert [v.name for v in metrics.Mean().variables] == [
        v.path for v in keras.metrics.Mean().variables
    ]


def test_a_custom_metric_in_compile_reports_what_keras_reports():
    keras = _keras()
    from glassnet import layers, models, optimizers

    rng = np.random.default_rng(3)
    x = rng.standard_normal((24, 3)).astype(np.float32)
    y = (x.sum(axis=1, keepdims=True) > 0).astype(np.float32)
    ours = models.Sequential(
        [layers.Input((3,)), layers.Dense(1, activation="sigmoid")]
    )
    theirs = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")]
    )
    theirs.set_weights(ours.get_weights())
    ours.compile(optimizers.SGD(0.5), "binary_crossentropy", metrics=[TruePositives()])
    theirs.compile(
        keras.optimizers.SGD(0.5),
        "binary_crossentropy",
        metrics=[_keras_true_positives(keras)],
    )
    kwargs = dict(epochs=3, batch_size=5, shuffle=False, verbose=0)
    got = ours.fit(x, y, **kwargs).history
    want = theirs.fit(x, y, **kwargs).history
    assert got["binary_true_positives"] == want["binary_true_positives"]
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-5)
    result = ours.evaluate(x, y, verbose=0, return_dict=True)
    expected = theirs.evaluate(x, y, verbose=0, return_dict=True)
    assert result["binary_true_positives"] == expected["binary_true_positives"]
