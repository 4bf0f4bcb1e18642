"""SciPy's special functions, imported the first time an op uses one.

``import scipy.special`` takes about three times as long as the rest of
``import glassnet`` together, and a program that never runs a sigmoid or a
gelu does not need it. The ops call ``_special.expit(x)``; the first lookup
of a name imports SciPy and keeps SciPy's own function here, so every later
call is SciPy's ufunc itself (the same numbers, to the bit: scikit-learn's
logistic is this ``expit``).
"""

from __future__ import annotations

from typing import Any

_NAMES = ("erf", "expit")


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import scipy.special

    value = getattr(scipy.special, name)
    globals()[name] = value
    return value
