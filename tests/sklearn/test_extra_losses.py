"""The regressor's losses beyond scikit-learn's: 'absolute_error' and 'huber'
against PyTorch's L1Loss / HuberLoss (values and gradients, float64, the same
network and predictions), and a callable loss differentiated by the engine."""

from __future__ import annotations

import numpy as np
import pytest
from mlp_parity import fit_quietly, make_task
from numpy.testing import assert_allclose

from glassnet import losses, ops
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.sklearn import MLPRegressor

torch = pytest.importorskip("torch")


def twin_networks(n_outputs: int, seed: int = 0):
    """A PyTorch network and a glassnet model with the same float64 weights."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, n_outputs)
    ).double()
    model = Sequential(
        [
            Dense(6, activation="tanh", input_dim=4, dtype="float64"),
            Dense(n_outputs, dtype="float64"),
        ]
    )
    for dense, linear in zip(model.layers, [net[0], net[2]]):
        dense.set_weights(
            [linear.weight.detach().numpy().T.copy(), linear.bias.detach().numpy()]
        )
    return net, model


def one_gradient_step(model, X, y, sample_weight=None, **params):
    """The loss and the gradients of the estimator's first step: one full
    batch of plain gradient descent with a step of 1, so that the weights
    move by exactly minus the gradient."""
    reg = MLPRegressor.from_model(
        model,
        solver="sgd",
        momentum=0.0,
        learning_rate_init=1.0,
        batch_size=len(X),
        shuffle=False,
        alpha=0.0,
        **params,
    )
    before = [w.copy() for w in reg.coefs_ + reg.intercepts_]
    reg.partial_fit(X, y, sample_weight=sample_weight)
    grads = [b - a for a, b in zip(reg.coefs_ + reg.intercepts_, before)]
    return reg.loss_, grads


def torch_loss_and_grads(net, loss_fn, X, y, sample_weight=None):
    net.zero_grad()
    prediction = net(torch.from_numpy(X))
    target = torch.from_numpy(y.reshape(len(X), -1))
    values = loss_fn(prediction, target)  # reduction="none": (n, k)
    if sample_weight is None:
        loss = values.mean()
    else:
        w = torch.from_numpy(sample_weight)
        loss = (values.mean(dim=1) * w).sum() / w.sum()
    loss.backward()
    params = [net[0].weight, net[2].weight, net[0].bias, net[2].bias]
    grads = [p.grad.numpy().T if p.grad.ndim == 2 else p.grad.numpy() for p in params]
    return loss.item(), grads


CASES = [
    ("absolute_error", {}, lambda: torch.nn.L1Loss(reduction="none")),
    ("huber", {}, lambda: torch.nn.HuberLoss(reduction="none")),
    (
        "huber",
        {"huber_delta": 0.3},
        lambda: torch.nn.HuberLoss(reduction="none", delta=0.3),
    ),
]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("task", ["regression", "multioutput"])
@pytest.mark.parametrize("loss, params, torch_loss", CASES)
def test_losses_and_gradients_equal_pytorchs(loss, params, torch_loss, task, weighted):
    X, y = make_task(task, n_samples=40)
    y = y / np.abs(y).max()  # residuals on both sides of the Huber deltas
    sample_weight = (
        np.random.RandomState(2).uniform(0.2, 2.0, len(X)) if weighted else None
    )
    net, model = twin_networks(1 if y.ndim == 1 else y.shape[1])
    residual = np.abs(model.predict(X, verbose=0) - y.reshape(len(X), -1))
    delta = params.get("huber_delta", 1.0)
    assert (residual < delta).any() and (residual > delta).any()

    expected_loss, expected_grads = torch_loss_and_grads(
        net, torch_loss(), X, y, sample_weight
    )
    got_loss, got_grads = one_gradient_step(
        model, X, y, sample_weight, loss=loss, **params
    )
    assert_allclose(got_loss, expected_loss, rtol=1e-12)
    for got, expected in zip(got_grads, expected_grads, strict=True):
        assert_allclose(got, expected, rtol=1e-9, atol=1e-13)


def half_squared_error(y_true, y_pred):
    """scikit-learn's loss, written as a user would: per sample."""
    return 0.5 * losses.mean_squared_error(y_true, y_pred)


def scalar_half_squared_error(y_true, y_pred):
    return 0.5 * ops.mean((y_pred - y_true) ** 2)


@pytest.mark.parametrize(
    "callable_loss", [half_squared_error, scalar_half_squared_error]
)
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_a_callable_loss_is_differentiated_by_the_engine(callable_loss, solver):
    # NOTE: one output: for several, scikit-learn's squared_error reports the
    # mean over the outputs but steps along the gradient of their sum.
    X, y = make_task("regression")
    params = dict(hidden_layer_sizes=(5,), solver=solver, max_iter=6, random_state=0)
    builtin = fit_quietly(MLPRegressor(**params), X, y)
    written = fit_quietly(MLPRegressor(loss=callable_loss, **params), X, y)
    assert_allclose(written.loss_, builtin.loss_, rtol=1e-9)
    assert written.n_iter_ == builtin.n_iter_
    for a, b in zip(written.coefs_, builtin.coefs_):
        assert_allclose(a, b, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize(
    "bad, error, message",
    [
        (
            lambda t, p: np.zeros(len(t.data)),
            TypeError,
            "must return a glassnet Tensor",
        ),
        (lambda t, p: (p - t) ** 2, ValueError, "one value per sample"),
    ],
)
def test_a_callable_loss_that_breaks_the_contract_says_so(bad, error, message):
    X, y = make_task("multioutput", n_samples=20)
    with pytest.raises(error, match=message):
        MLPRegressor(hidden_layer_sizes=(3,), loss=bad, max_iter=1).fit(X, y)


def test_a_scalar_loss_refuses_sample_weights():
    X, y = make_task("regression", n_samples=20)
    reg = MLPRegressor(hidden_layer_sizes=(3,), loss=scalar_half_squared_error)
    with pytest.raises(ValueError, match="cannot weight the samples"):
        reg.fit(X, y, sample_weight=np.ones(len(y)))


def test_a_huber_fit_resists_outliers_where_squared_error_does_not():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(200, 1))
    y = 2 * X[:, 0]
    y[:10] += 30  # a few gross outliers
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=300, random_state=0)
    squared = fit_quietly(MLPRegressor(**params), X, y)
    huber = fit_quietly(MLPRegressor(loss="huber", **params), X, y)
    clean = np.linspace(-0.9, 0.9, 20)[:, None]
    error = {
        name: np.abs(est.predict(clean) - 2 * clean[:, 0]).mean()
        for name, est in [("squared", squared), ("huber", huber)]
    }
    assert error["huber"] < 0.5 * error["squared"], error
