"""Data that comes in batches already: Python generators and iterables, and
``PyDataset``-like objects (Keras 3's ``GeneratorDataAdapter`` and
``PyDatasetAdapter``).

A source yields batches as ``(x, y)``, ``(x, y, sample_weight)``, ``(x,)`` or
``x`` alone (a list is read as a tuple, as Keras reads it): Keras's forms,
which :func:`unpack_x_y_sample_weight` and :func:`pack_x_y_sample_weight`
(Keras's helpers, also what a custom ``train_step`` gets) read and make. Each batch is
checked and cast like arrays given to ``fit`` -- by the ``standardize``
function the trainer passes, one batch at a time, as it arrives -- and the
first one is read when the adapter is made, so that a bad batch, or an empty
source, fails before training starts and the first batch builds the model.

- :class:`GeneratorDataAdapter`: a generator or any other iterator is *one
  pass in all* (``one_shot``): its epochs continue where the last one
  stopped, until it runs out. Any other iterable (a torch ``DataLoader``, an
  object with ``__iter__``) is passed over again each epoch.
- :class:`PyDatasetAdapter`: ``__getitem__(index)`` is batch ``index`` of
  ``__len__()`` (or of ``num_batches``; None: endless). ``shuffle`` visits the
  batches of each pass in a fresh order (``np.random.permutation``, so
  ``np.random.seed`` repeats it); the dataset's ``on_epoch_begin`` and
  ``on_epoch_end``, where it has them, are called around each epoch.

Duck-typed: any object with ``__getitem__`` and ``__len__`` (or
``num_batches``) that is not an array or a list is a PyDataset, so
``glassnet.utils.PyDataset`` and Keras's own work, and so does a class
written before either.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from glassnet.autograd import Tensor

#: ``standardize(x, y, sample_weight)`` -> the checked batch ``(x, y, sw)``.
Standardize = Callable[[Any, Any, Any], tuple[Any, Any, Any]]


def _array_like(x: Any) -> bool:
    return (
        isinstance(x, (np.ndarray, Tensor, str, bytes, Sequence, Mapping))
        or hasattr(x, "__array__")
        or hasattr(x, "__array_interface__")
    )


def is_py_dataset(x: Any) -> bool:
    """``x`` makes batches by index: ``__getitem__`` and ``__len__`` (or
    ``num_batches``), and is not an array, a list or a dict."""
    cls = type(x)
    if _array_like(x) or not hasattr(cls, "__getitem__"):
        return False
    return hasattr(cls, "__len__") or hasattr(cls, "num_batches")


def is_batch_iterable(x: Any) -> bool:
    """``x`` is a generator, an iterator or another iterable of batches (not
    an array, a list or a dict)."""
    cls = type(x)
    return not _array_like(x) and (hasattr(cls, "__next__") or hasattr(cls, "__iter__"))


def is_batch_source(x: Any) -> bool:
    """``x`` makes its own batches (a generator, iterable or PyDataset)."""
    return x is not None and (is_py_dataset(x) or is_batch_iterable(x))


def kind_of(x: Any) -> str:
    """How the messages call the source ``x``."""
    if is_py_dataset(x):
        return "PyDataset"
    return "generator" if hasattr(type(x), "__next__") else "iterable"


def unpack_x_y_sample_weight(data: Any) -> tuple[Any, Any, Any]:
    """Keras's helper for a custom ``train_step``: ``data`` -- ``x``, ``(x,)``,
    ``(x, y)`` or ``(x, y, sample_weight)`` -- as ``(x, y, sample_weight)``,
    None for what it lacks. A list is read as a tuple.

    >>> x, y, sample_weight = unpack_x_y_sample_weight((1, 2))
    >>> sample_weight is None
    True
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if 1 <= len(data) <= 3:
        return (*data, *(None,) * (3 - len(data)))
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
        f"`(x, y, sample_weight)`. Received: a tuple of {len(data)} items"
    )


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """What a custom ``train_step`` receives (Keras's packing): ``x`` alone
    without targets, else ``(x, y)`` or ``(x, y, sample_weight)``."""
    if y is None and sample_weight is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


