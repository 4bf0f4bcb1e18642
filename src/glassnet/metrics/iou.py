"""Intersection-over-union metrics, as Keras 3 has them.

For a class c, IoU = TP / (TP + FP + FN): the (weighted) pixels or samples
labelled c and predicted c, over those labelled c or predicted c. Every
metric here accumulates one confusion matrix over all batches, rows the true
class and columns the predicted one, in a variable ``total_confusion_matrix``
of shape ``(num_classes, num_classes)`` (Keras's ``total_cm``), and reads the
IoU of each class off it. The result is the mean IoU of the target classes
that occurred (true or predicted) at all.

As in Keras, the matrix is kept in the metric's dtype, int32 unless told
otherwise: fractional sample weights are then cut to whole numbers (with a
warning). Pass ``dtype="float32"`` to weigh by fractions.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from glassnet._warnings import warn
from glassnet.config import epsilon
from glassnet.metrics import Metric, _registry

__all__ = ["BinaryIoU", "IoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU"]


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _checked_num_classes(num_classes: Any) -> int:
    if not _is_int(num_classes) or num_classes < 1:
        raise ValueError(
            "num_classes must be a positive integer. Received: "
            f"num_classes={num_classes!r}"
        )
    return num_classes


@_registry.register()
class IoU(Metric):
    """Mean intersection-over-union of the classes ``target_class_ids``.

    ``update_state(y_true, y_pred, sample_weight=None)`` takes class ids of
    any shape -- ``(batch,)``, or ``(batch, height, width)`` for segmentation
    -- or, with ``sparse_y_true=False`` / ``sparse_y_pred=False``, scores or
    one-hot vectors along ``axis`` (their argmax is the class). Both sides
    give the same shape of ids (a trailing axis of 1 may differ).
    ``sample_weight`` has that shape or lines up with its first axes (one
    weight per sample). Entries labelled ``ignore_class`` are left out.

    ``result()``: the mean over the target classes of TP / (TP + FP + FN),
    leaving out classes never seen (true or predicted); 0.0 before any data.

    >>> m = IoU(num_classes=2, target_class_ids=[0])
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> round(m.result(), 4)  # class 0: 1 / (1 + 1 + 1)
    0.3333
    """

    _direction = "up"  # better when larger (Keras's hint to callbacks)
    _config_keys = (
        "name",
        "dtype",
        "num_classes",
        "target_class_ids",
        "ignore_class",
        "sparse_y_true",
        "sparse_y_pred",
        "axis",
    )

    def __init__(
        self,
        num_classes: int,
        target_class_ids: Any,
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ) -> None:
        super().__init__(name=name, dtype=dtype or "int32")
        _checked_num_classes(num_classes)
        ids = list(target_class_ids)
        if not ids or not all(_is_int(i) and 0 <= i < num_classes for i in ids):
            raise ValueError(
                f"target_class_ids must be a non-empty list of class ids in "
                f"[0, {num_classes}). Received: target_class_ids={target_class_ids!r}"
            )
        if ignore_class is not None and not _is_int(ignore_class):
            raise ValueError(
                f"ignore_class must be an integer class id or None. Received: "
                f"ignore_class={ignore_class!r}"
            )
        if not _is_int(axis):
            raise ValueError(f"axis must be an integer. Received: axis={axis!r}")
        self.num_classes = num_classes
        self.target_class_ids = ids
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable(
            (num_classes, num_classes), "zeros", name="total_confusion_matrix"
        )

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add one batch's (weighted) confusion matrix to ``total_cm``."""
        y_true = self._class_ids(y_true, self.sparse_y_true, "y_true")
        y_pred = self._class_ids(y_pred, self.sparse_y_pred, "y_pred")
        y_true, y_pred = _same_shape(y_true, y_pred)
        weight = self._weights(sample_weight, y_true.shape)

        counted = np.ones(y_true.shape, bool)
        if self.ignore_class is not None:
            counted = y_true != self.ignore_class
        true = self._checked(y_true, counted, "y_true", self.sparse_y_true)
        pred = self._checked(y_pred, counted, "y_pred", self.sparse_y_pred)
        if weight is not None:
            weight = weight[counted]

        n = self.num_classes
        cells = np.bincount(true * n + pred, weights=weight, minlength=n * n)
        self.total_cm.assign_add(cells.reshape(n, n).astype(self.total_cm.dtype))

    def result(self) -> float:
        cm = self.total_cm.data
        true_positives = np.diagonal(cm)
        # predicted c + labelled c - both = TP + FP + FN
        union = cm.sum(axis=0) + cm.sum(axis=1) - true_positives
        ids = self.target_class_ids
        true_positives = true_positives[ids].astype(np.float32)
        union = union[ids].astype(np.float32)
        seen = union > 1e-9
        iou = np.where(seen, true_positives / (union + np.float32(epsilon())), 0.0)
        return float(iou.sum() / (seen.sum() + np.float32(epsilon())))

    def get_config(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self._config_keys}

    # --- input checks -----------------------------------------------------------------
    def _class_ids(self, values: Any, sparse: bool, argument: str) -> np.ndarray:
        """``values`` as an array of ids: as given, or the argmax along ``axis``."""
        values = np.asarray(getattr(values, "data", values))
        if sparse:
            return values
        if not -values.ndim <= self.axis < values.ndim:
            raise ValueError(
                f"axis={self.axis} is not an axis of {argument}, whose argmax gives "
                f"the classes (sparse_{argument}=False). Received: "
                f"{argument}.shape={values.shape}"
            )
        return values.argmax(axis=self.axis)

    def _checked(
        self, ids: np.ndarray, counted: np.ndarray, argument: str, sparse: bool
    ) -> np.ndarray:
        """The counted ``ids`` as integers; ValueError unless they are whole
        numbers in [0, num_classes)."""
        ids = ids[counted]
        whole = ids.astype(np.intp)
        bad = (whole != ids) | (whole < 0) | (whole >= self.num_classes)
        if bad.any():
            hint = ""
            if sparse:
                hint = (
                    f" (sparse_{argument}=True; for scores or one-hot vectors "
                    f"pass sparse_{argument}=False)"
                )
            raise ValueError(
                f"{argument} must hold class ids in [0, {self.num_classes}){hint}. "
                f"Received: {argument} with a value of {ids[bad][0].item()!r}"
            )
        return whole

    def _weights(self, sample_weight: Any, shape: tuple[int, ...]) -> Any:
        """``sample_weight`` in the metric's dtype, of the ids' ``shape``: one
        weight per id (any shape of that size, as Keras flattens both), or
        per sample, lined up with the first axes."""
        if sample_weight is None:
            return None
        given = np.asarray(getattr(sample_weight, "data", sample_weight))
        weight = given
        if weight.ndim and weight.size == np.prod(shape):
            weight = weight.reshape(shape)
        weight = weight.reshape(weight.shape + (1,) * (len(shape) - weight.ndim))
        try:
            weight = np.broadcast_to(weight, shape)
        except ValueError:
            raise ValueError(
                "sample_weight must give one weight per class id or per sample "
                f"(ids of shape {shape}). Received: sample_weight of shape "
                f"{given.shape}"
            ) from None
        cast = weight.astype(self.dtype)
        if np.issubdtype(cast.dtype, np.integer) and np.any(cast != weight):
            warn(
                f"{type(self).__name__} keeps its counts in {self.dtype}, so the "
                "fractional sample weights were cut to whole numbers (as in "
                "Keras). Pass dtype='float32' to weigh by fractions."
            )
        return cast


