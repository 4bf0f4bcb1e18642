"""The fast twin of :class:`glassnet.ops.normalization.BatchNorm` over every
axis but the last (channels-last images, dense features), with relu and a
tiling max pool fused into the same node.

Read :class:`glassnet.ops.normalization.BatchNorm` first: the arithmetic is the
same. What this version adds:

- *Blocks*: the batch is cut into blocks of samples
  (:func:`glassnet.runtime.parallel.batch_blocks`) that threads share, each
  block a (rows, F) matrix while it is in a core's cache. The statistics take
  two sweeps (sums per block, then the normalization), the backward two more
  (sums per block, then dL/dx), and no temporary array is ever the size of
  the input.
- *Statistics per block*: each block's mean and centred sum of squares,
  merged in block order (Chan, Golub and LeVeque's update, in float64), so any
  number of threads gives the same bits, and the variance never loses digits
  to a large mean.
- *Fused relu and max pool*: y = relu(bn(x)) in place; a max pool over windows
  that tile the image takes the maximum of the ph*pw strided views of the
  block's normalized values, keeps the window offset in one byte, and applies
  relu after the pool, on fewer values (relu and max commute). The gradient
  goes back through the same offsets and the relu mask (y > 0) of the output.

Kept for backward: the input (whose owner, the convolution before, has made
it anyway), the output, the per-channel statistics and, with a pool, the
window offsets (one byte per output element): no normalized copy of the
input.
"""

from __future__ import annotations

import threading

import numpy as np

from glassnet.autograd import Function
from glassnet.ops.geometry import offset_slice, pool_geometry
from glassnet.runtime import conv, parallel
from glassnet.runtime.pool import max_with_offsets, offsets_array, route_to_offsets


def _merge(stats):
    """(count, mean, centred sum of squares) of blocks merged in order (float64)."""
    count, mean, m2 = stats[0]
    for n, m, s in stats[1:]:
        total = count + n
        delta = m - mean
        mean = mean + delta * (n / total)
        m2 = m2 + s + delta * delta * (count * n / total)
        count = total
    return mean, m2 / count


