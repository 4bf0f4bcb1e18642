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

from typing import Any

import numpy as np
import scipy.optimize
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from glassnet._warnings import warn
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
    steps)."""
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


def fit_stochastic(estimator: Any, X, y, sample_weight, incremental: bool) -> None:
    """Epochs of mini-batch steps until a stopping rule fires or ``max_iter``
    (one epoch for ``partial_fit``); X of shape (n_samples, n_features), y of
    shape (n_samples, n_outputs)."""
    est = estimator
    packed = est._packed_parameters()
    step = TrainingStep(est, est._network())
    if not incremental or not hasattr(est, "_optimizer"):
        est._optimizer = make_optimizer(est)
    optimizer = est._optimizer

    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    early_stopping = est.early_stopping
    if early_stopping:
        X_train, y_train, sw_train, X_val, y_val, sw_val = _split_validation(
            est, X, y, sample_weight
        )
    else:
        X_train, y_train, sw_train = X, y, sample_weight
        X_val = y_val = sw_val = None

    n_samples = X_train.shape[0]
    sample_idx = np.arange(n_samples, dtype=int)
    bounds = _batch_bounds(est.batch_size, n_samples)
    rng = est._random_state

    try:
        est.n_iter_ = 0
        for _ in range(est.max_iter):
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

            accumulated_loss = 0.0
            for start, stop in bounds:
                batch_loss = step(
                    X_epoch[start:stop],
                    y_epoch[start:stop],
                    None if sw_epoch is None else sw_epoch[start:stop],
                )
                accumulated_loss += batch_loss * (stop - start)
                optimizer.apply([step.grad], [packed])

            est.n_iter_ += 1
            est.loss_ = accumulated_loss / X_train.shape[0]
            est.t_ += n_samples
            est.loss_curve_.append(est.loss_)
            if est.verbose:
                print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")

            _update_no_improvement_count(est, early_stopping, X_val, y_val, sw_val)
            if est.solver == "sgd" and est.learning_rate == "invscaling":
                optimizer.learning_rate = (
                    float(est.learning_rate_init) / (est.t_ + 1) ** est.power_t
                )

            if est._no_improvement_count > est.n_iter_no_change:
                watched = "Validation score" if early_stopping else "Training loss"
                msg = (
                    f"{watched} did not improve more than tol={est.tol:f} for "
                    f"{int(est.n_iter_no_change)} consecutive epochs."
                )
                if _trigger_stopping(est, msg):
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

    if early_stopping:
        # Restore the best weights (the lists themselves, as scikit-learn does).
        est.coefs_ = est._best_coefs
        est.intercepts_ = est._best_intercepts


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


def _split_validation(estimator: Any, X, y, sample_weight):
    """scikit-learn's early-stopping split (stratified only for one output)."""
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
    if classifier:
        y_val = estimator._label_binarizer.inverse_transform(y_val)
    return X_train, y_train, sw_train, X_val, y_val, sw_val


def _trigger_stopping(estimator: Any, msg: str) -> bool:
    """Stop, or (sgd with the adaptive schedule) divide the rate by 5."""
    optimizer, verbose = estimator._optimizer, estimator.verbose
    if estimator.solver != "sgd" or estimator.learning_rate != "adaptive":
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


def _update_no_improvement_count(estimator: Any, early_stopping, X_val, y_val, sw_val):
    """scikit-learn's count of epochs without improvement (of the validation
    score with early stopping, else of the training loss); keeps the best
    weights for early stopping."""
    est, tol = estimator, estimator.tol
    if early_stopping:
        score = est._score(X_val, y_val, sample_weight=sw_val)
        est.validation_scores_.append(score)
        if est.verbose:
            print(f"Validation score: {est.validation_scores_[-1]:f}")
        last = est.validation_scores_[-1]
        if last < est.best_validation_score_ + tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if last > est.best_validation_score_:
            est.best_validation_score_ = last
            est._best_coefs = [c.copy() for c in est.coefs_]
            est._best_intercepts = [i.copy() for i in est.intercepts_]
    else:
        if est.loss_curve_[-1] > est.best_loss_ - tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if est.loss_curve_[-1] < est.best_loss_:
            est.best_loss_ = est.loss_curve_[-1]
