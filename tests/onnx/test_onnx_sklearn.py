"""onnxruntime runs the exported MLP estimators and agrees with their
``predict`` and ``predict_proba``, named as skl2onnx names them."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.sklearn import MLPClassifier, MLPRegressor

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx_checks import BATCHES, close, session  # noqa: E402

import glassnet.onnx as gx  # noqa: E402  (after the skips: it needs onnx)


def _data(n=60, features=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)).astype(np.float32), rng


def _regression(outputs=1, dtype=np.float32, **kwargs):
    x, rng = _data()
    y = x @ rng.standard_normal((4, outputs))
    y = np.abs(y) if kwargs.get("loss") == "poisson" else y
    est = MLPRegressor(
        hidden_layer_sizes=(8, 5), max_iter=300, random_state=0, **kwargs
    )
    return est.fit(x.astype(dtype), y[:, 0] if outputs == 1 else y)


def _classification(labels, multilabel=False, **kwargs):
    x, rng = _data()
    scores = x @ rng.standard_normal((4, len(labels)))
    if multilabel:
        y = (scores > 0).astype(int)
    else:
        y = np.asarray(labels)[scores.argmax(axis=1)]
    est = MLPClassifier(hidden_layer_sizes=(7,), max_iter=300, random_state=0, **kwargs)
    return est.fit(x, y)


ESTIMATORS = {
    "regressor tanh": lambda: _regression(activation="tanh"),
    "regressor relu, 3 outputs": lambda: _regression(3),
    "regressor fitted in float64": lambda: _regression(2, np.float64),
    "regressor poisson": lambda: _regression(loss="poisson", activation="logistic"),
    "regressor, one activation per layer, dropout": lambda: _regression(
        activation=["tanh", "relu"], dropout=0.2
    ),
    "binary, string labels": lambda: _classification(["no", "yes"]),
    "multiclass, string labels": lambda: _classification(["ant", "bee", "cat"]),
    "multiclass, int labels, logistic": lambda: _classification(
        [3, 7, 11, 20], activation="logistic"
    ),
    "binary, int labels, identity": lambda: _classification(
        [-1, 1], activation="identity"
    ),
    "multilabel": lambda: _classification([0, 1, 2], multilabel=True),
}

with_warnings = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


@with_warnings
@pytest.mark.parametrize("case", ESTIMATORS)
def test_onnxruntime_agrees_on_the_estimators(case):
    est = ESTIMATORS[case]()
    proto = gx.export(est)
    onnx.checker.check_model(proto, full_check=True)
    run = session(proto)
    assert [i.name for i in run.get_inputs()] == ["X"]
    for n in BATCHES:
        x, _ = _data(n, seed=100 + n)
        outputs = run.run(None, {"X": x})
        if isinstance(est, MLPRegressor):
            assert [o.name for o in run.get_outputs()] == ["variable"]
            ours = est.predict(x).reshape(n, -1)
            close(outputs[0], ours)
            continue
        assert [o.name for o in run.get_outputs()] == ["label", "probabilities"]
        label, probabilities = outputs
        close(probabilities, est.predict_proba(x))
        np.testing.assert_array_equal(label, est.predict(x))
        assert label.dtype.kind == np.asarray(est.classes_).dtype.kind or (
            label.dtype == object and est.classes_.dtype.kind == "U"
        )


@with_warnings
def test_an_unfitted_estimator_is_refused():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        gx.export(MLPRegressor())
