"""The base class of a Python dataset of batches, as Keras's ``PyDataset``."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from glassnet._warnings import warn


class PyDataset:
    """A dataset of batches that Python code makes, one batch per index.

    Subclass it and define:

    - ``__getitem__(index)``: batch number ``index`` (from 0), as
      ``(x, y)``, ``(x, y, sample_weight)``, or ``x`` alone for prediction;
      ``x`` and ``y`` as ``fit`` takes them (arrays, or lists or dicts of
      arrays for several inputs or outputs);
    - ``__len__()``: the number of batches in an epoch (or the
      ``num_batches`` property; without either the dataset is endless);
    - optionally ``on_epoch_begin()`` / ``on_epoch_end()``, called around each
      epoch (to shuffle, say).

    Call ``super().__init__(**kwargs)`` in your ``__init__``: it takes Keras's
    ``workers``, ``use_multiprocessing`` and ``max_queue_size``, which say how
    Keras would read batches in parallel. glassnet keeps them (they are
    attributes, as in Keras) and reads batches in order, in the calling
    thread.

    ``fit``, ``evaluate`` and ``predict`` take it as ``x`` (and ``fit`` as
    ``validation_data``): each epoch is one pass over the batches, in a new
    order with ``shuffle=True``, or ``steps_per_epoch`` of them, going on
    where the last epoch stopped. They read it by duck typing
    (:mod:`glassnet.models.batch_sources`), so a class with ``__getitem__``
    and ``__len__`` and no base works too.

    >>> class Batches(glassnet.utils.PyDataset):
    ...     def __init__(self, x, y, batch_size, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.x, self.y, self.batch_size = x, y, batch_size
    ...     def __len__(self):
    ...         return -(-len(self.x) // self.batch_size)
    ...     def __getitem__(self, index):
    ...         part = slice(index * self.batch_size, (index + 1) * self.batch_size)
    ...         return self.x[part], self.y[part]
    """

    def __init__(
        self,
        workers: int = 1,
        use_multiprocessing: bool = False,
        max_queue_size: int = 10,
    ) -> None:
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self) -> None:
        missing = False
        for name, default in (
            ("_workers", 1),
            ("_use_multiprocessing", False),
            ("_max_queue_size", 10),
        ):
            if not hasattr(self, name):
                setattr(self, name, default)
                missing = True
        if missing:
            warn(
                "Your `PyDataset` class should call `super().__init__(**kwargs)` "
                "in its constructor. `**kwargs` can include `workers`, "
                "`use_multiprocessing`, `max_queue_size`. Do not pass these "
                "arguments to `fit()`, as they will be ignored."
            )

    @property
    def workers(self) -> int:
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} must define __getitem__(index), returning "
            "batch number `index` as (x, y), (x, y, sample_weight) or x."
        )

    @property
    def num_batches(self) -> int | None:
        """The number of batches in an epoch: ``len(self)``; None if the
        class defines no ``__len__`` (an endless dataset)."""
        return len(self) if hasattr(self, "__len__") else None

    def __iter__(self) -> Iterator[Any]:
        """The batches of one epoch in order (endless without a length)."""
        count = self.num_batches
        for index in itertools.count() if count is None else range(count):
            yield self[index]

    def on_epoch_begin(self) -> None:
        """Called before each epoch."""

    def on_epoch_end(self) -> None:
        """Called after each epoch."""
