"""MLPClassifier: scikit-learn's multi-layer perceptron classifier on glassnet."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from glassnet.sklearn import _convert, _docs
from glassnet.sklearn._base import BaseMultilayerPerceptron, keeps_fitted_state


class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    __doc__ = f"""Multi-layer perceptron classifier (scikit-learn's, on glassnet).

    Minimises the log-loss plus an L2 penalty with L-BFGS, SGD or Adam: a softmax
    output for multiclass targets, independent logistic outputs for binary and
    multilabel targets. For the same ``random_state`` and data it gives
    scikit-learn 1.9's ``MLPClassifier`` results: the same ``coefs_``,
    ``intercepts_``, ``loss_curve_`` and ``n_iter_``. Keywords scikit-learn
    lacks (class weights, dropout, callbacks, any glassnet optimizer, ...)
    default to its behaviour; ``to_model`` and ``from_model`` convert to and
    from a glassnet ``Sequential`` model.

    Parameters
    ----------
{_docs.PARAMETERS}
{_docs.EXTRA_PARAMETERS}
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes in the loss (every solver; binary and
        multiclass targets): a dict ``{{label: weight}}`` (missing classes
        weigh 1), or 'balanced', ``n_samples / (n_classes * count(class))``
        over the data given to ``fit`` (scikit-learn's
        ``compute_class_weight``; not with ``partial_fit``, whose batches do
        not show the classes' frequencies). Multiplied into
        ``sample_weight`` as scikit-learn's other estimators do: sample i
        weighs ``sample_weight[i] * class_weight[y[i]]``, in the training
        loss and in the validation score and loss. None: every class
        weighs 1 (scikit-learn's MLP).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
{_docs.ATTRIBUTES}

    Notes
    -----
{_docs.DIVERGENCE}

    ``to_model()`` gives the fitted network as a glassnet ``Sequential``
    model whose ``predict`` is ``predict_proba`` (for two classes its second
    column); ``MLPClassifier.from_model(model, classes=...)`` makes a fitted
    estimator of such a model.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from glassnet.sklearn import MLPClassifier
    >>> X, y = make_blobs(n_samples=60, centers=3, random_state=0)
    >>> clf = MLPClassifier((10,), solver="lbfgs", random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        class_weight=None,
        dropout=0.0,
        early_stopping_metric="score",
        restore_best_weights=True,
        callbacks=None,
        optimizer=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss="log_loss",
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dropout=dropout,
            early_stopping_metric=early_stopping_metric,
            restore_best_weights=restore_best_weights,
            callbacks=callbacks,
            optimizer=optimizer,
        )
        self.class_weight = class_weight

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)

        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        y = self._label_binarizer.transform(y).astype(bool)
        return X, y

    def _weigh_samples(self, X, y, sample_weight, incremental):
        """``sample_weight`` times the weight of each sample's class."""
        if self.class_weight is None:
            return sample_weight
        if self._label_binarizer.y_type_ not in ("binary", "multiclass"):
            raise ValueError(
                "class_weight needs a binary or multiclass target. Received: a "
                f"{self._label_binarizer.y_type_} target"
            )
        if incremental and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported for partial_fit (the "
                "class frequencies of one batch are not the data's): compute "
                "the weights on all the data with sklearn.utils.class_weight."
                "compute_class_weight and pass them as a dict."
            )
        index = y[:, 0].astype(np.intp) if y.shape[1] == 1 else y.argmax(axis=1)
        labels = self.classes_[index]
        weights = compute_class_weight(
            self.class_weight, classes=self.classes_, y=labels
        )
        per_sample = weights[index]
        if sample_weight is not None:
            per_sample = per_sample * sample_weight
        return _check_sample_weight(per_sample, X)

    def predict(self, X):
        """Predict the class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes (a label-indicator matrix for multilabel).
        """
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, accuracy_score)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_fitted_state
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array of shape (n_classes,), default=None
            All the classes across the calls to partial_fit (e.g.
            ``np.unique(y_all)``). Required on the first call only.

        Returns
        -------
        self : object
            The updated estimator.
        """
        if _first_partial_fit_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict_log_proba(self, X):
        """The log of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns in the order of ``classes_``.
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    @classmethod
    @_docs.filled
    def from_model(cls, model, *, classes, **params) -> MLPClassifier:
        """A fitted MLPClassifier with the network of a glassnet model.

        Parameters
        ----------
        model : glassnet.models.Sequential
            A built model of Dense layers (hidden activations 'linear',
            'relu', 'tanh' or 'sigmoid'), with Dropout layers after hidden
            layers allowed. Its output layer: one 'sigmoid' unit for two
            classes (P(classes[1])), one 'softmax' unit per class for three or
            more, one 'sigmoid' unit per label for a multilabel target. Its
            weights are copied.
        classes : array-like of shape (n_classes,)
            The class labels; the model's outputs are taken to be in their
            sorted order, that of ``classes_`` (``range(n_labels)`` for a
            multilabel model).
        {from_model_params}

        Returns
        -------
        estimator : MLPClassifier
            Fitted: ``predict_proba(X)`` equals ``model.predict(X)`` (for two
            classes, its second column).
        """
        spec = _convert.read_sequential(model)
        estimator = _convert.unfitted_estimator(cls, spec, params)
        n_outputs = spec["coefs"][-1].shape[1]
        binarizer = LabelBinarizer()
        if spec["output"] == "sigmoid" and n_outputs > 1:
            binarizer.fit(np.eye(n_outputs, dtype=int))
        else:
            binarizer.fit(column_or_1d(classes))
        if not np.array_equal(binarizer.classes_, unique_labels(classes)) or (
            len(binarizer.classes_) != max(n_outputs, 2)
        ):
            raise ValueError(
                f"The model has {n_outputs} output unit(s) "
                f"({spec['output']!r}): it needs {max(n_outputs, 2)} classes "
                f"(range({n_outputs}) for a multilabel model). Received: "
                f"classes={classes!r}"
            )
        estimator._label_binarizer = binarizer
        estimator.classes_ = binarizer.classes_
        return _convert.adopt(estimator, spec)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _first_partial_fit_call(clf, classes) -> bool:
    """Whether this is the first partial_fit (then set ``classes_``); check
    ``classes`` against ``classes_`` otherwise."""
    known = getattr(clf, "classes_", None)
    if known is None and classes is None:
        raise ValueError("classes must be passed on the first call to partial_fit.")
    if classes is None:
        return False
    if known is not None:
        if not np.array_equal(known, unique_labels(classes)):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on last call to "
                f"partial_fit, was: {known!r}"
            )
        return False
    clf.classes_ = unique_labels(classes)
    return True
