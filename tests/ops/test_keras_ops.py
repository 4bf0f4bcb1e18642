"""Keras's ``ops`` names (ops/keras_core.py, keras_numpy.py, keras_nn.py).

The same calls on the same inputs through ``glassnet.ops`` and ``keras.ops``
(the torch backend) give the same values, shapes and dtypes; every name takes
Keras's arguments; the dtype rules and the gradients are checked without
Keras as well.
"""

from __future__ import annotations

import inspect
import math
import os

import numpy as np
import pytest

from glassnet import Tensor, ops
from glassnet.autograd import gradcheck

RNG = np.random.default_rng(7)
A = RNG.uniform(-1, 1, (2, 3)).astype("float32")
A64 = RNG.uniform(-1, 1, (2, 3))
P = RNG.uniform(0.5, 2, (2, 3)).astype("float32")
I = np.arange(1, 7, dtype="int32").reshape(2, 3)  # noqa: E741
B = np.array([[True, False, True], [False, False, True]])

#: (label, call on a module with Keras's ops API, compare dtypes too)
CASES = [
    # making tensors
    ("ones", lambda m: m.ones((2, 3)), True),
    ("zeros_int32", lambda m: m.zeros((2,), "int32"), True),
    ("full_float", lambda m: m.full((2,), 1.5), True),
    ("full_int_value", lambda m: m.full((2,), 1), True),
    ("ones_like", lambda m: m.ones_like(I), True),
    ("zeros_like", lambda m: m.zeros_like(A), True),
    ("full_like", lambda m: m.full_like(A, 2), True),
    ("arange_int", lambda m: m.arange(5), True),
    ("arange_float", lambda m: m.arange(5.0), True),
    ("arange_step", lambda m: m.arange(1, 7, 2), True),
    ("arange_fraction", lambda m: m.arange(0, 1, 0.25), True),
    ("eye", lambda m: m.eye(3), True),
    ("eye_offset", lambda m: m.eye(2, 3, k=1), True),
    ("identity", lambda m: m.identity(2), True),
    ("convert_list_float", lambda m: m.convert_to_tensor([1.0, 2.0]), True),
    ("convert_list_int", lambda m: m.convert_to_tensor([1, 2]), True),
    ("convert_float64", lambda m: m.convert_to_tensor(A64), True),
    ("convert_number", lambda m: m.convert_to_tensor(1.5), True),
    ("convert_to_numpy", lambda m: m.convert_to_numpy(m.ones((2,))), True),
    ("cast_float16", lambda m: m.cast(A, "float16"), True),
    ("cast_int", lambda m: m.cast(A * 3, "int32"), True),
    ("cast_to_float", lambda m: m.cast(I, "float32"), True),
    ("stop_gradient", lambda m: m.stop_gradient(m.convert_to_tensor(A)), True),
    ("shape", lambda m: m.shape(A), True),
    ("ndim", lambda m: m.ndim(A), True),
    ("dtype", lambda m: m.dtype(A64), True),
    # elementwise
    ("square", lambda m: m.square(A), True),
    ("square_int", lambda m: m.square(I), True),
    ("sqrt", lambda m: m.sqrt(P), True),
    ("sqrt_int", lambda m: m.sqrt(I), True),
    ("exp", lambda m: m.exp(A), True),
    ("exp_int", lambda m: m.exp(I), True),
    ("log", lambda m: m.log(P), True),
    ("abs", lambda m: m.abs(A), True),
    ("absolute_int", lambda m: m.absolute(-I), True),
    ("add_mixed_floats", lambda m: m.add(A, A64), True),
    ("add_int_python_float", lambda m: m.add(I, 2.5), True),
    ("add_int_float32", lambda m: m.add(I, A), True),
    ("add_numbers", lambda m: m.add(1, 2.5), True),
    ("subtract", lambda m: m.subtract(A, 1), True),
    ("multiply_int_float32", lambda m: m.multiply(I, A), True),
    ("divide_ints", lambda m: m.divide(I, I + 1), True),
    ("divide", lambda m: m.divide(A, 2), True),
    ("true_divide", lambda m: m.true_divide(A64, P), True),
    ("negative", lambda m: m.negative(A), True),
    ("power", lambda m: m.power(P, 2), True),
    ("power_int", lambda m: m.power(I, 2), True),
    ("power_int_half", lambda m: m.power(I, 0.5), True),
    ("maximum", lambda m: m.maximum(A, 0.1), True),
    ("minimum_int", lambda m: m.minimum(I, 2), True),
    ("maximum_int_float", lambda m: m.maximum(I, 1.5), True),
    ("where", lambda m: m.where(B, A, A64), True),
    ("where_int_float", lambda m: m.where(B, I, 1.5), True),
    # one index array per axis (Keras's torch backend stacks them already)
    ("where_indices", lambda m: m.stack(m.where(B)), True),
    ("clip", lambda m: m.clip(A, -0.5, 0.5), True),
    ("clip_int", lambda m: m.clip(I, 2, 4), False),  # Keras: int64
    ("clip_int_float_bounds", lambda m: m.clip(I, 0.5, 3), True),
    # comparisons and logic
    ("equal", lambda m: m.equal(I, 2), True),
    ("not_equal", lambda m: m.not_equal(A, A64), True),
    ("greater", lambda m: m.greater(A, 0), True),
    ("greater_equal", lambda m: m.greater_equal(I, 3), True),
    ("less", lambda m: m.less(A, 0.5), True),
    ("less_equal", lambda m: m.less_equal(I, I), True),
    ("logical_and", lambda m: m.logical_and(B, I > 2), True),
    ("logical_or", lambda m: m.logical_or(B, ~B), True),
    ("logical_xor", lambda m: m.logical_xor(B, B), True),
    ("logical_not", lambda m: m.logical_not(B), True),
    # reductions
    ("mean", lambda m: m.mean(A), True),
    ("mean_axis_keepdims", lambda m: m.mean(A, axis=0, keepdims=True), True),
    ("mean_int", lambda m: m.mean(I), True),
    ("sum_axes", lambda m: m.sum(A, axis=(0, 1)), True),
    ("sum_list_axis", lambda m: m.sum(A64, axis=[1]), True),
    ("sum_int", lambda m: m.sum(I), True),
    ("sum_bool", lambda m: m.sum(B), True),
    ("max_axis", lambda m: m.max(A, axis=1), True),
    ("max_int", lambda m: m.max(I), True),
    ("min_keepdims", lambda m: m.min(A, axis=0, keepdims=True), True),
    ("max_initial", lambda m: m.max(A, initial=0.9), True),
    ("all", lambda m: m.all(B, axis=0), True),
    ("any", lambda m: m.any(B), True),
    ("argmax", lambda m: m.argmax(A), True),
    ("argmax_axis", lambda m: m.argmax(A, axis=1), True),
    ("argmin_keepdims", lambda m: m.argmin(A, axis=0, keepdims=True), True),
    ("var", lambda m: m.var(A), True),
    ("var_int", lambda m: m.var(I), True),
    ("std_axis", lambda m: m.std(A64, axis=1), True),
    # norms (Keras's torch backend returns float32 for float64: dtype not compared)
    ("norm", lambda m: m.norm(A), True),
    ("norm_int", lambda m: m.norm(I), True),
    ("norm_float64", lambda m: m.norm(A64, axis=0), False),
    ("norm_axis", lambda m: m.norm(A, axis=1, keepdims=True), True),
    ("norm_l1_vector", lambda m: m.norm(A, ord=1, axis=0), True),
    ("norm_inf_vector", lambda m: m.norm(A, ord=math.inf, axis=1), True),
    ("norm_minus_inf", lambda m: m.norm(A, ord=-math.inf, axis=1), True),
    ("norm_zero", lambda m: m.norm(A, ord=0, axis=1), True),
    ("norm_p3", lambda m: m.norm(A, ord=3, axis=1), True),
    ("norm_fro", lambda m: m.norm(A, ord="fro"), True),
    ("norm_matrix_l1", lambda m: m.norm(A, ord=1), True),
    ("norm_matrix_inf", lambda m: m.norm(A, ord=math.inf), True),
    ("norm_matrix_minus_1", lambda m: m.norm(A, ord=-1, axis=(1, 0)), True),
    # shapes
    ("concatenate", lambda m: m.concatenate([A, A64], axis=1), True),
    ("concatenate_int_float", lambda m: m.concatenate([I, A]), True),
    ("stack", lambda m: m.stack([A, A], axis=1), True),
    ("split_sections", lambda m: m.split(A, 3, axis=1), True),
    ("split_indices", lambda m: m.split(A64, [1], axis=0), True),
    ("reshape", lambda m: m.reshape(A, (3, -1)), True),
    ("ravel", lambda m: m.ravel(A), True),
    ("transpose", lambda m: m.transpose(A), True),
    ("transpose_axes", lambda m: m.transpose(np.zeros((2, 3, 4)), (2, 0, 1)), True),
    ("expand_dims", lambda m: m.expand_dims(A, 1), True),
    ("expand_dims_last", lambda m: m.expand_dims(A, -1), True),
    ("squeeze", lambda m: m.squeeze(np.ones((1, 3, 1))), True),
    ("squeeze_axis", lambda m: m.squeeze(np.ones((1, 3, 1)), axis=0), True),
    ("broadcast_to", lambda m: m.broadcast_to(A[0], (4, 3)), True),
    ("take_axis", lambda m: m.take(A, [0, 2], axis=1), True),
    ("take_flat", lambda m: m.take(A, [5, 0]), True),
    ("take_negative", lambda m: m.take(A64, [-1], axis=0), True),
    ("take_2d_indices", lambda m: m.take(A, np.array([[0, 1]]), axis=0), True),
    ("matmul", lambda m: m.matmul(A, A.T), True),
    # Keras's torch backend multiplies float64 matrices in float32
    ("matmul_mixed", lambda m: m.matmul(A, A64.T), False),
    # neural-network functions
    ("relu", lambda m: m.relu(A), True),
    ("relu6", lambda m: m.relu6(A * 10), True),
    ("sigmoid", lambda m: m.sigmoid(A), True),
    ("sigmoid_int", lambda m: m.sigmoid(I), True),
    ("tanh", lambda m: m.tanh(A), True),
    ("softmax", lambda m: m.softmax(A), True),
    ("softmax_axis0", lambda m: m.softmax(A, axis=0), True),
    ("log_softmax", lambda m: m.log_softmax(A64), True),
    ("softplus", lambda m: m.softplus(A), True),
    ("softsign", lambda m: m.softsign(A), True),
    ("silu", lambda m: m.silu(A), True),
    ("swish", lambda m: m.swish(A), True),
    ("gelu", lambda m: m.gelu(A), True),
    ("gelu_exact", lambda m: m.gelu(A, approximate=False), True),
    ("elu", lambda m: m.elu(A, alpha=0.5), True),
    ("leaky_relu", lambda m: m.leaky_relu(A), True),
    ("one_hot", lambda m: m.one_hot(np.array([0, 2, 1]), 3), True),
    ("one_hot_axis0", lambda m: m.one_hot(np.array([[0, 1], [2, 0]]), 3, axis=0), True),
    ("one_hot_negative", lambda m: m.one_hot(np.array([0, -1]), 3), True),
]


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("the comparison runs on Keras's torch backend")
    return keras


