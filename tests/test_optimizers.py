from __future__ import annotations

import inspect
import os

import numpy as np
import pytest

from glassnet import Tensor, optimizers

# Keras 3's torch backend trips a NumPy 2 deprecation inside its own code.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation:DeprecationWarning"
)

STEPS = 4


def _problem(dtype, seed=0):
    """Weights and STEPS rounds of gradients for a (4, 3) kernel and a (3,) bias."""
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((4, 3)), rng.standard_normal(3)]
    grads = [[rng.standard_normal(w.shape) for w in weights] for _ in range(STEPS)]
    cast = lambda arrays: [a.astype(dtype) for a in arrays]  # noqa: E731
    return cast(weights), [cast(g) for g in grads]


def _assert_close(actual, desired):
    # NOTE: float32 weights of size ~1 after steps of ~0.1: an absolute tolerance
    # relative to the weights' scale, or entries near 0 fail on rounding alone.
    scale = np.abs(desired).max()
    np.testing.assert_allclose(actual, desired, rtol=1e-5, atol=1e-5 * scale)


def _run_glassnet(optimizer, weights, grads):
    params = [Tensor(w.copy(), requires_grad=True) for w in weights]
    for round_ in grads:
        for p, g in zip(params, round_):
            p.grad = g
        optimizer.step(params)
    return [p.data for p in params]


def test_hand_worked_sgd_step():
    # w = [1.0, -2.0], g = [0.5, 4.0], lr = 0.1, momentum = 0.9
    # step 1: v = 0.9 * 0 - 0.1 * g = [-0.05, -0.4];  w = w + v = [0.95, -2.4]
    # step 2 (same g): v = 0.9 * v - 0.1 * g = [-0.095, -0.76];  w = [0.855, -3.16]
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = optimizers.SGD(learning_rate=0.1, momentum=0.9)
    w.grad = np.array([0.5, 4.0])
    opt.step([w])
    np.testing.assert_allclose(w.data, [0.95, -2.4], rtol=1e-15)
    opt.step([w])
    np.testing.assert_allclose(w.data, [0.855, -3.16], rtol=1e-15)
    assert opt.iterations == 2
    # nesterov, one step from w = 1, g = 0.5: v = -0.05; w += 0.9 v - 0.1 g = -0.095
    w = Tensor(np.array([1.0]), requires_grad=True)
    w.grad = np.array([0.5])
    optimizers.SGD(0.1, momentum=0.9, nesterov=True).step([w])
    np.testing.assert_allclose(w.data, [0.905], rtol=1e-15)


def test_adam_first_step_recomputed_inline():
    w0, g = np.array([0.3, -1.2]), np.array([0.2, -5.0])
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    m, v = (1 - b1) * g, (1 - b2) * g**2
    lr_t = lr * np.sqrt(1 - b2) / (1 - b1)
    w = Tensor(w0.copy(), requires_grad=True)
    w.grad = g
    optimizers.Adam(lr).step([w])
    np.testing.assert_array_equal(w.data, w0 - lr_t * m / (np.sqrt(v) + eps))


