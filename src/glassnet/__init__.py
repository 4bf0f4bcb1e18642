"""glassnet: a neural-network library you can see through."""

from __future__ import annotations

from glassnet import _malloc, ops  # noqa: F401  (_malloc tunes glibc on import)
from glassnet.autograd import Function, Tensor, no_grad

__version__ = "0.1.0"
__all__ = ["Function", "Tensor", "no_grad", "ops", "__version__"]
