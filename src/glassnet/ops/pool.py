"""Pooling and up-sampling kernels for channels-last (N, H, W, C) images.

Each window offset ``(i, j)`` of a ``ph x pw`` pool sees one strided slice of the
(padded) input, so a pool is ``ph * pw`` vectorised NumPy operations on views:
no im2col copy, no loops over samples or pixels. Max pooling takes large batches
in one chunk of samples per core (:mod:`glassnet.ops._parallel`).
"""

from __future__ import annotations

import numpy as np

from glassnet.autograd import Function
from glassnet.ops._parallel import over_batch
from glassnet.ops.conv import (
    conv_output_length,
    crop2d,
    max_with_offsets,
    normalize_padding,
    normalize_tuple,
    offset_slice,
    offsets_array,
    pad2d,
    resolve_padding,
    route_to_offsets,
)

_ONE = (1, 1)


def _pool_geometry(x, pool_size, strides, padding):
    if x.ndim != 4:
        raise ValueError(
            "Pooling expects images of shape (batch, height, width, channels). "
            f"Received: x.shape={x.shape}"
        )
    pads = resolve_padding(padding, x.shape[1:3], pool_size, strides)
    out_hw = tuple(
        conv_output_length(n, k, padding, s)
        for n, k, s in zip(x.shape[1:3], pool_size, strides)
    )
    if min(out_hw) <= 0:
        raise ValueError(
            f"Pool size {pool_size} is larger than the input. "
            f"Received: x.shape={x.shape}, padding={padding!r}"
        )
    return pads, out_hw


class MaxPool2D(Function):
    """y = max over each window;  dL/dx gets dL/dy at the window's arg-max only
    (the first maximum in row-major order on ties, like PyTorch).

    Forward notes which window offset held each maximum (a small integer per
    output element), so backward routes the gradient without reading the input
    again. Extra memory: the output and those offsets (one byte each, two for
    windows of over 255 elements), and the padded input with 'same'; backward
    allocates the input gradient and per core one boolean mask of a chunk's
    output.
    """

    def forward(self, x, pool_size=(2, 2), strides=(2, 2), padding="valid"):
        pads, out_hw = _pool_geometry(x, pool_size, strides, padding)
        xp = pad2d(x, pads, value=-np.inf)
        n = x.shape[0]
        out = np.empty((n, *out_hw, x.shape[3]), dtype=xp.dtype)
        offsets = [(i, j) for i in range(pool_size[0]) for j in range(pool_size[1])]
        code = offsets_array(out.shape, len(offsets))
        views = [xp[offset_slice(i, j, out_hw, strides, _ONE)] for i, j in offsets]

        def pool(lo, hi):
            max_with_offsets([v[lo:hi] for v in views], out[lo:hi], code[lo:hi])

        over_batch(pool, n, xp.size)
        self.xp_shape, self.pads = xp.shape, pads
        self.code, self.offsets = code, offsets
        self.pool_size, self.strides, self.out_hw = pool_size, strides, out_hw
        return out

    def backward(self, grad_output):
        (ph, pw), (ho, wo) = self.pool_size, self.out_hw
        n, h, w, _ = self.xp_shape
        # Windows that tile the input exactly: every input element gets exactly
        # one write (no zero fill, no +=).
        tiled = self.strides == self.pool_size and (h, w) == (ho * ph, wo * pw)
        dxp = (np.empty if tiled else np.zeros)(self.xp_shape, grad_output.dtype)

        def route(lo, hi):
            targets = [
                dxp[lo:hi][offset_slice(i, j, self.out_hw, self.strides, _ONE)]
                for i, j in self.offsets
            ]
            g = grad_output[lo:hi]
            route_to_offsets(g, self.code[lo:hi], targets, accumulate=not tiled)

        over_batch(route, n, dxp.size)
        return (crop2d(dxp, self.pads),)


class AvgPool2D(Function):
    """y = mean over each window (padding excluded from the count, as in Keras);
    dL/dx spreads dL/dy / count evenly over the window."""

    def forward(self, x, pool_size=(2, 2), strides=(2, 2), padding="valid"):
        pads, out_hw = _pool_geometry(x, pool_size, strides, padding)
        xp = pad2d(x, pads)
        out = None
        for i in range(pool_size[0]):
            for j in range(pool_size[1]):
                view = xp[offset_slice(i, j, out_hw, strides, _ONE)]
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
                dxp[offset_slice(i, j, self.out_hw, self.strides, _ONE)] += g
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
    return MaxPool2D.apply(x, **_pool_params(pool_size, strides, padding))


def avg_pool2d(x, pool_size=(2, 2), strides=None, padding="valid"):
    """Average pooling of (N, H, W, C) images; 'same' padding is not counted."""
    return AvgPool2D.apply(x, **_pool_params(pool_size, strides, padding))


def upsample2d(x, size=(2, 2)):
    """Nearest-neighbour up-sampling of (N, H, W, C) images by ``size``."""
    return UpSample2D.apply(x, size=normalize_tuple(size, 2, "size"))
