"""NeuralNetClassifier / NeuralNetRegressor: any glassnet model as an estimator.

The contract (routing, building, targets, partial_fit, pickling, clones) and
the ecosystem (Pipeline, GridSearchCV, cross_validate); scikit-learn's own
checks are in test_wrapper_checks.py.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import wrapper_models as wm
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from glassnet import callbacks, optimizers
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.sklearn import NeuralNetClassifier, NeuralNetRegressor


def small_classifier(**params):
    params = {"epochs": 5, "random_state": 0, **params}
    params.setdefault("optimizer__learning_rate", 0.05)
    return NeuralNetClassifier(wm.classifier, **params)


# --- routing and parameters -----------------------------------------------------------
def test_builder_gets_routed_parameters_and_the_meta_it_declares():
    calls = []

    def build(units, n_features_in_, n_classes_, classes_, meta, X_dtype_):
        calls.append((units, n_features_in_, n_classes_, list(classes_), meta))
        return wm.classifier(n_classes_, units=units)

    X, y = wm.blobs()
    NeuralNetClassifier(build, model__units=4, random_state=0).fit(X, y)
    (units, n_features, n_classes, classes, meta) = calls[0]
    assert (units, n_features, n_classes, classes) == (4, 4, 3, [0, 1, 2])
    assert meta["target_type_"] == "multiclass" and meta["X_shape_"] == X.shape
    assert meta["X_dtype_"] == np.float64


def test_routed_parameters_are_parameters():
    est = small_classifier(model__units=4)
    assert est.get_params()["model__units"] == 4
    assert est.get_params()["optimizer__learning_rate"] == 0.05
    est.set_params(model__units=6, model__dtype="float64", epochs=2)
    assert est.get_params()["model__units"] == 6 and est.epochs == 2
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    assert "model__units=6" in repr(twin)
    # NOTE: set in __init__ privately: scikit-learn's checks want no public
    # attribute beyond the signature's.
    assert not hasattr(est, "model__units")


def test_unknown_parameters_are_refused_by_fit_and_set_params():
    X, y = wm.blobs()
    with pytest.raises(ValueError, match="routed ones, named model__<name>"):
        NeuralNetClassifier(wm.classifier, unit=3).fit(X, y)
    with pytest.raises(ValueError, match="Invalid parameter 'epoch'"):
        small_classifier().set_params(epoch=3)
    with pytest.raises(ValueError, match="takes no argument 'unit'"):
        small_classifier(model__unit=3).fit(X, y)


def test_optimizer_routing_and_a_shared_instance_is_never_trained():
    X, y = wm.blobs()
    adam = optimizers.Adam(learning_rate=0.5)
    est = NeuralNetClassifier(
        wm.classifier, optimizer=adam, optimizer__learning_rate=0.02, random_state=0
    ).fit(X, y)
    assert est.model_.optimizer is not adam
    assert est.model_.optimizer.learning_rate == 0.02
    assert adam.iterations == 0
    sgd = small_classifier(optimizer="sgd", optimizer__momentum=0.5).fit(X, y)
    assert isinstance(sgd.model_.optimizer, optimizers.SGD)
    assert sgd.model_.optimizer.momentum == 0.5


# --- model instances: templates, never trained, never shared --------------------------
def test_an_instance_is_a_template_rebuilt_with_fresh_weights():
    X, y = wm.regression()
    template = wm.dropout_regressor()
    template.build((None, 4))
    before = template.get_weights()
    reg = NeuralNetRegressor(template, epochs=3, random_state=0).fit(X, y)
    assert reg.model_ is not template
    assert all(np.array_equal(a, b) for a, b in zip(before, template.get_weights()))
    assert not template.compiled
    # the template's Dropout and initializers have no seed; the copy's come from 0
    again = NeuralNetRegressor(template, epochs=3, random_state=0).fit(X, y)
    assert np.array_equal(reg.predict(X), again.predict(X))
    other = NeuralNetRegressor(template, epochs=3, random_state=1).fit(X, y)
    assert not np.array_equal(reg.predict(X), other.predict(X))


def test_fitting_a_clone_leaves_the_original_alone():
    X, y = wm.regression()
    reg = NeuralNetRegressor(wm.dropout_regressor(), epochs=3, random_state=0)
    reg.fit(X, y)
    prediction, weights = reg.predict(X), reg.model_.get_weights()
    twin = clone(reg)
    assert twin.model is not reg.model
    twin.set_params(epochs=6).fit(X[:40], -y[:40])
    assert twin.model_ is not reg.model_
    assert np.array_equal(reg.predict(X), prediction)
    assert all(np.array_equal(a, b) for a, b in zip(weights, reg.model_.get_weights()))


def test_model_parameters_need_a_builder():
    X, y = wm.regression()
    with pytest.raises(ValueError, match="model__ parameters are passed to a function"):
        NeuralNetRegressor(wm.dropout_regressor(), model__units=3).fit(X, y)
    with pytest.raises(ValueError, match="needs model="):
        NeuralNetRegressor().fit(X, y)
    with pytest.raises(TypeError, match="must build and return a glassnet Model"):
        NeuralNetRegressor(lambda: "a model").fit(X, y)


# --- classes and targets --------------------------------------------------------------
LABELS = {
    "strings": np.array(["cat", "dog", "emu"]),
    "ints": np.array([-3, 7, 40]),
    "floats": np.array([1.0, 2.0, 5.0]),
}


@pytest.mark.parametrize("kind", sorted(LABELS))
def test_any_label_type_multiclass(kind):
    X, y = wm.blobs()
    labels = LABELS[kind][y]
    clf = small_classifier(epochs=20).fit(X, labels)
    assert list(clf.classes_) == sorted(LABELS[kind])
    assert clf.n_classes_ == 3
    predicted = clf.predict(X)
    assert predicted.dtype == labels.dtype and set(predicted) <= set(labels)
    assert clf.score(X, labels) > 0.9
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(clf.classes_[proba.argmax(axis=1)], predicted)


@pytest.mark.parametrize("sigmoid", [True, False], ids=["1-sigmoid", "2-softmax"])
@pytest.mark.parametrize("labels", [[False, True], ["no", "yes"]], ids=str)
def test_binary_with_one_sigmoid_or_two_softmax_units(sigmoid, labels):
    X, y = wm.blobs(n_classes=2)
    labels = np.array(labels)[y]
    clf = small_classifier(epochs=20, model__sigmoid_binary=sigmoid).fit(X, labels)
    units = clf.model_.output_shape[-1]
    assert units == (1 if sigmoid else 2)
    assert clf.model_.loss == (
        "binary_crossentropy" if sigmoid else "sparse_categorical_crossentropy"
    )
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    if sigmoid:  # [1 - p, p], p the sigmoid unit's output
        p = clf.model_.predict(X, verbose=0)[:, 0]
        assert np.array_equal(proba, np.column_stack([1 - p, p]))
    assert clf.score(X, labels) > 0.9


def test_one_hot_targets_for_categorical_crossentropy_and_logits():
    X, y = wm.blobs()

    def linear_logits(n_classes_):
        return Sequential([Dense(n_classes_, dtype="float64")])

    clf = NeuralNetClassifier(
        linear_logits,
        loss=__import__("glassnet").losses.CategoricalCrossentropy(from_logits=True),
        epochs=20,
        optimizer__learning_rate=0.05,
        random_state=0,
    ).fit(X, y)
    assert clf._encode_targets(y[:3]).tolist() == np.eye(3)[y[:3]].tolist()
    logits = clf.model_.predict(X, verbose=0)
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), softmax, rtol=1e-12)
    assert clf.score(X, y) > 0.9


def test_a_builder_that_compiles_keeps_its_compile():
    X, y = wm.blobs()

    def build(n_classes_):
        model = wm.classifier(n_classes_)
        model.compile("sgd", "categorical_crossentropy")
        return model

    clf = NeuralNetClassifier(build, optimizer="adam", random_state=0).fit(X, y)
    assert isinstance(clf.model_.optimizer, optimizers.SGD)
    assert clf._encode_targets(y[:2]).shape == (2, 3)  # one-hot for its loss


@pytest.mark.parametrize(
    "units, y, match",
    [
        (4, [0, 1, 2] * 10, "4 output units; y has 3 classes, which need one per"),
        (1, [0, 1, 2] * 10, "1 output units; y has 3 classes"),
        (3, [0, 1] * 15, "3 output units; y has 2 classes, which need 1 or 2"),
    ],
)
def test_output_units_must_fit_the_classes(units, y, match):
    X = np.random.RandomState(0).normal(size=(30, 4))
    model = Sequential([Dense(units, activation="softmax")])
    with pytest.raises(ValueError, match=match):
        NeuralNetClassifier(model).fit(X, y)


def test_one_class_and_unknown_labels_are_errors():
    X, y = wm.blobs()
    with pytest.raises(ValueError, match="at least 2 classes.*1 class: 'a'"):
        small_classifier().fit(X, ["a"] * len(X))
    clf = small_classifier().fit(X, y)
    with pytest.raises(ValueError, match=r"labels not in classes_: \[5\]"):
        clf.partial_fit(X[:3], [0, 1, 5])


def test_multioutput_regression_and_one_output():
    X, Y = wm.regression(n_outputs=3)
    reg = NeuralNetRegressor(wm.regressor, epochs=30, random_state=0)
    reg.set_params(optimizer__learning_rate=0.02)
    assert reg.fit(X, Y).predict(X).shape == (len(X), 3)
    assert reg.n_outputs_ == 3 and reg.score(X, Y) > 0.5
    X, y = wm.regression()
    assert clone(reg).fit(X, y).predict(X).shape == (len(X),)
    with pytest.raises(ValueError, match="1 output units; y has 3 targets"):
        NeuralNetRegressor(wm.dropout_regressor()).fit(X, Y)


def test_feature_names_in():
    pd = pytest.importorskip("pandas")
    X, y = wm.regression()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    reg = NeuralNetRegressor(wm.regressor, random_state=0).fit(frame, y)
    assert reg.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        reg.predict(X)


# --- partial_fit, warm_start, history -------------------------------------------------
def test_partial_fit_is_one_epoch_of_the_same_network():
    X, y = wm.blobs()
    clf = small_classifier(shuffle=False)
    clf.partial_fit(X, y)
    model = clf.model_
    clf.partial_fit(X, y).partial_fit(X, y)
    assert clf.model_ is model and len(clf.history_["loss"]) == 3
    # without shuffling, three one-epoch calls are one three-epoch fit, bit for bit
    fitted = small_classifier(shuffle=False, epochs=3).fit(X, y)
    assert clf.history_ == fitted.history_
    assert np.array_equal(clf.predict_proba(X), fitted.predict_proba(X))


def test_partial_fit_classes_on_the_first_call():
    X, y = wm.blobs()
    clf = small_classifier().partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert clf.n_classes_ == 3 and clf.model_.output_shape == (None, 3)
    clf.partial_fit(X, y)
    with pytest.raises(ValueError, match="labels not in classes"):
        small_classifier().partial_fit(X, y, classes=[0, 1])


def test_partial_fit_epochs_shuffle_differently_yet_repeatably():
    X, y = wm.blobs()
    first, second = small_classifier(), small_classifier()
    for _ in range(3):
        first.partial_fit(X, y)
        second.partial_fit(X, y)
    assert first.history_ == second.history_
    assert len(set(first.history_["loss"])) == 3


def test_warm_start_continues_and_fit_restarts():
    X, y = wm.blobs()
    warm = small_classifier(warm_start=True, epochs=2).fit(X, y)
    model = warm.model_
    warm.fit(X, y)
    assert warm.model_ is model and len(warm.history_["loss"]) == 4
    cold = small_classifier(epochs=2).fit(X, y)
    model = cold.model_
    cold.fit(X, y)
    assert cold.model_ is not model and len(cold.history_["loss"]) == 2


def test_history_validation_split_metrics_and_callbacks():
    X, y = wm.blobs()
    stop = callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    clf = small_classifier(
        epochs=10, validation_split=0.2, metrics=["accuracy"], callbacks=[stop]
    ).fit(X, y)
    assert set(clf.history_) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(clf.history_["loss"]) == 2  # stopped by the copy of `stop`
    assert stop.model is None  # the parameter itself is never touched


# --- randomness -----------------------------------------------------------------------
def test_random_state_repeats_and_leaves_the_global_states_alone():
    import random

    X, y = wm.blobs()
    np.random.seed(123)
    random.seed(123)
    state, python_state = np.random.get_state(), random.getstate()
    a = small_classifier().fit(X, y).predict_proba(X)
    assert all(
        np.array_equal(u, v) for u, v in zip(state, np.random.get_state(), strict=True)
    )
    assert random.getstate() == python_state
    b = small_classifier().fit(X, y).predict_proba(X)
    c = small_classifier(random_state=1).fit(X, y).predict_proba(X)
    d = small_classifier(random_state=np.random.RandomState(0)).fit(X, y)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert d.predict_proba(X).shape == a.shape


def test_a_builders_unseeded_dropout_repeats_with_random_state():
    """A Dropout without a seed takes one from Python's random when it is
    made: the builder runs with Python's random seeded from random_state."""
    import random

    X, y = wm.regression()
    predictions = []
    for python_seed, random_state in [(1, 0), (2, 0), (1, 1)]:
        random.seed(python_seed)
        reg = NeuralNetRegressor(
            wm.regressor, model__dropout=0.5, epochs=3, random_state=random_state
        )
        predictions.append(reg.fit(X, y).predict(X))
    assert np.array_equal(predictions[0], predictions[1])
    assert not np.array_equal(predictions[0], predictions[2])


