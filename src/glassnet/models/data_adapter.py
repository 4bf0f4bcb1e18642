"""The data side of training (Keras 3's data adapters).

What fit / evaluate / predict are given -- ``x``, ``y``, ``sample_weight``,
``class_weight``, ``validation_split``, ``validation_data`` -- becomes checked
NumPy arrays here (:func:`model_batch`: against each other and the model),
and then batches, which :class:`~glassnet.models.epoch_iterator.EpochIterator`
numbers epoch by epoch.

Arrays are checked and cast to the model's dtype once per call, never per
batch. An unshuffled epoch yields views of the arrays; a shuffled epoch draws
one ``np.random.permutation(n)`` (so ``np.random.seed`` makes training
repeatable, bit for bit) and gathers its batches ``group`` at a time.

:func:`get_data_adapter` picks one adapter per kind of data: arrays (and what
``np.asarray`` takes) here; generators, iterables and ``PyDataset`` objects,
which make their own batches, in :mod:`~glassnet.models.batch_sources` (their
batches are checked one by one as they arrive). Keras's
``unpack_x_y_sample_weight`` and ``pack_x_y_sample_weight`` are importable
from here too.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from glassnet import tree
from glassnet._warnings import warn
from glassnet.autograd import Tensor
from glassnet.models.batch_sources import (  # noqa: F401 (Keras's helpers, here too)
    GeneratorDataAdapter,
    PyDatasetAdapter,
    is_batch_source,
    is_py_dataset,
    kind_of,
    pack_x_y_sample_weight,
    unpack_x_y_sample_weight,
)

Batch = tuple[np.ndarray, "np.ndarray | None", "np.ndarray | None"]
#: ``standardize(x, y, sample_weight, class_weight)`` -> a checked Batch.
Standardize = Callable[[Any, Any, Any, Any], Batch]

# NOTE: about 1 MB of float32 per gather: one gather of scattered rows overlaps
# its cache misses better than many small ones, and a shuffled copy of all of x
# would cost its memory.
GATHER_ELEMENTS = 1 << 18


# --- checked arrays ---------------------------------------------------------------
def _as_real(value: Any, arg: str) -> np.ndarray:
    """``value`` as an array of real numbers (or bools); complex values are an
    error, not silently cut to their real part."""
    try:
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
    except ValueError as err:  # NOTE: ragged nested lists
        raise ValueError(
            f"`{arg}` could not be read as an array: {err}. "
            f"Received: {arg} of type {type(value).__name__}"
        ) from None
    if np.iscomplexobj(array):
        raise TypeError(
            f"`{arg}` is complex ({array.dtype}); glassnet trains on real numbers and "
            "will not drop the imaginary part. Pass its .real (or np.abs) "
            f"explicitly. Received: {arg} of dtype {array.dtype}"
        )
    if not np.issubdtype(array.dtype, np.number) and array.dtype != bool:
        raise TypeError(
            f"`{arg}` needs numeric input (numbers or bools). Received: {arg} of "
            f"dtype {array.dtype} (from {type(value).__name__})"
        )
    return array


def _cast(array: np.ndarray, dtype: Any, what: str) -> np.ndarray:
    """``array`` as a C-contiguous array of ``dtype``, every value finite; a
    finite value too large for ``dtype`` is reported as overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        cast = np.ascontiguousarray(array, dtype=dtype)
    if np.isfinite(cast).all():
        return cast
    if np.isfinite(array).all():
        largest = float(np.abs(array).max())
        raise ValueError(
            f"{what} has values too large for {np.dtype(dtype).name}: the largest "
            f"magnitude is {largest:.4g}, and {np.dtype(dtype).name} holds at most "
            f"{float(np.finfo(dtype).max):.4g}, so they would overflow to infinity. "
            "Scale the data, or give the model's layers dtype='float64'."
        )
    bad = ~np.isfinite(array)
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    raise ValueError(
        f"{what} contains NaN or infinity: {int(bad.sum())} of its {array.size} "
        f"values, the first at index {first}."
    )


def _all_finite(x: np.ndarray) -> bool:
    """Whether every value of float array ``x`` is finite (a few values are
    checked in Python: NumPy's call costs more than they do)."""
    if x.size <= 16:
        return all(map(math.isfinite, x.ravel().tolist()))
    return bool(np.isfinite(x).all())


