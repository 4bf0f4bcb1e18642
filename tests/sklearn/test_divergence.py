"""A fit that diverges raises scikit-learn's error and leaves the estimator as
it was before the call (glassnet's one deliberate difference from
scikit-learn): the same fitted attributes and predictions, or unfitted."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.utils.validation import check_is_fitted

from glassnet.sklearn import MLPClassifier, MLPRegressor, _base

MESSAGE = "Solver produced non-finite parameter weights"

rng = np.random.default_rng(0)
X = rng.standard_normal((40, 3))
Y = X @ np.array([1.0, 2.0, 3.0])
LABELS = (X[:, 0] > 0).astype(int)
# sgd at a learning rate of 10 on targets of 1e3 overflows within a few epochs
DIVERGING = {"solver": "sgd", "learning_rate_init": 10.0}
SETTINGS = {"hidden_layer_sizes": (5,), "random_state": 0, "max_iter": 30}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # the overflow itself
        yield


def _fitted_state(est):
    """Every fitted attribute (and the solver's private state) as plain data."""
    state = {k: v for k, v in vars(est).items() if k.endswith("_")}
    state["weights"] = [a.copy() for a in est.coefs_ + est.intercepts_]
    optimizer = getattr(est, "_optimizer", None)
    if optimizer is not None:
        state["optimizer"] = (optimizer.iterations, optimizer.learning_rate)
        state["moments"] = [a.copy() for a in optimizer.variables]
    return copy.deepcopy(state)


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        left, right = a[key], b[key]
        if isinstance(left, list) and left and isinstance(left[0], np.ndarray):
            assert len(left) == len(right)
            for x, y in zip(left, right):
                np.testing.assert_array_equal(x, y)
        elif isinstance(left, np.ndarray):
            np.testing.assert_array_equal(left, right)
        else:
            assert left == right or (left != left and right != right), key


def _diverge(est, method="fit", **kwargs):
    with pytest.raises(ValueError, match=MESSAGE) as info:
        getattr(est, method)(X, Y * 1e3, **kwargs)
    assert type(info.value) is ValueError  # exactly scikit-learn's error type
    return str(info.value)


def test_the_error_is_scikit_learns():
    ours = _diverge(MLPRegressor(**SETTINGS, **DIVERGING))
    with pytest.raises(ValueError) as theirs:
        SkRegressor(**SETTINGS, **DIVERGING).fit(X, Y * 1e3)
    assert ours == str(theirs.value)


def test_a_first_fit_that_diverges_leaves_the_estimator_unfitted():
    est = MLPRegressor(**SETTINGS, **DIVERGING)
    params = est.get_params()
    _diverge(est)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    assert est.get_params() == params
    assert not [k for k in vars(est) if k.endswith("_") or k.startswith("_")]


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_a_refit_that_diverges_keeps_the_previous_fit(solver):
    est = MLPRegressor(solver=solver, **SETTINGS).fit(X, Y)
    before, predictions = _fitted_state(est), est.predict(X)
    est.set_params(**DIVERGING)
    _diverge(est)
    _assert_same(_fitted_state(est), before)
    np.testing.assert_array_equal(est.predict(X), predictions)
    assert est.get_params()["solver"] == "sgd"  # the parameters are the user's


def test_a_warm_start_fit_that_diverges_keeps_the_previous_fit():
    est = MLPRegressor(**SETTINGS, solver="sgd", warm_start=True).fit(X, Y)
    before = _fitted_state(est)
    est.set_params(learning_rate_init=10.0)
    _diverge(est)
    _assert_same(_fitted_state(est), before)


def test_partial_fit_after_a_diverged_one_continues_as_if_it_never_ran():
    settings = {**SETTINGS, "solver": "sgd", "learning_rate_init": 0.01}
    settings["batch_size"] = 4  # 10 steps an epoch: one call can overflow
    reference = MLPRegressor(**settings)
    for _ in range(3):
        reference.partial_fit(X, Y)

    est = MLPRegressor(**settings)
    est.partial_fit(X, Y)
    before = _fitted_state(est)
    with pytest.raises(ValueError, match=MESSAGE):
        est.partial_fit(X * 1e100, Y * 1e100)
    _assert_same(_fitted_state(est), before)
    est.partial_fit(X, Y)
    est.partial_fit(X, Y)
    _assert_same(_fitted_state(est), _fitted_state(reference))
    np.testing.assert_array_equal(est.predict(X), reference.predict(X))


def test_a_classifier_first_partial_fit_that_diverges_leaves_it_unfitted():
    clf = MLPClassifier(**SETTINGS, solver="sgd", learning_rate_init=100.0)
    clf.set_params(batch_size=1)  # 40 steps in the one epoch: enough to overflow
    with pytest.raises(ValueError, match=MESSAGE):
        clf.partial_fit(X * 1e300, LABELS, classes=[0, 1])
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    assert not hasattr(clf, "classes_")
    clf.partial_fit(X, LABELS, classes=[0, 1])  # and it can start again
    check_is_fitted(clf)


def test_a_classifier_refit_that_diverges_keeps_the_previous_fit_and_classes():
    clf = MLPClassifier(**SETTINGS, solver="sgd").fit(X, LABELS)
    before, proba = _fitted_state(clf), clf.predict_proba(X)
    clf.set_params(learning_rate_init=1.0)
    with pytest.raises(ValueError, match=MESSAGE):
        clf.fit(X * 1e150, LABELS)
    _assert_same(_fitted_state(clf), before)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    theirs = SkClassifier(**SETTINGS, solver="sgd", learning_rate_init=1.0)
    with pytest.raises(ValueError, match=MESSAGE):
        theirs.fit(X * 1e150, LABELS)


def test_the_random_state_object_is_the_users_after_a_failure():
    state = np.random.RandomState(0)
    est = MLPRegressor(**{**SETTINGS, "random_state": state}, **DIVERGING)
    _diverge(est)
    assert est.random_state is state


def test_the_state_is_copied_once_per_call_not_per_epoch(monkeypatch):
    calls = []
    deepcopy = copy.deepcopy

    class Counting:
        @staticmethod
        def deepcopy(*args):
            calls.append(1)
            return deepcopy(*args)

    monkeypatch.setattr(_base, "copy", Counting)
    est = MLPRegressor(**{**SETTINGS, "max_iter": 20}, solver="sgd").fit(X, Y)
    assert est.n_iter_ == 20 and len(calls) == 1
    est.partial_fit(X, Y)
    assert len(calls) == 2
