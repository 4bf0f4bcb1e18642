"""NeuralNetClassifier and NeuralNetRegressor: any glassnet model as a
scikit-learn estimator (the machinery: :mod:`glassnet.sklearn._wrapper_base`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from glassnet import losses
from glassnet.sklearn._wrapper_base import BaseNeuralNet, from_logits, loss_function

_PARAMETERS = """\
    model : Model or callable, default=None
        The network: a glassnet ``Model`` (a template; every fit trains a copy
        rebuilt from its ``get_config()`` with fresh weights, so the instance
        itself is never trained nor shared between clones), or a function that
        builds and returns one. The function receives the ``model__<name>``
        parameters as keywords, plus, for the names it declares, the fit's
        meta-information: ``n_features_in_``, ``X_dtype_``, ``X_shape_``,
        ``target_type_``, and ``classes_`` / ``n_classes_`` (classifier) or
        ``n_outputs_`` (regressor); ``meta`` gets all of them as a dict. A
        model the function compiled itself is trained as compiled
        (``optimizer``, ``loss`` and ``metrics`` are then not used); otherwise
        the estimator compiles it. An unbuilt model is built for
        ``(None, n_features_in_)``.
    optimizer : str, Optimizer class or instance, default="adam"
        The optimizer, made new for every fit (an instance is copied from its
        config). ``optimizer__<name>`` parameters are its constructor's
        arguments: ``optimizer__learning_rate=0.01``.
    loss : str, Loss or callable, default=None
        The loss given to ``compile``; None picks the default described in
        Notes.
    metrics : list, default=None
        Metrics given to ``compile``; their values per epoch are in
        ``history_``. (``score`` is scikit-learn's, whatever they are.)
    epochs : int, default=1
        Epochs of each ``fit`` (Keras's default); ``partial_fit`` runs one.
    batch_size : int, default=None
        Samples per gradient step (None: 32, as Keras), and per prediction
        batch.
    validation_split : float, default=0.0
        The fraction of the samples held out to compute ``val_loss`` (and
        validation metrics) each epoch: the last samples, before shuffling, as
        Keras takes them.
    shuffle : bool, default=True
        Shuffle the training samples every epoch.
    callbacks : list of Callback, default=None
        glassnet (Keras-style) callbacks; each fit uses deep copies of them, so
        the estimator's parameters are never changed by training.
    warm_start : bool, default=False
        ``fit`` continues training the fitted network instead of building a
        new one.
    verbose : int or "auto", default=0
        The Keras progress display of ``fit`` (0: silent).
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the shuffling and the dropout masks:
        Python's ``random`` and NumPy's global random state are seeded around
        building and training (under a lock, put back afterwards), and the
        initializers and random layers (Dropout) of a ``model=`` instance
        without a ``seed`` get one. The same int gives bit-identical fits.
    **routed : ``model__<name>`` and ``optimizer__<name>`` parameters
        Parameters like any other for ``get_params``, ``set_params``,
        ``clone`` and ``GridSearchCV``."""

_ATTRIBUTES = """\
    model_ : Model
        The trained network.
    history_ : dict of str to list of float
        Keras's ``History.history`` (``"loss"``, ``"val_loss"``, the metrics),
        one value per epoch, continued by ``partial_fit`` and warm starts.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names."""

_NOTES = """\
    The model trains in its own dtype: float32 unless its layers say
    ``dtype="float64"``; inputs are cast to it. A float64 model computes as
    scikit-learn does and passes ``check_estimator`` (but for
    ``check_sample_weight_equivalence_on_dense_data``: Keras's sample weights
    scale each sample's loss in a mini-batch's mean, so a weight of 2 is not a
    repeated sample). A float32 model is the user's choice of speed: from the
    same ``random_state`` it starts from the same weights rounded to float32,
    and its predictions stay within about 1e-5 of the float64 model's on
    standardized targets; it predicts in float32."""


class NeuralNetClassifier(ClassifierMixin, BaseNeuralNet):
    __doc__ = f"""Any glassnet model as a scikit-learn classifier.

    The model maps ``(n_samples, n_features_in_)`` inputs to class
    probabilities: one sigmoid unit (binary), or one unit per class (softmax),
    columns in the order of ``classes_``.

    Parameters
    ----------
{_PARAMETERS}

    Attributes
    ----------
    classes_ : ndarray of shape (`n_classes_`,)
        The class labels (any type ``np.unique`` sorts: strings, ints, bools).
    n_classes_ : int
        Number of classes.
{_ATTRIBUTES}

    Notes
    -----
    The loss and the targets' encoding follow the model's output units ``k``
    and the loss:

    - ``k == 1`` (binary only): targets are 0 / 1 (``classes_[1]`` is 1); the
      default loss is ``"binary_crossentropy"``; ``predict_proba`` is
      ``[1 - p, p]``.
    - ``k == n_classes_``: the default loss is
      ``"sparse_categorical_crossentropy"`` with integer targets (the index in
      ``classes_``); any other loss gets one-hot targets
      (``"categorical_crossentropy"``, ``"binary_crossentropy"``, a function).
    - any other ``k`` is an error that names both numbers.

    A loss with ``from_logits=True`` makes ``predict_proba`` apply the sigmoid
    (``k == 1``) or the softmax to the outputs.

{_NOTES}

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> from glassnet.sklearn import NeuralNetClassifier
    >>> def build(n_classes_, units=16):
    ...     return Sequential([Dense(units, activation="relu"),
    ...                        Dense(n_classes_, activation="softmax")])
    >>> X, y = make_blobs(n_samples=60, centers=3, random_state=0)
    >>> clf = NeuralNetClassifier(build, model__units=8, epochs=5, random_state=0)
    >>> clf.fit(X, y).predict_proba(X[:2]).shape
    (2, 3)
    """

    def _validate_xy(self, X, y, reset):
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32), reset=reset)
        check_classification_targets(y)
        return X, y

    def _set_target_attributes(self, y, classes):
        labels = unique_labels(y if classes is None else classes)
        if classes is not None:
            _check_known(y, labels, "classes")
        if len(labels) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes to "
                f"learn from; y has 1 class: {labels.tolist()[0]!r}."
            )
        self.classes_ = labels
        self.n_classes_ = len(labels)
        return {
            "classes_": labels,
            "n_classes_": len(labels),
            "target_type_": "binary" if len(labels) == 2 else "multiclass",
        }

    def _check_targets_known(self, y):
        _check_known(y, self.classes_, "classes_")

    def _check_model_outputs(self, model):
        units = model.output_shape[-1]
        if (units == 1 and self.n_classes_ != 2) or units not in (1, self.n_classes_):
            expected = "one per class" if self.n_classes_ > 2 else "1 or 2"
            raise ValueError(
                f"The model has {units} output units; y has {self.n_classes_} "
                f"classes, which need {expected} ({self.n_classes_} softmax units"
                f"{', or one sigmoid unit' if self.n_classes_ == 2 else ''}). "
                f"Received: output shape {model.output_shape}, classes "
                f"{self.classes_.tolist()}"
            )

    def _default_loss(self, model):
        if model.output_shape[-1] == 1:
            return "binary_crossentropy"
        return "sparse_categorical_crossentropy"

    def _encode_targets(self, y):
        indices = np.searchsorted(self.classes_, y)
        units = self.model_.output_shape[-1]
        dtype = self.model_.dtype
        if units == 1:
            return indices.astype(dtype)[:, None]
        if loss_function(self.model_.loss) is losses.sparse_categorical_crossentropy:
            return indices
        return np.eye(units, dtype=dtype)[indices]

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Train one epoch of the same network (a new one on the first call).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,)
            The class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples' losses.
        classes : array-like of shape (n_classes,), default=None
            Every class of all the calls, on the first call (default: those
            of this ``y``); later calls take only labels in ``classes_``.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, 1, incremental=True, classes=classes)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, `n_classes_`)
            Probabilities, columns in the order of ``classes_``.
        """
        out = self._model_outputs(X)
        if from_logits(self.model_.loss):
            if out.shape[1] == 1:
                out = 1.0 / (1.0 + np.exp(-out))
            else:
                out = np.exp(out - out.max(axis=1, keepdims=True))
                out /= out.sum(axis=1, keepdims=True)
        if out.shape[1] == 1:
            return np.hstack([1.0 - out, out])
        return out

    def predict(self, X):
        """The most probable class of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class NeuralNetRegressor(RegressorMixin, BaseNeuralNet):
    __doc__ = f"""Any glassnet model as a scikit-learn regressor.

    The model maps ``(n_samples, n_features_in_)`` inputs to
    ``(n_samples, n_outputs_)`` predictions; the default loss is
    ``"mean_squared_error"``.

    Parameters
    ----------
{_PARAMETERS}

    Attributes
    ----------
    n_outputs_ : int
        Number of targets (``y``'s columns; 1 for a 1-D ``y``, whose
        predictions are 1-D too).
{_ATTRIBUTES}

    Notes
    -----
{_NOTES}

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.layers import Dense
    >>> from glassnet.models import Sequential
    >>> from glassnet.sklearn import NeuralNetRegressor
    >>> model = Sequential([Dense(8, activation="tanh"), Dense(1)])
    >>> X = np.linspace(-1, 1, 40).reshape(-1, 1)
    >>> reg = NeuralNetRegressor(model, epochs=3, random_state=0).fit(X, X[:, 0] ** 2)
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    def _validate_xy(self, X, y, reset):
        return validate_data(
            self,
            X,
            y,
            dtype=(np.float64, np.float32),
            multi_output=True,
            y_numeric=True,
            reset=reset,
        )

    def _set_target_attributes(self, y, classes):
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        multi = "-multioutput" if y.ndim == 2 else ""
        return {"n_outputs_": self.n_outputs_, "target_type_": "continuous" + multi}

    def _check_targets_known(self, y):
        outputs = 1 if y.ndim == 1 else y.shape[1]
        if outputs != self.n_outputs_:
            raise ValueError(
                f"y has {outputs} targets per sample; the network was fitted to "
                f"{self.n_outputs_}. Received: y of shape {y.shape}"
            )

    def _check_model_outputs(self, model):
        if model.output_shape[-1] != self.n_outputs_:
            raise ValueError(
                f"The model has {model.output_shape[-1]} output units; y has "
                f"{self.n_outputs_} targets per sample. Received: output shape "
                f"{model.output_shape}, y with {self.n_outputs_} columns"
            )

    def _default_loss(self, model):
        return "mean_squared_error"

    def _encode_targets(self, y):
        return y.reshape(len(y), -1)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch of the same network (a new one on the first call).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples' losses.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, 1, incremental=True)

    def predict(self, X):
        """The model's predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, `n_outputs_`)
            Predictions (1-D when ``n_outputs_ == 1``).
        """
        out = self._model_outputs(X)
        return out.ravel() if self.n_outputs_ == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _check_known(y: Any, classes: np.ndarray, what: str) -> None:
    unknown = np.setdiff1d(unique_labels(y), classes)
    if len(unknown):
        raise ValueError(
            f"y has labels not in {what}: {unknown.tolist()}. "
            f"Received: {what}={list(classes)}"
        )
