"""Core layers: Input, Dense, Activation, Dropout, Flatten, Reshape."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet import activations, ops
from glassnet._registry import dtype_policy_name, serialize_object
from glassnet.autograd import Tensor
from glassnet.layers.base import KerasTensor, Layer, standardize_shape
from glassnet.layers.node import Node
from glassnet.random import make_default_seed


def _get_activation(activation: Any) -> Any:
    """The activation callable, or None for the identity (no graph node at all)."""
    if activation is None or activation == "linear":
        return None
    fn = activations.get(activation)
    return None if getattr(fn, "__name__", None) == "linear" else fn


def _activation_name(fn: Any) -> Any:
    if fn is None:
        return "linear"
    serialize = getattr(activations, "serialize", None)
    if serialize is not None:
        return serialize(fn)
    return getattr(fn, "__name__", repr(fn))


def _serialize(obj: Any) -> Any:
    """An initializer or regularizer in Keras 3's config layout (or None)."""
    return None if obj is None else serialize_object(obj)


class InputLayer(Layer):
    """The entry of a model: holds the shape of one sample, does nothing else.

    Use :func:`Input` to get the symbolic tensor to build models with. Its
    ``dtype`` may be an integer type (indices for an ``Embedding``).
    """

    keras_only = {"sparse": False, "ragged": False}

    def __init__(
        self,
        shape: Any = None,
        batch_size: int | None = None,
        dtype: Any = None,
        batch_shape: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if "input_shape" in kwargs and shape is None:
            shape = kwargs.pop("input_shape")
        if kwargs.get("optional"):
            raise NotImplementedError(
                "Optional inputs (None in place of an array) are not supported "
                "by glassnet. Received: optional=True"
            )
        kwargs.pop("optional", None)
        if shape is None and batch_shape is None:
            raise ValueError(
                "InputLayer needs a `shape` (of one sample, without the batch axis). "
                "Received: shape=None"
            )
        if batch_shape is None:
            batch_shape = (batch_size, *standardize_shape(shape, "shape"))
        dtype = dtype_policy_name(dtype)
        integer = dtype is not None and _is_integer(dtype)
        super().__init__(
            name=name,
            dtype=None if integer else dtype,
            batch_input_shape=batch_shape,
            **kwargs,
        )
        if integer:
            self._dtype = np.dtype(dtype)
        self.batch_shape = self._batch_input_shape
        self.built = True
        self._build_shape = self.batch_shape
        Node(self, outputs=KerasTensor(self.batch_shape, self._dtype, self.name))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("trainable", None)
        # NOTE: Keras writes an InputLayer's dtype as a plain name
        return {**config, "dtype": self.dtype, "batch_shape": self.batch_shape}

    def get_build_config(self) -> None:
        return None


def _is_integer(dtype: Any) -> bool:
    try:
        return np.dtype(dtype).kind in "iub"
    except TypeError:
        return False


def Input(  # noqa: N802  (Keras spelling)
    shape: Any = None,
    batch_size: int | None = None,
    dtype: Any = None,
    batch_shape: Any = None,
    name: str | None = None,
) -> KerasTensor:
    """A symbolic input of ``shape`` (one sample) for ``Sequential``/``Model``."""
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        batch_shape=batch_shape,
        name=name,
    )
    return layer.output


class Dense(Layer):
    """Fully connected layer: ``y = activation(x @ kernel + bias)``.

    One fused ``ops.linear`` node (relu, tanh and sigmoid included in it; other
    activations add their own node).

    Arguments: ``units`` (positive int), ``activation`` (name or callable, default
    identity), ``use_bias``, ``kernel_initializer`` (default "glorot_uniform"),
    ``bias_initializer`` (default "zeros"), ``kernel_regularizer``,
    ``bias_regularizer``, ``activity_regularizer``, and the base Layer keywords
    (``input_dim``, ``input_shape``, ``name``, ``dtype``, ``trainable``).

    Input shape ``(batch, ..., input_dim)`` (any rank >= 2: the kernel applies
    to the last axis, as in Keras); output ``(batch, ..., units)``.

    >>> Dense(4, activation="relu", input_dim=1024)  # 1024 * 4 + 4 = 4100 params
    """

    supports_masking = True

    keras_only = {"kernel_constraint": None, "bias_constraint": None}

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)):
            raise ValueError(
                "Received an invalid value for `units`, expected a positive "
                f"integer. Received: units={units!r}"
            )
        if units <= 0:
            raise ValueError(
                "Received an invalid value for `units`, expected a positive "
                f"integer. Received: units={units}"
            )
        self.units = int(units)
        self.activation = _get_activation(activation)
        # relu / tanh / sigmoid run inside the linear node (ops.linear fuses them).
        fusable = (
            (activations.relu, "relu"),
            (activations.tanh, "tanh"),
            (activations.sigmoid, "sigmoid"),
        )
        self._fused = next((n for f, n in fusable if self.activation is f), None)
        self._configure_kernel_and_bias(
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
        )

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if not input_shape or input_shape[-1] is None:
            raise ValueError(
                f"Dense layer {self.name!r} needs the last axis of its input to be "
                f"known. Received: input_shape={input_shape}"
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )

    def check_input_shape(self, shape: tuple[int | None, ...]) -> None:
        """Keras's input spec of Dense: rank >= 2, the last axis as built."""
        features = self._build_shape[-1]  # the kernel's rows (set_weights keeps them)
        if len(shape) < 2 or shape[-1] not in (None, features):
            raise ValueError(
                f"Input of layer {self.name!r} (Dense) is incompatible with the "
                f"layer: expected shape={self._build_shape} (min_ndim=2, axis -1 "
                f"of size {features}), found shape={tuple(shape)}"
            )

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if self._fused is not None:
            return ops.linear(x, self.kernel, self.bias, activation=self._fused)
        y = ops.linear(x, self.kernel, self.bias)
        return y if self.activation is None else self.activation(y)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": _activation_name(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _serialize(self.kernel_initializer),
            "bias_initializer": _serialize(self.bias_initializer),
            "kernel_regularizer": _serialize(self.kernel_regularizer),
            "bias_regularizer": _serialize(self.bias_regularizer),
        }


