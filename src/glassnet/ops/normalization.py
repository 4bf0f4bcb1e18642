"""Batch and layer normalization, each as one fused Function.

Composed from mean, sub, mul and sqrt either would be about ten graph nodes,
each with its own intermediate arrays; fused, the backward is the closed form
in the Function's docstring. Batch normalization uses the batch's statistics
(per feature), layer normalization each sample's (over its feature axes).
A faster batch normalization over every axis but the last (blocked, threaded,
with relu and max pooling fused in) lives in
:mod:`glassnet.runtime.normalization`; :func:`batch_norm` asks
:func:`glassnet.ops.seam.fast` whether it applies.
"""

from __future__ import annotations

import numpy as np

from glassnet.autograd import Function, Tensor
from glassnet.ops import seam
from glassnet.ops.conv import conv2d, conv2d_settings, fusable_activation
from glassnet.ops.geometry import normalize_tuple
from glassnet.ops.nonlinear import relu
from glassnet.ops.pool import max_pool2d


class BatchNorm(Function):
    """y = gamma xhat + beta, xhat = (x - mean) / sqrt(var + eps), with the batch's
    mean and (biased) variance over ``axes``;  dL/dx = gamma / (n sqrt(var + eps))
    (n g - sum(g) - xhat sum(g xhat)), dL/dgamma = sum(g xhat), dL/dbeta = sum(g).
    """

    def forward(self, x, gamma, beta, axes=(0,), epsilon=1e-3, moments=None):
        self.axes = axes
        self.mean = x.mean(axis=axes, keepdims=True)
        centered = x - self.mean
        self.var = (centered * centered).mean(axis=axes, keepdims=True)
        if moments is not None:  # the caller's list receives them (see batch_norm)
            moments[:] = self.mean, self.var
        self.inv_std = 1.0 / np.sqrt(self.var + epsilon)
        self.xhat = centered * self.inv_std
        self.gamma = gamma
        return self.xhat * gamma + beta

    def backward(self, grad_output):
        g, xhat, axes = grad_output, self.xhat, self.axes
        need_x, need_gamma, need_beta = self.needs_input_grad
        sum_g = g.sum(axis=axes, keepdims=True)
        sum_gx = (g * xhat).sum(axis=axes, keepdims=True)
        grad_x = None
        if need_x:
            n = g.size // sum_g.size
            grad_x = (self.gamma * self.inv_std / n) * (n * g - sum_g - xhat * sum_gx)
        return grad_x, sum_gx if need_gamma else None, sum_g if need_beta else None


def batch_norm(
    x,
    gamma,
    beta,
    axes=(0,),
    epsilon=1e-3,
    return_moments=False,
    activation=None,
    pool_size=None,
):
    """Normalize ``x`` with its own mean and (biased) variance over ``axes``, then
    scale by ``gamma`` and shift by ``beta`` (both broadcastable to ``x``).

    With ``return_moments=True`` returns ``(y, mean, variance)``: the statistics
    are arrays shaped like ``x`` with ``axes`` kept as size 1, and carry no graph
    (a layer's moving averages follow them, with or without ``no_grad``).
    ``activation`` None or 'relu' applies relu after it; ``pool_size`` (int or
    pair): a max pool over non-overlapping windows of (N, H, W, C) images
    follows, as :func:`max_pool2d` with its defaults.

    The plain path is :class:`BatchNorm`, then relu, then the max pool; the
    fast kernel (over every axis but the last) does all three in one node,
    block by block (the same values up to the order of float sums).
    """
    moments = [] if return_moments else None
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    settings = dict(axes=axes, epsilon=epsilon, **_fused(activation, pool_size))
    fast = seam.fast("batch_norm", shapes=_shapes(x, gamma, beta), **settings)
    if fast is not None:
        y = fast(x, gamma, beta, moments=moments, **settings)
    else:
        y = BatchNorm.apply(x, gamma, beta, axes=axes, epsilon=epsilon, moments=moments)
        if settings["activation"] == "relu":
            y = relu(y)
        if settings["pool_size"] is not None:
            y = max_pool2d(y, settings["pool_size"])
    return (y, *moments) if return_moments else y


