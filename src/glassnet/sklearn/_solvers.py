"""The solvers of the MLP estimators: scipy's L-BFGS-B, and the stochastic loop
of 'sgd' and 'adam'.

Both train the estimator's packed weights (``coefs_`` and ``intercepts_`` are
views of one flat vector, :meth:`BaseMultilayerPerceptron._packed_parameters`)
with the gradients of one :class:`~glassnet.sklearn._network.TrainingStep`. The
stochastic loop follows scikit-learn 1.9's ``_fit_stochastic``: the same
early-stopping split, per-epoch shuffling, batches, learning-rate schedules,
stopping rules, warnings and verbose lines, so that the same ``random_state``
gives the same numbers.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any, NamedTuple

import numpy as np
import scipy.optimize
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from glassnet._warnings import warn
from glassnet.callbacks import (
    BackupAndRestore,
    CallbackList,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
)
from glassnet.layers import Dropout
from glassnet.optimizers import SGD, Adam, Optimizer
from glassnet.sklearn._network import TrainingStep

STOCHASTIC_SOLVERS = ("sgd", "adam")


# --- L-BFGS ---------------------------------------------------------------------------
def fit_lbfgs(estimator: Any, X, y, sample_weight) -> None:
    """Full-batch L-BFGS-B through ``scipy.optimize.minimize`` on the packed
    parameters (a vector of shape (n_weights,)).

    As in scikit-learn, scipy evaluates the loss at points of the weights'
    dtype (float32 weights give float32 passes) and returns a float64
    solution, which the weights then become.
    """
    packed = estimator._packed_parameters()
    step = TrainingStep(estimator, estimator._network())

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
            "maxfun": estimator.max_fun,
            "maxiter": estimator.max_iter,
            "gtol": estimator.tol,
        },
    )
    estimator.n_iter_ = _check_lbfgs_result(result, estimator.max_iter)
    estimator.loss_ = result.fun
    np.copyto(estimator._packed_parameters(dtype=result.x.dtype).data, result.x)


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
        warn(message, ConvergenceWarning)
    return n_iter


# --- SGD and Adam ---------------------------------------------------------------------
def make_optimizer(estimator: Any) -> Optimizer:
    """The glassnet optimizer of ``solver='sgd'`` or ``'adam'``, with the
    estimator's settings (Adam with scikit-learn's float64 rounding of float32
    steps); or a fresh copy of the ``optimizer`` parameter, when given."""
    if estimator.optimizer is not None:
        return fresh_optimizer(estimator.optimizer)
    if estimator.solver == "sgd":
        return SGD(
            learning_rate=float(estimator.learning_rate_init),
            momentum=estimator.momentum,
            nesterov=estimator.nesterovs_momentum,
        )
    return Adam(
        learning_rate=estimator.learning_rate_init,
        beta_1=estimator.beta_1,
        beta_2=estimator.beta_2,
        epsilon=estimator.epsilon,
        step_dtype="float64",
    )


def fresh_optimizer(prototype: Optimizer) -> Optimizer:
    """A copy of ``prototype`` with its settings and none of its state
    (moments, iterations): the parameter itself is never trained with."""
    # NOTE: the memo leaves the state out of the copy: it may hold another
    # model's variables.
    memo = {id(prototype._state): {}, id(prototype._buffers): {}}
    optimizer = copy.deepcopy(prototype, memo)
    optimizer.reset()
    return optimizer


#: Callbacks that need what an estimator does not have: ``model.optimizer``
#: (here the constructor's parameter, which fit never changes) or ``model.save``.
UNSUPPORTED_CALLBACKS = (
    LearningRateScheduler,
    ReduceLROnPlateau,
    ModelCheckpoint,
    BackupAndRestore,
)


def check_callbacks(callbacks) -> None:
    for callback in callbacks or ():
        if isinstance(callback, UNSUPPORTED_CALLBACKS):
            raise ValueError(
                f"{type(callback).__name__} does not work with the MLP estimators: "
                "it changes model.optimizer (the estimator's constructor "
                "parameter, which fit never changes) or saves the model with "
                "model.save (pickle an estimator instead). Received: "
                f"callbacks={callbacks!r}"
            )


def _callback_list(est: Any, n_batches: int) -> CallbackList | None:
    """The ``callbacks`` parameter, their ``model`` the estimator; None when
    there are none."""
    if not est.callbacks:
        return None
    return CallbackList(
        est.callbacks,
        model=est,
        epochs=est.max_iter,
        steps=n_batches,
        verbose=est.verbose,
    )


def _dropout_layers(est: Any, dtype) -> list[Dropout | None] | None:
    """One Dropout layer per hidden layer with a rate (None where the rate is
    0); None when no layer has one, and then nothing is drawn. Otherwise one
    seed per hidden layer, ``random_state.randint(2**31 - 1, size=n_hidden)``."""
    rates = est._per_hidden_layer("dropout")
    if not any(rates):
        return None
    seeds = est._random_state.randint(np.iinfo(np.int32).max, size=len(rates))
    return [
        Dropout(float(rate), seed=int(seed), dtype=np.dtype(dtype).name)
        if rate
        else None
        for rate, seed in zip(rates, seeds)
    ]


def fit_stochastic(estimator: Any, X, y, sample_weight, incremental: bool) -> None:
    """Epochs of mini-batch steps until a stopping rule fires or ``max_iter``
    (one epoch for ``partial_fit``); X of shape (n_samples, n_features), y of
    shape (n_samples, n_outputs)."""
    est = estimator
    packed = est._packed_parameters()
    if not incremental or not hasattr(est, "_optimizer"):
        est._optimizer = make_optimizer(est)
    optimizer = est._optimizer

    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    early_stopping = est.early_stopping
    if early_stopping:
        X_train, y_train, sw_train, validation = _split_validation(
            est, X, y, sample_weight
        )
    else:
        X_train, y_train, sw_train = X, y, sample_weight
        validation = None
    step = TrainingStep(est, est._network(), _dropout_layers(est, packed.dtype))

    n_samples = X_train.shape[0]
    sample_idx = np.arange(n_samples, dtype=int)
    bounds = _batch_bounds(est.batch_size, n_samples)
    rng = est._random_state
    callbacks = _callback_list(est, len(bounds))

    with _attached(callbacks, est):
        try:
            est.n_iter_ = 0
            for epoch in range(est.max_iter):
                if callbacks is not None:
                    callbacks.on_epoch_begin(epoch)
                if est.shuffle:
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

                accumulated_loss, seen = _train_epoch(
                    est, step, (X_epoch, y_epoch, sw_epoch), bounds, callbacks
                )

                est.n_iter_ += 1
                est.loss_ = accumulated_loss / seen
                est.t_ += seen
                est.loss_curve_.append(est.loss_)
                if est.verbose:
                    print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")

                _update_no_improvement_count(est, step, validation)
                own_schedule = est.solver == "sgd" and est.optimizer is None
                if own_schedule and est.learning_rate == "invscaling":
                    optimizer.learning_rate = (
                        float(est.learning_rate_init) / (est.t_ + 1) ** est.power_t
                    )
                if callbacks is not None:
                    callbacks.on_epoch_end(epoch, _epoch_logs(est, early_stopping))
                    if est.stop_training:
                        break

                if est._no_improvement_count > est.n_iter_no_change:
                    if _trigger_stopping(est, _stalled_message(est, early_stopping)):
                        break
                    est._no_improvement_count = 0

                if incremental:
                    break
                if est.n_iter_ == est.max_iter:
                    warn(
                        f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) "
                        "reached and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            warn("Training interrupted by user.")

        if early_stopping and est.restore_best_weights:
            # Restore the best weights (the lists themselves, as scikit-learn does).
            est.coefs_ = est._best_coefs
            est.intercepts_ = est._best_intercepts


def _train_epoch(est: Any, step, data, bounds, callbacks) -> tuple[float, int]:
    """One optimizer step per mini-batch of ``data`` (X, y, sample weights in
    the epoch's order): the sum of the batch losses times their sizes, and the
    number of samples seen (all, unless a batch hook stopped the fit)."""
    X, y, sw = data
    optimizer, packed = est._optimizer, est._packed
    batch_hooks = callbacks is not None and callbacks.wants_batch_hooks
    accumulated_loss = 0.0
    for batch, (start, stop) in enumerate(bounds):
        if batch_hooks:
            callbacks.on_train_batch_begin(batch)
        batch_loss = step(
            X[start:stop], y[start:stop], None if sw is None else sw[start:stop]
        )
        accumulated_loss += batch_loss * (stop - start)
        optimizer.apply([step.grad], [packed])
        if batch_hooks:
            callbacks.on_train_batch_end(batch, {"loss": float(batch_loss)})
            if est.stop_training:
                break
    return accumulated_loss, stop


def _stalled_message(est: Any, early_stopping: bool) -> str:
    if not early_stopping:
        watched = "Training loss"
    elif est.early_stopping_metric == "loss":
        watched = "Validation loss"
    else:
        watched = "Validation score"
    return (
        f"{watched} did not improve more than tol={est.tol:f} for "
        f"{int(est.n_iter_no_change)} consecutive epochs."
    )


@contextlib.contextmanager
def _attached(callbacks: CallbackList | None, est: Any):
    """Training with the callbacks: ``on_train_begin`` before, ``on_train_end``
    after (the best weights restored), and their ``model`` set back to None
    whatever happens: the callbacks are a constructor parameter, and must not
    keep the fitted estimator (clone and pickle copy them)."""
    if callbacks is None:
        yield
        return
    est.stop_training = False
    try:
        callbacks.on_train_begin()
        yield
        callbacks.on_train_end()
    finally:
        callbacks.set_model(None)
        vars(est).pop("_stop_training", None)


def _epoch_logs(est: Any, early_stopping: bool) -> dict[str, float]:
    """What the callbacks see at the end of an epoch: the training loss, and
    with a validation set its loss and score (accuracy or R^2)."""
    logs = {"loss": float(est.loss_)}
    if early_stopping:
        logs["val_loss"] = float(est.validation_loss_curve_[-1])
        logs["val_score"] = float(est.validation_scores_[-1])
    return logs


def _batch_bounds(batch_size, n_samples: int) -> list[tuple[int, int]]:
    """(start, stop) of each mini-batch; 'auto' is ``min(200, n_samples)``."""
    if batch_size == "auto":
        batch_size = min(200, n_samples)
    else:
        if batch_size > n_samples:
            warn(
                "Got `batch_size` less than 1 or larger than "
                "sample size. It is going to be clipped"
            )
        batch_size = int(np.clip(batch_size, 1, n_samples))
    return [
        (start, min(start + batch_size, n_samples))
        for start in range(0, n_samples, batch_size)
    ]


class Validation(NamedTuple):
    """The held-out set: ``y`` as the score reads it (labels for a
    classifier), ``target`` as the loss reads it."""

    X: Any
    y: Any
    target: Any
    sample_weight: Any


def _split_validation(estimator: Any, X, y, sample_weight):
    """scikit-learn's early-stopping split (stratified only for one output):
    ``X_train, y_train, sw_train, Validation``."""
    classifier = is_classifier(estimator)
    stratify = y if classifier and estimator.n_outputs_ == 1 else None
    arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
    parts = train_test_split(
        *arrays,
        random_state=estimator._random_state,
        test_size=estimator.validation_fraction,
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
    labels = y_val
    if classifier:
        labels = estimator._label_binarizer.inverse_transform(y_val)
    return X_train, y_train, sw_train, Validation(X_val, labels, y_val, sw_val)


def _trigger_stopping(estimator: Any, msg: str) -> bool:
    """Stop, or (sgd with the adaptive schedule) divide the rate by 5."""
    optimizer, verbose = estimator._optimizer, estimator.verbose
    adaptive = estimator.solver == "sgd" and estimator.learning_rate == "adaptive"
    if not adaptive or estimator.optimizer is not None:
        if verbose:
            print(msg + " Stopping.")
        return True
    if optimizer.learning_rate <= 1e-6:
        if verbose:
            print(msg + " Learning rate too small. Stopping.")
        return True
    optimizer.learning_rate /= 5.0
    if verbose:
        print(f"{msg} Setting learning rate to {optimizer.learning_rate:f}")
    return False


def _update_no_improvement_count(estimator: Any, step, validation):
    """scikit-learn's count of epochs without improvement (of the validation
    score with early stopping, else of the training loss); keeps the best
    weights for early stopping. With ``early_stopping_metric='loss'`` the
    validation loss (lower is better) takes the score's place."""
    est, tol = estimator, estimator.tol
    if validation is not None:
        X_val, y_val, target, sw_val = validation
        score = est._score(X_val, y_val, sample_weight=sw_val)
        est.validation_scores_.append(score)
        loss = step.evaluate(X_val, target, sw_val)
        est.validation_loss_curve_.append(loss)
        if est.verbose:
            print(f"Validation score: {est.validation_scores_[-1]:f}")
        if est.early_stopping_metric == "loss":
            if est.verbose:
                print(f"Validation loss: {loss:f}")
            # the negated loss: higher is better, as for the score
            last, best = -loss, -est._best_validation_loss
        else:
            last, best = score, est.best_validation_score_
        if last < best + tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
        if loss < est._best_validation_loss:
            est._best_validation_loss = loss
        if last > best:
            est._best_coefs = [c.copy() for c in est.coefs_]
            est._best_intercepts = [i.copy() for i in est.intercepts_]
    else:
        if est.loss_curve_[-1] > est.best_loss_ - tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if est.loss_curve_[-1] < est.best_loss_:
            est.best_loss_ = est.loss_curve_[-1]
