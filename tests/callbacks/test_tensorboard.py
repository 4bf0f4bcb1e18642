"""TensorBoard: the event files glassnet writes, read back by TensorBoard's own
reader (which checks every record's CRCs), hold what the fit logged: the
epoch logs of ``history.history``, batch logs, weight histograms and the
model's graph. The CRC-32C and the records are checked on their own too."""

from __future__ import annotations

import json
import os
import re
import struct

import numpy as np
import pytest

from glassnet import callbacks, optimizers
from glassnet import layers as L
from glassnet.callbacks import _events
from glassnet.callbacks.tensorboard import TensorBoard
from glassnet.models import Model, Sequential
from glassnet.optimizers import schedules


def _model(optimizer=None):
    np.random.seed(0)
    model = Sequential(
        [
            L.Input((5,)),
            L.Dense(6, activation="relu"),
            L.BatchNormalization(),
            L.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer or optimizers.Adam(0.01), "mse", metrics=["mae"])
    return model


def _data(n=40):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 5)).astype("float32")
    return x, (x[:, :1] > 0).astype("float32")


#: 30 training samples in batches of 8: 4 batches an epoch.
FIT = {"epochs": 3, "batch_size": 8, "validation_split": 0.25, "verbose": 0}


def _accumulator(folder):
    """TensorBoard's reader of a run folder, everything kept, loaded."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing import event_accumulator

    keep_all = {kind: 0 for kind in ("scalars", "histograms", "tensors")}
    reader = event_accumulator.EventAccumulator(str(folder), size_guidance=keep_all)
    return reader.Reload()


def _scalars(folder):
    """``{tag: [(step, value), ...]}`` of a run folder."""
    reader = _accumulator(folder)
    return {
        tag: [(event.step, event.value) for event in reader.Scalars(tag)]
        for tag in reader.Tags()["scalars"]
    }


def _raw_events(path):
    """The ``Event`` protos of one file, through TensorBoard's record reader."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_file_loader import (
        RawEventFileLoader,
    )
    from tensorboard.compat.proto import event_pb2

    return [event_pb2.Event.FromString(r) for r in RawEventFileLoader(path).Load()]


def _float32(values):
    return [float(np.float32(value)) for value in values]


# --- CRC-32C and the records ----------------------------------------------------------
@pytest.mark.parametrize(
    "data, crc",
    [
        (b"", 0x00000000),
        (b"a", 0xC1D04330),
        (b"123456789", 0xE3069283),  # the standard check value
        (bytes(32), 0x8A9136AA),  # RFC 3720 (iSCSI), B.4: 32 bytes of zeros
        (b"\xff" * 32, 0x62A8AB43),  # ... and of ones
    ],
)
def test_crc32c_check_values(data, crc):
    assert _events.crc32c(data) == crc


def test_masked_crc32c_equals_tensorboards():
    pytest.importorskip("tensorboard")
    from tensorboard.compat.tensorflow_stub import pywrap_tensorflow as stub

    data = np.random.default_rng(0).integers(0, 256, 1000, dtype=np.uint8).tobytes()
    for end in (0, 1, 9, 100, 1000):
        assert _events.masked_crc32c(data[:end]) == stub.masked_crc32c(data[:end])


def test_a_record_is_length_crc_data_crc():
    record = _events.tf_record(b"hello")
    length, length_crc = struct.unpack("<QI", record[:12])
    assert length == 5
    assert length_crc == _events.masked_crc32c(record[:8])
    assert record[12:17] == b"hello"
    assert struct.unpack("<I", record[17:]) == (_events.masked_crc32c(b"hello"),)


def test_tensorboards_reader_stops_at_a_record_with_a_wrong_crc(tmp_path):
    writer = _events.EventFileWriter(str(tmp_path))
    writer.write(1, [_events.scalar_value("x", 2.0)])
    assert [event.step for event in _raw_events(writer.path)] == [0, 1]
    corrupted = bytearray(open(writer.path, "rb").read())
    corrupted[-6] ^= 1  # a byte of the last event
    open(writer.path, "wb").write(bytes(corrupted))
    # NOTE: it takes a bad record for one still being written, and waits
    assert [event.step for event in _raw_events(writer.path)] == [0]


