"""to_categorical and normalize: Keras's values, shapes and dtypes."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import Tensor, ops
from glassnet.autograd import gradcheck
from glassnet.utils import normalize, to_categorical

LABELS = [
    ([0, 2, 1], None),
    ([0, 2, 1], 5),
    (np.array([[1], [0], [3]]), None),  # (n, 1): the last axis goes
    (np.array([[0, 1], [2, 2]]), 4),
    (np.array([[[1]], [[0]]]), 2),
    (np.array([-1, 1]), 3),  # a negative label picks from the end, as NumPy
    ((0, 1), None),
]


@pytest.mark.parametrize("x, num_classes", LABELS)
def test_to_categorical_matches_keras(keras, x, num_classes):
    ours = to_categorical(x, num_classes)
    theirs = keras.utils.to_categorical(x, num_classes)
    assert isinstance(ours, np.ndarray) and ours.dtype == theirs.dtype == np.float64
    np.testing.assert_array_equal(ours, theirs)


def test_to_categorical_by_hand():
    np.testing.assert_array_equal(to_categorical([1, 0], 3), [[0, 1, 0], [1, 0, 0]])
    assert to_categorical(np.zeros((4, 1), int), 2).shape == (4, 2)


def test_to_categorical_of_a_tensor_is_a_float32_tensor():
    out = to_categorical(Tensor(np.array([[2], [0]])))
    assert isinstance(out, Tensor) and out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [[0, 0, 1], [1, 0, 0]])


def test_to_categorical_says_which_label_is_too_large():
    with pytest.raises(ValueError, match="label 3 is not below num_classes=3"):
        to_categorical([0, 3], 3)


X = np.array([[3.0, -4.0, 0.5], [0.0, 0.0, 0.0], [1.0, 2.0, -2.0]])


@pytest.mark.parametrize("axis, order", [(-1, 2), (0, 2), (1, 1), (-1, 3)])
def test_normalize_matches_keras(keras, axis, order):
    for x in (X, X.astype("float32")):
        theirs = keras.utils.normalize(x, axis=axis, order=order)
        ours = normalize(x, axis=axis, order=order)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    # Tensors take Keras's ops.normalize path (the zero row stays zero)
    theirs = keras.utils.normalize(keras.ops.convert_to_tensor(X), axis, order)
    ours = normalize(Tensor(X), axis=axis, order=order)
    np.testing.assert_allclose(ours.data, keras.ops.convert_to_numpy(theirs), 1e-6)


def test_normalize_by_hand_and_through_a_tensor():
    np.testing.assert_allclose(normalize(np.array([[3.0, 4.0]])), [[0.6, 0.8]])
    np.testing.assert_array_equal(normalize(np.zeros((1, 2))), np.zeros((1, 2)))
    rows = np.array([[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]])
    assert gradcheck(lambda t: normalize(t), rows) < 1e-6
    assert gradcheck(lambda t: normalize(t, axis=0, order=3), rows) < 1e-6
    assert ops.shape(normalize([[1.0, 1.0]])) == (1, 2)
    with pytest.raises(ValueError, match="order"):
        normalize(Tensor(rows), order=0)
