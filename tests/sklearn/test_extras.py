"""The keywords scikit-learn refuses (dropout, an activation per layer, class
weights, early stopping on the loss, restoring the best weights), each shown
doing what users asked for, and each at its default changing nothing."""

from __future__ import annotations

import numpy as np
import pytest
from mlp_parity import GLASSNET_ONLY, fit_quietly, make_task
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss, recall_score
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_sample_weight

from glassnet.callbacks import LambdaCallback
from glassnet.sklearn import MLPClassifier, MLPRegressor

FITTED = (
    "coefs_",
    "intercepts_",
    "loss_curve_",
    "validation_scores_",
    "validation_loss_curve_",
    "best_loss_",
    "best_validation_score_",
    "n_iter_",
    "t_",
)


def assert_identical(a, b):
    """Every fitted number the same, to the last bit."""
    for name in FITTED:
        x, y = getattr(a, name, None), getattr(b, name, None)
        if isinstance(x, list) and x and isinstance(x[0], np.ndarray):
            for u, v in zip(x, y, strict=True):
                assert_array_equal(u, v)
        else:
            assert_array_equal(np.asarray(x, dtype=object), np.asarray(y, dtype=object))


def estimator(task, **params):
    cls = MLPClassifier if task in ("binary", "multiclass") else MLPRegressor
    return cls(hidden_layer_sizes=(5, 3), max_iter=5, batch_size=16, **params)


# --- defaults change nothing ----------------------------------------------------------
@pytest.mark.parametrize(
    "task, params",
    [
        ("regression", dict(solver="sgd")),
        ("regression", dict(solver="adam", early_stopping=True)),
        ("regression", dict(solver="lbfgs")),
        ("binary", dict(solver="adam", early_stopping=True)),
        ("multiclass", dict(solver="sgd", learning_rate="adaptive", tol=0.5)),
    ],
)
def test_the_new_keywords_at_their_defaults_change_no_bit(task, params):
    X, y = make_task(task)
    params = dict(random_state=0, n_iter_no_change=2, **params)
    omitted = fit_quietly(estimator(task, **params), X, y)
    extras = {k: v for k, v in GLASSNET_ONLY.items() if k in omitted.get_params()}
    given = estimator(task, **params, **extras)
    # an activation and a dropout rate per layer, all the same, are the one
    given.set_params(activation=["relu", "relu"], dropout=[0.0, 0.0])
    fit_quietly(given, X, y)
    assert_identical(given, omitted)
    assert_array_equal(given.predict(X), omitted.predict(X))


# --- parameter validation -------------------------------------------------------------
@pytest.mark.parametrize(
    "params, message",
    [
        (dict(activation=["relu", "softmax"]), "'activation' parameter"),
        (dict(activation=["relu"]), "activation takes one value, or one per hidden"),
        (dict(dropout=1.0), "'dropout' parameter"),
        (dict(dropout=[0.1, -0.1]), "'dropout' parameter"),
        (dict(dropout=[0.1, 0.2, 0.3]), "dropout takes one value, or one per hidden"),
        (dict(early_stopping_metric="auc"), "'early_stopping_metric' parameter"),
        (dict(class_weight="uniform"), "'class_weight' parameter"),
        (dict(callbacks=[print]), "'callbacks' parameter"),
        (dict(optimizer="adam"), "'optimizer' parameter"),
        (dict(solver="lbfgs", dropout=0.2), "dropout needs a stochastic solver"),
    ],
)
def test_bad_extras_are_refused_naming_the_parameter(params, message):
    X, y = make_task("binary", n_samples=30)
    with pytest.raises(ValueError, match=message):
        MLPClassifier((4, 3), max_iter=2, **params).fit(X, y)


