"""Edges and ecosystem: verbose lines, warnings, errors, interrupts, pipelines,
model selection, clone / pickle / joblib."""

from __future__ import annotations

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
from mlp_parity import (
    GLASSNET_ONLY,
    assert_same_fit,
    fit_quietly,
    make_task,
    reference_class,
)
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from glassnet import optimizers
from glassnet.sklearn import MLPClassifier, MLPRegressor


def record(estimator, X, y, capsys, **fit_params):
    """Fit, returning (printed text, [(warning class, message)])."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(X, y, **fit_params)
    printed = capsys.readouterr().out
    return printed, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="sgd", max_iter=4),
        dict(solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1),
        dict(solver="adam", early_stopping=True, tol=10.0, n_iter_no_change=1),
        dict(solver="adam", tol=10.0, n_iter_no_change=2),
        dict(solver="lbfgs", max_iter=3),
    ],
)
def test_verbose_lines_and_warnings_match(params, capsys):
    X, y = make_task("multiclass", n_samples=80)
    params = {"max_iter": 30, **params}
    ours = MLPClassifier((4,), verbose=True, random_state=0, **params)
    theirs = reference_class(ours)(**ours.get_params())
    printed, warned = record(ours, X, y, capsys)
    expected_printed, expected_warned = record(theirs, X, y, capsys)
    assert printed == expected_printed
    assert warned == expected_warned
    if params["solver"] != "lbfgs":
        assert printed.startswith("Iteration 1, loss = ")
    else:
        assert warned and warned[0][0] is ConvergenceWarning


def test_batch_size_clipped_warning():
    X, y = make_task("regression", n_samples=20)
    with pytest.warns(UserWarning, match="It is going to be clipped"):
        fit_quietly_but(
            MLPRegressor(hidden_layer_sizes=(3,), batch_size=50, max_iter=2), X, y
        )


def fit_quietly_but(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def test_keyboard_interrupt_leaves_a_usable_model(monkeypatch):
    X, y = make_task("binary")
    calls = {"n": 0}
    apply = optimizers.Adam.apply

    def interrupting_apply(self, grads, variables):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        apply(self, grads, variables)

    monkeypatch.setattr(optimizers.Adam, "apply", interrupting_apply)
    clf = MLPClassifier((4,), batch_size=10, max_iter=50, random_state=0)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        clf.fit(X, y)
    assert clf.n_iter_ == 0
    assert clf.predict(X).shape == y.shape


def test_non_finite_weights_raise():
    X = np.full((10, 2), 1e200)
    y = np.full(10, 1e200)
    for cls in (MLPRegressor, reference_class(MLPRegressor())):
        reg = cls(
            hidden_layer_sizes=(2,),
            solver="sgd",
            learning_rate_init=1.0,
            max_iter=2,
            random_state=0,
        )
        with pytest.raises(ValueError, match="non-finite parameter weights"):
            with np.errstate(all="ignore"):
                fit_quietly(reg, X, y)


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(hidden_layer_sizes=(3, -1)), "hidden_layer_sizes must be > 0"),
        (dict(activation="softmax"), "'activation' parameter"),
        (dict(solver="newton"), "'solver' parameter"),
        (dict(momentum=1.5), "'momentum' parameter"),
        (dict(learning_rate_init=0.0), "'learning_rate_init' parameter"),
    ],
)
def test_bad_parameters(params, message):
    X, y = make_task("binary", n_samples=30)
    with pytest.raises(ValueError, match=message):
        MLPClassifier(max_iter=2, **params).fit(X, y)


def test_validation_set_too_small():
    X, y = make_task("regression", n_samples=30)
    reg = MLPRegressor(early_stopping=True, validation_fraction=0.01)
    with pytest.raises(ValueError, match="The validation set is too small"):
        reg.fit(X, y)


def test_bad_data():
    X, y = make_task("binary", n_samples=30)
    clf = fit_quietly(MLPClassifier((3,), max_iter=2), X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :2])
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPClassifier().fit(X_nan, y)
    with pytest.raises(ValueError, match="classes not in"):
        clf = MLPClassifier((3,), max_iter=2)
        fit_quietly(clf, X, y, method="partial_fit", classes=[0, 1])
        clf.partial_fit(X, y + 2)
    with pytest.raises(ValueError, match="partial_fit does not support early_stop"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="non-negative targets"):
        MLPRegressor(loss="poisson").fit(X, -np.abs(X[:, 0]))


def test_partial_fit_availability_matches_sklearn():
    for cls in (MLPClassifier, MLPRegressor):
        ours, theirs = cls(solver="lbfgs"), reference_class(cls())(solver="lbfgs")
        assert hasattr(ours, "partial_fit") == hasattr(theirs, "partial_fit")
    # scikit-learn's quirk: the regressor's partial_fit runs L-BFGS from the
    # current weights
    X, y = make_task("regression")
    params = dict(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=3, random_state=0)
    ours, theirs = MLPRegressor(**params), reference_class(MLPRegressor())(**params)
    for _ in range(2):
        fit_quietly(ours, X, y, method="partial_fit")
        fit_quietly(theirs, X, y, method="partial_fit")
    assert_same_fit(ours, theirs, X)


def test_ecosystem_pipeline_grid_search_cross_val():
    X, y = make_task("multiclass", n_samples=90)
    pipe = make_pipeline(
        StandardScaler(), MLPClassifier((5,), solver="lbfgs", max_iter=50)
    )
    fit_quietly(pipe, X, y)
    assert pipe.score(X, y) > 0.5
    grid = GridSearchCV(
        MLPClassifier(max_iter=20, random_state=0),
        {"hidden_layer_sizes": [(3,), (6,)], "alpha": [1e-4, 1e-2]},
        cv=2,
        n_jobs=2,
    )
    fit_quietly(grid, X, y)
    assert grid.best_params_["hidden_layer_sizes"] in [(3,), (6,)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = cross_val_score(
            MLPRegressor(
                hidden_layer_sizes=(4,), solver="lbfgs", max_iter=30, random_state=0
            ),
            *make_task("regression", n_samples=60),
            cv=3,
        )
    assert scores.shape == (3,) and np.isfinite(scores).all()


def test_clone_pickle_joblib_round_trips():
    X, y = make_task("multiclass")
    clf = fit_quietly(MLPClassifier((5,), max_iter=5, random_state=0), X, y)
    assert clone(clf).get_params() == clf.get_params()
    assert not hasattr(clone(clf), "coefs_")
    for restored in (
        pickle.loads(pickle.dumps(clf)),
        joblib.load(_dumped(clf)),
    ):
        np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
        for a, b in zip(restored.coefs_, clf.coefs_):
            np.testing.assert_array_equal(a, b)
        # still trainable after the round trip
        fit_quietly(restored, X, y, method="partial_fit")


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_a_pickle_holds_each_weight_once_as_scikit_learns_does(solver):
    """No caches shipped (the Dense layers, a second copy of the packed
    weights): the pickle is scikit-learn's size, give or take its labels."""
    from sklearn import neural_network

    X, y = make_task("multiclass", n_samples=200)
    params = dict(hidden_layer_sizes=(40,), max_iter=3, random_state=0, solver=solver)
    ours = fit_quietly(MLPClassifier(**params), X, y)
    theirs = fit_quietly(neural_network.MLPClassifier(**params), X, y)
    weights = sum(a.nbytes for a in ours.coefs_ + ours.intercepts_)
    size = len(pickle.dumps(ours))
    assert abs(size - len(pickle.dumps(theirs))) < weights / 4
    restored = pickle.loads(pickle.dumps(ours))
    assert restored._packing.holds(restored.coefs_ + restored.intercepts_)
    assert restored._packed.data is restored._packing.data