def test_the_encoded_messages_are_what_protobuf_reads():
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto import event_pb2

    weights = np.arange(-3.0, 7.0)  # ten values, 30 buckets of a third
    values = [
        _events.scalar_value("epoch_loss", 0.25),
        _events.histogram_value("dense/kernel/histogram", weights),
    ]
    message = _events.event(1234.5, 2**40, summary=_events.summary(values))
    event = event_pb2.Event.FromString(message)
    assert (event.wall_time, event.step) == (1234.5, 2**40)
    scalar, histogram = event.summary.value
    assert (scalar.tag, scalar.simple_value) == ("epoch_loss", 0.25)
    histo = histogram.histo
    assert histogram.tag == "dense/kernel/histogram"
    assert (histo.min, histo.max, histo.num) == (-3.0, 6.0, 10)
    assert (histo.sum, histo.sum_squares) == (15.0, float(weights @ weights))
    np.testing.assert_allclose(histo.bucket_limit, np.linspace(-3, 6, 31)[1:])
    assert sum(histo.bucket) == 10 and list(histo.bucket[:4]) == [1, 0, 0, 1]
    first = event_pb2.Event.FromString(_events.event(1.0, 0, "brain.Event:2"))
    assert first.file_version == "brain.Event:2"


def test_the_file_is_named_as_tensorboard_names_its_own_and_opens_with_the_version(
    tmp_path,
):
    writer = _events.EventFileWriter(str(tmp_path / "run"))
    name = os.path.basename(writer.path)
    pattern = rf"events\.out\.tfevents\.\d{{10}}\..+\.{os.getpid()}\.\d+"
    assert re.fullmatch(pattern, name)
    assert os.path.dirname(writer.path) == str(tmp_path / "run")
    [first] = _raw_events(writer.path)
    assert first.file_version == "brain.Event:2" and first.wall_time > 0


# --- what a fit writes --------------------------------------------------------------
def test_the_epoch_logs_equal_the_history_in_train_and_validation(tmp_path):
    model = _model()
    history = model.fit(*_data(), callbacks=[TensorBoard(tmp_path)], **FIT).history
    train, validation = _scalars(tmp_path / "train"), _scalars(tmp_path / "validation")
    steps = [0, 1, 2]
    for name in ("loss", "mae"):
        assert train[f"epoch_{name}"] == list(zip(steps, _float32(history[name])))
        assert validation[f"epoch_{name}"] == list(
            zip(steps, _float32(history[f"val_{name}"]))
        )
    assert train["epoch_learning_rate"] == list(zip(steps, _float32([0.01] * 3)))
    assert set(train) == {"epoch_loss", "epoch_mae", "epoch_learning_rate"}
    assert set(validation) == {
        "epoch_loss",
        "epoch_mae",
        "evaluation_loss_vs_iterations",
        "evaluation_mae_vs_iterations",
    }


def test_validation_is_also_written_against_the_optimizer_s_iterations(tmp_path):
    model = _model()
    history = model.fit(*_data(), callbacks=[TensorBoard(tmp_path)], **FIT).history
    validation = _scalars(tmp_path / "validation")
    expected = list(zip([4, 8, 12], _float32(history["val_loss"])))
    assert validation["evaluation_loss_vs_iterations"] == expected
    model.evaluate(*_data(), verbose=0, callbacks=[TensorBoard(tmp_path / "eval")])
    evaluated = _scalars(tmp_path / "eval" / "validation")
    assert [step for step, _ in evaluated["evaluation_loss_vs_iterations"]] == [12]


def test_the_learning_rate_is_the_schedule_s_value_at_the_epoch_s_end(tmp_path):
    schedule = schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5)
    model = _model(optimizers.SGD(learning_rate=schedule))
    model.fit(*_data(), callbacks=[TensorBoard(tmp_path)], **FIT)
    rates = _scalars(tmp_path / "train")["epoch_learning_rate"]
    assert rates == list(zip([0, 1, 2], _float32([0.05, 0.025, 0.0125])))