def standardize_x(
    x: Any,
    dtype: Any,
    input_shape: tuple | None,
    name: str,
    allow_empty: bool = True,
) -> np.ndarray:
    """``x`` as a C-contiguous ``(batch, ...)`` array of ``dtype``.

    A 1-D ``x`` is read as one feature per sample (``(n,)`` -> ``(n, 1)``),
    which only fits a model whose ``input_shape`` is unknown or ``(None, 1)``.
    ``name`` is the model's, for the messages. Complex, non-numeric, NaN,
    infinite and (for float32) overflowing values are errors, and so are zero
    samples unless ``allow_empty``.
    """
    if (
        type(x) is np.ndarray
        and x.ndim >= 2
        and x.dtype == dtype
        and x.flags.c_contiguous
        and (allow_empty or len(x))
        and _all_finite(x)
    ):
        return x  # NOTE: the common case, a prediction's: nothing to convert
    if isinstance(x, (list, tuple)) and len(x) == 1 and np.ndim(x[0]) >= 2:
        x = x[0]
    if x is None:
        raise ValueError(f"Model {name!r} needs input data. Received: x=None")
    x = _as_real(x, "x")
    if x.ndim == 0:  # NOTE: before ascontiguousarray, which makes it 1-D
        raise ValueError(
            f"Model {name!r} needs a batch of samples. Received: a scalar x."
        )
    if not allow_empty and len(x) == 0:
        raise ValueError(
            "`x` has no samples: fit, evaluate and predict need at least one. "
            f"Received: x of shape {x.shape}"
        )
    if x.ndim == 1:
        if input_shape is not None and (len(input_shape) != 2 or input_shape[1] != 1):
            raise ValueError(
                f"Model {name!r} expects input of shape {input_shape}; a 1-D x is "
                f"read as one feature per sample. Received: x of shape {x.shape}"
            )
        x = x[:, None]
    return _cast(x, dtype, "Input x")


def _fits(shape: tuple, expected: tuple) -> bool:
    return len(shape) == len(expected) and all(
        e is None or s == e for s, e in zip(shape, expected)
    )


def _integral(y: np.ndarray) -> bool:
    if np.issubdtype(y.dtype, np.integer) or y.dtype == bool:
        return True
    return bool(np.isfinite(y).all() and (y == np.round(y)).all())


def _check_targets(y: np.ndarray, output_shape: tuple, targets: str | None) -> None:
    """``y`` against the model's ``output_shape``: the same shape, or integer
    class labels (one per output row) where the loss takes them (``targets``
    ``"labels"``, or None: a loss glassnet does not know). A target that would
    only fit by broadcasting is an error that shows both shapes."""
    out = tuple(output_shape[1:])
    if (targets != "labels" or not out) and _fits(y.shape[1:], out):
        return
    classes = out[-1] if out else None
    labels = _fits(y.shape[1:], out[:-1]) or _fits(y.shape[1:], (*out[:-1], 1))
    labels = bool(out) and labels and (targets == "labels" or (classes or 0) > 1)
    integral = labels and _integral(y)
    if integral and targets != "same":
        checked = targets == "labels" and classes and y.size
        if checked and (y.min() < 0 or y.max() >= classes):
            raise ValueError(
                f"The labels in y must be in [0, {classes}) for the model's "
                f"{classes} outputs. Received: labels from {y.min()} to {y.max()}"
            )
        return
    if targets == "labels":
        hint = (
            "The loss takes integer class labels of shape (n,) or (n, 1) (use "
            "categorical_crossentropy for one-hot targets)."
        )
    elif integral:
        hint = (
            "Integer class labels need loss='sparse_categorical_crossentropy'; "
            "this loss compares y with the output value by value."
        )
    else:
        hint = "They would only fit by broadcasting, which trains on wrong targets."
    raise ValueError(
        f"Target y of shape {y.shape} does not fit the model's output of shape "
        f"{tuple(output_shape)}. {hint} Received: y of shape {y.shape} for an "
        f"output of shape {tuple(output_shape)}"
    )


