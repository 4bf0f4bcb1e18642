"""Function: one differentiable operation that knows its own local gradient.

A Function has the shape of the seed lecture's ``Multiply``: ``forward`` computes
the output from plain arrays and keeps on ``self`` whatever ``backward`` needs;
``backward(grad_output)`` returns one gradient per input (``None`` where an input
needs none). ``Function.apply`` creates a fresh instance for every application, so
the same Function can appear many times in one graph.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from glassnet.autograd.tensor import Tensor, next_seq

_grad_enabled = True


def is_grad_enabled() -> bool:
    """Whether new operations record the graph needed by ``backward``."""
    return _grad_enabled


class no_grad(contextlib.ContextDecorator):
    """Context manager (and decorator) under which no graph is recorded.

    Use it for inference and for optimizer updates: outputs never require grad.
    """

    _enabled = False

    def __init__(self) -> None:
        self._previous: list[bool] = []  # a stack, so one instance may nest

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous.append(_grad_enabled)
        _grad_enabled = self._enabled

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self._previous.pop()


class enable_grad(no_grad):
    """Context manager that turns graph recording back on inside ``no_grad``."""

    _enabled = True


class Function:
    """Base class of every differentiable operation.

    Subclasses implement ``forward(self, *arrays, **params)`` returning an array
    and ``backward(self, grad_output)`` returning a tuple with one gradient (or
    ``None``) per positional input of ``forward``. Non-tensor inputs (Python
    numbers) reach ``forward`` unchanged and their gradients are ignored.

    After ``apply``, ``self.inputs`` holds the input tensors and
    ``self.needs_input_grad`` tells which of them want a gradient, so a backward
    can skip work nobody needs.
    """

    inputs: tuple[Any, ...] = ()
    needs_input_grad: tuple[bool, ...] = ()

    def forward(self, *arrays: Any, **params: Any) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, grad_output: np.ndarray) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError(f"{type(self).__name__} does not define backward")

    @property
    def name(self) -> str:
        return type(self).__name__

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Tensor:
        """Run ``forward`` on a fresh instance and link the output into the graph."""
        fn = cls()
        # NOTE: one plain loop, not two comprehensions: this is the hot path.
        arrays = []
        needs = []
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x.data)
                needs.append(x.requires_grad)
            else:
                arrays.append(x)
                needs.append(False)
        data = fn.forward(*arrays, **params)
        if type(data) is not np.ndarray:
            data = np.asarray(data)
        out = Tensor.__new__(Tensor)
        out.data = data
        out.grad = None
        out.name = None
        out._seq = next_seq()
        if _grad_enabled and True in needs:
            fn.inputs = inputs
            fn.needs_input_grad = tuple(needs)
            out.requires_grad = True
            out._ctx = fn
        else:
            out.requires_grad = False
            out._ctx = None
        return out

    def __repr__(self) -> str:
        return f"<{self.name}>"
