"""Misuse of the training API: every public argument of fit / evaluate /
predict and the single-batch methods is checked before anything changes.

Each case names the entry point, the call, the documented error type and a
pattern saying that the message names the argument and what came; the test
also asserts that the failed call changed nothing (weights, optimizer state,
compile state, history: :mod:`tests.reliability.model_state`).
"""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import callbacks as callbacks_module
from glassnet.callbacks import EarlyStopping
from glassnet.layers import Dense, Input
from glassnet.models import Sequential, data_adapter

from .model_state import (
    LABELS,
    MODELS,
    N,
    X,
    Y,
    case,
    classifier,
    expect_failure,
    regressor,
)


def _nan(a, where=(1, 1)):
    a = a.astype(float)
    a[where] = np.nan
    return a


BIG = X.astype(np.float64) * 1e39  # finite in float64, infinite in float32
BATCH_SIZE = r"`batch_size` must be a positive integer or None\. Received: batch_size="

FIT = [
    # --- batch size, epochs, steps ------------------------------------------------
    case("fit(X, Y, batch_size=0)", ValueError, BATCH_SIZE + "0"),
    case("fit(X, Y, batch_size=-1)", ValueError, BATCH_SIZE + "-1"),
    case(
        "fit(X, Y, batch_size=2.5)", TypeError, BATCH_SIZE + r"2\.5 \(of type float\)"
    ),
    case('fit(X, Y, batch_size="32")', TypeError, BATCH_SIZE + r"'32' \(of type str\)"),
    case(
        "fit(X, Y, batch_size=True)", TypeError, BATCH_SIZE + r"True \(of type bool\)"
    ),
    case(
        "fit(X, Y, epochs=1e2)",
        TypeError,
        r"fit\(\): `epochs` must be a non-negative integer\. Received: "
        r"epochs=100\.0 \(of type float\)",
    ),
    case(
        "fit(X, Y, epochs=-1)",
        ValueError,
        r"`epochs` must be a non-negative integer\. Received: epochs=-1",
    ),
    case('fit(X, Y, epochs="3")', TypeError, r"`epochs`.*Received: epochs='3'"),
    case("fit(X, Y, epochs=None)", TypeError, r"`epochs`.*Received: epochs=None"),
    case(
        "fit(X, Y, initial_epoch=-1)",
        ValueError,
        r"`initial_epoch` must be a non-negative.*initial_epoch=-1",
    ),
    case(
        "fit(X, Y, initial_epoch=1.5)",
        TypeError,
        r"`initial_epoch`.*Received: initial_epoch=1\.5",
    ),
    case(
        "fit(X, Y, steps_per_epoch=0)",
        ValueError,
        r"`steps_per_epoch` must be a positive.*steps_per_epoch=0",
    ),
    case(
        "fit(X, Y, steps_per_epoch=2.0)",
        TypeError,
        r"`steps_per_epoch`.*steps_per_epoch=2\.0 \(of type float\)",
    ),
    case(
        "fit(X, Y, validation_split=0.2, validation_steps=0)",
        ValueError,
        r"`validation_steps` must be a positive.*validation_steps=0",
    ),
    case(
        "fit(X, Y, validation_split=0.2, validation_batch_size=0)",
        ValueError,
        r"`validation_batch_size`.*validation_batch_size=0",
    ),
    case(
        "fit(X, Y, validation_freq=0)",
        ValueError,
        r"`validation_freq` must be a positive.*validation_freq=0",
    ),
    case(
        "fit(X, Y, validation_freq=[1, 2])",
        TypeError,
        r"`validation_freq`.*validation_freq=\[1, 2\] \(of type list\)",
    ),
    # --- validation split and data --------------------------------------------------
    case(
        "fit(X, Y, validation_split=1.0)",
        ValueError,
        r"`validation_split` must be a float in \[0, 1\).*=1\.0",
    ),
    case(
        "fit(X, Y, validation_split=-0.1)",
        ValueError,
        r"`validation_split`.*Received: validation_split=-0\.1",
    ),
    case(
        'fit(X, Y, validation_split="0.2")',
        TypeError,
        r"`validation_split`.*validation_split='0\.2' \(of type str\)",
    ),
    case(
        "fit(X, Y, validation_split=True)",
        TypeError,
        r"`validation_split`.*validation_split=True \(of type bool\)",
    ),
    case(
        "fit(X, Y, validation_split=0.99)",
        ValueError,
        r"validation_split=0\.99 leaves no samples for training \(20 samples\)",
    ),
    case(
        "fit(X, Y, validation_data=X)",
        ValueError,
        r"validation_data must be a tuple.*Received: a ndarray",
    ),
    case(
        "fit(X, Y, validation_data=(X,))",
        ValueError,
        r"validation_data must be a tuple.*Received: a tuple of 1 item",
    ),
    case(
        "fit(X, Y, validation_data=(X, Y, SW, SW))",
        ValueError,
        r"validation_data must be a tuple.*Received: a tuple of 4 items",
    ),
    case(
        "fit(X, Y, validation_data=(X, Y[:-1]))",
        ValueError,
        r"^validation_data: x and y must have the same number of samples.*"
        r"x with 20 samples, y with 19",
    ),
    case(
        "fit(X, Y, validation_data=(X, Y, SW[:-1]))",
        ValueError,
        r"^validation_data: sample_weight needs one weight per sample \(20\).*"
        r"Received: sample_weight of shape \(19,\)",
    ),
    case(
        "fit(X, Y, validation_data=(X, Y, np.ones((N, 2))))",
        ValueError,
        r"^validation_data: sample_weight.*shape \(20, 2\)",
    ),
    case(
        "fit(X, Y, validation_data=(X[:, :3], Y))",
        ValueError,
        r"^validation_data: Input of layer.*expected shape=\(None, 4\), "
        r"found shape=\(20, 3\)",
    ),
    case(
        "fit(X, Y, validation_data=(X, Y[:, :1]))",
        ValueError,
        r"^validation_data: Target y of shape \(20, 1\) does not fit the model's "
        r"output of shape \(None, 3\)",
    ),
    case(
        "fit(X, Y, validation_data=(_nan(X), Y))",
        ValueError,
        r"^validation_data: Input x contains NaN or infinity: 1 of its 80 values, "
        r"the first at index \(1, 1\)",
    ),
    case(
        "fit(X, Y, validation_data=(X[:0], Y[:0]))",
        ValueError,
        r"^validation_data: `x` has no samples.*shape \(0, 4\)",
    ),
    # --- class and sample weights ---------------------------------------------------
    case(
        "fit(X, LABELS, class_weight=[1.0, 2.0, 3.0])",
        TypeError,
        r"`class_weight` must be a dict.*class_weight=\[1\.0, 2\.0, 3\.0\]",
        "classifier",
    ),
    case(
        "fit(X, LABELS, class_weight={0: 1.0, 1: -1.0, 2: 1.0})",
        ValueError,
        r"weights of `class_weight` must be >= 0.*weight -1\.0 of class 1",
        "classifier",
    ),
    case(
        "fit(X, LABELS, class_weight={0: 1.0, 1: np.nan, 2: 1.0})",
        TypeError,
        r"weights of `class_weight` must be finite.*weight nan of class 1",
        "classifier",
    ),
    case(
        'fit(X, LABELS, class_weight={"a": 1.0})',
        TypeError,
        r"classes of `class_weight` must be integers.*class 'a' of type str",
        "classifier",
    ),
    case(
        "fit(X, LABELS, class_weight={0: 1.0, 1: 2.0})",
        ValueError,
        r"class_weight has no weight for classes \[2\]",
        "classifier",
    ),
    case(
        "fit(X, Y, sample_weight=SW[:-1])",
        ValueError,
        r"sample_weight needs one weight per sample \(20\).*shape \(19,\)",
    ),
    case(
        "fit(X, Y, sample_weight=np.ones((N, 2)))",
        ValueError,
        r"sample_weight needs one weight per sample.*shape \(20, 2\)",
    ),
    case(
        "fit(X, Y, sample_weight=SW - 1)",
        ValueError,
        r"sample_weight must be >= 0.*Received: sample_weight with "
        r"minimum -0\.5",
    ),
    case(
        "fit(X, Y, sample_weight=_nan(SW, 3))",
        ValueError,
        r"sample_weight contains NaN or infinity.*index \(3,\)",
    ),
    case(
        "fit(X, Y, sample_weight=SW + 1j)",
        TypeError,
        r"`sample_weight` is complex \(complex128\).*Received: sample_weight of "
        r"dtype complex128",
    ),
    case(
        'fit(X, Y, sample_weight=["1"] * N)',
        TypeError,
        r"`sample_weight` needs numeric input.*dtype <U1",
    ),
    # --- targets against the output -------------------------------------------------
    case(
        "fit(X, Y[:, :1] + 0.5)",
        ValueError,
        r"Target y of shape \(20, 1\) does not fit the model's output of "
        r"shape \(None, 3\)\. They would only fit by broadcasting",
    ),
    case(
        "fit(X, Y[:, 0])",
        ValueError,
        r"Target y of shape \(20,\) .*output of shape \(None, 3\)",
    ),
    case(
        "fit(X, Y[:, :2])",
        ValueError,
        r"Target y of shape \(20, 2\) .*output of shape \(None, 3\)",
    ),
    case(
        "fit(X, LABELS)",
        ValueError,
        r"Target y of shape \(20,\).*need loss='sparse_categorical_crossentropy'",
    ),
    case(
        "fit(X, Y)",
        ValueError,
        r"Target y of shape \(20, 3\) does not fit.*shape \(None, 1\)",
        "one_unit",
    ),
    case(
        "fit(X, Y1[:, :, None])",
        ValueError,
        r"Target y of shape \(20, 1, 1\).*\(None, 1\)",
        "one_unit",
    ),
    case(
        "fit(X, np.eye(3)[LABELS])",
        ValueError,
        r"Target y of shape \(20, 3\).*takes integer class labels",
        "classifier",
    ),
    case(
        "fit(X, LABELS + 1)",
        ValueError,
        r"labels in y must be in \[0, 3\).*labels from 1 to 3",
        "classifier",
    ),
    case(
        "fit(X, LABELS - 1)",
        ValueError,
        r"labels in y must be in \[0, 3\).*labels from -1 to 1",
        "classifier",
    ),
    case(
        "fit(X, LABELS + 0.5)",
        ValueError,
        r"Target y of shape \(20,\).*takes integer class labels",
        "classifier",
    ),
    case("fit(X, Y[:-2])", ValueError, r"x with 20 samples, y with 18"),
    case("fit(X)", ValueError, r"needs targets.*Received: y=None"),
    case(
        "fit(X, _nan(Y))",
        ValueError,
        r"Target y contains NaN or infinity: 1 of its 60 values",
    ),
    case(
        "fit(X, Y.astype(float) * 1e39)",
        ValueError,
        r"Target y has values too large for float32",
    ),
    case(
        'fit(X, np.array(["a"] * N))', TypeError, r"`y` needs numeric input.*dtype <U1"
    ),
    case("fit(X, Y + 1j)", TypeError, r"`y` is complex"),
    # --- x ----------------------------------------------------------------------------
    case(
        "fit(X + 1j, Y)",
        TypeError,
        r"`x` is complex \(complex64\).*will not drop the imaginary part.*"
        r"Received: x of dtype complex64",
    ),
    case(
        "fit(X[:0], Y[:0])",
        ValueError,
        r"`x` has no samples.*Received: x of shape \(0, 4\)",
    ),
    case(
        "fit(BIG, Y)",
        ValueError,
        r"Input x has values too large for float32: the largest magnitude is "
        r".*e\+39.*overflow",
    ),
    case(
        "fit(_nan(X), Y)",
        ValueError,
        r"Input x contains NaN or infinity: 1 of its 80 values, the first at index "
        r"\(1, 1\)",
    ),
    case("fit(X * np.inf, Y)", ValueError, r"Input x contains NaN or infinity"),
    case("fit(None, Y)", ValueError, r"needs input data\. Received: x=None"),
    case(
        "fit([[1.0, 2.0], [3.0]], Y[:2])",
        ValueError,
        r"`x` could not be read as an array.*Received: x of type list",
    ),
    case(
        'fit(np.array([["a"] * 4] * N), Y)',
        TypeError,
        r"`x` needs numeric input.*dtype <U1",
    ),
    case(
        "fit(X[:, :3], Y)",
        ValueError,
        r"expected shape=\(None, 4\), found shape=\(20, 3\)",
    ),
    # --- callbacks, verbose, shuffle, keywords ---------------------------------------
    case(
        "fit(X, Y, callbacks=EarlyStopping)",
        TypeError,
        r"`callbacks` must be a Callback or a list of Callbacks.*a class: did you "
        r"mean EarlyStopping\(\)\?",
    ),
    case(
        'fit(X, Y, callbacks=["early_stopping"])',
        TypeError,
        r"`callbacks`.*'early_stopping' is not a Callback",
    ),
    case("fit(X, Y, callbacks=3)", TypeError, r"`callbacks`.*Received: callbacks=3"),
    case(
        "fit(X, Y, callbacks=[EarlyStopping(), None])",
        TypeError,
        r"`callbacks`.*None is not a Callback",
    ),
    case(
        "fit(X, Y, verbose=3)",
        ValueError,
        r"fit\(\): verbose must be 'auto', 0, 1, 2 or a bool\. Received: verbose=3",
    ),
    case(
        'fit(X, Y, verbose="loud")',
        ValueError,
        r"verbose must be.*Received: verbose='loud'",
    ),
    case(
        'fit(X, Y, shuffle="yes")',
        TypeError,
        r"`shuffle` must be True or False\. Received: shuffle='yes' \(of type str\)",
    ),
    case(
        "fit(X, Y, epoch=5)",
        TypeError,
        r"fit\(\) got an unexpected keyword argument 'epoch'\. Did you mean "
        r"'epochs'.*Received: epoch=5",
    ),
    case(
        "fit(X, Y, batchsize=8)",
        TypeError,
        r"unexpected keyword argument 'batchsize'\. Did you mean 'batch_size'",
    ),
    case(
        "fit(X, Y, 8, 1, 0, None, 0.2, validation_split=0.2)",
        TypeError,
        r"multiple values for argument 'validation_split'",
    ),
]

