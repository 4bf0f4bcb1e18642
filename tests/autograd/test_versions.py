"""In-place changes after the forward pass are caught, not turned into wrong
gradients; replacing ``.data`` or changing what no Function kept is fine."""

import numpy as np
import pytest

from glassnet import Tensor, ops


def test_a_kept_input_changed_in_place_makes_backward_raise():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="dense/kernel")
    x = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    y = (x * w).sum()  # Mul keeps both arrays for its backward
    w.data += 1.0
    assert w.version == 1
    with pytest.raises(RuntimeError, match=r"'dense/kernel'.*version 1.*Mul"):
        y.backward()


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.assign(np.zeros(2)),
        lambda t: t.assign_add(1.0),
        lambda t: t.assign_sub(np.ones(2)),
    ],
)
def test_assign_methods_count_as_in_place_changes(change):
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = ops.linear(Tensor(np.ones((3, 2))), w[:, None]).sum()
    change(w)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_a_changed_output_that_backward_reads_raises():
    x = Tensor(np.array([0.5, -0.5]), requires_grad=True)
    y = ops.tanh(x)  # backward reads y: 1 - y**2
    y.data *= 2.0
    with pytest.raises(RuntimeError, match="Tanh"):
        y.sum().backward()


def test_replacing_data_keeps_the_recorded_values():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    y = (x * w).sum()
    w.data = np.array([10.0, 20.0])  # a new array: the graph kept the old one
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])
    assert w.version == 0


def test_changing_an_input_no_function_kept_is_fine():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    y = ops.add(a, b).sum()  # Add keeps nothing
    a.data += 5.0
    y.backward()
    np.testing.assert_array_equal(a.grad, [1.0, 1.0])


def test_a_fresh_forward_after_the_change_is_fine():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x = Tensor(np.array([3.0, 4.0]))
    w.assign_add(1.0)
    (x * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [3.0, 4.0])
    np.testing.assert_array_equal(w.data, [2.0, 3.0])


def test_assign_rejects_what_does_not_fit():
    w = Tensor(np.zeros(2, dtype=np.float32))
    with pytest.raises(TypeError):
        w.assign(np.array([1 + 2j, 0j]))
    with pytest.raises(ValueError):
        w.assign(np.zeros(3))
    assert w.version == 0


def test_an_optimizer_step_makes_a_second_backward_through_the_old_graph_raise():
    from glassnet.optimizers import SGD

    w = Tensor(np.array([[1.0], [2.0]]), requires_grad=True, name="kernel")
    loss = ops.linear(Tensor(np.ones((3, 2))), w).sum()
    loss.backward()
    SGD(0.1).step([w])
    assert w.version == 1
    with pytest.raises(RuntimeError, match="'kernel'"):
        loss.backward()
