"""The engine: tensors, local-gradient Functions, and the backward pass."""

from __future__ import annotations

from glassnet.autograd.function import Function, enable_grad, is_grad_enabled, no_grad
from glassnet.autograd.gradcheck import GradcheckError, gradcheck
from glassnet.autograd.tensor import Tensor

__all__ = [
    "Function",
    "GradcheckError",
    "Tensor",
    "gradcheck",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
]
