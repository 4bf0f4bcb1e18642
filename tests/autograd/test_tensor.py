"""Small exact tests of Tensor and the backward walk."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import Tensor, no_grad, ops
from glassnet.autograd import enable_grad, is_grad_enabled


def test_broadcast_gradient_is_summed_back_to_each_input_shape():
    a = Tensor(np.ones((3, 1)), requires_grad=True)
    b = Tensor(np.ones((1, 4)), requires_grad=True)
    (a * b).sum().backward()
    np.testing.assert_array_equal(a.grad, np.full((3, 1), 4.0))
    np.testing.assert_array_equal(b.grad, np.full((1, 4), 3.0))


def test_broadcast_against_missing_leading_axes():
    bias = Tensor(np.zeros(4), requires_grad=True)
    (Tensor(np.ones((2, 3, 4))) + bias).sum().backward()
    np.testing.assert_array_equal(bias.grad, np.full(4, 6.0))


def test_tensor_used_twice_accumulates():
    x = Tensor(3.0, requires_grad=True)
    (x * x + x).backward()  # d/dx (x^2 + x) = 2x + 1
    assert x.grad == 7.0


def test_diamond_graph_visits_shared_node_once():
    x = Tensor(2.0, requires_grad=True)
    h = x * 3.0
    (h * h + h).backward()  # d/dx (9x^2 + 3x) = 18x + 3
    assert x.grad == 39.0


def test_second_backward_adds_to_grad_until_it_is_reset():
    x = Tensor(1.5, requires_grad=True)
    (x * 2.0).backward()
    (x * 2.0).backward()
    assert x.grad == 4.0
    x.zero_grad()
    assert x.grad is None


def test_deep_graph_has_no_recursion_error():
    x = Tensor(np.float64(1.0), requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0 + 0.0  # two nodes per step: 40,000 deep
    y.backward()
    assert x.grad == 1.0


def test_backward_on_non_scalar_without_gradient_says_so():
    y = Tensor(np.ones(3), requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match=r"scalar.*shape \(3,\)"):
        y.backward()
    y.backward(np.ones(3))


def test_backward_gradient_of_wrong_shape_is_rejected():
    y = Tensor(np.ones(3), requires_grad=True) * 2.0
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        y.backward(np.ones(2))


def test_backward_without_graph_says_why():
    with pytest.raises(RuntimeError, match="requires grad"):
        Tensor(1.0).backward()


def test_nan_produced_in_forward_is_not_hidden():
    x = Tensor(np.array([-1.0, 4.0]), requires_grad=True)
    with pytest.warns(RuntimeWarning, match="invalid value"):
        y = ops.sqrt(x)
    z = ops.relu(y).sum()  # NaN flows through later ops, it is not clipped away
    assert np.isnan(y.data[0]) and np.isnan(z.item())
    assert "nan" in repr(y)


def test_no_grad_records_nothing_and_restores_state():
    w = Tensor(np.ones(2), requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        y = w * 2.0
        with enable_grad():
            z = w * 2.0
    assert is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad


def test_no_grad_as_decorator_restores_state_after_an_exception():
    @no_grad()
    def fail():
        raise KeyError("boom")

    with pytest.raises(KeyError):
        fail()
    assert is_grad_enabled()


def test_detach_cuts_the_graph_but_shares_data():
    x = Tensor(np.ones(2), requires_grad=True)
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.is_leaf
    (x * d).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_float32_times_python_float_stays_float32():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = (x * 0.5 + 1.0) / 3.0 - 2.0
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_gradient_cast_back_to_input_dtype():
    w = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    (w * np.arange(3.0)).sum().backward()  # the float64 operand upcasts z
    assert w.grad.dtype == np.float32


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="Received: dtype=int"):
        Tensor([1, 2], requires_grad=True)


def test_operators_and_reflected_operators():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = 3.0 - x + 2.0 * x / 4.0 + 1.0 / x - (-x) ** 2 + 2.0**x + x**2
    y = y + np.ones(2) + np.float64(1.0) * x  # NumPy operands defer to Tensor
    assert isinstance(y, Tensor)
    y.sum().backward()
    expected = -1.0 + 0.5 - 1.0 / x.data**2 + np.log(2.0) * 2.0**x.data + 1.0
    np.testing.assert_allclose(x.grad, expected)


def test_matmul_operator_and_transpose():
    a = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (a @ a.T).sum().backward()
    np.testing.assert_allclose(a.grad, 2.0 * np.ones((2, 2)) @ a.data)
    assert a.transpose(1, 0).shape == a.transpose((1, 0)).shape == (3, 2)
    assert a.reshape(3, 2).shape == a.reshape((3, 2)).shape == (3, 2)


def test_indexing_operator_scatters_gradient():
    x = Tensor(np.arange(4.0), requires_grad=True)
    (x[1:3].sum() + x[[0, 0]].sum()).backward()
    np.testing.assert_array_equal(x.grad, [2.0, 1.0, 1.0, 0.0])


def test_graph_keeps_op_name_inputs_value_and_grad_for_drawing():
    x = Tensor(2.0, requires_grad=True, name="x")
    y = ops.tanh(x * 3.0)
    y.backward(retain_grads=True)
    assert y.grad_fn.name == "Tanh"
    (product,) = y.grad_fn.inputs
    assert product.grad_fn.name == "Mul" and product.grad_fn.inputs[0] is x
    np.testing.assert_allclose(y.data, np.tanh(6.0))
    np.testing.assert_allclose(product.grad, 1 - np.tanh(6.0) ** 2)
    np.testing.assert_allclose(x.grad, 3 * (1 - np.tanh(6.0) ** 2))


def test_intermediate_grads_are_dropped_unless_retained():
    x = Tensor(np.ones(3), requires_grad=True)
    h = x * 2.0
    (h * h).sum().backward()
    assert h.grad is None
    np.testing.assert_array_equal(x.grad, [8.0, 8.0, 8.0])


def test_comparisons_give_boolean_tensors_for_where():
    x = Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    mask = x > 0
    assert mask.dtype == bool and not mask.requires_grad
    ops.where(mask, x, 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0])
    assert float(Tensor(2.5)) == 2.5


def test_grad_of_a_scalar_is_an_array():
    x = Tensor(2.0, requires_grad=True)
    (x * x).backward()
    assert type(x.grad) is np.ndarray and x.grad.shape == () and x.grad == 4.0


def test_numpy_conversion_shares_or_copies_on_request():
    t = Tensor(np.arange(3.0))
    assert np.asarray(t) is t.data
    copied = np.array(t, copy=True)
    copied[0] = 9.0
    assert t.data[0] == 0.0
    assert np.asarray(t, dtype=np.float32).dtype == np.float32


def test_grad_mode_is_per_thread():
    import threading

    from glassnet import no_grad

    inside, release = threading.Event(), threading.Event()
    seen = {}

    def predict():
        with no_grad():
            inside.set()
            release.wait(5)
            seen["worker"] = is_grad_enabled()

    worker = threading.Thread(target=predict)
    worker.start()
    inside.wait(5)
    seen["main"] = is_grad_enabled()  # another thread is inside no_grad
    x = Tensor(np.ones(2), requires_grad=True)
    seen["records"] = (x * 2.0).requires_grad
    release.set()
    worker.join()
    assert seen == {"worker": False, "main": True, "records": True}


def test_one_no_grad_decorator_shared_by_threads_restores_each_thread():
    import threading

    from glassnet import no_grad

    barrier = threading.Barrier(4)

    @no_grad()
    def work():
        barrier.wait(5)  # all four inside at once, leaving in any order
        return is_grad_enabled()

    results = []
    threads = [
        threading.Thread(target=lambda: results.append((work(), is_grad_enabled())))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [(False, True)] * 4
    assert is_grad_enabled()
