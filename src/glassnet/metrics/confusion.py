"""Metrics read off a confusion matrix, as Keras 3 has them.

A binary classifier's prediction ``p`` counts as positive at a threshold ``t``
when ``p > t``. Over a batch, the (weighted) true and false positives and
negatives at every threshold make one confusion matrix per threshold:
:func:`confusion_counts` counts them, once for all the metrics here. Each
metric keeps the cells it needs in float32 variables named as Keras names them
(``true_positives``, ...) and reads its result off them: counts, precision,
recall, the area under the ROC or PR curve, and the best value of one rate
where another reaches a given level. (The F-scores, which count per class,
are in :mod:`glassnet.metrics.f_score`.)
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np

from glassnet.config import epsilon
from glassnet.metrics import Metric, _registry

__all__ = [
    "AUC",
    "FalseNegatives",
    "FalsePositives",
    "Precision",
    "PrecisionAtRecall",
    "Recall",
    "RecallAtPrecision",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
    "TrueNegatives",
    "TruePositives",
    "confusion_counts",
]

#: What the predictions outside the top ``k`` become (Keras's ``NEG_INF``).
NEG_INF = -1e10

CELLS = ("true_positives", "false_positives", "true_negatives", "false_negatives")


# --- counting ----------------------------------------------------------------------
def confusion_counts(
    y_true: Any,
    y_pred: Any,
    thresholds: Any,
    *,
    evenly: bool = False,
    top_k: int | None = None,
    class_id: int | None = None,
    sample_weight: Any = None,
    multi_label: bool = False,
    label_weights: Any = None,
    dtype: Any = "float32",
) -> dict[str, np.ndarray]:
    """One batch's weighted confusion matrix at each threshold (Keras's
    ``update_confusion_matrix_variables``), as ``{cell: counts}`` for the four
    ``CELLS``, each of shape ``(thresholds,)``, or ``(thresholds, labels)``
    with ``multi_label`` (``y_pred`` of shape ``(batch, labels)``).

    ``y_true`` is positive where it is not 0 and has ``y_pred``'s shape (a
    last axis of 1 may be missing on either side). ``top_k`` keeps the ``k``
    largest predictions of each row (the others become ``NEG_INF``), then
    ``class_id`` keeps one column. ``sample_weight`` lines up with
    ``y_true``'s first axes; ``label_weights`` (one per label) weigh the last.

    Each prediction falls in the bucket of the largest threshold it exceeds,
    and the counts at a threshold sum the buckets from it up, so the cost is
    one pass over the predictions, whatever the number of thresholds.
    ``evenly`` spaced thresholds (``i / (n - 1)``, or those with Keras's end
    points just below 0 and above 1) find the bucket by arithmetic on the
    predictions clipped to [0, 1], as Keras does, so results agree at the
    edges too.
    """
    dtype = np.dtype(dtype)
    y_true, y_pred = _aligned(y_true, y_pred, dtype)
    weight = np.ones((), dtype)
    if sample_weight is not None:
        weight = np.asarray(getattr(sample_weight, "data", sample_weight), dtype)
        if weight.ndim != y_true.ndim:  # one per sample: over its last axis too
            weight = weight[..., None]
    if top_k is not None:
        y_pred = _keep_top_k(y_pred, top_k)
    if class_id is not None:
        y_true, y_pred = _one_class(y_true, y_pred, class_id)
    if label_weights is not None:
        weight = weight * np.asarray(label_weights, dtype)
    weight = _broadcast_weight(weight, y_pred.shape, sample_weight, label_weights)

    if multi_label and y_pred.ndim != 2:
        raise ValueError(
            "With multi_label=True, y_pred must have shape (batch, labels). "
            f"Received: y_pred.shape={y_pred.shape}"
        )
    labels = y_pred.shape[1] if multi_label else 1
    y_true, y_pred = y_true.reshape(-1, labels), y_pred.reshape(-1, labels)
    weight = weight.reshape(-1, labels).astype(np.float64)

    thresholds = np.asarray(thresholds, dtype)
    bucket, order = _buckets(y_pred, thresholds, evenly)
    count = len(thresholds)
    # the bucket of a prediction above no threshold is -1: row 0, never summed
    index = ((bucket + 1) * labels + np.arange(labels)).ravel()

    def passing(values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` whose prediction exceeds each threshold."""
        per_bucket = np.bincount(index, values.ravel(), (count + 1) * labels)
        per_bucket = per_bucket.reshape(count + 1, labels)
        return np.cumsum(per_bucket[:0:-1], axis=0)[::-1]

    positive = np.where(y_true != 0, weight, 0.0)
    negative = weight - positive
    tp, fp = passing(positive), passing(negative)
    fn, tn = positive.sum(axis=0) - tp, negative.sum(axis=0) - fp
    back = slice(None) if order is None else np.argsort(order)  # given order
    column = slice(None) if multi_label else 0
    return {cell: c[back, column] for cell, c in zip(CELLS, (tp, fp, tn, fn))}