class _SourceAdapter:
    """What both adapters share: the checked first batch, read at once, and
    the check of each batch after it."""

    one_shot = False
    num_batches: int | None = None

    def __init__(self, source: Any, standardize: Standardize) -> None:
        self.source = source
        self.kind = kind_of(source)
        self._standardize = standardize

    def _checked(self, batch: Any, index: int) -> tuple[Any, Any, Any]:
        try:
            return self._standardize(*unpack_x_y_sample_weight(batch))
        except (TypeError, ValueError) as err:
            raise type(err)(f"Batch {index} of the {self.kind}: {err}") from None

    def _empty(self) -> ValueError:
        return ValueError(
            f"The {self.kind} gave no batch: fit, evaluate and predict need at "
            f"least one. Received: an empty {self.kind} ({type(self.source).__name__})"
        )

    def on_epoch_begin(self) -> None:
        """Called before each epoch's first batch is read."""

    def on_epoch_end(self) -> None:
        """Called after each epoch's last batch."""


class GeneratorDataAdapter(_SourceAdapter):
    """Batches from a generator, an iterator (``one_shot``: one pass in all) or
    another iterable (a new pass per :meth:`get_iterator`)."""

    def __init__(self, source: Any, standardize: Standardize) -> None:
        super().__init__(source, standardize)
        self.one_shot = hasattr(type(source), "__next__")
        if not self.one_shot and hasattr(type(source), "__len__"):
            self.num_batches = len(source)
        iterator = iter(source)
        first = next(iterator, _END)
        if first is _END:
            raise self._empty()
        self.first_batch = self._checked(first, 0)
        # NOTE: an iterable's every pass starts from its own first batch; the
        # one pass of an iterator goes on after the batch read here.
        self._rest: Iterator[Any] | None = None
        if self.one_shot:
            self._rest = itertools.chain([self.first_batch], self._pass(iterator, 1))

    def _pass(self, iterator: Iterator[Any], start: int) -> Iterator[Any]:
        for index, batch in enumerate(iterator, start):
            yield self._checked(batch, index)

    def get_iterator(self) -> Iterator[tuple[Any, Any, Any]]:
        """A new pass over the batches; for a one-shot source, what is left."""
        if self._rest is not None:
            return self._rest
        return self._pass(iter(self.source), 0)


class PyDatasetAdapter(_SourceAdapter):
    """Batches ``dataset[i]`` for ``i`` in ``range(len(dataset))`` (shuffled
    if asked), or ``0, 1, 2, ...`` for an endless dataset."""

    def __init__(
        self, source: Any, standardize: Standardize, shuffle: bool = False
    ) -> None:
        super().__init__(source, standardize)
        try:
            count = getattr(source, "num_batches", None)
        except NotImplementedError:  # NOTE: Keras's PyDataset without __len__
            count = None
        if count is None and hasattr(type(source), "__len__"):
            count = len(source)
        self.num_batches = None if count is None else int(count)
        if self.num_batches == 0:
            raise self._empty()
        self.shuffle = shuffle and self.num_batches is not None
        self.first_batch = self._checked(source[0], 0)

    def get_iterator(self) -> Iterator[tuple[Any, Any, Any]]:
        """One pass over the dataset's batches."""
        if self.num_batches is None:
            indices: Any = itertools.count()
        elif self.shuffle:
            indices = np.random.permutation(self.num_batches).tolist()
        else:
            indices = range(self.num_batches)
        for index in indices:
            yield self._checked(self.source[index], index)

    def on_epoch_begin(self) -> None:
        hook = getattr(self.source, "on_epoch_begin", None)
        if callable(hook):
            hook()

    def on_epoch_end(self) -> None:
        hook = getattr(self.source, "on_epoch_end", None)
        if callable(hook):
            hook()


_END = object()
