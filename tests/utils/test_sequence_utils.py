"""pad_sequences: Keras's arrays for every padding and truncation."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.utils import pad_sequences

SEQUENCES = [[1, 2, 3], [4], [], [5, 6, 7, 8, 9]]


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 2, 7])
def test_pad_sequences_matches_keras(keras, padding, truncating, maxlen):
    kwargs = dict(maxlen=maxlen, padding=padding, truncating=truncating)
    ours = pad_sequences(SEQUENCES, **kwargs)
    theirs = keras.utils.pad_sequences(SEQUENCES, **kwargs)
    assert ours.dtype == theirs.dtype == np.int32
    np.testing.assert_array_equal(ours, theirs)


def test_value_dtype_and_vector_steps(keras):
    steps = [np.ones((2, 3)), np.full((1, 3), 2.0)]
    for kwargs in (dict(dtype="float32", value=-1.0), dict(dtype="float64")):
        ours = pad_sequences(steps, **kwargs)
        theirs = keras.utils.pad_sequences(steps, **kwargs)
        assert ours.shape == (2, 2, 3) and ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)
    words = pad_sequences([["a", "b"], ["c"]], dtype=object, value="")
    np.testing.assert_array_equal(words, [["a", "b"], ["", "c"]])


def test_pad_sequences_by_hand():
    np.testing.assert_array_equal(pad_sequences([[1, 2], [3]]), [[1, 2], [0, 3]])
    np.testing.assert_array_equal(
        pad_sequences([[1, 2, 3]], maxlen=2, truncating="post", padding="post"),
        [[1, 2]],
    )
    assert pad_sequences([[], []]).shape == (2, 0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(sequences=[[1]], padding="middle"), 'Padding type "middle"'),
        (dict(sequences=[[1]], truncating="both"), 'Truncating type "both"'),
        (dict(sequences=5), "must be iterable"),
        (dict(sequences=[[1], 2]), "Found non-iterable"),
        (dict(sequences=[["a"]], value="x"), "not compatible"),
        (dict(sequences=[np.ones((1, 2)), np.ones((1, 3))]), "expected shape"),
    ],
)
def test_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pad_sequences(**kwargs)
