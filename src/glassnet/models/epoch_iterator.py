"""The batches of an epoch, one epoch after another (Keras 3's
``trainers/epoch_iterator.py``), and the iterators fit / evaluate / predict
read::

    iterator = EpochIterator(x, y, sample_weight, batch_size=32, shuffle=True)
    for epoch in range(epochs):
        for step, (x_batch, y_batch, sw_batch) in iterator:
            ...

Steps, as Keras counts them: ``steps_per_epoch`` cuts an epoch of arrays
short, and each epoch starts over. A source's epochs go on where the last one
stopped (Keras 3), so a generator of 10 batches with ``steps_per_epoch=5``
gives two epochs; without ``steps_per_epoch`` an epoch is one whole pass. A
generator is read once in all: when it has run out, :meth:`EpochIterator.epoch`
warns and returns None (``fit`` stops; an epoch is never empty).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from glassnet._warnings import warn
from glassnet.models.batch_sources import is_batch_source, kind_of
from glassnet.models.data_adapter import (
    ArrayDataAdapter,
    Batch,
    Standardize,
    get_data_adapter,
    prefixed,
    train_validation_split,
)

_END = object()


class EpochIterator:
    """``for step, batch in iterator``: the numbered batches of one epoch, each
    ``(x, y, sample_weight)``; iterate again (or call :meth:`epoch`) for the
    next epoch.

    ``num_batches`` is the number of steps per epoch, for the callbacks'
    ``params["steps"]`` (None when the data does not say). ``steps_per_epoch``
    cuts each epoch short: an epoch of arrays starts over (with a fresh
    permutation when shuffling); a source's epochs go on where the last one
    stopped (see the module). ``what`` names the data in warnings.
    """

    def __init__(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        batch_size: int | None = None,
        shuffle: bool = False,
        steps_per_epoch: int | None = None,
        class_weight: dict | None = None,
        standardize: Standardize | None = None,
        what: str = "x",
    ) -> None:
        self.data_adapter = get_data_adapter(
            x, y, sample_weight, batch_size, shuffle, class_weight, standardize
        )
        self.steps_per_epoch = steps_per_epoch
        self.what = what
        self.num_batches = count = self.data_adapter.num_batches
        if steps_per_epoch is not None:
            self.num_batches = (
                steps_per_epoch if count is None else min(count, int(steps_per_epoch))
            )
        self._pass: Iterator[Batch] | None = None
        self._warned = False

    @property
    def num_samples(self) -> int | None:
        """How many samples an epoch yields (None when the data does not say)."""
        adapter = self.data_adapter
        if not isinstance(adapter, ArrayDataAdapter):
            return None
        return min(adapter.num_samples, self.num_batches * adapter.batch_size)

    @property
    def first_batch(self) -> Batch:
        """The first batch (all of the arrays, for arrays): the targets'
        shape resolves the compiled metrics."""
        adapter = self.data_adapter
        if isinstance(adapter, ArrayDataAdapter):
            return adapter.x, adapter.y, adapter.sample_weight
        return adapter.first_batch

    def reset(self) -> None:
        """The next epoch starts a new pass over a source (Keras resets its
        iterator before each evaluation); a one-shot source goes on."""
        self._pass = None

    def __iter__(self) -> Iterator[tuple[int, Batch]]:
        return iter(self.epoch() or ())

    def epoch(self) -> Iterator[tuple[int, Batch]] | None:
        """The numbered batches of the next epoch; None (with a warning) when
        a one-shot source has no batch left."""
        adapter = self.data_adapter
        if isinstance(adapter, ArrayDataAdapter):
            # NOTE: zip takes the step first, so it never pulls (gathers) a
            # batch past the last step.
            return zip(range(self.num_batches), adapter.get_iterator())
        adapter.on_epoch_begin()
        fresh = self._pass is None or self.steps_per_epoch is None
        if fresh:
            self._pass = adapter.get_iterator()
        first = next(self._pass, _END)
        if first is _END and not fresh:  # the last epoch ended the pass
            self._pass = adapter.get_iterator()
            first = next(self._pass, _END)
        if first is _END:
            self._pass = None
            adapter.on_epoch_end()
            if not self._warned:
                self._ran_out("has no batch left for this epoch")
            self._warned = True
            return None
        self._warned = False
        return self._batches(first)

    def _batches(self, batch: Batch) -> Iterator[tuple[int, Batch]]:
        steps, step = self.steps_per_epoch, 0
        while True:
            yield step, batch
            step += 1
            if steps is not None and step >= steps:
                break
            batch = next(self._pass, _END)
            if batch is _END:
                self._pass = None
                if steps is not None:
                    self._ran_out(f"gave {step} of the {steps} steps of this epoch")
                    self._warned = True
                break
        self.data_adapter.on_epoch_end()

    def _ran_out(self, what_happened: str) -> None:
        kind = kind_of(self.data_adapter.source)
        warn(
            f"Your input ran out of data: `{self.what}` (a {kind}) {what_happened}. "
            "A generator is read once in all: make sure that it can give at least "
            "`steps_per_epoch * epochs` batches, or give a PyDataset or an "
            "iterable, which start a new pass each epoch.",
            RuntimeWarning,
        )


def make_iterator(
    standardize: Standardize,
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    class_weight: dict | None = None,
    batch_size: int | None = None,
    shuffle: bool = False,
    steps: int | None = None,
    what: str = "x",
) -> EpochIterator:
    """The iterator over ``x`` (and ``y``, ``sample_weight``): arrays checked
    by ``standardize`` at once, or a source whose batches it checks as they
    come."""
    with prefixed(what) if what != "x" else contextlib.nullcontext():
        if is_batch_source(x):
            return EpochIterator(
                x, y, sample_weight, batch_size, shuffle, steps, class_weight,
                standardize, what,
            )  # fmt: skip
        arrays = standardize(x, y, sample_weight, class_weight)
    return EpochIterator(*arrays, batch_size, shuffle, steps, what=what)


def fit_iterators(
    standardize: Standardize,
    x: Any,
    y: Any,
    sample_weight: Any,
    class_weight: dict | None,
    batch_size: int | None,
    shuffle: bool,
    steps_per_epoch: int | None,
    validation_split: float,
    validation_data: Any,
    validation_batch_size: int | None,
    validation_steps: int | None,
) -> tuple[EpochIterator, EpochIterator | None]:
    """``fit``'s training and validation iterators (None without validation):
    ``validation_data`` (a 3-tuple of arrays, or a source), or the last
    ``validation_split`` of the training arrays."""
    if validation_split and validation_data is None and is_batch_source(x):
        raise ValueError(
            "`validation_split` is only supported for arrays: a "
            f"{kind_of(x)} cannot be split. Pass validation_data instead. "
            f"Received: validation_split={validation_split}"
        )
    if is_batch_source(x) or validation_data is not None:
        train = make_iterator(
            standardize, x, y, sample_weight, class_weight, batch_size, shuffle,
            steps_per_epoch,
        )  # fmt: skip
        if validation_data is None:
            return train, None
        source = is_batch_source(validation_data)
        size = validation_batch_size
        if size is None and not source:
            size = batch_size
        val_x, val_y, val_sw = (
            (validation_data, None, None) if source else validation_data
        )
        val = make_iterator(
            standardize, val_x, val_y, val_sw, None, size, False, validation_steps,
            "validation_data",
        )  # fmt: skip
        return train, val
    if not validation_split:
        arrays = standardize(x, y, sample_weight, class_weight)
        return EpochIterator(*arrays, batch_size, shuffle, steps_per_epoch), None
    arrays = standardize(x, y, sample_weight, None)
    arrays, held_out = train_validation_split(arrays, validation_split)
    if class_weight:  # as in Keras: the training samples only, not val_loss's
        arrays = standardize(*arrays, class_weight)
    train = EpochIterator(*arrays, batch_size, shuffle, steps_per_epoch)
    size = validation_batch_size or batch_size
    return train, EpochIterator(*held_out, size, steps_per_epoch=validation_steps)