SKLEARN_CASES = [
    ("sgd", dict(momentum=0.0, nesterov=False)),
    ("sgd", dict(momentum=0.9, nesterov=False)),
    ("sgd", dict(momentum=0.9, nesterov=True)),
    ("adam", dict(beta_1=0.8, beta_2=0.99, epsilon=1e-8)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind, kwargs", SKLEARN_CASES)
def test_equals_scikit_learn_bit_for_bit(kind, kwargs, dtype):
    so = pytest.importorskip("sklearn.neural_network._stochastic_optimizers")
    weights, grads = _problem(dtype)
    reference = [w.copy() for w in weights]
    if kind == "sgd":
        ours = optimizers.SGD(learning_rate=0.05, **kwargs)
        theirs = so.SGDOptimizer(reference, learning_rate_init=0.05, **kwargs)
    else:
        # scikit-learn's float64 rounding of float32 steps
        ours = optimizers.Adam(learning_rate=0.05, step_dtype="float64", **kwargs)
        theirs = so.AdamOptimizer(reference, learning_rate_init=0.05, **kwargs)
    got = _run_glassnet(ours, weights, grads)
    for round_ in grads:
        theirs.update_params(reference, round_)
    for a, b in zip(got, reference):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a, b)


def test_float32_adam_fast_path_agrees_to_rounding():
    weights, grads = _problem(np.float32)
    exact = optimizers.Adam(0.05, step_dtype="float64")
    want = _run_glassnet(exact, weights, grads)
    for a, b in zip(_run_glassnet(optimizers.Adam(0.05), weights, grads), want):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


PARITY_CASES = [
    ("SGD", dict(learning_rate=0.1), ("SGD", dict(lr=0.1))),
    (
        "SGD",
        dict(learning_rate=0.1, momentum=0.9),
        ("SGD", dict(lr=0.1, momentum=0.9)),
    ),
    (
        "SGD",
        dict(learning_rate=0.1, momentum=0.8, nesterov=True),
        ("SGD", dict(lr=0.1, momentum=0.8, nesterov=True)),
    ),
    ("Adam", dict(learning_rate=0.1), ("Adam", dict(lr=0.1, eps=1e-7))),
    (
        "Adam",
        dict(learning_rate=0.1, amsgrad=True),
        ("Adam", dict(lr=0.1, eps=1e-7, amsgrad=True)),
    ),
    (
        "AdamW",
        dict(learning_rate=0.1, weight_decay=0.05),
        ("AdamW", dict(lr=0.1, eps=1e-7, weight_decay=0.05)),
    ),
    ("RMSprop", dict(learning_rate=0.05), ("RMSprop", dict(lr=0.05, alpha=0.9))),
    (
        "RMSprop",
        dict(learning_rate=0.05, momentum=0.5, centered=True),
        ("RMSprop", dict(lr=0.05, alpha=0.9, momentum=0.5, centered=True)),
    ),
    (
        "Adagrad",
        dict(learning_rate=0.1),
        ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.1, eps=1e-7)),
    ),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(PARITY_CASES)]
# Keras-only settings (PyTorch clips outside its optimizers).
KERAS_ONLY = [
    ("SGD", dict(learning_rate=0.1, momentum=0.5, clipnorm=0.8), None),
    ("Adam", dict(learning_rate=0.1, clipvalue=0.5), None),
    ("RMSprop", dict(learning_rate=0.05, global_clipnorm=1.5), None),
    ("SGD", dict(learning_rate=0.1, weight_decay=0.1), None),
]


@pytest.mark.parametrize(
    "name, kwargs, torch_spec",
    PARITY_CASES + KERAS_ONLY,
    ids=IDS + [f"{c[0]}-{sorted(c[1])[0]}" for c in KERAS_ONLY],
)
def test_equals_keras(name, kwargs, torch_spec):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    weights, grads = _problem(np.float32, seed=1)
    got = _run_glassnet(getattr(optimizers, name)(**kwargs), weights, grads)
    variables = [keras.Variable(w) for w in weights]
    theirs = getattr(keras.optimizers, name)(**kwargs)
    for round_ in grads:
        theirs.apply_gradients(
            zip([keras.ops.convert_to_tensor(g) for g in round_], variables)
        )
    for a, v in zip(got, variables):
        _assert_close(a, keras.ops.convert_to_numpy(v.value))


@pytest.mark.parametrize("name, kwargs, torch_spec", PARITY_CASES, ids=IDS)
def test_equals_pytorch(name, kwargs, torch_spec):
    torch = pytest.importorskip("torch")
    weights, grads = _problem(np.float32, seed=2)
    got = _run_glassnet(getattr(optimizers, name)(**kwargs), weights, grads)
    params = [torch.nn.Parameter(torch.from_numpy(w.copy())) for w in weights]
    theirs = getattr(torch.optim, torch_spec[0])(params, **torch_spec[1])
    for round_ in grads:
        for p, g in zip(params, round_):
            p.grad = torch.from_numpy(g)
        theirs.step()
    for a, p in zip(got, params):
        _assert_close(a, p.detach().numpy())