def _same_shape(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[Any, Any]:
    """Both id arrays of one shape: a trailing axis of 1 on one side dropped."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1:] == (1,):
        y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1:] == (1,):
        y_pred = y_pred[..., 0]
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "y_true and y_pred must give class ids of one shape (after the "
            "argmax of one-hot or score vectors). Received: class ids of shape "
            f"{y_true.shape} (y_true) and {y_pred.shape} (y_pred)"
        )
    return y_true, y_pred


@_registry.register()
class MeanIoU(IoU):
    """The mean IoU over all ``num_classes`` classes (:class:`IoU` with every
    class a target)."""

    _config_keys = (
        "num_classes",
        "name",
        "dtype",
        "ignore_class",
        "sparse_y_true",
        "sparse_y_pred",
        "axis",
    )

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = -1,
    ) -> None:
        super().__init__(
            num_classes,
            list(range(_checked_num_classes(num_classes))),
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )


@_registry.register()
class BinaryIoU(IoU):
    """IoU of a binary task: a prediction is class 1 where ``y_pred >=
    threshold``, else class 0; ``y_true`` holds 0s and 1s, of ``y_pred``'s
    shape. ``target_class_ids``: ``[0]``, ``[1]`` or both (their mean)."""

    _config_keys = ("target_class_ids", "threshold", "name", "dtype")

    def __init__(
        self,
        target_class_ids: Any = (0, 1),
        threshold: float = 0.5,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = np.asarray(getattr(y_pred, "data", y_pred), np.float32)
        positive = (y_pred >= self.threshold).astype(np.int32)
        super().update_state(y_true, positive, sample_weight)


@_registry.register()
class OneHotIoU(IoU):
    """:class:`IoU` of one-hot ``y_true`` (classes along ``axis``); ``y_pred``
    scores along ``axis`` too, or class ids with ``sparse_y_pred=True``."""

    _config_keys = (
        "num_classes",
        "target_class_ids",
        "name",
        "dtype",
        "ignore_class",
        "sparse_y_pred",
        "axis",
    )

    def __init__(
        self,
        num_classes: int,
        target_class_ids: Any,
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_pred: bool = False,
        axis: int = -1,
    ) -> None:
        super().__init__(
            num_classes,
            target_class_ids,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )


@_registry.register()
class OneHotMeanIoU(MeanIoU):
    """:class:`MeanIoU` of one-hot ``y_true`` (classes along ``axis``);
    ``y_pred`` scores along ``axis`` too, or ids with ``sparse_y_pred=True``."""

    _config_keys = (
        "num_classes",
        "name",
        "dtype",
        "ignore_class",
        "sparse_y_pred",
        "axis",
    )

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        dtype: Any = None,
        ignore_class: int | None = None,
        sparse_y_pred: bool = False,
        axis: int = -1,
    ) -> None:
        super().__init__(
            num_classes,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )
