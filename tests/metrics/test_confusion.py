"""The confusion-matrix metrics against Keras 3's on the same inputs."""

from __future__ import annotations

import re

import numpy as np
import pytest

import glassnet
from glassnet import Tensor, metrics

# Keras 3's torch backend trips a NumPy 2 deprecation inside its own code.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation:DeprecationWarning"
)

RNG = np.random.default_rng(0)
Y_TRUE = (RNG.random((40, 3)) > 0.5).astype(np.float32)
Y_PRED = RNG.random((40, 3)).astype(np.float32)
# predictions on the ends, on thresholds, a tie for top_k, none above 0
Y_PRED[:5] = [[0, 1, 0.5], [0.25, 0.75, 0], [1, 0.3, 0.3], [0.7, 0.7, 0.1], [0, 0, 0]]
PER_SAMPLE = RNG.uniform(0.0, 2.0, 40).astype(np.float32)
PER_ENTRY = RNG.uniform(0.0, 2.0, (40, 3)).astype(np.float32)
BATCHES = (slice(0, 7), slice(7, 25), slice(25, 40))

GRID = Y_TRUE, Y_PRED
LOGITS = Y_TRUE, Y_PRED * 8 - 4
OUTSIDE = Y_TRUE, Y_PRED * 1.4 - 0.2  # below 0 and above 1: Keras clips some
COLUMN = Y_TRUE[:, :1], Y_PRED[:, 0]  # a last axis of 1 on one side only
LABELS = Y_TRUE[:, 0], Y_PRED[:, :1]
FLAT = Y_TRUE[:, 0], Y_PRED[:, 0]

TABLE = [
    ("TruePositives", {}, GRID),
    ("TruePositives", {"thresholds": [0.0, 0.5, 1.0]}, OUTSIDE),
    ("FalsePositives", {"thresholds": [0.7, 0.2, 0.5]}, GRID),
    ("TrueNegatives", {"thresholds": 0.3}, COLUMN),
    ("FalseNegatives", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, GRID),
    ("Precision", {}, FLAT),
    ("Precision", {"thresholds": [0.2, 0.6]}, LABELS),
    ("Precision", {"top_k": 2}, GRID),
    ("Precision", {"class_id": 1, "thresholds": [0.25, 0.6]}, GRID),
    ("Precision", {"top_k": 1, "class_id": 2}, GRID),
    ("Recall", {"thresholds": [0.0, 0.5, 1.0]}, GRID),
    ("Recall", {"top_k": 2, "thresholds": 0.4}, GRID),
    ("AUC", {}, GRID),
    ("AUC", {}, OUTSIDE),
    ("AUC", {"num_thresholds": 7, "summation_method": "minoring"}, GRID),
    ("AUC", {"summation_method": "majoring"}, COLUMN),
    ("AUC", {}, LABELS),
    ("AUC", {"curve": "PR"}, GRID),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, GRID),
    ("AUC", {"curve": "PRGAIN"}, GRID),
    ("AUC", {"thresholds": [0.7, 0.2, 0.5]}, OUTSIDE),
    ("AUC", {"thresholds": [0.25, 0.5, 0.75]}, GRID),
    ("AUC", {"label_weights": [1.0, 2.0, 0.5]}, GRID),
    ("AUC", {"from_logits": True}, LOGITS),
    ("AUC", {"multi_label": True}, GRID),
    ("AUC", {"multi_label": True, "thresholds": [0.1, 0.4]}, GRID),
    (
        "AUC",
        {
            "curve": "PR",
            "multi_label": True,
            "num_labels": 3,
            "label_weights": [1.0, 2.0, 0.5],
        },
        GRID,
    ),
    ("F1Score", {}, GRID),
    ("F1Score", {"average": "micro", "threshold": 0.5}, GRID),
    ("FBetaScore", {"average": "macro", "beta": 2.0, "threshold": 0.4}, GRID),
    ("FBetaScore", {"average": "weighted", "beta": 0.5}, GRID),
    ("PrecisionAtRecall", {"recall": 0.5}, GRID),
    ("RecallAtPrecision", {"precision": 0.6, "num_thresholds": 20}, GRID),
    ("SensitivityAtSpecificity", {"specificity": 0.4, "num_thresholds": 1}, GRID),
    ("SpecificityAtSensitivity", {"sensitivity": 0.7, "class_id": 0}, GRID),
]
IDS = [f"{cls}-{i}" for i, (cls, _, _) in enumerate(TABLE)]
F_SCORES = ("F1Score", "FBetaScore")