def test_lr_alias_and_attribute():
    opt = optimizers.SGD(lr=0.001)
    assert opt.learning_rate == 0.001 and opt.lr == 0.001
    opt.lr = 0.5
    assert opt.learning_rate == 0.5
    for cls in [optimizers.Adam, optimizers.AdamW, optimizers.RMSprop]:
        assert cls(lr=0.3).learning_rate == 0.3
    w = Tensor(np.array([1.0]), requires_grad=True)
    opt = optimizers.SGD(learning_rate=1.0)
    for lr in [0.5, 0.25]:  # a schedule may change the rate between steps
        opt.learning_rate = lr
        w.grad = np.array([1.0])
        opt.step([w])
    assert w.data[0] == 0.25
    schedule = optimizers.SGD(learning_rate=lambda step: 0.1 * (step + 1))
    w.grad = np.array([1.0])
    schedule.step([w])
    schedule.step([w])
    assert w.data[0] == pytest.approx(0.25 - 0.1 - 0.2)


@pytest.mark.parametrize(
    "cls",
    [
        optimizers.SGD,
        optimizers.Adam,
        optimizers.AdamW,
        optimizers.RMSprop,
        optimizers.Adagrad,
    ],
)
def test_lr_and_learning_rate_together_are_rejected(cls):
    # Keras 2 silently took ``lr``; here both given is an error naming both, even
    # when they agree or one equals the default.
    for kwargs in [
        dict(lr=0.01, learning_rate=0.1),
        dict(lr=0.01, learning_rate=0.01),
        dict(lr=0.3, learning_rate=cls().learning_rate),
    ]:
        with pytest.raises(ValueError, match=r"lr=0\.\d+, learning_rate=0\.\d+"):
            cls(**kwargs)
    with pytest.raises(ValueError, match="only one of them"):
        cls(0.1, lr=0.2)  # learning_rate given by position
    # The default is a plain float, printed as the number.
    assert type(cls().learning_rate) is float
    assert type(cls(lr=0.2).learning_rate) is float
    default = inspect.signature(cls).parameters["learning_rate"].default
    assert repr(default) in ("0.01", "0.001")


def test_step_skips_missing_grads_and_keeps_grads_intact():
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)
    a.grad = np.full(3, 2.0)
    grad = a.grad
    opt = optimizers.Adam(0.1)
    opt.step([a, b])
    assert (b.data == 1).all() and (a.data < 1).all()
    assert grad is a.grad and (grad == 2.0).all()


def test_apply_gradients_keras_spelling_and_ndarrays():
    w = np.array([1.0, 2.0])
    t = Tensor(np.array([1.0, 2.0]))
    opt = optimizers.SGD(0.5)
    opt.apply_gradients([(np.array([1.0, 1.0]), w), (np.array([2.0, 0.0]), t)])
    np.testing.assert_array_equal(w, [0.5, 1.5])
    np.testing.assert_array_equal(t.data, [0.0, 2.0])


def test_updates_are_in_place():
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    data = w.data
    for opt in [optimizers.SGD(0.1, momentum=0.9), optimizers.RMSprop()]:
        w.grad = np.ones((2, 2))
        opt.step([w])
        assert w.data is data


def test_clipping():
    g = np.array([3.0, 4.0])  # norm 5
    w = np.zeros(2)
    optimizers.SGD(1.0, clipnorm=1.0).apply([g], [w])
    np.testing.assert_allclose(w, [-0.6, -0.8])
    w = np.zeros(2)
    optimizers.SGD(1.0, clipvalue=3.5).apply([g], [w])
    np.testing.assert_allclose(w, [-3.0, -3.5])
    w1, w2 = np.zeros(2), np.zeros(1)
    optimizers.SGD(1.0, global_clipnorm=6.5).apply([g, np.array([12.0])], [w1, w2])
    np.testing.assert_allclose(np.r_[w1, w2], -np.array([3.0, 4.0, 12.0]) * 0.5)
    w = np.zeros(2)
    optimizers.SGD(1.0, clipnorm=10.0).apply([g], [w])
    np.testing.assert_allclose(w, -g)


