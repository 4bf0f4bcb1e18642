from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet import Tensor, losses, optimizers
from glassnet.autograd import gradcheck
from glassnet.layers import Dense, Input
from glassnet.models import Sequential

# Keras 3's torch backend trips a NumPy 2 deprecation inside its own code.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation:DeprecationWarning"
)

N, K = 4, 3


def _data(kind, dtype, seed=0, n=N):
    """(y_true, y_pred) for a loss of this kind, ``n`` samples."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, K, n)
    one_hot = np.eye(K)[labels]
    if kind == "signed":  # labels of -1 and +1 against real scores
        return rng.choice([-1.0, 1.0], (n, K)).astype(dtype), rng.normal(
            0, 2, (n, K)
        ).astype(dtype)
    if kind == "counts":
        return rng.integers(0, 5, (n, K)).astype(dtype), rng.uniform(
            0.1, 3.0, (n, K)
        ).astype(dtype)
    if kind == "distributions":
        both = rng.uniform(0.1, 1.0, (2, n, K))
        both /= both.sum(-1, keepdims=True)
        return both[0].astype(dtype), both[1].astype(dtype)
    if kind == "regression":
        return rng.standard_normal((n, K)).astype(dtype), rng.standard_normal(
            (n, K)
        ).astype(dtype)
    if kind == "binary":
        return (rng.random((n, K)) > 0.5).astype(dtype), rng.uniform(
            0.05, 0.95, (n, K)
        ).astype(dtype)
    if kind == "binary_logits":
        return (rng.random((n, K)) > 0.5).astype(dtype), rng.normal(
            0, 3, (n, K)
        ).astype(dtype)
    if kind == "categorical":
        probs = rng.uniform(0.1, 1.0, (n, K))
        return one_hot.astype(dtype), (probs / probs.sum(1, keepdims=True)).astype(
            dtype
        )
    if kind == "categorical_logits":
        return one_hot.astype(dtype), rng.normal(0, 3, (n, K)).astype(dtype)
    if kind == "sparse":
        probs = rng.uniform(0.1, 1.0, (n, K))
        return labels, (probs / probs.sum(1, keepdims=True)).astype(dtype)
    return labels, rng.normal(0, 3, (n, K)).astype(dtype)  # sparse_logits


#: Keras 3's other losses, added after the first six
NEW_LOSSES = [
    ("hinge", {}, "binary_logits"),  # 0/1 labels, converted to -1/+1
    ("hinge", {}, "signed"),
    ("squared_hinge", {}, "binary_logits"),
    ("squared_hinge", {}, "signed"),
    ("categorical_hinge", {}, "categorical_logits"),
    ("kl_divergence", {}, "categorical"),  # zeros in y_true are clipped
    ("kl_divergence", {}, "distributions"),
    ("poisson", {}, "counts"),
    ("log_cosh", {}, "regression"),
    ("mean_absolute_percentage_error", {}, "regression"),
    ("mean_squared_logarithmic_error", {}, "counts"),
    ("mean_squared_logarithmic_error", {}, "regression"),  # negatives clipped
    ("cosine_similarity", {}, "regression"),
    ("binary_focal_crossentropy", {}, "binary"),
    (
        "binary_focal_crossentropy",
        {
            "apply_class_balancing": True,
            "alpha": 0.4,
            "gamma": 1.5,
            "from_logits": True,
            "label_smoothing": 0.1,
        },
        "binary_logits",
    ),
    ("categorical_focal_crossentropy", {}, "categorical"),
    (
        "categorical_focal_crossentropy",
        {"alpha": [0.2, 0.3, 0.5], "from_logits": True, "label_smoothing": 0.1},
        "categorical_logits",
    ),
]

NEW_CLASSES = [
    ("Hinge", {}, "binary_logits"),
    ("SquaredHinge", {}, "signed"),
    ("CategoricalHinge", {}, "categorical_logits"),
    ("KLDivergence", {}, "distributions"),
    ("Poisson", {}, "counts"),
    ("LogCosh", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "counts"),
    ("CosineSimilarity", {"axis": -1}, "regression"),
    (
        "BinaryFocalCrossentropy",
        {"apply_class_balancing": True, "gamma": 3.0, "from_logits": True},
        "binary_logits",
    ),
    (
        "CategoricalFocalCrossentropy",
        {"alpha": 0.5, "label_smoothing": 0.2},
        "categorical",
    ),
]

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
    *NEW_LOSSES,
]
IDS = [f"{name}{kwargs or ''}-{kind}" for name, kwargs, kind in TABLE]


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
        *NEW_CLASSES,
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


# --- Keras 3's other losses ---------------------------------------------------------
NEW_IDS = [f"{name}{kwargs or ''}-{kind}" for name, kwargs, kind in NEW_LOSSES]


def _our_gradient(fn, y_true, y_pred, projection, **kwargs):
    """d sum(fn(y_true, y_pred) * projection) / d y_pred, by glassnet."""
    pred = Tensor(y_pred, requires_grad=True)
    (fn(y_true, pred, **kwargs) * projection).sum().backward()
    return pred.grad


def _keras_gradient(fn, y_true, y_pred, projection, **kwargs):
    """The same gradient by Keras on torch autograd."""
    torch = pytest.importorskip("torch")
    pred = torch.tensor(y_pred, requires_grad=True)
    (fn(y_true, pred, **kwargs) * torch.tensor(projection)).sum().backward()
    return pred.grad.numpy()


@pytest.mark.parametrize("name, kwargs, kind", NEW_LOSSES, ids=NEW_IDS)
def test_gradients_equal_keras_torch_autograd(name, kwargs, kind):
    keras = _keras()
    y_true, y_pred = _data(kind, np.float32, seed=2)
    projection = np.float32([0.5, -1.0, 2.0, 1.5])
    got = _our_gradient(getattr(losses, name), y_true, y_pred, projection, **kwargs)
    want = _keras_gradient(
        getattr(keras.losses, name), y_true, y_pred, projection, **kwargs
    )
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


EDGES = [
    # 0/1 labels become -1/+1 only when all are 0 or 1: here a -1 keeps them all
    ("hinge", [[0.0, 1.0, -1.0], [1.0, 0.0, 1.0]], [[0.3, -2.0, 0.4], [1.5, 0.2, 3.0]]),
    ("squared_hinge", [[0, 1, 1], [1, 0, 0]], [[0.3, -2.0, 0.4], [1.5, 0.2, 3.0]]),
    # far past where cosh overflows float32 (about 89)
    ("log_cosh", np.zeros((2, 3)), [[1e4, -1e4, 50.0], [100.0, -200.0, 0.5]]),
    (
        "mean_absolute_percentage_error",
        [[0.0, 0.0, 1.0], [0.0, 2.0, 0.0]],
        [[0.5, -1, 2], [0.25, 1, 3]],
    ),
    (
        "mean_squared_logarithmic_error",
        [[0.0, 0.0, 1.0], [-1.0, 2.0, 0.0]],
        [[0.0, 1.0, -3.0], [0.5, 0.0, 2.0]],
    ),
    (
        "kl_divergence",
        [[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]],
        [[0.0, 0.7, 0.3], [0.2, 0.8, 0.0]],
    ),
    (
        "poisson",
        [[0.0, 3.0, 1.0], [2.0, 0.0, 1.0]],
        [[0.0, 2.0, 0.5], [1.0, 0.5, 1e-3]],
    ),
    (
        "binary_focal_crossentropy",
        [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]],
        [[0.0, 1.0, 0.5], [1.0, 1e-9, 0.2]],
    ),
    (
        "categorical_focal_crossentropy",
        [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
        [[0.0, 1.0, 0.0], [0.0, 0.4, 0.6]],
    ),
]


@pytest.mark.parametrize(
    "name, y_true, y_pred",
    EDGES,
    ids=[f"{edge[0]}-{i}" for i, edge in enumerate(EDGES)],
)
def test_edge_inputs_give_keras_values_and_gradients(name, y_true, y_pred):
    keras = _keras()
    y_true, y_pred = np.float32(y_true), np.float32(y_pred)
    got = getattr(losses, name)(y_true, Tensor(y_pred))
    want = keras.ops.convert_to_numpy(getattr(keras.losses, name)(y_true, y_pred))
    assert np.isfinite(got.data).all()
    np.testing.assert_allclose(got.data, want, rtol=1e-5)
    projection = np.float32([1.0, -2.0])
    grad = _our_gradient(getattr(losses, name), y_true, y_pred, projection)
    want_grad = _keras_gradient(getattr(keras.losses, name), y_true, y_pred, projection)
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad, want_grad, rtol=1e-5)


def test_hinge_labels_of_zero_and_one_count_as_minus_one_and_one():
    y_pred = np.array([[0.5, -2.0, 0.3], [1.5, 0.2, -0.7]])
    zero_one = np.array([[0, 1, 1], [1, 0, 0]])
    for name in ("hinge", "squared_hinge"):
        fn = getattr(losses, name)
        np.testing.assert_array_equal(
            fn(zero_one, Tensor(y_pred)).data, fn(2 * zero_one - 1, Tensor(y_pred)).data
        )
    # t = [-1, 1, 1] and [1, -1, -1]: max(1 - t p, 0) = [1.5, 3, 0.7] and [0, 1.2, 0.3]
    hinge = losses.hinge(zero_one, Tensor(y_pred)).data
    np.testing.assert_allclose(hinge, [5.2 / 3, 0.5])


def test_log_cosh_far_out_is_the_error_less_log_2_with_a_gradient_of_its_sign():
    y_pred = Tensor(np.array([[1e4, -1e4]]), requires_grad=True)
    loss = losses.log_cosh(np.zeros((1, 2)), y_pred)
    loss.backward()
    np.testing.assert_allclose(loss.data, [1e4 - np.log(2.0)])
    np.testing.assert_allclose(y_pred.grad, [[0.5, -0.5]])  # sign(e) / 2 values


def test_cosine_similarity_of_a_zero_vector_is_zero_with_a_finite_gradient():
    """Keras's gradient is nan here (rsqrt(0) = inf times 0); glassnet floors
    the squared norm at 1e-14 before its root, so the gradient stays finite."""
    keras = _keras()
    y_true = np.float32([[1.0, 2.0, 2.0], [0.0, 0.0, 0.0]])
    y_pred = np.float32([[0.0, 0.0, 0.0], [1.0, -1.0, 0.5]])
    got = losses.cosine_similarity(y_true, Tensor(y_pred))
    want = keras.ops.convert_to_numpy(keras.losses.cosine_similarity(y_true, y_pred))
    np.testing.assert_array_equal(got.data, want)
    np.testing.assert_array_equal(got.data, [0.0, 0.0])
    grad = _our_gradient(losses.cosine_similarity, y_true, y_pred, np.ones(2))
    assert np.isfinite(grad).all()


def test_cosine_similarity_along_the_first_axis_equals_keras():
    keras = _keras()
    y_true, y_pred = _data("regression", np.float32, seed=5)
    got = losses.cosine_similarity(y_true, Tensor(y_pred), axis=0)
    want = keras.losses.cosine_similarity(y_true, y_pred, axis=0)
    assert got.shape == (K,)
    np.testing.assert_allclose(got.data, keras.ops.convert_to_numpy(want), rtol=1e-5)
    gradcheck(
        lambda p: losses.cosine_similarity(y_true, p, axis=0),
        y_pred.astype(np.float64),
        name="cosine_similarity",
    )


@pytest.mark.parametrize("cls, kwargs", [(cls, kw) for cls, kw, _ in NEW_CLASSES])
def test_new_loss_classes_have_keras_configs(cls, kwargs):
    keras = _keras()
    ours = getattr(losses, cls)(reduction="sum", name="custom", **kwargs)
    theirs = getattr(keras.losses, cls)(reduction="sum", name="custom", **kwargs)
    assert ours.get_config() == theirs.get_config()
    again = getattr(losses, cls).from_config(theirs.get_config())
    assert again.get_config() == ours.get_config()
    default = getattr(losses, cls)().get_config()
    assert default == getattr(keras.losses, cls)().get_config()


NEW_NAMES = [
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "kl_divergence",
    "kld",
    "KLD",
    "poisson",
    "log_cosh",
    "mean_absolute_percentage_error",
    "mape",
    "MAPE",
    "mean_squared_logarithmic_error",
    "msle",
    "MSLE",
    "cosine_similarity",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    "BCE",
    *(cls for cls, _, _ in NEW_CLASSES),
]


@pytest.mark.parametrize("name", NEW_NAMES)
def test_new_names_give_what_keras_gives(name):
    keras = _keras()
    got, want = losses.get(name), keras.losses.get(name)
    if isinstance(want, keras.losses.Loss):
        assert type(got).__name__ == type(want).__name__
        assert got.get_config() == want.get_config()
    else:
        assert got.__name__ == want.__name__
        assert losses.serialize(name) == want.__name__


@pytest.mark.parametrize(
    "name", ["logcosh", "kullback_leibler_divergence", "cosine_proximity"]
)
def test_legacy_names_keras_3_refuses_are_refused(name):
    keras = _keras()
    with pytest.raises(ValueError, match="Could not interpret"):
        keras.losses.get(name)
    with pytest.raises(ValueError, match=f"Unknown loss: '{name}'"):
        losses.get(name)


@pytest.mark.parametrize(
    "loss, activation, kind",
    [
        ("hinge", "tanh", "binary_logits"),
        ("kld", "softmax", "distributions"),
        ("log_cosh", None, "regression"),
        ("msle", "softplus", "counts"),
        ("cosine_similarity", None, "regression"),
        ("binary_focal_crossentropy", "sigmoid", "binary"),
        ("categorical_focal_crossentropy", "softmax", "categorical"),
    ],
)
def test_one_fit_epoch_with_a_new_loss_name_equals_keras(loss, activation, kind):
    keras = _keras()
    x = np.random.default_rng(7).standard_normal((20, 4)).astype(np.float32)
    y, _ = _data(kind, np.float32, seed=8, n=20)
    ours = Sequential([Input((4,)), Dense(5, "tanh"), Dense(K, activation)])
    theirs = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(5, "tanh"),
            keras.layers.Dense(K, activation),
        ]
    )
    rng = np.random.default_rng(9)
    ours.set_weights([rng.uniform(-1, 1, w.shape) for w in ours.get_weights()])
    theirs.set_weights(ours.get_weights())
    ours.compile(optimizer=optimizers.SGD(0.1), loss=loss)
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
    fit = dict(epochs=1, batch_size=8, shuffle=False, verbose=0)
    ours_history = ours.fit(x, y, **fit).history
    theirs_history = theirs.fit(x, y, **fit).history
    np.testing.assert_allclose(ours_history["loss"], theirs_history["loss"], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # as test_model.py
