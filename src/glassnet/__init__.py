"""glassnet: a neural-network library you can see through."""

from __future__ import annotations

# _malloc tunes glibc on import; runtime registers the fast kernels with ops.seam
from glassnet import _malloc, ops, runtime  # noqa: F401
from glassnet.autograd import Function, Tensor, no_grad

__version__ = "0.1.0"
__all__ = ["Function", "Tensor", "no_grad", "ops", "__version__"]
