"""Everything in glassnet that trades clarity for speed, behind one switch.

The plain ops in :mod:`glassnet.ops` are the versions a learner reads; this
package holds their faster twins (blocked, fused, threaded kernels), the thread
and BLAS policy, flat parameter groups, opt-in allocator tuning and the
array-module seam. Each fast path is tested equal to its plain twin.
``glassnet.config.set_fast_kernels(False)`` (or ``GLASSNET_FAST_KERNELS=0``)
runs the plain ops only.
"""

from __future__ import annotations

from glassnet.runtime.parallel import kernel_scope
from glassnet.runtime.settings import (
    fast_kernels,
    kernel_threads,
    overrides,
    set_fast_kernels,
    set_kernel_threads,
)

__all__ = [
    "kernel_scope",
    "fast_kernels",
    "kernel_threads",
    "overrides",
    "set_fast_kernels",
    "set_kernel_threads",
]
