"""Losses, each one fused Function with its local gradient written out.

On logits, rather than composed from log_softmax and a sum: the combined
gradient ``softmax(x) - target`` is both cheaper and exact, and the log-sum-exp
form never overflows (logits of 1e4 are fine). On probabilities, clipped to
``[EPSILON, 1 - EPSILON]`` as Keras does. Each is one graph node: losses are the
hot path of small models. ``weighted_sum`` weights and reduces per-sample losses.
"""

from __future__ import annotations

import numpy as np

from glassnet.autograd import Function

#: How far probabilities are kept from 0 and 1 before their log (Keras's epsilon).
EPSILON = 1e-7


class SoftmaxCrossEntropy(Function):
    """l = logsumexp(x) - sum_k t_k x_k per row;  dl/dx = softmax(x) - t.

    ``x`` has shape (..., classes); ``target`` is probabilities of the same
    shape or integer labels of shape (...) (t is then their one-hot rows).
    """

    def forward(self, x, target=None):
        # NOTE: NumPy reduces a short last axis (10 classes) slowly: the row
        # maxima reduce a transposed copy over its first axis, and the row sums
        # are a matrix-vector product. In place on this op's own arrays: on small
        # batches the number of passes, not their size, is the cost.
        columns = x.T if x.ndim == 2 else np.moveaxis(x, -1, 0)
        rows_max = np.maximum.reduce(np.ascontiguousarray(columns))
        shifted = x - np.asarray(rows_max)[..., None]
        self.probs = np.exp(shifted)
        total = np.asarray(self.probs @ np.ones(x.shape[-1], x.dtype))[..., None]
        self.probs /= total
        log_total = np.log(total)
        if target.shape == x.shape:
            self.target = target.astype(x.dtype, copy=False)
            shifted -= log_total
            return -(self.target * shifted).sum(axis=-1)
        # NOTE: the labels as flat indices into x: one gather here and one
        # scatter in backward instead of a one-hot array and its passes.
        self.target = None
        self.flat = np.arange(target.size) * x.shape[-1] + target.reshape(-1)
        picked = shifted.reshape(-1)[self.flat].reshape(target.shape)
        return log_total[..., 0] - picked

    def backward(self, grad_output):
        if self.target is not None:
            return (grad_output[..., None] * (self.probs - self.target),)
        grad = self.probs.copy()
        grad.reshape(-1)[self.flat] -= 1
        grad *= grad_output[..., None]
        return (grad,)


class SigmoidCrossEntropy(Function):
    """l = max(x, 0) - x t + log(1 + exp(-abs(x)));  dl/dx = sigmoid(x) - t."""

    def forward(self, x, target=None):
        self.target = np.asarray(target, dtype=x.dtype)
        self.probs = 0.5 * (np.tanh(0.5 * x) + 1.0)
        return np.maximum(x, 0) - x * self.target + np.log1p(np.exp(-np.abs(x)))

    def backward(self, grad_output):
        return (grad_output * (self.probs - self.target),)


class SquaredError(Function):
    """l = mean((p - t)**2, axis=-1);  dl/dp = 2 (p - t) / k."""

    def forward(self, p, target=None):
        self.diff = p - np.asarray(target, dtype=p.dtype)
        squares = self.diff * self.diff
        if squares.shape[-1] == 1:  # NOTE: one output: the mean is the value
            return squares[..., 0]
        return np.add.reduce(squares, axis=-1) / squares.shape[-1]

    def backward(self, grad_output):
        scale = 2.0 / self.diff.shape[-1]
        return (np.expand_dims(grad_output * scale, -1) * self.diff,)


class BinaryCrossentropyProbs(Function):
    """l = -mean(t log q + (1 - t) log(1 - q), axis=-1), q = clip(p, eps, 1 - eps);
    dl/dp = (q - t) / (q (1 - q)) / k inside the clip range, 0 outside."""

    def forward(self, p, target=None):
        self.q = np.clip(p, EPSILON, 1.0 - EPSILON)
        self.inside = (p >= EPSILON) & (p <= 1.0 - EPSILON)
        self.target = target = np.asarray(target, dtype=p.dtype)
        elementwise = target * np.log(self.q) + (1.0 - target) * np.log1p(-self.q)
        return -np.mean(elementwise, axis=-1)

    def backward(self, grad_output):
        q, k = self.q, self.q.shape[-1]
        local = (q - self.target) / (q * (1.0 - q)) * self.inside
        return (np.expand_dims(grad_output / k, -1) * local,)


