"""Keras's masks: an ``Embedding(mask_zero=True)`` marks the padding steps,
the layers that support masking pass the mask on, ``GlobalAveragePooling1D``
averages the kept steps only, merges combine masks, and a layer without
masking support drops it. Compared with Keras 3 on the same weights."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet import layers
from glassnet.layers import masking

from .layer_checks import keras_module

IDS = np.array([[3, 1, 4, 0, 0], [2, 7, 1, 8, 2], [5, 0, 0, 0, 0]], np.int32)


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("torch")
    pytest.importorskip("keras")
    return keras_module()


def _text_classifier(lib, middle="dense"):
    """ids -> Embedding(mask_zero) -> [Dense | Conv1D] -> mean over steps -> Dense."""
    ids = lib.Input((None,), dtype="int32")
    x = lib.layers.Embedding(10, 4, mask_zero=True, name="embed")(ids)
    if middle == "dense":
        x = lib.layers.Dense(3, activation="tanh", name="middle")(x)
    elif middle == "conv":  # supports no masking: the mask stops here
        x = lib.layers.Conv1D(3, 1, name="middle")(x)
    x = lib.layers.GlobalAveragePooling1D()(x)
    return lib.Model(ids, lib.layers.Dense(2, activation="softmax", name="head")(x))


def _merged(lib, merge):
    a, b = lib.Input((5,), dtype="int32"), lib.Input((5,), dtype="int32")
    ea = lib.layers.Embedding(10, 3, mask_zero=True, name="ea")(a)
    eb = lib.layers.Embedding(10, 3, name="eb")(b)  # no mask: all steps kept
    ec = lib.layers.Embedding(10, 3, mask_zero=True, name="ec")(b)
    both_masked = [ea, ec] if merge != "Concatenate" else [ea, eb, ec]
    joined = getattr(lib.layers, merge)()(both_masked)
    return lib.Model([a, b], lib.layers.GlobalAveragePooling1D()(joined))


def _sequential(lib):
    return lib.Sequential(
        [
            lib.Input((5,), dtype="int32"),
            lib.layers.Embedding(10, 4, mask_zero=True, name="embed"),
            lib.layers.Dropout(0.5),
            lib.layers.GlobalAveragePooling1D(),
            lib.layers.Dense(1, name="head"),
        ]
    )


def _same_predictions(ours, theirs, x):
    # NOTE: layer by layer, by name: with masks, Keras orders a graph's layers
    # of one depth otherwise than without them
    for layer in theirs.layers:
        if layer.weights:
            ours.get_layer(layer.name).set_weights(layer.get_weights())
    expected = theirs.predict(x, verbose=0)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, rtol=1e-5)
    return expected


@pytest.mark.parametrize("middle", ["dense", "conv"])
def test_a_text_classifier_averages_the_kept_steps_as_keras(keras, middle):
    ours, theirs = _text_classifier(glassnet, middle), _text_classifier(keras, middle)
    _same_predictions(ours, theirs, IDS)
    # the masked mean differs from the plain one (the test can tell them apart)
    plain = _text_classifier(glassnet, middle)
    plain.set_weights(ours.get_weights())
    plain.layers[1].mask_zero = False
    differs = not np.allclose(plain.predict(IDS, verbose=0), ours.predict(IDS))
    assert differs is (middle == "dense")


@pytest.mark.parametrize(
    "merge",
    ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"],
)
def test_merges_combine_masks_as_keras(keras, merge):
    x = [IDS, IDS[::-1].copy()]
    _same_predictions(_merged(glassnet, merge), _merged(keras, merge), x)


def test_a_sequential_passes_masks_through_its_chain(keras):
    _same_predictions(_sequential(glassnet), _sequential(keras), IDS)


def test_training_with_masks_equals_keras(keras):
    y = np.array([0, 1, 0])

    def fit(model, lib):
        model.compile(lib.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
        history = model.fit(IDS, y, epochs=3, batch_size=2, shuffle=False, verbose=0)
        return history.history["loss"]

    theirs, ours = _text_classifier(keras), _text_classifier(glassnet)
    _same_predictions(ours, theirs, IDS)
    np.testing.assert_allclose(fit(ours, glassnet), fit(theirs, keras), rtol=1e-5)


def test_a_user_layer_makes_and_receives_masks():
    seen = []

    class NonZero(layers.Layer):
        def call(self, x):
            return x

        def compute_mask(self, inputs, previous_mask=None):
            return np.asarray(inputs.data) != 0

    class Reader(layers.Layer):
        def call(self, x, mask=None):
            seen.append(mask)
            return x

    x = np.array([[1.0, 0.0, 2.0]], np.float32)
    Reader()(NonZero()(x))
    np.testing.assert_array_equal(np.asarray(seen[-1]), [[True, False, True]])
    assert masking.SWITCH.active


def test_supports_masking_follows_keras_s_rule():
    class OwnMask(layers.Layer):
        def compute_mask(self, inputs, previous_mask=None):
            return previous_mask

    assert not layers.Layer().supports_masking
    assert OwnMask().supports_masking and layers.Dense(2).supports_masking
    assert not layers.Conv1D(2, 1).supports_masking
    plain = layers.Layer()
    plain.supports_masking = True
    assert plain.supports_masking


def _tagger(lib):
    """One class per step: the loss of a padded step is left out (Keras)."""
    return lib.Sequential(
        [
            lib.Input((5,), dtype="int32"),
            lib.layers.Embedding(10, 4, mask_zero=True, name="embed"),
            lib.layers.Dense(3, activation="softmax", name="head"),
        ]
    )


def test_the_loss_of_a_masked_output_leaves_the_padding_out_as_keras(keras):
    y = np.random.default_rng(1).integers(0, 3, IDS.shape)

    def fit(model, lib):
        model.compile(lib.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
        history = model.fit(IDS, y, epochs=3, batch_size=2, shuffle=False, verbose=0)
        return history.history["loss"] + [model.evaluate(IDS, y, verbose=0)]

    theirs, ours = _tagger(keras), _tagger(glassnet)
    _same_predictions(ours, theirs, IDS)
    np.testing.assert_allclose(fit(ours, glassnet), fit(theirs, keras), rtol=1e-5)


def test_sample_weights_and_the_mask_weigh_a_step_together():
    """Keras's rule (its torch backend cannot run this case): each step's
    loss times its sample's weight times the mask scaled by size / kept."""
    y = np.random.default_rng(1).integers(0, 3, IDS.shape)
    weights = np.array([1.0, 0.5, 2.0])
    model = _tagger(glassnet)
    model.compile("sgd", "sparse_categorical_crossentropy")
    probabilities = model.predict(IDS, verbose=0)
    step_losses = -np.log(np.take_along_axis(probabilities, y[..., None], -1))[..., 0]
    kept = (IDS != 0) * (IDS.size / (IDS != 0).sum())
    expected = (step_losses * weights[:, None] * kept).mean()
    got = model.evaluate(IDS, y, sample_weight=weights, batch_size=3, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def _tagged(model):
    """Labels whose padded steps are the model's own guesses: counting them
    would raise the accuracy."""
    guesses = model.predict(IDS, verbose=0).argmax(-1)
    y = np.random.default_rng(2).integers(0, 3, IDS.shape)
    y = np.where(IDS == 0, guesses, y)
    kept = IDS != 0
    assert (guesses == y)[kept].mean() < (guesses == y).mean()
    return y


def _compiled_with_metrics(model, lib):
    model.compile(
        lib.optimizers.SGD(0.5),
        "sparse_categorical_crossentropy",
        metrics=[
            "accuracy",
            lib.metrics.SparseCategoricalAccuracy(name="accuracy_object"),
            lib.losses.sparse_categorical_crossentropy,
        ],
        weighted_metrics=["accuracy"],
    )
    return model


def test_the_metrics_of_a_masked_output_leave_the_padding_out_as_keras(keras):
    theirs, ours = _tagger(keras), _tagger(glassnet)
    _same_predictions(ours, theirs, IDS)
    y = _tagged(theirs)
    logs = []
    for model, lib in ((ours, glassnet), (theirs, keras)):
        _compiled_with_metrics(model, lib)
        evaluated = model.evaluate(IDS, y, batch_size=2, verbose=0, return_dict=True)
        history = model.fit(IDS, y, epochs=2, batch_size=2, shuffle=False, verbose=0)
        logs.append((evaluated, history.history))
    (ours_evaluated, ours_history), (their_evaluated, their_history) = logs
    assert set(ours_evaluated) == set(their_evaluated)
    for name, value in their_evaluated.items():
        assert ours_evaluated[name] == pytest.approx(value, rel=1e-5), name
        np.testing.assert_allclose(ours_history[name], their_history[name], rtol=1e-5)


def test_a_custom_step_s_metrics_read_the_mask_of_its_output_as_keras(keras):
    theirs, ours = _tagger(keras), _tagger(glassnet)
    _same_predictions(ours, theirs, IDS)
    y = _tagged(theirs)
    logs = {}
    for model, lib in ((ours, glassnet), (theirs, keras)):
        _compiled_with_metrics(model, lib)
        model.evaluate(IDS[:1], y[:1], verbose=0)  # builds the compiled metrics
        model.reset_metrics()
        logs[lib, "compute_metrics"] = model.compute_metrics(IDS, y, model(IDS))
        model.reset_metrics()
        logs[lib, "test_step"] = model.test_step((IDS, y))
    for step in ("compute_metrics", "test_step"):
        got, want = logs[glassnet, step], logs[keras, step]
        for name in ("accuracy", "accuracy_object"):
            assert float(got[name]) == pytest.approx(float(want[name]), rel=1e-5)


def test_sample_weights_and_the_mask_weigh_a_metric_s_steps_together():
    """Keras's rule for a masked metric, mask times sample weight (its own
    metrics raise when per-sample weights meet a (batch, steps) mask)."""
    model = _compiled_with_metrics(_tagger(glassnet), glassnet)
    y = _tagged(model)
    weights = np.array([1.0, 0.5, 2.0])
    correct = model.predict(IDS, verbose=0).argmax(-1) == y
    kept = (IDS != 0) * weights[:, None]
    logs = model.evaluate(
        IDS, y, sample_weight=weights, batch_size=3, verbose=0, return_dict=True
    )
    assert logs["weighted_accuracy"] == pytest.approx(
        (correct * kept).sum() / kept.sum()
    )
    assert logs["accuracy"] == pytest.approx(correct[IDS != 0].mean())
