"""The fast twin of :class:`glassnet.ops.pool.MaxPool2D`, and the arg-max
helpers it shares with the fused convolution + pool of
:mod:`glassnet.runtime.conv`.

Instead of laying every window out (a copy of ph*pw times the output) and
taking an arg-max, it walks the window offsets: the maximum is kept in the
output itself, and the offset of the first maximum in one byte per output
element, so backward routes the gradient without reading the input again.
The batch is cut into blocks of samples that threads share
(:mod:`glassnet.runtime.parallel`); blocks do not interact, so any number of
threads gives the same bits, and the same as the plain op.
"""

from __future__ import annotations

import numpy as np

from glassnet.autograd import Function, is_grad_enabled
from glassnet.ops.geometry import crop2d, offset_slice, pad2d, pool_geometry
from glassnet.runtime import parallel


def offsets_array(shape, count):
    """An empty array for indices below ``count`` (one byte each up to 256)."""
    return np.empty(shape, np.uint8 if count <= 256 else np.uint16)


def max_of(views, best):
    """``best`` = the elementwise maximum of the equally shaped ``views``."""
    np.copyto(best, views[0])
    for view in views[1:]:
        np.maximum(best, view, out=best)


def max_with_offsets(views, best, where):
    """``best`` = the elementwise maximum of the equally shaped ``views``, and
    ``where`` = the index of the first view that holds it (ties go to the
    first, as in PyTorch's max pooling); without ``where`` (None: nothing
    will route a gradient back), the maximum alone."""
    max_of(views, best)
    if where is None:
        return
    # where = how many views come before the first that holds the maximum:
    # the sum over k < len(views) - 1 of "none of views 0..k holds it"
    where[...] = 0
    missed, hit = None, np.empty(best.shape, dtype=bool)
    for view in views[:-1]:
        if missed is None:
            missed = np.not_equal(view, best)
        else:
            missed &= np.not_equal(view, best, out=hit)
        where += missed


def route_to_offsets(grad, where, targets, accumulate=False):
    """``targets[k] = grad`` where ``where == k``, else 0 (``+=`` with
    ``accumulate``, for windows that overlap): the max pool's local gradient.
    ``targets`` is a list of arrays shaped like ``grad``, or one array that
    stacks them (then two broadcast operations do it all)."""
    if isinstance(targets, np.ndarray):
        offsets = np.arange(len(targets), dtype=where.dtype)
        hit = np.equal(where, offsets.reshape(-1, *(1,) * where.ndim))
        np.multiply(grad, hit, out=targets)
        return
    hit = np.empty(where.shape, dtype=bool)
    for k, target in enumerate(targets):
        np.equal(where, k, out=hit)
        if accumulate:
            target += grad * hit
        else:
            np.multiply(grad, hit, out=target)


class MaxPool2D(Function):
    """y = max over each window;  dL/dx gets dL/dy at the window's arg-max only
    (the first maximum in row-major order on ties, like PyTorch).

    ``x`` (N, H, W, C) -> (N, Ho, Wo, C). Extra memory: the output and, where a
    graph is recorded, the window offsets (one byte each, two for windows of
    over 255 elements), and the padded input with 'same'; backward allocates
    the input gradient and per thread one boolean mask of a block's output.
    """

    def forward(self, x, pool_size=(2, 2), strides=(2, 2), padding="valid"):
        pads, out_hw = pool_geometry(x.shape, pool_size, strides, padding)
        xp = pad2d(x, pads, value=-np.inf)
        n = x.shape[0]
        out = np.empty((n, *out_hw, x.shape[3]), dtype=xp.dtype)
        offsets = [(i, j) for i in range(pool_size[0]) for j in range(pool_size[1])]
        # the window offsets, for backward: none where no graph is kept
        code = offsets_array(out.shape, len(offsets)) if is_grad_enabled() else None
        views = [xp[offset_slice(i, j, out_hw, strides)] for i, j in offsets]
        sample = xp[0].size
        blocks = parallel.batch_blocks(n, sample * xp.itemsize, sample)

        def pool(indices):
            for a, z in (blocks[k] for k in indices):
                where = None if code is None else code[a:z]
                max_with_offsets([v[a:z] for v in views], out[a:z], where)

        parallel.over_blocks(pool, len(blocks))
        self.xp_shape, self.pads, self.blocks = xp.shape, pads, blocks
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

        def route(indices):
            for a, z in (self.blocks[k] for k in indices):
                targets = [
                    dxp[a:z][offset_slice(i, j, self.out_hw, self.strides)]
                    for i, j in self.offsets
                ]
                g = grad_output[a:z]
                route_to_offsets(g, self.code[a:z], targets, accumulate=not tiled)

        parallel.over_blocks(route, len(self.blocks))
        return (crop2d(dxp, self.pads),)


def max_pool2d(x, pool_size, strides, padding):
    """:func:`glassnet.ops.max_pool2d` with checked arguments, as one
    :class:`MaxPool2D` node."""
    return MaxPool2D.apply(x, pool_size=pool_size, strides=strides, padding=padding)
