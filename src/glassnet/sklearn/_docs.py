"""The numpydoc parameter and attribute sections shared by both estimators."""

from __future__ import annotations

PARAMETERS = """\
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation of the hidden layers: f(x) = x, 1 / (1 + exp(-x)), tanh(x)
        or max(0, x).
    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        Weight optimisation: 'lbfgs' (scipy's L-BFGS-B on the whole data set),
        'sgd' (mini-batch gradient descent with momentum) or 'adam'.
    alpha : float, default=0.0001
        Strength of the L2 penalty ``alpha / (2 s) * sum ||W||^2``, where ``s``
        is the batch size (or the batch's sample-weight sum).
    batch_size : int or 'auto', default='auto'
        Mini-batch size of the stochastic solvers; 'auto' is
        ``min(200, n_samples)``. Not used by 'lbfgs'.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Schedule of the step size, only for ``solver='sgd'``: constant,
        ``learning_rate_init / (t + 1) ** power_t`` after each epoch (``t``
        samples seen), or divided by 5 whenever the stopping rule below fires.
    learning_rate_init : float, default=0.001
        Initial step size ('sgd', 'adam').
    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule ('sgd').
    max_iter : int, default=200
        Maximum number of epochs ('sgd', 'adam') or iterations ('lbfgs').
    shuffle : bool, default=True
        Whether to shuffle the samples every epoch ('sgd', 'adam').
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the early-stopping split and the
        shuffling. An int gives the same numbers on every call to ``fit`` or
        ``partial_fit``.
    tol : float, default=1e-4
        Training stops when the loss (or the validation score) has not improved
        by at least ``tol`` for ``n_iter_no_change`` consecutive epochs, unless
        ``learning_rate='adaptive'``. For 'lbfgs' it is the gradient tolerance.
    verbose : bool, default=False
        Print the loss (and validation score) after each epoch.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution instead of new random weights.
    momentum : float, default=0.9
        Momentum of 'sgd', in [0, 1].
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum ('sgd' with ``momentum > 0``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when the validation
        score stops improving; the best weights are kept ('sgd', 'adam').
    validation_fraction : float, default=0.1
        Fraction of the data held out for early stopping, in [0, 1).
    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimates, in [0, 1).
    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimates, in [0, 1).
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.
    n_iter_no_change : int, default=10
        Epochs without ``tol`` improvement before stopping ('sgd', 'adam').
    max_fun : int, default=15000
        Maximum number of loss evaluations ('lbfgs')."""

ATTRIBUTES = """\
    loss_ : float
        The loss (penalty included) after the last epoch or iteration.
    best_loss_ : float or None
        The smallest training loss seen (None with early stopping).
    loss_curve_ : list of float
        The loss after each epoch ('sgd', 'adam').
    validation_scores_ : list of float or None
        The validation score after each epoch (early stopping only).
    best_validation_score_ : float or None
        The best validation score (early stopping only).
    t_ : int
        Number of training samples seen by the solver.
    coefs_ : list of ndarray of shape (n_in, n_out)
        Weight matrix of each layer; the very arrays the Dense layers train.
    intercepts_ : list of ndarray of shape (n_out,)
        Bias vector of each layer.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names seen during fit (only when they are all strings).
    n_iter_ : int
        Number of epochs ('sgd', 'adam') or iterations ('lbfgs') run.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        Name of the output activation."""

DIVERGENCE = """\
    A ``fit`` or ``partial_fit`` whose solver diverges (the weights become NaN
    or infinite) raises scikit-learn's ``ValueError`` ("Solver produced
    non-finite parameter weights...") and leaves the estimator as it was
    before the call: the same ``coefs_``, ``intercepts_``, ``n_iter_``,
    ``loss_curve_`` and solver state, so predictions are unchanged (an
    estimator that was not fitted stays unfitted). This deliberately differs
    from scikit-learn, which keeps the diverged weights, on this error path
    only; everything else, the error included, is scikit-learn's."""