def conv2d_batch_norm(
    x,
    kernel,
    bias,
    gamma,
    beta,
    strides=(1, 1),
    padding="valid",
    dilation_rate=(1, 1),
    epsilon=1e-3,
    return_moments=False,
    activation=None,
    pool_size=None,
):
    """:func:`conv2d` (no activation), then :func:`batch_norm` of its output
    over the batch and the pixels (axes (0, 1, 2), per filter), with that
    op's ``activation``, ``pool_size`` and ``return_moments``.

    The plain path is those two ops; the fast kernel runs them as one node
    whose backward never stores the convolution output's gradient whole (the
    same values as the two fast nodes).
    """
    moments = [] if return_moments else None
    settings = conv2d_settings(strides, padding, dilation_rate)
    settings.update(epsilon=epsilon, **_fused(activation, pool_size))
    shapes = _shapes(kernel, gamma, beta)  # one gamma and beta per filter?
    fast = seam.fast("conv2d_batch_norm", shapes=shapes, **settings)
    if fast is not None:
        y = fast(x, kernel, bias, gamma, beta, moments=moments, **settings)
        return (y, *moments) if return_moments else y
    epsilon, activation, pool_size = (settings.pop(k) for k in _FUSED)
    z = conv2d(x, kernel, bias, **settings)
    return batch_norm(
        z, gamma, beta, (0, 1, 2), epsilon, return_moments, activation, pool_size
    )


_FUSED = ("epsilon", "activation", "pool_size")


def _fused(activation, pool_size):
    """The checked ``activation`` and ``pool_size`` of a batch normalization."""
    pool = None if pool_size is None else normalize_tuple(pool_size, 2, "pool_size")
    activation = fusable_activation(activation, "a batch normalization")
    return dict(activation=activation, pool_size=pool)


def _shapes(*arrays):
    return [np.shape(a.data if isinstance(a, Tensor) else a) for a in arrays]


class LayerNorm(Function):
    """y = gamma xhat + beta, xhat = (x - mean) / sqrt(var + eps), with each
    sample's mean and (biased) variance over ``axes``;  with gh = g gamma,
    dL/dx = (gh - mean(gh) - xhat mean(gh xhat)) / sqrt(var + eps) (means over
    ``axes``), dL/dgamma = g xhat, dL/dbeta = g (summed to their shapes by the
    backward walk). ``gamma`` and ``beta`` may be None (no scale, no shift).
    """

    def forward(self, x, gamma=None, beta=None, axes=(-1,), epsilon=1e-3):
        self.axes = axes
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axis=axes, keepdims=True)
        self.inv_std = 1.0 / np.sqrt(var + epsilon)
        self.xhat = centered * self.inv_std
        self.gamma = gamma
        y = self.xhat if gamma is None else self.xhat * gamma
        return y if beta is None else y + beta

    def backward(self, grad_output):
        g, xhat, axes = grad_output, self.xhat, self.axes
        need_x, need_gamma, need_beta = self.needs_input_grad
        grad_x = None
        if need_x:
            gh = g if self.gamma is None else g * self.gamma
            mean_gh = gh.mean(axis=axes, keepdims=True)
            mean_ghx = (gh * xhat).mean(axis=axes, keepdims=True)
            grad_x = (gh - mean_gh - xhat * mean_ghx) * self.inv_std
        return grad_x, g * xhat if need_gamma else None, g if need_beta else None


def layer_norm(x, gamma=None, beta=None, axes=-1, epsilon=1e-3):
    """Normalize each sample of ``x`` with its own mean and (biased) variance
    over ``axes`` (an int or a tuple), then scale by ``gamma`` and shift by
    ``beta`` (broadcastable to ``x``, or None)."""
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    return LayerNorm.apply(x, gamma, beta, axes=axes, epsilon=epsilon)
