"""Callbacks: hook order, History, EarlyStopping, LR schedules, CSV, lambdas."""

from __future__ import annotations

import csv
import math
import re

import numpy as np
import pytest

from glassnet import callbacks
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.optimizers import SGD


def _model(lr=0.05):
    model = Sequential([Dense(3, activation="tanh", input_dim=2), Dense(1)])
    model.compile(SGD(learning_rate=lr), "mse")
    return model


def _data(n=32):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 2)).astype("float32")
    return x, (x[:, :1] * 2 - x[:, 1:]).astype("float32")


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(f"epoch_begin {epoch}")

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(f"batch_begin {batch}")

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(f"batch_end {batch} {sorted(logs)}")

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(f"epoch_end {epoch} {sorted(logs)}")

    def on_train_end(self, logs=None):
        self.calls.append("train_end")


def test_hooks_are_called_in_keras_order():
    x, y = _data(8)
    recorder = Recorder()
    _model().fit(
        x,
        y,
        epochs=2,
        batch_size=4,
        validation_split=0.5,
        callbacks=[recorder],
        verbose=0,
    )
    assert recorder.calls == [
        "train_begin",
        "epoch_begin 0",
        "batch_begin 0",
        "batch_end 0 ['loss']",
        "epoch_end 0 ['loss', 'val_loss']",
        "epoch_begin 1",
        "batch_begin 0",
        "batch_end 0 ['loss']",
        "epoch_end 1 ['loss', 'val_loss']",
        "train_end",
    ]
    assert recorder.params == {"epochs": 2, "steps": 1, "verbose": 0}
    assert recorder.model is not None


def test_batch_hooks_are_skipped_when_nobody_listens():
    assert not callbacks.CallbackList([callbacks.History()]).wants_batch_hooks
    assert callbacks.CallbackList([callbacks.TerminateOnNaN()]).wants_batch_hooks
    lam = callbacks.LambdaCallback(on_batch_end=lambda batch, logs: None)
    assert callbacks.CallbackList([lam]).wants_batch_hooks


def test_history_records_one_value_per_epoch():
    history = callbacks.History()
    history.on_train_begin()
    history.on_epoch_end(0, {"loss": 2.0})
    history.on_epoch_end(1, {"loss": 1.0})
    assert history.history == {"loss": [2.0, 1.0]} and history.epoch == [0, 1]


def test_history_repr_and_html():
    history = callbacks.History()
    assert repr(history) == "<History: no epochs yet>"
    history.on_train_begin()
    for epoch in range(8):
        history.on_epoch_end(epoch, {"loss": 1 / (epoch + 1), "val_loss": 2.0})
    assert repr(history) == "<History: 8 epochs; last loss=0.125, val_loss=2>"
    html = history._repr_html_()
    assert "<b>History</b>: 8 epochs" in html
    assert "<th>epoch</th><th>loss</th><th>val_loss</th>" in html
    epochs = re.findall(r"<tr><td>(\d+)</td>", html)
    assert epochs == ["1", "4", "5", "6", "7", "8"]  # the first, then the last 5
    assert html.count("…") == 1 and ">0.125<" in html


def test_early_stopping_waits_patience_epochs():
    model = _model()
    stopper = callbacks.EarlyStopping(monitor="loss", patience=2)
    stopper.set_model(model)
    stopper.on_train_begin()
    for epoch, loss in enumerate([1.0, 0.5, 0.6, 0.7, 0.4]):
        stopper.on_epoch_end(epoch, {"loss": loss})
        if model.stop_training:
            break
    assert epoch == 3 and stopper.stopped_epoch == 3 and stopper.best == 0.5


def test_early_stopping_min_delta_mode_and_baseline():
    model = _model()
    stopper = callbacks.EarlyStopping(monitor="val_acc", min_delta=0.1, patience=1)
    stopper.set_model(model)
    stopper.on_train_begin()
    stopper.on_epoch_end(0, {"val_acc": 0.5})
    stopper.on_epoch_end(1, {"val_acc": 0.55})  # not better by more than 0.1
    assert model.stop_training
    model.stop_training = False
    stopper = callbacks.EarlyStopping(monitor="loss", baseline=0.1, patience=2)
    stopper.set_model(model)
    stopper.on_train_begin()
    for epoch, loss in enumerate([0.5, 0.4, 0.45]):
        stopper.on_epoch_end(epoch, {"loss": loss})
    # the improving epochs never beat the baseline, so they used up the patience
    assert model.stop_training and stopper.stopped_epoch == 2