EVALUATE = [
    case(
        "evaluate(X, Y, batch_size=0)", ValueError, r"evaluate\(\): " + BATCH_SIZE + "0"
    ),
    case("evaluate(X, Y, batch_size=-1)", ValueError, BATCH_SIZE + "-1"),
    case("evaluate(X, Y, batch_size=2.5)", TypeError, BATCH_SIZE + r"2\.5"),
    case("evaluate(X, Y, batch_size=True)", TypeError, BATCH_SIZE + "True"),
    case(
        "evaluate(X, Y, steps=0)",
        ValueError,
        r"`steps` must be a positive integer or None\. Received: steps=0",
    ),
    case("evaluate(X[:0], Y[:0])", ValueError, r"`x` has no samples.*shape \(0, 4\)"),
    case("evaluate(X)", ValueError, r"needs targets.*y=None"),
    case(
        "evaluate(X, Y, sample_weight=SW[:5])",
        ValueError,
        r"sample_weight needs one weight per sample \(20\).*\(5,\)",
    ),
    case(
        "evaluate(X, Y[:, :1])", ValueError, r"Target y of shape \(20, 1\).*\(None, 3\)"
    ),
    case("evaluate(X + 1j, Y)", TypeError, r"`x` is complex"),
    case("evaluate(BIG, Y)", ValueError, r"too large for float32"),
    case(
        "evaluate(X, Y, verbose=5)",
        ValueError,
        r"evaluate\(\): verbose must be.*verbose=5",
    ),
    case(
        "evaluate(X, Y, callbacks=3)",
        TypeError,
        r"evaluate\(\): `callbacks`.*callbacks=3",
    ),
    case(
        'evaluate(X, Y, return_dict="yes")',
        TypeError,
        r"`return_dict` must be True or False.*return_dict='yes'",
    ),
    case(
        "evaluate(X, LABELS + 3)",
        ValueError,
        r"labels in y must be in \[0, 3\).*from 3 to 5",
        "classifier",
    ),
    case(
        "evaluate(X, Y, batch_sise=4)",
        TypeError,
        r"evaluate\(\) got an unexpected keyword argument 'batch_sise'\. Did you "
        r"mean 'batch_size'",
    ),
]