def standardize_y(
    y: Any,
    n: int,
    output_shape: tuple | None,
    dtype: Any,
    targets: str | None = None,
    check: bool = True,
) -> np.ndarray:
    """``y`` checked against ``n`` samples and the model's ``output_shape``.

    ``(n,)`` targets of a one-unit output become ``(n, 1)``. ``y`` must then
    have the output's shape, or be integer class labels ``(n,)`` / ``(n, 1)``
    where the loss takes them: ``targets`` (``CompileLoss.targets``) is
    ``"same"``, ``"labels"`` (checked to be in ``[0, classes)``) or None (a
    loss glassnet does not know: either, labels for several outputs). Float
    targets, and targets of the output's rank, are cast to ``dtype``; integer
    labels of a lower rank keep their dtype. ``check=False`` (a custom step's
    targets): only the number of samples is checked.
    """
    if y is None:
        raise ValueError(
            "The loss needs targets: pass y (the values the model's outputs are "
            "compared with). Received: y=None"
        )
    y = _as_real(y, "y")
    if y.ndim == 0 or len(y) != n:
        got = "no samples (a scalar)" if y.ndim == 0 else len(y)
        raise ValueError(
            "x and y must have the same number of samples. Received: "
            f"x with {n} samples, y with {got}."
        )
    out = output_shape
    if out is not None and y.ndim == len(out) - 1 and out[-1] == 1:
        y = y[..., None]
    if out is not None and check:
        _check_targets(y, out, targets)
    if np.issubdtype(y.dtype, np.floating) or (out is not None and y.ndim == len(out)):
        y = _cast(y, dtype, "Target y")
    return y


def model_batch(
    model: Any,
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    class_weight: dict | None = None,
    targets: bool | None = True,
) -> Batch:
    """``(x, y, sample_weight)`` checked against each other and ``model``
    (``x`` by ``model._as_x``, which builds an unbuilt model). ``targets``:
    True, y is for the compiled loss (checked against the output); False, for
    a custom step (optional: only its length is checked); None, x alone (for
    prediction)."""
    if getattr(model, "_several", False):
        return several_batch(model, x, y, sample_weight, class_weight, targets)
    if getattr(model, "_subclassed", False) and _is_array_structure(x):
        x = structured_x(model, x)
    else:
        x = model._as_x(x, allow_empty=False)
    if targets is None:
        return x, None, None
    if y is None and model._compile_loss.fn is None:  # the model's own losses
        targets = False
    n = num_samples(x)
    if y is not None or targets:
        out, kind = model.output_shape, model._compile_loss.targets
        y = standardize_y(y, n, out, model._dtype, kind, check=targets)
    return x, y, sample_weights(y, sample_weight, class_weight, model._dtype, n)


class Leaves(list):
    """The arrays of a structure of inputs (a dict, list or tuple of arrays),
    flat, with the structure to rebuild: a subclassed model's several
    inputs, batched as one list of arrays is."""

    def __init__(self, arrays: list[np.ndarray], template: Any) -> None:
        super().__init__(arrays)
        self.template = template

    def like(self, arrays: list[np.ndarray]) -> Leaves:
        """Other arrays (rows of these) in the same structure."""
        return Leaves(arrays, self.template)

    def packed(self, values: list[Any]) -> Any:
        """``values`` (one per array) in the structure the inputs came in."""
        return tree.pack_sequence_as(self.template, list(values))


def _is_array_structure(x: Any) -> bool:
    """Whether ``x`` is a dict, or a list or tuple of several arrays (not
    nested lists of numbers, which are one array, nor ``[x]``, which is x)."""
    if type(x) not in (dict, list, tuple) or not x:
        return False
    if type(x) is not dict and len(x) == 1:
        return False
    return all(isinstance(v, (np.ndarray, Tensor)) for v in tree.flatten(x))


def structured_x(model: Any, x: Any) -> Leaves:
    """A subclassed model's structure of input arrays, checked (real, finite,
    floats cast to the model's dtype, one length) and flat; the first data
    seen builds the model (on the structure of their shapes)."""
    arrays = []
    for value in tree.flatten(x):
        array = _as_real(value, "x")
        if np.issubdtype(array.dtype, np.floating):
            array = _cast(array, model._dtype, "Input x")
        arrays.append(array)
    sizes = [len(a) if a.ndim else 0 for a in arrays]
    if len(set(sizes)) != 1 or 0 in sizes:
        raise ValueError(
            "Data cardinality is ambiguous: every input needs the same number (at "
            f"least 1) of samples. Received sizes: {sizes}"
        )
    if not model.built:
        model.build(tree.pack_sequence_as(x, [a.shape for a in arrays]))
    return Leaves(arrays, x)


