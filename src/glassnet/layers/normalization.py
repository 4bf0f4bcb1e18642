"""BatchNormalization (``ops.batch_norm`` in training, the moving statistics
after) and LayerNormalization (``ops.layer_norm``, each sample its own)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import initializers, ops, regularizers
from glassnet.autograd import Tensor
from glassnet.layers.base import Layer
from glassnet.layers.core import _serialize


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


class _Normalization(Layer):
    """What BatchNormalization and LayerNormalization share: the feature
    ``axis`` (int or list), ``epsilon``, and a learned scale ``gamma`` (when
    ``scale``) and shift ``beta`` (when ``center``) shaped like those axes."""

    supports_masking = True

    def __init__(  # LayerNormalization's signature (and Keras defaults)
        self,
        axis: int | list[int] = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or not all(_is_int(a) for a in axes):
            raise TypeError(
                "Expected an int or a list/tuple of ints for the argument 'axis'. "
                f"Received: axis={axis!r}"
            )
        if not _is_number(epsilon) or epsilon <= 0:
            raise ValueError(
                f"`epsilon` must be a number > 0. Received: epsilon={epsilon!r}"
            )
        self.axis = (
            [int(a) for a in axes] if isinstance(axis, (list, tuple)) else int(axis)
        )
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.gamma = self.beta = None

    def _build_affine(self, input_shape: tuple[int | None, ...]) -> tuple[int, ...]:
        """Resolve the axes (``_axes`` sorted and non-negative, ``_broadcast``
        the weights' shape among the input's axes), create gamma and beta, and
        return their shape."""
        rank, kind = len(input_shape), type(self).__name__
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        if any(not -rank <= a < rank for a in axes):
            raise ValueError(
                f"{kind} {self.name!r}: axis {self.axis} is out of range for "
                f"inputs of shape {input_shape}. Received: axis={self.axis}"
            )
        self._axes = tuple(sorted(a % rank for a in axes))
        if any(input_shape[a] is None for a in self._axes):
            raise ValueError(
                f"{kind} {self.name!r} needs the size of axis {self.axis} to be "
                f"known. Received: input_shape={input_shape}"
            )
        # NOTE: Keras orders the weights' axes as the sorted `axis` values
        # (-1 before 1) and reshapes them onto the input's axes; so does this
        shape = tuple(input_shape[a] for a in sorted(axes))
        self._broadcast = tuple(
            input_shape[i] if i in self._axes else 1 for i in range(rank)
        )
        if self.scale:
            self.gamma = self.add_weight(
                name="gamma",
                shape=shape,
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
            )
        if self.center:
            self.beta = self.add_weight(
                name="beta",
                shape=shape,
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
            )
        return shape

    def check_input_shape(self, shape):
        expected = self._build_shape
        if len(shape) != len(expected) or any(
            shape[a] != expected[a] for a in self._axes
        ):
            raise ValueError(
                f"Input of layer {self.name!r} ({type(self).__name__}) is "
                f"incompatible with the layer: expected shape={expected}, found "
                f"shape={shape}"
            )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": _serialize(self.beta_initializer),
            "gamma_initializer": _serialize(self.gamma_initializer),
            "beta_regularizer": _serialize(self.beta_regularizer),
            "gamma_regularizer": _serialize(self.gamma_regularizer),
        }


class BatchNormalization(_Normalization):
    """Normalizes each feature (along ``axis``) to zero mean and unit variance.

    Training: ``y = gamma * (x - mean_b) / sqrt(var_b + epsilon) + beta`` with the
    batch's statistics, and the moving statistics follow them:
    ``moving = moving * momentum + batch * (1 - momentum)``. Inference uses
    ``moving_mean`` and ``moving_variance`` (non-trainable weights) instead.

    Arguments (Keras's): ``axis=-1``, ``momentum=0.99``, ``epsilon=1e-3``,
    ``center`` (learn ``beta``), ``scale`` (learn ``gamma``), the four
    initializers and the beta/gamma regularizers. Any input shape; the output
    has the same shape. Parameters: ``4 * features`` (2 of them non-trainable).
    """

    keras_only = {
        "beta_constraint": None,
        "gamma_constraint": None,
        "synchronized": False,
        "renorm": False,
        "renorm_clipping": None,
        "renorm_momentum": 0.99,
    }

    def __init__(
        self,
        axis: int | list[int] = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        if not _is_number(momentum) or not 0 <= momentum <= 1:
            raise ValueError(
                "`momentum` must be a number in [0, 1]. "
                f"Received: momentum={momentum!r}"
            )
        super().__init__(
            axis,
            epsilon,
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
            **kwargs,
        )
        self.momentum = float(momentum)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        shape = self._build_affine(input_shape)
        self._reduce = tuple(i for i in range(len(input_shape)) if i not in self._axes)
        self.moving_mean = self.add_weight(
            name="moving_mean",
            shape=shape,
            initializer=self.moving_mean_initializer,
            trainable=False,
        )
        self.moving_variance = self.add_weight(
            name="moving_variance",
            shape=shape,
            initializer=self.moving_variance_initializer,
            trainable=False,
        )

    def _affine(self) -> tuple[Any, Any]:
        """gamma and beta broadcastable to the input (constants when disabled)."""
        one = np.ones(self._broadcast, dtype=self._dtype)
        gamma = ops.reshape(self.gamma, self._broadcast) if self.scale else one
        beta = ops.reshape(self.beta, self._broadcast) if self.center else one * 0
        return gamma, beta

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return self.call_fused(x, training)

    def call_fused(
        self,
        x: Tensor,
        training: bool = False,
        activation: str | None = None,
        pool_size: tuple[int, int] | None = None,
        conv: Any = None,
    ) -> Tensor:
        """This layer, then relu (``activation='relu'``) and a max pool over
        windows of ``pool_size`` that tile its output; with ``conv`` (a
        Conv2D without activation) that convolution of ``x`` first. In
        training one ``ops.batch_norm`` or ``ops.conv2d_batch_norm`` node
        (see :mod:`glassnet.layers.fusion`)."""
        gamma, beta = self._affine()
        fused = dict(activation=activation, pool_size=pool_size)
        if training:
            if conv is None:
                y, mean, var = ops.batch_norm(
                    x, gamma, beta, self._reduce, self.epsilon, True, **fused
                )
            else:
                y, mean, var = ops.conv2d_batch_norm(
                    x,
                    conv.kernel,
                    conv.bias,
                    gamma,
                    beta,
                    conv.strides,
                    conv.padding,
                    conv.dilation_rate,
                    self.epsilon,
                    True,
                    **fused,
                )
            m, shape = self.momentum, self.moving_mean.data.shape
            mm, mv = self.moving_mean, self.moving_variance
            mm.data[...] = mm.data * m + mean.reshape(shape) * (1.0 - m)
            mv.data[...] = mv.data * m + var.reshape(shape) * (1.0 - m)
            return y
        x = x if conv is None else conv.call(x)
        shape = self._broadcast
        mean = self.moving_mean.data.reshape(shape)
        inv_std = 1.0 / np.sqrt(self.moving_variance.data.reshape(shape) + self.epsilon)
        y = ops.add(ops.mul(ops.sub(x, mean), ops.mul(gamma, inv_std)), beta)
        if activation == "relu":
            y = ops.relu(y)
        return y if pool_size is None else ops.max_pool2d(y, pool_size)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "moving_mean_initializer": _serialize(self.moving_mean_initializer),
            "moving_variance_initializer": _serialize(self.moving_variance_initializer),
        }


class LayerNormalization(_Normalization):
    """Normalizes each sample over its feature axes (``axis``), independently of
    the batch: ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``, with the
    sample's own mean and (biased) variance; one ``ops.layer_norm`` node, the
    same in training and inference.

    Arguments (Keras's): ``axis`` (int or list, default -1), ``epsilon=1e-3``,
    ``center`` (learn ``beta``), ``scale`` (learn ``gamma``), the beta/gamma
    initializers and regularizers. ``gamma`` and ``beta`` have the shape of
    the normalized axes. Any input shape; the output has the same shape.

    >>> LayerNormalization()  # (None, 10, 32) -> (None, 10, 32), 64 params
    """

    keras_only = {
        "rms_scaling": False,
        "beta_constraint": None,
        "gamma_constraint": None,
    }

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self._build_affine(input_shape)
        self.axis = sorted(self.axis if isinstance(self.axis, list) else [self.axis])

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        gamma, beta = self.gamma, self.beta
        if self._axes != (x.data.ndim - 1,):  # weights broadcast along the others
            gamma = None if gamma is None else ops.reshape(gamma, self._broadcast)
            beta = None if beta is None else ops.reshape(beta, self._broadcast)
        return ops.layer_norm(x, gamma, beta, axes=self._axes, epsilon=self.epsilon)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