def test_get_and_config():
    for name, cls in [
        ("sgd", optimizers.SGD),
        ("SGD", optimizers.SGD),
        ("adam", optimizers.Adam),
        ("adamw", optimizers.AdamW),
        ("rmsprop", optimizers.RMSprop),
        ("adagrad", optimizers.Adagrad),
    ]:
        assert type(optimizers.get(name)) is cls
    opt = optimizers.Adam(0.02, beta_1=0.5, clipnorm=1.0)
    assert optimizers.get(opt) is opt
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert again.get_config() == opt.get_config()
    assert again.learning_rate == 0.02 and again.beta_1 == 0.5
    assert optimizers.AdamW().weight_decay == 0.004


def test_bad_arguments_have_clear_errors():
    with pytest.raises(ValueError, match="Valid names are: .*adam"):
        optimizers.get("adamm")
    with pytest.raises(ValueError, match="learning_rate=-1"):
        optimizers.SGD(learning_rate=-1)
    with pytest.raises(ValueError, match="momentum=1.5"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(TypeError, match="unexpected argument.*decay"):
        optimizers.Adam(decay=0.1)
    with pytest.raises(ValueError, match="does not match"):
        optimizers.SGD().apply([np.ones(3)], [np.zeros(2)])
    with pytest.raises(ValueError, match="optimizer=None"):
        optimizers.get(None)


def test_adam_flat_updates_survive_new_arrays_and_pickling():
    # Adam steps its variables as one flat vector whose state the per-variable
    # state views; replacing a weight's array (as set_weights may) and pickling
    # mid-training must not lose or split the moments.
    torch = pytest.importorskip("torch")
    import pickle

    weights, grads = _problem(np.float32, seed=3)
    grads = grads + grads
    params = [Tensor(w.copy(), requires_grad=True) for w in weights]
    ours = optimizers.Adam(0.1)
    theirs_params = [torch.nn.Parameter(torch.from_numpy(w.copy())) for w in weights]
    theirs = torch.optim.Adam(theirs_params, lr=0.1, eps=1e-7)
    for step, round_ in enumerate(grads):
        if step == 2:
            params[0].data = params[0].data.copy()
        if step == 4:
            params, ours = pickle.loads(pickle.dumps((params, ours)))
        for p, g in zip(params, round_):
            p.grad = g
        ours.step(params)
        for p, g in zip(theirs_params, round_):
            p.grad = torch.from_numpy(g)
        theirs.step()
        for p, q in zip(params, theirs_params):
            _assert_close(p.data, q.detach().numpy())
    assert [v.shape for v in ours.variables] == [(4, 3), (4, 3), (3,), (3,)]


@pytest.mark.parametrize(
    "make",
    [
        lambda: optimizers.SGD(0.1, momentum=0.5),
        lambda: optimizers.Adam(0.1),
        lambda: optimizers.RMSprop(0.1),
        lambda: optimizers.Adagrad(0.1),
    ],
    ids=["sgd", "adam", "rmsprop", "adagrad"],
)
def test_a_pickle_carries_the_state_not_the_scratch_buffers(make):
    import pickle

    weights, grads = _problem(np.float64)
    straight = [Tensor(w.copy(), requires_grad=True) for w in weights]
    resumed = [Tensor(w.copy(), requires_grad=True) for w in weights]
    opt, other = make(), make()
    _run_glassnet_on(opt, straight, grads[:3])
    _run_glassnet_on(other, resumed, grads[:3])
    resumed, other = pickle.loads(pickle.dumps((resumed, other)))
    assert other._buffers == {}
    _run_glassnet_on(opt, straight, grads[3:])
    _run_glassnet_on(other, resumed, grads[3:])
    for a, b in zip(straight, resumed):
        assert np.array_equal(a.data, b.data)


@pytest.mark.parametrize("cls", [optimizers.SGD, optimizers.Adam, optimizers.RMSprop])
def test_build_creates_the_state_once(cls, monkeypatch):
    weights, grads = _problem(np.float64)
    params = [Tensor(w.copy(), requires_grad=True) for w in weights]
    opt = cls(0.1, momentum=0.5) if cls is not optimizers.Adam else cls(0.1)
    builds = []
    build = cls.build
    monkeypatch.setattr(
        cls, "build", lambda self, v: builds.append(1) or build(self, v)
    )
    assert not opt.built
    _run_glassnet_on(opt, params, grads)
    assert opt.built and len(builds) == 1  # apply built it on the first update
    state = opt.variables
    per_variable = 2 if cls is not optimizers.SGD else 1
    assert [s.shape for s in state] == [(4, 3)] * per_variable + [(3,)] * per_variable
    _run_glassnet_on(opt, params, grads)
    assert len(builds) == 1
    assert all(a is b for a, b in zip(opt.variables, state))  # the same arrays
    opt.reset()
    assert not opt.built and opt.variables == [] and opt.iterations == 0


def _run_glassnet_on(optimizer, params, grads):
    for round_ in grads:
        for p, g in zip(params, round_):
            p.grad = g
        optimizer.step(params)


def test_build_by_the_user_before_the_first_update():
    # Keras's spelling: build(variables), then apply_gradients; the state made by
    # build is the state the updates use.
    weights, grads = _problem(np.float32)
    variables = [w.copy() for w in weights]
    opt = optimizers.Adam(0.1)
    opt.build(variables)
    assert opt.built and opt.iterations == 0
    assert [v.shape for v in opt.variables] == [(4, 3), (4, 3), (3,), (3,)]
    assert all((v == 0).all() for v in opt.variables)
    m_kernel = opt.variables[0]
    opt.apply_gradients(zip(grads[0], variables))
    np.testing.assert_array_equal(m_kernel, (1 - 0.9) * grads[0][0])
    opt.build(variables)  # a second build keeps the state
    assert opt.variables[0] is m_kernel


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("Adam", {}),
        ("Adam", dict(step_dtype="float64")),
        ("Adam", dict(amsgrad=True)),
        ("AdamW", dict(weight_decay=0.05)),
    ],
)
def test_flat_stepping_equals_stepping_each_variable(name, kwargs, dtype):
    # Several variables of one dtype step as one flat vector; one variable steps
    # alone. Elementwise arithmetic does not care: the same bits.
    weights, grads = _problem(dtype, seed=4)
    together = _run_glassnet(getattr(optimizers, name)(0.05, **kwargs), weights, grads)
    for k, weight in enumerate(weights):
        alone = _run_glassnet(
            getattr(optimizers, name)(0.05, **kwargs),
            [weight],
            [[round_[k]] for round_ in grads],
        )
        np.testing.assert_array_equal(together[k], alone[0])


