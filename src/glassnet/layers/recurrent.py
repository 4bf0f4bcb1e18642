"""Recurrent layers: SimpleRNN, LSTM and GRU (Keras 3's, on glassnet's ops).

Each layer reads a sequence ``x`` of shape (batch, timesteps, features) one
step at a time, carrying a state of ``units`` values per sample from one step
to the next. The loop is plain Python over ``glassnet.ops``: the autograd
engine differentiates through every step (backpropagation through time).

What the three share (the loop, masks, ``go_backwards``, what is returned, the
config) is in :class:`_Recurrent`; each layer adds its weights and its
``step``. Weights have Keras's names, shapes and order (``kernel``,
``recurrent_kernel``, ``bias``; gates side by side in Keras's order), so
``layer.set_weights(keras_layer.get_weights())`` gives the same layer.

Masks (from ``Embedding(mask_zero=True)``, shape (batch, timesteps)): at a
step whose mask is False the state and the output stay as they were, as in
Keras (a masked step at the start gives zeros).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import initializers, ops, regularizers
from glassnet._registry import without_keras_only
from glassnet.autograd import Tensor
from glassnet.layers.base import Layer
from glassnet.layers.core import _activation_name, _get_activation, _serialize

# Keras arguments glassnet does not implement, accepted at these values only.
_NOT_IMPLEMENTED = {
    "kernel_constraint": None,
    "recurrent_constraint": None,
    "bias_constraint": None,
    "dropout": 0.0,
    "recurrent_dropout": 0.0,
    "stateful": False,
    "unroll": False,
    "zero_output_for_mask": False,
}


def _apply(activation: Any, x: Tensor) -> Tensor:
    """``activation(x)``; None is the identity."""
    return x if activation is None else activation(x)


def _columns(x: Tensor, index: int, units: int) -> Tensor:
    """The ``index``-th block of ``units`` columns of ``x`` (batch, k * units):
    one gate's share of a fused matrix product."""
    return x[:, index * units : (index + 1) * units]