PREDICT = [
    case("predict(X, batch_size=0)", ValueError, r"predict\(\): " + BATCH_SIZE + "0"),
    case("predict(X, batch_size=-1)", ValueError, BATCH_SIZE + "-1"),
    case('predict(X, batch_size="32")', TypeError, BATCH_SIZE + "'32'"),
    case("predict(X, batch_size=2.5)", TypeError, BATCH_SIZE + r"2\.5"),
    case(
        "predict(X, steps=0)",
        ValueError,
        r"`steps` must be a positive integer or None\. Received: steps=0",
    ),
    case("predict(X, steps=1.5)", TypeError, r"`steps`.*steps=1\.5 \(of type float\)"),
    case("predict(X[:0])", ValueError, r"`x` has no samples.*shape \(0, 4\)"),
    case(
        "predict(X + 1j)", TypeError, r"`x` is complex.*Received: x of dtype complex64"
    ),
    case("predict(BIG)", ValueError, r"Input x has values too large for float32"),
    case("predict(None)", ValueError, r"needs input data\. Received: x=None"),
    case(
        "predict(X[:, :2])",
        ValueError,
        r"expected shape=\(None, 4\), found shape=\(20, 2\)",
    ),
    case(
        "predict(X, callbacks=EarlyStopping)",
        TypeError,
        r"predict\(\): `callbacks`.*did you mean EarlyStopping\(\)",
    ),
    case(
        'predict(X, verbose="x")',
        ValueError,
        r"predict\(\): verbose must be.*verbose='x'",
    ),
    case(
        "predict(X, batchsize=4)",
        TypeError,
        r"predict\(\) got an unexpected keyword argument 'batchsize'\. "
        r"Did you mean 'batch_size'",
    ),
]

