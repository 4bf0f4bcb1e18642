"""FlatVector: several arrays as views of one flat vector."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from glassnet.runtime import FlatVector

SHAPES = [(4, 3), (3,), (), (0, 2), (2, 1, 2)]


def _arrays(dtype=np.float64):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]


def test_pack_copies_in_order_and_views_share_the_storage():
    arrays = _arrays()
    flat = FlatVector.pack(arrays)
    assert flat.data.shape == (12 + 3 + 1 + 0 + 4,)
    assert flat.offsets == [0, 12, 15, 16, 16, 20]
    np.testing.assert_array_equal(
        flat.data, np.concatenate([a.ravel() for a in arrays])
    )
    for view, array in zip(flat.views, arrays):
        assert view.shape == array.shape and view is not array
        assert view.base is flat.data or view.size == 0
        np.testing.assert_array_equal(view, array)
    flat.views[0][1, 2] = 7.0
    flat.views[2][...] = -1.0
    assert flat.data[5] == 7.0 and flat.data[15] == -1.0
    flat.data[12:15] = 3.0
    np.testing.assert_array_equal(flat.views[1], [3.0, 3.0, 3.0])


def test_in_place_ufuncs_on_the_views_update_the_vector():
    flat = FlatVector.pack([np.ones((2, 2)), np.ones(3)])
    for view in flat.views:
        view *= 2.0
        view += 1.0
    np.testing.assert_array_equal(flat.data, np.full(7, 3.0))


def test_split_and_gather_use_the_layout_on_other_vectors():
    arrays = _arrays()
    flat = FlatVector([a.shape for a in arrays], np.float64)
    assert flat.gather(arrays) is flat.data
    other = np.arange(flat.data.size, dtype=np.float64)
    views = flat.split(other)
    assert [v.shape for v in views] == SHAPES
    assert views[1].tolist() == [12.0, 13.0, 14.0]
    views[1][0] = -5.0
    assert other[12] == -5.0


def test_holds_is_identity_and_detects_a_replaced_array():
    arrays = _arrays()
    flat = FlatVector.pack(arrays)
    assert not flat.holds(arrays)  # copies, not the originals
    mine = list(flat.views)
    assert flat.holds(mine)
    assert not flat.holds(mine[:-1])
    mine[1] = mine[1].copy()  # a user gives one weight a new array
    assert not flat.holds(mine)
    repacked = FlatVector.pack(mine)
    assert repacked.holds(repacked.views)
    np.testing.assert_array_equal(repacked.data, flat.data)


@pytest.mark.parametrize(
    "sources, dtype, expected",
    [
        ((np.float32, np.float32), None, np.float32),
        ((np.float32, np.float64), None, np.float64),
        ((np.float64, np.float64), np.float32, np.float32),
        ((np.float32, np.float32), "float64", np.float64),
    ],
)
def test_dtype_changes(sources, dtype, expected):
    arrays = [np.full((2, 2), 0.1, sources[0]), np.full(2, 0.1, sources[1])]
    flat = FlatVector.pack(arrays, dtype=dtype)
    assert flat.dtype == expected
    assert all(v.dtype == expected for v in flat.views)
    # each value is rounded once, straight to the target dtype
    for view, array in zip(flat.views, arrays):
        np.testing.assert_array_equal(view, array.astype(expected))


def test_pack_accepts_lists_and_scalars():
    flat = FlatVector.pack([[[1, 2], [3, 4]], 5.0])
    assert flat.shapes == [(2, 2), ()]
    np.testing.assert_array_equal(flat.data, [1.0, 2.0, 3.0, 4.0, 5.0])


def test_given_storage_is_checked_and_used():
    storage = np.zeros(5, np.float32)
    flat = FlatVector([(2, 2), (1,)], np.float32, storage)
    assert flat.data is storage and flat.views[1].base is storage
    with pytest.raises(ValueError, match="vector of 5 float32. Received: data of"):
        FlatVector([(2, 2), (1,)], np.float32, np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="dtype float64"):
        FlatVector([(2, 2), (1,)], np.float32, np.zeros(5))


def test_empty_layout():
    flat = FlatVector.pack([], dtype=np.float64)
    assert flat.data.shape == (0,) and flat.views == [] and flat.holds([])


def test_pickling_keeps_views_as_views():
    flat = FlatVector.pack(_arrays(np.float32))
    restored = pickle.loads(pickle.dumps(flat))
    assert restored.shapes == flat.shapes and restored.dtype == np.float32
    np.testing.assert_array_equal(restored.data, flat.data)
    restored.views[0][0, 0] = 42.0
    assert restored.data[0] == 42.0
    assert all(v.base is restored.data for v in restored.views if v.size)
    # arrays pickled beside it come back as separate copies, not its views
    arrays, again = pickle.loads(pickle.dumps((flat.views, flat)))
    assert not again.holds(arrays)
