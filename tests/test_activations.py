from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet import Tensor, activations
from glassnet.autograd import gradcheck

# Keras 3's torch backend trips a NumPy 2 deprecation inside its own code.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation:DeprecationWarning"
)

# name, keyword arguments; inputs are kept away from kinks (0, +-3, 6, thresholds)
TABLE = [
    ("linear", {}),
    ("relu", {}),
    ("relu", {"negative_slope": 0.3}),
    ("relu", {"max_value": 1.5}),
    ("relu", {"threshold": 0.35, "negative_slope": 0.2}),
    ("relu6", {}),
    ("tanh", {}),
    ("sigmoid", {}),
    ("softmax", {}),
    ("softmax", {"axis": 0}),
    ("log_softmax", {}),
    ("elu", {}),
    ("elu", {"alpha": 0.5}),
    ("selu", {}),
    ("softplus", {}),
    ("softsign", {}),
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.05}),
    ("gelu", {}),
    ("gelu", {"approximate": True}),
    ("silu", {}),
    ("swish", {}),
    ("hard_sigmoid", {}),
    ("hard_silu", {}),
    ("exponential", {}),
]
IDS = [f"{name}{kwargs or ''}" for name, kwargs in TABLE]


def _inputs(dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-4.5, 7.5, size=(5, 4))
    # NOTE: keep clear of kinks at 0, +-3, 0.35, 1.5 and 6 (finite differences).
    for kink in (0.0, -3.0, 3.0, 0.35, 1.5, 6.0):
        x = np.where(np.abs(x - kink) < 0.05, x + 0.1, x)
    return x.astype(dtype)


@pytest.mark.parametrize("name, kwargs", TABLE, ids=IDS)
def test_values_equal_keras(name, kwargs):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x = _inputs(np.float32)
    got = activations.get(name)(Tensor(x), **kwargs)
    want = keras.ops.convert_to_numpy(getattr(keras.activations, name)(x, **kwargs))
    assert got.data.dtype == np.float32
    np.testing.assert_allclose(got.data, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, kwargs", TABLE, ids=IDS)
def test_gradients_pass_gradcheck(name, kwargs):
    fn = activations.get(name)
    x = _inputs(np.float64)[:3]
    if name == "exponential":  # NOTE: exp(7) swamps finite differences in rounding
        x = x / 4
    gradcheck(lambda x: fn(x, **kwargs), x, name=name)


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "softmax", "gelu", "silu"])
def test_large_inputs_stay_finite(name):
    x = Tensor(np.array([[-1e4, -50.0, 0.5, 50.0, 1e4]]), requires_grad=True)
    y = activations.get(name)(x)
    y.sum().backward()
    assert np.isfinite(y.data).all() and np.isfinite(x.grad).all()


def test_hand_values():
    x = Tensor(np.array([-4.0, -1.5, 0.0, 1.5, 4.0]))
    np.testing.assert_allclose(
        activations.hard_sigmoid(x).data, [0.0, 0.25, 0.5, 0.75, 1.0]
    )
    np.testing.assert_allclose(activations.softsign(x).data, x.data / (1 + abs(x.data)))
    np.testing.assert_allclose(
        activations.gelu(Tensor(np.array([1.0]))).data, [0.8413447460685429]
    )


def test_get_and_serialize():
    assert activations.get(None) is activations.linear
    assert activations.get("relu") is activations.relu
    assert activations.get(activations.tanh) is activations.tanh
    my = lambda x: x * 2  # noqa: E731
    assert activations.get(my) is my
    assert activations.serialize(activations.relu) == "relu"
    assert activations.serialize(activations.swish) in ("silu", "swish")
    for name, _ in TABLE:
        fn = activations.get(name)
        assert activations.get(activations.serialize(fn)) is fn
    with pytest.raises(ValueError, match="Valid names are: .*relu.*tanh"):
        activations.get("rellu")
    with pytest.raises(TypeError, match="Could not interpret activation"):
        activations.get(3)
