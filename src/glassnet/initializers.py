"""Weight initializers: ``initializer(shape, dtype="float32") -> ndarray``.

Every random initializer takes ``seed=``:

- ``None``: draw from NumPy's global random state (``np.random.seed`` makes it
  repeatable), a fresh draw on every call;
- an ``int``: Keras 3 style, the same int gives the same values on every call
  (the values are those of ``np.random.RandomState(seed)``);
- a ``numpy.random.RandomState`` or ``Generator``: drawn from and advanced, so
  ``RandomUniform(-b, b, seed=rs)((m, n), "float64")`` equals
  ``rs.uniform(-b, b, (m, n))`` bit for bit. This is how the scikit-learn
  estimators reproduce scikit-learn's initial weights.

Values are drawn in float64 and then cast to ``dtype``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet._registry import Registry, without_keras_only

_registry = Registry("initializer", module="keras.initializers")


def _check_shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(
            f"An initializer shape must be a tuple of ints. Received: shape={shape!r}"
        ) from None
    if any(d < 0 for d in shape):
        raise ValueError(
            f"An initializer shape must be non-negative. Received: shape={shape}"
        )
    return shape


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shape, the Keras way.

    Dense kernels ``(in, out)`` give ``(in, out)``; convolution kernels
    ``(*kernel_size, in_channels, out_channels)`` multiply both channel counts by
    the receptive field size ``prod(kernel_size)``; vectors give ``(n, n)`` and
    scalars ``(1, 1)``.
    """
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    receptive_field = math.prod(shape[:-2])
    return int(shape[-2] * receptive_field), int(shape[-1] * receptive_field)


