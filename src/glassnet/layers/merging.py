"""Merge layers: several inputs, one output (Keras 3's ``layers/merging``).

Each takes a list of tensors. The elementwise ones (``Add``, ``Subtract``,
``Multiply``, ``Average``, ``Maximum``, ``Minimum``) follow Keras's shape
rules: every axis after the batch equal, or 1 (broadcast), or unknown; inputs
of lower rank get axes of 1 inserted after the batch until the ranks agree.
``Concatenate`` joins along ``axis``; ``Dot`` sums one axis of each of two
inputs sample by sample (``ops.batch_dot``). Each is a few plain ops, so its
gradient is theirs. The functions ``add``, ``subtract``, ``multiply``,
``average``, ``maximum``, ``minimum``, ``concatenate`` and ``dot`` make the
layer and call it, as Keras's do.

>>> a, b = Input((8,)), Input((8,))
>>> summed = Add()([Dense(8)(a), b])        # the same as add([Dense(8)(a), b])
"""

from __future__ import annotations

from functools import reduce
from typing import Any

import numpy as np

from glassnet import ops
from glassnet.autograd import Tensor
from glassnet.layers import masking
from glassnet.layers.base import Layer


def _is_shape_list(input_shape: Any) -> bool:
    return (
        isinstance(input_shape, (list, tuple))
        and len(input_shape) >= 1
        and all(isinstance(s, (list, tuple)) for s in input_shape)
    )


def _broadcast(shape1: Any, shape2: Any) -> Any:
    """The shape of an elementwise op on ``shape1`` and ``shape2`` (batch
    axes left out), aligned at the right, as Keras computes it."""
    if shape1 is None or shape2 is None:
        return None
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return tuple(shape1)
    out = list(shape1[: -len(shape2)])
    for i, j in zip(shape1[-len(shape2) :], shape2):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1:
            out.append(j if i == 1 else i)
        elif i != j:
            raise ValueError(
                f"Inputs have incompatible shapes. Received shapes {tuple(shape1)} "
                f"and {tuple(shape2)}"
            )
        else:
            out.append(i)
    return tuple(out)


class Merge(Layer):
    """Base of the elementwise merges: checks the input shapes when built,
    brings the inputs to one rank, then applies :meth:`_merge_function`."""

    def build(self, input_shape: Any) -> None:
        if not _is_shape_list(input_shape):
            raise ValueError(
                "A merge layer should be called on a list of inputs. Received: "
                f"input_shape={input_shape} (not a list of shapes)"
            )
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(
                "Cannot merge tensors with different batch sizes. Received "
                f"tensors with shapes {list(input_shape)}"
            )
        reduce(_broadcast, [tuple(s[1:]) for s in input_shape])
        self._reshape_required = len({len(s) for s in input_shape}) != 1

    def call(self, inputs: list[Tensor]) -> Tensor:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                "A merge layer should be called on a list of inputs. Received: "
                f"inputs={inputs} (not a list of tensors)"
            )
        if getattr(self, "_reshape_required", False):
            ndim = max(x.data.ndim for x in inputs)
            inputs = [
                ops.reshape(
                    x,
                    (x.data.shape[0],) + (1,) * (ndim - x.data.ndim) + x.data.shape[1:],
                )
                if x.data.ndim < ndim
                else x
                for x in inputs
            ]
        return self._merge_function(list(inputs))

    def _merge_function(self, inputs: list[Tensor]) -> Tensor:
        raise NotImplementedError

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """Keras's rule: the steps any input keeps, when every input has a
        mask (else no mask)."""
        if not previous_mask or any(m is None for m in previous_mask):
            return None
        return np.logical_or.reduce(
            [np.asarray(getattr(m, "data", m), bool) for m in previous_mask]
        )

    def compute_output_shape(self, input_shape: Any) -> tuple:
        out = reduce(_broadcast, [tuple(s[1:]) for s in input_shape])
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        batch = batch_sizes.pop() if len(batch_sizes) == 1 else None
        return (batch, *out)


class Add(Merge):
    """The sum of the inputs: ``y = x1 + x2 + ...`` (shapes as in Keras:
    equal, or broadcast along axes of 1)."""

    def _merge_function(self, inputs: list[Tensor]) -> Tensor:
        return reduce(ops.add, inputs)


class Subtract(Merge):
    """The difference of exactly two inputs: ``y = x1 - x2``."""

    def build(self, input_shape: Any) -> None:
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(
                "A `Subtract` layer should be called on exactly 2 inputs. "
                f"Received: input_shape={list(input_shape)}"
            )

    def _merge_function(self, inputs: list[Tensor]) -> Tensor:
        if len(inputs) != 2:
            raise ValueError(
                "A `Subtract` layer should be called on exactly 2 inputs. "
                f"Received: inputs={inputs}"
            )
        return ops.sub(inputs[0], inputs[1])


