"""The data side of training (Keras 3's data adapters and epoch iterator).

What fit / evaluate / predict are given -- ``x``, ``y``, ``sample_weight``,
``class_weight``, ``validation_split``, ``validation_data`` -- becomes checked
NumPy arrays here, and then batches::

    iterator = EpochIterator(x, y, sample_weight, batch_size=32, shuffle=True)
    for epoch in range(epochs):
        for step, (x_batch, y_batch, sw_batch) in iterator:
            ...

Arrays are checked and cast to the model's dtype once per call, never per
batch. An unshuffled epoch yields views of the arrays; a shuffled epoch draws
one ``np.random.permutation(n)`` (so ``np.random.seed`` makes training
repeatable, bit for bit) and gathers its batches ``group`` at a time.

Only NumPy arrays (and what ``np.asarray`` takes) are adapted today;
:func:`get_data_adapter` is where generators and ``PyDataset`` will plug in.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from glassnet.autograd import Tensor

Batch = tuple[np.ndarray, "np.ndarray | None", "np.ndarray | None"]

# NOTE: about 1 MB of float32 per gather: one gather of scattered rows overlaps
# its cache misses better than many small ones, and a shuffled copy of all of x
# would cost its memory.
GATHER_ELEMENTS = 1 << 18


# --- checked arrays ---------------------------------------------------------------
def standardize_x(
    x: Any, dtype: Any, input_shape: tuple | None, name: str
) -> np.ndarray:
    """``x`` as a C-contiguous ``(batch, ...)`` array of ``dtype``.

    A 1-D ``x`` is read as one feature per sample (``(n,)`` -> ``(n, 1)``),
    which only fits a model whose ``input_shape`` is unknown or ``(None, 1)``.
    ``name`` is the model's, for the messages.
    """
    if isinstance(x, Tensor):
        x = x.data
    if isinstance(x, (list, tuple)) and len(x) == 1 and np.ndim(x[0]) >= 2:
        x = x[0]
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.number) and x.dtype != bool:
        raise TypeError(
            f"Model {name!r} needs numeric input. Received: x of dtype {x.dtype}"
        )
    if x.ndim == 0:  # NOTE: before ascontiguousarray, which makes it 1-D
        raise ValueError(
            f"Model {name!r} needs a batch of samples. Received: a scalar x."
        )
    x = np.ascontiguousarray(x, dtype=dtype)
    if x.ndim == 1:
        if input_shape is not None and (len(input_shape) != 2 or input_shape[1] != 1):
            raise ValueError(
                f"Model {name!r} expects input of shape {input_shape}; a 1-D x is "
                f"read as one feature per sample. Received: x of shape {x.shape}"
            )
        x = x[:, None]
    if not np.isfinite(x).all():
        raise ValueError("Input x contains NaN or infinity.")
    return x


def standardize_y(y: Any, n: int, output_shape: tuple | None, dtype: Any) -> np.ndarray:
    """``y`` checked against ``n`` samples and the model's ``output_shape``.

    ``(n,)`` targets of a one-unit output become ``(n, 1)``. Float targets, and
    targets of the output's rank, are cast to ``dtype``; integer labels of a
    lower rank (for sparse losses) keep their dtype.
    """
    y = np.asarray(getattr(y, "data", y))
    if y.ndim == 0 or len(y) != n:
        got = "no samples (a scalar)" if y.ndim == 0 else len(y)
        raise ValueError(
            "x and y must have the same number of samples. Received: "
            f"x with {n} samples, y with {got}."
        )
    out = output_shape
    if out is not None and y.ndim == len(out) - 1 and out[-1] == 1:
        y = y[..., None]
    if np.issubdtype(y.dtype, np.floating) or (out is not None and y.ndim == len(out)):
        y = np.ascontiguousarray(y, dtype=dtype)
        if not np.isfinite(y).all():
            raise ValueError("Target y contains NaN or infinity.")
    return y


def class_weight_to_sample_weight(
    y: np.ndarray, class_weight: dict, dtype: Any
) -> np.ndarray:
    """One weight per sample, ``class_weight[label]``: labels are the argmax of
    one-hot ``y`` (last axis > 1), else ``y`` rounded to integers."""
    n = len(y)
    if y.ndim > 1 and y.shape[-1] > 1:
        labels = y.argmax(axis=-1)
    else:
        labels = np.round(y.reshape(n, -1)[:, 0]).astype(int)
    missing = set(np.unique(labels).tolist()) - set(class_weight)
    if missing:
        raise ValueError(
            f"class_weight has no weight for classes {sorted(missing)}. "
            f"Received: class_weight={class_weight!r}"
        )
    return np.vectorize(lambda c: class_weight[c])(labels).astype(dtype)


def sample_weights(
    y: np.ndarray, sample_weight: Any, class_weight: dict | None, dtype: Any
) -> np.ndarray | None:
    """The per-sample weights, shape ``(n,)``: ``sample_weight`` times the
    class weights of ``y``'s labels (None when neither is given)."""
    n = len(y)
    sw = None
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=dtype).reshape(-1)
        if len(sw) != n:
            raise ValueError(
                f"sample_weight needs one weight per sample ({n}). Received: "
                f"sample_weight of shape {np.shape(sample_weight)}"
            )
    if class_weight:
        cw = class_weight_to_sample_weight(y, class_weight, dtype)
        sw = cw if sw is None else sw * cw
    return sw


