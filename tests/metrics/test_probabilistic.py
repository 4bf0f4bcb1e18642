"""The running means of per-sample functions in ``glassnet.metrics.probabilistic``,
checked against Keras 3 on the same inputs."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet import Tensor, metrics

# Keras 3's torch backend trips a NumPy 2 deprecation inside its own code.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation:DeprecationWarning"
)

RNG = np.random.default_rng(0)
LABELS = RNG.integers(0, 6, 12)
ONE_HOT = np.eye(6, dtype=np.float32)[LABELS]
PROBS, OTHER_PROBS = RNG.dirichlet(np.ones(6), (2, 12)).astype(np.float32)
LOGITS = RNG.normal(0.0, 2.0, (12, 6)).astype(np.float32)
TIED = np.round(PROBS, 1)  # scores with ties, for top-k
SORTED_IDS = np.argsort(-PROBS, axis=-1)[:, :3]
BINARY = (RNG.random((12, 3)) > 0.5).astype(np.float32)
SIGNED = 2.0 * BINARY - 1.0
SCORES = RNG.uniform(0.02, 0.98, (12, 3)).astype(np.float32)
REAL_T, REAL_P = RNG.standard_normal((2, 12, 3)).astype(np.float32)
POSITIVE_T, POSITIVE_P = RNG.uniform(0.1, 3.0, (2, 12, 3)).astype(np.float32)
FAR = 200.0 * REAL_P  # errors where a plain log(cosh) overflows float32

#: (y_true, y_pred) by kind of metric.
DATA = {
    "binary": (BINARY, SCORES),
    "one-hot": (ONE_HOT, PROBS),
    "labels": (LABELS, PROBS),
    "distributions": (PROBS, OTHER_PROBS),
    "counts": (POSITIVE_T, POSITIVE_P),
    "signed": (SIGNED, REAL_P),
    "real": (REAL_T, REAL_P),
    "equal": (LABELS[:, None] % 2, PROBS.argmax(axis=-1)[:, None] % 2),
}

FUNCTIONS = [
    ("binary_crossentropy", BINARY, SCORES, {}),
    ("binary_crossentropy", BINARY, REAL_P, {"from_logits": True}),
    ("binary_crossentropy", BINARY, SCORES, {"label_smoothing": 0.1}),
    ("binary_crossentropy", BINARY, SCORES, {"axis": 0}),
    ("categorical_crossentropy", ONE_HOT, PROBS, {}),
    ("categorical_crossentropy", ONE_HOT, LOGITS, {"from_logits": True}),
    ("categorical_crossentropy", ONE_HOT, PROBS, {"label_smoothing": 0.2}),
    ("categorical_crossentropy", ONE_HOT.T, PROBS.T, {"axis": 0}),
    ("sparse_categorical_crossentropy", LABELS, PROBS, {}),
    ("sparse_categorical_crossentropy", LABELS[:, None], LOGITS, {"from_logits": True}),
    ("sparse_categorical_crossentropy", LABELS, PROBS.T, {"axis": 0}),
    ("sparse_top_k_categorical_accuracy", LABELS, PROBS, {"k": 2}),
    ("sparse_top_k_categorical_accuracy", LABELS[:, None], TIED, {"k": 1}),
    ("sparse_top_k_categorical_accuracy", LABELS, TIED, {"k": 3}),
    (
        "sparse_top_k_categorical_accuracy",
        LABELS,
        SORTED_IDS,
        {"k": 2, "from_sorted_ids": True},
    ),
    ("kl_divergence", PROBS, OTHER_PROBS, {}),
    ("kl_divergence", ONE_HOT, PROBS, {}),
    ("poisson", POSITIVE_T, POSITIVE_P, {}),
    ("hinge", BINARY, REAL_P, {}),
    ("hinge", SIGNED, REAL_P, {}),
    ("squared_hinge", BINARY, REAL_P, {}),
    ("squared_hinge", SIGNED, REAL_P, {}),
    ("categorical_hinge", ONE_HOT, LOGITS, {}),
    ("log_cosh", REAL_T, REAL_P, {}),
    ("log_cosh", REAL_T, FAR, {}),
    ("mean_absolute_percentage_error", REAL_T, REAL_P, {}),
    ("mean_squared_logarithmic_error", POSITIVE_T, POSITIVE_P, {}),
    ("mean_squared_logarithmic_error", REAL_T, REAL_P, {}),
    ("huber", REAL_T, REAL_P, {}),
    ("huber", REAL_T, REAL_P, {"delta": 0.5}),
]


@pytest.mark.parametrize("name, y_true, y_pred, kwargs", FUNCTIONS)
def test_functions_equal_keras(keras, name, y_true, y_pred, kwargs):
    got = getattr(metrics, name)(y_true, y_pred, **kwargs)
    want = keras.ops.convert_to_numpy(
        getattr(keras.metrics, name)(y_true, y_pred, **kwargs)
    )
    assert isinstance(got, np.ndarray) and got.dtype == np.float32
    assert got.size == want.size  # one value per sample (Keras: (12, 1) for some)
    np.testing.assert_allclose(got, want.reshape(got.shape), rtol=1e-5, atol=1e-6)
    float_pred = np.issubdtype(y_pred.dtype, np.floating)  # not the sorted ids
    from_tensors = getattr(metrics, name)(
        Tensor(y_true), Tensor(y_pred, requires_grad=float_pred), **kwargs
    )
    np.testing.assert_array_equal(from_tensors, got)


def test_hand_worked_values():
    # hinge: 0/1 labels become -1/+1; max(1 - t p, 0) = [0, 1.5] and [0.5, 0]
    y, p = np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[2.0, 0.5], [0.5, -3.0]])
    np.testing.assert_allclose(metrics.hinge(y, p), [0.75, 0.25])
    np.testing.assert_allclose(metrics.squared_hinge(y, p), [1.125, 0.125])
    # categorical hinge: max(max((1 - t) p) - true score + 1, 0), in which the
    # true class counts 0 (Keras's form): max(0.5 - 2 + 1, 0), max(0 - 0.5 + 1, 0)
    np.testing.assert_allclose(metrics.categorical_hinge(y, p), [0.0, 0.5])
    # |t - p| / |t| in percent: 10% and 50%
    mape = metrics.mean_absolute_percentage_error([[10.0], [2.0]], [[11.0], [1.0]])
    np.testing.assert_allclose(mape, [10.0, 50.0])
    # log(cosh(x)) is |x| - log 2 far out, where cosh itself overflows
    far = metrics.log_cosh(np.zeros((1, 2), np.float32), np.float32([[1e3, -1e3]]))
    np.testing.assert_allclose(far, [1e3 - np.log(2.0)])


# --- classes ----------------------------------------------------------------------

CLASSES = [
    ("Accuracy", "equal", {}),
    ("BinaryCrossentropy", "binary", {}),
    ("BinaryCrossentropy", "binary", {"from_logits": True, "label_smoothing": 0.1}),
    ("CategoricalCrossentropy", "one-hot", {}),
    ("CategoricalCrossentropy", "one-hot", {"label_smoothing": 0.2}),
    ("SparseCategoricalCrossentropy", "labels", {}),
    ("SparseCategoricalCrossentropy", "labels", {"from_logits": True}),
    ("SparseTopKCategoricalAccuracy", "labels", {"k": 2}),
    ("KLDivergence", "distributions", {}),
    ("Poisson", "counts", {}),
    ("Hinge", "binary", {}),
    ("SquaredHinge", "signed", {}),
    ("CategoricalHinge", "one-hot", {}),
    ("LogCoshError", "real", {}),
    ("MeanAbsolutePercentageError", "real", {}),
    ("MeanSquaredLogarithmicError", "counts", {}),
    ("CosineSimilarity", "real", {}),
    ("R2Score", "real", {}),
    ("R2Score", "real", {"class_aggregation": None}),
    (
        "R2Score",
        "real",
        {"class_aggregation": "variance_weighted_average", "num_regressors": 2},
    ),
]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("cls, kind, kwargs", CLASSES)
def test_classes_over_batches_equal_keras(keras, cls, kind, kwargs, weighted):
    y_true, y_pred = DATA[kind]
    ours = getattr(metrics, cls)(**kwargs)
    theirs = getattr(keras.metrics, cls)(**kwargs)
    weight = np.linspace(0.0, 3.0, len(y_true)).astype(np.float32)
    for batch in (slice(0, 5), slice(5, 9), slice(9, 12)):
        sample_weight = weight[batch] if weighted else None
        ours.update_state(y_true[batch], y_pred[batch], sample_weight=sample_weight)
        theirs.update_state(y_true[batch], y_pred[batch], sample_weight=sample_weight)
    want = keras.ops.convert_to_numpy(theirs.result())
    np.testing.assert_allclose(ours.result(), want, rtol=1e-5)


def test_cosine_similarity_along_another_axis_equals_keras(keras):
    ours, theirs = (
        metrics.CosineSimilarity(axis=0),
        keras.metrics.CosineSimilarity(axis=0),
    )
    ours.update_state(REAL_T, REAL_P)
    theirs.update_state(REAL_T, REAL_P)
    want = keras.ops.convert_to_numpy(theirs.result())
    np.testing.assert_allclose(ours.result(), want, rtol=1e-5)


CONFIGS = [
    ("Accuracy", {}),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}),
    ("CategoricalCrossentropy", {}),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2, "axis": 0, "name": "cce"}),
    ("SparseCategoricalCrossentropy", {}),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "axis": 1}),
    ("SparseTopKCategoricalAccuracy", {}),
    ("SparseTopKCategoricalAccuracy", {"k": 2, "from_sorted_ids": True}),
    ("KLDivergence", {}),
    ("Poisson", {}),
    ("Hinge", {}),
    ("SquaredHinge", {}),
    ("CategoricalHinge", {}),
    ("LogCoshError", {}),
    ("MeanAbsolutePercentageError", {}),
    ("MeanSquaredLogarithmicError", {"dtype": "float64"}),
    ("CosineSimilarity", {"axis": 0}),
    ("R2Score", {}),
    ("R2Score", {"class_aggregation": None, "num_regressors": 3}),
]


@pytest.mark.parametrize("cls, kwargs", CONFIGS)
def test_configs_equal_keras_and_load_in_both(keras, cls, kwargs):
    ours = getattr(metrics, cls)(**kwargs)
    config = ours.get_config()
    assert config == getattr(keras.metrics, cls)(**kwargs).get_config()
    written = metrics.serialize(ours)
    assert metrics.deserialize(written).get_config() == config
    assert keras.metrics.deserialize(written).get_config() == config


def test_positional_arguments_are_keras_s():
    assert metrics.SparseTopKCategoricalAccuracy(3).get_config()["k"] == 3
    config = metrics.R2Score(None, 2).get_config()
    assert (config["class_aggregation"], config["num_regressors"]) == (None, 2)


# --- names ------------------------------------------------------------------------

#: Names Keras's ``metrics.get`` accepts, and the data to try each on.
NAMES = [
    ("bce", "binary"),
    ("BCE", "binary"),
    ("binary_crossentropy", "binary"),
    ("BinaryCrossentropy", "binary"),
    ("categorical_crossentropy", "one-hot"),
    ("CategoricalCrossentropy", "one-hot"),
    ("sparse_categorical_crossentropy", "labels"),
    ("SparseCategoricalCrossentropy", "labels"),
    ("sparse_top_k_categorical_accuracy", "labels"),
    ("SparseTopKCategoricalAccuracy", "labels"),
    ("kl_divergence", "distributions"),
    ("KLDivergence", "distributions"),
    ("poisson", "counts"),
    ("Poisson", "counts"),
    ("hinge", "signed"),
    ("Hinge", "signed"),
    ("squared_hinge", "signed"),
    ("SquaredHinge", "signed"),
    ("categorical_hinge", "one-hot"),
    ("CategoricalHinge", "one-hot"),
    ("log_cosh_error", "real"),
    ("LogCoshError", "real"),
    ("mape", "real"),
    ("MAPE", "real"),
    ("mean_absolute_percentage_error", "real"),
    ("MeanAbsolutePercentageError", "real"),
    ("msle", "counts"),
    ("MSLE", "counts"),
    ("mean_squared_logarithmic_error", "counts"),
    ("MeanSquaredLogarithmicError", "counts"),
    ("cosine_similarity", "real"),
    ("CosineSimilarity", "real"),
    ("r2_score", "real"),
    ("R2Score", "real"),
    ("Accuracy", "equal"),
]


def _mean_of(metric, y_true, y_pred):
    """What a compiled metric reports for one batch: a Metric's result, or the
    mean of a function's per-sample values (a name may give either)."""
    if hasattr(metric, "update_state"):
        metric.update_state(y_true, y_pred)
        return np.asarray(metric.result())
    return np.mean(metric(y_true, y_pred))