def _plain(result, to_numpy):
    """A result as plain Python and NumPy values (lists for lists of tensors)."""
    if isinstance(result, (list, tuple)) and not all(type(r) is int for r in result):
        return [_plain(r, to_numpy) for r in result]
    if isinstance(result, (int, str, tuple, np.ndarray)):
        return result
    return to_numpy(result)


def _assert_same(ours, theirs, dtypes, label):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), label
        for o, t in zip(ours, theirs):
            _assert_same(o, t, dtypes, label)
        return
    if not isinstance(theirs, np.ndarray):
        assert ours == theirs, label
        return
    assert ours.shape == theirs.shape, label
    if dtypes:
        assert ours.dtype == theirs.dtype, label
    if theirs.dtype.kind == "f":
        tight = theirs.dtype == np.float64 and ours.dtype == np.float64
        rtol = 1e-12 if tight else 1e-6
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol, err_msg=label)
    else:
        np.testing.assert_array_equal(ours, theirs, err_msg=label)


@pytest.mark.parametrize("label, call, dtypes", CASES, ids=[c[0] for c in CASES])
def test_same_values_shapes_and_dtypes_as_keras(keras, label, call, dtypes):
    ours = _plain(call(ops), lambda t: t.data)
    theirs = _plain(call(keras.ops), keras.ops.convert_to_numpy)
    _assert_same(ours, theirs, dtypes, label)


