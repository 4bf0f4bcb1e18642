from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet import Tensor, regularizers
from glassnet.autograd import gradcheck

# Keras 3's torch backend trips a NumPy 2 deprecation inside its own code.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation:DeprecationWarning"
)

W = np.random.default_rng(0).standard_normal((4, 3))
CASES = [
    (regularizers.L1, {}, lambda w: 0.01 * np.abs(w).sum()),
    (regularizers.L2, {}, lambda w: 0.01 * (w**2).sum()),
    (regularizers.L1, {"l1": 0.3}, lambda w: 0.3 * np.abs(w).sum()),
    (regularizers.L2, {"l2": 0.2}, lambda w: 0.2 * (w**2).sum()),
    (regularizers.L1L2, {}, lambda w: 0.0),
    (
        regularizers.L1L2,
        {"l1": 0.1, "l2": 0.5},
        lambda w: 0.1 * np.abs(w).sum() + 0.5 * (w**2).sum(),
    ),
]
IDS = [f"{cls.__name__}{kwargs}" for cls, kwargs, _ in CASES]


@pytest.mark.parametrize("cls, kwargs, formula", CASES, ids=IDS)
def test_value_gradient_and_config(cls, kwargs, formula):
    reg = cls(**kwargs)
    out = reg(Tensor(W))
    assert out.shape == () and out.dtype == np.float64
    assert float(out.data) == pytest.approx(formula(W), rel=1e-12)
    gradcheck(reg, W, name=cls.__name__)
    again = regularizers.deserialize(regularizers.serialize(reg))
    assert type(again) is cls and again.get_config() == reg.get_config()


def test_hand_worked_gradient():
    # w = [2, -1]: L1L2(0.5, 0.25) = 0.5 * 3 + 0.25 * 5 = 2.75
    # gradient 0.5 * sign(w) + 2 * 0.25 * w = [0.5 + 1.0, -0.5 - 0.5]
    w = Tensor(np.array([2.0, -1.0]), requires_grad=True)
    out = regularizers.L1L2(0.5, 0.25)(w)
    out.backward()
    assert float(out.data) == 2.75
    np.testing.assert_array_equal(w.grad, [1.5, -1.0])


@pytest.mark.parametrize("cls, kwargs, formula", CASES, ids=IDS)
def test_equals_keras(cls, kwargs, formula):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    w = W.astype(np.float32)
    ours = cls(**kwargs)(Tensor(w))
    theirs = getattr(keras.regularizers, cls.__name__)(**kwargs)(w)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours.data, keras.ops.convert_to_numpy(theirs), 1e-5)


def test_get():
    assert isinstance(regularizers.get("l2"), regularizers.L2)
    assert regularizers.get("l1").l1 == 0.01
    assert regularizers.get("l1_l2").get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.get(None) is None
    reg = regularizers.L2(0.1)
    assert regularizers.get(reg) is reg
    fn = lambda w: w.sum()  # noqa: E731
    assert regularizers.get(fn) is fn
    with pytest.raises(ValueError, match="Valid names are: l1, l1_l2, l2"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="l2=-1"):
        regularizers.L2(-1)
