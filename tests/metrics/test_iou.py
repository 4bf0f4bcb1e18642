"""The intersection-over-union metrics against Keras 3's on the same inputs."""

from __future__ import annotations

import re

import numpy as np
import pytest

import glassnet
from glassnet import Tensor, metrics

# Keras 3's torch backend trips a NumPy 2 deprecation inside its own code, and
# Keras warns of float weights on its int32 counts even where they are whole.
pytestmark = [
    pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:You are passing weight as `float`"),
]

RNG = np.random.default_rng(0)
LABELS = RNG.integers(0, 3, 40)
PREDICTED = RNG.integers(0, 3, 40)
SCORES = RNG.random((40, 3)).astype(np.float32)
ONE_HOT = np.eye(3, dtype=np.float32)[LABELS]
MAP_TRUE = RNG.integers(0, 3, (40, 3, 2))
MAP_TRUE[RNG.random(MAP_TRUE.shape) < 0.2] = 255  # "void" pixels
MAP_PRED = RNG.integers(0, 3, (40, 3, 2))
MAP_SCORES = RNG.random((40, 3, 2, 3)).astype(np.float32)
BINARY = (RNG.random(40) > 0.5).astype(np.float32)
PROBS = RNG.random(40).astype(np.float32)
PROBS[:3] = [0.5, 0.3, 0.7]  # on the thresholds used below
PER_SAMPLE = RNG.uniform(0.0, 2.0, 40).astype(np.float32)
PER_ID = RNG.uniform(0.0, 2.0, (40, 3, 2)).astype(np.float32)
BATCHES = (slice(0, 7), slice(7, 25), slice(25, 40))

# (y_true, y_pred), and one weight per class id they give
FLAT = LABELS, PREDICTED, PER_ID[:, 0, 0]
FLAT_SCORES = LABELS, SCORES, PER_ID[:, 0, 0]
COLUMN = LABELS[:, None], SCORES, PER_ID[:, :1, 0]  # ids (40, 1) and (40,)
ONE_HOT_SCORES = ONE_HOT, SCORES, PER_ID[:, 0, 0]
ONE_HOT_IDS = ONE_HOT, PREDICTED, PER_ID[:, 0, 0]
MAPS = MAP_TRUE, MAP_PRED, PER_ID
SCORE_MAPS = MAP_TRUE, MAP_SCORES, PER_ID
PROBABILITIES = BINARY, PROBS, PER_ID[:, 0, 0]
PROBABILITY_COLUMN = BINARY[:, None], PROBS[:, None], PER_ID[:, :1, 0]

FLOATS = {"dtype": "float32"}
TABLE = [
    ("IoU", {"num_classes": 3, "target_class_ids": [0]}, FLAT),
    ("IoU", {"num_classes": 3, "target_class_ids": [2, 0], **FLOATS}, FLAT),
    ("IoU", {"num_classes": 3, "target_class_ids": [1], "ignore_class": 0}, FLAT),
    (
        "IoU",
        {"num_classes": 3, "target_class_ids": [0, 1], "sparse_y_pred": False},
        COLUMN,
    ),
    ("IoU", {"num_classes": 4, "target_class_ids": [3, 1], **FLOATS}, FLAT),
    ("MeanIoU", {"num_classes": 3}, FLAT),
    ("MeanIoU", {"num_classes": 3, "sparse_y_pred": False, **FLOATS}, FLAT_SCORES),
    ("MeanIoU", {"num_classes": 3, "ignore_class": 255}, MAPS),
    (
        "MeanIoU",
        {"num_classes": 3, "ignore_class": 255, "sparse_y_pred": False, **FLOATS},
        SCORE_MAPS,
    ),
    (
        "MeanIoU",
        {"num_classes": 3, "sparse_y_true": False, "sparse_y_pred": False},
        ONE_HOT_SCORES,
    ),
    ("OneHotIoU", {"num_classes": 3, "target_class_ids": [0, 2]}, ONE_HOT_SCORES),
    (
        "OneHotIoU",
        {"num_classes": 3, "target_class_ids": [1], "sparse_y_pred": True, **FLOATS},
        ONE_HOT_IDS,
    ),
    ("OneHotMeanIoU", {"num_classes": 3, **FLOATS}, ONE_HOT_SCORES),
    ("OneHotMeanIoU", {"num_classes": 3, "ignore_class": 1}, ONE_HOT_SCORES),
    ("BinaryIoU", {}, PROBABILITIES),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3, **FLOATS}, PROBABILITIES),
    ("BinaryIoU", {"target_class_ids": [0], "threshold": 0.7}, PROBABILITY_COLUMN),
]
IDS = [f"{cls}-{i}" for i, (cls, _, _) in enumerate(TABLE)]


