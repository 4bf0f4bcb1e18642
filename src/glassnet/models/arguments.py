"""The plain arguments of the training API, checked once per call.

:func:`checked` wraps ``compile``, ``fit``, ``evaluate``, ``predict`` and the
single-batch methods. Before the method runs it turns an unknown keyword into a
``TypeError`` with the closest argument names ("did you mean"), and passes every
argument named in :data:`CHECKS` through its check, which returns the value the
method then gets (``verbose`` as 0, 1 or 2, ``callbacks`` as a list, counts as
``int``) or raises, naming the method and the argument, what it expects and what
came: ``TypeError`` for a value of the wrong type (``epochs=1e2``,
``batch_size="32"``, ``batch_size=True``), ``ValueError`` for a value out of
range (``batch_size=0``, ``validation_split=1.0``).

The arrays (``x``, ``y``, ``sample_weight``, the arrays of ``validation_data``)
are checked against each other and the model by
:mod:`~glassnet.models.data_adapter`; both happen before the first change to the
model, so a call that fails changes nothing.
"""

from __future__ import annotations

import functools
import inspect
import math
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet._registry import close_matches
from glassnet.callbacks import Callback
from glassnet.models import data_adapter
from glassnet.models.progress import verbosity


def _received(name: str, value: Any) -> str:
    return f"Received: {name}={value!r} (of type {type(value).__name__})"


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _count(low: int, optional: bool) -> Callable[[Any, str, str], int | None]:
    """The check of an integer argument ``>= low`` (None allowed if ``optional``)."""
    expected = "a positive integer" if low == 1 else "a non-negative integer"
    expected += " or None" if optional else ""

    def check(value: Any, name: str, where: str) -> int | None:
        if value is None and optional:
            return None
        if not _is_int(value):
            raise TypeError(
                f"{where}: `{name}` must be {expected}. " + _received(name, value)
            )
        if value < low:
            raise ValueError(
                f"{where}: `{name}` must be {expected}. Received: {name}={value!r}"
            )
        return int(value)

    return check


def _flag(value: Any, name: str, where: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{where}: `{name}` must be True or False. " + _received(name, value)
        )
    return bool(value)


def _validation_split(value: Any, name: str, where: str) -> float:
    number = isinstance(value, (int, float, np.integer, np.floating))
    if not number or isinstance(value, bool):
        raise TypeError(
            f"{where}: `{name}` must be a float in [0, 1), the fraction of the "
            "samples held out for validation. " + _received(name, value)
        )
    if not 0 <= value < 1:
        raise ValueError(
            f"{where}: `{name}` must be a float in [0, 1), the fraction of the "
            f"samples held out for validation. Received: {name}={value!r}"
        )
    return float(value)


def _validation_data(value: Any, name: str, where: str) -> Any:
    """``(x, y)`` or ``(x, y, sample_weight)`` as a 3-tuple (the arrays are
    checked with the training data), or a generator or PyDataset as it is."""
    if value is None:
        return None
    try:
        return data_adapter.unpack_validation_data(value)
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None