def test_seeded_fits_in_threads_repeat_the_serial_ones():
    """The global random state is seeded under a lock: two threads fitting at
    once draw what each would alone."""
    from concurrent.futures import ThreadPoolExecutor

    X, y = wm.blobs()
    serial = [small_classifier(random_state=s).fit(X, y) for s in (0, 1)]
    with ThreadPoolExecutor(2) as pool:
        threaded = list(
            pool.map(lambda s: small_classifier(random_state=s).fit(X, y), (0, 1))
        )
    for a, b in zip(serial, threaded):
        assert np.array_equal(a.predict_proba(X), b.predict_proba(X))


def test_a_failed_refit_leaves_the_estimator_as_it_was():
    X, y = wm.blobs()
    clf = small_classifier().fit(X, y)
    fitted = dict(vars(clf))
    prediction = clf.predict_proba(X)
    clf.set_params(model=Sequential([Dense(4, activation="softmax")]))
    with pytest.raises(ValueError, match="4 output units; y has 3 classes"):
        clf.fit(X[:, :3], np.array(["p", "q", "r"])[y])
    assert {k: v for k, v in vars(clf).items() if k != "model"} == {
        k: v for k, v in fitted.items() if k != "model"
    }
    assert clf.n_features_in_ == 4 and clf.classes_.tolist() == [0, 1, 2]
    assert np.array_equal(clf.predict_proba(X), prediction)


