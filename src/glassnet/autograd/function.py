"""Function: one differentiable operation that knows its own local gradient.

A Function has the shape of the seed lecture's ``Multiply``: ``forward`` computes
the output from plain arrays and keeps on ``self`` whatever ``backward`` needs;
``backward(grad_output)`` returns one gradient per input (``None`` where an input
needs none). ``Function.apply`` creates a fresh instance for every application, so
the same Function can appear many times in one graph.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import numpy as np

from glassnet.autograd.tensor import Tensor, next_seq


class _GradMode(threading.local):
    """Whether graphs are recorded, per thread (as in PyTorch): ``no_grad`` in
    one thread (a prediction, say) never turns recording off in another (a
    training loop). Every thread starts with recording on. ``saved`` holds the
    values to restore when the ``no_grad`` / ``enable_grad`` blocks entered in
    this thread exit (they nest, so one stack serves them all)."""

    enabled = True

    def __init__(self) -> None:
        self.saved: list[bool] = []


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether new operations in this thread record the graph for ``backward``."""
    return _grad_mode.enabled


class no_grad(contextlib.ContextDecorator):
    """Context manager (and decorator) under which no graph is recorded.

    Use it for inference and for optimizer updates: outputs never require grad.
    It affects the calling thread only.
    """

    _enabled = False

    # NOTE: the values to restore live on the thread (``_grad_mode.saved``), not
    # on the instance, so one instance (a decorator, say) may be entered by
    # several threads and nested within each.
    def __enter__(self) -> None:
        mode = _grad_mode
        mode.saved.append(mode.enabled)
        mode.enabled = self._enabled

    def __exit__(self, *exc: object) -> None:
        mode = _grad_mode
        mode.enabled = mode.saved.pop()


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
    can skip work nobody needs. An array that ``forward`` keeps on ``self`` must
    not be changed in place before ``backward``: the backward pass raises when
    a tensor whose array a Function kept was modified after it ran (see
    :attr:`Tensor.version`).
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
        if not _grad_mode.enabled:  # NOTE: inference: nothing to record
            data = fn.forward(
                *[x._data if isinstance(x, Tensor) else x for x in inputs], **params
            )
            return _output(data, None)
        # NOTE: one plain loop, not two comprehensions: this is the hot path.
        arrays = []
        needs = []
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x._data)
                needs.append(x.requires_grad)
            else:
                arrays.append(x)
                needs.append(False)
        data = fn.forward(*arrays, **params)
        # NOTE: _output inlined: a frame per op is what a small step feels
        if type(data) is not np.ndarray:
            data = np.asarray(data)
        out = Tensor.__new__(Tensor)
        out._data = data
        out.grad = None
        out.name = None
        out._seq = next_seq()
        if True in needs:
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


def _output(data: Any, fn: Function | None) -> Tensor:
    """The Tensor of a Function's output ``data``, linked to ``fn`` (None: a
    tensor outside the graph)."""
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    out = Tensor.__new__(Tensor)
    out._data = data
    out.grad = None
    out.name = None
    out._seq = next_seq()
    out.requires_grad = fn is not None
    out._ctx = fn
    return out
