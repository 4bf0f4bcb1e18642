"""Data adapter: checked arrays, validation split, weights, and the batches of an
epoch (order, gather groups, every sample once)."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.models import data_adapter
from glassnet.models.data_adapter import ArrayDataAdapter, EpochIterator


def _indexed(n, features=3):
    """x whose row i is all i, so a batch tells which samples it holds."""
    x = np.repeat(np.arange(n, dtype=np.float32)[:, None], features, axis=1)
    return x, np.arange(n) * 10, np.arange(n) / 100.0


def _reference_batches(x, y, sw, batch_size, order, group):
    """The trainer's batches before the split, written out as its loop was: step
    by step, gathering ``group`` batches at once when shuffled."""
    n = len(x)
    out = []
    for step in range(-(-n // batch_size)):
        lo = step * batch_size
        if order is None:
            rows = slice(lo, lo + batch_size)
            out.append((x[rows], y[rows], sw[rows]))
            continue
        k = step % group
        if k == 0:
            rows = order[lo : lo + group * batch_size]
            xs, ys, ss = x[rows], y[rows], sw[rows]
        rows = slice(k * batch_size, (k + 1) * batch_size)
        out.append((xs[rows], ys[rows], ss[rows]))
    return out


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize(
    "n, batch_size, gather, group",
    [(10, 3, 18, 2), (10, 3, 27, 3), (10, 5, 1 << 18, 17476), (7, 2, 1, 1)],
)
def test_batches_equal_the_old_loop_for_a_fixed_seed(
    monkeypatch, shuffle, n, batch_size, gather, group
):
    # x has 3 features, so a batch of 3 holds 9 values: gathering 18 or 27 values
    # at a time gives groups of 2 or 3 batches (the last group short).
    monkeypatch.setattr(data_adapter, "GATHER_ELEMENTS", gather)
    x, y, sw = _indexed(n)
    adapter = ArrayDataAdapter(x, y, sw, batch_size, shuffle)
    assert adapter.group == group
    np.random.seed(7)
    got = [batch for _, batch in EpochIterator(x, y, sw, batch_size, shuffle)]
    np.random.seed(7)
    order = np.random.permutation(n) if shuffle else None
    want = _reference_batches(x, y, sw, batch_size, order, adapter.group)
    assert len(got) == len(want) == -(-n // batch_size)
    for a, b in zip(got, want):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)
            assert u.dtype == v.dtype
    if shuffle:
        first_rows = np.concatenate([b[0][:, 0] for b in got]).astype(int)
        np.testing.assert_array_equal(first_rows, order)


def test_group_holds_about_a_megabyte_of_x():
    x = np.zeros((1000, 1 << 10), dtype=np.float32)
    assert ArrayDataAdapter(x, batch_size=8).group == (1 << 18) // (8 << 10) == 32
    assert ArrayDataAdapter(np.zeros((4, 1 << 20)), batch_size=2).group == 1


@pytest.mark.parametrize("shuffle", [False, True])
def test_every_sample_once_per_epoch(shuffle):
    x, y, sw = _indexed(23)
    iterator = EpochIterator(x, y, sw, batch_size=4, shuffle=shuffle)
    epochs = []
    for _ in range(3):
        steps, rows = [], []
        for step, (xb, yb, sb) in iterator:
            steps.append(step)
            rows.append(xb[:, 0].astype(int))
            np.testing.assert_array_equal(yb, rows[-1] * 10)
            np.testing.assert_allclose(sb, rows[-1] / 100.0)
        assert steps == list(range(6)) and [len(r) for r in rows] == [4] * 5 + [3]
        epochs.append(np.concatenate(rows))
        np.testing.assert_array_equal(np.sort(epochs[-1]), np.arange(23))
    if shuffle:  # a fresh permutation each epoch
        assert not np.array_equal(epochs[0], epochs[1])
    else:
        assert all(np.array_equal(e, np.arange(23)) for e in epochs)


def test_unshuffled_batches_are_views_and_none_stays_none():
    x = np.arange(12.0).reshape(6, 2)
    batches = [batch for _, batch in EpochIterator(x, batch_size=4)]
    assert [len(b[0]) for b in batches] == [4, 2]
    assert all(np.shares_memory(b[0], x) for b in batches)
    assert all(b[1] is None and b[2] is None for b in batches)


def test_steps_per_epoch_cuts_each_epoch_short():
    x, y, sw = _indexed(10)
    iterator = EpochIterator(x, y, sw, batch_size=3, steps_per_epoch=2)
    assert iterator.num_batches == 2
    for _ in range(2):  # each epoch starts over
        rows = [b[0][:, 0].tolist() for _, b in iterator]
        assert rows == [[0, 1, 2], [3, 4, 5]]
    assert EpochIterator(x, batch_size=3, steps_per_epoch=99).num_batches == 4


def test_validation_split_takes_the_last_fraction():
    x, y, _ = _indexed(40)
    (xt, yt, swt), (xv, yv, swv) = data_adapter.train_validation_split(
        (x, y, None), 0.25
    )
    np.testing.assert_array_equal(xt, x[:30])
    np.testing.assert_array_equal(yv, y[30:])
    assert len(xv) == 10 and swt is None and swv is None
    (xt, _, _), (xv, _, _) = data_adapter.train_validation_split((x, y, None), 0.33)
    assert len(xt) == 26 and len(xv) == 14  # floor(40 * 0.67) for training


@pytest.mark.parametrize(
    "split, message",
    [
        (1.5, "between 0 and 1"),
        (-0.1, "between 0 and 1"),
        (1e-20, "no samples for validation"),  # 1 - 1e-20 == 1.0
        (0.99, "no samples for training"),
    ],
)
def test_validation_split_errors(split, message):
    x, y, _ = _indexed(10)
    with pytest.raises(ValueError, match=message):
        data_adapter.train_validation_split((x, y, None), split)


def test_sample_weight_times_class_weight():
    labels = np.array([0, 2, 1, 2])
    sw = [1.0, 2.0, 3.0, 4.0]
    cw = {0: 0.5, 1: 2.0, 2: 10.0}
    got = data_adapter.sample_weights(labels, sw, cw, np.float32)
    np.testing.assert_array_equal(got, [0.5, 20.0, 6.0, 40.0])
    assert got.dtype == np.float32
    one_hot = np.eye(3, dtype=np.float32)[labels]
    np.testing.assert_array_equal(
        data_adapter.sample_weights(one_hot, None, cw, np.float32), [0.5, 10, 2, 10]
    )
    column = labels[:, None].astype(np.float32)  # (n, 1) labels: rounded
    np.testing.assert_array_equal(
        data_adapter.sample_weights(column, None, cw, np.float32), [0.5, 10, 2, 10]
    )
    assert data_adapter.sample_weights(labels, None, None, np.float32) is None


def test_weight_errors_name_what_is_wrong():
    labels = np.array([0, 1, 3])
    with pytest.raises(ValueError, match=r"no weight for classes \[3\]"):
        data_adapter.sample_weights(labels, None, {0: 1.0, 1: 1.0}, np.float32)
    with pytest.raises(ValueError, match=r"one weight per sample \(3\).*\(2,\)"):
        data_adapter.sample_weights(labels, [1.0, 2.0], None, np.float32)


def test_standardize_x():
    x = data_adapter.standardize_x([1, 2, 3], np.float32, None, "m")
    assert x.shape == (3, 1) and x.dtype == np.float32 and x.flags.c_contiguous
    fortran = np.asfortranarray(np.ones((4, 3)))
    assert data_adapter.standardize_x(fortran, np.float32, None, "m").flags.c_contiguous
    with pytest.raises(ValueError, match=r"one feature per sample.*\(3,\)"):
        data_adapter.standardize_x(np.ones(3), np.float32, (None, 4), "m")
    with pytest.raises(ValueError, match="NaN"):
        data_adapter.standardize_x([[np.inf]], np.float32, None, "m")
    with pytest.raises(TypeError, match="numeric input.*<U1"):
        data_adapter.standardize_x([["a"]], np.float32, None, "m")
    with pytest.raises(ValueError, match="scalar"):
        data_adapter.standardize_x(3.0, np.float32, None, "m")


def test_standardize_y():
    y = data_adapter.standardize_y(np.arange(4.0), 4, (None, 1), np.float32)
    assert y.shape == (4, 1) and y.dtype == np.float32
    labels = data_adapter.standardize_y(np.arange(4), 4, (None, 3), np.float32)
    assert labels.shape == (4,) and labels.dtype.kind == "i"  # sparse labels kept
    with pytest.raises(ValueError, match="x with 5 samples, y with 4"):
        data_adapter.standardize_y(np.arange(4), 5, (None, 3), np.float32)
    with pytest.raises(ValueError, match="Target y contains NaN"):
        data_adapter.standardize_y([np.nan, 1.0], 2, (None, 1), np.float32)


@pytest.mark.parametrize(
    "y, out, targets, message",
    [
        (np.full((4, 1), 0.5), (None, 3), "same", r"only fit by broadcasting"),
        (np.arange(4), (None, 3), "same", r"need loss='sparse_categorical"),
        (np.eye(3)[[0, 1, 2, 0]], (None, 3), "labels", r"takes integer class"),
        (np.array([0, 1, 2, 3]), (None, 3), "labels", r"in \[0, 3\).*0 to 3"),
        (np.arange(4) + 0.5, (None, 3), None, r"only fit by broadcasting"),
        (np.ones((4, 3)), (None, 1), None, r"\(4, 3\).*\(None, 1\)"),
    ],
)
def test_standardize_y_against_the_output(y, out, targets, message):
    with pytest.raises(ValueError, match=message):
        data_adapter.standardize_y(y, 4, out, np.float32, targets)


def test_standardize_y_keeps_labels_where_the_loss_takes_them():
    for targets in ("labels", None):
        for y in (np.arange(4) % 3, (np.arange(4) % 3)[:, None], np.zeros(4)):
            got = data_adapter.standardize_y(y, 4, (None, 3), np.float32, targets)
            assert got.shape == y.shape
    y = data_adapter.standardize_y(np.ones(4), 4, (None, 1), np.float32, "same")
    assert y.shape == (4, 1)


def test_overflow_complex_and_empty_input():
    with pytest.raises(ValueError, match=r"too large for float32.*1e\+39"):
        data_adapter.standardize_x([[1e39]], np.float32, None, "m")
    assert data_adapter.standardize_x([[1e39]], np.float64, None, "m")[0, 0] == 1e39
    with pytest.raises(TypeError, match=r"`x` is complex"):
        data_adapter.standardize_x([[1j]], np.float32, None, "m")
    with pytest.raises(TypeError, match=r"`y` is complex"):
        data_adapter.standardize_y([1j], 1, (None, 1), np.float32)
    empty = np.zeros((0, 3))
    assert data_adapter.standardize_x(empty, np.float32, None, "m").shape == (0, 3)
    with pytest.raises(ValueError, match=r"`x` has no samples"):
        data_adapter.standardize_x(empty, np.float32, None, "m", allow_empty=False)


def test_unpack_validation_data():
    assert data_adapter.unpack_x_y_sample_weight((1, 2)) == (1, 2, None)
    assert data_adapter.unpack_x_y_sample_weight([1, 2, 3]) == (1, 2, 3)
    with pytest.raises(ValueError, match="validation_data must be a tuple"):
        data_adapter.unpack_x_y_sample_weight(np.ones((2, 2)))