def _dumped(estimator):
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    buffer.seek(0)
    return buffer


def test_coefs_are_the_trained_arrays():
    X, y = make_task("regression")
    reg = fit_quietly(
        MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", max_iter=2), X, y
    )
    layers = reg._network()
    assert all(layer.kernel.data is c for layer, c in zip(layers, reg.coefs_))
    before = [c for c in reg.coefs_]
    fit_quietly(reg, X, y, method="partial_fit")
    assert all(a is b for a, b in zip(before, reg.coefs_))  # updated in place


def test_predict_log_proba_and_score():
    X, y = make_task("binary")
    ours = fit_quietly(MLPClassifier((4,), max_iter=5, random_state=0), X, y)
    theirs = fit_quietly(reference_class(ours)(**ours.get_params()), X, y)
    assert_same_fit(ours, theirs, X)
    np.testing.assert_allclose(
        ours.predict_log_proba(X), theirs.predict_log_proba(X), rtol=1e-10
    )
    assert ours.score(X, y) == theirs.score(X, y)


def test_feature_names_in():
    pd = pytest.importorskip("pandas")
    X, y = make_task("binary")
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = fit_quietly(MLPClassifier((3,), max_iter=3), frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    assert clf.n_features_in_ == 4


def test_fitted_attributes_match_sklearn():
    X, y = make_task("multiclass")
    for params in (
        dict(solver="adam"),
        dict(solver="lbfgs"),
        dict(early_stopping=True),
    ):
        ours = fit_quietly(MLPClassifier((3,), max_iter=3, **params), X, y)
        theirs = fit_quietly(reference_class(ours)(**ours.get_params()), X, y)
        public = {k for k in vars(theirs) if k.endswith("_") and not k.startswith("_")}
        # glassnet's one more: beside validation_scores_, for the same solvers
        if params.get("solver") != "lbfgs":
            public.add("validation_loss_curve_")
        assert public == {
            k for k in vars(ours) if k.endswith("_") and not k.startswith("_")
        }


def test_same_parameters_as_sklearn():
    import inspect

    for cls in (MLPClassifier, MLPRegressor):
        ours = inspect.signature(cls.__init__).parameters
        theirs = inspect.signature(reference_class(cls()).cls.__init__).parameters
        # scikit-learn's, in its order, kinds and defaults; then glassnet's own,
        # keyword-only, at the defaults that keep scikit-learn's behaviour
        shared = list(ours)[: len(theirs)]
        assert shared == list(theirs)
        assert [ours[p].default for p in shared] == [p.default for p in theirs.values()]
        assert [ours[p].kind for p in shared] == [p.kind for p in theirs.values()]
        extras = list(ours)[len(theirs) :]
        assert {p: ours[p].default for p in extras} == {
            name: default for name, default in GLASSNET_ONLY.items() if name in extras
        }
        assert set(extras) <= set(GLASSNET_ONLY)
        assert all(ours[p].kind is inspect.Parameter.KEYWORD_ONLY for p in extras)
        assert cls._parameter_constraints.keys() == {
            *reference_class(cls())._parameter_constraints,
            *extras,
        }


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_after_pickle_keeps_optimizer_state(solver):
    X, y = make_task("multiclass")
    params = dict(hidden_layer_sizes=(5,), solver=solver, max_iter=3, random_state=0)
    restored = pickle.loads(pickle.dumps(fit_quietly(MLPClassifier(**params), X, y)))
    never_pickled = fit_quietly(MLPClassifier(**params), X, y)
    restored.partial_fit(X, y)
    never_pickled.partial_fit(X, y)  # momentum / Adam moments carried over
    for a, b in zip(restored.coefs_, never_pickled.coefs_):
        np.testing.assert_array_equal(a, b)


def test_int_hidden_layer_sizes_and_docstring_examples():
    import doctest

    from glassnet.sklearn import _classifier, _regressor

    X, y = make_task("regression")
    ours = fit_quietly(MLPRegressor(hidden_layer_sizes=3, max_iter=4), X, y)
    assert ours.n_layers_ == 3 and ours.coefs_[0].shape == (4, 3)
    for module in (_classifier, _regressor):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_notebooks_show_scikit_learns_html_diagram(cls):
    X, y = make_task("binary" if cls is MLPClassifier else "regression")
    fitted = fit_quietly(cls(hidden_layer_sizes=(3,), max_iter=5), X, y)
    html = fitted._repr_html_()
    assert "sk-estimator" in html and cls.__name__ in html
    assert "hidden_layer_sizes" in html