@pytest.mark.parametrize(
    "monitor, better",
    [
        ("val_loss", "lower"),
        ("val_mae", "lower"),
        ("val_false_positives", "lower"),
        ("val_accuracy", "higher"),
        ("val_auc", "higher"),
        ("val_f1_score", "higher"),
        ("val_fbeta_score", "higher"),
        ("val_specificity_at_sensitivity", "higher"),
        ("val_r2_score", "higher"),
        ("val_mean_io_u", "higher"),
        ("val_pearson_correlation", "higher"),
    ],
)
def test_early_stopping_s_auto_mode_follows_the_metric_s_direction(monitor, better):
    # Keras marks the metrics that are better when larger ("up")
    stopper = callbacks.EarlyStopping(monitor=monitor)
    assert stopper.monitor_op is (np.greater if better == "higher" else np.less)


def test_early_stopping_restores_best_weights_in_fit():
    x, y = _data()
    model = _model(lr=0.05)
    best = {}

    class Spy(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if not best or logs["val_loss"] < best["loss"]:
                best.update(loss=logs["val_loss"], weights=self.model.get_weights())

    stopper = callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    # a wildly growing learning rate makes val_loss get worse after a while
    schedule = callbacks.LearningRateScheduler(lambda epoch, lr: 0.05 * 4.0**epoch)
    model.fit(
        x,
        y,
        epochs=30,
        batch_size=8,
        validation_split=0.25,
        callbacks=[schedule, Spy(), stopper],
        verbose=0,
    )
    assert stopper.stopped_epoch > 0
    for a, b in zip(model.get_weights(), best["weights"]):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_start_from_epoch():
    model = _model()
    stopper = callbacks.EarlyStopping(monitor="loss", patience=0, start_from_epoch=3)
    stopper.set_model(model)
    stopper.on_train_begin()
    for epoch, loss in enumerate([1.0, 2.0, 3.0]):
        stopper.on_epoch_end(epoch, {"loss": loss})
    assert not model.stop_training


def test_missing_monitor_warns():
    stopper = callbacks.EarlyStopping(monitor="val_nope")
    stopper.set_model(_model())
    stopper.on_train_begin()
    with pytest.warns(UserWarning, match="val_nope.*loss"):
        stopper.on_epoch_end(0, {"loss": 1.0})


def test_terminate_on_nan(capsys):
    model = _model()
    cb = callbacks.TerminateOnNaN()
    cb.set_model(model)
    cb.on_train_batch_end(4, {"loss": math.nan})
    assert model.stop_training
    assert "Batch 4: Invalid loss" in capsys.readouterr().out


def test_reduce_lr_on_plateau():
    model = _model(lr=1.0)
    cb = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_lr=0.3)
    cb.set_model(model)
    cb.on_train_begin()
    lrs = []
    for epoch, loss in enumerate([1.0, 1.0, 1.0, 1.0, 0.1]):
        logs = {"loss": loss}
        cb.on_epoch_end(epoch, logs)
        lrs.append(model.optimizer.learning_rate)
    assert lrs == [1.0, 0.5, 0.3, 0.3, 0.3]
    assert logs["learning_rate"] == 0.3
    with pytest.raises(ValueError, match="factor=1.5"):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_learning_rate_scheduler_changes_the_optimizer():
    x, y = _data()
    model = _model()
    seen = []
    schedule = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    spy = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(logs["learning_rate"])
    )
    model.fit(x, y, epochs=3, callbacks=[schedule, spy], verbose=0)
    np.testing.assert_allclose(seen, [0.1, 0.05, 0.1 / 3])