def _class_weight(value: Any, name: str, where: str) -> dict | None:
    """``{class: weight}`` with integer classes and finite weights >= 0."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError(
            f"{where}: `{name}` must be a dict mapping class indices (integers) to "
            "weights. " + _received(name, value)
        )
    for key, weight in value.items():
        number = isinstance(weight, (int, float, np.integer, np.floating))
        if not _is_int(key):
            raise TypeError(
                f"{where}: the classes of `{name}` must be integers. Received: "
                f"{name}={value!r} (class {key!r} of type {type(key).__name__})"
            )
        if not number or isinstance(weight, bool) or not math.isfinite(weight):
            raise TypeError(
                f"{where}: the weights of `{name}` must be finite numbers. "
                f"Received: {name}={value!r} (weight {weight!r} of class {key!r})"
            )
        if weight < 0:
            raise ValueError(
                f"{where}: the weights of `{name}` must be >= 0. Received: "
                f"{name}={value!r} (weight {weight!r} of class {key!r})"
            )
    return {int(key): float(weight) for key, weight in value.items()} or None


def _callbacks(value: Any, name: str, where: str) -> list[Callback]:
    """A list of Callback instances; one Callback alone is accepted, as Keras
    accepts it."""
    if value is None:
        return []
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if isinstance(item, Callback):
            continue
        hint = ""
        if isinstance(item, type) and issubclass(item, Callback):
            hint = f" (a class: did you mean {item.__name__}()?)"
        raise TypeError(
            f"{where}: `{name}` must be a Callback or a list of Callbacks. "
            f"Received: {name}={value!r}: {item!r} is not a Callback{hint}"
        )
    return items


def _verbose(value: Any, name: str, where: str) -> int:
    try:
        return verbosity(value)
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None


#: The checked arguments of the training API, by name: each check takes the
#: value, the argument's name and the method's (for the message) and returns
#: what the method works with.
CHECKS: dict[str, Callable[[Any, str, str], Any]] = {
    "batch_size": _count(1, optional=True),
    "validation_batch_size": _count(1, optional=True),
    "epochs": _count(0, optional=False),
    "initial_epoch": _count(0, optional=False),
    "steps": _count(1, optional=True),
    "steps_per_epoch": _count(1, optional=True),
    "validation_steps": _count(1, optional=True),
    "validation_freq": _count(1, optional=False),
    "steps_per_execution": _count(1, optional=False),
    "validation_split": _validation_split,
    "validation_data": _validation_data,
    "class_weight": _class_weight,
    "callbacks": _callbacks,
    "verbose": _verbose,
    "shuffle": _flag,
    "return_dict": _flag,
}


#: What each argument of the training API takes, appended to the docstrings
#: of the methods :func:`checked` wraps (``help(model.fit)``).
DOCS: dict[str, str] = {
    "x": "array ``(n, ...)`` of real, finite numbers (a float64 value too large "
    "for float32 is reported as overflow), n >= 1: empty input is an error in "
    "fit, evaluate, predict and the single-batch methods alike. Or (not in the "
    "single-batch methods) a generator, iterable or PyDataset of batches "
    "``(x, y)``, ``(x, y, sample_weight)`` or ``x``, each checked like arrays "
    "as it comes; then ``y``, ``sample_weight`` and ``batch_size`` are not "
    "given. A model of several inputs takes a list (in the order of "
    "``model.inputs``) or a dict (by input name) of such arrays.",
    "y": "targets of the output's shape, ``(n,)`` for a one-unit output, or "
    "integer class labels ``(n,)`` / ``(n, 1)`` where the loss takes them "
    "(sparse categorical cross-entropy, or a loss of your own). A ``y`` that "
    "fits the output only by broadcasting is an error that shows both shapes. "
    "With a custom ``train_step`` / ``test_step``, y may be None and only its "
    "length is checked. A model of several outputs takes one target array per "
    "output, in a list (in output order) or a dict by output name.",
    "batch_size": "a positive integer or None (32); ignored, with a warning, "
    "for a generator or PyDataset, which make their own batches.",
    "epochs": "an integer >= 0; epochs ``initial_epoch`` to ``epochs - 1`` run.",
    "verbose": '``"auto"`` (1), 0 (silent), 1 (a progress bar), 2 (a line per '
    "epoch) or a bool.",
    "callbacks": "a Callback or a list of Callbacks.",
    "validation_split": "a float in [0, 1): the *last* fraction of the samples "
    "(before shuffling) is held out, as Keras does; ignored when "
    "``validation_data`` is given.",
    "validation_data": "``(x_val, y_val)`` or ``(x_val, y_val, "
    "sample_weight_val)``, checked like the training data before the first "
    "epoch (the messages start with ``validation_data``), or a generator or "
    "PyDataset of such batches.",
    "shuffle": "a bool: a fresh permutation of the samples every epoch (of the "
    "batch order of a PyDataset; a generator's order is its own).",
    "class_weight": "``{class: weight}``, integer classes and finite weights "
    ">= 0, multiplying ``sample_weight``; every class in ``y`` needs one. A "
    "model of one output only.",
    "sample_weight": "one finite weight >= 0 per sample, ``(n,)`` or ``(n, 1)``; "
    "for several outputs, one such array for all, or one per output (a list or "
    "dict by output name).",
    "initial_epoch": "an integer >= 0, the epoch to start from.",
    "steps_per_epoch": "a positive integer or None: at most this many batches "
    "per epoch. Arrays start over each epoch; a generator or PyDataset goes on "
    "where the last epoch stopped (a generator is read once in all, and "
    "training stops when it runs out). An endless generator needs it.",
    "validation_steps": "a positive integer or None: at most this many "
    "validation batches (from the start of a PyDataset each time; a "
    "generator goes on).",
    "validation_batch_size": "a positive integer or None (``batch_size``).",
    "validation_freq": "a positive integer: validate every this many epochs.",
    "steps": "a positive integer or None: at most this many batches.",
    "return_dict": "a bool: the logs as a dict instead of a list.",
    "optimizer": 'a name (``"adam"``), an Optimizer, its class or its config dict.',
    "loss": 'a name (``"mse"``), a Loss, a function ``(y_true, y_pred) -> '
    "Tensor`` (one loss per sample) or a config dict.",
    "metrics": 'a list of names (``"accuracy"``, ``"mae"``), functions, Metric '
    "objects or config dicts (one of them alone is accepted too).",
    "steps_per_execution": "a positive integer (accepted for Keras; glassnet "
    "runs one step at a time).",
}

_RAISES = {
    "TypeError": "An argument of the wrong type, or an unknown keyword (with the "
    "closest argument names).",
    "ValueError": "A value out of range, or data that does not fit the model.",
}
_ATOMIC = (
    "Each message names the argument, what it expects and what came. Every "
    "check runs before anything changes (weights, optimizer state, compile "
    "state, ``history``; only the first data an unbuilt model sees builds it, "
    "as in Keras)."
)


def _document(method: Callable[..., Any], parameters: list[str]) -> str:
    """``method``'s docstring with numpydoc sections made from :data:`DOCS`."""

    def indented(text: str) -> str:
        return textwrap.fill(text, 76, initial_indent="    ", subsequent_indent="    ")

    lines = [inspect.cleandoc(method.__doc__ or ""), "", "Parameters", "----------"]
    for name in parameters:
        if name in DOCS:
            lines += [name, indented(DOCS[name])]
    lines += ["", "Raises", "------"]
    for error, text in _RAISES.items():
        lines += [error, indented(text)]
    return "\n".join([*lines, "", textwrap.fill(_ATOMIC, 80)])