def _aligned(y_true: Any, y_pred: Any, dtype: np.dtype) -> tuple[Any, Any]:
    """Arrays of one shape: a last axis of 1 on one side is dropped, or given to
    a 1-D other side (Keras's ``squeeze_or_expand_to_same_rank``)."""
    y_true = np.asarray(getattr(y_true, "data", y_true), dtype)
    y_pred = np.asarray(getattr(y_pred, "data", y_pred), dtype)
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1:] == (1,):
        if y_true.ndim == 1:
            y_true = y_true[:, None]
        else:
            y_pred = y_pred[..., 0]
    elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1:] == (1,):
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        else:
            y_true = y_true[..., 0]
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "y_true and y_pred must have the same shape (a last axis of 1 may be "
            f"missing on either side). Received: y_true.shape={y_true.shape}, "
            f"y_pred.shape={y_pred.shape}"
        )
    return y_true, y_pred


def _keep_top_k(y_pred: np.ndarray, k: int) -> np.ndarray:
    """``y_pred`` with all but the ``k`` largest of each row (last axis; the
    first of ties) set to ``NEG_INF``, so no threshold in [0, 1] passes them."""
    top = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(y_pred.shape, bool)
    np.put_along_axis(keep, top, True, axis=-1)
    return np.where(keep, y_pred, y_pred.dtype.type(NEG_INF))


def _one_class(y_true: np.ndarray, y_pred: np.ndarray, class_id: int) -> tuple:
    """The column ``class_id`` of ``(..., classes)`` arrays, kept as an axis of 1."""
    if y_pred.ndim < 2 or not 0 <= class_id < y_pred.shape[-1]:
        raise ValueError(
            "class_id needs y_pred of shape (batch, classes) and must be in "
            f"[0, classes). Received: class_id={class_id}, "
            f"y_pred.shape={y_pred.shape}"
        )
    return y_true[..., class_id, None], y_pred[..., class_id, None]


def _broadcast_weight(
    weight: np.ndarray, shape: tuple, sample_weight: Any, label_weights: Any
) -> np.ndarray:
    try:
        return np.broadcast_to(weight, shape)
    except ValueError:
        given = f"sample_weight of shape {np.shape(sample_weight)}"
        if label_weights is not None:
            given += f" and label_weights of shape {np.shape(label_weights)}"
        raise ValueError(
            "sample_weight must line up with the first axes of y_true (one "
            "weight per sample, or per entry), label_weights with the last. "
            f"Received: {given} for y_pred of shape {shape}"
        ) from None