SINGLE_BATCH = [
    case(
        "train_on_batch(X, Y[:, :1])",
        ValueError,
        r"Target y of shape \(20, 1\).*\(None, 3\)",
    ),
    case(
        "train_on_batch(X, Y)",
        ValueError,
        r"Target y of shape \(20, 3\).*\(None, 1\)",
        "one_unit",
    ),
    case(
        "train_on_batch(X, Y, sample_weight=-SW)",
        ValueError,
        r"sample_weight must be >= 0",
    ),
    case(
        "train_on_batch(X, LABELS, class_weight={0: -1, 1: 1, 2: 1})",
        ValueError,
        r"weights of `class_weight` must be >= 0",
        "classifier",
    ),
    case("train_on_batch(X[:0], Y[:0])", ValueError, r"`x` has no samples"),
    case("train_on_batch(X + 1j, Y)", TypeError, r"`x` is complex"),
    case(
        "train_on_batch(X, LABELS * 2)",
        ValueError,
        r"labels in y must be in \[0, 3\).*from 0 to 4",
        "classifier",
    ),
    case(
        "train_on_batch(X, Y, return_dict=1)",
        TypeError,
        r"train_on_batch\(\): `return_dict` must be True or False",
    ),
    case("train_on_batch(X)", ValueError, r"needs targets.*y=None"),
    case("test_on_batch(X[:0], Y[:0])", ValueError, r"`x` has no samples"),
    case(
        "test_on_batch(X, Y[:, :2])",
        ValueError,
        r"Target y of shape \(20, 2\).*\(None, 3\)",
    ),
    case(
        "test_on_batch(X, Y, sample_weight=SW[:3])",
        ValueError,
        r"sample_weight needs one weight per sample \(20\)",
    ),
    case(
        "test_on_batch(X, Y, sample_weights=SW)",
        TypeError,
        r"unexpected keyword argument 'sample_weights'\. Did you mean "
        r"'sample_weight'",
    ),
    case("predict_on_batch(X[:0])", ValueError, r"`x` has no samples"),
    case("predict_on_batch(X + 1j)", TypeError, r"`x` is complex"),
    case("predict_on_batch(None)", ValueError, r"Received: x=None"),
    case(
        "predict_on_batch(X[:, :1])",
        ValueError,
        r"expected shape=\(None, 4\), found shape=\(20, 1\)",
    ),
]