def test_learning_rate_callbacks_read_a_schedule_and_refuse_to_replace_it():
    """As in Keras: the logged learning rate is the schedule's current value,
    and a callback that would set it raises instead of dropping the schedule."""
    from glassnet.optimizers import schedules

    x, y = _data()
    decay = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    model = _model()
    model.compile(SGD(learning_rate=decay), "mse")
    patient = callbacks.ReduceLROnPlateau(monitor="loss", patience=100)
    history = model.fit(x, y, epochs=2, batch_size=8, callbacks=[patient], verbose=0)
    np.testing.assert_allclose(history.history["learning_rate"], [decay(4), decay(8)])
    impatient = callbacks.ReduceLROnPlateau(monitor="loss", patience=0, min_delta=1e9)
    for callback, name in [
        (impatient, "ReduceLROnPlateau"),
        (
            callbacks.LearningRateScheduler(lambda epoch, lr: lr / 2),
            "LearningRateScheduler",
        ),
    ]:
        with pytest.raises(TypeError, match=f"{name} cannot set the learning rate"):
            model.fit(x, y, epochs=2, callbacks=[callback], verbose=0)
        assert model.optimizer.learning_rate is decay


def test_csv_logger(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    _model().fit(
        x,
        y,
        epochs=3,
        validation_split=0.25,
        callbacks=[callbacks.CSVLogger(str(path))],
        verbose=0,
    )
    rows = list(csv.DictReader(path.open()))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert set(rows[0]) == {"epoch", "loss", "val_loss"}


def test_lambda_callback_rejects_unknown_hooks():
    with pytest.raises(ValueError, match="on_epoch_end"):
        callbacks.LambdaCallback(on_epoch_ending=print)


def test_a_callback_can_stop_training():
    x, y = _data()
    stop = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: setattr(
            stop.model, "stop_training", epoch == 1
        )
    )
    history = _model().fit(x, y, epochs=10, callbacks=[stop], verbose=0)
    assert len(history.history["loss"]) == 2


def test_callbacks_must_be_callbacks():
    with pytest.raises(TypeError, match="Callback instances"):
        callbacks.CallbackList([print])


def test_hooks_tuple_names_every_hook_of_the_base_class():
    on_methods = {name for name in vars(callbacks.Callback) if name.startswith("on_")}
    assert set(callbacks.HOOKS) | set(callbacks.ALIASES) == on_methods
    assert len(callbacks.HOOKS) == 14 and set(callbacks.ALIASES.values()) <= set(
        callbacks.BATCH_HOOKS
    )
    assert set(callbacks.BATCH_HOOKS) == {h for h in callbacks.HOOKS if "_batch_" in h}


@pytest.mark.parametrize("hook", callbacks.HOOKS)
def test_callback_list_forwards_each_hook_to_every_callback_in_order(hook):
    calls = []
    first = callbacks.LambdaCallback(**{hook: lambda *args: calls.append((1, args))})
    second = callbacks.LambdaCallback(**{hook: lambda *args: calls.append((2, args))})
    cbs = callbacks.CallbackList([first, callbacks.History(), second])
    args = (3, {"loss": 1.0}) if "_batch_" in hook or "_epoch_" in hook else ({},)
    getattr(cbs, hook)(*args)
    assert calls == [(1, args), (2, args)]
    assert cbs.wants_batch_hooks == (hook in callbacks.BATCH_HOOKS)


@pytest.mark.parametrize("hook", callbacks.BATCH_HOOKS)
def test_a_class_overriding_any_batch_hook_wants_batch_hooks(hook):
    cls = type("Listener", (callbacks.Callback,), {hook: lambda self, b, logs: None})
    cbs = callbacks.CallbackList([callbacks.History()])
    assert not cbs.wants_batch_hooks
    cbs.append(cls())
    assert cbs.wants_batch_hooks


# --- the hooks as Keras calls them ---------------------------------------------------
ALL_HOOKS = (*callbacks.HOOKS, *callbacks.ALIASES)


