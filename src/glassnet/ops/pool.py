"""Pooling and up-sampling of channels-last (N, H, W, C) images.

Each window offset ``(i, j)`` of a ``ph x pw`` pool sees one strided slice of the
(padded) input (:func:`~glassnet.ops.geometry.offset_slice`), so a pool and its
gradient are ``ph * pw`` vectorised operations on views: no loops over samples
or pixels. A faster max pooling (blocks of samples shared out to threads) lives
in :mod:`glassnet.runtime.pool`; :func:`max_pool2d` asks
:func:`glassnet.ops.seam.fast` whether it applies.
"""

from __future__ import annotations

import numpy as np

from glassnet.autograd import Function
from glassnet.ops import seam
from glassnet.ops.geometry import (
    crop2d,
    normalize_padding,
    normalize_tuple,
    offset_slice,
    pad2d,
    pool_geometry,
)

_sliding_window_view = np.lib.stride_tricks.sliding_window_view


class MaxPool2D(Function):
    """y = max over each window;  dL/dx gets dL/dy at the window's arg-max only
    (the first maximum in row-major order on ties, like PyTorch).

    ``x`` (N, H, W, C) -> (N, Ho, Wo, C); 'same' pads with -inf, never a max.
    """

    def forward(self, x, pool_size=(2, 2), strides=(2, 2), padding="valid"):
        pads, (ho, wo) = pool_geometry(x.shape, pool_size, strides, padding)
        xp = pad2d(x, pads, value=-np.inf)
        windows = _sliding_window_view(xp, pool_size, axis=(1, 2))  # a view
        windows = windows[:, :: strides[0], :: strides[1]][:, :ho, :wo]
        windows = windows.reshape(*windows.shape[:4], -1)  # N,Ho,Wo,C,ph*pw
        self.where = windows.argmax(axis=-1)  # the first maximum's window offset
        self.xp_shape, self.pads, self.out_hw = xp.shape, pads, (ho, wo)
        self.pool_size, self.strides = pool_size, strides
        return np.take_along_axis(windows, self.where[..., None], axis=-1)[..., 0]

    def backward(self, grad_output):
        dxp = np.zeros(self.xp_shape, grad_output.dtype)
        for k, (i, j) in enumerate(np.ndindex(*self.pool_size)):
            at = offset_slice(i, j, self.out_hw, self.strides)
            dxp[at] += grad_output * (self.where == k)
        return (crop2d(dxp, self.pads),)


class AvgPool2D(Function):
    """y = mean over each window (padding excluded from the count, as in Keras);
    dL/dx spreads dL/dy / count evenly over the window."""

    def forward(self, x, pool_size=(2, 2), strides=(2, 2), padding="valid"):
        pads, out_hw = pool_geometry(x.shape, pool_size, strides, padding)
        xp = pad2d(x, pads)
        out = None
        for i in range(pool_size[0]):
            for j in range(pool_size[1]):
                view = xp[offset_slice(i, j, out_hw, strides)]
                out = view.copy() if out is None else np.add(out, view, out=out)
        counts = [
            _window_counts(n, k, s, o, before)
            for n, k, s, o, (before, _) in zip(
                x.shape[1:3], pool_size, strides, out_hw, pads
            )
        ]
        self.scale = (1.0 / np.multiply.outer(*counts)).astype(x.dtype)[:, :, None]
        self.xp_shape, self.pads = xp.shape, pads
        self.pool_size, self.strides, self.out_hw = pool_size, strides, out_hw
        out *= self.scale
        return out

    def backward(self, grad_output):
        g = grad_output * self.scale
        dxp = np.zeros(self.xp_shape, dtype=g.dtype)
        for i in range(self.pool_size[0]):
            for j in range(self.pool_size[1]):
                dxp[offset_slice(i, j, self.out_hw, self.strides)] += g
        return (crop2d(dxp, self.pads),)


def _window_counts(length, size, stride, out, before):
    """How many real (unpadded) positions each output's window covers on one axis."""
    start = np.arange(out) * stride - before
    return np.minimum(start + size, length) - np.maximum(start, 0)


class UpSample2D(Function):
    """y = x repeated ``size`` times along H and W (nearest);  dL/dx sums each
    ``size`` block of dL/dy."""

    def forward(self, x, size=(2, 2)):
        self.size = size
        return np.repeat(np.repeat(x, size[0], axis=1), size[1], axis=2)

    def backward(self, grad_output):
        n, h, w, c = grad_output.shape
        sh, sw = self.size
        blocks = grad_output.reshape(n, h // sh, sh, w // sw, sw, c)
        return (blocks.sum(axis=(2, 4)),)


def _pool_params(pool_size, strides, padding):
    pool_size = normalize_tuple(pool_size, 2, "pool_size")
    strides = pool_size if strides is None else normalize_tuple(strides, 2, "strides")
    return dict(
        pool_size=pool_size, strides=strides, padding=normalize_padding(padding)
    )


def max_pool2d(x, pool_size=(2, 2), strides=None, padding="valid"):
    """Max pooling of (N, H, W, C) images; ``strides`` defaults to ``pool_size``."""
    params = _pool_params(pool_size, strides, padding)
    fast = seam.fast("max_pool2d", **params)
    if fast is not None:
        return fast(x, **params)
    return MaxPool2D.apply(x, **params)


def avg_pool2d(x, pool_size=(2, 2), strides=None, padding="valid"):
    """Average pooling of (N, H, W, C) images; 'same' padding is not counted."""
    return AvgPool2D.apply(x, **_pool_params(pool_size, strides, padding))


def upsample2d(x, size=(2, 2)):
    """Nearest-neighbour up-sampling of (N, H, W, C) images by ``size``."""
    return UpSample2D.apply(x, size=normalize_tuple(size, 2, "size"))
