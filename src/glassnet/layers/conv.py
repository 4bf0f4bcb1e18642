"""Convolution layers: Conv2D, Conv1D and Conv2DTranspose (channels-last,
Keras arguments)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import activations, ops
from glassnet.autograd import Tensor
from glassnet.layers.base import Layer
from glassnet.layers.core import _activation_name, _get_activation, _serialize
from glassnet.ops.geometry import (
    conv_output_length,
    conv_transpose_output_length,
    normalize_tuple,
)


def check_data_format(data_format: Any) -> str:
    """Only channels-last images are supported (Keras's default)."""
    if data_format not in (None, "channels_last"):
        raise ValueError(
            "glassnet layers work on channels-last data only. "
            f"Received: data_format={data_format!r}"
        )
    return "channels_last"


def spatial_output_shape(layer, input_shape, sizes, strides, dilations=None):
    """Keras's output lengths of the spatial axes (``None`` stays ``None``);
    raises when a window does not fit."""
    dilations = dilations or (1,) * len(sizes)
    spatial = tuple(
        conv_output_length(n, k, layer.padding, s, d)
        for n, k, s, d in zip(input_shape[1:-1], sizes, strides, dilations)
    )
    if any(n is not None and n <= 0 for n in spatial):
        raise ValueError(
            f"Computed output size of layer {layer.name!r} would be zero or "
            f"negative. Received: input_shape={tuple(input_shape)}, window "
            f"size={tuple(sizes)}, padding={layer.padding!r}"
        )
    return spatial


_CONFIG = ("filters", "kernel_size", "strides", "padding", "data_format")
_CONFIG += ("dilation_rate", "use_bias")
_SERIALIZED = ("kernel_initializer", "bias_initializer")
_SERIALIZED += ("kernel_regularizer", "bias_regularizer")


def _check_arguments(layer: Any, filters: Any, padding: Any) -> None:
    """Keras's checks of a convolution's arguments; errors say what came."""
    integer = isinstance(filters, (int, np.integer)) and not isinstance(filters, bool)
    if not integer or filters <= 0:
        raise ValueError(
            "Invalid value for argument `filters`. Expected a strictly positive "
            f"integer. Received: filters={filters!r}"
        )
    if layer.padding not in layer.paddings:
        raise ValueError(
            f"The `padding` argument must be one of {layer.paddings}. "
            f"Received: padding={padding!r}"
        )
    if max(layer.strides) > 1 and max(layer.dilation_rate) > 1:
        raise ValueError(
            "`strides > 1` is not supported together with `dilation_rate > 1` "
            f"(as in Keras). Received: strides={layer.strides} and "
            f"dilation_rate={layer.dilation_rate}"
        )


class _Conv(Layer):
    """Shared lifecycle of Conv1D and Conv2D; ``rank`` is the number of spatial
    axes and ``paddings`` the accepted padding names."""

    rank = 2
    input_ndim = 4
    paddings: tuple[str, ...] = ("valid", "same")
    keras_only = {"groups": 1, "kernel_constraint": None, "bias_constraint": None}

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
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
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = normalize_tuple(strides, self.rank, "strides")
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate")
        self.padding = padding.lower() if isinstance(padding, str) else padding
        _check_arguments(self, filters, padding)
        self.filters = int(filters)
        self.data_format = check_data_format(data_format)
        self.activation = _get_activation(activation)
        self._configure_kernel_and_bias(
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
        )

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != self.rank + 2 or input_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} expects inputs of rank "
                f"{self.rank + 2} (batch, *spatial, channels) with known channels. "
                f"Received: input_shape={input_shape}"
            )
        self.compute_output_shape(input_shape)  # raises when the kernel won't fit
        shape = self.kernel_shape(input_shape[-1])
        self.kernel = self.add_weight(
            name="kernel",
            shape=shape,
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )

    def kernel_shape(self, channels: int) -> tuple[int, ...]:
        """``(*kernel_size, channels, filters)``: Keras's kernel layout."""
        return (*self.kernel_size, channels, self.filters)

    @property
    def fused_activation(self) -> str | None:
        """'relu' when the activation is relu, which the convolution op then
        applies itself (in place, in the fast kernel), else None."""
        return "relu" if self.activation is activations.relu else None

    def _convolve(self, op, x: Tensor, **fused) -> Tensor:
        activation = self.fused_activation
        y = op(
            x,
            self.kernel,
            self.bias,
            strides=self.strides,
            padding=self.padding,
            dilation_rate=self.dilation_rate,
            activation=activation,
            **fused,
        )
        return y if self.activation is None or activation else self.activation(y)

    def compute_output_shape(self, input_shape):
        spatial = spatial_output_shape(
            self, input_shape, self.kernel_size, self.strides, self.dilation_rate
        )
        return (input_shape[0], *spatial, self.filters)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), **{k: getattr(self, k) for k in _CONFIG}}
        config["activation"] = _activation_name(self.activation)
        for key in _SERIALIZED:
            config[key] = _serialize(getattr(self, key))
        return config