def _batches(x=X, y=Y, size=5, *rest):
    """A generator of (x, y, *rest) batches."""
    for lo in range(0, len(x), size):
        yield (x[lo : lo + size], y[lo : lo + size], *(r[lo : lo + size] for r in rest))


class _Dataset:
    """A PyDataset of ``count`` batches of X, Y (duck-typed)."""

    def __init__(self, count=4):
        self.count = count

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        return X[index * 5 : index * 5 + 5], Y[index * 5 : index * 5 + 5]


BATCHES = [
    # --- generators and PyDatasets: what their batches hold is not given again ---
    case("fit(_batches(), Y)", ValueError, r"`x` as a generator, `y` should not"),
    case(
        "fit(_Dataset(), sample_weight=SW)",
        ValueError,
        r"`x` as a PyDataset, `sample_weight` should not be passed",
    ),
    case("fit(_batches(), validation_split=0.5)", ValueError, r"cannot be split"),
    case("fit(iter(()))", ValueError, r"The generator gave no batch"),
    case("fit(_Dataset(0))", ValueError, r"The PyDataset gave no batch"),
    case(
        "fit(_batches(X, Y, 5, SW, SW))",
        ValueError,
        r"Batch 0 of the generator: .*\(x, y, sample_weight\).*4 items",
    ),
    case(
        "fit(_batches(X[:, :2]))",
        ValueError,
        r"Batch 0 of the generator: Input of layer .*found shape=\(5, 2\)",
    ),
    case(
        "fit(_batches(X, Y[:, :2]))",
        ValueError,
        r"Batch 0 of the generator: Target y of shape \(5, 2\)",
    ),
    case(
        "fit(X, Y, validation_data=_batches(X, Y[:, :1]))",
        ValueError,
        r"validation_data: Batch 0 of the generator: Target y of shape \(5, 1\)",
    ),
    case("evaluate(_Dataset(), Y)", ValueError, r"`y` should not be passed"),
    case("predict(_batches(X + 1j))", TypeError, r"Batch 0 of the generator: `x` is"),
]

