"""The correlation metrics against Keras 3's on the same inputs."""

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
Y_TRUE = RNG.standard_normal((40, 5)).astype(np.float32)
Y_PRED = (0.8 * Y_TRUE + 0.6 * RNG.standard_normal((40, 5)) + 0.3).astype(np.float32)
SEQ_TRUE = RNG.standard_normal((40, 6, 3)).astype(np.float32)
SEQ_PRED = (SEQ_TRUE - RNG.standard_normal((40, 6, 3))).astype(np.float32)
PER_SAMPLE = RNG.uniform(0.0, 2.0, 40).astype(np.float32)
PER_STEP = RNG.uniform(0.0, 2.0, (40, 6)).astype(np.float32)
BATCHES = (slice(0, 7), slice(7, 25), slice(25, 40))

ROWS = Y_TRUE, Y_PRED
SEQUENCES = SEQ_TRUE, SEQ_PRED
COLUMN = Y_TRUE[:, :1], Y_PRED[:, 0]  # (40, 1) and (40,): one value a row
STEPS = SEQ_TRUE[..., :1], SEQ_PRED[..., 0]  # (40, 6, 1) and (40, 6)
INTEGERS = np.round(Y_TRUE * 3).astype(np.int64), np.round(Y_PRED * 3).astype(int)

FUNCTIONS = ["pearson_correlation", "concordance_correlation"]
CASES = [
    ({}, ROWS),
    ({"axis": 0}, ROWS),
    ({"axis": (0, 1)}, ROWS),
    ({}, SEQUENCES),
    ({"axis": 1}, SEQUENCES),
    ({"axis": (-2, -1)}, SEQUENCES),
    ({}, STEPS),
    ({}, COLUMN),
    ({}, INTEGERS),
]
CASE_IDS = [f"{i}-{kwargs}" for i, (kwargs, _) in enumerate(CASES)]
CLASSES = {
    "pearson_correlation": "PearsonCorrelation",
    "concordance_correlation": "ConcordanceCorrelation",
}


def _numpy(keras, value):
    return np.asarray(keras.ops.convert_to_numpy(value))


@pytest.mark.parametrize("kwargs, data", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("fn", FUNCTIONS)
def test_functions_equal_keras(keras, fn, kwargs, data):
    got = getattr(metrics, fn)(*data, **kwargs)
    want = _numpy(keras, getattr(keras.metrics, fn)(*data, **kwargs))
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_constant_rows_give_what_keras_gives(keras, fn):
    y_true, y_pred = Y_TRUE[:4].copy(), Y_PRED[:4].copy()
    y_true[1] = 2.0
    y_true[2] = y_pred[2] = 0.5  # both constant and equal: 0 / eps
    got = getattr(metrics, fn)(y_true, y_pred)
    want = _numpy(keras, getattr(keras.metrics, fn)(y_true, y_pred))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)  # NaN, or 0


RUNS = [
    ({}, ROWS, None),
    ({}, ROWS, PER_SAMPLE),
    ({"axis": 1}, SEQUENCES, None),
    ({"axis": 1}, SEQUENCES, PER_SAMPLE),
    ({}, SEQUENCES, PER_STEP),  # one value per step: weighed per step
]
RUN_IDS = ["rows", "rows-weighted", "sequences", "sequences-weighted", "steps"]


@pytest.mark.parametrize("kwargs, data, weight", RUNS, ids=RUN_IDS)
@pytest.mark.parametrize("cls", CLASSES.values())
def test_running_means_over_batches_and_after_reset_equal_keras(
    keras, cls, kwargs, data, weight
):
    y_true, y_pred = data
    ours, theirs = (
        getattr(metrics, cls)(**kwargs),
        getattr(keras.metrics, cls)(**kwargs),
    )
    for batches in (BATCHES, BATCHES[:1]):  # the second time after reset_state
        for batch in batches:
            w = None if weight is None else weight[batch]
            ours.update_state(y_true[batch], y_pred[batch], sample_weight=w)
            theirs.update_state(y_true[batch], y_pred[batch], sample_weight=w)
        got, want = ours.result(), _numpy(keras, theirs.result())
        assert got == pytest.approx(float(want), rel=1e-5)
        assert [v.name for v in ours.variables] == [v.path for v in theirs.variables]
        for mine, keras_variable in zip(ours.variables, theirs.variables):
            want = _numpy(keras, keras_variable)
            np.testing.assert_allclose(mine.numpy(), want, rtol=1e-5)
        ours.reset_state()
        theirs.reset_state()