@pytest.mark.parametrize("update_freq, every", [("batch", 1), (3, 3)])
def test_batch_logs_every_n_batches_counted_across_epochs(tmp_path, update_freq, every):
    seen = []  # (global batch, running logs), as the fit hands them out
    recorder = callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append((len(seen) + 1, logs))
    )
    tensorboard = TensorBoard(tmp_path, update_freq=update_freq)
    _model().fit(*_data(), callbacks=[tensorboard, recorder], **FIT)
    train = _scalars(tmp_path / "train")
    written = [(step, logs) for step, logs in seen if step % every == 0]
    assert len(seen) == 12 and written
    for name in ("loss", "mae"):
        expected = [(step, float(np.float32(logs[name]))) for step, logs in written]
        assert train[f"batch_{name}"] == expected


def test_epoch_logging_writes_no_batch_logs_and_asks_for_no_batch_hooks(tmp_path):
    tensorboard = TensorBoard(tmp_path)
    assert not callbacks.CallbackList([tensorboard]).wants_batch_hooks
    assert callbacks.CallbackList([TensorBoard(update_freq=2)]).wants_batch_hooks
    _model().fit(*_data(), callbacks=[tensorboard], **FIT)
    assert not any(tag.startswith("batch_") for tag in _scalars(tmp_path / "train"))


def test_steps_per_second_per_epoch_and_per_batch(tmp_path):
    tensorboard = TensorBoard(tmp_path, write_steps_per_second=True, update_freq=2)
    _model().fit(*_data(), callbacks=[tensorboard], **FIT)
    train = _scalars(tmp_path / "train")
    assert [step for step, _ in train["epoch_steps_per_second"]] == [0, 1, 2]
    assert [step for step, _ in train["batch_steps_per_second"]] == [2, 4, 6, 8, 10, 12]
    assert all(rate > 0 for _, rate in train["epoch_steps_per_second"])
    assert all(rate > 0 for _, rate in train["batch_steps_per_second"])


def test_weight_histograms_every_n_epochs_count_every_weight(tmp_path):
    model = _model()
    fit = {**FIT, "epochs": 5}
    model.fit(*_data(), callbacks=[TensorBoard(tmp_path, histogram_freq=2)], **fit)
    reader = _accumulator(tmp_path / "train")
    weights = [w for layer in model.layers for w in layer.weights]
    assert len(weights) == 8  # BatchNormalization's moving statistics too
    assert reader.Tags()["histograms"] == [f"{w.name}/histogram" for w in weights]
    kernel_path = f"{model.name}/{model.layers[0].name}/kernel"  # Keras's paths
    assert weights[0].name == kernel_path
    for weight in weights:
        events = reader.Histograms(f"{weight.name}/histogram")
        assert [event.step for event in events] == [0, 2, 4]
        for event in events:
            assert sum(event.histogram_value.bucket) == weight.numpy().size
        last = events[-1].histogram_value  # epoch 4, the last: the final weights
        final = weight.numpy().astype(np.float64)
        assert (last.min, last.max) == (final.min(), final.max())
        assert last.sum == pytest.approx(final.sum(), abs=1e-9)


def test_no_histograms_without_histogram_freq(tmp_path):
    _model().fit(*_data(), callbacks=[TensorBoard(tmp_path)], **FIT)
    assert _accumulator(tmp_path / "train").Tags()["histograms"] == []


