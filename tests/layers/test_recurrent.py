"""SimpleRNN, LSTM and GRU: outputs, states and gradients equal Keras 3's on
the same weights (with and without masks, forwards and backwards), float64
finite differences, one epoch of training as Keras, configs, parameter
counts, saving, and clear errors for what glassnet does not implement; the
same for the Bidirectional wrapper."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet import ops
from glassnet._registry import NEWER_KERAS_DEFAULTS
from glassnet.autograd import Tensor
from glassnet.layers import GRU, LSTM, Bidirectional, Embedding, SimpleRNN
from glassnet.saving import load_model

from .layer_checks import check_layer, layer_gradcheck

SHAPE = (5, 4)  # (timesteps, features) of one sample
IDS = np.array(
    [[3, 1, 4, 0, 0], [0, 0, 2, 7, 1], [5, 0, 3, 0, 9], [2, 7, 1, 8, 2]], np.int32
)

# name: (layer class name, constructor arguments), the same in both libraries
CASES = {
    "simple_rnn": ("SimpleRNN", {}),
    "simple_rnn_sequences": ("SimpleRNN", {"return_sequences": True}),
    "simple_rnn_relu_state": (
        "SimpleRNN",
        {"activation": "relu", "return_state": True},
    ),
    "simple_rnn_backwards": (
        "SimpleRNN",
        {"go_backwards": True, "return_sequences": True},
    ),
    "simple_rnn_no_bias": ("SimpleRNN", {"use_bias": False}),
    "lstm": ("LSTM", {}),
    "lstm_sequences": ("LSTM", {"return_sequences": True}),
    "lstm_state": ("LSTM", {"return_state": True}),
    "lstm_sequences_state": ("LSTM", {"return_sequences": True, "return_state": True}),
    "lstm_backwards": ("LSTM", {"go_backwards": True}),
    "lstm_backwards_sequences": (
        "LSTM",
        {"go_backwards": True, "return_sequences": True},
    ),
    "lstm_no_bias": ("LSTM", {"use_bias": False}),
    "lstm_linear_hard_sigmoid": (
        "LSTM",
        {"activation": None, "recurrent_activation": "hard_sigmoid"},
    ),
    "gru": ("GRU", {}),
    "gru_sequences": ("GRU", {"return_sequences": True}),
    "gru_state": ("GRU", {"return_state": True}),
    "gru_backwards_sequences": (
        "GRU",
        {"go_backwards": True, "return_sequences": True},
    ),
    "gru_reset_before": ("GRU", {"reset_after": False}),
    "gru_reset_before_sequences_state": (
        "GRU",
        {"reset_after": False, "return_sequences": True, "return_state": True},
    ),
    "gru_reset_before_backwards": ("GRU", {"reset_after": False, "go_backwards": True}),
    "gru_no_bias": ("GRU", {"use_bias": False}),
}


def _pair(keras, case, units=3):
    """(ours, Keras's) for ``case``, built for SHAPE, with the same random
    weights (biases too, so every term counts)."""
    name, kwargs = CASES[case]
    ours = getattr(glassnet.layers, name)(units, **kwargs)
    theirs = getattr(keras.layers, name)(units, **kwargs)
    theirs.build((None, *SHAPE))
    rng = np.random.default_rng(7)
    weights = [
        rng.uniform(-0.6, 0.6, w.shape).astype("float32") for w in theirs.weights
    ]
    theirs.set_weights(weights)
    ours.build_for((None, *SHAPE))
    ours.set_weights(weights)
    return ours, theirs


def _as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _projections(outputs, seed=3):
    """Fixed random arrays to weigh each output by (a loss touching every value)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(o.shape).astype("float32") for o in outputs]


def _ours_with_grads(layer, x, mask=None):
    inputs = Tensor(x, requires_grad=True)
    outputs = _as_list(layer(inputs) if mask is None else layer(inputs, mask=mask))
    arrays = [o.data for o in outputs]
    loss = None
    for o, p in zip(outputs, _projections(arrays)):
        term = ops.sum(ops.mul(o, p))
        loss = term if loss is None else loss + term
    loss.backward()
    grads = [inputs.grad] + [w.grad for w in layer.trainable_weights]
    for w in layer.trainable_weights:
        w.grad = None
    return arrays, grads