def _numpy(keras, value):
    return np.asarray(keras.ops.convert_to_numpy(value))


def _both(keras, cls, kwargs):
    """Our metric and Keras's, named alike (Keras numbers its automatic names)."""
    kwargs = {"name": "m", **kwargs}
    return getattr(metrics, cls)(**kwargs), getattr(keras.metrics, cls)(**kwargs)


def _weights(kind, per_id, kwargs):
    """Our weights and Keras's: per class id, or per sample (Keras takes those
    only spelled out per id). Whole numbers on integer counts."""
    if kind is None:
        return None, None
    if kind == "per id":
        ours = theirs = per_id
    else:
        ours = PER_SAMPLE
        theirs = np.broadcast_to(
            ours.reshape(-1, *[1] * (per_id.ndim - 1)), per_id.shape
        )
    if "dtype" not in kwargs:
        ours, theirs = np.round(ours), np.round(theirs)
    return ours, theirs


@pytest.mark.parametrize("weights", [None, "per id", "per sample"])
@pytest.mark.parametrize("cls, kwargs, data", TABLE, ids=IDS)
def test_results_and_confusion_matrix_over_batches_and_after_reset_equal_keras(
    keras, cls, kwargs, data, weights
):
    y_true, y_pred, per_id = data
    our_weights, their_weights = _weights(weights, per_id, kwargs)
    ours, theirs = _both(keras, cls, kwargs)
    for batches in (BATCHES, BATCHES[:1]):  # the second time after reset_state
        for batch in batches:
            if our_weights is None:
                ours.update_state(y_true[batch], y_pred[batch])
                theirs.update_state(y_true[batch], y_pred[batch])
            else:
                w, their_w = our_weights[batch], their_weights[batch]
                ours.update_state(y_true[batch], y_pred[batch], sample_weight=w)
                theirs.update_state(y_true[batch], y_pred[batch], sample_weight=their_w)
        got, want = ours.result(), _numpy(keras, theirs.result())
        assert isinstance(got, float)
        assert got == pytest.approx(float(want), rel=1e-5, abs=1e-7)
        assert [v.name for v in ours.variables] == [v.path for v in theirs.variables]
        (mine,), (keras_variable,) = ours.variables, theirs.variables
        assert mine.dtype == np.dtype(keras_variable.dtype)
        want = _numpy(keras, keras_variable)
        np.testing.assert_allclose(mine.numpy(), want, rtol=1e-5, atol=1e-5)
        ours.reset_state()
        theirs.reset_state()


def test_result_before_any_data_equals_keras(keras):
    ours, theirs = _both(keras, "MeanIoU", {"num_classes": 3})
    assert ours.result() == float(_numpy(keras, theirs.result())) == 0.0


def test_fractional_weights_on_integer_counts_warn_and_are_cut_as_in_keras(keras):
    y_true, y_pred, _ = FLAT
    ours, theirs = _both(keras, "MeanIoU", {"num_classes": 3})
    weights = PER_SAMPLE * 2
    with pytest.warns(UserWarning, match="dtype='float32'"):
        ours.update_state(y_true, y_pred, sample_weight=weights)
    theirs.update_state(y_true, y_pred, sample_weight=weights)
    np.testing.assert_array_equal(ours.total_cm.numpy(), _numpy(keras, theirs.total_cm))
    assert ours.result() == pytest.approx(float(_numpy(keras, theirs.result())))


