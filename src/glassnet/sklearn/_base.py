"""The shared machinery of MLPRegressor and MLPClassifier.

The network is a stack of ``glassnet.layers.Dense`` layers whose kernels and
biases *are* the arrays exposed as ``coefs_`` and ``intercepts_`` (no copies;
all of them views of one packed parameter vector), initialised by
``glassnet.initializers.RandomUniform`` drawing from the estimator's
``RandomState`` in scikit-learn's order, trained by ``glassnet.optimizers.SGD`` /
``Adam`` (scikit-learn's arithmetic order) from the gradients of
``Tensor.backward``, or by scipy's L-BFGS-B. A training step builds one graph
node per layer (``ops.linear``, the hidden activation fused into it) and one
fused output/loss node (:mod:`glassnet.sklearn._network`, :mod:`._losses`).

Everything around the step -- validation, weight initialisation, batching,
per-epoch shuffling, early stopping, learning-rate schedules, stopping rules,
warnings and verbose lines -- follows scikit-learn 1.9's MLP estimators, so that
the same ``random_state`` gives the same numbers.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from itertools import chain, pairwise
from numbers import Integral, Real

import numpy as np
import scipy.optimize
from sklearn.base import BaseEstimator, _fit_context, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

from glassnet.autograd import Tensor, no_grad
from glassnet.initializers import RandomUniform
from glassnet.layers import Dense
from glassnet.optimizers import SGD, Adam
from glassnet.sklearn._losses import OUTPUT_ACTIVATIONS
from glassnet.sklearn._network import HIDDEN_ACTIVATIONS, TrainingStep, network_output

_STOCHASTIC_SOLVERS = ("sgd", "adam")


def _check_lbfgs_result(result, max_iter: int) -> int:
    """Number of L-BFGS iterations; warns as scikit-learn does when not converged."""
    n_iter = min(result.nit, max_iter)
    if result.status != 0:
        message = (
            f"lbfgs failed to converge after {n_iter} iteration(s) "
            f"(status={result.status}):\n{result.message}\n"
        )
        if n_iter == max_iter:
            message += (
                "\nIncrease the number of iterations to improve the "
                f"convergence (max_iter={max_iter})."
            )
        message += (
            "\nYou might also want to scale the data as shown in:\n"
            "    https://scikit-learn.org/stable/modules/preprocessing.html"
        )
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    return n_iter


class BaseMultilayerPerceptron(BaseEstimator, ABC):
    """Base class of the MLP estimators; use MLPRegressor or MLPClassifier."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
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

    # --- the network ----------------------------------------------------------------
    def _initialize(self, y: np.ndarray, layer_units: list[int], dtype) -> None:
        """First fit: reset the counters, pick the output activation, draw weights."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        if not is_classifier(self):
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"

        # Glorot uniform (factor 2 for the logistic), kernel then bias per layer,
        # all from the one RandomState, exactly scikit-learn's sequence of draws.
        factor = 2.0 if self.activation == "logistic" else 6.0
        self._layers = []
        for i, (fan_in, fan_out) in enumerate(pairwise(layer_units)):
            bound = np.sqrt(factor / (fan_in + fan_out))
            init = RandomUniform(-bound, bound, seed=self._random_state)
            layer = Dense(
                fan_out,
                kernel_initializer=init,
                bias_initializer=init,
                dtype=np.dtype(dtype).name,
                name=f"mlp_layer_{i}",
            )
            layer.build_for((None, fan_in))
            self._layers.append(layer)
        self.coefs_ = [layer.kernel.data for layer in self._layers]
        self.intercepts_ = [layer.bias.data for layer in self._layers]
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [i.copy() for i in self.intercepts_]

        if self.solver in _STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

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
        """All weights as one flat vector (coefs, then intercepts: scikit-learn's
        packing for L-BFGS) of which ``coefs_`` and ``intercepts_`` are views.

        The optimizer then updates every weight with one call per step (tiny
        networks take tens of thousands of steps), and L-BFGS works on it
        directly. Repacked (one copy) when ``coefs_``/``intercepts_`` are not its
        views: on the first fit, after unpickling, after early stopping restored
        the best weights, or after a user replaced them. The list objects are
        updated in place, so aliases of them (scikit-learn's ``_best_coefs``
        after a restore) keep seeing the trained arrays, as in scikit-learn.
        """
        arrays = self.coefs_ + self.intercepts_
        packed = getattr(self, "_packed", None)
        views = getattr(self, "_packed_views", ())
        dtype = np.result_type(*arrays) if dtype is None else np.dtype(dtype)
        if (
            packed is None
            or packed.data.dtype != dtype
            or len(views) != len(arrays)
            or any(a is not v for a, v in zip(arrays, views))
        ):
            data = np.concatenate([np.ravel(a) for a in arrays]).astype(dtype)
            if packed is None:
                # NOTE: one Tensor for the life of the estimator: the optimizer
                # keeps its state (momentum, moments) per variable object.
                packed = self._packed = Tensor(data, name="mlp_parameters")
            packed.data = data
            views, start = [], 0
            for a in arrays:
                stop = start + np.size(a)
                views.append(data[start:stop].reshape(np.shape(a)))
                start = stop
            n = len(self.coefs_)
            self.coefs_[:] = views[:n]
            self.intercepts_[:] = views[n:]
            self._packed_views = views
        return packed

    def __getstate__(self):
        # NOTE: pickling turns views into copies; without the record of the views
        # the next fit repacks, and the packed Tensor (which the optimizer's
        # state refers to) survives.
        state = dict(super().__getstate__())
        state.pop("_packed_views", None)
        return state

    def _forward_pass_fast(self, X, check_input: bool = True) -> np.ndarray:
        """Output-layer activations of ``X``, shape (n_samples, n_outputs)."""
        if check_input:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        with no_grad():
            layers = self._network()
            z = network_output(X, layers, HIDDEN_ACTIVATIONS[self.activation]).data
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
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        n_samples, n_features = X.shape
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        self.n_outputs_ = y.shape[1]
        layer_units = [n_features, *hidden_layer_sizes, self.n_outputs_]

        # NOTE: an int random_state gives a fresh RandomState on every call, as in
        # scikit-learn: two fits (or two partial_fits) draw the same numbers.
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype)

        if self.solver in _STOCHASTIC_SOLVERS:
            self._fit_stochastic(X, y, sample_weight, incremental)
        else:
            self._fit_lbfgs(X, y, sample_weight)

        weights = chain(self.coefs_, self.intercepts_)
        if not all(np.isfinite(w).all() for w in weights):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        return self

    def _fit_lbfgs(self, X, y, sample_weight):
        """Full-batch L-BFGS-B through ``scipy.optimize.minimize`` on the packed
        parameters.

        As in scikit-learn, scipy evaluates the loss at points of the weights'
        dtype (float32 weights give float32 passes) and returns a float64
        solution, which the weights then become.
        """
        packed = self._packed_parameters()
        step = TrainingStep(self, self._network())

        def loss_and_grad(x):
            np.copyto(packed.data, x)
            loss = step(X, y, sample_weight)
            return loss, step.grad.copy()

        result = scipy.optimize.minimize(
            loss_and_grad,
            packed.data.copy(),
            method="L-BFGS-B",
            jac=True,
            options={
                "maxfun": self.max_fun,
                "maxiter": self.max_iter,
                "gtol": self.tol,
            },
        )
        self.n_iter_ = _check_lbfgs_result(result, self.max_iter)
        self.loss_ = result.fun
        np.copyto(self._packed_parameters(dtype=result.x.dtype).data, result.x)

    def _make_optimizer(self):
        if self.solver == "sgd":
            return SGD(
                learning_rate=float(self.learning_rate_init),
                momentum=self.momentum,
                nesterov=self.nesterovs_momentum,
            )
        return Adam(
            learning_rate=self.learning_rate_init,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            step_dtype="float64",  # scikit-learn's rounding of float32 weights
        )

    def _split_validation(self, X, y, sample_weight):
        """scikit-learn's early-stopping split (stratified only for one output)."""
        stratify = y if is_classifier(self) and self.n_outputs_ == 1 else None
        arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
        parts = train_test_split(
            *arrays,
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        X_train, X_val, y_train, y_val = parts[:4]
        sw_train = sw_val = None
        if sample_weight is not None:
            sw_train, sw_val = parts[4:]
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        if is_classifier(self):
            y_val = self._label_binarizer.inverse_transform(y_val)
        return X_train, y_train, sw_train, X_val, y_val, sw_val

    def _fit_stochastic(self, X, y, sample_weight, incremental):
        packed = self._packed_parameters()
        step = TrainingStep(self, self._network())
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_optimizer()
        optimizer = self._optimizer

        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        if early_stopping:
            X_train, y_train, sw_train, X_val, y_val, sw_val = self._split_validation(
                X, y, sample_weight
            )
        else:
            X_train, y_train, sw_train = X, y, sample_weight
            X_val = y_val = sw_val = None

        n_samples = X_train.shape[0]
        sample_idx = np.arange(n_samples, dtype=int)
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than "
                    "sample size. It is going to be clipped",
                    stacklevel=2,
                )
            batch_size = int(np.clip(self.batch_size, 1, n_samples))
        bounds = [
            (start, min(start + batch_size, n_samples))
            for start in range(0, n_samples, batch_size)
        ]
        rng = self._random_state

        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                if self.shuffle:
                    # NOTE: the new order is the previous order permuted again
                    # (scikit-learn shuffles sample_idx, not arange), and the
                    # rows are gathered once per epoch, then sliced per batch.
                    permutation = np.arange(n_samples)
                    rng.shuffle(permutation)
                    sample_idx = sample_idx[permutation]
                    X_epoch = X_train[sample_idx]
                    y_epoch = y_train[sample_idx]
                    sw_epoch = None if sw_train is None else sw_train[sample_idx]
                else:
                    X_epoch, y_epoch, sw_epoch = X_train, y_train, sw_train

                accumulated_loss = 0.0
                for start, stop in bounds:
                    batch_loss = step(
                        X_epoch[start:stop],
                        y_epoch[start:stop],
                        None if sw_epoch is None else sw_epoch[start:stop],
                    )
                    accumulated_loss += batch_loss * (stop - start)
                    optimizer.apply([step.grad], [packed])

                self.n_iter_ += 1
                self.loss_ = accumulated_loss / X_train.shape[0]
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")

                self._update_no_improvement_count(early_stopping, X_val, y_val, sw_val)
                if self.solver == "sgd" and self.learning_rate == "invscaling":
                    optimizer.learning_rate = (
                        float(self.learning_rate_init) / (self.t_ + 1) ** self.power_t
                    )

                if self._no_improvement_count > self.n_iter_no_change:
                    if early_stopping:
                        msg = (
                            "Validation score did not improve more than "
                            f"tol={self.tol:f} for {int(self.n_iter_no_change)} "
                            "consecutive epochs."
                        )
                    else:
                        msg = (
                            "Training loss did not improve more than "
                            f"tol={self.tol:f} for {int(self.n_iter_no_change)} "
                            "consecutive epochs."
                        )
                    if self._trigger_stopping(msg):
                        break
                    self._no_improvement_count = 0

                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                        "reached and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=2,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=2)

        if early_stopping:
            # Restore the best weights (the lists themselves, as scikit-learn does).
            self.coefs_ = self._best_coefs
            self.intercepts_ = self._best_intercepts

    def _trigger_stopping(self, msg: str) -> bool:
        """Stop, or (sgd with the adaptive schedule) divide the rate by 5."""
        optimizer = self._optimizer
        if self.solver != "sgd" or self.learning_rate != "adaptive":
            if self.verbose:
                print(msg + " Stopping.")
            return True
        if optimizer.learning_rate <= 1e-6:
            if self.verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        optimizer.learning_rate /= 5.0
        if self.verbose:
            print(f"{msg} Setting learning rate to {optimizer.learning_rate:f}")
        return False

    def _update_no_improvement_count(self, early_stopping, X_val, y_val, sw_val):
        if early_stopping:
            score = self._score(X_val, y_val, sample_weight=sw_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {self.validation_scores_[-1]:f}")
            last = self.validation_scores_[-1]
            if last < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if last > self.best_validation_score_:
                self.best_validation_score_ = last
                self._best_coefs = [c.copy() for c in self.coefs_]
                self._best_intercepts = [i.copy() for i in self.intercepts_]
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    @_fit_context(prefer_skip_nested_validation=True)
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
        if self.solver not in _STOCHASTIC_SOLVERS:
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
