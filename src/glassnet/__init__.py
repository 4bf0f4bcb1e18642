"""glassnet: a neural-network library you can see through."""

from __future__ import annotations

from glassnet import config, ops, runtime  # noqa: F401  (runtime registers its kernels)
from glassnet.autograd import Function, Tensor, no_grad

__version__ = "0.1.0"
__all__ = ["Function", "Tensor", "config", "no_grad", "ops", "__version__"]