def test_classes_along_the_first_axis_equal_keras(keras):
    kwargs = {"num_classes": 3, "target_class_ids": [0, 1], "axis": 0, **FLOATS}
    ours, theirs = _both(keras, "OneHotIoU", kwargs)
    ours.update_state(ONE_HOT.T, SCORES.T, sample_weight=PER_SAMPLE)
    theirs.update_state(ONE_HOT.T, SCORES.T, sample_weight=PER_SAMPLE)
    assert ours.result() == pytest.approx(float(_numpy(keras, theirs.result())))


def test_classes_along_a_middle_axis_equal_keras_on_them_moved_last(keras):
    # Keras sums its per-class IoUs along `axis` too, so only 0 and -1 run there
    ours = metrics.MeanIoU(3, sparse_y_pred=False, axis=1)
    theirs = keras.metrics.MeanIoU(3, sparse_y_pred=False)
    scores = np.moveaxis(MAP_SCORES, -1, 1)  # (batch, classes, height, width)
    y_true = np.where(MAP_TRUE == 255, 0, MAP_TRUE)
    ours.update_state(y_true, scores, sample_weight=np.round(PER_ID))
    theirs.update_state(y_true, MAP_SCORES, sample_weight=np.round(PER_ID))
    assert ours.result() == pytest.approx(float(_numpy(keras, theirs.result())))


def test_tensors_and_lists_count_as_arrays():
    y_true, y_pred = LABELS, SCORES
    from_arrays = metrics.MeanIoU(3, sparse_y_pred=False)(y_true, y_pred)
    from_tensors = metrics.MeanIoU(3, sparse_y_pred=False)(
        Tensor(y_true), Tensor(y_pred)
    )
    from_lists = metrics.MeanIoU(3, sparse_y_pred=False)(
        y_true.tolist(), y_pred.tolist()
    )
    assert from_tensors == from_lists == from_arrays


@pytest.mark.parametrize("cls, kwargs, data", TABLE, ids=IDS)
def test_config_and_direction_equal_keras_and_config_round_trips(
    keras, cls, kwargs, data
):
    ours, theirs = _both(keras, cls, kwargs)
    want = theirs.get_config()
    assert ours.get_config() == want
    again = type(ours).from_config(ours.get_config())
    assert again.get_config() == ours.get_config()
    assert metrics.deserialize(metrics.serialize(ours)).get_config() == want
    assert getattr(ours, "_direction", None) == getattr(theirs, "_direction", None)


@pytest.mark.parametrize("name", ["binary_io_u", "BinaryIoU"])
def test_names_resolve_to_the_metric_keras_gives(keras, name):
    ours, theirs = metrics.get(name), keras.metrics.get(name)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.name == re.sub(r"_\d+$", "", theirs.name)  # Keras numbers repeats


NEED_CLASSES = "io_u IoU mean_io_u MeanIoU one_hot_io_u OneHotIoU one_hot_mean_io_u"


