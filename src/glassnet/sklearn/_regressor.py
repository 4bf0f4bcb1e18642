"""MLPRegressor: scikit-learn's multi-layer perceptron regressor on glassnet."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from glassnet.sklearn import _docs
from glassnet.sklearn._base import BaseMultilayerPerceptron, keeps_fitted_state


class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    __doc__ = f"""Multi-layer perceptron regressor (scikit-learn's, on glassnet).

    Minimises half the squared error (or half the Poisson deviance, with an
    exponential output) plus an L2 penalty, with L-BFGS, SGD or Adam. For the same
    ``random_state`` and data it gives scikit-learn 1.9's ``MLPRegressor``
    results: the same ``coefs_``, ``intercepts_``, ``loss_curve_`` and
    ``n_iter_``.

    Parameters
    ----------
    loss : {{'squared_error', 'poisson'}}, default='squared_error'
        'squared_error' is half the mean squared error (averaged over outputs);
        'poisson' is half the Poisson deviance with a log link (needs y >= 0).
{_docs.PARAMETERS}

    Attributes
    ----------
{_docs.ATTRIBUTES}

    Notes
    -----
    ``partial_fit`` is available for every solver, as in scikit-learn 1.9 (with
    'lbfgs' each call runs L-BFGS on the batch from the current weights).

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
        "loss": [StrOptions({"squared_error", "poisson"})],
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
        )

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