class Conv2D(_Conv):
    """2-D convolution of channels-last images, one fused ``ops.conv2d`` node:
    ``y[n, i, j, f] = activation(sum_{a, b, c} x[n, s*i + d*a, s*j + d*b, c]
    * kernel[a, b, c, f] + bias[f])``.

    Arguments: ``filters``, ``kernel_size`` (int or pair), ``strides`` (default 1),
    ``padding`` ('valid' or 'same': the odd extra pad goes bottom/right, as in
    Keras), ``dilation_rate``, ``activation``, ``use_bias``, ``kernel_initializer``
    ("glorot_uniform"), ``bias_initializer`` ("zeros"), ``kernel_regularizer``,
    ``bias_regularizer`` and the base Layer keywords (``input_shape``, ``name``).

    Input ``(batch, height, width, channels)``; output
    ``(batch, new_height, new_width, filters)``; kernel ``(kh, kw, channels,
    filters)``.

    >>> Conv2D(4, (3, 3), input_shape=(32, 32, 1))  # 3*3*1*4 + 4 = 40 params,
    ... # output (None, 30, 30, 4)
    """

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return self._convolve(ops.conv2d, x)

    def call_pooled(self, x: Tensor, pool_size: tuple[int, int]) -> Tensor:
        """This layer then a tiling ``pool_size`` max pool, as one node (see
        :mod:`glassnet.layers.fusion`); needs no activation or relu."""
        return self._convolve(ops.conv2d, x, pool_size=pool_size)


class Conv1D(_Conv):
    """1-D convolution of (batch, steps, channels) sequences with a
    ``(kernel_size, channels, filters)`` kernel; same arguments as Conv2D with
    integers for sizes, and ``padding`` 'valid', 'same' or 'causal' (all the
    padding on the left, so step t sees only steps <= t).

    Output ``(batch, new_steps, filters)``.
    """

    rank = 1
    input_ndim = 3
    paddings = ("valid", "same", "causal")

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return self._convolve(ops.conv1d, x)


def _output_padding(value: Any, strides: tuple[int, ...]) -> tuple[int, ...] | None:
    """Keras's check of a transposed convolution's ``output_padding``: None, or
    non-negative ints each smaller than its stride."""
    if value is None:
        return None
    extras = normalize_tuple(value, len(strides), "output_padding", allow_zero=True)
    for i, (extra, stride) in enumerate(zip(extras, strides)):
        if extra >= stride:
            raise ValueError(
                "`output_padding` must be strictly less than `strides` for all "
                f"dimensions. At dimension {i}, `output_padding` is {extra} but "
                f"`strides` is {stride}. Received: output_padding={extras}, "
                f"strides={strides}"
            )
    return extras


class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution ("deconvolution"), one ``ops.conv2d_transpose``
    node: each input pixel spreads ``x[n, i, j] @ kernel[a, b].T`` over the output
    pixels ``(s*i + d*a, s*j + d*b)`` (the input-gradient of a Conv2D), then the
    bias and the activation.

    Arguments are Conv2D's, plus ``output_padding`` (None, an int or a pair, each
    smaller than its stride): 'valid' gives ``new_height = (height - 1) * sh +
    max(kh_dilated, sh)``, 'same' ``new_height = height * sh``, and an
    ``output_padding`` sets ``(height - 1) * sh + kh_dilated % 2 +
    output_padding`` ('same') or replaces the ``max`` ('valid'), as in Keras.

    Input ``(batch, height, width, channels)``; output ``(batch, new_height,
    new_width, filters)``; kernel ``(kh, kw, filters, channels)`` (Keras's layout).

    >>> Conv2DTranspose(8, 3, strides=2, padding="same")  # (None, 7, 7, 16) ->
    ... # (None, 14, 14, 8), 3*3*8*16 + 8 = 1160 params
    """

    keras_only = {"kernel_constraint": None, "bias_constraint": None}

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        output_padding: Any = None,
        data_format: str | None = None,
        dilation_rate: Any = (1, 1),
        activation: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            **kwargs,
        )
        self.output_padding = _output_padding(output_padding, self.strides)

    def kernel_shape(self, channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, self.filters, channels)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        y = ops.conv2d_transpose(
            x,
            self.kernel,
            self.bias,
            strides=self.strides,
            padding=self.padding,
            output_padding=self.output_padding,
            dilation_rate=self.dilation_rate,
        )
        return y if self.activation is None else self.activation(y)

    def compute_output_shape(self, input_shape):
        extras = self.output_padding or (None, None)
        spatial = tuple(
            conv_transpose_output_length(n, k, self.padding, extra, s, d)
            for n, k, extra, s, d in zip(
                input_shape[1:3],
                self.kernel_size,
                extras,
                self.strides,
                self.dilation_rate,
            )
        )
        if any(n is not None and n <= 0 for n in spatial):
            raise ValueError(
                f"Computed output size of layer {self.name!r} would be zero or "
                f"negative. Received: input_shape={tuple(input_shape)}, "
                f"output_padding={self.output_padding}"
            )
        return (input_shape[0], *spatial, self.filters)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "output_padding": self.output_padding,
            "activity_regularizer": _serialize(self.activity_regularizer),
        }
