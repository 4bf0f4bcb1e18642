"""Fused, numerically stable losses: exact values and extreme logits."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import Tensor, ops


def test_softmax_cross_entropy_is_finite_for_logits_of_1e4():
    logits = Tensor(np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]]), requires_grad=True)
    loss = ops.softmax_cross_entropy(logits, np.array([0, 0]))
    np.testing.assert_allclose(loss.data, [0.0, 1e4 + np.log(2.0)])
    loss.sum().backward()
    np.testing.assert_allclose(logits.grad, [[0, 0, 0], [-1, 0.5, 0.5]], atol=1e-12)


def test_softmax_cross_entropy_float32_logits_of_1e4_stay_finite():
    logits = Tensor(np.array([[1e4, -1e4, 0.0]], dtype=np.float32), requires_grad=True)
    loss = ops.softmax_cross_entropy(logits, np.array([1]))
    assert loss.dtype == np.float32 and np.isfinite(loss.data).all()
    loss.sum().backward()
    assert np.isfinite(logits.grad).all()


def test_softmax_cross_entropy_labels_equal_one_hot_probabilities():
    logits = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, -1.0]])
    labels = np.array([2, 0])
    by_label = ops.softmax_cross_entropy(Tensor(logits), labels).data
    by_probs = ops.softmax_cross_entropy(Tensor(logits), np.eye(3)[labels]).data
    expected = -np.log(np.exp(logits[[0, 1], labels]) / np.exp(logits).sum(axis=1))
    np.testing.assert_allclose(by_label, expected)
    np.testing.assert_allclose(by_probs, expected)


def test_softmax_cross_entropy_rejects_bad_targets_clearly():
    logits = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"Received: target of shape \(3,\)"):
        ops.softmax_cross_entropy(logits, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="integer labels"):
        ops.softmax_cross_entropy(logits, np.array([0.0, 1.0]))


def test_sigmoid_cross_entropy_is_finite_for_large_logits():
    x = Tensor(np.array([1e4, -1e4, 0.0]), requires_grad=True)
    loss = ops.sigmoid_cross_entropy(x, np.array([0.0, 0.0, 1.0]))
    np.testing.assert_allclose(loss.data, [1e4, 0.0, np.log(2.0)])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, 0.0, -0.5])


def test_softmax_cross_entropy_rejects_labels_out_of_range():
    logits = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"labels in \[0, 3\). Received: .* -1 to 1"):
        ops.softmax_cross_entropy(logits, np.array([-1, 1]))
    with pytest.raises(ValueError, match="Received: labels from 0 to 3"):
        ops.softmax_cross_entropy(logits, np.array([0, 3]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy_labels_match_torch_on_3d_and_transposed_logits(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2, 5, 3)).astype(dtype).transpose(0, 2, 1)
    labels = rng.integers(0, 5, (2, 3))
    weights = rng.standard_normal((2, 3)).astype(dtype)
    x = Tensor(logits, requires_grad=True)
    loss = ops.softmax_cross_entropy(x, labels)
    loss.backward(weights)
    t = torch.tensor(logits, requires_grad=True)
    want = torch.nn.functional.cross_entropy(
        t.permute(0, 2, 1), torch.from_numpy(labels), reduction="none"
    )
    (want * torch.from_numpy(weights)).sum().backward()
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(loss.data, want.detach().numpy(), rtol=rtol)
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=rtol, atol=rtol)


def test_weighted_sum_divides_by_the_count_not_by_the_weights():
    # Keras's "sum_over_batch_size": (0*1 + 1*2 + 1*3 + 0*4) / 4 values
    values = Tensor(np.array([1.0, 2.0, 3.0, 4.0]), requires_grad=True)
    weight = np.array([0.0, 1.0, 1.0, 0.0])
    total = ops.weighted_sum(values, weight, divide_by_size=True)
    assert total.item() == 5.0 / 4
    total.backward()
    np.testing.assert_array_equal(values.grad, weight / 4)
    assert ops.weighted_sum(values, weight).item() == 5.0