class _Recurrent(Layer):
    """The loop over time steps shared by SimpleRNN, LSTM and GRU.

    A subclass sets ``state_count`` and ``gate_count`` (blocks of ``units``
    columns in its kernels), creates its weights in ``build`` and writes
    ``step(x_t, states) -> (output, states)`` for one time step, where ``x_t``
    is the input of that step already multiplied by ``kernel`` (plus the input
    bias) and ``states`` a list of (batch, units) Tensors.
    """

    keras_only = _NOT_IMPLEMENTED
    supports_masking = True
    input_ndim = 3
    state_count = 1
    gate_count = 1
    #: Keras keeps these weights in the layer's cell: a weights file has
    #: them under ``<layer>/cell/vars``, the group named ``<kind>_cell``
    weights_in_cell = True

    def __init__(
        self,
        units: int,
        activation: Any,
        use_bias: bool,
        kernel_initializer: Any,
        recurrent_initializer: Any,
        bias_initializer: Any,
        kernel_regularizer: Any,
        recurrent_regularizer: Any,
        bias_regularizer: Any,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs = without_keras_only(type(self), kwargs)
        super().__init__(**kwargs)
        integer = isinstance(units, (int, np.integer)) and not isinstance(units, bool)
        if not integer or units <= 0:
            raise ValueError(
                "Received an invalid value for argument `units`, expected a "
                f"positive integer. Received: units={units!r}"
            )
        self.units = int(units)
        self.activation = _get_activation(activation)
        self._configure_kernel_and_bias(
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
        )
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.recurrent_kernel: Tensor | None = None
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)

    def _build_kernels(self, input_shape: tuple[int | None, ...]) -> None:
        """``kernel`` (features, k units) and ``recurrent_kernel`` (units,
        k units), k = ``gate_count``."""
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} needs inputs of shape "
                "(batch, timesteps, features) with features known. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        width = self.gate_count * self.units
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_shape[-1], width),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units, width),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
        )

    def _input_bias(self) -> Tensor | None:
        """The bias added to ``x @ kernel`` (GRU's ``reset_after`` has two)."""
        return self.bias

    def step(self, x_t: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        raise NotImplementedError

    def call(self, inputs: Tensor, training: bool = False, mask: Any = None) -> Any:
        batch, steps = inputs.data.shape[:2]
        # NOTE: one product for all steps at once; the loop adds the recurrence.
        projected = ops.linear(inputs, self.kernel, self._input_bias())
        zeros = np.zeros((batch, self.units), dtype=inputs.data.dtype)
        states = [Tensor(zeros) for _ in range(self.state_count)]
        output = Tensor(zeros)
        mask = None if mask is None else np.asarray(getattr(mask, "data", mask))
        outputs = []
        order = reversed(range(steps)) if self.go_backwards else range(steps)
        for t in order:
            new_output, new_states = self.step(projected[:, t], states)
            if mask is not None:
                keep = mask[:, t, None].astype(bool)  # (batch, 1)
                new_output = ops.where(keep, new_output, output)
                new_states = [
                    ops.where(keep, new, old) for new, old in zip(new_states, states)
                ]
            output, states = new_output, new_states
            outputs.append(output)
        if self.return_sequences:
            # NOTE: in the order the steps ran (reversed for go_backwards), as Keras
            output = ops.stack(outputs, axis=1)
        return [output, *states] if self.return_state else output

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The input's mask goes on with the sequence (``return_sequences``);
        a last output or a state has none."""
        mask = previous_mask if self.return_sequences else None
        return [mask] + [None] * self.state_count if self.return_state else mask

    def compute_output_shape(self, input_shape: Any) -> Any:
        batch, steps = input_shape[0], input_shape[1]
        state = (batch, self.units)
        output = (batch, steps, self.units) if self.return_sequences else state
        return [output] + [state] * self.state_count if self.return_state else output

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "units": self.units,
            "activation": _activation_name(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _serialize(self.kernel_initializer),
            "recurrent_initializer": _serialize(self.recurrent_initializer),
            "bias_initializer": _serialize(self.bias_initializer),
            "kernel_regularizer": _serialize(self.kernel_regularizer),
            "recurrent_regularizer": _serialize(self.recurrent_regularizer),
            "bias_regularizer": _serialize(self.bias_regularizer),
            "activity_regularizer": _serialize(self.activity_regularizer),
        }


class SimpleRNN(_Recurrent):
    """Fully connected recurrence: ``h_t = activation(x_t @ kernel + bias +
    h_{t-1} @ recurrent_kernel)``, with ``h_0 = 0``.

    Arguments (Keras's): ``units``, ``activation`` ("tanh"), ``use_bias``,
    ``kernel_initializer`` ("glorot_uniform"), ``recurrent_initializer``
    ("orthogonal"), ``bias_initializer`` ("zeros"), the regularizers,
    ``return_sequences`` (every ``h_t``, not only the last), ``return_state``
    (also the last state: ``[output, h]``), ``go_backwards`` (read the steps
    last to first) and the base Layer keywords.

    Input (batch, timesteps, features); output (batch, units), or (batch,
    timesteps, units) with ``return_sequences``. Weights ``kernel`` (features,
    units), ``recurrent_kernel`` (units, units), ``bias`` (units,).

    >>> SimpleRNN(4)  # on (None, 10, 3): 3*4 + 4*4 + 4 = 32 params
    """

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            units,
            activation,
            use_bias,
            kernel_initializer,
            recurrent_initializer,
            bias_initializer,
            kernel_regularizer,
            recurrent_regularizer,
            bias_regularizer,
            **kwargs,
        )

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self._build_kernels(input_shape)
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )

    def step(self, x_t: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        (h,) = states
        h = _apply(self.activation, x_t + ops.matmul(h, self.recurrent_kernel))
        return h, [h]


class LSTM(_Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997): a cell ``c``
    that gates decide what to forget, what to write and what to show.

    With ``z = x_t @ kernel + h @ recurrent_kernel + bias`` cut into four
    blocks of ``units`` columns, in Keras's order i, f, c, o::

        i = recurrent_activation(z_i)        # input gate
        f = recurrent_activation(z_f)        # forget gate
        c = f * c + i * activation(z_c)      # new cell
        o = recurrent_activation(z_o)        # output gate
        h = o * activation(c)

    Arguments: those of :class:`SimpleRNN`, ``recurrent_activation``
    ("sigmoid"), ``unit_forget_bias`` (True: the forget gate's bias starts at
    1, so the cell remembers at first) and ``seed`` (kept for the config;
    glassnet has no recurrent dropout to seed). ``return_state`` gives
    ``[output, h, c]``.

    Input (batch, timesteps, features); output (batch, units) or (batch,
    timesteps, units). Weights ``kernel`` (features, 4 units),
    ``recurrent_kernel`` (units, 4 units), ``bias`` (4 units,).

    >>> LSTM(4)  # on (None, 10, 3): 4 * (3*4 + 4*4 + 4) = 128 params
    """

    state_count = 2
    gate_count = 4

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            units,
            activation,
            use_bias,
            kernel_initializer,
            recurrent_initializer,
            bias_initializer,
            kernel_regularizer,
            recurrent_regularizer,
            bias_regularizer,
            **kwargs,
        )
        self.recurrent_activation = _get_activation(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.seed = seed

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self._build_kernels(input_shape)
        if not self.use_bias:
            return
        initializer = self.bias_initializer
        if self.unit_forget_bias:
            units, base = self.units, self.bias_initializer

            def initializer(shape: Any, dtype: Any = None) -> np.ndarray:
                return np.concatenate(
                    [
                        np.asarray(base((units,), dtype=dtype)),
                        np.ones((units,), dtype=dtype),
                        np.asarray(base((2 * units,), dtype=dtype)),
                    ]
                )

        self.bias = self.add_weight(
            name="bias",
            shape=(4 * self.units,),
            initializer=initializer,
            regularizer=self.bias_regularizer,
        )

    def step(self, x_t: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        h, c = states
        z = x_t + ops.matmul(h, self.recurrent_kernel)
        i = _apply(self.recurrent_activation, _columns(z, 0, self.units))
        f = _apply(self.recurrent_activation, _columns(z, 1, self.units))
        candidate = _apply(self.activation, _columns(z, 2, self.units))
        o = _apply(self.recurrent_activation, _columns(z, 3, self.units))
        c = f * c + i * candidate
        h = o * _apply(self.activation, c)
        return h, [h, c]

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "recurrent_activation": _activation_name(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
            "seed": self.seed,
        }


class GRU(_Recurrent):
    """Gated recurrent unit (Cho et al., 2014): an update gate ``z`` mixes the
    old state with a candidate, a reset gate ``r`` decides how much of the old
    state the candidate sees. Blocks of ``units`` columns in Keras's order
    z, r, h::

        z = recurrent_activation(x_z + h @ U_z + b_z)       # update gate
        r = recurrent_activation(x_r + h @ U_r + b_r)       # reset gate
        candidate = activation(x_h + r * (h @ U_h + b_h))   # reset_after=True
        candidate = activation(x_h + (r * h) @ U_h)         # reset_after=False
        h = z * h + (1 - z) * candidate

    where ``x_* = x_t @ kernel_* + input bias``. With ``reset_after`` (the
    default, cuDNN's variant) the bias is (2, 3 units): row 0 for the input,
    row 1 for the recurrent product; without it one (3 units,) bias.

    Arguments: those of :class:`LSTM` but ``unit_forget_bias``, plus
    ``reset_after``. ``return_state`` gives ``[output, h]``.

    >>> GRU(4)  # on (None, 10, 3): 3 * (3*4 + 4*4) + 2 * 12 = 108 params
    """

    gate_count = 3

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        seed: int | None = None,
        reset_after: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            units,
            activation,
            use_bias,
            kernel_initializer,
            recurrent_initializer,
            bias_initializer,
            kernel_regularizer,
            recurrent_regularizer,
            bias_regularizer,
            **kwargs,
        )
        self.recurrent_activation = _get_activation(recurrent_activation)
        self.reset_after = bool(reset_after)
        self.seed = seed

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self._build_kernels(input_shape)
        if self.use_bias:
            width = 3 * self.units
            self.bias = self.add_weight(
                name="bias",
                shape=(2, width) if self.reset_after else (width,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )

    def _input_bias(self) -> Tensor | None:
        if self.bias is None or not self.reset_after:
            return self.bias
        return self.bias[0]

    def step(self, x_t: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        (h,) = states
        units, kernel = self.units, self.recurrent_kernel
        if self.reset_after:
            recurrent = ops.matmul(h, kernel)
            if self.bias is not None:
                recurrent = recurrent + self.bias[1]
        else:
            recurrent = ops.matmul(h, kernel[:, : 2 * units])
        z = _apply(
            self.recurrent_activation,
            _columns(x_t, 0, units) + _columns(recurrent, 0, units),
        )
        r = _apply(
            self.recurrent_activation,
            _columns(x_t, 1, units) + _columns(recurrent, 1, units),
        )
        if self.reset_after:
            reset = r * _columns(recurrent, 2, units)
        else:
            reset = ops.matmul(r * h, kernel[:, 2 * units :])
        candidate = _apply(self.activation, _columns(x_t, 2, units) + reset)
        h = z * h + (1.0 - z) * candidate
        return h, [h]

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "recurrent_activation": _activation_name(self.recurrent_activation),
            "reset_after": self.reset_after,
            "seed": self.seed,
        }