def several_batch(
    model: Any,
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    class_weight: dict | None = None,
    targets: bool | None = True,
) -> Batch:
    """:func:`model_batch` of a model of several inputs or outputs: ``x`` a
    list or dict of arrays (one per input; :meth:`FunctionalGraph.flatten_inputs`
    reads it as a call does), ``y`` one array per output (a list in output
    order, or a dict by output name: :class:`~glassnet.models.outputs.Outputs`),
    ``sample_weight`` one array for every output, or one per output. The
    batch holds lists: one array per input, and per output."""
    if x is None:
        raise ValueError(f"Model {model.name!r} needs input data. Received: x=None")

    def as_tensor(value: Any) -> Tensor:
        array = _as_real(value, "x")
        if np.issubdtype(array.dtype, np.floating):
            _cast(array, array.dtype, "Input x")  # NaN, infinity
        return model._as_tensor(array)

    xs = [t.data for t in model._graph.flatten_inputs(x, model.name, as_tensor)]
    sizes = [len(a) if a.ndim else 0 for a in xs]
    if len(set(sizes)) != 1 or 0 in sizes:
        raise ValueError(
            "Data cardinality is ambiguous: every input needs the same number (at "
            f"least 1) of samples. Received sizes: {sizes}"
        )
    n = sizes[0]
    if targets is None:
        return xs, None, None
    loss = model._compile_loss
    outputs = getattr(loss, "outputs", None)
    if y is None and loss.fn is None:  # the model's own losses
        targets = False
    if outputs is None:  # several inputs, one output
        if isinstance(y, (list, tuple)) and len(y) == 1:
            y = y[0]
        if y is not None or targets:
            out, kind = model.output_shape, loss.targets
            y = standardize_y(y, n, out, model._dtype, kind, check=targets)
        return xs, y, sample_weights(y, sample_weight, class_weight, model._dtype, n)
    if class_weight:
        raise ValueError(
            "`class_weight` is only supported for models with a single output: "
            "give `sample_weight` per output instead. Received: "
            f"class_weight={class_weight!r}"
        )
    ys = None
    if y is not None and not targets and not isinstance(y, (list, tuple, dict)):
        ys = standardize_y(y, n, None, model._dtype, check=False)  # a custom step's
    elif y is not None or targets:
        if y is None:
            standardize_y(None, n, None, None)  # NOTE: raises: the loss needs y
        ys = outputs.targets(y)
        for i, (name, target) in enumerate(zip(outputs.names, ys)):
            if target is None and loss.functions[i] is None:
                continue  # an output without a loss needs no targets
            with prefixed(f"y[{name!r}]"):
                ys[i] = standardize_y(
                    target, n, outputs.shapes[i], model._dtype, loss.targets[i],
                    check=targets,
                )  # fmt: skip
    sws = outputs.sample_weights(sample_weight)
    if sws is not None:
        for i, (name, weights) in enumerate(zip(outputs.names, sws)):
            with prefixed(f"sample_weight[{name!r}]"):
                sws[i] = sample_weights(None, weights, None, model._dtype, n)
    return xs, ys, sws


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
    y: np.ndarray | None,
    sample_weight: Any,
    class_weight: dict | None,
    dtype: Any,
    n: int | None = None,
) -> np.ndarray | None:
    """The per-sample weights, shape ``(n,)``: ``sample_weight`` (``(n,)`` or
    ``(n, 1)``, finite and >= 0) times the class weights of ``y``'s labels
    (None when neither is given). ``n`` defaults to ``len(y)``."""
    n = len(y) if n is None else n
    if class_weight and y is None:
        raise ValueError(
            "class_weight weighs the samples by their class in y, and y is None. "
            f"Received: class_weight={class_weight!r}, y=None"
        )
    sw = None
    if sample_weight is not None:
        sw = _as_real(sample_weight, "sample_weight")
        if sw.shape not in ((n,), (n, 1)):
            raise ValueError(
                f"sample_weight needs one weight per sample ({n}), shape ({n},). "
                f"Received: sample_weight of shape {sw.shape}"
            )
        sw = _cast(sw.reshape(n), dtype, "sample_weight")
        if n and sw.min() < 0:
            raise ValueError(
                "sample_weight must be >= 0 (a weight scales a sample's loss). "
                f"Received: sample_weight with minimum {sw.min()}"
            )
    if class_weight:
        cw = class_weight_to_sample_weight(y, class_weight, dtype)
        sw = cw if sw is None else sw * cw
    return sw


@contextlib.contextmanager
def prefixed(where: str) -> Iterator[None]:
    """The TypeError or ValueError raised inside starts with ``where``
    (``"validation_data: sample_weight needs one weight per sample ..."``)."""
    try:
        yield
    except (TypeError, ValueError) as err:
        raise type(err)(f"{where}: {err}") from None


