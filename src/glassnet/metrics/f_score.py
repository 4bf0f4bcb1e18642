"""The F-scores of Keras 3: per class, the weighted harmonic mean of precision
and recall, counted at one threshold or at the top class of each sample (not
over thresholds as :mod:`glassnet.metrics.confusion` counts)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.config import epsilon
from glassnet.metrics import Metric, _registry

__all__ = ["F1Score", "FBetaScore"]

_AVERAGES = (None, "micro", "macro", "weighted")


@_registry.register()
class FBetaScore(Metric):
    """Per class, the weighted harmonic mean of precision and recall::

        f = (1 + beta**2) * precision * recall / (beta**2 * precision + recall)

    for ``y_true`` and ``y_pred`` of shape ``(batch, classes)`` (multi-class
    or multi-label). A prediction is positive above ``threshold``, or, without
    one, where it is its row's largest (and not 0). Variables
    ``true_positives``, ``false_positives``, ``false_negatives`` and
    ``intermediate_weights`` (the positives per class) are made at the first
    batch, of shape ``(classes,)`` (``()`` for "micro").

    ``average``: None gives one score per class; "micro" one score from the
    counts summed over the classes; "macro" the mean of the classes' scores;
    "weighted" their mean weighted by each class's positives.
    """

    _direction = "up"

    def __init__(
        self,
        average: str | None = None,
        beta: float = 1.0,
        threshold: float | None = None,
        name: str = "fbeta_score",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        if average not in _AVERAGES:
            raise ValueError(
                f"Invalid `average`. Expected one of {list(_AVERAGES)}. "
                f"Received: average={average!r}"
            )
        if not isinstance(beta, float) or beta <= 0:
            raise ValueError(
                f"Argument `beta` must be a Python float > 0. Received: beta={beta!r}"
            )
        if threshold is not None and (
            not isinstance(threshold, float) or not 0 < threshold <= 1
        ):
            raise ValueError(
                "Argument `threshold` must be None or a Python float in (0, 1]. "
                f"Received: threshold={threshold!r}"
            )
        self.average, self.beta, self.threshold = average, beta, threshold
        self._classes = None

    def _build(self, classes: int) -> None:
        self._classes = classes
        shape = () if self.average == "micro" else (classes,)
        for cell in ("true_positives", "false_positives", "false_negatives"):
            setattr(self, cell, self.add_variable(shape, name=cell))
        self.intermediate_weights = self.add_variable(
            shape, name="intermediate_weights"
        )

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true = np.asarray(getattr(y_true, "data", y_true), self.dtype)
        y_pred = np.asarray(getattr(y_pred, "data", y_pred), self.dtype)
        if y_pred.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(
                f"{type(self).__name__} needs y_true and y_pred of one shape "
                f"(batch, classes). Received: y_true.shape={y_true.shape}, "
                f"y_pred.shape={y_pred.shape}"
            )
        if self._classes is None:
            self._build(y_pred.shape[1])
        elif y_pred.shape[1] != self._classes:
            raise ValueError(
                f"{type(self).__name__} was built for {self._classes} classes. "
                f"Received: y_pred.shape={y_pred.shape}"
            )
        if self.threshold is None:
            top = y_pred >= y_pred.max(axis=-1, keepdims=True)
            predicted = top & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(self.dtype)
        weight = _per_sample(sample_weight, len(y_pred), self.dtype)
        axis = None if self.average == "micro" else 0

        def total(values: np.ndarray) -> np.ndarray:
            return np.sum(values * weight, axis=axis, dtype=np.float64)

        self.true_positives.assign_add(total(predicted * y_true))
        self.false_positives.assign_add(total(predicted * (1 - y_true)))
        self.false_negatives.assign_add(total((1 - predicted) * y_true))
        self.intermediate_weights.assign_add(total(y_true))

    def result(self) -> Any:
        if self._classes is None:
            return 0.0 if self.average else np.zeros(0, self.dtype)
        eps, b2 = epsilon(), self.beta**2
        tp, fp, fn = (
            self.true_positives.data,
            self.false_positives.data,
            self.false_negatives.data,
        )
        precision = tp / (tp + fp + eps)
        recall = tp / (tp + fn + eps)
        score = precision * recall / (b2 * precision + recall + eps) * (1 + b2)
        if self.average == "weighted":
            support = self.intermediate_weights.data
            return float(np.sum(score * (support / (np.sum(support) + eps))))
        if self.average is not None:
            return float(np.mean(score))
        return np.array(score)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
        }


def _per_sample(sample_weight: Any, batch: int, dtype: Any) -> Any:
    """Weights of shape ``(batch, 1)`` (1 without them), one per sample."""
    if sample_weight is None:
        return np.ones((), dtype)
    weight = np.asarray(getattr(sample_weight, "data", sample_weight), dtype)
    if weight.size not in (1, batch):
        raise ValueError(
            f"sample_weight must give one weight per sample ({batch}). Received: "
            f"sample_weight of shape {weight.shape}"
        )
    return np.broadcast_to(weight.reshape(-1), (batch,))[:, None]


@_registry.register("f1_score")
class F1Score(FBetaScore):
    """Per class, the harmonic mean of precision and recall,
    ``2 * precision * recall / (precision + recall)``: :class:`FBetaScore`
    with ``beta=1``, and the same ``average`` and ``threshold``."""

    def __init__(
        self,
        average: str | None = None,
        threshold: float | None = None,
        name: str = "f1_score",
        dtype: Any = None,
    ) -> None:
        super().__init__(average, 1.0, threshold, name=name, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["beta"]
        return config
