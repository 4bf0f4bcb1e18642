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

import numpy as np

from glassnet.autograd import Function
from glassnet.ops.geometry import offset_slice, pool_geometry
from glassnet.runtime import parallel
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

        def normalize(indices):
            rows_of = _Rows(scratch_rows, dtype)
            means, scales, betas = rows_of(mean), rows_of(scale), rows_of(beta)
            zeros = rows_of(np.zeros(f))
            scratch = np.empty((scratch_rows, f), dtype) if pool_size else None
            for i in indices:
                a, z = self.blocks[i]
                v = x[a:z].reshape(-1, f)
                y = out[a:z].reshape(-1, f) if code is None else scratch[: len(v)]
                r = len(v)
                np.subtract(v, means[:r], out=y)
                np.multiply(y, scales[:r], out=y)
                np.add(y, betas[:r], out=y)
                if code is not None:
                    views = _windows(y.reshape(z - a, *x.shape[1:]), grid, pool_size)
                    max_with_offsets(views, out[a:z], code[a:z])
                if activation == "relu":  # after the pool, on fewer (they commute)
                    y = out[a:z].reshape(-1, f)
                    np.maximum(y, zeros[: len(y)], out=y)

        parallel.over_blocks(normalize, len(self.blocks))
        self.x, self.out, self.code, self.relu = x, out, code, activation == "relu"
        self.mean, self.inv_std, self.gamma = mean, inv_std, gamma
        self.pool, self.grid, self.scratch_rows = pool_size, grid, scratch_rows
        return out

    def backward(self, grad_output):
        need_x, need_gamma, need_beta = self.needs_input_grad
        x, f = self.x, self.x.shape[-1]
        dtype = np.result_type(grad_output, x)
        grad_x = np.empty(x.shape, dtype)  # dL/d(bn(x)) first, then dL/dx
        sums = parallel.BlockSum()  # [sum g, sum g (x - mean)] per feature
        pool, grid = self.pool, self.grid
        # pixels no window covers get no gradient from the pool
        covered = self.code is None or (
            x.shape[1] % pool[0] == 0 and x.shape[2] % pool[1] == 0
        )

        def sum_blocks(indices):
            ones = np.ones(self.scratch_rows, dtype)
            scratch = np.empty((self.scratch_rows, f), dtype)
            for i in indices:
                a, z = self.blocks[i]
                g = grad_output[a:z]
                if self.relu:
                    g = g * (self.out[a:z] > 0)
                gb = grad_x[a:z]
                if not covered:
                    gb[...] = 0
                if self.code is None:
                    gb[...] = g
                else:
                    targets = _windows(gb, grid, pool)
                    route_to_offsets(g, self.code[a:z], targets)
                gb = gb.reshape(-1, f)
                v = x[a:z].reshape(-1, f)
                d = np.subtract(v, self.mean, out=scratch[: len(v)])
                np.multiply(d, gb, out=d)
                sums.add(i, np.stack([ones[: len(v)] @ gb, ones[: len(v)] @ d]))

        parallel.over_blocks(sum_blocks, len(self.blocks))
        sum_g, sum_gd = sums.total
        count = x.size // f
        c1 = (self.gamma * self.inv_std).astype(dtype)
        c0 = c1 * sum_g / count
        c2 = c1 * self.inv_std * self.inv_std * sum_gd / count

        def input_grad(indices):
            rows_of = _Rows(self.scratch_rows, dtype)
            means, c0s, c1s, c2s = (
                rows_of(self.mean),
                rows_of(c0),
                rows_of(c1),
                rows_of(c2),
            )
            scratch = np.empty((self.scratch_rows, f), dtype)
            for i in indices:
                a, z = self.blocks[i]
                g = grad_x[a:z].reshape(-1, f)
                v = x[a:z].reshape(-1, f)
                r = len(v)
                d = np.subtract(v, means[:r], out=scratch[:r])
                np.multiply(d, c2s[:r], out=d)
                np.multiply(g, c1s[:r], out=g)
                np.subtract(g, d, out=g)
                np.subtract(g, c0s[:r], out=g)

        if need_x:
            parallel.over_blocks(input_grad, len(self.blocks))
        grad_gamma = (sum_gd * self.inv_std).reshape(self.shapes[0])
        grad_beta = sum_g.reshape(self.shapes[1])
        return (
            grad_x if need_x else None,
            grad_gamma if need_gamma else None,
            grad_beta if need_beta else None,
        )


class _Rows:
    """Per-feature vectors repeated down ``rows`` rows: an (rows, F) operand
    against which NumPy's binary ufuncs run their vectorised loops (against a
    broadcast (F,) row or a scalar they fall back to a slower one)."""

    def __init__(self, rows, dtype):
        self.rows, self.dtype = rows, dtype

    def __call__(self, vector):
        return np.tile(np.asarray(vector, self.dtype), (self.rows, 1))


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
