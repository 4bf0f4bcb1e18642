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
from glassnet.layers.serialization import deserialize, serialize

# Keras arguments glassnet does not implement, accepted at these values only.
_NOT_IMPLEMENTED = {
    "kernel_constraint": None,
    "recurrent_constraint": None,
    "bias_constraint": None,
    "dropout": 0.0,
    "recurrent_dropout": 0.0,
    "stateful": False,
    "unroll": False,
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
        zero_output_for_mask: bool = False,
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
        # a masked step outputs zeros, not the last output (Bidirectional's)
        self.zero_output_for_mask = bool(zero_output_for_mask)

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
                held = Tensor(zeros) if self.zero_output_for_mask else output
                new_output = ops.where(keep, new_output, held)
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
            "zero_output_for_mask": self.zero_output_for_mask,
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
    last to first), ``zero_output_for_mask`` (a masked step outputs zeros, not
    the last output) and the base Layer keywords.

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


_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _prefixed(prefix: str, name: str) -> str:
    """``name`` with ``prefix`` once (Keras's ``forward_lstm``)."""
    return name if name.startswith(prefix) else prefix + name


class Bidirectional(Layer):
    """Runs a recurrent ``layer`` over the sequence both ways and merges the
    two outputs (Keras 3's wrapper).

    The forward layer is a new copy of ``layer`` from its config, named
    ``forward_<name>``; the backward one the same with ``go_backwards``
    flipped, named ``backward_<name>``, or ``backward_layer`` when given.
    ``merge_mode`` joins the two outputs: "concat" (on the last axis), "sum",
    "mul", "ave", or None (both, as a list). With ``return_sequences`` the
    backward outputs are put back in time order first, and (as Keras) a masked
    step outputs zeros in both directions. ``return_state`` gives
    ``[output, *forward states, *backward states]`` (two outputs with
    ``merge_mode=None``). ``weights``: the forward layer's, then the backward
    one's, set once built.

    Input (batch, timesteps, features); output (batch, 2 units) with "concat"
    (or (batch, timesteps, 2 units)), (batch, units) for the others. Weights:
    the forward layer's, then the backward layer's (Keras's order).

    >>> Bidirectional(LSTM(4))  # on (None, 10, 3): 2 * 128 = 256 params
    """

    supports_masking = True
    input_ndim = 3

    def __init__(
        self,
        layer: Layer,
        merge_mode: str | None = "concat",
        weights: Any = None,
        backward_layer: Layer | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `Bidirectional` layer with a layer instance. "
                f"Received: {layer!r}"
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(
                f"`backward_layer` must be a layer. Received: {backward_layer!r}"
            )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode!r}. Merge mode should "
                'be one of {"sum", "mul", "ave", "concat", None}'
            )
        super().__init__(**kwargs)
        self.forward_layer = self._copy(layer, "forward_")
        if backward_layer is None:
            backward_layer = self._copy(layer, "backward_", go_backwards=True)
        self.backward_layer = backward_layer
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different "
                "`go_backwards` value. Received: forward_layer.go_backwards="
                f"{forward.go_backwards}, backward_layer.go_backwards="
                f"{backward.go_backwards}"
            )
        for name in ("return_sequences", "return_state"):
            if getattr(forward, name) != getattr(backward, name):
                raise ValueError(
                    "Forward layer and backward layer are expected to have the "
                    f"same value for attribute {name!r}, got "
                    f"{getattr(forward, name)} and {getattr(backward, name)}"
                )
        for one in (forward, backward):
            if hasattr(one, "zero_output_for_mask"):
                one.zero_output_for_mask = one.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = forward.return_sequences
        self.return_state = forward.return_state
        self._initial_weights = None if weights is None else list(weights)

    @staticmethod
    def _copy(layer: Layer, prefix: str, **changes: Any) -> Layer:
        """A new ``layer`` from its config (built, with new weights, if it
        was), named ``prefix + name``, as Keras makes it."""
        saved = serialize(layer)
        saved["config"] = {**saved["config"], **changes}
        saved["config"]["name"] = _prefixed(prefix, layer.name)
        return deserialize(saved)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.forward_layer.build_for(input_shape)
        self.backward_layer.build_for(input_shape)
        if self._initial_weights:
            half = len(self._initial_weights) // 2
            self.forward_layer.set_weights(self._initial_weights[:half])
            self.backward_layer.set_weights(self._initial_weights[half:])
            self._initial_weights = None

    def call(self, inputs: Tensor, training: bool = False, mask: Any = None) -> Any:
        y = self.forward_layer(inputs, training=training, mask=mask)
        y_rev = self.backward_layer(inputs, training=training, mask=mask)
        states: list[Tensor] = []
        if self.return_state:
            states = [*y[1:], *y_rev[1:]]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]  # back in time order
        if self.merge_mode == "concat":
            output = [ops.concatenate([y, y_rev], axis=-1)]
        elif self.merge_mode == "sum":
            output = [y + y_rev]
        elif self.merge_mode == "ave":
            output = [(y + y_rev) / 2.0]
        elif self.merge_mode == "mul":
            output = [y * y_rev]
        else:
            output = [y, y_rev]
        if self.return_state or self.merge_mode is None:
            return [*output, *states]
        return output[0]

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The input's mask goes on with sequences (once per output); a last
        output or a state has none."""
        if isinstance(previous_mask, (list, tuple)):
            previous_mask = previous_mask[0]
        mask = previous_mask if self.return_sequences else None
        masks = [mask] if self.merge_mode else [mask, mask]
        if self.return_state:
            masks += [None] * 2 * getattr(self.forward_layer, "state_count", 1)
        return masks if len(masks) > 1 else masks[0]

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = self.forward_layer.compute_output_shape(input_shape)
        states: list[Any] = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:])
        shape = tuple(shape)
        if self.merge_mode == "concat":
            last = None if shape[-1] is None else 2 * shape[-1]
            outputs = [(*shape[:-1], last)]
        elif self.merge_mode is None:
            outputs = [shape, shape]
        else:
            outputs = [shape]
        if self.return_state or self.merge_mode is None:
            return [*outputs, *states, *states]
        return outputs[0]

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "merge_mode": self.merge_mode,
            "layer": serialize(self.forward_layer),
            "backward_layer": serialize(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Bidirectional:
        config = dict(config)
        config["layer"] = deserialize(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize(config["backward_layer"])
        return cls(**config)
