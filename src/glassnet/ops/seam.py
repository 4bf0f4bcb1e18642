"""The one seam between the plain ops and the fast kernels of ``glassnet.runtime``.

An op that has a faster twin asks ``fast(name)`` before running its plain
Functions: ``None`` (the default, and always when fast kernels are switched
off) means "run the plain version below". ``glassnet.runtime`` registers a
chooser per op name when it is imported; the chooser alone decides, from the
runtime's switches and the arguments, whether its kernel applies. The plain ops
therefore never import the runtime, and read no switch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_choosers: dict[str, Callable[..., Callable[..., Any] | None]] = {}


def register(name: str, chooser: Callable[..., Callable[..., Any] | None]) -> None:
    """Let ``chooser(*operands, **settings)`` offer a fast function for the op
    ``name``."""
    _choosers[name] = chooser


def fast(name: str, *operands: Any, **settings: Any) -> Callable[..., Any] | None:
    """The fast function to run for op ``name`` on these operands with these
    settings, or None. (Operands go positionally: a keyword dict per call is
    what a small op on the hot path feels.)"""
    chooser = _choosers.get(name)
    return None if chooser is None else chooser(*operands, **settings)
