"""Core layers: lifecycle checks, float64 gradchecks, Keras 3 parity, errors."""

from __future__ import annotations

import os

import numpy as np
import pytest

from glassnet import initializers
from glassnet.autograd import Tensor
from glassnet.layers import (
    Activation,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    Input,
    InputLayer,
    LayerNormalization,
    Reshape,
)

from .layer_checks import (
    check_layer,
    keras_module,
    keras_parity,
    layer_gradcheck,
)

os.environ.setdefault("KERAS_BACKEND", "torch")

# (factory(**dtype kwargs), input shape, Keras twin factory or None, training)
CASES = {
    "dense": (lambda **k: Dense(4, **k), (3,), lambda K: K.layers.Dense(4), False),
    "dense_tanh": (
        lambda **k: Dense(2, activation="tanh", bias_initializer="random_normal", **k),
        (5,),
        lambda K: K.layers.Dense(2, activation="tanh"),
        False,
    ),
    "dense_no_bias_3d": (
        lambda **k: Dense(3, use_bias=False, **k),
        (2, 4),
        lambda K: K.layers.Dense(3, use_bias=False),
        False,
    ),
    "dense_relu_fused": (
        lambda **k: Dense(4, activation="relu", bias_initializer="random_normal", **k),
        (3,),
        lambda K: K.layers.Dense(4, activation="relu"),
        False,
    ),
    "dense_relu_no_bias_3d": (
        lambda **k: Dense(3, activation="relu", use_bias=False, **k),
        (2, 4),
        lambda K: K.layers.Dense(3, activation="relu", use_bias=False),
        False,
    ),
    "dense_sigmoid": (
        lambda **k: Dense(3, activation="sigmoid", **k),
        (4,),
        lambda K: K.layers.Dense(3, activation="sigmoid"),
        False,
    ),
    "activation_relu": (
        lambda **k: Activation("relu", **k),
        (2, 3),
        lambda K: K.layers.Activation("relu"),
        False,
    ),
    "activation_softmax": (
        lambda **k: Activation("softmax", **k),
        (5,),
        lambda K: K.layers.Activation("softmax"),
        False,
    ),
    "flatten": (
        lambda **k: Flatten(**k),
        (2, 3, 2),
        lambda K: K.layers.Flatten(),
        False,
    ),
    "reshape": (
        lambda **k: Reshape((3, -1), **k),
        (2, 3),
        lambda K: K.layers.Reshape((3, -1)),
        False,
    ),
    "dropout_inference": (
        lambda **k: Dropout(0.5, **k),
        (4,),
        lambda K: K.layers.Dropout(0.5),
        False,
    ),
    "batchnorm_train": (
        lambda **k: BatchNormalization(
            gamma_initializer="random_uniform", beta_initializer="random_normal", **k
        ),
        (3,),
        lambda K: K.layers.BatchNormalization(),
        True,
    ),
    "batchnorm_infer": (
        lambda **k: BatchNormalization(
            moving_mean_initializer="random_normal",
            moving_variance_initializer="ones",
            beta_initializer="random_normal",
            **k,
        ),
        (2, 3),
        lambda K: K.layers.BatchNormalization(),
        False,
    ),
    "batchnorm_axis1": (
        lambda **k: BatchNormalization(axis=1, momentum=0.9, **k),
        (3, 2),
        lambda K: K.layers.BatchNormalization(axis=1, momentum=0.9),
        True,
    ),
    # NOTE: Keras's torch backend normalizes the *last* axes whenever the axes
    # are contiguous (F.layer_norm), so axis=1 of a 3-D input is compared with
    # the formula in test_normalization.py, not with Keras.
    "layernorm": (
        lambda **k: LayerNormalization(
            gamma_initializer="random_uniform", beta_initializer="random_normal", **k
        ),
        (5,),
        lambda K: K.layers.LayerNormalization(),
        True,
    ),
    "layernorm_3d_eps": (
        lambda **k: LayerNormalization(epsilon=1e-5, **k),
        (3, 4),
        lambda K: K.layers.LayerNormalization(epsilon=1e-5),
        False,
    ),
    "layernorm_last_two_axes": (
        lambda **k: LayerNormalization(
            axis=[1, 2], beta_initializer="random_normal", **k
        ),
        (3, 4),
        lambda K: K.layers.LayerNormalization(axis=[1, 2]),
        False,
    ),
    "layernorm_axes_1_3": (
        lambda **k: LayerNormalization(
            axis=(-1, 1), gamma_initializer="random_uniform", **k
        ),
        (3, 2, 4),
        lambda K: K.layers.LayerNormalization(axis=(-1, 1)),
        False,
    ),
    "layernorm_no_center": (
        lambda **k: LayerNormalization(center=False, **k),
        (4,),
        lambda K: K.layers.LayerNormalization(center=False),
        False,
    ),
    "layernorm_no_scale": (
        lambda **k: LayerNormalization(scale=False, **k),
        (2, 3),
        lambda K: K.layers.LayerNormalization(scale=False),
        False,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_check_layer(case):
    factory, shape, _, training = CASES[case]
    check_layer(factory(), shape, training=training)


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradcheck_float64(case):
    factory, shape, _, training = CASES[case]
    layer_gradcheck(factory(dtype="float64"), shape, training=training)


def test_gradcheck_dropout_training_with_a_fixed_mask():
    layer_gradcheck(_FixedMaskDropout(0.4), (4,), training=True)


class _FixedMaskDropout(Dropout):
    """Dropout whose mask is the same on every call (for finite differences)."""

    def __init__(self, rate):
        super().__init__(rate, seed=0, dtype="float64")

    def call(self, x, training=False):
        self._rng = np.random.default_rng(0)
        return super().call(x, training)


@pytest.mark.parametrize("case", sorted(CASES))
def test_keras_parity(case):
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    K = keras_module()
    factory, shape, twin, training = CASES[case]
    keras_parity(factory(), twin(K), shape, training=training)


# --- Dense ---------------------------------------------------------------------------
def test_dense_is_x_at_kernel_plus_bias():
    layer = Dense(2, kernel_initializer="ones", bias_initializer="ones")
    out = layer(np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_array_equal(out.data, [[7.0, 7.0]])
    assert layer.kernel.data.shape == (3, 2) and layer.bias.data.shape == (2,)


def test_dense_float64_with_initializer_instances_draws_from_the_random_state():
    rs = np.random.RandomState(0)
    layer = Dense(
        3,
        dtype="float64",
        kernel_initializer=initializers.RandomUniform(-1, 1, seed=rs),
        bias_initializer=initializers.RandomUniform(-1, 1, seed=rs),
    )
    layer(np.zeros((1, 2)))
    expected = np.random.RandomState(0)
    np.testing.assert_array_equal(layer.kernel.data, expected.uniform(-1, 1, (2, 3)))
    np.testing.assert_array_equal(layer.bias.data, expected.uniform(-1, 1, (3,)))
    assert layer.kernel.data.dtype == np.float64


def test_dense_rejects_bad_units():
    with pytest.raises(ValueError, match="Received: units=-3"):
        Dense(-3)
    with pytest.raises(ValueError, match="units=2.5"):
        Dense(2.5)


def test_wrong_input_shape_names_layer_and_shapes():
    layer = Dense(2, input_dim=3, name="first")
    layer(np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"'first'.*\(None, 3\).*\(4, 5\)"):
        layer(np.zeros((4, 5)))


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match="relu"):
        Dense(2, activation="relux")


# --- Dropout, Flatten, Reshape, Input -------------------------------------------------
def test_dropout_is_inverted_and_only_in_training():
    layer = Dropout(0.25, seed=0)
    x = np.ones((400, 50), dtype="float32")
    np.testing.assert_array_equal(layer(x).data, x)
    out = layer(x, training=True).data
    kept = out != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(out[kept], 1 / 0.75, rtol=1e-6)
    again = Dropout(0.25, seed=0)(x, training=True).data
    np.testing.assert_array_equal(again, out)
    with pytest.raises(ValueError, match="Received: rate=1.5"):
        Dropout(1.5)


def test_dropout_gradient_uses_the_same_mask():
    layer = Dropout(0.5, seed=1)
    x = Tensor(np.ones((10, 10), dtype="float32"), requires_grad=True)
    out = layer(x, training=True)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)


def test_flatten_and_reshape_shapes():
    assert Flatten().compute_output_shape((None, 2, 3, 4)) == (None, 24)
    assert Reshape((4, -1)).compute_output_shape((None, 2, 6)) == (None, 4, 3)
    with pytest.raises(ValueError, match="cannot reshape"):
        Reshape((5,)).compute_output_shape((None, 2, 3))
    with pytest.raises(ValueError, match="at most one -1"):
        Reshape((-1, -1))


def test_input_makes_a_symbolic_tensor():
    x = Input((3,))
    assert x.shape == (None, 3) and x.dtype == "float32"
    assert isinstance(x._keras_history.operation, InputLayer)
    y = Dense(5)(x)
    assert y.shape == (None, 5) and y._keras_history.operation.built
    with pytest.raises(ValueError, match="shape"):
        InputLayer()


def test_dense_relu_is_one_fused_node_equal_to_linear_then_relu():
    layer = Dense(5, activation="relu", bias_initializer="random_normal")
    x = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    out = layer(x)
    assert out.grad_fn.inputs[1] is layer.kernel  # relu is inside the linear node
    expected = np.maximum(x @ layer.kernel.data + layer.bias.data, 0)
    np.testing.assert_array_equal(out.data, expected)