def test_every_keras_name_takes_keras_arguments(keras):
    differ = {}
    for name in ops.KERAS_NAMES:
        ours = list(inspect.signature(getattr(ops, name)).parameters)
        theirs = list(inspect.signature(getattr(keras.ops, name)).parameters)
        if ours != theirs:
            differ[name] = (ours, theirs)
    assert differ == {}


def test_the_names_the_namespace_promises_are_there():
    promised = """ones zeros ones_like zeros_like full arange shape cast
    convert_to_tensor convert_to_numpy square sqrt exp log abs mean sum max min
    argmax argmin one_hot concatenate stack reshape transpose expand_dims squeeze
    matmul multiply add subtract divide negative power maximum minimum where clip
    relu sigmoid softmax tanh take equal not_equal greater less logical_and norm
    var std""".split()
    assert set(promised) <= set(ops.KERAS_NAMES)
    assert all(callable(getattr(ops, name)) for name in ops.KERAS_NAMES)
    assert ops.shape(np.zeros((2, 3))) == (2, 3)


# --- the rules, without Keras ------------------------------------------------------
@pytest.mark.parametrize(
    "call, dtype",
    [
        (lambda: ops.convert_to_tensor(1.5), "float32"),
        (lambda: ops.convert_to_tensor([1, 2]), "int32"),
        (lambda: ops.convert_to_tensor(np.arange(3)), "int64"),
        (lambda: ops.convert_to_tensor([2**40]), "int64"),
        (lambda: ops.add(I, 2.5), "float32"),
        (lambda: ops.add(A, 2.5), "float32"),
        (lambda: ops.multiply(I, A), "float32"),
        (lambda: ops.multiply(I, A64), "float64"),
        (lambda: ops.divide(I, 2), "float32"),
        (lambda: ops.sqrt(I), "float32"),
        (lambda: ops.mean(B), "float32"),
        (lambda: ops.sum(I), "int32"),
        (lambda: ops.sum(np.ones(3, "int8")), "int32"),
        (lambda: ops.sum(B), "int32"),
        (lambda: ops.argmax(A64), "int32"),
        (lambda: ops.one_hot([1], 2), "float32"),
        (lambda: ops.ones(2), "float32"),
        (lambda: ops.arange(3), "int32"),
        (lambda: ops.arange(3.0), "float32"),
        (lambda: ops.var(A64), "float64"),
    ],
)
def test_keras_dtype_rules(call, dtype):
    out = call()
    assert isinstance(out, Tensor) and out.dtype == np.dtype(dtype)


