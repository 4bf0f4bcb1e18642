"""Random tensors with Keras 3's ``keras.random`` API, drawn from NumPy.

Every function takes ``seed=``, as in Keras:

- an int: the same numbers on every call with that seed (a stateless draw);
- a :class:`SeedGenerator`: the next numbers of its own reproducible
  sequence (each draw advances it), so ``SeedGenerator(1337)`` in a fresh
  process gives the same sequence again;
- None (the default): the next numbers of glassnet's global SeedGenerator,
  made from Python's ``random`` when first needed and dropped by
  :func:`glassnet.utils.set_random_seed`, so a program that calls that first
  draws the same numbers on every run.

The numbers are NumPy's (``numpy.random.default_rng``), not a Keras
backend's (Keras's backends do not agree with one another either). Results
are glassnet Tensors of ``dtype``: float32 by default, int32 for ``randint``
and ``categorical``. ``shuffle`` and ``dropout`` are differentiable through
their input.

>>> gen = glassnet.random.SeedGenerator(1337)
>>> a = glassnet.random.normal((2, 3), seed=gen)
>>> b = glassnet.random.normal((2, 3), seed=gen)   # the next draw: not a
"""

from __future__ import annotations

import itertools
import random as python_random
from typing import Any

import numpy as np

from glassnet import ops
from glassnet.autograd import Tensor
from glassnet.initializers import _truncated_normal
from glassnet.ops.keras_core import FLOATX

__all__ = [
    "SeedGenerator",
    "beta",
    "binomial",
    "categorical",
    "dropout",
    "gamma",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]

_UINT64 = (1 << 64) - 1


def make_default_seed() -> int:
    """A seed for a SeedGenerator made without one (Keras's: from Python's
    ``random``, which ``set_random_seed`` seeds)."""
    return python_random.randint(1, int(1e9))


class SeedGenerator:
    """A reproducible sequence of seeds: the state ``[seed, count]``, where
    each draw uses the current state and then counts one up.

    Parameters
    ----------
    seed : int, optional
        Where the sequence starts; None takes one from Python's ``random``.
    name : str, optional
        A label (Keras's argument).
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs):
        kwargs.pop("backend", None)  # Keras's argument: there is one backend here
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        self._initial_seed = seed
        if seed is None:
            seed = make_default_seed()
        _check_seed(seed)
        self.name = name or "seed_generator"
        self.seed = int(seed)
        self._count = itertools.count()
        self._next = 0  # the count of the next draw

    @property
    def state(self) -> np.ndarray:
        """``[seed, count]`` of the next draw (as Keras's seed state)."""
        return np.array([self.seed & _UINT64, self._next], dtype=np.uint64)

    def next(self, ordered: bool = True) -> np.ndarray:
        """The state of this draw (then the count goes one up)."""
        # NOTE: next() on an itertools.count is atomic: threads never share a draw.
        count = next(self._count)
        self._next = count + 1
        return np.array([self.seed & _UINT64, count], dtype=np.uint64)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SeedGenerator:
        return cls(**config)

    def __repr__(self) -> str:
        return f"SeedGenerator(seed={self.seed}, next={self._next})"


def _check_seed(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(
            "Argument `seed` must be either an integer or an instance of "
            f"`SeedGenerator`. Received: seed={seed!r}"
        )


_global_generator: list[SeedGenerator | None] = [None]


def global_seed_generator() -> SeedGenerator:
    """The SeedGenerator that draws with ``seed=None`` use."""
    generator = _global_generator[0]
    if generator is None:
        generator = _global_generator[0] = SeedGenerator()
    return generator


def reset_global_seed_generator() -> None:
    """Drop the global SeedGenerator (``set_random_seed`` does): the next draw
    with ``seed=None`` makes a new one from Python's ``random``."""
    _global_generator[0] = None


def generator(seed: Any = None) -> np.random.Generator:
    """The NumPy generator of one draw with this ``seed`` (an int, a
    SeedGenerator or None: see the module's docstring)."""
    if isinstance(seed, SeedGenerator):
        state = seed.next()
    elif seed is None:
        state = global_seed_generator().next()
    else:
        _check_seed(seed)
        state = np.array([int(seed) & _UINT64, 0], dtype=np.uint64)
    return np.random.default_rng(state)


def _tensor(values: Any, dtype: Any) -> Tensor:
    return Tensor(np.asarray(values).astype(dtype or FLOATX))


def _float_dtype(dtype: Any, function: str) -> Any:
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise ValueError(
            f"`{function}` draws floats: `dtype` must be a float dtype. "
            f"Received: dtype={dtype!r}"
        )
    return dtype


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal values of ``mean`` and ``stddev``."""
    dtype = _float_dtype(dtype, "normal")
    return _tensor(generator(seed).normal(mean, stddev, shape), dtype)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Uniform values in ``[minval, maxval)``."""
    dtype = _float_dtype(dtype, "uniform")
    return _tensor(generator(seed).uniform(minval, maxval, shape), dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal values redrawn until within two ``stddev`` of ``mean``."""
    dtype = _float_dtype(dtype, "truncated_normal")
    values = _truncated_normal(generator(seed), shape)  # the initializers' rule
    return _tensor(mean + stddev * values, dtype)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers in ``[minval, maxval)``."""
    return _tensor(generator(seed).integers(minval, maxval, shape), dtype)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """``num_samples`` class indices per row of ``logits`` ``(batch, classes)``,
    drawn with probabilities ``softmax(logits)`` (the Gumbel-max trick)."""
    logits = np.asarray(getattr(logits, "data", logits), dtype=np.float64)
    if logits.ndim != 2:
        raise ValueError(
            "`logits` should be a 2-D tensor (batch, classes). "
            f"Received: logits.shape={logits.shape}"
        )
    noise = generator(seed).gumbel(size=(logits.shape[0], num_samples, logits.shape[1]))
    return _tensor(np.argmax(logits[:, None, :] + noise, axis=-1), dtype)


def gamma(shape, alpha, dtype=None, seed=None):
    """Gamma values of concentration ``alpha`` (scale 1)."""
    return _tensor(generator(seed).gamma(alpha, 1.0, shape), dtype)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Binomial counts of ``counts`` trials with success ``probabilities``."""
    return _tensor(generator(seed).binomial(counts, probabilities, shape), dtype)


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Beta values of concentrations ``alpha`` and ``beta``."""
    return _tensor(generator(seed).beta(alpha, beta, shape), dtype)


def shuffle(x, axis=0, seed=None):
    """``x`` with its entries along ``axis`` in a random order (differentiable:
    the gradient goes back to where each entry came from)."""
    size = ops.shape(x)[axis]
    return ops.take(x, generator(seed).permutation(size), axis=axis)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Each entry zeroed with probability ``rate``, the others divided by
    ``1 - rate`` (Keras's arithmetic); ``noise_shape`` (entries None take the
    input's size) shares one decision along its axes of size 1."""
    if not 0 <= rate <= 1:
        raise ValueError(
            f"`rate` must be a number between 0 and 1. Received: rate={rate!r}"
        )
    shape = ops.shape(inputs)
    if noise_shape is not None:
        shape = tuple(n if d is None else d for n, d in zip(shape, noise_shape))
    if rate == 1:
        return ops.multiply(inputs, 0.0)
    keep_prob = 1.0 - rate
    keep = generator(seed).random(shape) < keep_prob
    return ops.where(keep, ops.divide(inputs, keep_prob), 0.0)