def unpack_x_y_sample_weight(data: Any) -> tuple[Any, Any, Any]:
    """``validation_data`` as ``(x, y, sample_weight)`` (the last may be None)."""
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        raise ValueError(
            "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
            f"sample_weight). Received: {type(data).__name__}"
        )
    return data[0], data[1], data[2] if len(data) == 3 else None


def train_validation_split(
    arrays: tuple[Any, ...], validation_split: float
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Split each array (None stays None) into the first ``1 - validation_split``
    of the samples, for training, and the last fraction, for validation -- before
    any shuffling, as Keras does."""
    if not 0 < validation_split < 1:
        raise ValueError(
            "validation_split must be between 0 and 1. "
            f"Received: validation_split={validation_split}"
        )
    n = len(arrays[0])
    split = int(math.floor(n * (1.0 - validation_split)))
    if split == 0 or split == n:
        raise ValueError(
            f"validation_split={validation_split} leaves no samples for "
            f"{'training' if split == 0 else 'validation'} ({n} samples)."
        )
    train = tuple(None if a is None else a[:split] for a in arrays)
    val = tuple(None if a is None else a[split:] for a in arrays)
    return train, val


# --- batches ----------------------------------------------------------------------
class ArrayDataAdapter:
    """Batches of ``(x, y, sample_weight)`` arrays (``y`` and ``sample_weight``
    may be None), one epoch per :meth:`get_iterator`.

    Unshuffled batches are views ``x[lo:lo + batch_size]``. Shuffled ones come
    from one permutation per epoch: rows ``order[lo:lo + group * batch_size]``
    are gathered at once (about :data:`GATHER_ELEMENTS` values of ``x``) and cut
    into ``group`` batches; the batches are the same as gathering each on its
    own, in the same order.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
        batch_size: int = 32,
        shuffle: bool = False,
    ) -> None:
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        n = len(x)
        self.num_samples = n
        self.num_batches = math.ceil(n / self.batch_size)
        per_sample = x.size // max(n, 1)
        self.group = max(1, GATHER_ELEMENTS // max(1, self.batch_size * per_sample))

    def get_iterator(self) -> Iterator[Batch]:
        """The batches of one epoch (a fresh permutation when shuffling)."""
        if self.shuffle:
            return self._shuffled()
        return self._in_order()

    def _in_order(self) -> Iterator[Batch]:
        x, y, sw, size = self.x, self.y, self.sample_weight, self.batch_size
        for lo in range(0, self.num_samples, size):
            rows = slice(lo, lo + size)
            yield (
                x[rows],
                None if y is None else y[rows],
                None if sw is None else sw[rows],
            )

    def _shuffled(self) -> Iterator[Batch]:
        x, y, sw, size = self.x, self.y, self.sample_weight, self.batch_size
        order = np.random.permutation(self.num_samples)
        span = self.group * size
        for lo in range(0, self.num_samples, span):
            rows = order[lo : lo + span]
            xs = x[rows]
            ys = None if y is None else y[rows]
            ss = None if sw is None else sw[rows]
            for k in range(0, len(rows), size):
                cut = slice(k, k + size)
                yield (
                    xs[cut],
                    None if ys is None else ys[cut],
                    None if ss is None else ss[cut],
                )


def get_data_adapter(
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    batch_size: int | None = None,
    shuffle: bool = False,
) -> ArrayDataAdapter:
    """The adapter for this kind of data (arrays only, for now)."""
    return ArrayDataAdapter(
        x, y, sample_weight, 32 if batch_size is None else batch_size, shuffle
    )


class EpochIterator:
    """``for step, batch in iterator``: the numbered batches of one epoch, each
    ``(x, y, sample_weight)``; iterate again for the next epoch.

    ``steps_per_epoch`` cuts each epoch short (every epoch starts over, with a
    fresh permutation when shuffling). ``num_batches`` is the number of steps
    per epoch, for the callbacks' ``params["steps"]``.
    """

    def __init__(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        batch_size: int | None = None,
        shuffle: bool = False,
        steps_per_epoch: int | None = None,
    ) -> None:
        self.data_adapter = get_data_adapter(x, y, sample_weight, batch_size, shuffle)
        self.num_batches = self.data_adapter.num_batches
        if steps_per_epoch is not None:
            self.num_batches = min(self.num_batches, int(steps_per_epoch))

    def __iter__(self) -> Iterator[tuple[int, Batch]]:
        # NOTE: zip takes the step first, so it never pulls (gathers) a batch
        # past the last step.
        return zip(range(self.num_batches), self.data_adapter.get_iterator())