def test_mixed_dtypes_and_gradients_of_another_dtype_step_exactly():
    # No flat group fits: the variables step one by one, each in its own dtype.
    weights, grads = _problem(np.float64, seed=5)
    mixed = [weights[0].astype(np.float32), weights[1]]
    mixed_grads = [[r[0].astype(np.float32), r[1]] for r in grads]
    got = _run_glassnet(optimizers.Adam(0.05), mixed, mixed_grads)
    assert [a.dtype for a in got] == [np.float32, np.float64]
    for k in range(2):
        alone = _run_glassnet(
            optimizers.Adam(0.05), [mixed[k]], [[r[k]] for r in mixed_grads]
        )
        np.testing.assert_array_equal(got[k], alone[0])
    # float32 weights with float64 gradients
    narrow = [w.astype(np.float32) for w in weights]
    got = _run_glassnet(optimizers.Adam(0.05), narrow, grads)
    for k in range(2):
        alone = _run_glassnet(
            optimizers.Adam(0.05), [narrow[k]], [[r[k]] for r in grads]
        )
        assert got[k].dtype == np.float32
        np.testing.assert_array_equal(got[k], alone[0])


def test_a_new_variable_set_midway_keeps_each_variables_state():
    # The flat group is made again for another set of variables; the moments
    # stay with their variables.
    weights, grads = _problem(np.float64, seed=6)
    extra = np.ones(5)
    params = [Tensor(w.copy(), requires_grad=True) for w in weights]
    third = Tensor(extra.copy(), requires_grad=True)
    opt = optimizers.Adam(0.05)
    reference = [optimizers.Adam(0.05) for _ in range(3)]
    ref_params = [Tensor(w.copy(), requires_grad=True) for w in [*weights, extra]]
    for step, round_ in enumerate(grads):
        these = params + [third] if step % 2 else params[:1] + [third]
        gs = [*round_, np.full(5, 0.5)] if step % 2 else [round_[0], np.full(5, 0.5)]
        for p, g in zip(these, gs):
            p.grad = g
        opt.step(these)
        indices = [0, 1, 2] if step % 2 else [0, 2]
        for i, g in zip(indices, gs):
            ref_params[i].grad = g
            reference[i].iterations = opt.iterations - 1
            reference[i].step([ref_params[i]])
    for p, q in zip([*params, third], ref_params):
        np.testing.assert_array_equal(p.data, q.data)


