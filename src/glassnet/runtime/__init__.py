"""Everything in glassnet that trades clarity for speed, behind one switch.

The plain ops in :mod:`glassnet.ops` are the versions a learner reads; this
package holds their faster twins (blocked, fused, threaded kernels), the thread
and BLAS policy, flat parameter groups, opt-in allocator tuning and the
array-module seam. Each fast path is tested equal to its plain twin.
``glassnet.config.set_fast_kernels(False)`` (or ``GLASSNET_FAST_KERNELS=0``)
runs the plain ops only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from glassnet.runtime.flat import FlatVector
from glassnet.runtime.memory import tune_malloc, tune_malloc_if_asked
from glassnet.runtime.settings import (
    fast_kernels,
    kernel_threads,
    overrides,
    set_fast_kernels,
    set_kernel_threads,
)


@contextlib.contextmanager
def kernel_scope() -> Iterator[None]:
    """The thread and BLAS policy for one training step or one prediction: the
    trainer enters it around each batch (placeholder until the kernels move
    here)."""
    yield


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
