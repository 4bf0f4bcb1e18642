"""Shared data and helpers: fit glassnet's and scikit-learn's estimators alike."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

neural_network = pytest.importorskip("sklearn.neural_network")

RTOL = 1e-8


def make_task(task: str, n_samples: int = 60, n_features: int = 4, seed: int = 0):
    """Small (X, y) for 'regression', 'multioutput', 'poisson', 'binary',
    'multiclass', 'multilabel' or 'strings'."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    score = X @ rng.normal(size=(n_features, 3))
    if task == "regression":
        return X, score[:, 0]
    if task == "multioutput":
        return X, score[:, :2]
    if task == "poisson":
        return X, rng.poisson(np.exp(0.3 * score[:, 0])).astype(float)
    if task == "binary":
        return X, (score[:, 0] > 0).astype(int)
    if task == "multiclass":
        return X, np.argmax(score, axis=1)
    if task == "multilabel":
        return X, (score[:, :3] > 0).astype(int)
    if task == "strings":
        return X, np.take(np.array(["b", "r", "g"]), np.argmax(score, axis=1))
    raise ValueError(task)


#: glassnet's keywords that scikit-learn lacks, at their defaults (which keep
#: scikit-learn's behaviour, bit for bit).
GLASSNET_ONLY = {
    "dropout": 0.0,
    "early_stopping_metric": "score",
    "restore_best_weights": True,
    "callbacks": None,
    "optimizer": None,
    "huber_delta": 1.0,
    "class_weight": None,
}


class Reference:
    """scikit-learn's class of the same name, called with glassnet's
    parameters: the keywords scikit-learn lacks are dropped when they are at
    their defaults, and refused otherwise (nothing but a default may be
    compared with scikit-learn). Its attributes are the class's."""

    def __init__(self, cls):
        self.cls = cls

    def __call__(self, **params):
        for name, default in GLASSNET_ONLY.items():
            if name in params and params.pop(name) != default:
                raise ValueError(f"scikit-learn has no {name}")
        return self.cls(**params)

    def __getattr__(self, name):
        return getattr(self.cls, name)


def reference_class(estimator):
    """scikit-learn's class of the same name (see :class:`Reference`)."""
    return Reference(getattr(neural_network, type(estimator).__name__))


def fit_quietly(estimator, *args, method="fit", **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(estimator, method)(*args, **kwargs)


def assert_same_fit(ours, theirs, X=None, rtol=RTOL):
    """Every fitted number of ``ours`` equals scikit-learn's ``theirs``."""
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.n_layers_ == theirs.n_layers_
    assert ours.n_outputs_ == theirs.n_outputs_
    assert ours.out_activation_ == theirs.out_activation_
    assert len(ours.coefs_) == len(theirs.coefs_)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.dtype == b.dtype
        assert_allclose(a, b, rtol=rtol, atol=1e-12)
    assert_allclose(ours.loss_, theirs.loss_, rtol=rtol)
    for name in ("loss_curve_", "validation_scores_"):
        if hasattr(theirs, name) and getattr(theirs, name) is not None:
            assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=rtol)
        else:
            assert getattr(ours, name, None) is None
    for name in ("best_loss_", "best_validation_score_", "t_"):
        if hasattr(theirs, name):
            expected = getattr(theirs, name)
            if expected is None:
                assert getattr(ours, name) is None
            else:
                assert_allclose(getattr(ours, name), expected, rtol=rtol)
    if hasattr(theirs, "classes_"):
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    if X is not None:
        predicted, expected = ours.predict(X), theirs.predict(X)
        if expected.dtype.kind in "fc":
            assert_allclose(predicted, expected, rtol=rtol, atol=1e-12)
        else:
            np.testing.assert_array_equal(predicted, expected)
        if hasattr(theirs, "predict_proba"):
            assert_allclose(
                ours.predict_proba(X), theirs.predict_proba(X), rtol=rtol, atol=1e-12
            )