@pytest.mark.parametrize("name, kind", NAMES)
def test_names_resolve_to_what_keras_resolves_them_to(keras, name, kind):
    y_true, y_pred = DATA[kind]
    want = keras.ops.convert_to_numpy(_mean_of(keras.metrics.get(name), *DATA[kind]))
    np.testing.assert_allclose(
        _mean_of(metrics.get(name), y_true, y_pred), want, rtol=1e-5
    )


@pytest.mark.parametrize("name", ["kld", "KLD", "logcosh", "cce", "scce"])
def test_names_keras_refuses_are_refused(keras, name):
    with pytest.raises(ValueError, match="Could not interpret"):
        keras.metrics.get(name)
    with pytest.raises(ValueError, match=f"Unknown metric: '{name}'"):
        metrics.get(name)


# --- bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: metrics.hinge(np.ones((4, 3)), np.ones((4, 2))),
            r"incompatible shapes.*y_true.shape=\(4, 3\), y_pred.shape=\(4, 2\)",
        ),
        (
            lambda: metrics.sparse_top_k_categorical_accuracy(ONE_HOT, PROBS),
            r"labels of shape \(12,\).*Received: y_true.shape=\(12, 6\)",
        ),
        (
            lambda: metrics.sparse_top_k_categorical_accuracy(LABELS - 1, PROBS),
            r"Labels must be in \[0, 6\) for 6 classes. Received: labels from -1 to",
        ),
        (
            lambda: metrics.categorical_crossentropy(ONE_HOT, PROBS, axis=2),
            r"axis must be an integer in \[-2, 2\).*Received: axis=2",
        ),
        (
            lambda: metrics.CosineSimilarity(axis=True).update_state(REAL_T, REAL_P),
            r"axis must be an integer.*Received: axis=True",
        ),
        (
            lambda: metrics.SparseCategoricalCrossentropy(ignore_class=0),
            r"does not implement Keras's `ignore_class`.*Received: ignore_class=0",
        ),
        (
            lambda: metrics.R2Score(class_aggregation="median"),
            r"`class_aggregation`.*Received: class_aggregation='median'",
        ),
        (
            lambda: metrics.R2Score(num_regressors=-1),
            r"Expected a value >= 0. Received: num_regressors=-1",
        ),
        (
            lambda: metrics.R2Score().update_state(REAL_T[0], REAL_P[0]),
            r"2D inputs.*y_pred.shape=\(3,\) and y_true.shape=\(3,\)",
        ),
        (
            lambda: metrics.R2Score().update_state(REAL_T, REAL_P, np.ones(5)),
            r"sample_weight of shape \(5,\) for y_true of shape \(12, 3\)",
        ),
    ],
    ids=[
        "shapes",
        "one-hot for labels",
        "labels out of range",
        "axis out of range",
        "axis not an integer",
        "ignore_class",
        "class_aggregation",
        "num_regressors",
        "R2 of 1-D data",
        "R2 weights",
    ],
)
def test_bad_input_is_a_value_error_that_says_what_came(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_the_adjusted_r2_falls_back_with_keras_s_warning(keras):
    # 12 samples of 3 values count n = 36, as in Keras: p = 35 divides by zero
    ours = metrics.R2Score(num_regressors=35)
    theirs = keras.metrics.R2Score(num_regressors=35)
    ours.update_state(REAL_T, REAL_P)
    theirs.update_state(REAL_T, REAL_P)
    with pytest.warns(UserWarning, match="Division by zero in Adjusted R2 score"):
        got = ours.result()
    with pytest.warns(UserWarning, match="Division by zero"):
        want = keras.ops.convert_to_numpy(theirs.result())
    np.testing.assert_allclose(got, want, rtol=1e-5)


# --- end to end -------------------------------------------------------------------


def test_a_classifier_evaluates_them_as_keras_does(keras):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((30, 5)).astype(np.float32)
    y = rng.integers(0, 4, 30)
    weight = rng.uniform(0.0, 2.0, 30).astype(np.float32)

    def classifier(lib):
        model = lib.Sequential(
            [
                lib.Input((5,)),
                lib.layers.Dense(8, activation="tanh"),
                lib.layers.Dense(4, activation="softmax"),
            ]
        )
        model.compile(
            optimizer="sgd",
            loss="sparse_categorical_crossentropy",
            metrics=[
                lib.metrics.SparseCategoricalCrossentropy(),
                lib.metrics.SparseTopKCategoricalAccuracy(k=2),
            ],
            weighted_metrics=[lib.metrics.SparseTopKCategoricalAccuracy(k=2)],
        )
        return model

    ours, theirs = classifier(glassnet), classifier(keras)
    ours.set_weights(theirs.get_weights())
    kwargs = dict(sample_weight=weight, batch_size=8, verbose=0, return_dict=True)
    got, want = ours.evaluate(x, y, **kwargs), theirs.evaluate(x, y, **kwargs)
    assert list(got) == list(want)
    for key in want:
        assert got[key] == pytest.approx(want[key], rel=1e-5), key