class Initializer:
    """Base class: ``__call__(shape, dtype)`` returns a new array."""

    def __call__(self, shape: Any, dtype: Any = "float32") -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} does not define __call__")

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**without_keras_only(cls, config))

    def clone(self) -> Initializer:
        return type(self).from_config(self.get_config())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class RandomInitializer(Initializer):
    """Base of the random initializers: validates and resolves ``seed``."""

    def __init__(self, seed: Any = None) -> None:
        valid = (int, np.integer, np.random.RandomState, np.random.Generator)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, valid)):
            raise ValueError(
                f"`seed` must be None, an int, a numpy RandomState or a numpy "
                f"Generator. Received: seed={seed!r}"
            )
        self.seed = seed

    def _rng(self) -> Any:
        """An object with NumPy's sampling API (uniform, normal, standard_normal)."""
        if self.seed is None:
            return np.random  # the global RandomState, via the module functions
        if isinstance(self.seed, (int, np.integer)):
            return np.random.RandomState(int(self.seed))
        return self.seed

    def __call__(self, shape: Any, dtype: Any = "float32") -> np.ndarray:
        shape = _check_shape(shape)
        return np.asarray(self._draw(self._rng(), shape), dtype=dtype or "float32")

    def _draw(self, rng: Any, shape: tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        # NOTE: a RandomState / Generator cannot go into a JSON config.
        seed = self.seed if isinstance(self.seed, (int, np.integer)) else None
        return {"seed": None if seed is None else int(seed)}


def _truncated_normal(rng: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal values, redrawing those beyond two standard deviations."""
    values = rng.standard_normal(shape)
    bad = np.abs(values) > 2.0
    while bad.any():
        values[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(values) > 2.0
    return values


@_registry.register("uniform", "random_uniform")
class RandomUniform(RandomInitializer):
    """Uniform values in ``[minval, maxval)``."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Any = None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def _draw(self, rng, shape):
        return rng.uniform(self.minval, self.maxval, shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


@_registry.register("normal", "random_normal")
class RandomNormal(RandomInitializer):
    """Normal values with ``mean`` and ``stddev``."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Any = None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def _draw(self, rng, shape):
        return rng.normal(self.mean, self.stddev, shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


@_registry.register("truncated_normal")
class TruncatedNormal(RandomNormal):
    """Normal values, those more than two ``stddev`` from ``mean`` redrawn."""

    def _draw(self, rng, shape):
        return self.mean + self.stddev * _truncated_normal(rng, shape)


@_registry.register()
class VarianceScaling(RandomInitializer):
    """Values with variance ``scale / n``; ``n`` is fan_in, fan_out or their mean.

    ``distribution`` is ``"truncated_normal"`` (``"normal"`` means the same, as in
    Keras; the stddev is corrected for the truncation), ``"untruncated_normal"``
    or ``"uniform"`` (limit ``sqrt(3 scale / n)``).
    """

    _modes = ("fan_in", "fan_out", "fan_avg")
    _distributions = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: Any = None,
    ) -> None:
        super().__init__(seed)
        if not scale > 0:
            raise ValueError(f"`scale` must be positive. Received: scale={scale}")
        if mode not in self._modes:
            raise ValueError(f"`mode` must be one of {self._modes}. Received: {mode=}")
        distribution = str(distribution).lower()
        distribution = "truncated_normal" if distribution == "normal" else distribution
        if distribution not in self._distributions:
            raise ValueError(
                f"`distribution` must be one of {self._distributions}. "
                f"Received: distribution={distribution!r}"
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def _draw(self, rng, shape):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}
        scale = self.scale / max(1.0, n[self.mode])
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            return rng.uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(scale), shape)
        # NOTE: 0.8796... is the stddev of a unit normal truncated to [-2, 2].
        return math.sqrt(scale) / 0.87962566103423978 * _truncated_normal(rng, shape)

    def get_config(self):
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            **super().get_config(),
        }


def _variance_scaling(name: str, scale: float, mode: str, distribution: str) -> type:
    """A VarianceScaling subclass with fixed settings (its config is just seed)."""

    def __init__(self, seed: Any = None) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return RandomInitializer.get_config(self)

    doc = (
        f"VarianceScaling(scale={scale}, mode={mode!r}, distribution={distribution!r})."
    )
    cls = type(name, (VarianceScaling,), {"__init__": __init__, "__doc__": doc})
    cls.get_config = get_config
    cls.__module__ = __name__
    return _registry.register()(cls)


GlorotUniform = _variance_scaling("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _variance_scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _variance_scaling("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _variance_scaling("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _variance_scaling("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _variance_scaling("LecunNormal", 1.0, "fan_in", "truncated_normal")


@_registry.register("orthogonal", "orthogonal_initializer")
class Orthogonal(RandomInitializer):
    """A (reshaped) orthogonal matrix times ``gain``, from the QR of a normal draw.

    The shape is flattened to ``(prod(shape[:-1]), shape[-1])``; needs rank >= 2.
    """

    def __init__(self, gain: float = 1.0, seed: Any = None) -> None:
        super().__init__(seed)
        self.gain = gain

    def _draw(self, rng, shape):
        if len(shape) < 2:
            raise ValueError(
                "Orthogonal needs a shape of rank at least 2. "
                f"Received: shape={shape} of rank {len(shape)}"
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))  # NOTE: makes the result uniformly distributed
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


@_registry.register()
class Constant(Initializer):
    """Every entry equal to ``value`` (a scalar, or an array broadcast to shape)."""

    def __init__(self, value: Any = 0.0) -> None:
        self.value = value

    def __call__(self, shape: Any, dtype: Any = "float32") -> np.ndarray:
        shape = _check_shape(shape)
        try:
            return np.array(
                np.broadcast_to(self.value, shape), dtype=dtype or "float32"
            )
        except ValueError:
            raise ValueError(
                f"Constant value of shape {np.shape(self.value)} cannot fill shape "
                f"{shape}. Received: value={self.value!r}"
            ) from None

    def get_config(self):
        value = self.value
        return {"value": value.tolist() if isinstance(value, np.ndarray) else value}


@_registry.register("zeros")
class Zeros(Initializer):
    """All zeros (the default bias initializer)."""

    def __call__(self, shape: Any, dtype: Any = "float32") -> np.ndarray:
        return np.zeros(_check_shape(shape), dtype=dtype or "float32")


@_registry.register("ones")
class Ones(Initializer):
    """All ones."""

    def __call__(self, shape: Any, dtype: Any = "float32") -> np.ndarray:
        return np.ones(_check_shape(shape), dtype=dtype or "float32")


@_registry.register("identity", "IdentityInitializer")
class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: Any, dtype: Any = "float32") -> np.ndarray:
        shape = _check_shape(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D shape. Received: shape={shape}")
        return self.gain * np.eye(*shape, dtype=dtype or "float32")

    def get_config(self):
        return {"gain": self.gain}


def get(identifier: Any) -> Initializer | None:
    """An initializer from a name (``"glorot_uniform"`` or ``"GlorotUniform"``),
    an instance, a class, a callable ``(shape, dtype) -> array`` or a config dict.
    ``None`` gives ``None``."""
    return _registry.get(identifier)


def serialize(initializer: Initializer) -> dict[str, Any]:
    """Keras 3's ``{"module", "class_name", "config", "registered_name"}``, the
    inverse of :func:`get`."""
    return _registry.serialize(initializer)


def deserialize(config: dict[str, Any]) -> Initializer:
    return _registry.get(config)


# Keras's lowercase function-style aliases.
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal = HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
random_uniform, random_normal, truncated_normal = (
    RandomUniform,
    RandomNormal,
    TruncatedNormal,
)
zeros, ones, constant, orthogonal = Zeros, Ones, Constant, Orthogonal