def _recorder_class(base):
    """A ``base`` callback subclass that records ``(hook, index, logs keys,
    params)`` of every call; the train batch hooks go on to the base class, so
    that the aliases ``on_batch_begin`` / ``on_batch_end`` are called as the
    base class calls them."""

    def make(hook):
        def record(self, *args, **kwargs):
            logs = kwargs.get("logs", args[-1] if args else None)
            index = args[0] if args and isinstance(args[0], int) else None
            keys = None if logs is None else sorted(logs)
            self.calls.append((hook, index, keys, dict(self.params or {})))
            if hook in callbacks.ALIASES.values():
                getattr(base, hook)(self, *args, **kwargs)

        return record

    def __init__(self):
        base.__init__(self)
        self.calls = []

    body = {hook: make(hook) for hook in ALL_HOOKS}
    return type("Recorder", (base,), {"__init__": __init__, **body})


def _binary_data(n=10):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, 2)).astype("float32")
    return x, (x[:, :1] > 0).astype("float32")


def _binary_batches(count, size=4):
    x, y = _binary_data(count * size)
    for i in range(count):
        yield x[i * size : (i + 1) * size], y[i * size : (i + 1) * size]


def _both(keras):
    """One small classifier in each library, compiled alike."""
    from glassnet.layers import Input

    ours = Sequential([Input((2,)), Dense(1, activation="sigmoid")])
    theirs = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")]
    )
    for model in (ours, theirs):
        model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    return ours, theirs


def _calls(keras, run):
    """The calls a recording callback sees in each library for ``run(model,
    recorder)``."""
    ours, theirs = _both(keras)
    mine, keras_recorder = _recorder_class(callbacks.Callback)(), None
    keras_recorder = _recorder_class(keras.callbacks.Callback)()
    run(ours, mine)
    run(theirs, keras_recorder)
    return mine.calls, keras_recorder.calls


@pytest.mark.parametrize(
    "name, run",
    [
        (
            "fit with validation",
            lambda m, cb: m.fit(
                *_binary_data(),
                batch_size=4,
                epochs=2,
                validation_data=_binary_data(6),
                callbacks=[cb],
                verbose=0,
            ),
        ),
        (
            "fit with validation_split and validation_freq",
            lambda m, cb: m.fit(
                *_binary_data(12),
                batch_size=4,
                epochs=3,
                validation_split=0.25,
                validation_freq=2,
                shuffle=False,
                callbacks=[cb],
                verbose=0,
            ),
        ),
        (
            "evaluate",
            lambda m, cb: m.evaluate(
                *_binary_data(), batch_size=4, callbacks=[cb], verbose=0
            ),
        ),
        (
            "predict",
            lambda m, cb: m.predict(
                _binary_data()[0], batch_size=4, callbacks=[cb], verbose=0
            ),
        ),
        (
            "fit on a generator, steps_per_epoch, validation generator",
            lambda m, cb: m.fit(
                _binary_batches(6),
                steps_per_epoch=2,
                epochs=2,
                validation_data=_binary_batches(6),
                validation_steps=2,
                callbacks=[cb],
                verbose=0,
            ),
        ),
        (
            "evaluate on a generator",
            lambda m, cb: m.evaluate(_binary_batches(3), callbacks=[cb], verbose=0),
        ),
        (
            "a single callback, not in a list",
            lambda m, cb: m.evaluate(
                *_binary_data(), batch_size=8, callbacks=cb, verbose=0
            ),
        ),
    ],
)
def test_hooks_logs_and_params_are_keras_s(keras, name, run):
    ours, theirs = _calls(keras, run)
    if "single" in name:  # NOTE: Keras then runs batch-end hooks in a thread
        ours, theirs = sorted(ours, key=repr), sorted(theirs, key=repr)
    assert ours == theirs, name
    assert all(keys is not None for _, _, keys, _ in ours)  # logs is never None


