"""Embedding lookup: the rows of a table picked by integer indices."""

from __future__ import annotations

import numpy as np

from glassnet.autograd import Function


class EmbeddingLookup(Function):
    """y = table[indices];  dL/dtable adds each row of dL/dy onto the row its
    index picked (``np.add.at``: an index that repeats gets the sum).

    ``table`` (V, D), ``indices`` integers in [0, V) of any shape; output
    ``(*indices.shape, D)``. The indices are a setting, not an input: they
    have no gradient.
    """

    def forward(self, table, indices=None):
        self.indices, self.table_shape = indices, table.shape
        return table[indices]

    def backward(self, grad_output):
        grad = np.zeros(self.table_shape, grad_output.dtype)
        np.add.at(grad, self.indices, grad_output)
        return (grad,)


def embedding_lookup(table, indices):
    """Rows of ``table`` (V, D) at ``indices`` (any shape, integer-valued; floats
    holding integers are accepted, as Keras casts them): ``(*indices.shape, D)``.
    An index outside [0, V) raises ValueError naming it."""
    indices = np.asarray(getattr(indices, "data", indices))
    if not np.issubdtype(indices.dtype, np.integer):
        if indices.dtype != bool and not np.issubdtype(indices.dtype, np.floating):
            raise TypeError(
                f"Embedding indices must be integers. Received: dtype={indices.dtype}"
            )
        indices = indices.astype(np.int64)
    vocabulary = np.shape(getattr(table, "data", table))[0]
    if indices.size and (indices.min() < 0 or indices.max() >= vocabulary):
        bad = indices[(indices < 0) | (indices >= vocabulary)].flat[0]
        raise ValueError(
            f"Embedding index {int(bad)} is out of range for a table of "
            f"{vocabulary} rows (input_dim): indices must be in [0, {vocabulary})."
        )
    return EmbeddingLookup.apply(table, indices=indices)
