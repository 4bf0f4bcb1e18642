"""Convolution as one matrix product (im2col), channels-last, as in Keras.

Images are ``(batch, height, width, channels)`` and kernels
``(kernel_h, kernel_w, in_channels, filters)``. :class:`Conv2D` is the version
to read: every receptive field becomes one row of an *im2col* matrix, and the
convolution is that matrix times the kernel. A faster twin (blocked, threaded,
with relu and max pooling fused in) lives in :mod:`glassnet.runtime.conv`;
:func:`conv2d` asks :func:`glassnet.ops.seam.fast` whether it applies.
"""

from __future__ import annotations

import numpy as np

from glassnet.autograd import Function
from glassnet.ops import seam
from glassnet.ops.geometry import (
    conv1d_as_conv2d,
    conv1d_grads,
    conv_geometry,
    crop2d,
    normalize_padding,
    normalize_tuple,
    offset_slice,
    pad2d,
)
from glassnet.ops.nonlinear import relu
from glassnet.ops.pool import max_pool2d

_sliding_window_view = np.lib.stride_tricks.sliding_window_view


class Conv2D(Function):
    """y = conv2d(x, w) + b = cols @ W;  dL/dW = cols.T @ g, dL/dx = col2im(g @ w.T).

    cols = im2col(x) has one row per output pixel: its receptive field (kh*kw*C
    values), then a 1 if there is a bias. W is the kernel w as a (kh*kw*C, F)
    matrix, then the row b, so dL/dW holds the kernel's and the bias's
    gradients; col2im adds each kernel offset's columns of g @ w.T back onto
    the input pixels that offset saw.

    ``x`` (N, H, W, C), ``w`` (kh, kw, C, F), ``b`` (F,) or omitted; output
    (N, Ho, Wo, F). ``strides`` and ``dilation_rate`` are pairs, ``padding``
    'valid', 'same' or ``((top, bottom), (left, right))``.
    """

    def forward(
        self, x, w, b=None, strides=(1, 1), padding="valid", dilation_rate=(1, 1)
    ):
        pads, (ho, wo) = conv_geometry(
            x.shape, w.shape, strides, padding, dilation_rate
        )
        (kh, kw, c, f), (sh, sw), (dh, dw) = w.shape, strides, dilation_rate
        xp = pad2d(x, pads)
        spans = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
        windows = _sliding_window_view(xp, spans, axis=(1, 2))  # a view, no copy
        fields = windows[:, ::sh, ::sw, :, ::dh, ::dw][:, :ho, :wo]  # N,Ho,Wo,C,kh,kw
        k, dtype = kh * kw * c, np.result_type(x, w, np.float32)
        cols = np.ones((x.shape[0] * ho * wo, k + (b is not None)), dtype)
        rows = np.reshape(cols[:, :k], (-1, ho, wo, kh, kw, c), copy=False)
        rows[...] = fields.transpose(0, 1, 2, 4, 5, 3)  # im2col: the one copy
        matrix = w.reshape(k, f)
        if b is not None:
            matrix = np.concatenate([matrix, b.reshape(1, f)]).astype(dtype)
        self.cols, self.matrix, self.w_shape = cols, matrix, w.shape
        self.xp_shape, self.pads, self.out_hw = xp.shape, pads, (ho, wo)
        self.strides, self.dilations = strides, dilation_rate
        return (cols @ matrix).reshape(-1, ho, wo, f)

    def backward(self, grad_output):
        (kh, kw, c, f), (ho, wo) = self.w_shape, self.out_hw
        needs, k = self.needs_input_grad, kh * kw * c
        g = grad_output.reshape(-1, f)
        grad_x = grad_w = grad_b = None
        if any(needs[1:]):
            grad_matrix = self.cols.T @ g  # kernel rows, then the bias row
            grad_w = grad_matrix[:k].reshape(self.w_shape)
            grad_b = grad_matrix[k] if len(needs) == 3 else None
        if needs[0]:
            dcols = (g @ self.matrix[:k].T).reshape(-1, ho, wo, kh, kw, c)
            dxp = np.zeros(self.xp_shape, dcols.dtype)
            for i in range(kh):  # col2im: each kernel offset gives back to the
                for j in range(kw):  # input pixels it saw
                    at = offset_slice(i, j, (ho, wo), self.strides, self.dilations)
                    dxp[at] += dcols[:, :, :, i, j]
            grad_x = crop2d(dxp, self.pads)
        return (grad_x, grad_w, grad_b)[: len(needs)]


