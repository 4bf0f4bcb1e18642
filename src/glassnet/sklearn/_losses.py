"""The output activation + loss + L2 penalty of the scikit-learn estimators, fused.

Why a fused Function here instead of composing ``glassnet.ops`` or reusing
``glassnet.losses``: scikit-learn's MLP losses have estimator-specific semantics
that users' numbers depend on -- half squared error averaged over the samples and
then over the outputs, log-loss on probabilities clipped to ``[eps, 1 - eps]``,
half Poisson deviance with its constant terms, and the penalty
``alpha / (2 s) * sum_j ||W_j||^2`` where ``s`` is the batch size (or the batch's
sample-weight sum). For each of scikit-learn's (output activation, loss) pairs the
gradient with respect to the output layer's pre-activation ``z`` is simply
``sw * (act(z) - y) / s`` (a canonical link). One node computing exactly
scikit-learn's floating-point operations makes the fitted weights agree with
scikit-learn's to the last bit, and keeps the graph of a training step at one
node per layer plus this one, which matters when batches are tiny.

The regressor's other losses ('absolute_error', 'huber', a callable) have no
such link and no scikit-learn numbers to match: they are composed on the
engine from :mod:`glassnet.losses` (:func:`engine_objective`), and the engine
differentiates them.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.special import expit, xlogy

from glassnet import losses, ops
from glassnet.autograd import Function, Tensor


def _identity(z: np.ndarray) -> np.ndarray:
    return z


def _softmax(z: np.ndarray) -> np.ndarray:
    # NOTE: subtract the row max, or exp overflows for logits > 700.
    p = np.exp(z - z.max(axis=1)[:, np.newaxis])
    p /= p.sum(axis=1)[:, np.newaxis]
    return p


#: Output activations by scikit-learn's ``out_activation_`` name, (n, k) -> (n, k).
OUTPUT_ACTIVATIONS = {
    "identity": _identity,
    "exp": np.exp,
    "logistic": expit,
    "softmax": _softmax,
}


def _average(values: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray:
    """Per-output (weighted) mean over the samples, as ``np.average(axis=0)``."""
    if sample_weight is None:
        # NOTE: the sum divided by the count is exactly what ndarray.mean computes,
        # without its Python-level overhead (this runs once per batch).
        return np.add.reduce(values, axis=0) / values.shape[0]
    return np.average(values, weights=sample_weight, axis=0)


def squared_error(y, p, sample_weight=None):
    """Half the squared error, averaged over samples, then over outputs."""
    per_output = _average((y - p) ** 2, sample_weight)
    if per_output.shape[0] == 1:  # the mean of one number is that number
        return 0.5 * per_output[0]
    return 0.5 * (np.add.reduce(per_output) / per_output.shape[0])


def poisson(y, p, sample_weight=None):
    """Half the Poisson deviance (with its ``y log y - y`` terms), summed over
    outputs."""
    return _average(xlogy(y, y / p) - y + p, sample_weight).sum()


def log_loss(y, p, sample_weight=None):
    """Cross-entropy of probabilities clipped to ``[eps, 1 - eps]``."""
    eps = np.finfo(p.dtype).eps
    p = np.clip(p, eps, 1 - eps)
    if p.shape[1] == 1:
        p = np.append(1 - p, p, axis=1)
    if y.shape[1] == 1:
        y = np.append(1 - y, y, axis=1)
    return -_average(xlogy(y, p), sample_weight).sum()


def binary_log_loss(y, p, sample_weight=None):
    """Independent binary cross-entropies (one per output column), summed."""
    eps = np.finfo(p.dtype).eps
    p = np.clip(p, eps, 1 - eps)
    return -_average(xlogy(y, p) + xlogy(1 - y, 1 - p), sample_weight).sum()


LOSSES = {
    "squared_error": squared_error,
    "poisson": poisson,
    "log_loss": log_loss,
    "binary_log_loss": binary_log_loss,
}


def l2_sum(coefs) -> float:
    """``sum_j ||W_j||^2``, accumulated one matrix at a time."""
    values = 0
    for w in coefs:
        values += np.vdot(w, w)  # the same BLAS dot as np.dot(w.ravel(), w.ravel())
    return values


# Not in ops/ on purpose: scikit-learn's exact loss is this front end's contract.
class MLPLoss(Function):
    """l = loss(y, act(z)) + alpha/(2 s) sum_j ||W_j||^2;  dl/dz = sw (act(z) - y) / s,
    dl/dW_j = alpha W_j / s."""

    def forward(
        self,
        z,
        *coefs,
        y=None,
        sample_weight=None,
        activation="identity",
        loss="squared_error",
        alpha=0.0,
        sw_sum=1,
    ):
        self.p = OUTPUT_ACTIVATIONS[activation](z)
        self.y, self.sample_weight = y, sample_weight
        self.coefs, self.alpha, self.sw_sum = coefs, alpha, sw_sum
        value = LOSSES[loss](y, self.p, sample_weight)
        return value + (0.5 * alpha) * l2_sum(coefs) / sw_sum

    def backward(self, grad_output):
        # NOTE: the estimators call backward(s) (the gradient of s * loss), which
        # makes ``scale`` exactly 1.0 and the weight gradients sum(delta) + alpha W
        # before they are divided by s -- scikit-learn's order of rounding.
        scale = float(grad_output) / self.sw_sum
        unit = scale == 1.0
        needs = self.needs_input_grad
        grad_z = None
        if needs[0]:
            grad_z = self.p - self.y
            if self.sample_weight is not None:
                grad_z *= self.sample_weight.reshape(-1, 1)
            if not unit:
                grad_z = grad_z * scale
        grads = [grad_z]
        alpha = self.alpha
        for w, need in zip(self.coefs, needs[1:]):
            if not need or alpha == 0:
                grads.append(None)
            else:
                grads.append(alpha * w if unit else (alpha * w) * scale)
        return tuple(grads)


#: The regressor's losses that go through the engine: name -> (huber_delta ->
#: the per-sample loss ``(y_true, y_pred) -> Tensor of shape (n_samples,)``).
ENGINE_LOSSES = {
    "absolute_error": lambda delta: losses.mean_absolute_error,
    "huber": lambda delta: functools.partial(losses.huber, delta=delta),
}


def engine_loss(loss, huber_delta):
    """The per-sample loss function of ``loss`` (a name of ENGINE_LOSSES or the
    user's callable), or None for the fused losses of :class:`MLPLoss`."""
    if callable(loss):
        return loss
    make = ENGINE_LOSSES.get(loss)
    return None if make is None else make(huber_delta)


def engine_objective(loss_fn, z, y, sample_weight, sw_sum, coefs, alpha):
    """``loss_fn(y, z)`` averaged over the samples (weighted by
    ``sample_weight``: ``sum(w l) / sum(w)``), plus the L2 penalty
    ``alpha / (2 s) sum_j ||W_j||^2`` (a constant here: its gradient is added by
    the training step, as for MLPLoss). ``z`` is the output Tensor, shape
    (n_samples, n_outputs); ``y`` reaches ``loss_fn`` as a Tensor of ``z``'s
    dtype that gets no gradient."""
    values = loss_fn(Tensor(np.asarray(y, dtype=z.data.dtype)), z)
    if not isinstance(values, Tensor):
        raise TypeError(
            "The loss must return a glassnet Tensor computed from y_pred with "
            "glassnet ops, so that the engine can differentiate it. Received: "
            f"{type(values).__name__}"
        )
    if values.ndim == 0:
        if sample_weight is not None:
            raise ValueError(
                "A loss that returns a scalar cannot weight the samples: return "
                "one loss per sample (shape (n_samples,)) to use sample_weight. "
                f"Received: a scalar loss and sample_weight of shape "
                f"{sample_weight.shape}"
            )
        average = values
    elif values.shape == (z.shape[0],):
        if sample_weight is None:
            average = ops.mean(values)
        else:
            average = ops.weighted_sum(values, sample_weight) / sw_sum
    else:
        raise ValueError(
            "The loss must return one value per sample (shape "
            f"({z.shape[0]},)) or a scalar. Received: shape {values.shape}"
        )
    return average + (0.5 * alpha) * l2_sum(coefs) / sw_sum
