"""to_model() and from_model(): a fitted estimator as a glassnet Sequential
model with the same predictions, and a glassnet model as a fitted estimator."""

from __future__ import annotations

import numpy as np
import pytest
from mlp_parity import fit_quietly, make_task
from numpy.testing import assert_allclose, assert_array_equal

from glassnet.layers import Conv1D, Dense, Dropout
from glassnet.models import Sequential
from glassnet.sklearn import MLPClassifier, MLPRegressor

CASES = [
    ("regression", dict(activation="tanh")),
    ("multioutput", dict(activation=["relu", "identity"], dropout=[0.2, 0.0])),
    ("poisson", dict(loss="poisson", learning_rate_init=0.01)),
    ("binary", dict(activation="logistic", dropout=0.3)),
    ("multiclass", dict(activation=["tanh", "relu"])),
    ("strings", dict()),
    ("multilabel", dict(solver="lbfgs")),
]


def fitted(task, **params):
    X, y = make_task(task)
    cls = (
        MLPRegressor
        if task in ("regression", "multioutput", "poisson")
        else (MLPClassifier)
    )
    est = cls(hidden_layer_sizes=(6, 4), max_iter=8, random_state=0, **params)
    return fit_quietly(est, X, y), X, y


def outputs(est, X):
    """What the network outputs: predict (as columns) or predict_proba (for
    two classes, P(classes_[1]))."""
    if isinstance(est, MLPRegressor):
        return est.predict(X).reshape(len(X), -1)
    proba = est.predict_proba(X)
    return proba[:, 1:] if est.n_outputs_ == 1 else proba


@pytest.mark.parametrize("task, params", CASES)
def test_to_model_predicts_what_the_estimator_predicts(task, params):
    est, X, _ = fitted(task, **params)
    model = est.to_model()
    assert isinstance(model, Sequential)
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    assert [d.units for d in dense] == [6, 4, est.n_outputs_]
    rates = params.get("dropout", 0.0)
    rates = rates if isinstance(rates, list) else [rates, rates]
    dropout = [layer.rate for layer in model.layers if isinstance(layer, Dropout)]
    assert dropout == [rate for rate in rates if rate]
    assert_allclose(
        model.predict(X, verbose=0), outputs(est, X), rtol=1e-12, atol=1e-15
    )
    # a copy: training the model leaves the estimator alone
    model.layers[0].kernel.data[...] = 0
    assert not np.all(est.coefs_[0] == 0)


@pytest.mark.parametrize("task, params", CASES)
def test_from_model_of_to_model_is_the_same_estimator(task, params):
    est, X, y = fitted(task, **params)
    kwargs = {"classes": est.classes_} if isinstance(est, MLPClassifier) else {}
    back = type(est).from_model(est.to_model(), **kwargs)
    for a, b in zip(back.coefs_ + back.intercepts_, est.coefs_ + est.intercepts_):
        assert a.dtype == b.dtype
        assert_array_equal(a, b)
    for name in ("hidden_layer_sizes", "activation", "dropout", "loss"):
        assert back.get_params().get(name) == est.get_params().get(name)
    assert back.out_activation_ == est.out_activation_
    assert back.n_features_in_ == est.n_features_in_
    assert_array_equal(back.predict(X), est.predict(X))
    if isinstance(est, MLPClassifier):
        assert_array_equal(back.classes_, est.classes_)
        assert_array_equal(back.predict_proba(X), est.predict_proba(X))
        assert back.score(X, y) == est.score(X, y)


def test_a_model_trained_with_keras_style_fit_becomes_an_estimator():
    X, y = make_task("multiclass", n_samples=90)
    model = Sequential(
        [
            Dense(8, activation="relu", input_dim=4, dtype="float64"),
            Dropout(0.1, dtype="float64"),
            Dense(3, activation="softmax", dtype="float64"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(X, y, epochs=3, batch_size=16, verbose=0)
    clf = MLPClassifier.from_model(
        model, classes=["a", "b", "c"], solver="sgd", random_state=0
    )
    assert clf.get_params()["dropout"] == 0.1
    assert_allclose(clf.predict_proba(X), model.predict(X, verbose=0), rtol=1e-12)
    labels = np.array(["a", "b", "c"])
    assert_array_equal(clf.predict(X), labels[model.predict(X, verbose=0).argmax(1)])
    # and it trains on from there
    before = clf.coefs_[0].copy()
    fit_quietly(clf, X, labels[y], method="partial_fit")
    assert clf.n_iter_ == 1 and not np.array_equal(clf.coefs_[0], before)


@pytest.mark.parametrize(
    "layers, kwargs, message",
    [
        ([Dense(3, activation="relu", input_dim=2)], {}, "output activation"),
        (
            [Dense(3, activation="gelu", input_dim=2), Dense(1)],
            {},
            "hidden activation 'gelu'",
        ),
        ([Dropout(0.1, input_shape=(2,)), Dense(1)], {}, "not after a hidden Dense"),
        ([Conv1D(2, 2, input_shape=(5, 2)), Dense(1)], {}, "the layer"),
        (
            [Dense(3, input_dim=2), Dense(1)],
            {"hidden_layer_sizes": (3,)},
            "takes hidden_layer_sizes from the model",
        ),
    ],
)
def test_from_model_refuses_what_it_cannot_represent(layers, kwargs, message):
    with pytest.raises(ValueError, match=message):
        MLPRegressor.from_model(Sequential(layers), **kwargs)


def test_from_model_checks_the_classes_against_the_outputs():
    model = Sequential([Dense(3, input_dim=2), Dense(1, activation="sigmoid")])
    with pytest.raises(ValueError, match="needs 2 classes"):
        MLPClassifier.from_model(model, classes=[0, 1, 2])
    clf = MLPClassifier.from_model(model, classes=["no", "yes"])
    assert clf.out_activation_ == "logistic"
    with pytest.raises(TypeError, match="built glassnet Sequential"):
        MLPClassifier.from_model(Sequential([Dense(2)]), classes=[0, 1])