def _numpy(keras, value):
    return np.asarray(keras.ops.convert_to_numpy(value))


def _both(keras, cls, kwargs):
    """Our metric and Keras's, named alike (Keras numbers its automatic names)."""
    kwargs = {"name": "m", **kwargs}
    return getattr(metrics, cls)(**kwargs), getattr(keras.metrics, cls)(**kwargs)


def _weights(kind, cls, kwargs):
    if kind == "per entry" and (cls in F_SCORES or "class_id" in kwargs):
        pytest.skip("one weight per sample only (F-scores; one class of several)")
    return {None: None, "per sample": PER_SAMPLE, "per entry": PER_ENTRY}[kind]


@pytest.mark.parametrize("weights", [None, "per sample", "per entry"])
@pytest.mark.parametrize("cls, kwargs, data", TABLE, ids=IDS)
def test_results_and_variables_over_batches_and_after_reset_equal_keras(
    keras, cls, kwargs, data, weights
):
    y_true, y_pred = data
    weight = _weights(weights, cls, kwargs)
    if weights == "per entry":  # cut to y_pred's columns (1-D: one per sample)
        weight = weight[:, : y_pred.shape[1]] if y_pred.ndim == 2 else weight[:, 0]
    ours, theirs = _both(keras, cls, kwargs)
    for batches in (BATCHES, BATCHES[:1]):  # the second time after reset_state
        for batch in batches:
            w = None if weight is None else weight[batch]
            ours.update_state(y_true[batch], y_pred[batch], sample_weight=w)
            theirs.update_state(y_true[batch], y_pred[batch], sample_weight=w)
        got, want = ours.result(), _numpy(keras, theirs.result())
        assert isinstance(got, float) == (want.ndim == 0)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
        assert [v.name for v in ours.variables] == [v.path for v in theirs.variables]
        for mine, keras_variable in zip(ours.variables, theirs.variables):
            assert mine.dtype == np.float32
            want = _numpy(keras, keras_variable)
            np.testing.assert_allclose(mine.numpy(), want, rtol=1e-5, atol=1e-5)
        ours.reset_state()
        theirs.reset_state()


def test_tensors_and_lists_count_as_arrays():
    y_true, y_pred = Y_TRUE[:, 0], Y_PRED[:, 0]
    from_arrays = metrics.AUC()(y_true, y_pred)
    assert metrics.AUC()(Tensor(y_true), Tensor(y_pred)) == from_arrays
    assert metrics.AUC()(y_true.tolist(), y_pred.tolist()) == from_arrays


@pytest.mark.parametrize("cls, kwargs, data", TABLE, ids=IDS)
def test_config_and_direction_equal_keras_and_config_round_trips(
    keras, cls, kwargs, data
):
    ours, theirs = _both(keras, cls, kwargs)
    want = theirs.get_config()
    if want.get("label_weights") is not None:  # a tensor in Keras's config
        want["label_weights"] = _numpy(keras, want["label_weights"]).tolist()
    assert ours.get_config() == want
    again = type(ours).from_config(ours.get_config())
    assert again.get_config() == ours.get_config()
    assert metrics.deserialize(metrics.serialize(ours)).get_config() == want
    assert getattr(ours, "_direction", None) == getattr(theirs, "_direction", None)