def _keras_with_grads(layer, x, mask=None):
    import torch

    inputs = torch.tensor(x, requires_grad=True)
    kwargs = {} if mask is None else {"mask": torch.tensor(mask)}
    outputs = _as_list(layer(inputs, **kwargs))
    arrays = [o.detach().numpy() for o in outputs]
    loss = sum(
        (o * torch.tensor(p)).sum() for o, p in zip(outputs, _projections(arrays))
    )
    params = [w.value for w in layer.trainable_weights]
    grads = torch.autograd.grad(loss, [inputs, *params])
    return arrays, [g.numpy() for g in grads]


def _input(seed=2):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, (4, *SHAPE)).astype("float32")


@pytest.mark.parametrize("case", sorted(CASES))
def test_outputs_states_and_gradients_equal_keras(keras, case):
    ours, theirs = _pair(keras, case)
    x = _input()
    out, grads = _ours_with_grads(ours, x)
    kout, kgrads = _keras_with_grads(theirs, x)
    assert len(out) == len(kout) and len(grads) == len(kgrads)
    for a, b in zip(out, kout):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(grads, kgrads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert ours.count_params() == theirs.count_params()
    expected = theirs.compute_output_shape((None, *SHAPE))
    assert _as_list(ours.compute_output_shape((None, *SHAPE))) == _as_list(expected)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_mask_keeps_the_state_of_padded_steps_as_keras(keras, case):
    ours, theirs = _pair(keras, case)
    x = np.random.default_rng(4).uniform(-1.5, 1.5, (4, *SHAPE)).astype("float32")
    mask = IDS != 0
    out, grads = _ours_with_grads(ours, x, mask)
    kout, kgrads = _keras_with_grads(theirs, x, mask)
    for a, b in zip(out, kout):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(grads, kgrads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    unmasked, _ = _ours_with_grads(ours, x)
    assert not np.allclose(out[0], unmasked[0])  # the mask changed something


def _embedded(lib, name, kwargs, mask_zero=True):
    """ids -> Embedding(mask_zero) -> the recurrent layer (its mask from the ids)."""
    ids = lib.Input((5,), dtype="int32")
    x = lib.layers.Embedding(10, 4, mask_zero=mask_zero, name="embed")(ids)
    rnn = getattr(lib.layers, name)(3, name="rnn", **kwargs)
    return lib.Model(ids, rnn(x))


@pytest.mark.parametrize(
    "case", ["simple_rnn_sequences", "lstm", "lstm_backwards_sequences", "gru_state"]
)
def test_a_mask_from_an_embedding_is_used_as_keras(keras, case):
    name, kwargs = CASES[case]
    theirs, ours = _embedded(keras, name, kwargs), _embedded(glassnet, name, kwargs)
    ours.set_weights(theirs.get_weights())
    kout = _as_list(theirs.predict(IDS, verbose=0))
    out = _as_list(ours.predict(IDS))
    for a, b in zip(out, kout):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    plain = _embedded(glassnet, name, kwargs, mask_zero=False)
    plain.set_weights(theirs.get_weights())
    assert not np.allclose(_as_list(plain.predict(IDS))[0], out[0])


def test_a_padded_first_step_gives_zeros_and_a_padded_step_repeats_the_last():
    layer = SimpleRNN(2, return_sequences=True, bias_initializer="ones")
    x = np.ones((1, 4, 3), np.float32)
    out = layer(x, mask=np.array([[False, True, False, True]])).data[0]
    np.testing.assert_array_equal(out[0], [0.0, 0.0])
    np.testing.assert_array_equal(out[2], out[1])
    assert not np.array_equal(out[3], out[2])


@pytest.mark.parametrize(
    "make",
    [
        lambda: SimpleRNN(3, dtype="float64"),
        lambda: LSTM(2, return_sequences=True, dtype="float64"),
        lambda: GRU(2, return_sequences=True, dtype="float64"),
        lambda: GRU(2, reset_after=False, go_backwards=True, dtype="float64"),
    ],
    ids=["simple_rnn", "lstm", "gru", "gru_reset_before"],
)
def test_gradcheck_float64(make):
    layer = make()
    layer(np.zeros((1, 3, 2)))
    rng = np.random.default_rng(5)
    layer.set_weights([rng.uniform(-0.8, 0.8, w.shape) for w in layer.get_weights()])
    layer_gradcheck(layer, (3, 2))


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_check_layer_lifecycle(name):
    check_layer(getattr(glassnet.layers, name)(3, return_sequences=True), SHAPE)
    check_layer(getattr(glassnet.layers, name)(2, go_backwards=True), SHAPE)


def _regressor(lib, name, kwargs):
    return lib.Sequential(
        [
            lib.Input(SHAPE),
            getattr(lib.layers, name)(3, **kwargs),
            lib.layers.Dense(1),
        ]
    )


def _same_epoch_of_fit(ours, theirs, keras, x, y):
    """One epoch of SGD on mse, in batches of 4: the same losses and weights."""

    def fit(model, lib):
        model.compile(lib.optimizers.SGD(0.1), "mse")
        history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        return history.history["loss"]

    np.testing.assert_allclose(fit(ours, glassnet), fit(theirs, keras), rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "name, kwargs",
    [("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False})],
)
def test_one_epoch_of_fit_equals_keras(keras, name, kwargs):
    rng = np.random.default_rng(11)
    x = rng.uniform(-1, 1, (12, *SHAPE)).astype("float32")
    y = rng.uniform(-1, 1, (12, 1)).astype("float32")
    theirs, ours = _regressor(keras, name, kwargs), _regressor(glassnet, name, kwargs)
    ours.set_weights(theirs.get_weights())
    _same_epoch_of_fit(ours, theirs, keras, x, y)
    assert ours.count_params() == theirs.count_params()


def _without_newer_keras_defaults(config):
    """Keras's config without what newer Keras releases add at "off" values
    (``input_axes`` of an initializer, ...), which glassnet never writes."""
    if not isinstance(config, dict):
        return config
    return {
        key: _without_newer_keras_defaults(value)
        for key, value in config.items()
        if not (key in NEWER_KERAS_DEFAULTS and value == NEWER_KERAS_DEFAULTS[key])
    }


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("SimpleRNN", {}),
        ("SimpleRNN", {"activation": "relu", "return_sequences": True}),
        ("LSTM", {}),
        ("LSTM", {"unit_forget_bias": False, "seed": 3, "go_backwards": True}),
        ("GRU", {}),
        ("GRU", {"reset_after": False, "return_state": True, "use_bias": False}),
        ("GRU", {"recurrent_initializer": "glorot_uniform", "activation": None}),
    ],
)
def test_config_equals_keras(keras, name, kwargs):
    ours = getattr(glassnet.layers, name)(4, name="rnn", **kwargs)
    theirs = getattr(keras.layers, name)(4, name="rnn", **kwargs)
    assert ours.get_config() == _without_newer_keras_defaults(theirs.get_config())
    again = type(ours).from_config(theirs.get_config())
    assert again.get_config() == ours.get_config()


@pytest.mark.parametrize(
    "make, params",
    [
        (lambda: SimpleRNN(4), 3 * 4 + 4 * 4 + 4),
        (lambda: LSTM(4), 4 * (3 * 4 + 4 * 4 + 4)),
        (lambda: LSTM(4, use_bias=False), 4 * (3 * 4 + 4 * 4)),
        (lambda: GRU(4), 3 * (3 * 4 + 4 * 4) + 2 * 12),
        (lambda: GRU(4, reset_after=False), 3 * (3 * 4 + 4 * 4 + 4)),
    ],
)
def test_parameter_counts_and_weight_names(make, params):
    layer = make()
    layer.build_for((None, 10, 3))
    assert layer.count_params() == params
    names = [w.name.rsplit("/", 1)[-1] for w in layer.weights]
    assert names == ["kernel", "recurrent_kernel", "bias"][: len(names)]


def test_summary_shapes_and_params_equal_keras(keras):
    def model(lib):
        return lib.Sequential(
            [
                lib.Input((7, 3)),
                lib.layers.LSTM(5, return_sequences=True),
                lib.layers.GRU(4),
                lib.layers.Dense(2),
            ]
        )

    ours, theirs = model(glassnet), model(keras)
    assert [layer.count_params() for layer in ours.layers] == [
        layer.count_params() for layer in theirs.layers
    ]
    assert [tuple(layer.output.shape) for layer in ours.layers] == [
        tuple(layer.output.shape) for layer in theirs.layers
    ]
    text = []
    ours.summary(print_fn=text.append)
    assert "(None, 7, 5)" in "\n".join(text)


def test_unit_forget_bias_starts_the_forget_gate_at_one():
    layer = LSTM(2, bias_initializer="zeros")
    layer.build_for((None, 3, 1))
    np.testing.assert_array_equal(layer.bias.data, [0, 0, 1, 1, 0, 0, 0, 0])
    layer = LSTM(2, unit_forget_bias=False)
    layer.build_for((None, 3, 1))
    np.testing.assert_array_equal(layer.bias.data, np.zeros(8))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: LSTM(0), r"units.*Received: units=0"),
        (lambda: GRU(2.5), r"Received: units=2.5"),
        (lambda: SimpleRNN(None), r"Received: units=None"),
        (lambda: LSTM(2, dropout=0.5), r"dropout=0.0 is accepted.*dropout=0.5"),
        (lambda: GRU(2, recurrent_dropout=0.2), r"recurrent_dropout=0.2"),
        (lambda: SimpleRNN(2, stateful=True), r"stateful=True"),
        (lambda: LSTM(2, unroll=True), r"unroll=True"),
        (lambda: GRU(2, kernel_constraint="non_neg"), r"kernel_constraint"),
        (lambda: LSTM(2, recurrent_activation="nope"), r"nope"),
    ],
)
def test_bad_arguments_raise_clear_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_the_defaults_of_unimplemented_arguments_are_accepted():
    layer = LSTM(2, dropout=0.0, recurrent_dropout=0, stateful=False, unroll=False)
    assert layer.get_config()["dropout"] == 0.0