class CategoricalCrossentropyProbs(Function):
    """l = -sum(t log q), q = clip(p / sum(p), eps, 1 - eps) along the last axis;
    dl/dp = (d - sum(d q)) / sum(p) with d = -t / q inside the clip range, else 0."""

    def forward(self, p, target=None):
        self.total = p.sum(axis=-1, keepdims=True)
        self.q = p / self.total
        self.inside = (self.q >= EPSILON) & (self.q <= 1.0 - EPSILON)
        self.target = target = np.asarray(target, dtype=p.dtype)
        self.clipped = np.clip(self.q, EPSILON, 1.0 - EPSILON)
        return -(target * np.log(self.clipped)).sum(axis=-1)

    def backward(self, grad_output):
        d = -self.target / self.clipped * self.inside
        d -= (d * self.q).sum(axis=-1, keepdims=True)
        return (d * (np.expand_dims(grad_output, -1) / self.total),)


class WeightedSum(Function):
    """r = sum(w l) / n, n = l.size (or sum(w l) undivided);  dr/dl = w / n (or w).
    ``w`` (optional) is data."""

    def forward(self, values, weight=None, divide_by_size=False):
        if weight is not None:
            weight = np.asarray(weight, dtype=values.dtype)
        self.shape, self.weight = values.shape, weight
        self.count = max(values.size, 1) if divide_by_size else 1
        if weight is not None:
            values = values * weight
        return np.asarray(np.add.reduce(values, axis=None) / self.count)

    def backward(self, grad_output):
        scale = grad_output / self.count
        if self.weight is None:
            return (np.broadcast_to(scale, self.shape),)
        return (np.broadcast_to(self.weight * scale, self.shape),)


def _check_labels(labels: np.ndarray, shape: tuple[int, ...]) -> None:
    """Integer labels of shape ``shape[:-1]`` in ``[0, shape[-1])``, or an error."""
    if labels.shape != shape[:-1] or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"softmax_cross_entropy needs integer labels of shape {shape[:-1]} or "
            f"probabilities of shape {shape}. Received: target of shape "
            f"{labels.shape} and dtype {labels.dtype}."
        )
    classes = shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"softmax_cross_entropy needs labels in [0, {classes}). Received: "
            f"labels from {labels.min()} to {labels.max()}."
        )


def softmax_cross_entropy(logits, target):
    """Per-row cross-entropy of ``softmax(logits)`` against integer labels of shape
    ``logits.shape[:-1]`` or probabilities of ``logits``' shape."""
    target = np.asarray(getattr(target, "data", target))
    shape = np.shape(logits)
    if target.shape != shape:
        _check_labels(target, shape)
    return SoftmaxCrossEntropy.apply(logits, target=target)


def sigmoid_cross_entropy(logits, target):
    """Elementwise binary cross-entropy of ``sigmoid(logits)`` against ``target``."""
    return SigmoidCrossEntropy.apply(logits, target=getattr(target, "data", target))


def mean_squared_error(predictions, target):
    """``mean((predictions - target)**2, axis=-1)``: one value per row."""
    return SquaredError.apply(predictions, target=getattr(target, "data", target))


def binary_cross_entropy(probs, target):
    """Binary cross-entropy of probabilities against targets in [0, 1], averaged
    over the last axis (probabilities clipped to ``[EPSILON, 1 - EPSILON]``)."""
    return BinaryCrossentropyProbs.apply(probs, target=getattr(target, "data", target))


def categorical_cross_entropy(probs, target):
    """Per-row cross-entropy of probabilities (normalized to sum 1 along the last
    axis, then clipped) against target probabilities or one-hot rows."""
    target = getattr(target, "data", target)
    return CategoricalCrossentropyProbs.apply(probs, target=target)


def weighted_sum(values, weight=None, divide_by_size=False):
    """``sum(weight * values)``, divided by ``values.size`` if ``divide_by_size``
    (Keras's "sum_over_batch_size": by the count, not by the weights' sum)."""
    weight = getattr(weight, "data", weight)
    return WeightedSum.apply(values, weight=weight, divide_by_size=divide_by_size)