class Conv1D(Conv2D):
    """y = conv1d(x, w) + b: a Conv2D of height 1;  the same local gradients.

    ``x`` (N, L, C), ``w`` (k, C, F), ``b`` (F,) or omitted; output (N, Lo, F).
    ``padding`` is 'valid', 'same' or 'causal' (all padding on the left).
    """

    def forward(self, x, w, b=None, strides=1, padding="valid", dilation_rate=1):
        x, w, settings = conv1d_as_conv2d(x, w, strides, padding, dilation_rate)
        return super().forward(x, w, b, **settings)[:, 0]

    def backward(self, grad_output):
        return conv1d_grads(super().backward(grad_output[:, None]))


class ZeroPad2D(Function):
    """y = x with zeros around it;  dL/dx = dL/dy with the border cropped off."""

    def forward(self, x, padding=((0, 0), (0, 0))):
        self.pads = padding
        return pad2d(x, padding)

    def backward(self, grad_output):
        return (crop2d(grad_output, self.pads),)


def conv2d(
    x,
    kernel,
    bias=None,
    strides=(1, 1),
    padding="valid",
    dilation_rate=(1, 1),
    activation=None,
    pool_size=None,
):
    """2-D convolution (cross-correlation, as in Keras) of channels-last images.

    ``x`` (N, H, W, C), ``kernel`` (kh, kw, C, F), ``bias`` (F,) or None;
    returns (N, Ho, Wo, F). ``padding`` 'same' puts the odd extra row/column at
    the bottom/right, like TensorFlow and Keras. ``activation`` None or 'relu'
    applies relu after it. ``pool_size`` (int or pair): a max pool over
    non-overlapping windows of that size ('valid', as :func:`max_pool2d` with
    its defaults) follows; returns (N, Ho // ph, Wo // pw, F).

    The plain path is :class:`Conv2D`, then relu, then the max pool; the fast
    kernel does all three in one node, block by block (the same outputs,
    gradients up to the order of float sums).
    """
    settings = dict(
        strides=normalize_tuple(strides, 2, "strides"),
        padding=padding if not isinstance(padding, str) else normalize_padding(padding),
        dilation_rate=normalize_tuple(dilation_rate, 2, "dilation_rate"),
    )
    activation = _fusable(activation)
    pool = None if pool_size is None else normalize_tuple(pool_size, 2, "pool_size")
    fast = seam.fast("conv2d", activation=activation, pool_size=pool, **settings)
    if fast is not None:
        return fast(x, kernel, bias, activation=activation, pool_size=pool, **settings)
    args = (x, kernel) if bias is None else (x, kernel, bias)
    y = Conv2D.apply(*args, **settings)
    if activation == "relu":
        y = relu(y)
    return y if pool is None else max_pool2d(y, pool)


def conv1d(
    x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, activation=None
):
    """1-D convolution of (N, L, C) sequences with a (k, C, F) kernel
    (``activation``: None or 'relu', as in :func:`conv2d`)."""
    settings = dict(
        strides=normalize_tuple(strides, 1, "strides")[0],
        padding=normalize_padding(padding, ("valid", "same", "causal")),
        dilation_rate=normalize_tuple(dilation_rate, 1, "dilation_rate")[0],
    )
    activation = _fusable(activation)
    fast = seam.fast("conv1d", activation=activation, **settings)
    if fast is not None:
        return fast(x, kernel, bias, activation=activation, **settings)
    args = (x, kernel) if bias is None else (x, kernel, bias)
    y = Conv1D.apply(*args, **settings)
    return relu(y) if activation == "relu" else y


def _fusable(activation):
    if activation not in (None, "relu"):
        raise ValueError(
            "Only activation=None or 'relu' can be fused into a convolution. "
            f"Received: activation={activation!r}"
        )
    return activation


def zero_pad2d(x, padding=((1, 1), (1, 1))):
    """Pad (N, H, W, C) images with zeros: ``((top, bottom), (left, right))``."""
    pads = tuple(tuple(int(p) for p in pair) for pair in padding)
    return ZeroPad2D.apply(x, padding=pads)