@pytest.mark.parametrize("name", [*NEED_CLASSES.split(), "OneHotMeanIoU"])
def test_names_of_metrics_that_need_num_classes_fail_as_in_keras(keras, name):
    with pytest.raises(TypeError, match="num_classes"):
        keras.metrics.get(name)
    with pytest.raises(TypeError, match="num_classes"):
        metrics.get(name)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: metrics.MeanIoU(num_classes=0), "num_classes=0"),
        (lambda: metrics.MeanIoU(num_classes=2.0), "num_classes=2.0"),
        (lambda: metrics.IoU(3, target_class_ids=[3]), r"\[0, 3\).*=\[3\]"),
        (lambda: metrics.IoU(3, target_class_ids=[-1]), r"target_class_ids=\[-1\]"),
        (lambda: metrics.IoU(3, target_class_ids=[]), r"target_class_ids=\[\]"),
        (lambda: metrics.BinaryIoU(target_class_ids=[2]), r"\[0, 2\)"),
        (lambda: metrics.MeanIoU(3, ignore_class="void"), "ignore_class='void'"),
        (lambda: metrics.MeanIoU(3, axis=None), "axis=None"),
    ],
)
def test_bad_arguments_raise_value_errors_that_name_them(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "metric, y_true, y_pred, weight, match",
    [
        (metrics.MeanIoU(3), [0, 3], [0, 1], None, r"y_true .*\[0, 3\).*value of 3"),
        (metrics.MeanIoU(3), [0, 1], [-1, 1], None, r"y_pred .*value of -1"),
        (
            metrics.MeanIoU(3),
            LABELS,
            SCORES[:, 0],
            None,
            r"sparse_y_pred=False\).*value of 0\.",
        ),
        (
            metrics.MeanIoU(3, sparse_y_pred=False),
            LABELS,
            SCORES[:5],
            None,
            r"\(40,\) \(y_true\) and \(5,\) \(y_pred\)",
        ),
        (
            metrics.MeanIoU(3, sparse_y_pred=False, axis=2),
            LABELS,
            SCORES,
            None,
            r"axis=2 .*y_pred.shape=\(40, 3\)",
        ),
        (metrics.MeanIoU(3), LABELS, PREDICTED, PER_SAMPLE[:5], r"shape \(5,\)"),
        (metrics.BinaryIoU(), [0, 2], [0.1, 0.9], None, r"y_true .*value of 2"),
    ],
)
def test_bad_inputs_raise_value_errors_that_say_what_was_expected(
    metric, y_true, y_pred, weight, match
):
    with pytest.raises(ValueError, match=match):
        metric.update_state(y_true, y_pred, sample_weight=weight)


def test_ignored_labels_may_lie_outside_the_classes():
    metric = metrics.MeanIoU(3, ignore_class=-1)
    metric.update_state([0, -1, 2], [0, 7, 2])
    assert metric.result() == pytest.approx(1.0)


def test_evaluate_logs_equal_keras_on_the_same_weights(keras):
    keras.backend.clear_session()  # so Keras's automatic names start afresh
    rng = np.random.default_rng(4)
    x = rng.standard_normal((50, 4)).astype(np.float32)
    y = np.argmax(x[:, :3] + rng.standard_normal((50, 3)), axis=1)
    models = {}
    for lib in (glassnet, keras):
        model = lib.Sequential(
            [lib.Input((4,)), lib.layers.Dense(3, activation="softmax")]
        )
        found = [
            lib.metrics.MeanIoU(num_classes=3, sparse_y_pred=False),
            lib.metrics.IoU(3, target_class_ids=[0, 2], sparse_y_pred=False),
        ]
        model.compile(loss="sparse_categorical_crossentropy", metrics=found)
        models[lib] = model
    models[glassnet].set_weights(models[keras].get_weights())
    got = models[glassnet].evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    want = models[keras].evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    assert got.keys() == want.keys() == {"loss", "mean_io_u", "io_u"}
    assert got == pytest.approx(want, rel=1e-5)


def test_classes_seen_with_negligible_weight_only_are_left_out_as_in_keras(keras):
    kwargs = {"num_classes": 2, "target_class_ids": [0, 1], **FLOATS}
    ours, theirs = _both(keras, "IoU", kwargs)
    weights = np.array([1.0, 1e-10], np.float32)
    ours.update_state([0, 1], [0, 1], sample_weight=weights)
    theirs.update_state([0, 1], [0, 1], sample_weight=weights)
    assert ours.result() == pytest.approx(float(_numpy(keras, theirs.result())))
