"""Models of several outputs (and inputs) in training: ``compile`` with a loss,
``loss_weights``, ``metrics`` and ``weighted_metrics`` per output (lists and
dicts), fit / evaluate / the single-batch methods / predict on lists and
dicts of arrays, and logs named, valued and ordered as Keras 3's for the
same code (Keras's initial weights copied into glassnet's model)."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet.callbacks import Callback
from saving.zoo import glassnet_api


def two_heads(k, regularized=False, as_dict=False):
    """A shared trunk, a regression head ``reg`` and a classifier ``cls``."""
    L = k.layers
    inputs = k.Input((4,), name="features")
    reg = "l2" if regularized else None
    trunk = L.Dense(8, activation="tanh", name="trunk", kernel_regularizer=reg)(inputs)
    r = L.Dense(1, name="reg")(trunk)
    c = L.Dense(3, activation="softmax", name="cls")(trunk)
    return k.Model(inputs, {"r": r, "c": c} if as_dict else [r, c])


def two_inputs(k):
    """Two inputs, one output."""
    L = k.layers
    a, b = k.Input((4,), name="a"), k.Input((2,), name="b")
    merged = L.Concatenate()([L.Dense(3, name="left")(a), b])
    return k.Model([a, b], L.Dense(1, name="out")(merged))


RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 4)).astype("float32")
Y_REG = RNG.normal(size=(40, 1)).astype("float32")
Y_CLS = RNG.integers(0, 3, size=(40,))
WEIGHTS = np.linspace(0.1, 1.0, 40).astype("float32")


def _twins(keras, build, **kwargs):
    keras.utils.clear_session()
    glassnet.layers.clear_session()
    ours, theirs = build(glassnet_api(), **kwargs), build(keras, **kwargs)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def _assert_same_history(ours, theirs, rtol=1e-4):
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=rtol, err_msg=key)


# --- the acceptance test: training equals Keras's -----------------------------------
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_two_heads_train_as_in_keras(keras, optimizer):
    ours, theirs = _twins(keras, two_heads)
    for model, k in ((ours, glassnet), (theirs, keras)):
        model.compile(
            getattr(k.optimizers, optimizer)(0.05),
            loss=["mse", "sparse_categorical_crossentropy"],
            loss_weights=[1.0, 0.5],
            metrics=[["mae"], ["accuracy"]],
        )
    args = dict(epochs=3, batch_size=8, shuffle=False, verbose=0)
    val = (X[:10], [Y_REG[:10], Y_CLS[:10]])
    mine = ours.fit(X, [Y_REG, Y_CLS], validation_data=val, **args).history
    expected = theirs.fit(X, [Y_REG, Y_CLS], validation_data=val, **args).history
    assert list(mine) == [  # NOTE: Keras sorts the keys; glassnet keeps this order
        *("loss", "reg_loss", "cls_loss", "reg_mae", "cls_accuracy"),
        *("val_loss", "val_reg_loss", "val_cls_loss", "val_reg_mae"),
        "val_cls_accuracy",
    ]
    _assert_same_history(mine, expected)
    # the total is the weighted sum of the outputs' (unweighted) losses
    total = np.add(mine["reg_loss"], 0.5 * np.asarray(mine["cls_loss"]))
    np.testing.assert_allclose(mine["loss"], total, rtol=1e-6)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):  # NOTE: Adam's
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)  # steps near 0 vary


COMPILES = {
    "dict losses and metrics": dict(
        loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
        metrics={"reg": ["mae"], "cls": ["accuracy"]},
    ),
    "list losses": dict(
        loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[0.5, 2.0]
    ),
    "one loss shared": dict(loss="mse", metrics=["mae", "mse"]),
    # NOTE: a dict of loss weights beside a list of losses: Keras 3 gives the
    # weights in sorted-name order to the losses in output order; glassnet by name
    "loss weights": dict(
        loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
        loss_weights={"cls": 2.0, "reg": 0.25},
        metrics={"cls": ["accuracy"], "reg": ["mae", "mse"]},
    ),
    "weighted metrics": dict(
        loss=["mse", "sparse_categorical_crossentropy"],
        metrics=[["mae"], ["accuracy"]],
        weighted_metrics=[["mse"], ["accuracy"]],
    ),
}


def _targets(compile_args):
    if compile_args["loss"] == "mse":
        return [Y_REG, np.eye(3, dtype="float32")[Y_CLS]]
    return [Y_REG, Y_CLS]


@pytest.mark.parametrize("name", sorted(COMPILES))
def test_logs_and_evaluate_equal_keras(keras, name):
    compile_args = COMPILES[name]
    y = _targets(compile_args)
    ours, theirs = _twins(keras, two_heads, regularized=True)
    for model in (ours, theirs):
        model.compile("sgd", **compile_args)
    args = dict(epochs=2, batch_size=16, validation_split=0.25, verbose=0)
    args.update(shuffle=False, sample_weight=WEIGHTS)
    expected = theirs.fit(X, y, **args).history
    _assert_same_history(ours.fit(X, y, **args).history, expected)
    mine = ours.evaluate(X, y, verbose=0)
    expected = theirs.evaluate(X, y, verbose=0)  # loss, outputs' losses, sorted rest
    np.testing.assert_allclose(mine, expected, rtol=1e-4)
    mine = ours.evaluate(X, y, verbose=0, return_dict=True)
    expected = theirs.evaluate(X, y, verbose=0, return_dict=True)
    _assert_same_history(mine, expected)


def test_a_dict_of_outputs_is_named_by_its_keys_as_in_keras(keras):
    ours, theirs = _twins(keras, two_heads, as_dict=True)
    for model in (ours, theirs):
        model.compile(
            "sgd",
            loss={"r": "mse", "c": "sparse_categorical_crossentropy"},
            metrics={"c": ["accuracy"]},
        )
    y = {"r": Y_REG, "c": Y_CLS}
    args = dict(epochs=1, batch_size=16, shuffle=False, verbose=0)
    expected = theirs.fit(X, y, **args).history
    _assert_same_history(ours.fit(X, y, **args).history, expected)
    np.testing.assert_allclose(
        ours.evaluate(X, y, verbose=0), theirs.evaluate(X, y, verbose=0), rtol=1e-4
    )
    assert list(ours.evaluate(X, y, verbose=0, return_dict=True)) == [
        "loss", "r_loss", "c_loss", "c_accuracy",
    ]  # fmt: skip
    assert ours.metrics_names == theirs.metrics_names


@pytest.mark.parametrize(
    "sample_weight",
    [WEIGHTS, [WEIGHTS, None], {"cls": WEIGHTS, "reg": WEIGHTS[::-1].copy()}],
    ids=["one for all", "list", "dict"],
)
def test_sample_weights_per_output(keras, sample_weight):
    ours, theirs = _twins(keras, two_heads)
    for model in (ours, theirs):
        model.compile("sgd", loss=["mse", "sparse_categorical_crossentropy"])
    mine = ours.evaluate(X, [Y_REG, Y_CLS], sample_weight=sample_weight, verbose=0)
    if isinstance(sample_weight, dict):  # Keras wants a list for a list of outputs
        sample_weight = [sample_weight["reg"], sample_weight["cls"]]
    if isinstance(sample_weight, list):
        ones = np.ones(40, "float32")
        sample_weight = [ones if w is None else w for w in sample_weight]
    expected = theirs.evaluate(
        X, [Y_REG, Y_CLS], verbose=0, sample_weight=sample_weight
    )
    np.testing.assert_allclose(mine, expected, rtol=1e-5)


def test_single_batches_and_dict_targets_equal_keras(keras):
    ours, theirs = _twins(keras, two_heads)
    for model in (ours, theirs):
        model.compile("sgd", loss=["mse", "sparse_categorical_crossentropy"],
                      metrics=[["mae"], ["accuracy"]])  # fmt: skip
    y = {"reg": Y_REG, "cls": Y_CLS}
    for method in ("train_on_batch", "test_on_batch"):
        mine = getattr(ours, method)(X, y)
        expected = getattr(theirs, method)(X, [Y_REG, Y_CLS])
        np.testing.assert_allclose(mine, expected, rtol=1e-5, err_msg=method)
    mine = ours.test_on_batch(X, y, return_dict=True)
    _assert_same_history(mine, theirs.test_on_batch(X, y, return_dict=True), 1e-5)


def test_several_inputs_one_output_equal_keras(keras):
    ours, theirs = _twins(keras, two_inputs)
    x = [X, X[:, :2] * 2]
    for model in (ours, theirs):
        model.compile("adam", "mse", metrics=["mae"])
    args = dict(epochs=2, batch_size=8, shuffle=False, verbose=0, validation_split=0.2)
    mine = ours.fit(x, Y_REG, **args).history
    _assert_same_history(mine, theirs.fit(x, Y_REG, **args).history)
    assert list(mine) == ["loss", "mae", "val_loss", "val_mae"]
    np.testing.assert_allclose(
        ours.predict({"a": x[0], "b": x[1]}, verbose=0),
        theirs.predict(x, verbose=0),
        rtol=1e-4,
        atol=1e-6,
    )


# --- glassnet alone -------------------------------------------------------------------
def _model(**compile_args):
    glassnet.layers.clear_session()
    np.random.seed(0)
    model = two_heads(glassnet_api())
    compile_args.setdefault("loss", ["mse", "sparse_categorical_crossentropy"])
    model.compile("sgd", **compile_args)
    return model


def test_shuffled_training_and_callbacks_see_every_output():
    seen = {}

    class Record(Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.setdefault("batch", list(logs))

        def on_predict_batch_end(self, batch, logs=None):
            seen.setdefault("predict", [o.shape for o in logs["outputs"]])

    model = _model(metrics={"cls": "accuracy"})
    np.random.seed(1)
    history = model.fit(X, [Y_REG, Y_CLS], epochs=2, batch_size=8, verbose=0,
                        callbacks=[Record()], validation_split=0.25)  # fmt: skip
    assert seen["batch"] == ["loss", "reg_loss", "cls_loss", "cls_accuracy"]
    assert all(np.isfinite(v).all() for v in history.history.values())
    out = model.predict(X, batch_size=16, verbose=0, callbacks=[Record()])
    assert seen["predict"] == [(16, 1), (16, 3)]
    assert [o.shape for o in out] == [(40, 1), (40, 3)]
    again = model.predict_on_batch(X)
    np.testing.assert_allclose(again[1], out[1], rtol=1e-6)


def test_a_shuffled_fit_repeats_with_the_seed():
    histories, weights = [], []
    for _ in range(2):
        model = _model()
        np.random.seed(3)
        histories.append(model.fit(X, [Y_REG, Y_CLS], epochs=2, verbose=0).history)
        weights.append(model.get_weights())
    assert histories[0] == histories[1]
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_an_output_without_a_loss_is_not_trained_for():
    loss = {"cls": "sparse_categorical_crossentropy", "reg": None}
    model = _model(loss=loss, metrics={"reg": "mae"})
    before = model.get_layer("reg").get_weights()
    history = model.fit(X, {"cls": Y_CLS, "reg": Y_REG}, epochs=1, verbose=0)
    assert list(history.history) == ["loss", "reg_mae"]  # NOTE: one loss: no cls_loss
    for a, b in zip(before, model.get_layer("reg").get_weights()):
        np.testing.assert_array_equal(a, b)


def test_loss_weights_of_one_output_scale_its_loss():
    glassnet.layers.clear_session()
    inputs = glassnet.layers.Input((4,))
    model = glassnet.models.Model(inputs, glassnet.layers.Dense(1)(inputs))
    model.compile("sgd", "mse")
    plain = model.evaluate(X, Y_REG, verbose=0)
    model.compile("sgd", "mse", loss_weights=[3.0])
    weighted = model.evaluate(X, Y_REG, verbose=0)
    np.testing.assert_allclose(weighted, 3 * plain, rtol=1e-6)


def test_weighted_metrics_of_one_output():
    glassnet.layers.clear_session()
    inputs = glassnet.layers.Input((4,))
    model = glassnet.models.Model(inputs, glassnet.layers.Dense(1)(inputs))
    model.compile("sgd", "mse", metrics=["mse"], weighted_metrics=["mse"])
    logs = model.evaluate(X, Y_REG, sample_weight=WEIGHTS, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "mse", "weighted_mse"]
    error = ((model.predict(X, verbose=0) - Y_REG) ** 2)[:, 0]
    np.testing.assert_allclose(logs["mse"], error.mean(), rtol=1e-5)
    expected = (error * WEIGHTS).sum() / WEIGHTS.sum()
    np.testing.assert_allclose(logs["weighted_mse"], expected, rtol=1e-5)


def test_a_custom_train_step_uses_the_compiled_losses():
    class Custom(glassnet.models.Model):
        def train_step(self, data):
            x, y = data
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
            loss.backward()
            self.optimizer.apply([v.grad for v in self.trainable_variables])
            return self.compute_metrics(x, y, y_pred)

    glassnet.layers.clear_session()
    np.random.seed(0)
    plain = two_heads(glassnet_api())
    custom = Custom(plain.inputs, plain.outputs)
    custom.compile("sgd", ["mse", "sparse_categorical_crossentropy"],
                   metrics=[["mae"], []])  # fmt: skip
    history = custom.fit(X, [Y_REG, Y_CLS], epochs=1, batch_size=40, verbose=0)
    assert sorted(history.history) == ["cls_loss", "loss", "reg_loss", "reg_mae"]


def test_a_custom_step_gets_the_structures_of_the_model():
    seen = []

    class Custom(glassnet.models.Model):
        def train_step(self, data):
            x, y, sample_weight = data
            seen.append((type(x), type(y), type(sample_weight)))
            return super().train_step(data)

    glassnet.layers.clear_session()
    a, b = glassnet.layers.Input((4,), name="a"), glassnet.layers.Input((2,), name="b")
    hidden = glassnet.layers.Dense(3)(glassnet.layers.Concatenate()([a, b]))
    outputs = {
        "r": glassnet.layers.Dense(1)(hidden),
        "s": glassnet.layers.Dense(2)(hidden),
    }
    model = Custom({"a": a, "b": b}, outputs)
    model.compile("sgd", "mse", metrics={"s": "mae"})
    x = {"a": X, "b": X[:, :2]}
    y = {"r": Y_REG, "s": X[:, 2:]}
    history = model.fit(x, y, sample_weight=WEIGHTS, batch_size=20, verbose=0)
    assert seen == [(dict, dict, dict)] * 2
    assert list(history.history) == ["loss", "s_mae", "r_loss", "s_loss"]


# --- errors --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "compile_args, error, pattern",
    [
        (
            dict(loss=["mse"]),
            ValueError,
            r"`loss` must give one entry per output.*2.*"
            r"\['reg', 'cls'\].*Received: loss=\['mse'\]",
        ),
        (
            dict(loss={"reg": "mse", "clss": "mse"}),
            ValueError,
            r"`loss` names an output the model does not have: 'clss'.*\['reg', 'cls'\]",
        ),
        (
            dict(loss={"reg": "mse"}),
            ValueError,
            r"`loss` needs an entry for every output.*none for \['cls'\]",
        ),
        (dict(loss_weights=[1.0]), ValueError, r"`loss_weights` must give one entry"),
        (dict(loss_weights=0.5), ValueError, r"`loss_weights` of a model of 2 outputs"),
        (dict(loss_weights=["a", 1]), TypeError, r"loss weight must be a number"),
        (dict(metrics=["mae"]), ValueError, r"`metrics` must give one entry"),
        (dict(metrics="mae"), TypeError, r"metrics of a model of several outputs"),
        (dict(metrics={"foo": "mae"}), ValueError, r"`metrics` names an output.*'foo'"),
        (dict(metrics=[["mea"], []]), ValueError, r"Unknown metric: 'mea'"),
        (dict(weighted_metrics={"cls": [None]}), TypeError, r"not None"),
    ],
)
def test_a_wrong_compile_says_what_and_changes_nothing(compile_args, error, pattern):
    model = _model(metrics=[["mae"], ["accuracy"]])
    before = model.fit(X, [Y_REG, Y_CLS], epochs=1, verbose=0, shuffle=False).history
    compiled = (model.optimizer, model._compile_loss, model._compile_metrics)
    with pytest.raises(error, match=pattern):
        model.compile("adam", **{"loss": ["mse", "mse"], **compile_args})
    assert (model.optimizer, model._compile_loss, model._compile_metrics) == compiled
    assert list(before) == ["loss", "reg_loss", "cls_loss", "reg_mae", "cls_accuracy"]


@pytest.mark.parametrize(
    "call, pattern",
    [
        ("model.fit(X, Y_REG, verbose=0)", r"`y` needs one array per output"),
        ("model.fit(X, [Y_REG], verbose=0)", r"`y` must give one entry per output"),
        ("model.fit(X, {'reg': Y_REG}, verbose=0)", r"y\['cls'\].*needs targets"),
        ("model.fit(X, [Y_REG, Y_CLS[:5]], verbose=0)", r"y\['cls'\].*same number"),
        ("model.fit(X, [Y_REG, Y_CLS + 3], verbose=0)", r"y\['cls'\].*\[0, 3\)"),
        (
            "model.fit(X, [Y_REG, Y_CLS], class_weight={0: 1, 1: 1, 2: 2}, verbose=0)",
            r"class_weight.*single output",
        ),
        (
            "model.fit(X, [Y_REG, Y_CLS], sample_weight=[WEIGHTS, WEIGHTS[:3]])",
            r"sample_weight\['cls'\].*one weight per sample",
        ),
        ("model.fit([X, X], [Y_REG, Y_CLS], verbose=0)", r"structure of `inputs`"),
        ("model.predict(None, verbose=0)", r"needs input data"),
    ],
)
def test_wrong_data_is_refused_before_training(call, pattern):
    model = _model()
    weights = model.get_weights()
    with pytest.raises(ValueError, match=pattern):
        eval(call, {"model": model, **globals()})
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_nested_outputs_do_not_compile():
    glassnet.layers.clear_session()
    L = glassnet.layers
    inputs = L.Input((4,))
    model = glassnet.models.Model(inputs, [L.Dense(1)(inputs), [L.Dense(2)(inputs)]])
    with pytest.raises(NotImplementedError, match="nested outputs"):
        model.compile("sgd", "mse")


def test_output_names_are_keras_names(keras):
    for k in (glassnet_api(), keras):
        assert two_heads(k).output_names == ["reg", "cls"]
        assert two_heads(k, as_dict=True).output_names == ["cls", "reg"]


def test_batches_from_a_generator_and_validation_weights():
    def batches():
        for lo in range(0, 40, 10):
            rows = slice(lo, lo + 10)
            yield X[rows], {"reg": Y_REG[rows], "cls": Y_CLS[rows]}, WEIGHTS[rows]

    model = _model(metrics={"reg": "mae"}, weighted_metrics={"reg": "mae"})
    history = model.fit(
        batches(),
        epochs=1,
        verbose=0,
        validation_data=(X, [Y_REG, Y_CLS], [WEIGHTS, None]),
    )
    assert list(history.history) == [
        *("loss", "reg_loss", "cls_loss", "reg_mae", "reg_weighted_mae"),
        *("val_loss", "val_reg_loss", "val_cls_loss", "val_reg_mae"),
        "val_reg_weighted_mae",
    ]
    logs = model.evaluate(X, [Y_REG, Y_CLS], sample_weight=[WEIGHTS, None],
                          verbose=0, return_dict=True)  # fmt: skip
    for key in logs:
        np.testing.assert_allclose(history.history["val_" + key][-1], logs[key])


def test_a_dict_of_one_output_trains_as_in_keras(keras):
    def build(k):
        inputs = k.Input((4,), name="features")
        hidden = k.layers.Dense(5, activation="tanh", name="hidden")(inputs)
        return k.Model(inputs, {"value": k.layers.Dense(1, name="head")(hidden)})

    ours, theirs = _twins(keras, build)
    for model in (ours, theirs):
        model.compile("sgd", {"value": "mse"}, metrics={"value": ["mse", "mae"]})
    y = {"value": Y_REG}
    args = dict(epochs=2, batch_size=8, shuffle=False, verbose=0)
    expected = theirs.fit(X, y, **args).history
    _assert_same_history(ours.fit(X, y, **args).history, expected)
    np.testing.assert_allclose(
        ours.evaluate(X, y, verbose=0), theirs.evaluate(X, y, verbose=0), rtol=1e-5
    )