def test_constraint_messages_say_what_is_expected():
    X, y = make_task("regression", n_samples=30)
    with pytest.raises(InvalidParameterError) as error:
        MLPRegressor(hidden_layer_sizes=(3,), activation=["gelu"]).fit(X, y)
    assert "a list of str among ['identity', 'logistic', 'relu', 'tanh']" in str(
        error.value
    )
    with pytest.raises(InvalidParameterError, match="'huber_delta' parameter"):
        MLPRegressor(loss="huber", huber_delta=0.0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'loss' parameter"):
        MLPRegressor(loss="l1").fit(X, y)


# --- an activation per layer ----------------------------------------------------------
def test_an_activation_per_hidden_layer_is_used_layer_by_layer():
    X, y = make_task("regression")
    reg = fit_quietly(
        MLPRegressor(
            hidden_layer_sizes=(4, 3),
            activation=["tanh", "relu"],
            max_iter=3,
            random_state=0,
        ),
        X,
        y,
    )
    W0, W1, W2 = reg.coefs_
    b0, b1, b2 = reg.intercepts_
    expected = np.maximum(np.tanh(X @ W0 + b0) @ W1 + b1, 0) @ W2 + b2
    assert_allclose(reg.predict(X), expected[:, 0], rtol=1e-12)


def test_the_glorot_bound_follows_each_layers_activation():
    X, y = make_task("regression")
    mixed = MLPRegressor(
        hidden_layer_sizes=(4, 3), activation=["logistic", "relu"], max_iter=1
    )
    mixed._random_state = np.random.RandomState(0)
    mixed.coefs_ = []
    bounds = []
    for fan_in, fan_out in [(4, 4), (4, 3), (3, 1)]:
        coef, _ = mixed._init_coef(fan_in, fan_out, np.float64)
        mixed.coefs_.append(coef)
        bounds.append(np.abs(coef).max())
    # logistic: sqrt(2 / (fan_in + fan_out)); relu (and the output after it): 6
    assert bounds[0] <= np.sqrt(2 / 8)
    assert bounds[1] > np.sqrt(2 / 7)
    assert bounds[1] <= np.sqrt(6 / 7) and bounds[2] <= np.sqrt(6 / 4)


# --- dropout --------------------------------------------------------------------------
def _dropout_fit(**params):
    X, y = make_task("regression", n_samples=80)
    settings = dict(
        hidden_layer_sizes=(16, 8),
        dropout=0.3,
        max_iter=20,
        batch_size=20,
        learning_rate_init=0.01,
        random_state=0,
    )
    reg = MLPRegressor(**{**settings, **params})
    return fit_quietly(reg, X, y), X, y


def test_dropout_is_off_at_inference_and_deterministic():
    reg, X, _ = _dropout_fit()
    first = reg.predict(X)
    assert_array_equal(reg.predict(X), first)
    # the plain forward pass with the trained weights: no mask, no rescaling
    h = X
    for W, b in zip(reg.coefs_[:-1], reg.intercepts_[:-1]):
        h = np.maximum(h @ W + b, 0)
    assert_allclose(first, (h @ reg.coefs_[-1] + reg.intercepts_[-1])[:, 0], rtol=1e-12)


def test_dropout_preserves_the_mean_activation_in_training():
    from glassnet.autograd import no_grad
    from glassnet.sklearn import _network, _solvers

    reg, X, _ = _dropout_fit(dropout=[0.0, 0.5])
    reg._random_state = np.random.RandomState(1)
    dropouts = _solvers._dropout_layers(reg, np.float64)
    assert dropouts[0] is None and dropouts[1].rate == 0.5
    activations = reg._fused_activations()
    repeats = 4000
    batch = np.repeat(X[:5], repeats, axis=0)
    with no_grad():
        trained = _network.network_output(batch, reg._network(), activations, dropouts)
        plain = _network.network_output(X[:5], reg._network(), activations)
    trained = trained.data.reshape(5, repeats, -1)
    # z is linear in the last hidden layer's (dropped) units: its mean over
    # masks is the plain z exactly when dropout keeps their mean
    spread = trained.std(axis=1) / np.sqrt(repeats)
    assert (trained.std(axis=1) > 0).all()  # the masks are there
    assert (np.abs(trained.mean(axis=1) - plain.data) < 5 * spread).all()


def test_dropout_is_seeded_from_random_state_after_the_initial_weights():
    record = []

    class Recording(MLPRegressor):
        def _initialize(self, y, layer_units, dtype):
            super()._initialize(y, layer_units, dtype)
            record.append([c.copy() for c in self.coefs_])

    X, y = make_task("regression")
    params = dict(hidden_layer_sizes=(6,), max_iter=3, random_state=4)
    runs = [
        fit_quietly(Recording(dropout=rate, **params), X, y) for rate in (0.0, 0.4, 0.4)
    ]
    for a, b in zip(record[0], record[1]):
        assert_array_equal(a, b)  # the same initial weights, with or without
    assert_identical(runs[1], runs[2])  # the same seed, the same masks
    assert not np.array_equal(runs[0].coefs_[0], runs[1].coefs_[0])
    other = fit_quietly(
        MLPRegressor(dropout=0.4, **{**params, "random_state": 5}), X, y
    )
    assert not np.array_equal(other.coefs_[0], runs[1].coefs_[0])


# --- class weights --------------------------------------------------------------------
def test_balanced_class_weight_raises_minority_recall():
    X, y = make_classification(
        n_samples=600,
        n_features=6,
        n_informative=3,
        weights=[0.93, 0.07],
        class_sep=0.6,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, stratify=y, test_size=0.5, random_state=0
    )
    params = dict(
        hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=200, random_state=0
    )
    plain = fit_quietly(MLPClassifier(**params), X_train, y_train)
    balanced = fit_quietly(
        MLPClassifier(class_weight="balanced", **params), X_train, y_train
    )
    before = recall_score(y_test, plain.predict(X_test))
    after = recall_score(y_test, balanced.predict(X_test))
    # unweighted, the 7% class is all but ignored (here: never predicted)
    assert before < 0.2 and after > 0.7, (before, after)


@pytest.mark.parametrize("task", ["binary", "multiclass", "strings"])
def test_class_weight_is_scikit_learns_sample_weight_times_the_users(task):
    X, y = make_task(task)
    sw = np.random.RandomState(1).uniform(0.5, 2, len(y))
    classes = np.unique(y)
    params = dict(hidden_layer_sizes=(4,), max_iter=4, batch_size=16, random_state=0)
    for class_weight in ("balanced", {classes[0]: 3.0, classes[-1]: 0.5}):
        weights = compute_sample_weight(class_weight, y)
        ours = fit_quietly(MLPClassifier(class_weight=class_weight, **params), X, y)
        reference = fit_quietly(MLPClassifier(**params), X, y, sample_weight=weights)
        assert_identical(ours, reference)
        ours = fit_quietly(
            MLPClassifier(class_weight=class_weight, **params), X, y, sample_weight=sw
        )
        reference = fit_quietly(
            MLPClassifier(**params), X, y, sample_weight=sw * weights
        )
        assert_identical(ours, reference)


def test_class_weight_refusals():
    X, y = make_task("multilabel")
    with pytest.raises(ValueError, match="binary or multiclass target"):
        MLPClassifier(class_weight="balanced", max_iter=2).fit(X, y)
    X, y = make_task("binary")
    with pytest.raises(ValueError, match="not supported for partial_fit"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1])
    clf = MLPClassifier((3,), class_weight={0: 2.0}, max_iter=2, random_state=0)
    fit_quietly(clf, X, y, method="partial_fit", classes=[0, 1])