CASES = FIT + EVALUATE + PREDICT + SINGLE_BATCH + BATCHES


@pytest.mark.parametrize("call, model, error, pattern", CASES)
def test_misuse_is_caught_up_front_and_changes_nothing(call, model, error, pattern):
    expect_failure(MODELS[model](), call, error, pattern, globals())


def test_the_table_covers_every_entry_point():
    entries = {p.values[0].split("(")[0] for p in CASES}
    assert entries == {
        "fit",
        "evaluate",
        "predict",
        "train_on_batch",
        "test_on_batch",
        "predict_on_batch",
    }


# --- what stays allowed ------------------------------------------------------------
def test_a_single_callback_is_accepted_where_a_list_is_expected():
    stopper = EarlyStopping(monitor="loss", patience=0, min_delta=1e9)
    history = regressor().fit(X, Y, epochs=5, callbacks=stopper, verbose=0)
    assert len(history.history["loss"]) == 2  # no improvement of 1e9: stops early
    assert stopper.model is not None


def test_sparse_labels_for_a_softmax_output_stay_allowed():
    model = classifier()
    for labels in (LABELS, LABELS[:, None], LABELS.astype(float)):
        model.fit(X, labels, epochs=1, verbose=0)
        assert np.isfinite(model.evaluate(X, labels, verbose=0)[0])


