"""Subclassed layers as in Keras 3: the same class bodies run on glassnet and on
Keras (torch backend), with the same weights copied in, and give the same
outputs, weight lists, names, trainable flags, losses and ``training`` values.
The glassnet-only tests below them check what Keras has no twin for."""

from __future__ import annotations

import copy
import os
import pickle
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from glassnet import layers as gl
from glassnet import ops as gops
from glassnet.autograd import Tensor
from glassnet.models import Model, Sequential

os.environ.setdefault("KERAS_BACKEND", "torch")

OURS = SimpleNamespace(layers=gl, ops=gops)


def _fresh_names(keras):
    """Automatic names start again in both libraries (``dense``, ...)."""
    gl.clear_session()
    keras.backend.clear_session()


def _theirs(keras):
    return SimpleNamespace(layers=keras.layers, ops=keras.ops)


def _np(value):
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, dict):
        return {k: _np(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_np(v) for v in value)
    import keras

    return keras.ops.convert_to_numpy(value)


def _x(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


# --- the same classes for both libraries ----------------------------------------------
def block_class(K):
    """Own weights (one not trainable), a BatchNormalization and layers in a
    list and a dict: Keras 3's tracking and weight order."""

    class Block(K.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d1 = K.layers.Dense(3)
            self.bn = K.layers.BatchNormalization()
            self.stack = [K.layers.Dense(2, activation="tanh"), K.layers.Dense(2)]
            self.heads = {"z": K.layers.Dense(1), "a": K.layers.Dense(1)}

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(1,), initializer="ones", name="scale")
            self.shift = self.add_weight(shape=(1,), trainable=False, name="shift")

        def call(self, inputs):
            y = self.bn(self.d1(inputs))
            y = self.stack[1](self.stack[0](y))
            return (self.heads["z"](y) + self.heads["a"](y)) * self.scale + self.shift

    return Block


def probe_classes(K, log):
    """Layers that record the ``training`` value their ``call`` receives."""

    class Probe(K.layers.Layer):
        def __init__(self, tag, **kwargs):
            super().__init__(**kwargs)
            self.tag = tag

        def call(self, x, training=None):
            log.append((self.tag, training))
            return x

    class DefaultFalse(K.layers.Layer):
        def call(self, x, training=False):
            log.append(("default_false", training))
            return x

    class KeywordsOnly(K.layers.Layer):
        def call(self, x, **kwargs):
            log.append(("kwargs", sorted(kwargs)))
            return x

    class NoTraining(K.layers.Layer):
        def call(self, x):
            log.append(("no_training",))
            return x

    class Outer(K.layers.Layer):
        def __init__(self, first, **kwargs):
            super().__init__(**kwargs)
            self.first = first
            self.p1, self.p2 = Probe("p1"), Probe("p2")
            self.f, self.k, self.n = DefaultFalse(), KeywordsOnly(), NoTraining()

        def call(self, x, training=None):
            log.append(("outer", training))
            x = self.p1(x) if self.first == "inherit" else self.p1(x, **self.first)
            x = self.n(self.k(self.f(self.p2(x))), training=True)
            return x

    return Outer


def loss_classes(K):
    """add_loss inside call, activity and weight regularizers, nested."""

    class AddsLoss(K.layers.Layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate

        def call(self, x):
            self.add_loss(self.rate * K.ops.sum(x))
            return x

    class Regularized(K.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.first = AddsLoss(1.0)
            self.dense = K.layers.Dense(
                2, kernel_regularizer="l2", activity_regularizer="l1"
            )
            self.last = AddsLoss(10.0)

        def build(self, input_shape):
            self.w = self.add_weight(
                shape=(2,), initializer="ones", regularizer="l1", name="w"
            )

        def call(self, x):
            self.add_loss(K.ops.sum(self.w) * 100.0)
            return self.last(self.dense(self.first(x)))

    return AddsLoss, Regularized


def pair_class(K, seen):
    """Takes a list of two tensors, returns a dict; build records its shapes."""

    class Pair(K.layers.Layer):
        def build(self, input_shape):
            seen.append(input_shape)
            a, b = input_shape
            self.w = self.add_weight(shape=(a[-1], b[-1]), name="w")

        def call(self, inputs):
            x, y = inputs
            return {"mixed": x @ self.w + y, "first": x}

    return Pair


# --- Keras parity ---------------------------------------------------------------------
def test_tracked_weights_names_order_flags_and_outputs_equal_keras(keras):
    _fresh_names(keras)
    ours, theirs = (
        block_class(OURS)(name="block"),
        block_class(_theirs(keras))(name="block"),
    )
    x = _x(4, 5)
    ours(x), theirs(x)
    assert [w.name for w in ours.weights] == [w.path for w in theirs.weights]
    assert [w.name for w in ours.trainable_weights] == [
        w.path for w in theirs.trainable_weights
    ]
    assert [w.name for w in ours.non_trainable_weights] == [
        w.path for w in theirs.non_trainable_weights
    ]
    assert [w.requires_grad for w in ours.weights] == [
        w.trainable for w in theirs.weights
    ]
    assert [layer.name for layer in ours._sublayers()] == [
        layer.name for layer in theirs._layers
    ]
    assert ours.count_params() == theirs.count_params() == 52
    values = [
        np.random.default_rng(i).uniform(0.5, 1.5, w.shape).astype("float32")
        for i, w in enumerate(ours.get_weights())
    ]
    ours.set_weights(values)
    theirs.set_weights(values)
    np.testing.assert_allclose(_np(ours(x)), _np(theirs(x)), rtol=1e-5, atol=1e-6)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)
    # freezing the block freezes every sublayer and weight; unfreezing leaves
    # the weights made non-trainable (shift, the moving statistics) frozen
    for layer in (ours, theirs):
        layer.trainable = False
    assert ours.trainable_weights == [] and not ours.stack[0].trainable
    assert [w.requires_grad for w in ours.weights] == [
        w.trainable for w in theirs.weights
    ]
    for layer in (ours, theirs):
        layer.trainable = True
    assert [w.requires_grad for w in ours.weights] == [
        w.trainable for w in theirs.weights
    ]
    assert len(ours.trainable_weights) == len(theirs.trainable_weights) == 13


@pytest.mark.parametrize(
    "first",
    ["inherit", {"training": False}, {"training": None}, {"training": True}],
    ids=["inherit", "explicit_false", "explicit_none", "explicit_true"],
)
@pytest.mark.parametrize("outer", [None, True, False])
def test_training_reaches_nested_calls_as_in_keras(keras, first, outer):
    logs = []
    for K in (OURS, _theirs(keras)):
        log = []
        layer = probe_classes(K, log)(first)
        x = _x(2, 3)
        layer(x)  # Keras traces a first call to build the sublayers
        log.clear()
        layer(x) if outer is None else layer(x, training=outer)
        logs.append(log)
    assert logs[0] == logs[1]


def _plain_classes(K, log):
    class NoTraining(K.layers.Layer):
        def call(self, x):
            log.append("called")
            return x * 2.0

    class WithMask(K.layers.Layer):
        def call(self, x, mask=None):
            log.append(mask)
            return x

    return NoTraining, WithMask


def test_call_without_training_and_a_call_declaring_mask(keras):
    for K in (OURS, _theirs(keras)):
        log = []
        NoTraining, WithMask = _plain_classes(K, log)
        layer = NoTraining()
        np.testing.assert_array_equal(_np(layer(_x(2, 3), training=True)), _x(2, 3) * 2)
        with pytest.raises(TypeError, match="unexpected keyword argument 'mask'"):
            layer(_x(2, 3), mask=None)
        WithMask()(_x(2, 3))
        assert log == ["called", None]


def test_losses_equal_keras(keras):
    AddsLoss, Regularized = loss_classes(OURS)
    KAddsLoss, KRegularized = loss_classes(_theirs(keras))
    ours, theirs = Regularized(), KRegularized()
    x = _x(2, 3)
    assert ours.losses == [] and list(theirs.losses) == []
    ours(x), theirs(x)
    theirs.set_weights(ours.get_weights())
    for _ in range(2):  # the latest call's losses only, not one more per call
        ours(x), theirs(x)
        got = [float(_np(v)) for v in ours.losses]
        want = [float(_np(v)) for v in theirs.losses]
        assert len(got) == 6
        # float32 sums in another order: a small loss made of cancelling
        # terms differs in its last bits, absolutely
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-6)
    ours.first(x), theirs.first(x)  # an inner layer alone: its own losses only
    np.testing.assert_allclose(
        [float(_np(v)) for v in ours.first.losses],
        [float(_np(v)) for v in theirs.first.losses],
        rtol=1e-6,
    )
    for layer in (ours, theirs):
        layer.trainable = False  # no regularization of frozen weights
    np.testing.assert_allclose(
        [float(_np(v)) for v in ours.losses],
        [float(_np(v)) for v in theirs.losses],
        rtol=1e-5,
        atol=2e-6,
    )
    assert len(ours.losses) == 4


def test_nested_inputs_and_outputs_equal_keras(keras):
    x = np.random.default_rng(0).standard_normal((2, 3))  # float64: cast
    y = _x(2, 4)
    results = []
    for K in (OURS, _theirs(keras)):
        seen = []
        layer = pair_class(K, seen)(name="pair")
        out = layer([x, y])
        assert isinstance(out, dict) and sorted(out) == ["first", "mixed"]
        assert str(_np(out["first"]).dtype) == "float32"
        results.append((layer, seen, out))
    (ours, seen, out), (theirs, k_seen, k_out) = results
    assert seen == k_seen == [[(2, 3), (2, 4)]]
    theirs.set_weights(ours.get_weights())
    for a, b in zip(_np(ours([x, y])).values(), _np(theirs([x, y])).values()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # a tuple and a dict of inputs come in as they were given
    got = ours((Tensor(x.astype("float32")), y))
    np.testing.assert_allclose(_np(got["first"]), x.astype("float32"))
    assert ours.get_build_config() == {"input_shape": [[None, 3], [None, 4]]}


def test_add_weight_arguments_equal_keras(keras):
    _fresh_names(keras)
    made = {}
    for key, K in (("ours", OURS), ("theirs", _theirs(keras))):

        class Weights(K.layers.Layer):
            def build(self, input_shape):
                self.a = self.add_weight(shape=(40, 30))  # glorot_uniform
                self.b = self.add_weight((3,), "ones", "float64")
                self.c = self.add_weight(shape=(2,), trainable=False, name="c")
                self.d = self.add_weight(shape=(2,), dtype="int32", trainable=False)
                self.e = self.add_weight()  # a scalar

            def call(self, x):
                return x

        layer = Weights(name="weights")
        layer(_x(1, 2))
        made[key] = layer
        with pytest.raises(ValueError, match="`name` must be passed as a keyword"):
            layer.add_weight("kernel", (2, 2))
    ours, theirs = made["ours"], made["theirs"]
    assert [w.name for w in ours.weights] == [w.path for w in theirs.weights]
    assert [w.dtype.name for w in ours.weights] == [w.dtype for w in theirs.weights]
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert [w.requires_grad for w in ours.weights] == [
        w.trainable for w in theirs.weights
    ]
    limit = np.sqrt(6 / (40 + 30))
    assert np.abs(ours.a.data).max() <= limit and ours.a.data.std() > limit / 3
    np.testing.assert_array_equal(ours.b.data, np.ones(3))
    np.testing.assert_array_equal(ours.d.data, np.zeros(2, "int32"))


def test_a_subclassed_layer_in_a_functional_model_equals_keras(keras):
    ours_in = gl.Input((5,))
    ours = Model(ours_in, block_class(OURS)(name="block")(ours_in))
    k_in = keras.Input((5,))
    theirs = keras.Model(k_in, block_class(_theirs(keras))(name="block")(k_in))
    assert ours.output_shape == theirs.output_shape == (None, 1)
    assert ours.count_params() == theirs.count_params()
    theirs.set_weights(ours.get_weights())
    x = _x(6, 5)
    # atol: the weights are random, so an output may land near zero
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )


# --- glassnet only --------------------------------------------------------------------
def test_layers_appended_to_a_list_later_and_shared_layers_are_tracked_once():
    class Stack(gl.Layer):
        def __init__(self):
            super().__init__()
            self.blocks = []
            for units in (3, 2):
                self.blocks.append(gl.Dense(units))
            self.pair = (self.blocks[0], gl.Dense(2))  # one layer twice
            self.me = self  # a layer that holds itself is not its own sublayer

        def call(self, x):
            for layer in self.blocks:
                x = layer(x)
            return x

    layer = Stack()
    layer(_x(2, 4))
    assert len(layer._sublayers()) == 3 and layer.count_params() == 15 + 8
    assert layer.pair[1].weights == []  # never called: unbuilt, no weights
    assert len(layer.weights) == 4


def test_add_weight_before_the_base_init_says_what_is_missing():
    class Early(gl.Layer):
        def __init__(self):
            self.w = self.add_weight(shape=(2,))
            super().__init__()

    with pytest.raises(RuntimeError, match="forgot to call `super"):
        Early()


def test_weights_set_as_attributes_are_tracked():
    class Affine(gl.Layer):
        def __init__(self):
            super().__init__()
            self.w = Tensor(np.ones((2, 2), "float32"), requires_grad=True)
            self.extra = [Tensor(np.zeros(2, "float32"), requires_grad=True)]
            self.constant = Tensor(np.ones(2, "float32"))  # no grad: a constant

        def call(self, x):
            return x @ self.w + self.extra[0] + self.constant

    layer = Affine()
    out = layer(np.ones((1, 2)))
    assert [w for w in layer.weights] == [layer.w, layer.extra[0]]
    assert layer.count_params() == 6
    out.sum().backward()
    assert layer.w.grad is not None
    layer.trainable = False
    assert not layer.w.requires_grad and layer.trainable_weights == []


class Composite(gl.Layer):
    """Sublayers and no build of its own (module level: it pickles)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = gl.Dense(4, activation="relu")
        self.norm = gl.BatchNormalization()
        self.out = gl.Dense(2)

    def call(self, x, training=False):
        return self.out(self.norm(self.hidden(x), training=training))


def test_build_by_hand_builds_the_sublayers_and_names_their_weights():
    # Keras only warns here; glassnet runs call once on zeros, as Keras does
    # when such a layer is called on symbolic inputs
    layer = Composite(name="composite")
    layer.build((None, 5))
    assert layer.built and layer.count_params() == 5 * 4 + 4 + 4 * 4 + 4 * 2 + 2
    assert layer.weights[0].name.startswith("composite/dense")  # dense, dense_1..
    assert layer.losses == []
    weights = layer.weights
    layer(_x(2, 5))
    assert all(a is b for a, b in zip(layer.weights, weights))


def test_a_layer_whose_build_leaves_sublayers_unbuilt_is_built_by_a_model():
    class OwnShape(Composite):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

        def compute_output_shape(self, input_shape):
            return (*input_shape[:-1], 2)

    model = Sequential([gl.Input((5,)), OwnShape()])
    assert model.count_params() == 1 + 5 * 4 + 4 + 4 * 4 + 4 * 2 + 2
    assert len(model.trainable_weights) == 7


def test_losses_are_kept_per_thread():
    AddsLoss, _ = loss_classes(OURS)
    layer = AddsLoss(1.0)
    layer(np.ones((1, 2)))
    seen = []
    thread = threading.Thread(
        target=lambda: seen.append((list(layer.losses), layer(np.ones((1, 3))).shape))
    )
    thread.start()
    thread.join()
    assert seen[0][0] == [] and float(layer.losses[0].data) == 2.0


@pytest.mark.parametrize("clone", ["pickle", "deepcopy"])
def test_copies_keep_their_tracking(clone):
    layer = Composite()
    x = _x(2, 5)
    out = layer(x).data
    again = (
        pickle.loads(pickle.dumps(layer)) if clone == "pickle" else copy.deepcopy(layer)
    )
    assert len(again.weights) == len(layer.weights) == 8
    np.testing.assert_allclose(again(x).data, out, rtol=1e-6)
    again.trainable = False
    assert layer.trainable_weights and not again.trainable_weights


def test_a_symbolic_call_on_several_inputs_gives_its_structure_of_outputs():
    seen = []
    layer = pair_class(OURS, seen)()
    a, b = gl.Input((3,)), gl.Input((4,))
    out = layer([a, b])
    assert seen == [[(None, 3), (None, 4)]]
    assert sorted(out) == ["first", "mixed"]
    assert out["mixed"].shape == (None, 4) and out["first"].shape == (None, 3)
    model = Model([a, b], out)
    x, y = _x(2, 3), _x(2, 4)
    got = model([x, y])
    np.testing.assert_allclose(got["mixed"].data, x @ layer.w.data + y, rtol=1e-6)
    np.testing.assert_array_equal(got["first"].data, x)


def test_a_layer_in_a_sequential_names_its_weights_after_it():
    model = Sequential([gl.Input((3,)), gl.Dense(2, name="hidden")], name="seq")
    assert [w.name for w in model.weights] == ["seq/hidden/kernel", "seq/hidden/bias"]