def test_input_of_the_wrong_rank_or_width_is_refused():
    with pytest.raises(ValueError, match=r"timesteps, features"):
        LSTM(2)(np.zeros((2, 3), np.float32))
    layer = GRU(2)
    layer(np.zeros((1, 3, 4), np.float32))
    with pytest.raises(ValueError, match=r"incompatible"):
        layer(np.zeros((1, 3, 5), np.float32))


def test_save_and_load_round_trip_a_model_with_an_lstm(tmp_path):
    model = glassnet.Sequential(
        [
            glassnet.Input((None,), dtype="int32"),
            Embedding(10, 4, mask_zero=True),
            LSTM(3, return_sequences=True),
            GRU(2),
            glassnet.layers.Dense(1),
        ]
    )
    model.compile("sgd", "mse")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = load_model(path)
    assert [type(layer) for layer in loaded.layers] == [
        type(layer) for layer in model.layers
    ]
    np.testing.assert_array_equal(loaded.predict(IDS), model.predict(IDS))
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


# --- Bidirectional -------------------------------------------------------------------
MERGE_MODES = ["concat", "sum", "mul", "ave", None]


def _bidirectional_pair(keras, name, merge_mode, **kwargs):
    """(ours, Keras's) Bidirectional of ``name`` (3 units) for SHAPE, with the
    same random weights."""

    def make(lib):
        layer = getattr(lib.layers, name)(3, name="rnn", **kwargs)
        return lib.layers.Bidirectional(layer, merge_mode=merge_mode, name="bi")

    ours, theirs = make(glassnet), make(keras)
    theirs.build((None, *SHAPE))
    rng = np.random.default_rng(8)
    weights = [
        rng.uniform(-0.6, 0.6, w.shape).astype("float32") for w in theirs.weights
    ]
    theirs.set_weights(weights)
    ours.build_for((None, *SHAPE))
    ours.set_weights(weights)
    return ours, theirs


