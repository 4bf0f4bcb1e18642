"""Everything in glassnet that trades clarity for speed, behind one switch.

The plain ops in :mod:`glassnet.ops` are the versions a learner reads; this
package holds their faster twins (blocked, fused, threaded kernels:
:mod:`~glassnet.runtime.conv`, :mod:`~glassnet.runtime.pool`,
:mod:`~glassnet.runtime.normalization`; the dense layer's at inference,
:mod:`~glassnet.runtime.dense`; arrays reused across calls and steps by the
dense twin, the plans and the convolution kernels,
:mod:`~glassnet.runtime.buffers`; a Sequential's dense chain at inference,
:mod:`~glassnet.runtime.inference`, and in training,
:mod:`~glassnet.runtime.training`), the thread and
BLAS policy (:mod:`~glassnet.runtime.parallel`, entered through
:func:`kernel_scope`), flat parameter groups (:class:`FlatVector`), opt-in
allocator tuning (:mod:`~glassnet.runtime.memory`) and the array-module seam
(:mod:`~glassnet.runtime.xp`).
Each fast path is tested equal to its plain twin.

Importing it registers the fast twins with :mod:`glassnet.ops.seam` (and does
nothing else, unless ``GLASSNET_TUNE_MALLOC=1`` asks for the allocator
tuning): an op with a twin asks the seam, and gets the twin whenever
``glassnet.config.fast_kernels()`` is on. ``glassnet.config.set_fast_kernels(
False)`` (or ``GLASSNET_FAST_KERNELS=0``) runs the plain ops only.
"""

from __future__ import annotations

import numpy as np

from glassnet.ops import seam
from glassnet.runtime import conv, dense, normalization, pool
from glassnet.runtime.flat import FlatVector
from glassnet.runtime.memory import tune_malloc, tune_malloc_if_asked
from glassnet.runtime.parallel import kernel_scope
from glassnet.runtime.settings import (
    fast_kernels,
    kernel_threads,
    overrides,
    set_fast_kernels,
    set_kernel_threads,
)


def _offer(kernel):
    """A seam chooser that offers ``kernel`` whenever fast kernels are on (each
    kernel here handles every setting of its op)."""

    def chooser(**settings):
        return kernel if fast_kernels() else None

    return chooser


seam.register("conv2d", _offer(conv.conv2d))
seam.register("conv1d", _offer(conv.conv1d))
seam.register("max_pool2d", _offer(pool.max_pool2d))
seam.register("linear", dense.choose)


def _per_feature(shapes):
    """Whether gamma and beta (``shapes[1:]``) hold one value per feature of x
    (its last axis), in any broadcastable shape."""
    x, gamma, beta = shapes
    features = x[-1] if x else None
    return all(
        s and s[-1] == features and np.prod(s) == features for s in (gamma, beta)
    )


def _batch_norm_chooser(shapes, axes, **settings):
    """The blocked batch normalization, for statistics over every axis but the
    last and one gamma and one beta per feature."""
    channels_last = axes == tuple(range(len(shapes[0]) - 1))
    if fast_kernels() and channels_last and _per_feature(shapes):
        return normalization.batch_norm
    return None


def _conv2d_batch_norm_chooser(shapes, **settings):
    """The convolution and normalization as one node, for one gamma and one
    beta per filter."""
    if fast_kernels() and _per_feature(shapes):
        return normalization.conv2d_batch_norm
    return None


def _chain_inference_chooser(layers, dtype):
    """A plan running a Sequential's layers on arrays at inference, for the
    model to keep (it checks the switch itself, each time it runs)."""
    from glassnet.runtime.inference import chain_plan  # NOTE: it imports layers

    return chain_plan(layers, dtype)


seam.register("batch_norm", _batch_norm_chooser)
seam.register("conv2d_batch_norm", _conv2d_batch_norm_chooser)
seam.register("chain_inference", _chain_inference_chooser)


def _chain_training_chooser(layers, dtype):
    """A plan of a Sequential's training step on arrays, for the model to
    keep (it checks the switch itself, each time it runs)."""
    from glassnet.runtime.training import chain_training  # NOTE: imports layers

    return chain_training(layers, dtype)


seam.register("chain_training", _chain_training_chooser)

#: Whether this process opted in to the allocator tuning (GLASSNET_TUNE_MALLOC=1).
MALLOC_TUNED = tune_malloc_if_asked()

__all__ = [
    "FlatVector",
    "MALLOC_TUNED",
    "kernel_scope",
    "tune_malloc",
    "fast_kernels",
    "kernel_threads",
    "overrides",
    "set_fast_kernels",
    "set_kernel_threads",
]