def test_a_loss_of_your_own_may_take_labels_but_not_broadcast():
    from glassnet import ops

    def my_sparse_loss(y_true, y_pred):  # picks each row's label column
        one_hot = np.eye(3, dtype=np.float32)[np.asarray(y_true).reshape(-1)]
        return ops.mean((y_pred - one_hot) ** 2, axis=-1)

    model = Sequential([Input((4,)), Dense(3)])
    model.compile("sgd", my_sparse_loss)
    model.fit(X, LABELS, verbose=0)
    expect_failure(
        model, lambda m: m.fit(X, Y[:, 0]), ValueError, r"only fit by broadcasting"
    )


def test_integers_of_numpy_types_and_bools_where_bools_are_meant():
    model = regressor()
    history = model.fit(
        X,
        Y,
        batch_size=np.int64(8),
        epochs=np.int32(2),
        verbose=False,
        shuffle=np.bool_(False),
        validation_split=np.float32(0.25),
    )
    assert len(history.history["val_loss"]) == 2
    assert model.predict(X, batch_size=np.uint8(7), verbose=0).shape == (N, 3)


def test_steps_limit_the_batches():
    model = regressor()
    seen = []
    spy = callbacks_module.LambdaCallback(
        on_predict_batch_end=lambda batch, logs: seen.append(batch)
    )
    model.predict(X, batch_size=4, steps=2, callbacks=[spy], verbose=0)
    assert seen == [0, 1]
    full = model.evaluate(X, Y, batch_size=4, verbose=0)
    part = model.evaluate(X, Y, batch_size=4, steps=1, verbose=0)
    first = model.evaluate(X[:4], Y[:4], verbose=0)
    assert part == first and part != full
    history = model.fit(
        X, Y, batch_size=4, validation_data=(X, Y), validation_steps=1, verbose=0
    )
    after = model.evaluate(X[:4], Y[:4], verbose=0)  # the weights after the epoch
    np.testing.assert_allclose(history.history["val_loss"][0], after[0], rtol=1e-6)


def test_overflow_and_nan_have_their_own_messages():
    with pytest.raises(ValueError, match="too large for float32") as overflow:
        regressor().predict(BIG, verbose=0)
    assert "NaN" not in str(overflow.value)
    with pytest.raises(ValueError, match="NaN or infinity") as nan:
        regressor().predict(_nan(X), verbose=0)
    assert "too large" not in str(nan.value)


def test_float64_models_take_what_float32_cannot():
    model = Sequential([Input((4,)), Dense(3, dtype="float64")])
    model.compile("sgd", "mse")
    assert np.isfinite(model.predict(X * 1e-30, verbose=0)).all()
    assert model.predict(BIG * 1e-300, verbose=0).dtype == np.float64


def test_the_arrays_are_checked_once_per_call_not_per_batch(monkeypatch):
    calls = []
    standardize_x = data_adapter.standardize_x

    def counting(*args, **kwargs):
        calls.append(1)
        return standardize_x(*args, **kwargs)

    monkeypatch.setattr(data_adapter, "standardize_x", counting)
    regressor_model = regressor()
    calls.clear()
    regressor_model.fit(X, Y, batch_size=2, epochs=3, validation_data=(X, Y), verbose=0)
    assert len(calls) == 2  # x and the validation x, for 30 batches and 3 epochs


def test_fit_documents_its_arguments_and_errors():
    doc = Sequential.fit.__doc__
    for name in (
        "batch_size",
        "epochs",
        "validation_split",
        "validation_data",
        "class_weight",
        "sample_weight",
        "callbacks",
        "verbose",
    ):
        assert f"\n{name}\n    " in doc
    assert "\nRaises\n------\nTypeError\n" in doc and "\nValueError\n" in doc
    assert "empty input is an error" in doc
    assert "\nsteps\n    " in Sequential.predict.__doc__
    assert max(len(line) for line in doc.splitlines()) <= 80


def test_labels_are_checked_against_a_one_unit_output_too():
    model = Sequential([Input((4,)), Dense(1, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    expect_failure(
        model,
        lambda m: m.fit(X, LABELS % 2),
        ValueError,
        r"labels in y must be in \[0, 1\) for the model's 1 outputs.*from 0 to 1",
    )
