"""Data adapter: checked arrays, validation split, weights, and the batches of an
epoch (order, gather groups, every sample once)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from glassnet.models import data_adapter
from glassnet.models.data_adapter import ArrayDataAdapter
from glassnet.models.epoch_iterator import EpochIterator


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
    assert data_adapter.unpack_validation_data((1, 2)) == (1, 2, None)
    assert data_adapter.unpack_validation_data([1, 2, 3]) == (1, 2, 3)
    with pytest.raises(ValueError, match="validation_data must be a tuple"):
        data_adapter.unpack_validation_data(np.ones((2, 2)))
    batches = iter([(np.ones((2, 1)), np.ones((2, 1)))])
    assert data_adapter.unpack_validation_data(batches) is batches


def test_unpack_and_pack_as_keras_does():
    x, y, sw = np.ones((2, 1)), np.zeros((2, 1)), np.ones(2)
    unpack, pack = (
        data_adapter.unpack_x_y_sample_weight,
        data_adapter.pack_x_y_sample_weight,
    )
    assert unpack(x) == (x, None, None) and unpack((x,)) == (x, None, None)
    assert unpack([x, y]) == (x, y, None) and unpack((x, y, sw)) == (x, y, sw)
    with pytest.raises(ValueError, match=r"`\(x, y, sample_weight\)`.*4 items"):
        unpack((x, y, sw, sw))
    assert pack(x) is x and pack([x]) == ([x],) and pack(x, y) == (x, y)
    assert pack(x, y, sw) == (x, y, sw)


# --- data that makes its own batches: generators, iterables, PyDataset ----------------
RNG = np.random.default_rng(7)
GX = RNG.standard_normal((40, 3)).astype("float32")
GY = (GX @ np.array([[0.5], [-1.0], [2.0]], "float32")).astype("float32")
GW = RNG.uniform(0.5, 1.5, 40).astype("float32")


def _batches(count, size=8, weighted=False, repeat=False):
    """A generator of ``count`` batches of GX, GY (and GW), endless if ``repeat``."""
    while True:
        for i in range(count):
            part = slice(i * size, (i + 1) * size)
            yield (GX[part], GY[part], GW[part]) if weighted else (GX[part], GY[part])
        if not repeat:
            return


class Batches:
    """A PyDataset by duck typing: no base class at all."""

    def __init__(self, count, size=8, log=None):
        self.count, self.size, self.log = count, size, log if log is not None else []

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        self.log.append(index)
        part = slice(index * self.size, (index + 1) * self.size)
        return GX[part], GY[part]

    def on_epoch_begin(self):
        self.log.append("begin")

    def on_epoch_end(self):
        self.log.append("end")


class Passes:
    """An iterable (not an iterator): every ``iter()`` is a new pass."""

    def __iter__(self):
        return _batches(5)


def _regressor(seed=0):
    from glassnet.layers import Dense, Input
    from glassnet.models import Sequential

    np.random.seed(seed)
    model = Sequential([Input((3,)), Dense(4, activation="tanh"), Dense(1)])
    model.compile("sgd", "mse")
    return model


def _keras_twin(keras, model):
    twin = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation="tanh"),
            keras.layers.Dense(1),
        ]
    )
    twin.set_weights(model.get_weights())
    twin.compile(keras.optimizers.SGD(0.01), "mse")
    return twin


def _keras_dataset(keras, count, size=8, class_weighted=False):
    class KBatches(keras.utils.PyDataset):
        def __len__(self):
            return count

        def __getitem__(self, index):
            part = slice(index * size, (index + 1) * size)
            return GX[part], GY[part]

    return KBatches()


def _counting(module):
    class Count(module.Callback):
        def __init__(self):
            super().__init__()
            self.per_epoch = []

        def on_epoch_begin(self, epoch, logs=None):
            self.per_epoch.append(0)

        def on_train_batch_end(self, batch, logs=None):
            self.per_epoch[-1] += 1

    return Count()


@pytest.mark.parametrize(
    "case",
    [
        "generator, steps_per_epoch",
        "endless generator",
        "weighted generator",
        "PyDataset",
        "PyDataset, steps_per_epoch",
        "PyDataset validation",
    ],
)
def test_batches_train_as_in_keras(keras, case):
    from glassnet import callbacks

    ours = _regressor()
    theirs = _keras_twin(keras, ours)
    kwargs = dict(epochs=2, shuffle=False, verbose=0)
    if case == "generator, steps_per_epoch":
        data = [_batches(5), _batches(5)]
        kwargs.update(epochs=2, steps_per_epoch=2)
    elif case == "endless generator":
        data = [_batches(3, repeat=True), _batches(3, repeat=True)]
        kwargs.update(epochs=3, steps_per_epoch=4)
    elif case == "weighted generator":
        data = [_batches(5, weighted=True), _batches(5, weighted=True)]
        kwargs.update(epochs=1)
    elif case == "PyDataset":
        data = [Batches(5), _keras_dataset(keras, 5)]
    elif case == "PyDataset, steps_per_epoch":
        data = [Batches(5), _keras_dataset(keras, 5)]
        kwargs.update(epochs=4, steps_per_epoch=2)
    else:
        data = [Batches(4), _keras_dataset(keras, 4)]
        kwargs.update(validation_data=None)
    counts = [_counting(callbacks), _counting(keras.callbacks)]
    histories = []
    for model, source, count, other in zip(
        (ours, theirs), data, counts, (Batches(5, 4), _keras_dataset(keras, 5, 4))
    ):
        extra = dict(kwargs)
        if case == "PyDataset validation":
            extra["validation_data"] = other
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            histories.append(model.fit(source, callbacks=[count], **extra).history)
    assert counts[0].per_epoch == counts[1].per_epoch
    assert sorted(histories[0]) == sorted(histories[1])
    for key in histories[1]:
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_evaluate_and_predict_on_batches_as_in_keras(keras):
    ours = _regressor()
    theirs = _keras_twin(keras, ours)
    for source in ((_batches(5), _batches(5)), (Batches(5), _keras_dataset(keras, 5))):
        np.testing.assert_allclose(
            ours.evaluate(source[0], verbose=0),
            theirs.evaluate(source[1], verbose=0),
            rtol=1e-5,
        )
    x_only = [((GX[i : i + 8],) for i in range(0, 40, 8)) for _ in range(2)]
    got = ours.predict(x_only[0], verbose=0)
    np.testing.assert_allclose(got, theirs.predict(x_only[1], verbose=0), rtol=1e-5)
    assert ours.evaluate(_batches(5), steps=2, verbose=0) == ours.evaluate(
        GX[:16], GY[:16], verbose=0
    )


def test_a_torch_data_loader_is_an_iterable_of_batches(keras):
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(torch.tensor(GX), torch.tensor(GY)), batch_size=8)
    ours = _regressor()
    theirs = _keras_twin(keras, ours)
    a = ours.fit(loader, epochs=2, verbose=0).history["loss"]
    b = theirs.fit(loader, epochs=2, verbose=0).history["loss"]
    np.testing.assert_allclose(a, b, rtol=1e-5)


@pytest.mark.parametrize(
    "call, message",
    [
        ("fit(_batches(2), GY)", "`y` should not be passed"),
        ("fit(_batches(2), sample_weight=GW)", "`sample_weight` should not be passed"),
        ("fit(_batches(2), validation_split=0.5)", "validation_split"),
        ("evaluate(Batches(2), GY)", "`y` should not be passed"),
    ],
)
def test_arguments_the_batches_already_hold_are_errors_as_in_keras(
    keras, call, message
):
    ours = _regressor()
    theirs = _keras_twin(keras, ours)
    with pytest.raises(ValueError, match=message):
        eval("m." + call, globals(), {"m": ours})
    if "Batches" in call:
        call = call.replace("Batches(2)", "_keras_dataset(keras, 2)")
    with pytest.raises(ValueError):
        eval("m." + call, globals(), {"m": theirs, "keras": keras})


def test_a_generator_is_read_once_in_all():
    model = _regressor()
    with pytest.warns(RuntimeWarning, match="has no batch left") as caught:
        history = model.fit(_batches(5), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1 and len(caught) == 1
    with pytest.warns(RuntimeWarning, match="gave 1 of the 2 steps") as caught:
        history = model.fit(_batches(5), epochs=4, steps_per_epoch=2, verbose=0)
    assert len(history.history["loss"]) == 3 and len(caught) == 1  # 2, 2, 1
    with pytest.warns(RuntimeWarning, match="has no batch left") as caught:
        history = model.fit(_batches(4), epochs=3, steps_per_epoch=2, verbose=0)
    assert len(history.history["loss"]) == 2 and len(caught) == 1
    with pytest.warns(RuntimeWarning, match="`validation_data` .* no batch left"):
        history = _regressor().fit(
            GX, GY, epochs=3, validation_data=_batches(2), verbose=0
        )
    assert len(history.history["val_loss"]) == 1 and len(history.history["loss"]) == 3


def test_an_iterable_and_a_py_dataset_start_a_new_pass_each_epoch():
    log = []
    model = _regressor()
    history = model.fit(Passes(), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    model.fit(Batches(3, log=log), epochs=2, shuffle=False, verbose=0)
    assert log == [0, "begin", 0, 1, 2, "end", "begin", 0, 1, 2, "end"]
    log.clear()
    model.fit(
        Batches(5, log=log), epochs=3, steps_per_epoch=2, shuffle=False, verbose=0
    )
    epochs = " ".join(map(str, log[1:])).split("end")
    assert [e.split() for e in epochs[:3]] == [
        ["begin", "0", "1"],
        ["begin", "2", "3"],
        ["begin", "4"],  # the pass ran out: a short epoch, then a new pass
    ]


def test_a_py_dataset_is_shuffled_batch_by_batch_with_numpy_s_generator():
    orders = []
    for _ in range(2):
        log = []
        np.random.seed(5)
        _regressor().fit(Batches(5, log=log), epochs=2, verbose=0)
        orders.append([i for i in log[1:] if isinstance(i, int)])
    assert orders[0] == orders[1] and sorted(orders[0][:5]) == [0, 1, 2, 3, 4]
    assert orders[0][:5] != orders[0][5:] or orders[0][:5] != [0, 1, 2, 3, 4]


def test_an_endless_py_dataset_needs_steps():
    class Endless:
        num_batches = None

        def __getitem__(self, index):
            part = slice((index % 5) * 8, (index % 5 + 1) * 8)
            return GX[part], GY[part]

    history = _regressor().fit(Endless(), epochs=2, steps_per_epoch=7, verbose=0)
    assert len(history.history["loss"]) == 2


@pytest.mark.parametrize(
    "source, error, message",
    [
        (lambda: iter(()), ValueError, "generator gave no batch"),
        (lambda: Batches(0), ValueError, "PyDataset gave no batch"),
        (lambda: iter([(GX[:2], GY[:2], GW[:2], GW[:2])]), ValueError, "4 items"),
        (
            lambda: iter([(GX[:2], GY[:3])]),
            ValueError,
            "Batch 0 of the generator: x and y",
        ),
        (
            lambda: iter([(GX[:2], GY[:2]), (GX[:2], GY[:2]), (GX[:2, :2], GY[:2])]),
            ValueError,
            "Batch 2 of the generator: Input of layer",
        ),
    ],
)
def test_bad_batches_say_which_batch(source, error, message):
    with pytest.raises(error, match=message):
        _regressor().fit(source(), verbose=0)


def test_batch_size_with_batches_is_ignored_with_a_warning():
    with pytest.warns(UserWarning, match=r"`batch_size` is ignored .* batch_size=8"):
        history = _regressor().fit(_batches(2), batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 1
    with pytest.warns(UserWarning, match=r"`batch_size` is ignored"):
        assert len(_regressor().predict(_batches(2), batch_size=3, verbose=0)) == 16
    history = _regressor().fit(
        _batches(2), validation_data=(GX, GY), validation_batch_size=8, verbose=0
    )
    assert "val_loss" in history.history


def test_what_counts_as_batches():
    from glassnet.models.batch_sources import is_batch_source

    class ArrayLike:
        def __array__(self, dtype=None, copy=None):
            return GX

        def __len__(self):
            return 40

        def __getitem__(self, index):
            return GX[index]

    for data in (GX, GX.tolist(), (GX,), {"x": GX}, ArrayLike(), None, "text"):
        assert not is_batch_source(data)
    for data in (_batches(1), Passes(), Batches(1), iter([1])):
        assert is_batch_source(data)
    model = _regressor()
    assert model.predict(ArrayLike(), verbose=0).shape == (40, 1)


def test_a_progress_bar_counts_batches_of_unknown_number(capsys):
    _regressor().fit(_batches(5), verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/1" in out and "5 " in out
