"""glassnet's MLP estimators against scikit-learn itself, number for number."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from mlp_parity import assert_same_fit, fit_quietly, make_task, reference_class

from glassnet.sklearn import MLPClassifier, MLPRegressor

TASKS = ["regression", "binary", "multiclass", "multilabel"]


def estimator_for(task, **params):
    if task in ("regression", "multioutput", "poisson"):
        return MLPRegressor(**params)
    return MLPClassifier(**params)


def fit_both(estimator, X, y, method="fit", **fit_params):
    theirs = reference_class(estimator)(**estimator.get_params())
    fit_quietly(estimator, X, y, method=method, **fit_params)
    fit_quietly(theirs, X, y, method=method, **fit_params)
    return estimator, theirs


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_grid(solver, activation, task, early_stopping):
    X, y = make_task(task)
    est = estimator_for(
        task,
        hidden_layer_sizes=(5, 3),
        activation=activation,
        solver=solver,
        max_iter=6,
        batch_size=16,
        learning_rate_init=0.05,
        early_stopping=early_stopping,
        validation_fraction=0.25,
        n_iter_no_change=2,
        tol=1e-3,
        random_state=1,
    )
    ours, theirs = fit_both(est, X, y)
    assert_same_fit(ours, theirs, X)


@pytest.mark.parametrize(
    "params",
    [
        dict(learning_rate="invscaling", power_t=0.3),
        dict(learning_rate="adaptive", tol=0.5, n_iter_no_change=1),
        dict(nesterovs_momentum=False, momentum=0.5),
        dict(momentum=0.0),
        dict(shuffle=False),
        dict(alpha=0.0),
        dict(alpha=0.5, batch_size=7),
        dict(batch_size=1000),
        dict(n_iter_no_change=np.inf),
    ],
    ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()),
)
def test_sgd_options(params):
    X, y = make_task("multiclass")
    est = MLPClassifier(
        **{
            "hidden_layer_sizes": (6,),
            "solver": "sgd",
            "max_iter": 8,
            "batch_size": 16,
            "learning_rate_init": 0.1,
            "random_state": 3,
            **params,
        }
    )
    ours, theirs = fit_both(est, X, y)
    assert_same_fit(ours, theirs, X)


@pytest.mark.parametrize("task", ["multioutput", "poisson", "strings"])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_other_targets(task, solver):
    X, y = make_task(task)
    est = estimator_for(
        task, hidden_layer_sizes=(4,), solver=solver, max_iter=5, random_state=0
    )
    if task == "poisson":
        est.set_params(loss="poisson", learning_rate_init=0.01)
    ours, theirs = fit_both(est, X, y)
    assert_same_fit(ours, theirs, X)


@pytest.mark.parametrize("task", ["regression", "binary", "multiclass"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_sample_weight(task, early_stopping):
    X, y = make_task(task)
    sw = np.random.RandomState(5).uniform(0.2, 2.0, size=len(y))
    est = estimator_for(
        task,
        hidden_layer_sizes=(4,),
        max_iter=5,
        batch_size=16,
        early_stopping=early_stopping,
        validation_fraction=0.3,
        random_state=0,
    )
    ours, theirs = fit_both(est, X, y, sample_weight=sw)
    assert_same_fit(ours, theirs, X)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_sparse_input(fmt, solver):
    X, y = make_task("multiclass")
    X[np.abs(X) < 0.7] = 0
    Xs = sp.csr_matrix(X).asformat(fmt)
    est = MLPClassifier((5,), solver=solver, max_iter=5, batch_size=16, random_state=0)
    ours, theirs = fit_both(est, Xs, y)
    assert_same_fit(ours, theirs, Xs)
    dense = fit_quietly(MLPClassifier(**est.get_params()), X, y)
    np.testing.assert_allclose(dense.coefs_[0], ours.coefs_[0], rtol=1e-10)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("task", ["regression", "multiclass"])
def test_float32_kept(task, solver):
    X, y = make_task(task)
    X = X.astype(np.float32)
    est = estimator_for(
        task,
        hidden_layer_sizes=(5,),
        solver=solver,
        max_iter=4,
        batch_size=16,
        random_state=0,
    )
    ours, theirs = fit_both(est, X, y)
    # scipy hands L-BFGS's float64 solution back, as in scikit-learn
    dtype = np.float32 if solver == "adam" else np.float64
    assert all(w.dtype == dtype for w in ours.coefs_ + ours.intercepts_)
    assert ours.predict(X[:3]).dtype == theirs.predict(X[:3]).dtype
    # float32 classification is bit-exact; float32 regression has float64 targets,
    # whose gradients scikit-learn keeps in float64 while the engine casts them
    # to the float32 weights' dtype.
    assert_same_fit(ours, theirs, X, rtol=1e-8 if task != "regression" else 1e-4)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("task", ["regression", "binary", "multiclass"])
def test_warm_start_and_partial_fit(solver, task):
    X, y = make_task(task)
    params = dict(hidden_layer_sizes=(5,), solver=solver, max_iter=3, batch_size=16)
    ours = estimator_for(task, warm_start=True, random_state=0, **params)
    theirs = reference_class(ours)(**ours.get_params())
    for _ in range(2):  # an int random_state re-seeds on each call
        fit_quietly(ours, X, y)
        fit_quietly(theirs, X, y)
    assert_same_fit(ours, theirs, X)

    extra = {"classes": np.unique(y)} if task != "regression" else {}
    for seed in (7, "state"):  # an int re-seeds per call; a RandomState carries on
        ours = estimator_for(task, random_state=_seed(seed), **params)
        theirs = reference_class(ours)(random_state=_seed(seed), **params)
        for start in (0, 20, 40):
            part = slice(start, start + 20)
            fit_quietly(ours, X[part], y[part], method="partial_fit", **extra)
            fit_quietly(theirs, X[part], y[part], method="partial_fit", **extra)
        assert_same_fit(ours, theirs, X)
        # partial_fit after fit continues with fit's optimizer state
        fit_quietly(ours, X, y)
        fit_quietly(theirs, X, y)
        fit_quietly(ours, X[:30], y[:30], method="partial_fit")
        fit_quietly(theirs, X[:30], y[:30], method="partial_fit")
        assert_same_fit(ours, theirs, X)


def _seed(seed):
    return np.random.RandomState(3) if seed == "state" else seed


@pytest.mark.parametrize("task", ["regression", "binary"])
def test_warm_start_with_early_stopping(task):
    X, y = make_task(task, n_samples=80)
    ours = estimator_for(
        task,
        hidden_layer_sizes=(5,),
        max_iter=4,
        batch_size=16,
        early_stopping=True,
        warm_start=True,
        n_iter_no_change=1,
        random_state=0,
    )
    theirs = reference_class(ours)(**ours.get_params())
    for _ in range(3):
        fit_quietly(ours, X, y)
        fit_quietly(theirs, X, y)
        assert_same_fit(ours, theirs, X)