class Multiply(Merge):
    """The elementwise product of the inputs: ``y = x1 * x2 * ...``."""

    def _merge_function(self, inputs: list[Tensor]) -> Tensor:
        """With masks (Keras's rule): a masked-out step counts as 1 in the
        product, and where every input masks a step out, the output is 0."""
        masks = _spread_masks(inputs)
        if all(m is None for m in masks):
            return reduce(ops.mul, inputs)
        kept = [x if m is None else ops.where(m, x, np.ones_like(x.data))
                for x, m in zip(inputs, masks)]  # fmt: skip
        output = reduce(ops.mul, kept)
        if any(m is None for m in masks):
            return output
        return ops.where(
            np.logical_or.reduce(masks), output, np.zeros_like(output.data)
        )


class Average(Merge):
    """The elementwise mean of the inputs: ``y = (x1 + ... + xn) / n``."""

    def _merge_function(self, inputs: list[Tensor]) -> Tensor:
        return ops.div(reduce(ops.add, inputs), float(len(inputs)))


class Maximum(Merge):
    """The elementwise maximum of the inputs (the gradient goes to the
    largest; ties share it)."""

    def _merge_function(self, inputs: list[Tensor]) -> Tensor:
        return _merge_masked(ops.maximum, inputs)


class Minimum(Merge):
    """The elementwise minimum of the inputs (the gradient goes to the
    smallest; ties share it)."""

    def _merge_function(self, inputs: list[Tensor]) -> Tensor:
        return _merge_masked(ops.minimum, inputs)