def test_arrays_and_tensors_give_the_same_tensor():
    for name in ("square", "exp", "relu", "softmax", "ravel", "transpose"):
        f = getattr(ops, name)
        from_array, from_tensor = f(A64), f(Tensor(A64))
        assert isinstance(from_array, Tensor) and not from_array.requires_grad
        np.testing.assert_array_equal(from_array.data, from_tensor.data)


def test_an_op_on_a_tensor_keeps_the_graph_and_an_integer_result_cuts_it():
    x = Tensor(A64, requires_grad=True)
    assert ops.square(x).requires_grad and ops.mean(x).requires_grad
    for result in (ops.argmax(x), ops.greater(x, 0), ops.cast(x, "int32")):
        assert not result.requires_grad


def test_cast_to_float32_sends_a_float64_gradient_back():
    x = Tensor(A64, requires_grad=True)
    y = ops.cast(x, "float32")
    assert y.dtype == np.float32
    ops.sum(ops.square(y)).backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, 2 * A64, rtol=1e-6)


def test_cast_to_the_same_dtype_is_the_tensor_itself():
    x = Tensor(A64, requires_grad=True)
    assert ops.cast(x, "float64") is x and ops.convert_to_tensor(x) is x


#: Ops composed from the primitives: their gradients, by finite differences.
COMPOSED = [
    ("square", ops.square),
    ("var", lambda x: ops.var(x, axis=1)),
    ("std", lambda x: ops.std(x, axis=0, keepdims=True)),
    ("norm", ops.norm),
    ("norm_l1_axis", lambda x: ops.norm(x, ord=1, axis=1)),
    ("norm_p3", lambda x: ops.norm(x, ord=3, axis=0)),
    ("norm_inf", lambda x: ops.norm(x, ord=math.inf, axis=1)),
    ("norm_matrix_l1", lambda x: ops.norm(x, ord=1)),
    ("norm_matrix_inf", lambda x: ops.norm(x, ord=-math.inf, keepdims=True)),
    ("take", lambda x: ops.take(x, [2, 0, 2], axis=1)),
    ("take_flat", lambda x: ops.take(x, np.array([[5, 0], [5, 5]]))),
    ("split", lambda x: ops.multiply(ops.split(x, [1], axis=1)[1], 3.0)),
    ("expand_squeeze", lambda x: ops.squeeze(ops.expand_dims(x, (0, 2)), 0)),
    ("divide", lambda x: ops.divide(x, ops.add(ops.abs(x), 1.0))),
    ("clip", lambda x: ops.clip(x, -0.3, None)),
    ("where", lambda x: ops.where(ops.greater(x, 0), ops.exp(x), ops.negative(x))),
    ("max_initial", lambda x: ops.max(x, axis=0, initial=0.1)),
    ("cast", lambda x: ops.cast(ops.cast(x, "float16"), "float64")),
    ("concatenate", lambda x: ops.concatenate([x, ops.square(x)], axis=0)),
    ("stack", lambda x: ops.stack([x, ops.tanh(x)], axis=-1)),
    ("gelu", ops.gelu),
    ("leaky_relu", ops.leaky_relu),
]


