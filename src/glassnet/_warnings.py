"""``warn``: a warning that names the user's line, not glassnet's.

A fixed ``stacklevel`` breaks whenever the call path inside the library changes
(a helper added, a scikit-learn decorator around ``fit``), so the level is
found by walking the stack instead: the warning is attributed to the caller of
the outermost glassnet frame, the line in the user's code (or test, or
scikit-learn's ``cross_validate``) that called into glassnet. scikit-learn's
``_fit_context`` wrapper around the estimators' ``fit`` counts as glassnet's.
"""

from __future__ import annotations

import os
import sys
import warnings
from functools import cache

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


@cache
def _wrapper_codes() -> frozenset:
    """The code objects of scikit-learn's decorators around glassnet methods."""
    from sklearn.base import _fit_context

    wrapped = _fit_context(prefer_skip_nested_validation=True)(lambda self: self)
    return frozenset({wrapped.__code__})


def _ours(frame) -> bool:
    code = frame.f_code
    return code.co_filename.startswith(_PACKAGE) or code in _wrapper_codes()


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes ``warnings.warn``, called by the caller of
    this function, point just outside the outermost glassnet frame."""
    frame = sys._getframe(1)  # the caller: level 1 for its warnings.warn
    level = outermost = 1
    while frame is not None:
        if _ours(frame):
            outermost = level
        frame = frame.f_back
        level += 1
    return outermost + 1


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` attributed to the user's line."""
    warnings.warn(message, category, stacklevel=user_stacklevel())