# --- float32 models -------------------------------------------------------------------
def test_float32_model_stays_close_to_the_float64_model():
    """The documented tolerance: same initial draws, rounded to float32."""
    X, y = wm.regression()
    y = y / y.std()
    fits = {
        dtype: NeuralNetRegressor(
            wm.regressor, model__dtype=dtype, epochs=20, random_state=0
        ).fit(X, y)
        for dtype in ("float32", "float64")
    }
    p32, p64 = (fits[d].predict(X) for d in ("float32", "float64"))
    assert p32.dtype == np.float32 and p64.dtype == np.float64
    np.testing.assert_allclose(p32, p64, rtol=0, atol=1e-5)
    assert abs(fits["float32"].score(X, y) - fits["float64"].score(X, y)) < 1e-5


# --- pickling: predictions kept, nothing of the data ----------------------------------
def test_pickle_after_fit_predicts_the_same_and_ships_small():
    sizes = {}
    for n_samples in (60, 3000):
        X, y = wm.blobs(n_samples=n_samples)
        clf = small_classifier(epochs=2, validation_split=0.1, metrics=["accuracy"])
        sizes["unfitted"] = len(pickle.dumps(clf))
        clf.fit(X, y)
        blob = pickle.dumps(clf)
        sizes[n_samples] = len(blob)
        again = pickle.loads(blob)
        assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))
        assert again.history_ == clf.history_
        again.partial_fit(X, y)  # the optimizer state came along
    # the same size whatever the data's (96 kB of X at 3000 samples): no data,
    # no cache per batch size (bytes differ only in the models' automatic names)
    assert abs(sizes[60] - sizes[3000]) < 16 and sizes[3000] < 7_000
    assert sizes["unfitted"] < 1_000


# --- the ecosystem --------------------------------------------------------------------
def test_pipeline_grid_search_over_model_parameters_and_cross_validate():
    X, y = wm.blobs(n_samples=60)
    labels = np.array(["x", "y", "z"])[y]
    pipe = make_pipeline(StandardScaler(), small_classifier(epochs=10))
    grid = {"neuralnetclassifier__model__units": [2, 6]}
    search = GridSearchCV(pipe, grid, cv=2).fit(X, labels)
    assert list(search.cv_results_["param_neuralnetclassifier__model__units"]) == [2, 6]
    assert search.best_estimator_.predict(X[:2]).dtype == labels.dtype
    scores = cross_validate(NeuralNetRegressor(wm.regressor), *wm.regression(), cv=2)
    assert len(scores["test_score"]) == 2


def test_docstring_examples_and_the_notebook_diagram():
    import doctest

    from glassnet.sklearn import _wrappers

    result = doctest.testmod(_wrappers)
    assert result.attempted > 0 and result.failed == 0
    html = small_classifier(model__units=3)._repr_html_()
    assert "NeuralNetClassifier" in html and "model__units" in html