def unpack_validation_data(data: Any) -> tuple[Any, Any, Any]:
    """``validation_data`` as ``(x, y, sample_weight)`` (the last may be None);
    a generator, iterable or PyDataset stays as it is."""
    if is_batch_source(data):
        return data
    if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
        got = type(data).__name__
        if isinstance(data, (tuple, list)):
            got += f" of {len(data)} items"
        raise ValueError(
            "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
            "sample_weight_val), or a generator or PyDataset of such batches. "
            f"Received: a {got}"
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
    n = num_samples(arrays[0])
    split = int(math.floor(n * (1.0 - validation_split)))
    if split == 0 or split == n:
        raise ValueError(
            f"validation_split={validation_split} leaves no samples for "
            f"{'training' if split == 0 else 'validation'} ({n} samples)."
        )
    train = tuple(take(a, slice(None, split)) for a in arrays)
    val = tuple(take(a, slice(split, None)) for a in arrays)
    return train, val


def num_samples(x: Any) -> int:
    """How many samples ``x`` holds (an array, or a list of arrays: several
    inputs)."""
    return len(x[0]) if isinstance(x, list) else len(x)


def take(a: Any, rows: Any) -> Any:
    """``a[rows]``: of an array, of each array of a list (several inputs or
    outputs); None stays None."""
    if a is None:
        return None
    if isinstance(a, list):
        rows_of = [None if b is None else b[rows] for b in a]
        return a.like(rows_of) if isinstance(a, Leaves) else rows_of
    return a[rows]


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
        self.several = any(isinstance(a, list) for a in (x, y, sample_weight))
        n = num_samples(x)
        self.num_samples = n
        self.num_batches = math.ceil(n / self.batch_size)
        size = sum(a.size for a in x) if isinstance(x, list) else x.size
        per_sample = size // max(n, 1)
        self.group = max(1, GATHER_ELEMENTS // max(1, self.batch_size * per_sample))

    def get_iterator(self) -> Iterator[Batch]:
        """The batches of one epoch (a fresh permutation when shuffling)."""
        if self.several:
            return self._lists()
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

    def _lists(self) -> Iterator[Batch]:
        """Batches of several inputs or outputs: the same rows of each array
        (the same permutation as :meth:`_shuffled` draws)."""
        x, y, sw, size = self.x, self.y, self.sample_weight, self.batch_size
        order = np.random.permutation(self.num_samples) if self.shuffle else None
        for lo in range(0, self.num_samples, size):
            rows = slice(lo, lo + size) if order is None else order[lo : lo + size]
            yield take(x, rows), take(y, rows), take(sw, rows)

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


def _plain_arrays(
    x: Any, y: Any, sample_weight: Any, class_weight: Any = None
) -> Batch:
    """The standardize of :func:`get_data_adapter` when none is given."""
    arrays = tuple(None if a is None else np.asarray(a) for a in (x, y, sample_weight))
    return arrays  # type: ignore[return-value]


def get_data_adapter(
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    batch_size: int | None = None,
    shuffle: bool = False,
    class_weight: dict | None = None,
    standardize: Standardize | None = None,
) -> Any:
    """The adapter for this kind of data: a :class:`PyDatasetAdapter` or a
    :class:`GeneratorDataAdapter` for data that makes its own batches (each
    checked with ``standardize`` and ``class_weight``), else an
    :class:`ArrayDataAdapter` of the (checked) arrays ``x``, ``y`` and
    ``sample_weight``."""
    if not is_batch_source(x):
        size = 32 if batch_size is None else batch_size
        return ArrayDataAdapter(x, y, sample_weight, size, shuffle)
    kind = kind_of(x)
    for name, value, what in (
        ("y", y, "the targets"),
        ("sample_weight", sample_weight, "the sample weights"),
    ):
        if value is not None:
            raise ValueError(
                f"When providing `x` as a {kind}, `{name}` should not be passed. "
                f"Instead, {what} should be included as part of the {kind}. "
                f"Received: {name} of type {type(value).__name__}"
            )
    if batch_size is not None:  # Keras 3 ignores it too (silently)
        warn(
            f"`batch_size` is ignored when `x` is a {kind}: it makes its own "
            f"batches. Received: batch_size={batch_size}",
            UserWarning,
        )
    check = standardize or _plain_arrays

    def standardize_batch(xb: Any, yb: Any, swb: Any) -> Batch:
        return check(xb, yb, swb, class_weight)

    if is_py_dataset(x):
        return PyDatasetAdapter(x, standardize_batch, shuffle)
    return GeneratorDataAdapter(x, standardize_batch)
