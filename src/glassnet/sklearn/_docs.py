"""The numpydoc parameter and attribute sections shared by both estimators.

``PARAMETERS`` are scikit-learn's; ``EXTRA_PARAMETERS`` are glassnet's own
keywords (what scikit-learn refuses), whose defaults keep scikit-learn's
behaviour bit for bit.
"""

from __future__ import annotations

PARAMETERS = """\
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu'} or list, default='relu'
        Activation of the hidden layers: f(x) = x, 1 / (1 + exp(-x)), tanh(x)
        or max(0, x). A list (glassnet's extension) gives one per hidden
        layer, e.g. ``['tanh', 'relu']`` for two; the Glorot bound of each
        layer's initial weights follows the activation after it (the output
        layer's, the last hidden layer's), so a list of one name repeated is
        that name, bit for bit.
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
        score (or loss: ``early_stopping_metric``) stops improving; the best
        weights are kept unless ``restore_best_weights=False`` ('sgd',
        'adam'). The held-out set's loss and score are recorded every epoch
        (``validation_loss_curve_``, ``validation_scores_``): to watch them
        without stopping, set ``n_iter_no_change=np.inf`` (and
        ``restore_best_weights=False`` to keep the last weights).
    validation_fraction : float, default=0.1
        Fraction of the data held out for early stopping, in [0, 1); the only
        validation split there is.
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

EXTRA_PARAMETERS = """\
    dropout : float or list of float, default=0.0
        Inverted dropout after the hidden layers, in training only ('sgd',
        'adam'; an error with 'lbfgs'): each hidden unit is zeroed with
        probability ``dropout`` and the others scaled by ``1 / (1 -
        dropout)``, so the expected activation is unchanged and ``predict``
        (no dropout) needs no rescaling. One rate for every hidden layer or
        a list with one per hidden layer, each in [0, 1). The masks come
        from ``glassnet.layers.Dropout`` layers seeded from ``random_state``:
        when some rate is not 0, ``random_state.randint(2**31 - 1,
        size=n_hidden_layers)`` is drawn once per call to ``fit`` /
        ``partial_fit``, after the initial weights and the validation split
        and before the first shuffle; with every rate 0 nothing is drawn and
        the fit is scikit-learn's. ``loss_curve_`` is then the loss with the
        masks; the validation loss and score are without them.
    early_stopping_metric : {'score', 'loss'}, default='score'
        What early stopping watches ('sgd', 'adam' with
        ``early_stopping=True``): 'score' is scikit-learn's rule (the
        validation score, accuracy or R^2, must beat its best by ``tol``
        within ``n_iter_no_change`` epochs); 'loss' applies the same rule to
        the validation loss (lower is better: it must fall below its best
        minus ``tol``), and the best weights are then those of the lowest
        validation loss.
    restore_best_weights : bool, default=True
        With ``early_stopping=True`` ('sgd', 'adam'): True (scikit-learn's
        behaviour) ends every fit with the weights of the best validation
        epoch (highest score, or lowest loss with
        ``early_stopping_metric='loss'``; the first such epoch on ties); False
        keeps the weights of the last epoch. Without early stopping there is
        no validation set and the last weights are always kept.
    callbacks : list of glassnet.callbacks.Callback, default=None
        Called during ``fit`` and ``partial_fit`` ('sgd', 'adam'; an error
        with 'lbfgs'), with Keras's hooks: ``on_train_begin``,
        ``on_epoch_begin(epoch)``, ``on_train_batch_begin(batch)``,
        ``on_train_batch_end(batch, logs)`` (``{"loss"}``: the batch's),
        ``on_epoch_end(epoch, logs)`` and ``on_train_end`` (after the best
        weights were restored). The epoch logs are ``{"loss": loss_}``, and
        with a validation set (``early_stopping=True``) also ``"val_loss"``
        (the last of ``validation_loss_curve_``) and ``"val_score"`` (of
        ``validation_scores_``). ``epoch`` counts from 0 in each call.
        The callbacks are used as given and keep their state, as in Keras
        (``EarlyStopping.stopped_epoch`` is read from the object passed in);
        ``clone`` (as in ``GridSearchCV``) gives each clone copies. During
        the fit a callback's ``self.model`` is the estimator (set back to None
        afterwards, so the callbacks do not keep it);
        ``self.model.stop_training = True`` ends the fit after that epoch (or
        batch), ``get_weights`` / ``set_weights`` read and write the weights
        (``EarlyStopping(restore_best_weights=True)`` works).
        ``LearningRateScheduler``, ``ReduceLROnPlateau``, ``ModelCheckpoint``
        and ``BackupAndRestore`` are refused: they change
        ``model.optimizer`` (here the constructor's parameter) or call
        ``model.save``.
    optimizer : glassnet.optimizers.Optimizer, default=None
        The optimizer that trains the weights, instead of the one ``solver``
        makes: it replaces 'sgd' and 'adam' (and an error with 'lbfgs').
        Given one, ``learning_rate_init``, ``learning_rate``, ``power_t``,
        ``momentum``, ``nesterovs_momentum``, ``beta_1``, ``beta_2`` and
        ``epsilon`` are not used (the optimizer's own learning rate, or
        schedule, applies), and the rest of the stochastic loop is
        unchanged: ``solver`` then only has to be 'sgd' or 'adam'. Each fit
        trains a fresh copy (settings, no state); the parameter itself is
        never changed, and ``clone`` copies it. ``Adam(learning_rate=0.001,
        epsilon=1e-8, step_dtype='float64')`` is ``solver='adam'`` with its
        defaults, bit for bit."""

ATTRIBUTES = """\
    loss_ : float
        The loss (penalty included) after the last epoch or iteration.
    best_loss_ : float or None
        The smallest training loss seen (None with early stopping).
    loss_curve_ : list of float
        The loss after each epoch ('sgd', 'adam').
    validation_scores_ : list of float or None
        The validation score after each epoch (early stopping only).
    validation_loss_curve_ : list of float or None
        The validation loss after each epoch (early stopping only; glassnet's
        extension, 'sgd', 'adam'): the training loss's formula on the
        held-out set without dropout, the L2 penalty's ``s`` being the
        held-out set's size (or its sample weights' sum).
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

FROM_MODEL_PARAMS = """\
**params
            Other constructor parameters (``hidden_layer_sizes``,
            ``activation`` and ``dropout`` come from the model). To train
            further from the model's weights, use ``partial_fit`` or
            ``warm_start=True``: a plain ``fit`` starts from new weights."""


def filled(method):
    """``method`` with ``{from_model_params}`` in its docstring filled in."""
    method.__doc__ = method.__doc__.replace("{from_model_params}", FROM_MODEL_PARAMS)
    return method
