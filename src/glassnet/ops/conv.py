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
    col2im,
    conv1d_as_conv2d,
    conv1d_grads,
    conv_geometry,
    conv_transpose_geometry,
    crop2d,
    normalize_padding,
    normalize_tuple,
    pad2d,
    receptive_fields,
)
from glassnet.ops.nonlinear import relu
from glassnet.ops.pool import max_pool2d


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
        kh, kw, c, f = w.shape
        xp = pad2d(x, pads)
        fields = receptive_fields(xp, (kh, kw), strides, dilation_rate, (ho, wo))
        k, dtype = kh * kw * c, np.result_type(x, w, np.float32)
        cols = np.ones((x.shape[0] * ho * wo, k + (b is not None)), dtype)
        rows = np.reshape(cols[:, :k], (-1, ho, wo, kh, kw, c), copy=False)
        rows[...] = fields  # im2col: the one copy
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
            dxp = col2im(dcols, self.xp_shape, self.strides, self.dilations)
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


class Conv2DTranspose(Function):
    """y = conv2d_transpose(x, w) + b, the input-gradient of a Conv2D: pixel
    (i, j) adds x[n, i, j] @ w[a, b].T at (s*i + d*a - top, s*j + d*b - left);
    dL/dx = fields(g) @ W (the Conv2D of g by w), dL/dw = fields(g).T @ x,
    dL/db = sum(g), where fields(g) are g's receptive fields (im2col) and W
    is w as a (kh*kw*F, C) matrix.

    ``x`` (N, H, W, C), ``w`` (kh, kw, F, C) (Keras's layout), ``b`` (F,) or
    omitted; output (N, Ho, Wo, F) (:func:`conv_transpose_geometry`).
    """

    def forward(
        self,
        x,
        w,
        b=None,
        strides=(1, 1),
        padding="valid",
        output_padding=None,
        dilation_rate=(1, 1),
    ):
        crops, out_hw, canvas_hw = conv_transpose_geometry(
            x.shape, w.shape, strides, padding, output_padding, dilation_rate
        )
        (n, h, wd, c), (kh, kw, f, _) = x.shape, w.shape
        matrix = w.reshape(kh * kw * f, c)
        dcols = (x.reshape(-1, c) @ matrix.T).reshape(n, h, wd, kh, kw, f)
        canvas = col2im(dcols, (n, *canvas_hw, f), strides, dilation_rate)
        (top, left), (ho, wo) = crops, out_hw
        y = canvas[:, top : top + ho, left : left + wo]
        self.x, self.matrix, self.w_shape = x, matrix, w.shape
        self.canvas_shape, self.window = canvas.shape, (top, left, ho, wo)
        self.strides, self.dilations = strides, dilation_rate
        return y + b if b is not None else np.ascontiguousarray(y)

    def backward(self, grad_output):
        (n, h, wd, c), (kh, kw, f, _) = self.x.shape, self.w_shape
        top, left, ho, wo = self.window
        canvas = np.zeros(self.canvas_shape, grad_output.dtype)
        canvas[:, top : top + ho, left : left + wo] = grad_output
        fields = receptive_fields(
            canvas, (kh, kw), self.strides, self.dilations, (h, wd)
        )
        cols = fields.reshape(n * h * wd, kh * kw * f)  # im2col of g: a copy
        needs = self.needs_input_grad
        grad_x = (cols @ self.matrix).reshape(self.x.shape) if needs[0] else None
        grad_w = None
        if needs[1]:
            grad_w = (cols.T @ self.x.reshape(-1, c)).reshape(self.w_shape)
        grad_b = grad_output.sum(axis=(0, 1, 2)) if len(needs) == 3 else None
        return (grad_x, grad_w, grad_b)[: len(needs)]


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
    settings = conv2d_settings(strides, padding, dilation_rate)
    activation = fusable_activation(activation, "a convolution")
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
    activation = fusable_activation(activation, "a convolution")
    fast = seam.fast("conv1d", activation=activation, **settings)
    if fast is not None:
        return fast(x, kernel, bias, activation=activation, **settings)
    args = (x, kernel) if bias is None else (x, kernel, bias)
    y = Conv1D.apply(*args, **settings)
    return relu(y) if activation == "relu" else y


def conv2d_transpose(
    x,
    kernel,
    bias=None,
    strides=(1, 1),
    padding="valid",
    output_padding=None,
    dilation_rate=(1, 1),
):
    """Transposed 2-D convolution of channels-last images (Keras's
    ``Conv2DTranspose``): ``x`` (N, H, W, C), ``kernel`` (kh, kw, F, C),
    ``bias`` (F,) or None; returns (N, Ho, Wo, F). ``padding`` 'valid' gives
    ``Ho = (H - 1) * sh + max(kh_dilated, sh)``, 'same' ``Ho = H * sh``;
    ``output_padding`` (pairs smaller than ``strides``) sets the extra rows and
    columns instead, as in Keras."""
    strides = normalize_tuple(strides, 2, "strides")
    if output_padding is not None:
        output_padding = normalize_tuple(
            output_padding, 2, "output_padding", allow_zero=True
        )
    settings = dict(
        strides=strides,
        padding=normalize_padding(padding),
        output_padding=output_padding,
        dilation_rate=normalize_tuple(dilation_rate, 2, "dilation_rate"),
    )
    args = (x, kernel) if bias is None else (x, kernel, bias)
    return Conv2DTranspose.apply(*args, **settings)


def conv2d_settings(strides, padding, dilation_rate):
    """:func:`conv2d`'s checked ``strides``, ``padding`` and ``dilation_rate``."""
    return dict(
        strides=normalize_tuple(strides, 2, "strides"),
        padding=padding if not isinstance(padding, str) else normalize_padding(padding),
        dilation_rate=normalize_tuple(dilation_rate, 2, "dilation_rate"),
    )


def fusable_activation(activation, into):
    """``activation`` if an op can fuse it into ``into`` (None or 'relu')."""
    if activation not in (None, "relu"):
        raise ValueError(
            f"Only activation=None or 'relu' can be fused into {into}. "
            f"Received: activation={activation!r}"
        )
    return activation


def zero_pad2d(x, padding=((1, 1), (1, 1))):
    """Pad (N, H, W, C) images with zeros: ``((top, bottom), (left, right))``."""
    pads = tuple(tuple(int(p) for p in pair) for pair in padding)
    return ZeroPad2D.apply(x, padding=pads)
