"""Activation layers with their own arguments, as Keras 3 has them: ``ReLU``
(capped, leaky, thresholded), ``LeakyReLU``, ``ELU`` and ``Softmax`` over an
axis. Each applies a plain op elementwise (``Softmax`` along ``axis``); the
output has the input's shape. ``Activation("relu")`` covers the plain cases;
these exist for the arguments Keras code passes them.
"""

from __future__ import annotations

from typing import Any

from glassnet import ops
from glassnet.autograd import Tensor
from glassnet.layers.base import Layer


def _at_least_zero(value: Any, name: str, layer: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(
            f"{layer}: `{name}` must be a number >= 0. Received: {name}={value!r}"
        )
    return float(value)


class ReLU(Layer):
    """Keras's relu with arguments, in its order of steps: ``x`` where
    ``x > threshold`` (else 0), clipped to ``[0, max_value]`` when there is a
    cap, minus ``negative_slope * relu(threshold - x)``.

    Defaults give the plain relu. The gradient is 1, 0 or ``negative_slope``
    piece by piece.
    """

    supports_masking = True

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_value = (
            None
            if max_value is None
            else _at_least_zero(max_value, "max_value", "ReLU")
        )
        self.negative_slope = _at_least_zero(negative_slope, "negative_slope", "ReLU")
        self.threshold = _at_least_zero(threshold, "threshold", "ReLU")

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if self.threshold == 0:
            y = ops.relu(x)
        else:
            y = x * (x.data > self.threshold).astype(x.dtype)
        if self.max_value is not None:
            y = ops.clip(y, 0.0, self.max_value)
        if self.negative_slope != 0:
            y = y - ops.relu(self.threshold - x) * self.negative_slope
        return y

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class LeakyReLU(Layer):
    """``x`` for ``x >= 0``, ``negative_slope * x`` below (Keras 3's default
    slope 0.3)."""

    supports_masking = True

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.negative_slope = _at_least_zero(
            negative_slope, "negative_slope", "LeakyReLU"
        )

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return ops.leaky_relu(x, negative_slope=self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` below."""

    supports_masking = True

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return ops.elu(x, alpha=self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """``exp(x) / sum(exp(x))`` along ``axis`` (an int, or a list of them)."""

    supports_masking = True

    def __init__(self, axis: int | list[int] = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if isinstance(self.axis, int):
            return ops.softmax(x, axis=self.axis)
        axes = tuple(self.axis)
        shifted = x - x.data.max(axis=axes, keepdims=True)
        e = ops.exp(shifted)
        return e / ops.sum(e, axis=axes, keepdims=True)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}