def test_the_model_s_graph_is_what_tensorboard_draws(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.plugins.graph import keras_util

    inputs = L.Input((5,))
    outputs = L.Dense(1, name="out")(L.Dense(3, name="hidden")(inputs))
    functional = Model(inputs, outputs)
    functional.compile("sgd", "mse")
    for model, folder in [(_model(), "sequential"), (functional, "functional")]:
        model.fit(*_data(), callbacks=[TensorBoard(tmp_path / folder)], **FIT)
        reader = _accumulator(tmp_path / folder / "train")
        [event] = reader.Tensors("keras")
        config = json.loads(event.tensor_proto.string_val[0])
        assert config == json.loads(model.to_json())
        graph = keras_util.keras_model_to_graph_def(config)
        drawn = [node.name for node in graph.node if "input_layer" not in node.name]
        assert drawn == [
            f"{model.name}/{layer.name}"
            for layer in model.layers
            if type(layer).__name__ != "InputLayer"
        ]
    assert drawn == [f"{functional.name}/hidden", f"{functional.name}/out"]

    no_graph = TensorBoard(tmp_path / "none", write_graph=False)
    _model().fit(*_data(), callbacks=[no_graph], **FIT)
    reader = _accumulator(tmp_path / "none" / "train")
    assert reader.Tags()["tensors"] == []


def test_events_are_on_disk_when_the_epoch_ends(tmp_path):
    counts = []

    def count(epoch, logs):
        counts.append(len(_scalars(tmp_path / "train")["epoch_loss"]))

    later = callbacks.LambdaCallback(on_epoch_end=count)
    _model().fit(*_data(), callbacks=[TensorBoard(tmp_path), later], **FIT)
    assert counts == [1, 2, 3]


def test_each_fit_starts_new_event_files(tmp_path):
    model, tensorboard = _model(), TensorBoard(tmp_path)
    model.fit(*_data(), callbacks=[tensorboard], **FIT)
    model.fit(*_data(), callbacks=[tensorboard], **FIT)
    assert len(os.listdir(tmp_path / "train")) == 2
    assert len(os.listdir(tmp_path / "validation")) == 2


# --- arguments ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"log_dir": None}, "log_dir must be a path.*Received: log_dir=None"),
        ({"histogram_freq": -1}, "histogram_freq must be a non-negative.*=-1"),
        ({"histogram_freq": 0.5}, "histogram_freq must be .*=0.5"),
        ({"update_freq": "step"}, "update_freq must be 'epoch', 'batch'.*'step'"),
        ({"update_freq": 0}, "update_freq must be .*update_freq=0"),
        ({"update_freq": True}, "update_freq must be .*update_freq=True"),
        ({"write_graph": "yes"}, "write_graph must be True or False.*'yes'"),
        ({"write_steps_per_second": 2}, "write_steps_per_second must be .*=2"),
        ({"profile_batch": 5}, "no profiler.*must be 0. Received: profile_batch=5"),
        ({"profile_batch": (2, 4)}, r"profile_batch=\(2, 4\)"),
        ({"embeddings_freq": 1}, "no embeddings.*Received: embeddings_freq=1"),
        ({"embeddings_freq": -1}, "embeddings_freq must be a non-negative"),
    ],
)
def test_bad_or_unsupported_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TensorBoard(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"write_images": True}, "writes no images"),
        ({"embeddings_metadata": "meta.tsv"}, "embeddings_metadata.*no effect"),
    ],
)
def test_what_keras_would_add_is_warned_about(kwargs, message):
    with pytest.warns(UserWarning, match=message):
        TensorBoard(**kwargs)


def test_the_defaults_are_keras_s_and_say_nothing(recwarn):
    tensorboard = TensorBoard()
    assert (tensorboard.log_dir, tensorboard.update_freq) == ("logs", "epoch")
    assert TensorBoard(update_freq="batch").update_freq == 1
    assert len(recwarn) == 0


def test_histograms_need_a_model_with_layers(tmp_path):
    tensorboard = TensorBoard(tmp_path, histogram_freq=1)
    tensorboard.set_model(object())
    with pytest.raises(ValueError, match="histogram_freq.*model=object"):
        tensorboard.on_train_begin()


def test_an_estimator_s_learning_rate_is_that_of_the_optimizer_it_trains(tmp_path):
    # the estimator trains a copy of its `optimizer` parameter: the copy steps
    from glassnet.sklearn import MLPClassifier

    x, y = _data()
    schedule = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    estimator = MLPClassifier(
        (4,),
        max_iter=3,
        batch_size=20,
        optimizer=optimizers.SGD(schedule),
        callbacks=[TensorBoard(str(tmp_path))],
        random_state=0,
    )
    with pytest.warns(UserWarning, match="Maximum iterations"):
        estimator.fit(x, y[:, 0].astype(int))
    rates = _scalars(tmp_path / "train")["epoch_learning_rate"]
    steps = [2 * (epoch + 1) for epoch in range(3)]  # 40 samples, batches of 20
    assert estimator.n_iter_ == 3
    assert rates == list(zip([0, 1, 2], _float32(map(schedule, steps))))