class Activation(Layer):
    """Applies an activation function elementwise: ``y = activation(x)``.

    ``activation`` is a name ("relu", "tanh", ...) or a callable Tensor -> Tensor.
    Any input shape; the output has the same shape.
    """

    supports_masking = True

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = _get_activation(activation)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return x if self.activation is None else self.activation(x)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": _activation_name(self.activation)}


class Dropout(Layer):
    """Inverted dropout: in training, zero each input with probability ``rate`` and
    scale the rest by ``1 / (1 - rate)``; identity at inference.

    ``y = x * mask / (1 - rate)``;  ``dL/dx = g * mask / (1 - rate)``.
    ``noise_shape`` (batch axis may be None) shares one mask along axes of size 1;
    ``seed`` makes the masks reproducible (without it, so does
    ``glassnet.utils.set_random_seed``).
    """

    supports_masking = True

    def __init__(
        self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(
                "Invalid value received for argument `rate`. Expected a float value "
                f"between 0 and 1. Received: rate={rate!r}"
            )
        if noise_shape is not None and not isinstance(noise_shape, (list, tuple)):
            raise ValueError(
                "`noise_shape` must be a tuple of sizes (None for the input's). "
                f"Received: noise_shape={noise_shape!r}"
            )
        self.rate = float(rate)
        self.noise_shape = (
            None
            if noise_shape is None
            else standardize_shape(noise_shape, "noise_shape")
        )
        self.seed = seed
        # NOTE: without a seed, one from Python's random, as Keras draws it: so
        # glassnet.utils.set_random_seed makes the masks repeat.
        self._rng = np.random.default_rng(make_default_seed() if seed is None else seed)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        if not training or self.rate == 0:
            return x
        shape = x.data.shape
        if self.noise_shape is not None:
            shape = tuple(
                n if d is None else d for n, d in zip(shape, self.noise_shape)
            )
        if self.rate == 1:
            return ops.mul(x, np.zeros(shape, dtype=x.data.dtype))
        keep = self._rng.random(shape, dtype=np.float32) >= self.rate
        scale = np.asarray(1.0 / (1.0 - self.rate), dtype=x.data.dtype)
        return ops.mul(x, keep * scale)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "rate": self.rate,
            "noise_shape": self.noise_shape,
            "seed": self.seed,
        }


def _product(dims: tuple[int | None, ...]) -> int | None:
    return None if any(d is None for d in dims) else math.prod(dims)


class Flatten(Layer):
    """Flattens every axis but the batch: ``(batch, d1, d2, ...)`` ->
    ``(batch, d1 * d2 * ...)``."""

    keras_only = {"data_format": "channels_last"}

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return ops.reshape(x, (x.data.shape[0], -1))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], _product(tuple(input_shape)[1:]))


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one entry may be -1).

    Input ``(batch, ...)``; output ``(batch, *target_shape)``.
    """

    def __init__(self, target_shape: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        integers = isinstance(target_shape, (list, tuple)) and all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool)
            for d in target_shape
        )
        target = tuple(int(d) for d in target_shape) if integers else (0,)
        if sum(d == -1 for d in target) > 1 or any(d < -1 or d == 0 for d in target):
            raise ValueError(
                "Reshape's target_shape needs a tuple of positive integers, with "
                "at most one -1. "
                f"Received: target_shape={target_shape!r}"
            )
        self.target_shape = target

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return ops.reshape(x, (x.data.shape[0], *self.target_shape))

    def compute_output_shape(self, input_shape):
        target = self.target_shape
        size = _product(tuple(input_shape)[1:])
        if -1 in target and size is not None:
            known = math.prod(d for d in target if d != -1)
            target = tuple(size // known if d == -1 else d for d in target)
        elif -1 in target:
            target = tuple(None if d == -1 else d for d in target)
        if size is not None and -1 not in target and math.prod(target) != size:
            raise ValueError(
                f"Layer {self.name!r} cannot reshape samples of shape "
                f"{tuple(input_shape)[1:]} ({size} values) to {self.target_shape}."
            )
        return (input_shape[0], *target)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": self.target_shape}
