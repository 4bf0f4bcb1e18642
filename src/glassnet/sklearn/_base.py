"""The shared machinery of MLPRegressor and MLPClassifier: the estimator base,
its validation and its network.

The network is a stack of ``glassnet.layers.Dense`` layers whose kernels and
biases *are* the arrays exposed as ``coefs_`` and ``intercepts_`` (no copies;
all of them views of one packed parameter vector, a
:class:`glassnet.runtime.FlatVector`), initialised by the overridable
``_init_coef`` hook (scikit-learn's: ``glassnet.initializers.RandomUniform``
drawing from the estimator's ``RandomState`` in scikit-learn's order). The
solvers (:mod:`glassnet.sklearn._solvers`) train it with
``glassnet.optimizers.SGD`` / ``Adam`` (scikit-learn's arithmetic order) or
scipy's L-BFGS-B. A training step builds one graph node per layer
(``ops.linear``, the hidden activation fused into it) and one fused output/loss
node (:mod:`glassnet.sklearn._network`, :mod:`._losses`).

Everything follows scikit-learn 1.9's MLP estimators, so that the same
``random_state`` gives the same numbers, with one deliberate difference: a
fit that diverges (non-finite weights) raises scikit-learn's error and leaves
the estimator as it was before that call (:func:`keeps_fitted_state`).

What scikit-learn refuses comes behind keywords of its own, whose defaults
change nothing (``dropout``, an ``activation`` per layer, the regressor's
``absolute_error`` / ``huber`` / callable losses, the classifier's
``class_weight``, ``early_stopping_metric``, ``restore_best_weights``,
``callbacks``, ``optimizer``), and the fitted network converts to and from a
glassnet ``Sequential`` model (:mod:`glassnet.sklearn._convert`).
"""

from __future__ import annotations

import copy
import functools
from abc import ABC, abstractmethod
from itertools import chain, pairwise
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    Options,
    StrOptions,
    make_constraint,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from glassnet.autograd import Tensor, no_grad
from glassnet.callbacks import Callback
from glassnet.initializers import RandomUniform
from glassnet.layers import Dense
from glassnet.optimizers import Optimizer
from glassnet.runtime import FlatVector
from glassnet.sklearn import _convert, _solvers
from glassnet.sklearn._losses import OUTPUT_ACTIVATIONS
from glassnet.sklearn._network import HIDDEN_ACTIVATIONS, network_output


class _Diverged(ValueError):
    """The weights became NaN or infinite (scikit-learn's error, caught by
    :func:`keeps_fitted_state`, which raises it again as a plain ValueError)."""


