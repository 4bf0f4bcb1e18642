"""Learning-rate schedules: Keras 3's ``keras.optimizers.schedules``.

Also reachable as ``glassnet.optimizers.schedules``, Keras's name:

>>> schedule = glassnet.optimizers.schedules.ExponentialDecay(
...     initial_learning_rate=0.1, decay_steps=1000, decay_rate=0.9)
>>> optimizer = glassnet.optimizers.SGD(learning_rate=schedule)

A schedule is a callable ``schedule(step) -> learning rate``. Every optimizer
takes one as ``learning_rate`` and calls it at each update with its
``iterations`` -- the number of updates it made before this one, so 0 for the
first -- exactly as Keras's optimizers do (and the same rate serves the
weight decay of that update). An optimizer's config holds its schedule in
Keras's layout (``{"module": "keras.optimizers.schedules", "class_name",
"config", "registered_name"}``), so a model compiled with one saves and loads
with it, in glassnet and in Keras. A schedule of your own subclasses
:class:`LearningRateSchedule` (``__call__`` and ``get_config``) and is
registered with ``glassnet.saving.register_keras_serializable`` to be saved.

The rates are computed in float64 and returned as Python floats; Keras
computes them in float32, and the two agree to float32's precision.
"""

from __future__ import annotations

import math
from typing import Any

from glassnet._registry import Registry, custom_object_scope

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "serialize",
]

_registry = Registry(
    "learning rate schedule", instantiate=False, module="keras.optimizers.schedules"
)


class LearningRateSchedule:
    """Base class: ``__call__(step)`` gives the learning rate of update number
    ``step`` (from 0); ``get_config()`` the arguments that make it again
    (``from_config(config)`` is ``cls(**config)``)."""

    def __call__(self, step: Any) -> float:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override "
            "`__call__(self, step)`."
        )

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override "
            "`get_config()` in order to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        return cls(**config)

    def __repr__(self) -> str:
        try:
            config = self.get_config()
        except NotImplementedError:
            return f"<{type(self).__name__}>"
        arguments = ", ".join(f"{k}={v!r}" for k, v in config.items())
        return f"{type(self).__name__}({arguments})"


def _check_steps(name: str, value: Any) -> None:
    if not value > 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class _StepDecay(LearningRateSchedule):
    """The arguments ExponentialDecay and InverseTimeDecay share, and their
    progress ``step / decay_steps`` (rounded down with ``staircase``)."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
        name: str | None = None,
    ) -> None:
        _check_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = type(self).__name__ if name is None else name

    def _progress(self, step: Any) -> float:
        p = float(step) / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


@_registry.register()
class ExponentialDecay(_StepDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``; with
    ``staircase`` the exponent is rounded down (a step every ``decay_steps``)."""

    def __call__(self, step: Any) -> float:
        return self.initial_learning_rate * self.decay_rate ** self._progress(step)


@_registry.register()
class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last
    boundary (``boundaries`` increasing, one fewer than ``values``)."""

    def __init__(
        self, boundaries: list, values: list, name: str = "PiecewiseConstant"
    ) -> None:
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of "
                f"values. Received: boundaries={boundaries} of length "
                f"{len(boundaries)}, and values={values} of length {len(values)}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step: Any) -> float:
        step = float(step)
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


@_registry.register()
class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` over
    ``decay_steps`` as ``(1 - step / decay_steps) ** power``, then constant; with
    ``cycle`` it decays again over the next multiple of ``decay_steps``."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ) -> None:
        _check_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: Any) -> float:
        step, steps = float(step), float(self.decay_steps)
        if self.cycle:
            steps *= 1.0 if step == 0 else math.ceil(step / self.decay_steps)
        else:
            step = min(step, steps)
        span = self.initial_learning_rate - self.end_learning_rate
        return span * (1 - step / steps) ** self.power + self.end_learning_rate

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


@_registry.register()
class InverseTimeDecay(_StepDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``; with
    ``staircase`` the ratio ``step / decay_steps`` is rounded down."""

    def __call__(self, step: Any) -> float:
        return self.initial_learning_rate / (1 + self.decay_rate * self._progress(step))


def _cosine(fraction: float, alpha: float) -> float:
    """The cosine curve from 1 (fraction 0) down to ``alpha`` (fraction 1)."""
    return (1 - alpha) * 0.5 * (1.0 + math.cos(math.pi * fraction)) + alpha


@_registry.register()
class CosineDecay(LearningRateSchedule):
    """A cosine from the start rate down to ``alpha`` times it over
    ``decay_steps``, then constant (SGDR, Loshchilov & Hutter 2016).

    Without ``warmup_target`` the start rate is ``initial_learning_rate``.
    With it, the rate first rises linearly from ``initial_learning_rate`` to
    ``warmup_target`` over ``warmup_steps``, and the cosine starts from
    ``warmup_target`` (Keras 3's warmup).
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: float = 0,
    ) -> None:
        _check_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target

    def __call__(self, step: Any) -> float:
        step = float(step)
        if self.warmup_target is None:
            fraction = min(step, self.decay_steps) / self.decay_steps
            return self.initial_learning_rate * _cosine(fraction, self.alpha)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            rise = self.warmup_target - self.initial_learning_rate
            return rise * (step / self.warmup_steps) + self.initial_learning_rate
        fraction = (step - self.warmup_steps) / self.decay_steps
        return self.warmup_target * _cosine(fraction, self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


@_registry.register()
class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decays that restart: the first over ``first_decay_steps``, each
    next one ``t_mul`` times longer and starting ``m_mul`` times lower; each
    ends at ``alpha`` times its start."""

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: float,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ) -> None:
        _check_steps("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step: Any) -> float:
        fraction = float(step) / self.first_decay_steps
        t_mul = self._t_mul
        if t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            # NOTE: the restarts before ``step`` end at sum(t_mul**i): invert it
            before = 1.0 - fraction * (1.0 - t_mul)
            restart = math.floor(math.log(before) / math.log(t_mul))
            done = (1.0 - t_mul**restart) / (1.0 - t_mul)
            fraction = (fraction - done) / t_mul**restart
        start = self._m_mul**restart
        cosine = 0.5 * start * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


def serialize(learning_rate_schedule: Any) -> dict[str, Any]:
    """Keras 3's ``{"module", "class_name", "config", "registered_name"}``."""
    return _registry.serialize(learning_rate_schedule)


def deserialize(config: dict[str, Any], custom_objects: dict | None = None) -> Any:
    """The schedule a :func:`serialize` dict describes (a user's schedule must be
    registered or given in ``custom_objects``)."""
    with custom_object_scope(custom_objects):
        return _registry.get(config)
