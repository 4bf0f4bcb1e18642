"""MLPRegressor: scikit-learn's multi-layer perceptron regressor on glassnet."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from glassnet.sklearn import _convert, _docs
from glassnet.sklearn._base import BaseMultilayerPerceptron, keeps_fitted_state


class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    __doc__ = f"""Multi-layer perceptron regressor (scikit-learn's, on glassnet).

    Minimises half the squared error (or half the Poisson deviance, with an
    exponential output) plus an L2 penalty, with L-BFGS, SGD or Adam. For the same
    ``random_state`` and data it gives scikit-learn 1.9's ``MLPRegressor``
    results: the same ``coefs_``, ``intercepts_``, ``loss_curve_`` and
    ``n_iter_``. Keywords scikit-learn lacks (other losses, dropout, callbacks,
    any glassnet optimizer, ...) default to its behaviour; ``to_model`` and
    ``from_model`` convert to and from a glassnet ``Sequential`` model.

    Parameters
    ----------
    loss : str or callable, default='squared_error'
        One of 'squared_error', 'poisson', 'absolute_error', 'huber', or a
        callable.
        'squared_error' is half the mean squared error (averaged over outputs);
        'poisson' is half the Poisson deviance with a log link (needs y >= 0).
        glassnet's extensions, with an identity output: 'absolute_error' is
        the mean absolute error and 'huber' the mean Huber loss with
        ``huber_delta`` (``0.5 e**2`` where ``|e| <= delta``, else
        ``delta (|e| - 0.5 delta)``), as PyTorch's ``L1Loss()`` and
        ``HuberLoss(delta=huber_delta)`` with their mean over all samples and
        outputs (weighted by ``sample_weight``: ``sum(w l) / sum(w)`` over
        the samples). A callable ``loss(y_true, y_pred)`` gets two glassnet
        Tensors of shape (n_samples, n_outputs) in the weights' dtype
        (``y_true`` needs no gradient) and returns a Tensor computed from
        ``y_pred`` with glassnet ops (``glassnet.ops``, ``glassnet.losses``,
        Tensor operators), which the engine differentiates: either one loss
        per sample, shape (n_samples,), averaged as above, or a scalar (then
        without ``sample_weight``). ``glassnet.losses.mean_squared_error`` and
        its kin are such callables. Every loss gets the same L2 penalty and
        works with every solver.
{_docs.PARAMETERS}
{_docs.EXTRA_PARAMETERS}
    huber_delta : float, default=1.0
        The Huber loss's ``delta`` (> 0; only with ``loss='huber'``), as
        PyTorch's ``HuberLoss(delta)``.

    Attributes
    ----------
{_docs.ATTRIBUTES}

    Notes
    -----
    ``partial_fit`` is available for every solver, as in scikit-learn 1.9 (with
    'lbfgs' each call runs L-BFGS on the batch from the current weights).

    ``to_model()`` gives the fitted network as a glassnet ``Sequential``
    model whose ``predict`` is this ``predict`` (as a column);
    ``MLPRegressor.from_model(model)`` makes a fitted estimator of such a
    model.

{_docs.DIVERGENCE}

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.sklearn import MLPRegressor
    >>> X = np.linspace(-2, 2, 50)[:, None]
    >>> reg = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    >>> reg = reg.fit(X, X[:, 0])
    >>> reg.predict([[0.5]]).shape
    (1,)
    """

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": [
            StrOptions({"squared_error", "poisson", "absolute_error", "huber"}),
            callable,
        ],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        loss="squared_error",
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
        huber_delta=1.0,
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
            loss=loss,
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
        self.huber_delta = huber_delta

    def predict(self, X):
        """Predict with the fitted network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, r2_score)

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                "loss='poisson' needs non-negative targets. Received: "
                f"min(y)={np.min(y)}"
            )
        return X, y

    # NOTE: scikit-learn 1.9 guards MLPRegressor.partial_fit with the bound method
    # ``est._check_solver`` (never called, always truthy), so partial_fit exists
    # for every solver; we keep that behaviour.
    @available_if(lambda est: True)
    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_fitted_state
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    @classmethod
    @_docs.filled
    def from_model(cls, model, **params) -> MLPRegressor:
        """A fitted MLPRegressor with the network of a glassnet model.

        Parameters
        ----------
        model : glassnet.models.Sequential
            A built model of Dense layers (hidden activations 'linear',
            'relu', 'tanh' or 'sigmoid'; a 'linear' output, or 'exponential'
            for ``loss='poisson'``), with Dropout layers after hidden layers
            allowed. Its weights are copied.
        {from_model_params}

        Returns
        -------
        estimator : MLPRegressor
            Fitted: ``predict(X)`` equals ``model.predict(X)`` (raveled for
            one output).
        """
        spec = _convert.read_sequential(model)
        if spec["output"] == "exponential":
            params = {"loss": "poisson", **params}
        estimator = _convert.unfitted_estimator(cls, spec, params)
        return _convert.adopt(estimator, spec)