def _buckets(
    y_pred: np.ndarray, thresholds: np.ndarray, evenly: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per prediction, the index of the largest threshold it exceeds (-1 for
    none) among the sorted thresholds, and the order that sorts them (None:
    already sorted)."""
    if evenly:
        steps = y_pred.dtype.type(len(thresholds) - 1)
        bucket = np.ceil(np.clip(y_pred, 0, 1) * steps) - 1
        if thresholds[0] < 0 or thresholds[-1] > 1:  # end points around [0, 1]
            bucket = np.maximum(bucket, 0)
        return bucket.astype(np.intp), None
    order = np.argsort(thresholds, kind="stable")
    bucket = np.searchsorted(thresholds[order], y_pred, side="left") - 1
    return bucket, order


def _evenly_spaced(thresholds: Any) -> bool:
    """Whether ``thresholds`` are ``i / (n - 1)`` for ``i < n``, ``n >= 3``
    (Keras's test, to within ``epsilon()``)."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=epsilon()))


def _thresholds(thresholds: Any, default: float) -> list[float]:
    """``thresholds`` (a float or a list of floats in [0, 1]) as a list;
    ``[default]`` for None."""
    if thresholds is None:
        return [default]
    if isinstance(thresholds, (list, tuple)):
        values = list(thresholds)
    else:
        values = np.ravel(thresholds).tolist()
    bad = [t for t in values if not isinstance(t, Real) or not 0 <= t <= 1]
    if bad or not values:
        raise ValueError(
            "Argument `thresholds` must be a float or a list of floats in [0, 1]. "
            f"Received: thresholds={thresholds!r}"
        )
    return [float(t) for t in values]


def _divide_no_nan(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a / b``, 0 where ``b`` is 0."""
    a, b = np.broadcast_arrays(a, b)
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


def _scalar_or_array(values: np.ndarray) -> Any:
    """A float for one threshold, else the array (as Keras returns them)."""
    return float(values[0]) if len(values) == 1 else np.array(values)


def _add_counts(metric: Metric, counts: dict[str, np.ndarray]) -> None:
    """Add ``counts`` to the metric's variables named as the cells."""
    for cell, value in counts.items():
        variable = getattr(metric, cell, None)
        if variable is not None:
            variable.assign_add(value)


# --- counts, precision and recall ----------------------------------------------------
class _CountAtThresholds(Metric):
    """The weighted count of one confusion-matrix ``cell`` at each threshold:
    one float variable ``accumulator`` of shape ``(thresholds,)``; the result is
    a float for one threshold, else an array."""

    cell = ""

    def __init__(
        self, thresholds: Any = None, name: str | None = None, dtype: Any = None
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _thresholds(thresholds, 0.5)
        self._evenly = _evenly_spaced(self.thresholds)
        self.accumulator = self.add_variable(
            (len(self.thresholds),), "zeros", name="accumulator"
        )

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        counts = confusion_counts(
            y_true,
            y_pred,
            self.thresholds,
            evenly=self._evenly,
            sample_weight=sample_weight,
            dtype=self.dtype,
        )
        self.accumulator.assign_add(counts[self.cell])

    def result(self) -> Any:
        return _scalar_or_array(self.accumulator.data)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "thresholds": self.init_thresholds}


@_registry.register()
class TruePositives(_CountAtThresholds):
    """Weighted count of positives predicted above each threshold (default 0.5).

    >>> TruePositives()([0, 1, 1, 1], [1, 0, 1, 1])
    2.0
    """

    cell = "true_positives"


@_registry.register()
class FalsePositives(_CountAtThresholds):
    """Weighted count of negatives predicted above each threshold (default 0.5)."""

    cell = "false_positives"


@_registry.register()
class TrueNegatives(_CountAtThresholds):
    """Weighted count of negatives predicted at or below each threshold."""

    cell = "true_negatives"


@_registry.register()
class FalseNegatives(_CountAtThresholds):
    """Weighted count of positives predicted at or below each threshold."""

    cell = "false_negatives"


class _RatioAtThresholds(Metric):
    """``tp / (tp + other)`` at each threshold (0 where nothing counts), from
    two variables of shape ``(thresholds,)``: ``true_positives`` and the
    ``other`` cell.

    ``top_k`` counts only the ``k`` largest predictions of each sample as
    candidates (then, without ``thresholds``, all ``k`` as positive);
    ``class_id`` looks at one column of ``(batch, classes)`` predictions.
    """

    other = ""
    _direction = "up"  # better when larger (Keras's hint to callbacks)

    def __init__(
        self,
        thresholds: Any = None,
        top_k: int | None = None,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
            raise ValueError(
                f"Argument `top_k` must be a positive integer or None. "
                f"Received: top_k={top_k!r}"
            )
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        self.thresholds = _thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        self._evenly = _evenly_spaced(self.thresholds)
        shape = (len(self.thresholds),)
        self.true_positives = self.add_variable(shape, name="true_positives")
        setattr(self, self.other, self.add_variable(shape, name=self.other))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        counts = confusion_counts(
            y_true,
            y_pred,
            self.thresholds,
            evenly=self._evenly,
            top_k=self.top_k,
            class_id=self.class_id,
            sample_weight=sample_weight,
            dtype=self.dtype,
        )
        _add_counts(self, counts)

    def result(self) -> Any:
        tp = self.true_positives.data
        return _scalar_or_array(_divide_no_nan(tp, tp + getattr(self, self.other).data))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


@_registry.register()
class Precision(_RatioAtThresholds):
    """Of the predictions above the threshold (default 0.5), the weighted share
    that are positive: ``tp / (tp + fp)``.

    Arguments ``thresholds`` (a float or a list, one result each), ``top_k``,
    ``class_id``; ``y_true`` and ``y_pred`` of one shape, any rank.

    >>> Precision()([0, 1, 1, 1], [1, 0, 1, 1])
    0.6666666865348816
    """

    other = "false_positives"


@_registry.register()
class Recall(_RatioAtThresholds):
    """Of the positives, the weighted share predicted above the threshold
    (default 0.5): ``tp / (tp + fn)``. Arguments as for :class:`Precision`."""

    other = "false_negatives"


# --- area under the curve ----------------------------------------------------------
_CURVES = ("ROC", "PR", "PRGAIN")
_SUMMATIONS = ("interpolation", "minoring", "majoring")


def _choice(argument: str, value: Any, valid: tuple[str, ...]) -> str:
    """``value`` spelled as in ``valid`` (case aside), else ValueError."""
    for name in valid:
        if isinstance(value, str) and value.lower() == name.lower():
            return name
    raise ValueError(
        f"Invalid `{argument}`. Expected one of {list(valid)}. "
        f"Received: {argument}={value!r}"
    )


@_registry.register()
class AUC(Metric):
    """Area under the ROC (or precision-recall) curve, by a Riemann sum over
    ``num_thresholds`` thresholds.

    The thresholds are ``i / (num_thresholds - 1)`` inside (0, 1), or the
    given ``thresholds`` sorted, between end points ``-epsilon()`` and
    ``1 + epsilon()`` (so that predictions of exactly 0 and 1 fall inside).
    Four variables of shape ``(num_thresholds,)`` count the confusion matrix
    at each; the curve is read off them when ``result()`` is asked.

    Parameters
    ----------
    num_thresholds : int
        How many thresholds (> 1), when ``thresholds`` is not given.
    curve : {"ROC", "PR", "PRGAIN"}
        True-positive rate against false-positive rate; precision against
        recall; or precision gain against recall gain.
    summation_method : {"interpolation", "minoring", "majoring"}
        The trapezoid rule (for "PR", Davis & Goadrich's interpolation of the
        counts, not of precision), or the lower or upper rectangle.
    thresholds : list of float, optional
        The inner thresholds, in [0, 1]; ``num_thresholds`` is then their
        count plus 2.
    multi_label : bool
        Predictions ``(batch, labels)`` have one curve per label (variables of
        shape ``(num_thresholds, labels)``, made at the first batch unless
        ``num_labels`` is given), averaged with ``label_weights``. Otherwise
        every entry is one more sample, weighed by its label's weight.
    from_logits : bool
        Predictions are logits: a sigmoid turns them into probabilities.

    >>> AUC(num_thresholds=3)([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    0.75
    """

    _direction = "up"

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        dtype: Any = None,
        thresholds: Any = None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights: Any = None,
        from_logits: bool = False,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        self.curve = _choice("curve", curve, _CURVES)
        self.summation_method = _choice(
            "summation_method", summation_method, _SUMMATIONS
        )
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(_thresholds(thresholds, 0.5))
            self._evenly = _evenly_spaced([0.0, *inner, 1.0])
        elif not isinstance(num_thresholds, Integral) or num_thresholds <= 1:
            raise ValueError(
                "Argument `num_thresholds` must be an integer > 1. "
                f"Received: num_thresholds={num_thresholds!r}"
            )
        else:
            inner = (np.arange(1, num_thresholds - 1) / (num_thresholds - 1)).tolist()
            self._evenly = True
        self.num_thresholds = len(inner) + 2
        self._thresholds = np.array([-epsilon(), *inner, 1.0 + epsilon()])
        if num_labels and not multi_label:
            raise ValueError(
                "Argument `num_labels` is needed only when `multi_label` is True. "
                f"Received: num_labels={num_labels!r}, multi_label={multi_label!r}"
            )
        self.multi_label, self.num_labels = multi_label, num_labels
        self.label_weights = None
        if label_weights is not None:
            self.label_weights = np.asarray(label_weights, self.dtype)
        self.from_logits = from_logits
        self._num_labels = None
        if not multi_label or num_labels:
            self._build(num_labels)

    @property
    def thresholds(self) -> list[float]:
        """Every threshold, the end points included."""
        return self._thresholds.tolist()

    def _build(self, num_labels: int | None) -> None:
        self._num_labels = num_labels
        shape = (self.num_thresholds,) + ((num_labels,) if self.multi_label else ())
        for cell in CELLS:
            setattr(self, cell, self.add_variable(shape, name=cell))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = np.asarray(getattr(y_pred, "data", y_pred), self.dtype)
        if self.multi_label:
            labels = y_pred.shape[1] if y_pred.ndim == 2 else None
            if self._num_labels is None and labels is not None:
                self._build(labels)
            if labels is None or labels != self._num_labels:
                raise ValueError(
                    "With multi_label=True, y_pred must have shape (batch, labels) "
                    f"with {self._num_labels or 'the same'} labels in every batch. "
                    f"Received: y_pred.shape={y_pred.shape}"
                )
        if self.from_logits:
            y_pred = 1 / (1 + np.exp(-y_pred))
        counts = confusion_counts(
            y_true,
            y_pred,
            self._thresholds,
            evenly=self._evenly,
            sample_weight=sample_weight,
            multi_label=self.multi_label,
            # NOTE: several labels' curves are averaged with them in result()
            label_weights=None if self.multi_label else self.label_weights,
            dtype=self.dtype,
        )
        _add_counts(self, counts)

    def result(self) -> float:
        if self._num_labels is None and self.multi_label:
            return 0.0
        tp, fp, tn, fn = (getattr(self, cell).data for cell in CELLS)
        if self.curve == "PR" and self.summation_method == "interpolation":
            areas = _interpolated_pr_areas(tp, fp, fn)
        else:
            x, y = _curve(self.curve, tp, fp, tn, fn)
            if self.summation_method == "interpolation":
                heights = (y[:-1] + y[1:]) / 2
            elif self.summation_method == "minoring":
                heights = np.minimum(y[:-1], y[1:])
            else:
                heights = np.maximum(y[:-1], y[1:])
            areas = (x[:-1] - x[1:]) * heights
        if not self.multi_label:
            return float(areas.sum())
        per_label = areas.sum(axis=0)
        if self.label_weights is None:
            return float(per_label.mean())
        weights = self.label_weights
        return float(_divide_no_nan(np.sum(per_label * weights), np.sum(weights)))

    def get_config(self) -> dict[str, Any]:
        weights = self.label_weights
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if weights is None else weights.tolist(),
            "from_logits": self.from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


def _curve(curve: str, tp, fp, tn, fn) -> tuple[np.ndarray, np.ndarray]:
    """The curve's points ``(x, y)``, one per threshold (x falls as it rises)."""
    recall = _divide_no_nan(tp, tp + fn)
    if curve == "ROC":
        return _divide_no_nan(fp, fp + tn), recall
    if curve == "PR":
        return recall, _divide_no_nan(tp, tp + fp)
    # Precision-recall gain (Flach & Kull 2015), with P / N the classes' ratio.
    # Without true positives, recall gain is 0 and precision gain 1; recall
    # gain below 0 (recall under the positives' share) is taken as 0.
    ratio = _divide_no_nan(tp + fn, tn + fp)
    none = tp == 0
    recall_gain = np.where(none, 0.0, 1 - ratio * _divide_no_nan(fn, tp))
    precision_gain = np.where(none, 1.0, 1 - ratio * _divide_no_nan(fp, tp))
    return np.maximum(recall_gain, 0.0).astype(tp.dtype), precision_gain.astype(
        tp.dtype
    )


def _interpolated_pr_areas(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> Any:
    """The area under the PR curve between neighbouring thresholds, with the
    true positives and the predicted positives ``p = tp + fp`` taken linear
    in between (Davis & Goadrich 2006), not precision.

    With ``slope = dtp / dp`` and ``intercept = tp_B - slope * p_B`` on an
    interval ``[A, B]``, precision is ``slope + intercept / p``, and its
    integral over recall is ``slope * (dtp + intercept * log(p_A / p_B))``
    divided by the positives ``tp + fn``; the log term is left out where a
    ``p`` is 0 (constant precision in the first interval with positives).
    """
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = _divide_no_nan(dtp, np.maximum(dp, 0))
    intercept = tp[1:] - slope * p[1:]
    both = (p[:-1] > 0) & (p[1:] > 0)
    ratio = np.where(both, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1)
    area = slope * (dtp + intercept * np.log(ratio))
    return _divide_no_nan(area, np.maximum(tp[1:] + fn[1:], 0))


# --- one rate where another reaches a level ------------------------------------------
class _RateAtRate(Metric):
    """The largest ``best`` rate among the thresholds where the ``given`` rate
    is at least ``value`` (0 where none is). The thresholds are
    ``i / (num_thresholds - 1)`` (0.5 for one); four variables of shape
    ``(num_thresholds,)`` count the confusion matrix at each. ``class_id``
    looks at one column of ``(batch, classes)`` predictions."""

    given = best = ""
    _direction = "up"

    def __init__(
        self,
        value: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if not isinstance(value, Real) or not 0 <= value <= 1:
            raise ValueError(
                f"Argument `{self.given}` must be in the range [0, 1]. "
                f"Received: {self.given}={value!r}"
            )
        if not isinstance(num_thresholds, Integral) or num_thresholds <= 0:
            raise ValueError(
                "Argument `num_thresholds` must be an integer > 0. "
                f"Received: num_thresholds={num_thresholds!r}"
            )
        self.value, self.num_thresholds, self.class_id = value, num_thresholds, class_id
        setattr(self, self.given, value)
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            self.thresholds = (
                np.arange(num_thresholds) / (num_thresholds - 1)
            ).tolist()
        for cell in CELLS:
            setattr(self, cell, self.add_variable((len(self.thresholds),), name=cell))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        counts = confusion_counts(
            y_true,
            y_pred,
            self.thresholds,
            evenly=self.num_thresholds > 1,
            class_id=self.class_id,
            sample_weight=sample_weight,
            dtype=self.dtype,
        )
        _add_counts(self, counts)

    def result(self) -> float:
        tp, fp, tn, fn = (getattr(self, cell).data for cell in CELLS)
        recall = _divide_no_nan(tp, tp + fn)
        rates = {
            "precision": _divide_no_nan(tp, tp + fp),
            "recall": recall,
            "sensitivity": recall,
            "specificity": _divide_no_nan(tn, tn + fp),
        }
        reached = rates[self.given] >= np.asarray(self.value, tp.dtype)
        return float(np.max(np.where(reached, rates[self.best], 0), initial=0))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "class_id": self.class_id,
            "num_thresholds": self.num_thresholds,
            self.given: self.value,
        }


@_registry.register()
class SensitivityAtSpecificity(_RateAtRate):
    """The best sensitivity ``tp / (tp + fn)`` at a threshold where the
    specificity ``tn / (tn + fp)`` is at least ``specificity``."""

    given, best = "specificity", "sensitivity"

    def __init__(
        self,
        specificity: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(specificity, num_thresholds, class_id, name, dtype)


@_registry.register()
class SpecificityAtSensitivity(_RateAtRate):
    """The best specificity ``tn / (tn + fp)`` at a threshold where the
    sensitivity ``tp / (tp + fn)`` is at least ``sensitivity``."""

    given, best = "sensitivity", "specificity"

    def __init__(
        self,
        sensitivity: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)


@_registry.register()
class PrecisionAtRecall(_RateAtRate):
    """The best precision at a threshold where the recall is at least ``recall``."""

    given, best = "recall", "precision"

    def __init__(
        self,
        recall: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(recall, num_thresholds, class_id, name, dtype)


@_registry.register()
class RecallAtPrecision(_RateAtRate):
    """The best recall at a threshold where the precision is at least
    ``precision`` (0 where no threshold reaches it)."""

    given, best = "precision", "recall"

    def __init__(
        self,
        precision: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(precision, num_thresholds, class_id, name, dtype)