NAMES = """TruePositives true_positives FalsePositives false_positives
TrueNegatives true_negatives FalseNegatives false_negatives Precision precision
Recall recall AUC auc F1Score f1_score FBetaScore f_beta_score""".split()


@pytest.mark.parametrize("name", NAMES)
def test_names_resolve_to_the_metric_keras_gives(keras, name):
    ours, theirs = metrics.get(name), keras.metrics.get(name)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.name == re.sub(r"_\d+$", "", theirs.name)  # Keras numbers repeats


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: metrics.TruePositives(thresholds=1.5), r"thresholds=1\.5"),
        (lambda: metrics.Precision(thresholds=[0.5, -0.1]), r"\[0, 1\]"),
        (lambda: metrics.Recall(top_k=0), "top_k=0"),
        (lambda: metrics.AUC(curve="XY"), r"\['ROC', 'PR', 'PRGAIN'\].*curve='XY'"),
        (lambda: metrics.AUC(summation_method="mid"), "summation_method='mid'"),
        (lambda: metrics.AUC(num_thresholds=1), "num_thresholds=1"),
        (lambda: metrics.AUC(thresholds=[2.0]), r"thresholds=\[2\.0\]"),
        (lambda: metrics.AUC(num_labels=3), "multi_label=False"),
        (lambda: metrics.F1Score(average="mean"), "average='mean'"),
        (lambda: metrics.FBetaScore(beta=0.0), "beta=0.0"),
        (lambda: metrics.FBetaScore(threshold=1.5), "threshold=1.5"),
        (lambda: metrics.PrecisionAtRecall(recall=1.2), "recall=1.2"),
        (lambda: metrics.SensitivityAtSpecificity(0.5, 0), "num_thresholds=0"),
    ],
)
def test_bad_arguments_raise_value_errors_that_name_them(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "metric, y_true, y_pred, weight, match",
    [
        (metrics.Precision(), Y_TRUE, Y_PRED[:, :2], None, r"\(40, 3\).*\(40, 2\)"),
        (metrics.AUC(), Y_TRUE, Y_PRED, PER_SAMPLE[:5], r"sample_weight of shape"),
        (metrics.Recall(class_id=3), Y_TRUE, Y_PRED, None, "class_id=3"),
        (metrics.AUC(multi_label=True), Y_TRUE[:, 0], Y_PRED[:, 0], None, r"\(40,\)"),
        (metrics.F1Score(), Y_TRUE[:, 0], Y_PRED[:, 0], None, r"\(batch, classes\)"),
        (metrics.F1Score(), Y_TRUE, Y_PRED, PER_SAMPLE[:5], r"shape \(5,\)"),
    ],
)
def test_mismatched_inputs_raise_value_errors_that_show_the_shapes(
    metric, y_true, y_pred, weight, match
):
    with pytest.raises(ValueError, match=match):
        metric.update_state(y_true, y_pred, sample_weight=weight)


def test_evaluate_logs_equal_keras_on_the_same_weights(keras):
    keras.backend.clear_session()  # so Keras's automatic names start afresh
    rng = np.random.default_rng(4)
    x = rng.standard_normal((50, 4)).astype(np.float32)
    y = (x[:, :1] + rng.standard_normal((50, 1)) > 0).astype(np.float32)
    models = {}
    for lib in (glassnet, keras):
        model = lib.Sequential(
            [lib.Input((4,)), lib.layers.Dense(1, activation="sigmoid")]
        )
        found = [lib.metrics.AUC(), lib.metrics.Precision(), lib.metrics.Recall()]
        model.compile(loss="binary_crossentropy", metrics=[*found, "auc"])
        models[lib] = model
    models[glassnet].set_weights(models[keras].get_weights())
    got = models[glassnet].evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    want = models[keras].evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    assert got.keys() == want.keys() == {"loss", "auc", "auc_1", "precision", "recall"}
    assert got == pytest.approx(want, rel=1e-5)
