from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet import Tensor, losses
from glassnet.autograd import gradcheck

# Keras 3's torch backend trips a NumPy 2 deprecation inside its own code.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation:DeprecationWarning"
)

N, K = 4, 3


def _data(kind, dtype, seed=0):
    """(y_true, y_pred) for a loss of this kind."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, K, N)
    one_hot = np.eye(K)[labels]
    if kind == "regression":
        return rng.standard_normal((N, K)).astype(dtype), rng.standard_normal(
            (N, K)
        ).astype(dtype)
    if kind == "binary":
        return (rng.random((N, K)) > 0.5).astype(dtype), rng.uniform(
            0.05, 0.95, (N, K)
        ).astype(dtype)
    if kind == "binary_logits":
        return (rng.random((N, K)) > 0.5).astype(dtype), rng.normal(
            0, 3, (N, K)
        ).astype(dtype)
    if kind == "categorical":
        probs = rng.uniform(0.1, 1.0, (N, K))
        return one_hot.astype(dtype), (probs / probs.sum(1, keepdims=True)).astype(
            dtype
        )
    if kind == "categorical_logits":
        return one_hot.astype(dtype), rng.normal(0, 3, (N, K)).astype(dtype)
    if kind == "sparse":
        probs = rng.uniform(0.1, 1.0, (N, K))
        return labels, (probs / probs.sum(1, keepdims=True)).astype(dtype)
    return labels, rng.normal(0, 3, (N, K)).astype(dtype)  # sparse_logits


TABLE = [
    ("mean_squared_error", {}, "regression"),
    ("mean_absolute_error", {}, "regression"),
    ("huber", {}, "regression"),
    ("huber", {"delta": 0.5}, "regression"),
    ("binary_crossentropy", {}, "binary"),
    ("binary_crossentropy", {"label_smoothing": 0.2}, "binary"),
    ("binary_crossentropy", {"from_logits": True}, "binary_logits"),
    ("categorical_crossentropy", {}, "categorical"),
    ("categorical_crossentropy", {"from_logits": True}, "categorical_logits"),
    (
        "categorical_crossentropy",
        {"from_logits": True, "label_smoothing": 0.1},
        "categorical_logits",
    ),
    ("sparse_categorical_crossentropy", {}, "sparse"),
    ("sparse_categorical_crossentropy", {"from_logits": True}, "sparse_logits"),
]
IDS = [f"{name}{kwargs or ''}" for name, kwargs, _ in TABLE]


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


@pytest.mark.parametrize("name, kwargs, kind", TABLE, ids=IDS)
def test_values_equal_keras(name, kwargs, kind):
    keras = _keras()
    y_true, y_pred = _data(kind, np.float32)
    got = getattr(losses, name)(y_true, Tensor(y_pred), **kwargs)
    want = getattr(keras.losses, name)(y_true, y_pred, **kwargs)
    assert got.shape == (N,) and got.dtype == np.float32
    np.testing.assert_allclose(got.data, keras.ops.convert_to_numpy(want), rtol=1e-5)


@pytest.mark.parametrize("name, kwargs, kind", TABLE, ids=IDS)
def test_gradients_pass_gradcheck(name, kwargs, kind):
    y_true, y_pred = _data(kind, np.float64, seed=1)
    fn = getattr(losses, name)
    gradcheck(lambda p: fn(y_true, p, **kwargs), y_pred, name=name)


@pytest.mark.parametrize(
    "name, kind",
    [
        ("binary_crossentropy", "binary_logits"),
        ("categorical_crossentropy", "categorical_logits"),
        ("sparse_categorical_crossentropy", "sparse_logits"),
    ],
)
def test_huge_logits_stay_finite(name, kind):
    y_true, y_pred = _data(kind, np.float32)
    logits = Tensor(np.sign(y_pred) * 1e4, requires_grad=True)
    loss = getattr(losses, name)(y_true, logits, from_logits=True)
    loss.sum().backward()
    assert np.isfinite(loss.data).all() and np.isfinite(logits.grad).all()
    assert loss.data.max() > 1e3  # some logits are confidently wrong


def test_probabilities_are_clipped():
    p = Tensor(np.array([[0.0, 1.0]]), requires_grad=True)
    loss = losses.binary_crossentropy(np.array([[1.0, 0.0]]), p)
    loss.backward()
    np.testing.assert_allclose(loss.data, [-np.log(1e-7)], rtol=1e-6)
    assert np.isfinite(p.grad).all()


def test_seed_shapes_are_aligned_not_broadcast():
    # y of shape (batch,) against predictions of shape (batch, 1), as in the seed
    y = np.array([0.0, 1.0, 2.0])
    pred = Tensor(np.array([[0.0], [1.5], [1.0]]))
    np.testing.assert_allclose(losses.mean_squared_error(y, pred).data, [0, 0.25, 1])
    assert float(losses.MeanSquaredError()(y, pred).data) == pytest.approx(1.25 / 3)
    labels = np.array([[1], [0]])
    logits = Tensor(np.array([[0.0, 2.0], [1.0, -1.0]]))
    assert losses.sparse_categorical_crossentropy(labels, logits, True).shape == (2,)


@pytest.mark.parametrize(
    "cls, kwargs, kind",
    [
        ("MeanSquaredError", {}, "regression"),
        ("MeanAbsoluteError", {}, "regression"),
        ("Huber", {"delta": 0.7}, "regression"),
        ("BinaryCrossentropy", {"from_logits": True}, "binary_logits"),
        ("CategoricalCrossentropy", {}, "categorical"),
        ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
    ],
)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_classes_with_sample_weight_equal_keras(cls, kwargs, kind, reduction):
    keras = _keras()
    y_true, y_pred = _data(kind, np.float32, seed=3)
    weight = np.array([0.5, 2.0, 0.0, 1.0], dtype=np.float32)
    ours = getattr(losses, cls)(reduction=reduction, **kwargs)
    theirs = getattr(keras.losses, cls)(reduction=reduction, **kwargs)
    for sw in (None, weight):
        got = ours(y_true, Tensor(y_pred), sample_weight=sw).data
        want = keras.ops.convert_to_numpy(theirs(y_true, y_pred, sample_weight=sw))
        np.testing.assert_allclose(got, want, rtol=1e-5)


def test_get_serialize_and_config():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("mean_squared_error") is losses.mean_squared_error
    assert losses.get("mae") is losses.mean_absolute_error
    assert isinstance(losses.get("MeanSquaredError"), losses.MeanSquaredError)
    fn = losses.mean_squared_error
    assert losses.get(fn) is fn
    assert losses.serialize(losses.mse) == "mean_squared_error"
    bce = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)
    again = losses.deserialize(losses.serialize(bce))
    assert isinstance(again, losses.BinaryCrossentropy)
    assert again.get_config() == bce.get_config()
    assert again.fn_kwargs == {"from_logits": True, "label_smoothing": 0.1}
    assert losses.get(None) is None


def test_bad_input_has_clear_errors():
    with pytest.raises(ValueError, match="Valid names are: .*mean_squared_error"):
        losses.get("mean_squared_eror")
    with pytest.raises(ValueError, match="incompatible shapes"):
        losses.mean_squared_error(np.zeros((4, 3)), Tensor(np.zeros((4, 2))))
    with pytest.raises(ValueError, match="integer labels"):
        losses.sparse_categorical_crossentropy(
            np.array([0.5, 1.0]), Tensor(np.zeros((2, 3)))
        )
    with pytest.raises(ValueError, match=r"Labels must be in \[0, 3\)"):
        losses.sparse_categorical_crossentropy(
            np.array([0, 3]), Tensor(np.zeros((2, 3)))
        )
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy for integer"):
        losses.categorical_crossentropy(np.array([0, 1]), Tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(TypeError, match="unexpected argument"):
        losses.MeanSquaredError(from_logits=True)


def test_fused_categorical_crossentropy_matches_composed_ops_when_clipping():
    from glassnet import ops

    y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    p = np.array([[0.0, 0.3, 0.7], [0.2, 0.5, 0.3]])  # a zero gets clipped
    fused = Tensor(p, requires_grad=True)
    losses.categorical_crossentropy(y, fused).sum().backward()
    composed = Tensor(p, requires_grad=True)
    q = ops.clip(composed / ops.sum(composed, axis=-1, keepdims=True), 1e-7, 1 - 1e-7)
    reference = -ops.sum(y * ops.log(q), axis=-1)
    reference.sum().backward()
    np.testing.assert_allclose(fused.grad, composed.grad, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_class_reduction_gradients(reduction, weighted):
    y_true, y_pred = _data("regression", np.float64, seed=4)
    weight = np.array([0.5, 2.0, 0.0, 1.0]) if weighted else None
    loss = losses.Huber(delta=0.8, reduction=reduction)
    gradcheck(lambda p: loss(y_true, p, sample_weight=weight), y_pred, name="Huber")