class BatchNorm(Function):
    """y = pool(relu(gamma (x - mean) / sqrt(var + eps) + beta)) in one node,
    relu and pool optional, mean and (biased) variance over every axis but the
    last; the local gradients of :class:`glassnet.ops.normalization.BatchNorm`,
    ``ReLU`` and ``MaxPool2D`` one after the other.

    ``x`` (N, ..., F); ``gamma`` and ``beta`` hold one value per feature (any
    shape of F elements, or one element); ``pool_size`` (None or (ph, pw)) a
    max pool over windows that tile (N, H, W, F) images, as
    ``max_pool2d(y, pool_size)``. ``moments``, a list, receives the mean and
    variance (shaped like x with the reduced axes kept as 1).

    Extra memory: the output (and with a pool one byte per output element);
    per thread a block's worth of scratch; backward the input's gradient.
    """

    def forward(
        self,
        x,
        gamma,
        beta,
        axes=(0,),
        epsilon=1e-3,
        moments=None,
        activation=None,
        pool_size=None,
    ):
        n, f = x.shape[0], x.shape[-1]
        self.shapes = (np.shape(gamma), np.shape(beta))
        if pool_size is not None:  # the plain max pool's error, if it won't fit
            pool_geometry((n, *x.shape[1:]), pool_size, pool_size, "valid")
        x = np.ascontiguousarray(x)
        dtype = np.result_type(x, gamma, beta)
        rows = x.size // n // f if n else 0  # rows of the (rows, F) matrix a sample
        self.blocks = parallel.batch_blocks(n, 3 * rows * f * dtype.itemsize, rows * f)
        scratch_rows = max((z - a for a, z in self.blocks), default=0) * rows

        stats = [None] * len(self.blocks)

        def moments_of_blocks(indices):
            ones = np.ones(scratch_rows, x.dtype)
            scratch = np.empty((scratch_rows, f), x.dtype)
            for i in indices:
                a, z = self.blocks[i]
                v = x[a:z].reshape(-1, f)
                mean = ones[: len(v)] @ v / len(v)
                d = np.subtract(v, mean, out=scratch[: len(v)])
                np.multiply(d, d, out=d)
                m2 = ones[: len(v)] @ d
                stats[i] = (len(v), mean.astype(np.float64), m2.astype(np.float64))

        parallel.over_blocks(moments_of_blocks, len(self.blocks))
        mean, var = _merge(stats)
        mean, var = mean.astype(x.dtype), var.astype(x.dtype)
        keep = (1,) * (x.ndim - 1) + (f,)
        if moments is not None:  # the caller's list receives them (see batch_norm)
            moments[:] = mean.reshape(keep), var.reshape(keep)
        inv_std = 1.0 / np.sqrt(var + epsilon)
        gamma = np.broadcast_to(np.reshape(gamma, -1), (f,))
        beta = np.broadcast_to(np.reshape(beta, -1), (f,))
        scale = (gamma * inv_std).astype(dtype)

        grid, code = x.shape[1:-1], None
        if pool_size is not None:
            grid = (x.shape[1] // pool_size[0], x.shape[2] // pool_size[1])
        out = np.empty((n, *grid, f), dtype)
        if pool_size is not None:
            code = offsets_array(out.shape, pool_size[0] * pool_size[1])

        tile = _tile_rows(f, dtype, scratch_rows)

        def normalize(indices):
            rows_of = _Rows(tile, dtype)
            means, scales, betas = rows_of(mean), rows_of(scale), rows_of(beta)
            zeros = rows_of(np.zeros(f))
            scratch = np.empty((scratch_rows, f), dtype) if pool_size else None
            for i in indices:
                a, z = self.blocks[i]
                v = x[a:z].reshape(-1, f)
                y = out[a:z].reshape(-1, f) if code is None else scratch[: len(v)]
                for part, r in _parts(len(v), tile):
                    np.subtract(v[part], means[:r], out=y[part])
                    np.multiply(y[part], scales[:r], out=y[part])
                    np.add(y[part], betas[:r], out=y[part])
                if code is not None:
                    views = _windows(y.reshape(z - a, *x.shape[1:]), grid, pool_size)
                    max_with_offsets(views, out[a:z], code[a:z])
                if activation == "relu":  # after the pool, on fewer (they commute)
                    y = out[a:z].reshape(-1, f)
                    for part, r in _parts(len(y), tile):
                        np.maximum(y[part], zeros[:r], out=y[part])

        parallel.over_blocks(normalize, len(self.blocks))
        self.x, self.out, self.code, self.relu = x, out, code, activation == "relu"
        self.mean, self.inv_std, self.gamma = mean, inv_std, gamma
        self.pool, self.grid, self.scratch_rows = pool_size, grid, scratch_rows
        return out

    def backward(self, grad_output):
        need_x, need_gamma, need_beta = self.needs_input_grad
        dtype = np.result_type(grad_output, self.x)
        grad_x = np.empty(self.x.shape, dtype)  # dL/d(bn(x)) first, then dL/dx
        sums = self.grad_sums(grad_output, dtype, grad_x)
        if need_x:
            slopes = self.input_grad_slopes(sums, dtype)
            f = self.x.shape[-1]
            tile = _tile_rows(f, dtype, self.scratch_rows)

            def input_grad(indices):
                tiles = _Rows(tile, dtype).tiles(slopes)
                for i in indices:
                    a, z = self.blocks[i]
                    self.input_grad(grad_x[a:z].reshape(-1, f), a, z, tiles)

            parallel.over_blocks(input_grad, len(self.blocks))
        grad_gamma, grad_beta = self.affine_grads(sums)
        return (
            grad_x if need_x else None,
            grad_gamma if need_gamma else None,
            grad_beta if need_beta else None,
        )

    def bn_grad(self, grad_output, a, z, into):
        """Write dL/d(bn(x)) of samples ``a:z`` into ``into`` (shaped like
        ``x[a:z]``): dL/dy through the relu mask of the output and, with a
        pool, routed to each window's arg-max (zero elsewhere)."""
        g = grad_output[a:z]
        if self.relu:
            g = g * (self.out[a:z] > 0)
        if self.code is None:
            np.copyto(into, g)
            return
        h, w = self.x.shape[1:3]
        if h % self.pool[0] or w % self.pool[1]:  # pixels no window covers
            into[...] = 0
        route_to_offsets(g, self.code[a:z], _windows(into, self.grid, self.pool))

    def grad_sums(self, grad_output, dtype, into=None):
        """(sum g, sum g (x - mean)) per feature of g = dL/d(bn(x)), over blocks
        added in block order; g is written into ``into`` (an array like x),
        or only into a thread's scratch where ``into`` is None."""
        x, f, rows = self.x, self.x.shape[-1], self.scratch_rows
        sums = parallel.BlockSum()

        def sum_blocks(indices):
            ones = np.ones(rows, dtype)
            scratch = np.empty((rows, f), dtype)
            g_scratch = np.empty((rows, f), dtype) if into is None else None
            for i in indices:
                a, z = self.blocks[i]
                v = x[a:z].reshape(-1, f)
                r = len(v)
                g = g_scratch[:r] if into is None else into[a:z].reshape(-1, f)
                self.bn_grad(grad_output, a, z, g.reshape(x[a:z].shape))
                d = np.subtract(v, self.mean, out=scratch[:r])
                np.multiply(d, g, out=d)
                sums.add(i, np.stack([ones[:r] @ g, ones[:r] @ d]))

        parallel.over_blocks(sum_blocks, len(self.blocks))
        return sums.total

    def input_grad_slopes(self, sums, dtype):
        """(mean, c0, c1, c2) per feature: dL/dx = c1 g - c0 - c2 (x - mean),
        BatchNorm's dL/dx with xhat = (x - mean) inv_std written out."""
        sum_g, sum_gd = sums
        count = self.x.size // self.x.shape[-1]
        c1 = (self.gamma * self.inv_std).astype(dtype)
        c0 = c1 * sum_g / count
        c2 = c1 * self.inv_std * self.inv_std * sum_gd / count
        return self.mean, c0, c1, c2

    def input_grad(self, g, a, z, tiles):
        """Turn the rows ``g`` (dL/d(bn(x)) of samples ``a:z``) into dL/dx in
        place, a tile's rows at a time; ``tiles`` = :meth:`input_grad_slopes`
        repeated down rows (:class:`_Rows`), and a scratch."""
        v = self.x[a:z].reshape(g.shape)
        for part, r in _parts(len(g), len(tiles[0])):
            means, c0s, c1s, c2s, scratch = (t[:r] for t in tiles)
            d = np.subtract(v[part], means, out=scratch)
            np.multiply(d, c2s, out=d)
            np.multiply(g[part], c1s, out=g[part])
            np.subtract(g[part], d, out=g[part])
            np.subtract(g[part], c0s, out=g[part])

    def affine_grads(self, sums):
        """dL/dgamma, dL/dbeta, shaped like gamma and beta."""
        sum_g, sum_gd = sums
        grad_gamma = (sum_gd * self.inv_std).reshape(self.shapes[0])
        return grad_gamma, sum_g.reshape(self.shapes[1])


class ConvBatchNorm(Function):
    """y = pool(relu(bn(conv2d(x, w) + b))) in one node, relu and pool
    optional: :class:`glassnet.runtime.conv.Conv2D`'s convolution, then
    :class:`BatchNorm` over every axis but the last. Backward takes the
    normalization's sums over the batch first, then turns dL/dy into
    dL/d(conv + b) block by block inside the convolution's own backward sweep
    (:meth:`glassnet.runtime.conv.Conv2D.backward_from`), so that gradient is
    never stored whole: the same values as the two nodes one after the other.

    Inputs ``x``, ``w``, ``b`` (or None), ``gamma``, ``beta``; settings those
    of both (``strides``, ``padding``, ``dilation_rate``; ``epsilon``,
    ``moments``, ``activation``, ``pool_size``).
    """

    def forward(
        self,
        x,
        w,
        b,
        gamma,
        beta,
        strides=(1, 1),
        padding="valid",
        dilation_rate=(1, 1),
        epsilon=1e-3,
        moments=None,
        activation=None,
        pool_size=None,
    ):
        self.conv, self.norm = conv.Conv2D(), BatchNorm()
        z = self.conv.forward(
            x, w, b, strides=strides, padding=padding, dilation_rate=dilation_rate
        )
        return self.norm.forward(
            z,
            gamma,
            beta,
            axes=(0, 1, 2),
            epsilon=epsilon,
            moments=moments,
            activation=activation,
            pool_size=pool_size,
        )

    def backward(self, grad_output):
        need = self.needs_input_grad
        norm, convolution = self.norm, self.conv
        dtype = np.result_type(grad_output, norm.x)
        sums = norm.grad_sums(grad_output, dtype)
        slopes = norm.input_grad_slopes(sums, dtype)
        shape, local = norm.x.shape[1:], threading.local()

        rows, f = convolution.rows_per_sample, norm.x.shape[-1]
        tile = _tile_rows(f, dtype, norm.scratch_rows)

        def conv_grad(a, z, buffer):  # in a thread of the convolution's sweep
            g = buffer[: (z - a) * rows]
            norm.bn_grad(grad_output, a, z, g.reshape(z - a, *shape))
            if getattr(local, "tiles", None) is None:
                local.tiles = _Rows(tile, dtype).tiles(slopes)
            norm.input_grad(g, a, z, local.tiles)
            return g

        grads = (None, None, None)
        if any(need[:3]):
            convolution.needs_input_grad = need[: 2 + convolution.bias]
            grads = convolution.backward_from(conv_grad, dtype) + (None,)
        grad_gamma, grad_beta = norm.affine_grads(sums)
        return (
            *grads[:3],
            grad_gamma if need[3] else None,
            grad_beta if need[4] else None,
        )


# Bytes of one per-feature tile (see _Rows): a thread holds up to five.
TILE_BYTES = 1 << 18


def _tile_rows(features, dtype, rows):
    """Rows of a tile: TILE_BYTES' worth, at most ``rows``, at least one."""
    return max(1, min(rows, TILE_BYTES // (features * np.dtype(dtype).itemsize)))


def _parts(rows, tile):
    """(slice, length) of consecutive parts of ``rows`` rows, ``tile`` at most."""
    return [
        (slice(lo, min(lo + tile, rows)), min(tile, rows - lo))
        for lo in range(0, rows, tile)
    ]


class _Rows:
    """Per-feature vectors repeated down ``rows`` rows: an (rows, F) operand
    against which NumPy's binary ufuncs run their vectorised loops (against a
    broadcast (F,) row or a scalar they fall back to a slower one)."""

    def __init__(self, rows, dtype):
        self.rows, self.dtype = rows, dtype

    def __call__(self, vector):
        return np.tile(np.asarray(vector, self.dtype), (self.rows, 1))

    def tiles(self, vectors):
        """Each vector repeated down the rows, then one more (rows, F) scratch."""
        return [self(v) for v in vectors] + [np.empty_like(self(vectors[0]))]


def _windows(images, grid, pool):
    """The ph*pw strided views of ``images`` (N, H, W, F), one per window offset
    (row-major), each (N, *grid, F): the pixel at that offset of every window
    of a max pool over windows ``pool`` that tile them."""
    return [
        images[offset_slice(i, j, grid, pool)]
        for i in range(pool[0])
        for j in range(pool[1])
    ]


def batch_norm(x, gamma, beta, **settings):
    """:func:`glassnet.ops.batch_norm` with checked settings, as one
    :class:`BatchNorm` node."""
    return BatchNorm.apply(x, gamma, beta, **settings)


def conv2d_batch_norm(x, kernel, bias, gamma, beta, **settings):
    """:func:`glassnet.ops.conv2d_batch_norm` with checked settings, as one
    :class:`ConvBatchNorm` node."""
    return ConvBatchNorm.apply(x, kernel, bias, gamma, beta, **settings)