def _spread(mask: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A mask (batch, steps) spread over the last axis of an input of
    ``shape``; all True for an unmasked input (``mask`` None)."""
    if mask is None:
        return np.ones(shape, bool)
    mask = np.asarray(getattr(mask, "data", mask), bool)
    return np.broadcast_to(mask.reshape(*mask.shape, 1), shape)


def _spread_masks(inputs: list[Tensor]) -> list[np.ndarray | None]:
    """Each input's mask spread over its last axis, or None where it has none."""
    masks = [masking.get_mask(x) for x in inputs]
    return [
        None if m is None else _spread(m, x.data.shape) for x, m in zip(inputs, masks)
    ]


def _merge_masked(op: Any, inputs: list[Tensor]) -> Tensor:
    """``op`` (a maximum or minimum) folded over the inputs, a masked-out step
    of one input taking the other's value (Keras's rule: they have no
    identity element to stand in)."""
    masks = _spread_masks(inputs)
    if all(m is None for m in masks):
        return reduce(op, inputs)
    output, output_mask = inputs[0], masks[0]
    for x, mask in zip(inputs[1:], masks[1:]):
        if mask is not None:
            x = ops.where(mask, x, output)
        if output_mask is not None:
            output = ops.where(output_mask, output, x)
        both = mask is not None and output_mask is not None
        output_mask = np.logical_or(output_mask, mask) if both else None
        output = op(output, x)
    return output


class Concatenate(Merge):
    """The inputs joined along ``axis`` (default the last): every other axis
    must match (unknown sizes match anything).

    >>> Concatenate()([np.ones((2, 3)), np.zeros((2, 4))])  # shape (2, 7)
    """

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"`axis` must be an integer. Received: axis={axis!r}")
        self.axis = axis

    def build(self, input_shape: Any) -> None:
        if not _is_shape_list(input_shape):
            raise ValueError(
                "A `Concatenate` layer should be called on a list of at least 1 "
                f"input. Received: input_shape={input_shape}"
            )
        reduced = set()
        for shape in input_shape:
            shape = list(shape)
            if len(shape) > self.axis:
                del shape[self.axis]
            reduced.add(tuple(shape))
        if len(reduced) == 1:
            return
        error = ValueError(
            "A `Concatenate` layer requires inputs with matching shapes except "
            f"for the concatenation axis. Received: input_shape={list(input_shape)}"
        )
        if len({len(s) for s in reduced}) != 1:
            raise error
        for dims in zip(*reduced):
            if len({d for d in dims if d is not None}) > 1:
                raise error

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """Keras's rule: each input's mask spread over its last axis (all
        True for an unmasked input), joined along ``axis``, then any over the
        last axis."""
        if previous_mask is None or all(m is None for m in previous_mask):
            return None
        spread = [
            _spread(m, np.shape(getattr(x, "data", x)))
            for x, m in zip(inputs, previous_mask)
        ]
        return np.concatenate(spread, axis=self.axis).any(axis=-1)

    def _merge_function(self, inputs: list[Tensor]) -> Tensor:
        return ops.concatenate(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        if not _is_shape_list(input_shape):
            raise ValueError(
                "A `Concatenate` layer should be called on a list of inputs. "
                f"Received: input_shape={input_shape}"
            )
        out = list(input_shape[0])
        for shape in input_shape[1:]:
            if out[self.axis] is None or shape[self.axis] is None:
                out[self.axis] = None
                break
            out[self.axis] += shape[self.axis]
        return tuple(out)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


class Dot(Merge):
    """Per sample, the dot product of two inputs along ``axes`` (one axis,
    or one for each input; never the batch axis 0): ``(b, i, k)`` and
    ``(b, j, k)`` with ``axes=2`` give ``(b, i, j)``; two vectors give
    ``(b, 1)``. ``normalize=True`` first scales each input to unit L2 norm
    along its axis, so the result is the cosine similarity.

    >>> Dot(axes=1)([np.ones((2, 3)), np.ones((2, 3))])  # [[3.], [3.]]
    """

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return None

    def __init__(self, axes: Any, normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(
                    "Invalid type for argument `axes`: it should be a list or an "
                    f"int. Received: axes={axes}"
                )
            if len(axes) != 2:
                raise ValueError(
                    "Invalid format for argument `axes`: it should contain two "
                    f"elements. Received: axes={axes}"
                )
            if not isinstance(axes[0], int) or not isinstance(axes[1], int):
                raise ValueError(
                    "Invalid format for argument `axes`: list elements should be "
                    f"integers. Received: axes={axes}"
                )
        self.axes = axes
        self.normalize = bool(normalize)

    def _axes(self, rank1: int, rank2: int) -> list[int]:
        if isinstance(self.axes, int):
            if self.axes < 0:
                return [self.axes % rank1, self.axes % rank2]
            return [self.axes] * 2
        return [a % r if a < 0 else a for a, r in zip(self.axes, (rank1, rank2))]

    def build(self, input_shape: Any) -> None:
        if not _is_shape_list(input_shape) or len(input_shape) != 2:
            raise ValueError(
                "A `Dot` layer should be called on a list of 2 inputs. Received: "
                f"input_shape={input_shape}"
            )
        shape1, shape2 = input_shape
        a, b = self._axes(len(shape1), len(shape2))
        if shape1[a] != shape2[b]:
            raise ValueError(
                f"Incompatible input shapes: axis values {shape1[a]} (at axis {a}) "
                f"!= {shape2[b]} (at axis {b}). Full input shapes: {tuple(shape1)}, "
                f"{tuple(shape2)}"
            )

    def call(self, inputs: list[Tensor]) -> Tensor:
        if len(inputs) != 2:
            raise ValueError(
                "A `Dot` layer should be called on exactly 2 inputs. Received: "
                f"inputs={inputs}"
            )
        x1, x2 = inputs
        axes = self._axes(x1.data.ndim, x2.data.ndim)
        if self.normalize:
            x1, x2 = _l2_normalize(x1, axes[0]), _l2_normalize(x2, axes[1])
        return ops.batch_dot(x1, x2, axes)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(
                "A `Dot` layer should be called on a list of 2 inputs. Received: "
                f"input_shape={input_shape}"
            )
        shape1, shape2 = list(input_shape[0]), list(input_shape[1])
        a, b = self._axes(len(shape1), len(shape2))
        shape1.pop(a)
        shape2.pop(b)
        out = shape1 + shape2[1:]
        return tuple(out + [1] if len(out) == 1 else out)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _l2_normalize(x: Tensor, axis: int) -> Tensor:
    """``x / max(||x||, 1e-7)`` along ``axis`` (Keras's ``normalize``)."""
    norm = ops.sqrt(ops.sum(ops.mul(x, x), axis=axis, keepdims=True))
    return ops.div(x, ops.maximum(norm, 1e-7))


# --- Keras's functional forms: make the layer, call it -------------------------------
def add(inputs: list[Any], **kwargs: Any) -> Any:
    """``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs: list[Any], **kwargs: Any) -> Any:
    """``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list[Any], **kwargs: Any) -> Any:
    """``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def average(inputs: list[Any], **kwargs: Any) -> Any:
    """``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def maximum(inputs: list[Any], **kwargs: Any) -> Any:
    """``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list[Any], **kwargs: Any) -> Any:
    """``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list[Any], axis: int = -1, **kwargs: Any) -> Any:
    """``Concatenate(axis=axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: list[Any], axes: Any = -1, **kwargs: Any) -> Any:
    """``Dot(axes=axes, **kwargs)(inputs)``."""
    return Dot(axes=axes, **kwargs)(inputs)
