"""glassnet's user-facing settings: plain or fast kernels, kernel threads.

>>> import glassnet
>>> glassnet.config.set_fast_kernels(False)   # only the plain, readable ops
>>> with glassnet.config.overrides(kernel_threads=1):  # this thread, this block
...     pass

The same switches come from the environment: ``GLASSNET_FAST_KERNELS=0`` and
``GLASSNET_KERNEL_THREADS=n`` (read when glassnet is imported).

:func:`tune_malloc` (or ``GLASSNET_TUNE_MALLOC=1``) opts in to glibc allocator
tuning for this process; importing glassnet never changes it on its own.
:func:`release_buffers` lets go of the batch-sized arrays the fast kernels
keep from one step or call to the next (at most 64 MiB per thread); it
returns how many bytes they were.

Keras's ``keras.config`` readers answer with glassnet's fixed choices:
:func:`floatx` (``"float32"``), :func:`epsilon` (``1e-7``) and
:func:`image_data_format` (``"channels_last"``).
"""

from __future__ import annotations

from glassnet.ops.keras_core import FLOATX
from glassnet.ops.loss import EPSILON
from glassnet.runtime.buffers import release_all as release_buffers
from glassnet.runtime.memory import tune_malloc
from glassnet.runtime.settings import (
    fast_kernels,
    kernel_threads,
    overrides,
    set_fast_kernels,
    set_kernel_threads,
)

__all__ = [
    "epsilon",
    "fast_kernels",
    "floatx",
    "image_data_format",
    "kernel_threads",
    "overrides",
    "release_buffers",
    "set_fast_kernels",
    "set_kernel_threads",
    "tune_malloc",
]


def floatx() -> str:
    """The float dtype of Keras-style models and of ``glassnet.ops``: float32."""
    return FLOATX


def epsilon() -> float:
    """The fuzz factor Keras adds against division by zero (clipped
    probabilities in the losses): 1e-7."""
    return EPSILON


def image_data_format() -> str:
    """Images are ``(batch, height, width, channels)``: ``"channels_last"``."""
    return "channels_last"
