"""Activation functions: Tensor -> Tensor, by name or as functions (Keras 3 names).

Each is one op from :mod:`glassnet.ops` or a composition of ops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glassnet import ops
from glassnet._registry import Registry
from glassnet.autograd import Tensor

_registry = Registry("activation", instantiate=False, module="keras.activations")
register = _registry.register


@register()
def linear(x: Tensor) -> Tensor:
    """y = x."""
    return x


@register()
def relu(
    x: Tensor,
    negative_slope: float = 0.0,
    max_value: float | None = None,
    threshold: float = 0.0,
) -> Tensor:
    """max(x, 0); Keras's optional ``negative_slope``, ``max_value``, ``threshold``."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    y = ops.where(x.data > threshold, x, negative_slope * (x - threshold))
    return y if max_value is None else ops.clip(y, None, max_value)


@register()
def relu6(x: Tensor) -> Tensor:
    """min(max(x, 0), 6)."""
    return ops.clip(x, 0.0, 6.0)


@register()
def tanh(x: Tensor) -> Tensor:
    return ops.tanh(x)


@register()
def sigmoid(x: Tensor) -> Tensor:
    return ops.sigmoid(x)


@register()
def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis`` (stable: the max is subtracted)."""
    return ops.softmax(x, axis=axis)


@register()
def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    return ops.log_softmax(x, axis=axis)


@register()
def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x if x > 0 else alpha (exp(x) - 1)."""
    return ops.elu(x, alpha=alpha)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@register()
def selu(x: Tensor) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants."""
    return _SELU_SCALE * ops.elu(x, alpha=_SELU_ALPHA)


@register()
def softplus(x: Tensor) -> Tensor:
    """log(1 + exp(x)), computed without overflow."""
    return ops.softplus(x)


@register()
def softsign(x: Tensor) -> Tensor:
    return ops.softsign(x)


@register()
def leaky_relu(x: Tensor, negative_slope: float = 0.2) -> Tensor:
    """x if x > 0 else negative_slope x (Keras 3 default slope 0.2)."""
    return ops.leaky_relu(x, negative_slope=negative_slope)


@register()
def gelu(x: Tensor, approximate: bool = False) -> Tensor:
    """x Phi(x), Phi the normal CDF via erf; ``approximate`` uses the tanh form."""
    return ops.gelu(x, approximate=approximate)


@register("swish", "silu")
def silu(x: Tensor) -> Tensor:
    """x sigmoid(x)."""
    return ops.silu(x)


swish = silu


@register()
def hard_sigmoid(x: Tensor) -> Tensor:
    """Keras 3: 0 for x < -3, 1 for x > 3, x / 6 + 0.5 between."""
    return ops.clip(x * (1.0 / 6.0) + 0.5, 0.0, 1.0)


@register("hard_silu", "hard_swish")
def hard_silu(x: Tensor) -> Tensor:
    """x hard_sigmoid(x)."""
    return x * hard_sigmoid(x)


@register()
def exponential(x: Tensor) -> Tensor:
    return ops.exp(x)


def get(identifier: Any) -> Callable[[Tensor], Tensor]:
    """An activation function from a name (``"relu"``), a callable or ``None``
    (which gives ``linear``)."""
    return _registry.get(identifier, default=linear)


def serialize(activation: Callable[[Tensor], Tensor]) -> Any:
    """The registered name of an activation (``"relu"``); a user function
    registered for saving gives Keras's function dict, other callables their
    ``__name__``."""
    name = _registry.name_of(activation)
    if name is not None:
        return name
    try:
        return _registry.serialize(activation)
    except (TypeError, ValueError):
        return getattr(activation, "__name__", repr(activation))


def deserialize(name: str) -> Callable[[Tensor], Tensor]:
    return get(name)
