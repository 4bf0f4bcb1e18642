"""PyDataset: Keras's base class of a dataset of batches."""

from __future__ import annotations

import inspect
import itertools

import numpy as np
import pytest

from glassnet.utils import PyDataset, Sequence


class Batches(PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_batches_by_index_and_by_iteration():
    x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    data = Batches(x, y, batch_size=2)
    assert len(data) == data.num_batches == 3
    xb, yb = data[2]
    np.testing.assert_array_equal(xb, x[4:])
    np.testing.assert_array_equal(yb, y[4:])
    batches = list(data)
    assert len(batches) == 3
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x)
    data.on_epoch_end()
    data.on_epoch_begin()
    assert data.epochs_ended == 1


def test_keras_constructor_arguments_are_kept():
    data = Batches(np.zeros((4, 1)), np.zeros(4), 2, workers=4, max_queue_size=3)
    assert (data.workers, data.use_multiprocessing, data.max_queue_size) == (
        4,
        False,
        3,
    )
    data.use_multiprocessing = True
    assert data.use_multiprocessing
    assert Sequence is PyDataset


def test_a_subclass_that_forgets_super_init_gets_a_warning_and_the_defaults():
    class Forgetful(PyDataset):
        def __init__(self):
            pass

    with pytest.warns(UserWarning, match=r"should call `super\(\).__init__"):
        assert Forgetful().workers == 1


def test_without_len_the_dataset_is_endless_and_getitem_must_be_defined():
    class Endless(PyDataset):
        def __getitem__(self, index):
            return np.full((1, 1), index), np.zeros(1)

    data = Endless()
    assert data.num_batches is None
    first = list(itertools.islice(data, 4))
    assert [int(b[0][0, 0]) for b in first] == [0, 1, 2, 3]
    with pytest.raises(NotImplementedError, match="must define __getitem__"):
        PyDataset()[0]


def test_same_constructor_as_keras(keras):
    ours = inspect.signature(PyDataset.__init__).parameters
    theirs = inspect.signature(keras.utils.PyDataset.__init__).parameters
    assert list(ours) == list(theirs)
    assert [p.default for p in ours.values()] == [p.default for p in theirs.values()]


def test_fit_evaluate_and_predict_take_it():
    from glassnet.layers import Dense, Input
    from glassnet.models import Sequential

    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3)).astype("float32")
    y = x @ np.array([[1.0], [2.0], [-1.0]], "float32")
    np.random.seed(0)
    model = Sequential([Input((3,)), Dense(1)])
    model.compile("sgd", "mse")
    train, val = Batches(x, y, 8), Batches(x[:16], y[:16], 8)
    history = model.fit(train, epochs=3, validation_data=val, verbose=0)
    assert len(history.history["val_loss"]) == 3 and train.epochs_ended == 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(Batches(x, y, 16), verbose=0).shape == (40, 1)
    np.testing.assert_allclose(
        model.evaluate(Batches(x, y, 8), verbose=0),
        model.evaluate(x, y, batch_size=8, verbose=0),
        rtol=1e-6,
    )

    class Endless(PyDataset):
        def __getitem__(self, index):
            return train[index % len(train)]

    history = model.fit(Endless(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_keras_s_batch_helpers_are_here_too():
    import glassnet.utils
    from glassnet.models import data_adapter

    assert glassnet.utils.unpack_x_y_sample_weight is (
        data_adapter.unpack_x_y_sample_weight
    )
    assert glassnet.utils.pack_x_y_sample_weight(1, 2) == (1, 2)
    keras = pytest.importorskip("keras")
    for data in ((1,), (1, 2), [1, 2, 3], 5):
        assert glassnet.utils.unpack_x_y_sample_weight(data) == tuple(
            keras.utils.unpack_x_y_sample_weight(data)
        )
    for args in ((1,), (1, 2), (1, 2, 3), ((1, 2),)):
        assert glassnet.utils.pack_x_y_sample_weight(*args) == (
            keras.utils.pack_x_y_sample_weight(*args)
        )