@pytest.mark.parametrize("masked", [False, True], ids=["", "masked"])
@pytest.mark.parametrize("sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize("merge_mode", MERGE_MODES)
@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_bidirectional_outputs_and_gradients_equal_keras(
    keras, name, merge_mode, sequences, masked
):
    ours, theirs = _bidirectional_pair(
        keras, name, merge_mode, return_sequences=sequences
    )
    x, mask = _input(), (IDS != 0 if masked else None)
    out, grads = _ours_with_grads(ours, x, mask)
    kout, kgrads = _keras_with_grads(theirs, x, mask)
    assert len(out) == len(kout) and len(grads) == len(kgrads)
    for a, b in zip(out, kout):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(grads, kgrads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert (
        ours.count_params()
        == theirs.count_params()
        == 2 * ours.forward_layer.count_params()
    )
    expected = theirs.compute_output_shape((None, *SHAPE))
    assert _as_list(ours.compute_output_shape((None, *SHAPE))) == _as_list(expected)


@pytest.mark.parametrize("merge_mode", ["concat", None])
@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_bidirectional_return_state_orders_states_as_keras(keras, name, merge_mode):
    ours, theirs = _bidirectional_pair(
        keras, name, merge_mode, return_sequences=True, return_state=True
    )
    x = _input()
    out, grads = _ours_with_grads(ours, x, IDS != 0)
    kout, kgrads = _keras_with_grads(theirs, x, IDS != 0)
    assert (
        len(out)
        == len(kout)
        == (1 if merge_mode else 2) + 2 * ours.forward_layer.state_count
    )
    for a, b in zip(out + grads, kout + kgrads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    expected = theirs.compute_output_shape((None, *SHAPE))
    assert ours.compute_output_shape((None, *SHAPE)) == list(expected)


def _embedded_bidirectional(lib, name, merge_mode, mask_zero=True):
    ids = lib.Input((5,), dtype="int32")
    x = lib.layers.Embedding(10, 4, mask_zero=mask_zero)(ids)
    x = lib.layers.Bidirectional(
        getattr(lib.layers, name)(3, return_sequences=True), merge_mode=merge_mode
    )(x)
    x = lib.layers.Bidirectional(getattr(lib.layers, name)(2))(x)
    return lib.Model(ids, x)


@pytest.mark.parametrize("merge_mode", ["concat", "ave"])
@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_bidirectional_takes_an_embeddings_mask_as_keras(keras, name, merge_mode):
    theirs = _embedded_bidirectional(keras, name, merge_mode)
    ours = _embedded_bidirectional(glassnet, name, merge_mode)
    ours.set_weights(theirs.get_weights())
    out = ours.predict(IDS)
    np.testing.assert_allclose(
        out, theirs.predict(IDS, verbose=0), rtol=1e-5, atol=1e-6
    )
    plain = _embedded_bidirectional(glassnet, name, merge_mode, mask_zero=False)
    plain.set_weights(theirs.get_weights())
    assert not np.allclose(plain.predict(IDS), out)


@pytest.mark.parametrize("merge_mode", ["concat", "mul"])
@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_bidirectional_one_epoch_of_fit_equals_keras(keras, name, merge_mode):
    rng = np.random.default_rng(12)
    x = rng.uniform(-1, 1, (12, *SHAPE)).astype("float32")
    y = rng.uniform(-1, 1, (12, 1)).astype("float32")

    def model(lib):
        layer = getattr(lib.layers, name)(3)
        return lib.Sequential(
            [
                lib.Input(SHAPE),
                lib.layers.Bidirectional(layer, merge_mode=merge_mode),
                lib.layers.Dense(1),
            ]
        )

    theirs, ours = model(keras), model(glassnet)
    ours.set_weights(theirs.get_weights())
    _same_epoch_of_fit(ours, theirs, keras, x, y)


def test_bidirectional_gradcheck_float64():
    gru = GRU(2, return_sequences=True, dtype="float64")
    layer = Bidirectional(gru, "mul", dtype="float64")
    layer(np.zeros((1, 3, 2)))
    rng = np.random.default_rng(5)
    layer.set_weights([rng.uniform(-0.8, 0.8, w.shape) for w in layer.get_weights()])
    layer_gradcheck(layer, (3, 2))


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.layers.Bidirectional(lib.layers.LSTM(4, name="rnn"), name="bi"),
        lambda lib: lib.layers.Bidirectional(
            lib.layers.GRU(4, return_sequences=True, reset_after=False, name="g"),
            merge_mode=None,
            name="bi",
        ),
        lambda lib: lib.layers.Bidirectional(
            lib.layers.SimpleRNN(4, name="ahead"),
            merge_mode="sum",
            backward_layer=lib.layers.SimpleRNN(
                4, activation="relu", go_backwards=True, name="behind"
            ),
            name="bi",
        ),
    ],
    ids=["lstm", "gru", "backward_layer"],
)
def test_bidirectional_config_equals_keras(keras, make):
    import json

    ours, theirs = make(glassnet), make(keras)
    ours.build_for((None, *SHAPE))
    theirs.build((None, *SHAPE))
    expected = json.loads(json.dumps(theirs.get_config()))  # tuples as lists
    assert ours.get_config() == _without_newer_keras_defaults(expected)
    again = Bidirectional.from_config(theirs.get_config())
    assert again.get_config() == ours.get_config()
    assert [w.shape for w in again.get_weights()] == [
        w.shape for w in theirs.get_weights()
    ]


def test_bidirectional_names_parameters_and_initial_weights():
    layer = Bidirectional(LSTM(4, name="forward_lstm"))
    assert layer.forward_layer.name == "forward_lstm"
    assert layer.backward_layer.name == "backward_forward_lstm"
    assert layer.backward_layer.go_backwards
    layer.build_for((None, 10, 3))
    assert layer.count_params() == 2 * 4 * (3 * 4 + 4 * 4 + 4)
    weights = [np.full(w.shape, i, np.float32) for i, w in enumerate(layer.weights)]
    again = Bidirectional(LSTM(4), weights=weights)
    again.build_for((None, 10, 3))
    for a, b in zip(again.get_weights(), weights):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Bidirectional("lstm"), r"layer instance"),
        (lambda: Bidirectional(LSTM(2), merge_mode="max"), r"merge mode.*'max'"),
        (
            lambda: Bidirectional(LSTM(2), backward_layer=LSTM(2)),
            r"different `go_backwards`",
        ),
        (
            lambda: Bidirectional(
                LSTM(2), backward_layer=LSTM(2, go_backwards=True, return_state=True)
            ),
            r"'return_state'",
        ),
    ],
)
def test_bidirectional_bad_arguments_raise_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def _bidirectional_model(lib):
    return lib.Sequential(
        [
            lib.Input((5,), dtype="int32"),
            lib.layers.Embedding(10, 4, mask_zero=True),
            lib.layers.Bidirectional(
                lib.layers.GRU(3, return_sequences=True), merge_mode="sum"
            ),
            lib.layers.Bidirectional(lib.layers.LSTM(2)),
            lib.layers.Dense(1),
        ]
    )


