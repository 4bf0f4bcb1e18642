"""TEMPORARY: delete when the trainer branch is merged.

``models/trainer.py`` on this branch still imports ``single_threaded_blas``
from here; the trainer branch replaces that import and its ``_kernel_threads``
with ``glassnet.runtime.kernel_scope()``. No layer sets ``batch_parallel`` any
more, so that trainer never calls this. The thread and BLAS policy now lives in
:mod:`glassnet.runtime.parallel`.
"""

from contextlib import nullcontext as single_threaded_blas  # noqa: F401