def test_predict_batch_end_gets_the_outputs(keras):
    ours, theirs = _both(keras)
    theirs.set_weights(ours.get_weights())
    seen = {"ours": [], "theirs": []}
    for key, model, module in (
        ("ours", ours, callbacks),
        ("theirs", theirs, keras.callbacks),
    ):
        spy = module.LambdaCallback(
            on_predict_batch_end=lambda batch, logs, key=key: seen[key].append(
                np.asarray(logs["outputs"])
            )
        )
        model.predict(_binary_data()[0], batch_size=4, callbacks=[spy], verbose=0)
    assert [a.shape for a in seen["ours"]] == [a.shape for a in seen["theirs"]]
    for a, b in zip(seen["ours"], seen["theirs"]):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_history_records_what_callbacks_add_to_the_logs_as_in_keras(keras):
    ours, theirs = _both(keras)
    keys = []
    for model, module in ((ours, callbacks), (theirs, keras.callbacks)):
        reduce = module.ReduceLROnPlateau(monitor="loss")
        history = model.fit(*_binary_data(), epochs=2, callbacks=[reduce], verbose=0)
        keys.append(sorted(history.history))
    assert keys[0] == keys[1] == ["accuracy", "learning_rate", "loss"]


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_a_batch_hook_stops_at_once_as_in_keras(keras, method):
    flag = {"fit": "stop_training", "evaluate": "stop_evaluating"}.get(
        method, "stop_predicting"
    )
    hook = {"fit": "on_train_batch_end", "evaluate": "on_test_batch_end"}.get(
        method, "on_predict_batch_end"
    )
    results = []
    for model, module in zip(_both(keras), (callbacks, keras.callbacks)):
        batches = []

        def stop(batch, logs, model=model, batches=batches):
            batches.append(batch)
            if batch == 1:
                setattr(model, flag, True)

        spy = module.LambdaCallback(**{hook: stop})
        x, y = _binary_data()
        if method == "fit":
            kwargs = dict(epochs=3, validation_data=(x, y))
            out = sorted(
                model.fit(
                    x, y, batch_size=2, callbacks=[spy], verbose=0, **kwargs
                ).history
            )
        elif method == "evaluate":
            out = (
                model.evaluate(x, y, batch_size=2, callbacks=[spy], verbose=0)
                is not None
            )
        else:
            out = model.predict(x, batch_size=2, callbacks=[spy], verbose=0).shape
        results.append((batches, out))
    assert results[0] == results[1]


def test_on_batch_begin_and_end_are_the_train_batch_hooks():
    x, y = _data(8)
    seen = []

    class Old(callbacks.Callback):
        def on_batch_begin(self, batch, logs=None):
            seen.append(("begin", batch, logs))

        def on_batch_end(self, batch, logs=None):
            seen.append(("end", batch, sorted(logs)))

    cbs = callbacks.CallbackList([Old()])
    assert cbs.wants_batch_hooks
    _model().fit(x, y, batch_size=4, callbacks=Old(), verbose=0)
    assert seen == [
        ("begin", 0, {}),
        ("end", 0, ["loss"]),
        ("begin", 1, {}),
        ("end", 1, ["loss"]),
    ]
    seen.clear()
    _model().evaluate(x, y, batch_size=4, callbacks=Old(), verbose=0)
    assert seen == []  # the aliases are training's only, as in Keras


def test_every_hook_gets_a_dict_and_test_hooks_run_inside_fit():
    x, y = _data(8)
    recorder = _recorder_class(callbacks.Callback)()
    _model().fit(
        x,
        y,
        batch_size=4,
        epochs=1,
        validation_split=0.5,
        callbacks=recorder,
        verbose=0,
    )
    hooks = [hook for hook, *_ in recorder.calls]
    assert hooks == [
        "on_train_begin",
        "on_epoch_begin",
        "on_train_batch_begin",
        "on_batch_begin",
        "on_train_batch_end",
        "on_batch_end",
        "on_test_begin",
        "on_test_batch_begin",
        "on_test_batch_end",
        "on_test_end",
        "on_epoch_end",
        "on_train_end",
    ]
    assert all(isinstance(keys, list) for _, _, keys, _ in recorder.calls)
    assert recorder.calls[-1][2] == ["loss", "val_loss"]
    assert recorder.calls[0][3] == {"verbose": 0, "epochs": 1, "steps": 1}
    cbs = callbacks.CallbackList([recorder])
    cbs.on_train_begin()
    cbs.on_epoch_end(0)
    assert recorder.calls[-2:][0][2] == [] and recorder.calls[-1][2] == []