def test_step_dtype_keyword_and_config():
    assert optimizers.Adam().step_dtype is None
    assert optimizers.Adam(step_dtype=np.float64).step_dtype == "float64"
    opt = optimizers.AdamW(0.01, step_dtype="float64")
    config = opt.get_config()
    assert config["step_dtype"] == "float64"
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is optimizers.AdamW and again.step_dtype == "float64"
    assert again.get_config() == config
    with pytest.raises(ValueError, match="Received: step_dtype='float32'"):
        optimizers.Adam(step_dtype="float32")
    with pytest.raises(ValueError, match="step_dtype='bogus'"):
        optimizers.Adam(step_dtype="bogus")
    # float64 weights step in scikit-learn's order whatever step_dtype says
    weights, grads = _problem(np.float64)
    a = _run_glassnet(optimizers.Adam(0.05), weights, grads)
    b = _run_glassnet(optimizers.Adam(0.05, step_dtype="float64"), weights, grads)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_one_optimizer_updating_from_several_threads_makes_one_update_at_a_time():
    # Two models sharing an optimizer, trained in two threads: SGD's scratch
    # buffers are shared by variables of one shape, so each update must run
    # whole before the next one starts.
    import threading

    rng = np.random.default_rng(0)
    shape = (400, 250)  # big enough that NumPy lets the other thread run
    grads = [rng.standard_normal(shape) for _ in range(2)]

    start = threading.Barrier(2, timeout=10)

    def train(opt, weight, grad, together=False):
        if together:
            start.wait()
        for _ in range(200):
            opt.apply([grad], [weight])

    alone = [np.zeros(shape) for _ in grads]
    for weight, grad in zip(alone, grads):
        train(optimizers.SGD(0.01), weight, grad)

    shared = optimizers.SGD(0.01)
    weights = [np.zeros(shape) for _ in grads]
    threads = [
        threading.Thread(target=train, args=(shared, w, g, True))
        for w, g in zip(weights, grads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert shared.iterations == 400
    for ours, theirs in zip(weights, alone):
        np.testing.assert_array_equal(ours, theirs)


def test_apply_takes_keras_s_none_gradients_and_built_variables():
    # Keras 3's apply: a None gradient leaves its variable alone (a warning
    # names it), all None is an error, an empty list is no update at all.
    a, b = np.array([1.0, 1.0]), np.array([2.0, 2.0])
    opt = optimizers.SGD(0.5)
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply([np.array([1.0, 2.0]), None], [a, b])
    np.testing.assert_array_equal(a, [0.5, 0.0])  # 1 - 0.5 * [1, 2]
    np.testing.assert_array_equal(b, [2.0, 2.0])
    assert opt.iterations == 1
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.apply([None, None], [a, b])
    opt.apply([], [])
    assert opt.iterations == 1
    # without variables: the ones it was built with (a, then b), in that order
    opt.apply([np.zeros(2), np.ones(2)])
    np.testing.assert_array_equal(b, [1.5, 1.5])
    assert opt.apply_gradients([(np.ones(2), a), (None, b)]) == 3  # iterations
    with pytest.raises(ValueError, match="must already be built"):
        optimizers.SGD().apply([np.ones(2)])