def checked(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` with its keywords and the arguments in :data:`CHECKS`
    checked first (see the module's docstring), and its arguments documented
    from :data:`DOCS`."""
    signature = inspect.signature(method).parameters
    parameters = [p for p in signature if p != "self"]
    defaults = {p: signature[p].default for p in parameters}
    names = [p for p in parameters if p in CHECKS]
    where = f"{method.__name__}()"

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if len(args) > len(parameters) or not kwargs.keys().isdisjoint(
            parameters[: len(args)]
        ):
            return method(self, *args, **kwargs)  # NOTE: Python's own TypeError
        if not names and not kwargs:
            return method(self, *args)  # NOTE: nothing to check (predict_on_batch)
        for key in kwargs:
            if key not in defaults:
                guesses = close_matches(key, parameters)
                hint = f" Did you mean {' or '.join(map(repr, guesses))}?"
                raise TypeError(
                    f"{where} got an unexpected keyword argument {key!r}."
                    f"{hint if guesses else ''} Its arguments are: "
                    f"{', '.join(parameters)}. Received: {key}={kwargs[key]!r}"
                )
        values = dict(zip(parameters, args), **kwargs)
        for name in names:
            value = values.get(name, defaults[name])
            values[name] = CHECKS[name](value, name, where)
        return method(self, **values)

    wrapper.__doc__ = _document(method, parameters)
    return wrapper
