"""What a failed call must leave alone, the one assertion that it did, and the
small trained models and data the misuse tables call.

:func:`snapshot` copies a model's weights, its optimizer (identity, iterations,
state arrays, config), its compile state (optimizer, loss and metric containers,
the resolved metrics, ``compiled``), its history and its layers;
:func:`expect_failure` runs a call that must raise and checks the snapshot
again afterwards. A table row is :func:`case`: the call as a user writes it
(``'fit(X, Y, batch_size=0)'``), the error type, a pattern for the message and
which model of :data:`MODELS` it is made on.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from glassnet.layers import Dense, Input
from glassnet.models import Sequential

RNG = np.random.default_rng(0)
N = 20
X = RNG.standard_normal((N, 4)).astype("float32")
Y = RNG.standard_normal((N, 3)).astype("float32")  # the regressor's targets
LABELS = RNG.integers(0, 3, N)  # the classifier's
Y1 = RNG.standard_normal((N, 1)).astype("float32")  # the one-unit model's
SW = np.linspace(0.5, 1.5, N)


def regressor() -> Sequential:
    """Three outputs, mse, Adam (so there is optimizer state), fitted once."""
    model = Sequential([Input((4,)), Dense(5, activation="tanh"), Dense(3)])
    model.compile("adam", "mse", metrics=["mae"])
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    return model


def classifier() -> Sequential:
    """Three softmax outputs, integer labels, "accuracy", fitted once."""
    model = Sequential([Input((4,)), Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, LABELS, epochs=1, batch_size=8, verbose=0)
    return model


def one_unit() -> Sequential:
    model = Sequential([Input((4,)), Dense(1)])
    model.compile("sgd", "mse")
    model.fit(X, Y1, epochs=1, verbose=0)
    return model


MODELS = {"regressor": regressor, "classifier": classifier, "one_unit": one_unit}


def case(call: str, error: type, pattern: str, model: str = "regressor") -> Any:
    """A table row: ``model.<call>`` raises ``error`` with a message matching
    ``pattern`` (the argument named, what came) and changes nothing."""
    return pytest.param(call, model, error, pattern, id=call)


def snapshot(model: Any) -> dict[str, Any]:
    """Everything about ``model`` that a failed call must not change."""
    optimizer = getattr(model, "optimizer", None)
    metrics = getattr(model, "_compile_metrics", None)
    history = getattr(model, "history", None)
    return {
        "built": model.built,
        "layers": [id(layer) for layer in model.layers],
        "weights": [w.copy() for w in model.get_weights()] if model.built else [],
        "compiled": model.compiled,
        "optimizer": optimizer,
        "optimizer_config": None if optimizer is None else optimizer.get_config(),
        "iterations": getattr(optimizer, "iterations", None),
        "optimizer_state": [a.copy() for a in getattr(optimizer, "variables", [])],
        "loss": model.loss,
        "compile_loss": getattr(model, "_compile_loss", None),
        "compile_metrics": metrics,
        "metric_slots": None if metrics is None else _slots(metrics),
        "history": history,
        "history_values": None if history is None else copy.deepcopy(history.history),
        "stop_training": model.stop_training,
    }


def _slots(metrics: Any) -> Any:
    if metrics.slots is None:
        return None
    return [(slot.name, slot.fn) for slot in metrics.slots]


def assert_unchanged(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert before.keys() == after.keys()
    for key, old in before.items():
        new = after[key]
        if key in ("weights", "optimizer_state"):
            assert len(old) == len(new), key
            for a, b in zip(old, new):
                np.testing.assert_array_equal(a, b, err_msg=key)
        elif key in ("optimizer", "compile_loss", "compile_metrics", "history"):
            assert old is new, key
        elif key == "metric_slots" and old is not None:
            assert [n for n, _ in old] == [n for n, _ in new], key
            assert all(f is g for (_, f), (_, g) in zip(old, new)), key
        else:
            assert old == new, key


def expect_failure(
    model: Any, call: Any, error: type, pattern: str, namespace: Any = None
) -> None:
    """``call(model)`` raises ``error`` with a message matching ``pattern``, and
    leaves :func:`snapshot` of ``model`` as it was. A string ``call`` is the
    method call's text, run as ``model.<call>`` with this module's data and the
    names of ``namespace`` (a test module's globals)."""
    if isinstance(call, str):
        text, names = call, {**globals(), **(namespace or {})}
        call = lambda m: eval("m." + text, names, {"m": m})  # noqa: E731
    before = snapshot(model)
    with pytest.raises(error, match=pattern):
        call(model)
    assert_unchanged(before, snapshot(model))
