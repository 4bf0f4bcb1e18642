"""Weight regularizers: ``regularizer(weight) -> scalar Tensor`` added to the loss.

``L1(l1)``: ``l1 * sum(|w|)``; ``L2(l2)``: ``l2 * sum(w**2)``; ``L1L2`` both
(Keras 3 defaults: ``L1(0.01)``, ``L2(0.01)``, ``L1L2(0.0, 0.0)``). The penalty
is one fused op, ``ops.l1_l2_penalty`` (one graph node per weight).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet import ops
from glassnet._registry import Registry, without_keras_only
from glassnet.autograd import Tensor

_registry = Registry("regularizer", module="keras.regularizers")


def _check(value: Any, name: str) -> float:
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < 0:
        raise ValueError(
            f"`{name}` must be a non-negative finite float. Received: {name}={value!r}"
        )
    return float(value)


class Regularizer:
    """Base class: ``__call__(weight) -> scalar Tensor``; ``get_config``."""

    def __call__(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**without_keras_only(cls, config))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


_registry.base = Regularizer


@_registry.register("l1_l2")
class L1L2(Regularizer):
    """``l1 sum(|w|) + l2 sum(w**2)``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _check(0.0 if l1 is None else l1, "l1")
        self.l2 = _check(0.0 if l2 is None else l2, "l2")

    def __call__(self, x: Tensor) -> Tensor:
        return ops.l1_l2_penalty(x, l1=self.l1, l2=self.l2)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


@_registry.register("l1")
class L1(L1L2):
    """``l1 sum(|w|)``."""

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


@_registry.register("l2")
class L2(L1L2):
    """l2 sum(w**2)."""

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


# Keras 3's lowercase aliases (``l1_l2`` is the class, defaults 0.0).
l1, l2, l1_l2 = L1, L2, L1L2


def get(identifier: Any) -> Any:
    """A regularizer from a name (``"l2"``), an instance, a class, a callable
    ``weight -> scalar Tensor`` or a config dict; ``None`` gives ``None``."""
    return _registry.get(identifier)


def serialize(regularizer: Regularizer) -> dict[str, Any]:
    """Keras 3's ``{"module", "class_name", "config", "registered_name"}``."""
    return _registry.serialize(regularizer)


def deserialize(config: dict[str, Any]) -> Any:
    return get(config)