def test_bidirectional_save_and_load_round_trip(tmp_path):
    model = _bidirectional_model(glassnet)
    model.compile("adam", "mse")
    model.fit(IDS, np.ones((4, 1), np.float32), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[1], Bidirectional)
    np.testing.assert_array_equal(loaded.predict(IDS), model.predict(IDS))
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_bidirectional_keras_files_move_both_ways(keras, tmp_path):
    import zipfile

    import h5py

    theirs = _bidirectional_model(keras)
    theirs.save(tmp_path / "k.keras")
    ours = load_model(tmp_path / "k.keras")
    expected = theirs.predict(IDS, verbose=0)
    np.testing.assert_allclose(ours.predict(IDS), expected, rtol=1e-5, atol=1e-6)
    ours.save(tmp_path / "g.keras")
    back = keras.saving.load_model(tmp_path / "g.keras")
    np.testing.assert_allclose(
        back.predict(IDS, verbose=0), expected, rtol=1e-5, atol=1e-6
    )

    def groups(path):
        with zipfile.ZipFile(path) as archive, archive.open("model.weights.h5") as f:
            names = []
            h5py.File(f).visit(names.append)
            return sorted(names)

    assert groups(tmp_path / "g.keras") == groups(tmp_path / "k.keras")
    assert "layers/bidirectional/backward_layer/cell/vars/2" in groups(
        tmp_path / "g.keras"
    )