@pytest.mark.parametrize("label, fn", COMPOSED, ids=[c[0] for c in COMPOSED])
def test_gradients_of_composed_ops(label, fn):
    # distinct magnitudes away from 0 and from the clip bound: no kinks, no ties
    x = np.array([[0.7, -1.3, 0.45], [-0.9, 1.6, 2.1]])
    if label == "cast":  # float16 rounds; its gradient is still exactly 1
        t = Tensor(x, requires_grad=True)
        ops.sum(fn(t)).backward()
        np.testing.assert_array_equal(t.grad, np.ones_like(x))
        return
    assert gradcheck(fn, x, name=label) < 1e-6


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ops.clip(A, None, None), "clip needs x_min, x_max or both"),
        (lambda: ops.where(B, A), "where needs both x1 and x2"),
        (lambda: ops.squeeze(A, axis=0), "axis 0 has size 2"),
        (lambda: ops.expand_dims(A, 3), "out of bounds"),
        (lambda: ops.norm(A, ord="nuc"), "need an SVD"),
        (lambda: ops.norm(A, ord="fro", axis=0), "matrix norm"),
        (lambda: ops.norm(np.ones((2, 2, 2)), ord=1), "1-D or 2-D"),
        (lambda: ops.one_hot([0], 2, sparse=True), "no sparse"),
        (lambda: ops.convert_to_tensor(A, sparse=True), "no sparse"),
        (lambda: ops.cast(A, "bfloat17"), "Invalid dtype"),
    ],
)
def test_errors_say_what_was_received(call, message):
    with pytest.raises(ValueError, match=message):
        call()