def test_tensors_and_lists_count_as_arrays():
    from_arrays = metrics.pearson_correlation(Y_TRUE, Y_PRED)
    from_tensors = metrics.pearson_correlation(Tensor(Y_TRUE), Tensor(Y_PRED))
    from_lists = metrics.concordance_correlation(Y_TRUE.tolist(), Y_PRED.tolist())
    np.testing.assert_array_equal(from_tensors, from_arrays)
    want = metrics.concordance_correlation(Y_TRUE.astype(float), Y_PRED.astype(float))
    np.testing.assert_array_equal(from_lists, want)


@pytest.mark.parametrize("axis", [-1, 0, (0, 1)])
@pytest.mark.parametrize("cls", CLASSES.values())
def test_config_and_direction_equal_keras_and_config_round_trips(keras, cls, axis):
    ours = getattr(metrics, cls)(name="m", axis=axis)
    theirs = getattr(keras.metrics, cls)(name="m", axis=axis)
    want = theirs.get_config()
    assert ours.get_config() == want
    again = type(ours).from_config(ours.get_config())
    assert again.get_config() == ours.get_config()
    assert metrics.deserialize(metrics.serialize(ours)).get_config() == want
    assert getattr(ours, "_direction", None) == getattr(theirs, "_direction", None)


@pytest.mark.parametrize("cls", CLASSES.values())
def test_class_names_resolve_to_the_metric_keras_gives(keras, cls):
    ours, theirs = metrics.get(cls), keras.metrics.get(cls)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.name == re.sub(r"_\d+$", "", theirs.name)  # Keras numbers repeats


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_function_names_give_the_mean_keras_gives(keras, fn):
    # Keras's name gives the class; ours the function (as for the cross-entropies)
    ours, theirs = metrics.get(fn), keras.metrics.get(fn)
    assert ours is getattr(metrics, fn)
    theirs.update_state(*ROWS)
    assert np.mean(ours(*ROWS)) == pytest.approx(float(_numpy(keras, theirs.result())))


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: metrics.pearson_correlation(Y_TRUE, Y_PRED[:, :3]),
            r"y_true.shape=\(40, 5\), y_pred.shape=\(40, 3\)",
        ),
        (
            lambda: metrics.concordance_correlation(Y_TRUE, Y_PRED, axis=2),
            r"\[-2, 2\).*axis=2 for y_pred.shape=\(40, 5\)",
        ),
        (
            lambda: metrics.pearson_correlation(Y_TRUE, Y_PRED, axis=(1, -1)),
            r"distinct.*axis=\(1, -1\)",
        ),
        (lambda: metrics.PearsonCorrelation(axis="last"), "axis='last'"),
        (lambda: metrics.ConcordanceCorrelation(axis=1.0), "axis=1.0"),
    ],
)
def test_bad_input_raises_value_errors_that_say_what_was_expected(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_evaluate_logs_equal_keras_on_the_same_weights(keras):
    keras.backend.clear_session()  # so Keras's automatic names start afresh
    rng = np.random.default_rng(4)
    x = rng.standard_normal((50, 4)).astype(np.float32)
    y = (x[:, :3] @ rng.standard_normal((3, 3)) + rng.standard_normal((50, 3))) / 2
    y = y.astype(np.float32)
    models = {}
    for lib in (glassnet, keras):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3)])
        found = [lib.metrics.PearsonCorrelation(), lib.metrics.ConcordanceCorrelation()]
        model.compile(loss="mse", metrics=found)
        models[lib] = model
    models[glassnet].set_weights(models[keras].get_weights())
    got = models[glassnet].evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    want = models[keras].evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    names = {"loss", "pearson_correlation", "concordance_correlation"}
    assert got.keys() == want.keys() == names
    assert got == pytest.approx(want, rel=1e-5)
