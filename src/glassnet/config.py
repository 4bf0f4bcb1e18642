"""glassnet's user-facing settings: plain or fast kernels, kernel threads.

>>> import glassnet
>>> glassnet.config.set_fast_kernels(False)   # only the plain, readable ops
>>> with glassnet.config.overrides(kernel_threads=1):  # this thread, this block
...     pass

The same switches come from the environment: ``GLASSNET_FAST_KERNELS=0`` and
``GLASSNET_KERNEL_THREADS=n`` (read when glassnet is imported).

:func:`tune_malloc` (or ``GLASSNET_TUNE_MALLOC=1``) opts in to glibc allocator
tuning for this process; importing glassnet never changes it on its own.
"""

from __future__ import annotations

from glassnet.runtime.memory import tune_malloc
from glassnet.runtime.settings import (
    fast_kernels,
    kernel_threads,
    overrides,
    set_fast_kernels,
    set_kernel_threads,
)

__all__ = [
    "fast_kernels",
    "kernel_threads",
    "overrides",
    "set_fast_kernels",
    "set_kernel_threads",
    "tune_malloc",
]
