"""Configs round trip through Keras 3's JSON layout: every layer, optimizer,
loss, metric, initializer, regularizer and activation; Keras's extra
arguments; user objects by registration or ``custom_objects``; and nothing in
a config is ever imported or run."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from glassnet import (
    activations,
    initializers,
    losses,
    metrics,
    optimizers,
    regularizers,
)
from glassnet import layers as L
from glassnet.layers import Layer
from glassnet.models import Sequential, load_model
from glassnet.saving import (
    FileFormatError,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)


def _through_json(obj, **kwargs):
    text = json.dumps(serialize_keras_object(obj))
    return deserialize_keras_object(json.loads(text), **kwargs)


# --- layers ---
LAYERS = [
    (lambda: L.Layer(trainable=False), (3,)),
    (
        lambda: L.Dense(
            3,
            activation="tanh",
            use_bias=False,
            kernel_initializer=initializers.RandomUniform(-0.1, 0.1, seed=3),
            kernel_regularizer=regularizers.L1L2(0.1, 0.2),
            activity_regularizer="l2",
        ),
        (4,),
    ),
    (lambda: L.Activation("softplus"), (3,)),
    (lambda: L.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.2), (3,)),
    (lambda: L.LeakyReLU(0.1), (3,)),
    (lambda: L.ELU(0.5), (3,)),
    (lambda: L.Softmax(axis=[1, 2]), (2, 3)),
    (lambda: L.Dropout(0.3, noise_shape=(None, 1), seed=5), (4,)),
    (lambda: L.Flatten(), (2, 3)),
    (lambda: L.Reshape((3, 2)), (6,)),
    (
        lambda: L.Conv1D(
            2, 3, strides=2, padding="same", activation="relu", bias_initializer="ones"
        ),
        (9, 2),
    ),
    (
        lambda: L.Conv2D(
            3, (2, 3), dilation_rate=2, padding="same", kernel_initializer="he_uniform"
        ),
        (7, 7, 2),
    ),
    (lambda: L.MaxPooling2D((2, 3), strides=(1, 2), padding="same"), (6, 7, 2)),
    (lambda: L.AveragePooling2D(3), (6, 6, 2)),
    (lambda: L.GlobalAveragePooling2D(keepdims=True), (4, 4, 3)),
    (lambda: L.GlobalMaxPooling2D(), (4, 4, 3)),
    (lambda: L.ZeroPadding2D(((1, 2), (0, 3))), (3, 3, 1)),
    (lambda: L.UpSampling2D((2, 1)), (3, 3, 1)),
    (
        lambda: L.BatchNormalization(
            axis=1, momentum=0.8, epsilon=1e-2, center=False, gamma_regularizer="l2"
        ),
        (3, 4),
    ),
    (
        lambda: L.Conv2DTranspose(
            3, (3, 2), strides=2, padding="same", output_padding=(1, 0)
        ),
        (3, 4, 2),
    ),
    (lambda: L.MaxPooling1D(3, strides=2, padding="same"), (7, 2)),
    (lambda: L.AveragePooling1D(2), (6, 2)),
    (lambda: L.GlobalAveragePooling1D(keepdims=True), (4, 3)),
    (lambda: L.GlobalMaxPooling1D(), (4, 3)),
    (
        lambda: L.Embedding(
            6, 3, mask_zero=True, embeddings_regularizer=regularizers.L2(0.1)
        ),
        (4,),
    ),
    (lambda: L.LayerNormalization(axis=[-1, 1], epsilon=1e-5, center=False), (3, 4)),
    (
        lambda: L.Lambda(
            activations.softplus, output_shape=(2, 3), arguments={}, name="lam"
        ),
        (2, 3),
    ),
    (lambda: L.Identity(), (3,)),
    (lambda: L.Rescaling([0.5, 2.0], offset=1.0), (3, 2)),
    (lambda: L.RepeatVector(3), (4,)),
    (lambda: L.Permute((2, 1)), (3, 4)),
    (lambda: L.Cropping1D((1, 2)), (5, 2)),
    (lambda: L.Cropping2D(((1, 0), (0, 2))), (4, 4, 1)),
    (lambda: L.ZeroPadding1D((2, 0)), (3, 2)),
    (lambda: L.UpSampling1D(3), (3, 2)),
    (lambda: L.SimpleRNN(3, activation="relu", return_sequences=True), (4, 2)),
    (
        lambda: L.LSTM(
            2, go_backwards=True, unit_forget_bias=False, recurrent_regularizer="l2"
        ),
        (4, 3),
    ),
    (lambda: L.GRU(2, reset_after=False, seed=4, return_sequences=True), (3, 2)),
    (
        lambda: L.Bidirectional(L.GRU(2, return_sequences=True), merge_mode="ave"),
        (3, 2),
    ),
    # the merge layers: a list of inputs
    (lambda: L.Add(), [(3,), (3,)]),
    (lambda: L.Subtract(), [(2, 3), (1, 3)]),
    (lambda: L.Multiply(name="times"), [(3,), (3,)]),
    (lambda: L.Average(), [(3,), (3,), (3,)]),
    (lambda: L.Maximum(), [(3,), (3,)]),
    (lambda: L.Minimum(), [(3,), (3,)]),
    (lambda: L.Concatenate(axis=1), [(2, 3), (4, 3)]),
    (lambda: L.Dot(axes=[2, 2], normalize=True), [(2, 3), (4, 3)]),
]


@pytest.mark.parametrize(
    "make, shape", LAYERS, ids=lambda v: getattr(v, "__name__", "")
)
def test_every_layer_round_trips(make, shape):
    layer = make()
    rng = np.random.default_rng(0)
    shapes = shape if isinstance(shape, list) else [shape]
    x = [rng.uniform(-1, 1, (2, *s)).astype("float32") for s in shapes]
    x = x if isinstance(shape, list) else x[0]
    layer(x)
    for w in layer.weights:
        w.data[...] = np.random.default_rng(1).uniform(0.5, 1.5, w.data.shape)

    config = serialize_keras_object(layer)
    clone = _through_json(layer)

    assert config["module"] == "keras.layers"
    assert config["class_name"] == type(layer).__name__
    assert config["config"]["dtype"]["class_name"] == "DTypePolicy"
    assert type(clone) is type(layer) and clone.built
    assert clone.get_config() == layer.get_config()
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).data, layer(x).data)


def test_the_layer_table_covers_every_layer_class():
    tested = {type(make()) for make, _ in LAYERS} | {L.InputLayer}
    exported = {
        getattr(L, name)
        for name in L.__all__
        if isinstance(getattr(L, name), type) and issubclass(getattr(L, name), Layer)
    }
    assert tested == exported


def test_input_layer_config_is_keras_layout():
    config = serialize_keras_object(L.InputLayer(shape=(3, 2), name="inp"))
    assert config["config"] == {
        "name": "inp",
        "dtype": "float32",
        "sparse": False,
        "ragged": False,
        "batch_shape": [None, 3, 2],
    }
    assert _through_json(L.InputLayer(shape=(3, 2))).batch_shape == (None, 3, 2)


def test_dense_config_is_keras_full_config():
    config = L.Dense(2, name="d").get_config()
    assert config == {
        "name": "d",
        "trainable": True,
        "dtype": {
            "module": "keras",
            "class_name": "DTypePolicy",
            "config": {"name": "float32"},
            "registered_name": None,
        },
        "kernel_constraint": None,
        "bias_constraint": None,
        "units": 2,
        "activation": "linear",
        "use_bias": True,
        "kernel_initializer": {
            "module": "keras.initializers",
            "class_name": "GlorotUniform",
            "config": {"seed": None},
            "registered_name": None,
        },
        "bias_initializer": {
            "module": "keras.initializers",
            "class_name": "Zeros",
            "config": {},
            "registered_name": None,
        },
        "kernel_regularizer": None,
        "bias_regularizer": None,
    }


def test_keras_only_arguments_are_accepted_at_their_defaults_only():
    config = {**L.Dense(2).get_config(), "quantization_config": None, "lora_rank": None}
    assert L.Dense.from_config(config).units == 2
    with pytest.raises(
        ValueError, match="kernel_constraint.*Received: kernel_constraint"
    ):
        L.Dense.from_config({**config, "kernel_constraint": "non_neg"})
    with pytest.raises(ValueError, match="renorm"):
        L.BatchNormalization.from_config({"renorm": True})
    with pytest.raises(ValueError, match="groups"):
        L.Conv2D.from_config({"filters": 2, "kernel_size": 3, "groups": 2})
    with pytest.raises(TypeError, match="Unrecognized"):
        L.Dense.from_config({"units": 2, "spam": 1})


# --- optimizers, losses, metrics, initializers, regularizers, activations ---
OPTIMIZERS = [
    optimizers.SGD(0.05, momentum=0.9, nesterov=True, clipvalue=0.5),
    optimizers.Adam(0.01, beta_1=0.8, amsgrad=True, step_dtype="float64"),
    optimizers.AdamW(0.02, weight_decay=0.01, global_clipnorm=1.0),
    optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True),
    optimizers.Adagrad(0.1, initial_accumulator_value=0.2, epsilon=1e-6),
]


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=repr)
def test_every_optimizer_round_trips(optimizer):
    config = serialize_keras_object(optimizer)
    assert config["module"] == "keras.optimizers"
    assert config["config"]["use_ema"] is False
    again = _through_json(optimizer)
    assert type(again) is type(optimizer)
    assert again.get_config() == optimizer.get_config()
    keras_extras = {"loss_scale_factor": None, "gradient_accumulation_steps": None}
    assert type(optimizer).from_config({**config["config"], **keras_extras})
    with pytest.raises(ValueError, match="use_ema"):
        type(optimizer).from_config({**config["config"], "use_ema": True})


def test_the_optimizer_table_covers_every_optimizer():
    classes = {v for v in optimizers._registry._table.values() if isinstance(v, type)}
    assert classes == {type(o) for o in OPTIMIZERS}


def _classes(registry):
    return {v for v in registry._table.values() if isinstance(v, type)}


LOSSES = [
    losses.MeanSquaredError(),
    losses.MeanAbsoluteError(reduction="sum"),
    losses.Huber(delta=2.0),
    losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    losses.CategoricalCrossentropy(label_smoothing=0.2, name="cce"),
    losses.SparseCategoricalCrossentropy(from_logits=True),
    losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.5),
    losses.CategoricalFocalCrossentropy(alpha=[0.2, 0.3, 0.5], from_logits=True),
    losses.KLDivergence(reduction="sum"),
    losses.Poisson(),
    losses.Hinge(),
    losses.SquaredHinge(),
    losses.CategoricalHinge(name="ch"),
    losses.LogCosh(),
    losses.MeanAbsolutePercentageError(),
    losses.MeanSquaredLogarithmicError(reduction="none"),
    losses.CosineSimilarity(),
]


@pytest.mark.parametrize("loss", LOSSES, ids=lambda v: type(v).__name__)
def test_every_loss_class_round_trips(loss):
    again = _through_json(loss)
    assert type(again) is type(loss) and again.get_config() == loss.get_config()
    assert losses.get(serialize_keras_object(loss)).get_config() == loss.get_config()


def test_loss_functions_and_names():
    assert _classes(losses._registry) == {type(loss) for loss in LOSSES}
    for name in losses._registry.names():
        fn = losses.get(name)
        assert losses.get(losses.serialize(fn)) is fn
        assert losses.get(losses.serialize(name)) is fn
    assert losses.serialize("cce") == "categorical_crossentropy"
    assert losses.serialize("MeanSquaredError") == "MeanSquaredError"
    keras_config = {"name": "bce", "reduction": "sum_over_batch_size", "axis": -1}
    assert losses.BinaryCrossentropy.from_config(keras_config).name == "bce"


METRICS = [
    metrics.Mean(name="m"),
    metrics.Sum(),
    metrics.BinaryAccuracy(threshold=0.3),
    metrics.CategoricalAccuracy(),
    metrics.SparseCategoricalAccuracy(),
    metrics.TopKCategoricalAccuracy(k=2),
    metrics.MeanSquaredError(),
    metrics.MeanAbsoluteError(),
    metrics.RootMeanSquaredError(),
    metrics.Accuracy(),
    metrics.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    metrics.CategoricalCrossentropy(label_smoothing=0.2),
    metrics.SparseCategoricalCrossentropy(from_logits=True),
    metrics.SparseTopKCategoricalAccuracy(k=3),
    metrics.KLDivergence(),
    metrics.Poisson(),
    metrics.Hinge(),
    metrics.SquaredHinge(),
    metrics.CategoricalHinge(),
    metrics.LogCoshError(),
    metrics.MeanAbsolutePercentageError(),
    metrics.MeanSquaredLogarithmicError(),
    metrics.CosineSimilarity(),
    metrics.R2Score(class_aggregation=None, num_regressors=1),
    metrics.TruePositives(thresholds=[0.3, 0.6]),
    metrics.FalsePositives(),
    metrics.TrueNegatives(),
    metrics.FalseNegatives(thresholds=0.4),
    metrics.Precision(top_k=2, class_id=1),
    metrics.Recall(thresholds=[0.2, 0.7]),
    metrics.AUC(num_thresholds=50, curve="PR", multi_label=True, num_labels=3),
    metrics.PrecisionAtRecall(0.5),
    metrics.RecallAtPrecision(0.6, num_thresholds=20),
    metrics.SensitivityAtSpecificity(0.4),
    metrics.SpecificityAtSensitivity(0.7, class_id=0),
    metrics.F1Score(average="macro", threshold=0.5),
    metrics.FBetaScore(beta=2.0),
    metrics.IoU(num_classes=3, target_class_ids=[0, 2], ignore_class=255),
    metrics.BinaryIoU(target_class_ids=[1], threshold=0.3),
    metrics.MeanIoU(num_classes=4, sparse_y_pred=False, dtype="float32"),
    metrics.OneHotIoU(num_classes=3, target_class_ids=[1], sparse_y_pred=True),
    metrics.OneHotMeanIoU(num_classes=3, ignore_class=0, axis=1),
    metrics.PearsonCorrelation(axis=(0, 1)),
    metrics.ConcordanceCorrelation(name="ccc", axis=0),
]


@pytest.mark.parametrize("metric", METRICS, ids=lambda v: type(v).__name__)
def test_every_metric_class_round_trips(metric):
    again = _through_json(metric)
    assert type(again) is type(metric) and again.get_config() == metric.get_config()


def test_metric_functions_and_names():
    assert _classes(metrics._registry) == {type(m) for m in METRICS}
    for name in metrics._registry.names():
        fn = metrics._registry.lookup(name)
        if not isinstance(fn, type):  # a function: classes are made above
            assert metrics.get(metrics.serialize(fn)) is fn


INITIALIZERS = [
    initializers.RandomUniform(-0.2, 0.3, seed=1),
    initializers.RandomNormal(0.1, 0.2, seed=2),
    initializers.TruncatedNormal(stddev=0.3, seed=3),
    initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=4),
    initializers.Orthogonal(gain=2.0, seed=5),
    initializers.Constant(0.5),
    initializers.Zeros(),
    initializers.Ones(),
    initializers.Identity(gain=3.0),
    # the fixed-setting VarianceScaling classes (GlorotUniform, HeNormal, ...)
    *(
        cls(seed=6)
        for cls in sorted(_classes(initializers._registry), key=str)
        if issubclass(cls, initializers.VarianceScaling)
        and cls is not initializers.VarianceScaling
    ),
]


def test_every_initializer_regularizer_and_activation_round_trips():
    assert _classes(initializers._registry) == {type(i) for i in INITIALIZERS}
    for init in INITIALIZERS:
        again = _through_json(init)
        assert type(again) is type(init) and again.get_config() == init.get_config()
        np.testing.assert_array_equal(again((3, 3)), init((3, 3)))
    keras_config = {"seed": 3, "input_axes": None, "output_axes": None}
    assert initializers.GlorotUniform.from_config(keras_config).seed == 3
    for reg in (regularizers.L1(0.3), regularizers.L2(), regularizers.L1L2(0.1, 0.2)):
        again = _through_json(reg)
        assert type(again) is type(reg) and again.get_config() == reg.get_config()
    for name in activations._registry.names():
        fn = activations.get(name)
        assert activations.get(activations.serialize(fn)) is fn


# --- user objects ---
@register_keras_serializable(package="saving_tests")
class Scale(Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x, training=False):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@register_keras_serializable(package="saving_tests")
def cube(x):
    return x * x * x


class Unregistered(Scale):
    pass


def test_registered_objects_save_and_load(tmp_path):
    model = Sequential([L.Input((3,)), Scale(3.0), L.Dense(2, activation=cube)])
    model.save(tmp_path / "m.keras")
    again = load_model(tmp_path / "m.keras")
    assert type(again.layers[0]) is Scale and again.layers[0].factor == 3.0
    assert again.layers[1].activation is cube
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(
        again.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    config = serialize_keras_object(Scale())
    assert config["registered_name"] == "saving_tests>Scale"
    assert config["module"] == __name__
    assert get_registered_name(Scale) == "saving_tests>Scale"
    assert get_registered_object("saving_tests>cube") is cube
    assert get_custom_objects()["saving_tests>Scale"] is Scale
    with pytest.raises(ValueError, match="already registered"):
        register_keras_serializable(package="saving_tests", name="Scale")(Unregistered)


def test_unregistered_objects_need_custom_objects(tmp_path):
    model = Sequential([L.Input((3,)), Unregistered(0.5)])
    model.save(tmp_path / "m.keras")
    with pytest.raises(
        FileFormatError, match="Unknown layer 'Unregistered'.*custom_objects"
    ):
        load_model(tmp_path / "m.keras")
    loaded = load_model(
        tmp_path / "m.keras", custom_objects={"Unregistered": Unregistered}
    )
    assert type(loaded.layers[0]) is Unregistered
    with custom_object_scope({"Unregistered": Unregistered}):
        assert type(load_model(tmp_path / "m.keras").layers[0]) is Unregistered


def test_nothing_in_a_config_is_imported_or_run():
    probe = "glassnet_saving_probe_module"
    config = {
        "module": probe,
        "class_name": "Anything",
        "config": {},
        "registered_name": None,
    }
    for safe_mode in (True, False):
        with pytest.raises(ValueError, match="never imported"):
            deserialize_keras_object(config, safe_mode=safe_mode)
        with pytest.raises(ValueError, match="never loads code"):
            lam = {"class_name": "__lambda__", "config": {"value": "AAAA"}}
            deserialize_keras_object(lam, safe_mode=safe_mode)
    assert probe not in sys.modules
    system = {"module": "os", "class_name": "function", "config": "system"}
    with pytest.raises(ValueError, match="never imported"):
        activations.get(system)
    with pytest.raises(ValueError, match="Unknown activation"):
        activations.get(
            {"module": "keras.activations", "class_name": "function", "config": "eval"}
        )


def test_numpy_entries_hold_numbers_only():
    array = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_array_equal(_through_json(array), array)
    bad = {"class_name": "__numpy__", "config": {"value": [1], "dtype": "object"}}
    with pytest.raises(ValueError, match="numbers"):
        deserialize_keras_object(bad)
