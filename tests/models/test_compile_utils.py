"""Compile utilities: the loss container's seeded backward pass against the
mean loss's own gradient, penalties, and the metrics container (accuracy
resolution, averaging over batches)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from glassnet import losses, metrics, ops
from glassnet.autograd import Tensor
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.models.compile_metrics import CompileMetrics, get_metric
from glassnet.models.compile_utils import CompileLoss


def _built(loss, regularizer=None):
    model = Sequential([Dense(2, input_dim=3, kernel_regularizer=regularizer)])
    compiled = CompileLoss(loss)
    compiled.build(model)
    return compiled, model


def _batch(seed=0, n=5, k=2):
    rng = np.random.default_rng(seed)
    y_pred = rng.standard_normal((n, k))
    y_true = rng.standard_normal((n, k))
    return y_true, y_pred, rng.uniform(0.1, 2.0, n)


def _grad(fn):
    """d fn(t) / d t at the prediction, by the engine."""

    def gradient(y_pred):
        t = Tensor(y_pred.copy(), requires_grad=True)
        out = fn(t)
        out.backward()
        return float(out.data), t.grad

    return gradient


def _seeded(compiled, y_true, y_pred, sw=None):
    t = Tensor(y_pred.copy(), requires_grad=True)
    root, seed, value = compiled(y_true, t, sw)
    root.backward(seed)
    return value, t.grad


def _mean_of_weighted(fn, y_true, sw=None):
    def loss(t):
        values = fn(y_true, t)
        if sw is not None:
            values = values * Tensor(sw)
        return ops.mean(values)

    return loss


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "loss, fn",
    [
        ("mse", losses.mean_squared_error),
        ("mae", losses.mean_absolute_error),
        (losses.huber, losses.huber),
    ],
)
def test_seeding_equals_the_gradient_of_the_mean_loss(loss, fn, weighted):
    y_true, y_pred, sw = _batch()
    sw = sw if weighted else None
    compiled, _ = _built(loss)
    value, grad = _seeded(compiled, y_true, y_pred, sw)
    want_value, want_grad = _grad(_mean_of_weighted(fn, y_true, sw))(y_pred)
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-12, atol=1e-15)


def test_seed_of_a_per_element_loss_is_one_over_all_values():
    # a function returning (batch, k) values: the mean runs over all of them
    y_true, y_pred, sw = _batch(k=3)
    compiled, _ = _built(lambda t, p: (p - t) * (p - t))
    value, grad = _seeded(compiled, y_true, y_pred)
    np.testing.assert_allclose(value, np.mean((y_pred - y_true) ** 2), rtol=1e-12)
    np.testing.assert_allclose(grad, 2 * (y_pred - y_true) / y_pred.size, rtol=1e-12)
    value, grad = _seeded(compiled, y_true, y_pred, sw)
    weighted = sw[:, None] * (y_pred - y_true) ** 2
    np.testing.assert_allclose(value, weighted.sum() / y_pred.size, rtol=1e-12)
    want = 2 * sw[:, None] * (y_pred - y_true) / y_pred.size
    np.testing.assert_allclose(grad, want, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum"])
def test_loss_objects_seed_like_their_own_reduction(reduction):
    y_true, y_pred, sw = _batch()
    loss = losses.MeanSquaredError(reduction=reduction)
    compiled, _ = _built(loss)
    for weights in (None, sw):
        value, grad = _seeded(compiled, y_true, y_pred, weights)
        want_value, want_grad = _grad(lambda t, w=weights: loss(y_true, t, w))(y_pred)
        np.testing.assert_allclose(value, want_value, rtol=1e-12)
        np.testing.assert_allclose(grad, want_grad, rtol=1e-12)


def test_seeds_are_reused_per_shape():
    y_true, y_pred, _ = _batch()
    compiled, _ = _built("mse")
    first = compiled(y_true, Tensor(y_pred), None)[1]
    assert compiled(y_true, Tensor(y_pred), None)[1] is first
    assert compiled(y_true[:2], Tensor(y_pred[:2]), None)[1].shape == (2,)
    np.testing.assert_array_equal(first, np.full(5, 1 / 5))


def test_a_pickle_leaves_the_seeds_behind():
    import pickle

    y_true, y_pred, _ = _batch()
    compiled, _ = _built("mse")
    first = compiled(y_true, Tensor(y_pred), None)
    again = pickle.loads(pickle.dumps(compiled))
    assert again._seeds == {}
    second = again(y_true, Tensor(y_pred), None)
    np.testing.assert_array_equal(first[1], second[1])
    assert first[2] == second[2]


def test_scalar_loss_cannot_take_sample_weights():
    y_true, y_pred, sw = _batch()
    compiled, _ = _built(lambda t, p: ops.mean((p - t) * (p - t)))
    root, seed, value = compiled(y_true, Tensor(y_pred), None)
    assert seed is None and value == pytest.approx(np.mean((y_pred - y_true) ** 2))
    with pytest.raises(ValueError, match="one value per sample.*returned a scalar"):
        compiled(y_true, Tensor(y_pred), sw)


def test_penalties_add_to_the_value_and_come_from_regularized_layers():
    compiled, model = _built("mse", regularizer="l2")
    plain, plain_model = _built("mse")
    assert compiled.regularized and not plain.regularized
    x = np.ones((4, 3), dtype=np.float32)
    y_pred = model.call(Tensor(x), True)
    penalties = compiled.penalties(model)
    assert len(penalties) == 1
    kernel = model.layers[0].kernel.data
    np.testing.assert_allclose(penalties[0].data, 0.01 * (kernel**2).sum(), rtol=1e-6)
    y = np.zeros((4, 2), dtype=np.float32)
    bare = compiled(y, y_pred, None)[2]
    assert compiled(y, y_pred, None, penalties)[2] == pytest.approx(
        bare + float(penalties[0].data)
    )
    assert list(plain.penalties(plain_model)) == []


def test_loss_resolution_errors():
    with pytest.raises(ValueError, match="Valid names.*mse"):
        CompileLoss("mean_squared_errorr")  # at compile time
    # without a loss, the model's own losses are the loss; with none, Keras's error
    compiled, model = _built(None)
    y_pred = model(np.ones((4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="No loss to compute"):
        compiled(None, y_pred, None)
    penalty = Tensor(np.float32(0.5))
    assert compiled(None, y_pred, None, [penalty]) == (None, None, 0.5)


# --- metrics -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "loss, y_shape, out_shape, expected",
    [
        ("sparse_categorical_crossentropy", (8,), (None, 3), "sparse_categorical"),
        ("binary_crossentropy", (8, 3), (None, 3), "binary"),
        ("categorical_crossentropy", (8, 3), (None, 3), "categorical"),
        ("mse", (8, 1), (None, 1), "binary"),
        ("mse", (8,), (None, 4), "sparse_categorical"),
        ("mse", (8, 1), (None, 4), "sparse_categorical"),
        ("mse", (8, 4), (None, 4), "categorical"),
    ],
)
def test_accuracy_resolves_as_keras_does(loss, y_shape, out_shape, expected):
    for name in ("accuracy", "acc"):
        fn = get_metric(name, loss, y_shape, out_shape)
        assert fn is getattr(metrics, f"{expected}_accuracy")
    container = CompileMetrics(["acc", "mae"])
    container.build(loss, y_shape, out_shape)
    assert [slot.name for slot in container.slots] == ["acc", "mae"]
    assert container.slots[0].fn is getattr(metrics, f"{expected}_accuracy")


def test_metrics_average_over_all_samples_of_all_batches():
    rng = np.random.default_rng(0)
    y, p = rng.standard_normal((7, 2)), rng.standard_normal((7, 2))
    container = CompileMetrics(["mae", metrics.MeanSquaredError()])
    assert not container.built
    container.build("mse", y.shape, (None, 2))
    container.reset()
    container.update(y[:4], p[:4])
    container.update(y[4:], p[4:])
    got = container.result("val_")
    assert list(got) == ["val_mae", "val_mean_squared_error"]
    np.testing.assert_allclose(got["val_mae"], np.abs(p - y).mean(), rtol=1e-12)
    np.testing.assert_allclose(
        got["val_mean_squared_error"], ((p - y) ** 2).mean(), rtol=1e-12
    )
    container.reset()
    assert container.result() == {"mae": 0.0, "mean_squared_error": 0.0}


def test_metrics_argument_forms():
    assert CompileMetrics().specs == [] and CompileMetrics(None).result() == {}
    assert CompileMetrics("mae").specs == ["mae"]
    assert CompileMetrics(metrics.mae).specs == [metrics.mae]
    with pytest.raises(TypeError, match="list of names"):
        CompileMetrics({"out": "mae"})


def test_a_metric_of_one_result_per_class_logs_them_all_as_keras(keras, tmp_path):
    # F1Score() gives one score per class: the history keeps the array and
    # CSVLogger writes "[a, b, c]", as in Keras
    import glassnet

    rng = np.random.default_rng(0)
    x = rng.random((32, 4), dtype=np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 32)]
    weights, histories, rows = None, [], []
    for lib in (keras, glassnet):
        model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, "softmax")])
        if weights is None:
            weights = model.get_weights()
        model.set_weights(weights)
        model.compile(
            "sgd",
            "categorical_crossentropy",
            metrics=[
                lib.metrics.F1Score(),
                lib.metrics.Precision(thresholds=[0.3, 0.6]),
            ],
        )
        log = tmp_path / f"{lib.__name__}.csv"
        history = model.fit(
            x,
            y,
            epochs=2,
            batch_size=8,
            shuffle=False,
            verbose=0,
            callbacks=[lib.callbacks.CSVLogger(str(log))],
        )
        histories.append(history.history)
        rows.append(log.read_text().splitlines())
    theirs, ours = histories
    for name in ("f1_score", "precision"):
        assert np.shape(ours[name][0]) == np.shape(theirs[name][0]) != ()
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-5)
    cell = re.compile(r'"""\[[^\]]*\]"""')
    assert [len(cell.findall(row)) for row in rows[1]] == [0, 2, 2]
    assert [len(cell.findall(row)) for row in rows[0]] == [0, 2, 2]


def test_the_bar_shows_a_metric_of_several_results_by_their_mean(capsys):
    model = Sequential([Dense(3, input_dim=4, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy", metrics=[metrics.F1Score()])
    x = np.random.default_rng(0).random((16, 4), dtype=np.float32)
    y = np.eye(3, dtype=np.float32)[np.arange(16) % 3]
    history = model.fit(x, y, epochs=1, verbose=2)
    shown = re.search(r"f1_score: ([0-9.]+)", capsys.readouterr().out).group(1)
    assert float(shown) == pytest.approx(
        np.mean(history.history["f1_score"][0]), abs=1e-4
    )