# --- the validation loss, early stopping on it, the best weights ----------------------
class Watched(MLPClassifier):
    """Records the held-out set the score is computed on."""

    def _score(self, X, y, sample_weight=None):
        self.held_out_ = (X, y)
        return super()._score(X, y, sample_weight)


def _weights_each_epoch():
    seen = []

    def keep(epoch, logs):
        seen.append(callback.model.get_weights())

    callback = LambdaCallback(on_epoch_end=keep)
    return callback, seen


def test_the_validation_loss_is_the_loss_on_the_held_out_set():
    X, y = make_task("multiclass", n_samples=120)
    callback, weights = _weights_each_epoch()
    clf = Watched(
        (6,),
        alpha=0.0,
        early_stopping=True,
        validation_fraction=0.25,
        max_iter=8,
        n_iter_no_change=100,
        callbacks=[callback],
        random_state=0,
    )
    fit_quietly(clf, X, y)
    X_val, y_val = clf.held_out_
    assert len(clf.validation_loss_curve_) == len(weights) == clf.n_iter_ == 8
    for value, epoch_weights in zip(clf.validation_loss_curve_, weights):
        clf.set_weights(epoch_weights)
        expected = log_loss(y_val, clf.predict_proba(X_val), labels=clf.classes_)
        assert_allclose(value, expected, rtol=1e-10)


@pytest.mark.parametrize("metric", ["score", "loss"])
@pytest.mark.parametrize("restore", [True, False])
def test_restore_best_weights_leaves_the_best_validation_epoch(metric, restore):
    X, y = make_task("regression", n_samples=120)
    callback, weights = _weights_each_epoch()
    reg = MLPRegressor(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=0.3,
        early_stopping=True,
        early_stopping_metric=metric,
        restore_best_weights=restore,
        n_iter_no_change=4,
        max_iter=40,
        callbacks=[callback],
        random_state=0,
    )
    fit_quietly(reg, X, y)
    scores, losses = reg.validation_scores_, reg.validation_loss_curve_
    best = int(np.argmax(scores) if metric == "score" else np.argmin(losses))
    assert best < reg.n_iter_ - 1, "the fit should have gone past its best epoch"
    kept = weights[best] if restore else weights[-1]
    for a, b in zip(reg.get_weights(), kept):
        assert_array_equal(a, b)
    assert reg.best_validation_score_ == max(scores)


def test_early_stopping_on_the_loss_stops_when_the_loss_stalls():
    X, y = make_task("regression", n_samples=120)
    reg = MLPRegressor(
        hidden_layer_sizes=(8,),
        early_stopping=True,
        early_stopping_metric="loss",
        n_iter_no_change=3,
        tol=1e9,  # no epoch improves the loss by that much
        max_iter=50,
        random_state=0,
    )
    fit_quietly(reg, X, y)
    assert reg.n_iter_ == 5  # the first epoch, then 4 > n_iter_no_change without