def keeps_fitted_state(fit):
    """Wrap ``fit`` / ``partial_fit``: if the solver diverges, put the
    estimator back as it was before the call (its fitted attributes, weights,
    optimizer state and counters; unfitted if it was) and raise
    scikit-learn's ValueError. The state is copied once per call, never per
    epoch (:func:`_snapshot`)."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        saved = _snapshot(self)
        try:
            return fit(self, *args, **kwargs)
        except _Diverged as error:
            vars(self).clear()
            vars(self).update(saved)
            raise ValueError(*error.args) from None

    return wrapper


@functools.cache
def _param_names(cls: type) -> list[str]:
    return cls._get_param_names()  # NOTE: inspects the signature: once a class


def _snapshot(estimator) -> dict:
    """A deep copy of the estimator's attributes, but for what need not be
    copied: the constructor's parameters and the random state (kept as they
    are: a user's RandomState goes on advancing), lists of floats (copied
    shallow), the optimizer's scratch buffers and the Dense layers (made again
    from ``coefs_`` when needed)."""
    state = vars(estimator)
    kept = [state[name] for name in _param_names(type(estimator)) if name in state]
    memo = {id(value): value for value in [*kept, state.get("_random_state")]}
    for name in ("loss_curve_", "validation_scores_", "validation_loss_curve_"):
        if isinstance(state.get(name), list):
            memo[id(state[name])] = list(state[name])
    optimizer = state.get("_optimizer")
    if optimizer is not None:
        memo[id(optimizer._buffers)] = {}
    saved = copy.deepcopy({k: v for k, v in state.items() if k != "_layers"}, memo)
    if "_layers" in state:
        saved["_layers"] = None
    return saved


class ListOf(Options):
    """A parameter constraint (scikit-learn's ``_parameter_constraints``): a
    list or tuple whose every item satisfies ``item`` (itself a constraint);
    ``description`` ends the error message's "must be ..."."""

    def __init__(self, item, description: str):
        super().__init__(list, set())
        self.item, self.description = make_constraint(item), description

    def is_satisfied_by(self, val) -> bool:
        return isinstance(val, (list, tuple)) and all(
            self.item.is_satisfied_by(v) for v in val
        )

    def __str__(self) -> str:
        return f"a list of {self.description}"


HIDDEN_NAMES = {"identity", "logistic", "tanh", "relu"}
RATE = Interval(Real, 0, 1, closed="left")


class BaseMultilayerPerceptron(BaseEstimator, ABC):
    """Base class of the MLP estimators; use MLPRegressor or MLPClassifier."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [
            StrOptions(HIDDEN_NAMES),
            ListOf(
                StrOptions(HIDDEN_NAMES),
                f"str among {sorted(HIDDEN_NAMES)}, one per hidden layer",
            ),
        ],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dropout": [RATE, ListOf(RATE, "floats in [0, 1), one per hidden layer")],
        "early_stopping_metric": [StrOptions({"score", "loss"})],
        "restore_best_weights": ["boolean"],
        "callbacks": [
            ListOf(Callback, "glassnet.callbacks.Callback instances"),
            None,
        ],
        "optimizer": [Optimizer, None],
    }

    @abstractmethod
    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        loss,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        max_fun,
        dropout,
        early_stopping_metric,
        restore_best_weights,
        callbacks,
        optimizer,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.early_stopping_metric = early_stopping_metric
        self.restore_best_weights = restore_best_weights
        self.callbacks = callbacks
        self.optimizer = optimizer

    # --- the network ----------------------------------------------------------------
    def _initialize(self, y: np.ndarray, layer_units: list[int], dtype) -> None:
        """First fit: reset the counters, pick the output activation, draw the
        weights with ``_init_coef``, one layer at a time."""
        self._start_fitted_state(y.shape[1], layer_units)
        self.coefs_ = []
        self.intercepts_ = []
        for fan_in, fan_out in pairwise(layer_units):
            coef_init, intercept_init = self._init_coef(fan_in, fan_out, dtype)
            self.coefs_.append(coef_init)
            self.intercepts_.append(intercept_init)
        self._layers = None  # made again by _network, for these arrays
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [i.copy() for i in self.intercepts_]

    def _start_fitted_state(self, n_outputs: int, layer_units: list[int]) -> None:
        """The fitted attributes of an estimator before its first epoch (all
        but the weights): counters, output activation, curves."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(layer_units)
        if not is_classifier(self):
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"

        if self.solver in _solvers.STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.validation_loss_curve_ = []
                self.best_validation_score_ = -np.inf
                self._best_validation_loss = np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.validation_loss_curve_ = None
                self.best_validation_score_ = None

    def _init_coef(self, fan_in: int, fan_out: int, dtype):
        """The initial weights of one layer, ``(coef_init, intercept_init)`` of
        shapes (fan_in, fan_out) and (fan_out,), of dtype ``dtype``.

        scikit-learn's hook, with its signature and contract: ``_initialize``
        calls it once per layer, input layer first, so a subclass may override
        it (a subclass written for scikit-learn's estimators keeps working).
        This one is Glorot uniform, ``U(-b, b)`` with
        ``b = sqrt(6 / (fan_in + fan_out))`` (2 instead of 6 for the logistic
        activation), the kernel then the bias drawn from ``self._random_state``:
        exactly scikit-learn 1.9's draws. With one activation per hidden layer,
        a layer's bound follows the activation after it (the output layer's,
        the last hidden layer's).
        """
        activation = self.activation
        if not isinstance(activation, str):
            # NOTE: _initialize appends each layer to coefs_ before drawing the
            # next: the list's length is the index of the layer being drawn.
            index = len(getattr(self, "coefs_", None) or [])
            activation = activation[min(index, len(activation) - 1)]
        factor = 2.0 if activation == "logistic" else 6.0
        bound = np.sqrt(factor / (fan_in + fan_out))
        init = RandomUniform(-bound, bound, seed=self._random_state)
        return init((fan_in, fan_out), dtype), init((fan_out,), dtype)

    def __getstate__(self) -> dict:
        """Each weight once: the Dense layers bound to ``coefs_`` are left out
        (``_network`` makes them again), and so are ``coefs_`` and
        ``intercepts_`` while they are views of the packed vector the pickle
        holds anyway (``__setstate__`` takes the views again)."""
        state = dict(super().__getstate__())
        state.pop("_layers", None)
        packing = state.get("_packing")
        coefs = state.get("coefs_")
        if (
            packing is not None
            and coefs is not None
            and state.get("_best_coefs") is not coefs
            and packing.holds(coefs + state["intercepts_"])
        ):
            state["coefs_"] = state["intercepts_"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if "coefs_" in state and state["coefs_"] is None:
            views, n = self._packing.views, len(self._packing.views) // 2
            self.coefs_, self.intercepts_ = list(views[:n]), list(views[n:])

    def _per_hidden_layer(self, name: str, n_hidden: int | None = None) -> list:
        """``activation`` or ``dropout`` as one value per hidden layer."""
        value = getattr(self, name)
        if n_hidden is None:
            n_hidden = len(self.coefs_) - 1
        if isinstance(value, (list, tuple)):
            if len(value) != n_hidden:
                raise ValueError(
                    f"{name} takes one value, or one per hidden layer: "
                    f"{n_hidden} here (hidden_layer_sizes="
                    f"{self.hidden_layer_sizes!r}). Received: {name}={value!r}"
                )
            return list(value)
        return [value] * n_hidden

    def _fused_activations(self) -> list[str | None]:
        """The hidden activations as ``ops.linear`` fuses them, one a layer."""
        return [HIDDEN_ACTIVATIONS[a] for a in self._per_hidden_layer("activation")]

    def _network(self) -> list[Dense]:
        """The Dense layers, their weights bound to the current ``coefs_`` and
        ``intercepts_`` arrays (no copies)."""
        layers = getattr(self, "_layers", None)
        if layers is None or len(layers) != len(self.coefs_):
            layers = self._layers = []
            for i, coef in enumerate(self.coefs_):
                layer = Dense(
                    np.shape(coef)[1],
                    bias_initializer="zeros",
                    kernel_initializer="zeros",
                    dtype=np.asarray(coef).dtype.name,
                    name=f"mlp_layer_{i}",
                )
                layer.build_for((None, np.shape(coef)[0]))
                layers.append(layer)
        for layer, coef, intercept in zip(layers, self.coefs_, self.intercepts_):
            layer.kernel.data = np.asarray(coef)
            layer.bias.data = np.asarray(intercept)
        return layers

    def _packed_parameters(self, dtype=None) -> Tensor:
        """All weights as one flat vector, shape (n_weights,), of which
        ``coefs_`` and ``intercepts_`` are views (coefs, then intercepts:
        scikit-learn's packing for L-BFGS).

        The optimizer then updates every weight with one call per step (tiny
        networks take tens of thousands of steps), and L-BFGS works on it
        directly. Packed again (one copy) when ``coefs_``/``intercepts_`` are
        not its views -- on the first fit, after unpickling, after early
        stopping restored the best weights, or after a user replaced them --
        and when ``dtype`` (by default the weights' own) changes. The list
        objects are updated in place, so aliases of them (scikit-learn's
        ``_best_coefs`` after a restore) keep seeing the trained arrays, as in
        scikit-learn.
        """
        arrays = self.coefs_ + self.intercepts_
        packing = getattr(self, "_packing", None)
        if (
            packing is None
            or not packing.holds(arrays)
            or (dtype is not None and packing.dtype != dtype)
        ):
            packing = self._packing = FlatVector.pack(arrays, dtype)
            packed = getattr(self, "_packed", None)
            if packed is None:
                # NOTE: one Tensor for the life of the estimator: the optimizer
                # keeps its state (momentum, moments) per variable object.
                packed = self._packed = Tensor(packing.data, name="mlp_parameters")
            packed.data = packing.data
            n = len(self.coefs_)
            self.coefs_[:] = packing.views[:n]
            self.intercepts_[:] = packing.views[n:]
        return self._packed

    def _forward_pass_fast(self, X, check_input: bool = True) -> np.ndarray:
        """Output-layer activations of ``X``, shape (n_samples, n_outputs)."""
        if check_input:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        with no_grad():
            layers = self._network()
            z = network_output(X, layers, self._fused_activations()).data
        return OUTPUT_ACTIVATIONS[self.out_activation_](z)

    # --- fitting --------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None, incremental=False):
        hidden_layer_sizes = self.hidden_layer_sizes
        if not hasattr(hidden_layer_sizes, "__iter__"):
            hidden_layer_sizes = [hidden_layer_sizes]
        hidden_layer_sizes = list(hidden_layer_sizes)
        if np.any(np.array(hidden_layer_sizes) <= 0):
            raise ValueError(
                f"hidden_layer_sizes must be > 0, got {hidden_layer_sizes}."
            )
        self._check_extras(len(hidden_layer_sizes))
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        n_samples, n_features = X.shape
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        sample_weight = self._weigh_samples(X, y, sample_weight, incremental)
        self.n_outputs_ = y.shape[1]
        layer_units = [n_features, *hidden_layer_sizes, self.n_outputs_]

        # NOTE: an int random_state gives a fresh RandomState on every call, as in
        # scikit-learn: two fits (or two partial_fits) draw the same numbers.
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype)

        if self.solver in _solvers.STOCHASTIC_SOLVERS:
            _solvers.fit_stochastic(self, X, y, sample_weight, incremental)
        else:
            _solvers.fit_lbfgs(self, X, y, sample_weight)

        weights = chain(self.coefs_, self.intercepts_)
        if not all(np.isfinite(w).all() for w in weights):
            raise _Diverged(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        return self

    def _check_extras(self, n_hidden: int) -> None:
        """The keywords scikit-learn lacks, against the network and the solver
        (their types and ranges are checked by ``_parameter_constraints``)."""
        self._per_hidden_layer("activation", n_hidden)
        rates = self._per_hidden_layer("dropout", n_hidden)
        if self.solver == "lbfgs":
            for name, used in [
                ("dropout", any(rates)),
                ("callbacks", bool(self.callbacks)),
                ("optimizer", self.optimizer is not None),
            ]:
                if used:
                    raise ValueError(
                        f"{name} needs a stochastic solver ('sgd' or 'adam'): "
                        "'lbfgs' runs SciPy's L-BFGS-B on the whole data set, "
                        "without epochs, dropout or a glassnet optimizer. "
                        f"Received: {name}={getattr(self, name)!r}, solver='lbfgs'"
                    )
        _solvers.check_callbacks(self.callbacks)

    def _weigh_samples(self, X, y, sample_weight, incremental: bool):
        """The weights the loss gives the samples (the classifier multiplies
        in its class weights)."""
        return sample_weight

    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_fitted_state
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers in
            regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _check_solver(self) -> bool:
        if self.solver not in _solvers.STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    def _score_with_function(self, X, y, sample_weight, score_function):
        """Score without input validation (which would drop feature names)."""
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    # --- glassnet models and callbacks ----------------------------------------------
    def to_model(self):
        """The fitted network as a glassnet ``Sequential`` model.

        One ``Dense`` layer per layer of ``coefs_`` (copies of ``coefs_[i]``
        and ``intercepts_[i]``, of their dtype), with the hidden activations
        ('identity' becomes 'linear', 'logistic' 'sigmoid') and the output
        activation of ``out_activation_`` ('linear', 'exponential', 'sigmoid'
        or 'softmax'); a ``Dropout`` layer after each hidden layer that has a
        dropout rate (inactive in ``predict``). The model's ``predict`` gives
        the output layer's activations: the regressor's ``predict`` (as a
        column), the classifier's ``predict_proba`` (for a binary target, its
        second column only: P(classes_[1])).

        Returns
        -------
        model : glassnet.models.Sequential
            A built, uncompiled model, independent of the estimator.
        """
        check_is_fitted(self)
        return _convert.to_sequential(self)

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights in Keras's order, ``[coefs_[0],
        intercepts_[0], coefs_[1], ...]`` (``to_model().get_weights()``), for
        glassnet callbacks such as ``EarlyStopping(restore_best_weights=True)``."""
        check_is_fitted(self)
        return [w.copy() for pair in zip(self.coefs_, self.intercepts_) for w in pair]

    def set_weights(self, weights) -> None:
        """Write ``weights`` (in the order of :meth:`get_weights`) into
        ``coefs_`` and ``intercepts_``, in place; the shapes must match."""
        check_is_fitted(self)
        targets = [w for pair in zip(self.coefs_, self.intercepts_) for w in pair]
        shapes = [np.shape(w) for w in weights]
        if shapes != [t.shape for t in targets]:
            raise ValueError(
                "set_weights needs arrays of the shapes of get_weights(): "
                f"{[t.shape for t in targets]}. Received: {shapes}"
            )
        for target, w in zip(targets, weights):
            np.copyto(target, w)

    @property
    def stop_training(self) -> bool:
        """Keras's flag: a callback sets ``self.model.stop_training = True``
        to end ``fit``, which reads it after each epoch's callbacks (and
        after each batch's, where a callback has batch hooks)."""
        return vars(self).get("_stop_training", False)

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        self._stop_training = bool(value)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
