"""Embedding: integer indices to dense vectors (rows of a learned table)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassnet import initializers, ops, regularizers
from glassnet.autograd import Tensor
from glassnet.layers import masking
from glassnet.layers.base import Layer
from glassnet.layers.core import _serialize


def _positive(value: Any, name: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or value <= 0
    ):
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r} "
            f"(of type {type(value).__name__})."
        )
    return int(value)


class Embedding(Layer):
    """Turns indices into vectors: ``y[..., :] = embeddings[x[...]]``, a table
    of ``input_dim`` rows of ``output_dim`` values (one ``ops.embedding_lookup``
    node; its gradient adds into the rows that were looked up).

    Arguments (Keras's): ``input_dim`` (vocabulary size: indices are in
    ``[0, input_dim)``), ``output_dim``, ``embeddings_initializer`` ("uniform",
    in [-0.05, 0.05]), ``embeddings_regularizer``, ``mask_zero`` (index 0 is
    padding: :meth:`compute_mask` gives ``x != 0``, which the next layers
    get as Keras gives it: see :mod:`glassnet.layers.masking`), ``weights`` (the initial
    table) and the base Layer keywords.

    Input ``(batch, ...)`` of integers (floats holding integers are cast, as in
    Keras); output ``(batch, ..., output_dim)``. Parameters
    ``input_dim * output_dim``.

    >>> Embedding(1000, 64)  # (None, 10) -> (None, 10, 64), 64,000 params
    """

    keras_only = {"embeddings_constraint": None}

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        mask_zero: bool = False,
        weights: Any = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.pop("input_length", None) is not None:
            warnings.warn(
                "Argument `input_length` is deprecated. Just remove it.", stacklevel=2
            )
        self.input_dim = _positive(input_dim, "input_dim")
        self.output_dim = _positive(output_dim, "output_dim")
        super().__init__(**kwargs)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.mask_zero = bool(mask_zero)
        if self.mask_zero:
            masking.enable()
        self.embeddings: Tensor | None = None
        if weights is not None:
            self.build_for((None, None))
            self.set_weights(weights if isinstance(weights, list) else [weights])

    def build(self, input_shape) -> None:
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
        )

    def check_input_shape(self, shape) -> None:
        """Any shape of indices fits the table."""

    def prepare_input(self, x: Any) -> Any:
        """The indices as they are (no cast to the layer's float dtype)."""
        if not self.built:
            self.build_for(np.shape(getattr(x, "data", x)))
        return x

    def call(self, x: Any, training: bool = False) -> Tensor:
        return ops.embedding_lookup(self.embeddings, x)

    def compute_mask(self, x: Any, mask: Any = None) -> np.ndarray | None:
        """``x != 0`` when ``mask_zero`` (index 0 pads), else None."""
        if not self.mask_zero:
            return None
        return np.asarray(getattr(x, "data", x)) != 0

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.output_dim)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": _serialize(self.embeddings_initializer),
            "embeddings_regularizer": _serialize(self.embeddings_regularizer),
            "activity_regularizer": _serialize(self.activity_regularizer),
            "mask_zero": self.mask_zero,
        }
