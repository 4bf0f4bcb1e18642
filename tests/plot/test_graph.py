"""draw_graph (the graph behind a tensor) and plot_model (a model's layers)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import FancyArrowPatch

from glassnet import Tensor
from glassnet.layers import Activation, Add, Concatenate, Conv2D, Dense, Input
from glassnet.models import Model, Sequential
from glassnet.plot import draw_graph, plot_model
from glassnet.plot._graph import Box, _border, layered_layout


def _boxes(ax, kind=None):
    """The box texts (they carry their kind as gid), in drawing order."""
    found = [t for t in ax.texts if t.get_gid() is not None]
    return [t for t in found if kind is None or t.get_gid() == kind]


def _arrows(ax):
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]


def _seed_graph(retain_grads=True):
    x, y, z = (
        Tensor(v, requires_grad=True, name=n)
        for v, n in [(-2.0, "x"), (5.0, "y"), (-4.0, "z")]
    )
    q = x + y
    q.name = "q"
    f = q * z
    f.name = "f"
    f.backward(retain_grads=retain_grads)
    return f


def test_the_seeds_graph_each_node_with_its_op_value_and_gradient():
    ax = draw_graph(_seed_graph())
    texts = [t.get_text() for t in _boxes(ax)]
    # f = (x + y) z at (-2, 5, -4): q = 3, f = -12; df/dx = df/dy = z = -4,
    # df/dz = q = 3, df/dq = z = -4, df/df = 1.
    assert texts == [
        "f = Mul\nvalue -12\ngrad  1",
        "q = Add\nvalue 3\ngrad  -4",
        "z\nvalue -4\ngrad  3",
        "x\nvalue -2\ngrad  -4",
        "y\nvalue 5\ngrad  -4",
    ]
    assert len(_boxes(ax, "op")) == 2 and len(_boxes(ax, "leaf")) == 3
    assert len(_arrows(ax)) == 4  # x, y -> q; q, z -> f
    assert not ax.axison


def test_the_layout_reads_left_to_right_and_arrows_point_forward():
    ax = draw_graph(_seed_graph())
    where = {t.get_text().split("\n")[0]: t.get_position() for t in _boxes(ax)}
    assert where["x"][0] == where["y"][0] < where["q = Add"][0] < where["f = Mul"][0]
    assert where["z"][0] == where["q = Add"][0]  # a leaf sits next to its user
    assert where["x"][1] > where["y"][1]  # in the order Add read them
    top_down = draw_graph(_seed_graph(), direction="TB")
    where = {t.get_text().split("\n")[0]: t.get_position() for t in _boxes(top_down)}
    assert where["x"][1] > where["q = Add"][1] > where["f = Mul"][1]


def test_without_retained_gradients_inner_nodes_show_a_dash_and_constants_a_box():
    x = Tensor(np.array(3.0), requires_grad=True, name="x")
    out = x * 2.0 + x
    out.backward()
    ax = draw_graph(out, digits=3)
    (constant,) = _boxes(ax, "constant")
    assert constant.get_text() == "constant\n2"
    texts = [t.get_text() for t in _boxes(ax, "op")]
    assert texts == ["Add\nvalue 9\ngrad  —", "Mul\nvalue 6\ngrad  —"]
    (leaf,) = _boxes(ax, "leaf")
    assert leaf.get_text() == "x\nvalue 3\ngrad  3"  # used twice: 2 + 1
    assert len(_arrows(ax)) == 4


def test_arrays_show_their_shape_and_deep_graphs_draw():
    w = Tensor(np.ones((3, 2)), requires_grad=True, name="w")
    x = Tensor(np.ones((4, 3)), name="batch")
    loss = (x @ w).sum()
    loss.backward()
    texts = [t.get_text() for t in _boxes(draw_graph(loss))]
    assert "w\nvalue array(3, 2)\ngrad  array(3, 2)" in texts
    assert "batch\nvalue array(4, 3)\ngrad  —" in texts
    plt.close("all")
    t = Tensor(0.0, requires_grad=True)
    for _ in range(400):  # deeper than a recursive layout could go comfortably
        t = t + 1.0
    assert len(_boxes(draw_graph(t, max_nodes=1000))) == 801
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(t)


def test_arrows_leave_and_enter_at_the_box_borders():
    # A box 2 wide and 1 high at the origin, 0.04 of margin around it.
    assert _border((0, 0), (10, 0), (2, 1)) == pytest.approx((1.04, 0))
    assert _border((0, 0), (0, -10), (2, 1)) == pytest.approx((0, -0.54))
    assert _border((0, 0), (4, 4), (2, 1)) == pytest.approx((0.54, 0.54))


def test_layered_layout_of_a_diamond_and_a_cycle():
    boxes = {
        "a": Box("a"),
        "b": Box("b", ["a"]),
        "c": Box("c", ["a"]),
        "d": Box("d", ["b", "c"]),
    }
    assert layered_layout(boxes) == {"a": (0, 0), "b": (1, 0), "c": (1, 1), "d": (2, 0)}
    with pytest.raises(ValueError, match="cycle"):
        layered_layout({"a": Box("a", ["b"]), "b": Box("b", ["a"])})


def _seed_model():
    """The lecture's 4-parameter network (its layer names from the lecture)."""
    layers = [
        Dense(1, input_dim=1, name="dense_5"),
        Activation("tanh", name="activation_3"),
    ]
    return Sequential([*layers, Dense(1, name="dense_6")])


def test_plot_model_one_box_per_layer_in_a_vertical_chain():
    ax = plot_model(_seed_model())
    texts = [t.get_text() for t in _boxes(ax)]
    assert texts == [
        "input\n(None, 1)",
        "dense_5 (Dense)\n(None, 1)\n2 params",
        "activation_3 (Activation)\n(None, 1)\n0 params",
        "dense_6 (Dense)\n(None, 1)\n2 params",
    ]
    heights = [t.get_position()[1] for t in _boxes(ax)]
    assert heights == sorted(heights, reverse=True)  # top to bottom
    assert len(_arrows(ax)) == 3
    assert ax.get_title() == f"{ax.get_title().split(':')[0]}: 4 parameters"


def test_plot_model_functional_and_unbuilt():
    inputs = Input((32, 32, 1))
    model = Model(inputs, Conv2D(4, (3, 3), name="conv")(inputs))
    texts = [t.get_text() for t in _boxes(plot_model(model, direction="LR"))]
    assert texts[0].endswith("(InputLayer)\n(None, 32, 32, 1)\n0 params")
    assert texts[1] == "conv (Conv2D)\n(None, 30, 30, 4)\n40 params"
    with pytest.raises(ValueError, match="built"):
        plot_model(Sequential([Dense(2)]))


def test_plot_model_takes_keras_s_arguments(tmp_path):
    model = _seed_model()
    ax = plot_model(
        model,
        str(tmp_path / "model.png"),
        show_shapes=False,
        show_dtype=True,
        show_layer_activations=True,
        show_trainable=True,
        rankdir="LR",
        dpi=50,
    )
    assert (tmp_path / "model.png").read_bytes()[:4] == b"\x89PNG"
    texts = [t.get_text() for t in _boxes(ax)]
    assert texts[1] == (
        "dense_5 (Dense)\ndtype: float32\nactivation: linear\ntrainable: True\n2 params"
    )
    assert texts[2].startswith("activation_3 (Activation)\ndtype: float32\n")
    widths = [t.get_position()[0] for t in _boxes(ax)]
    assert widths == sorted(widths)  # left to right
    unnamed = plot_model(model, show_layer_names=False)
    assert [t.get_text() for t in _boxes(unnamed)][1] == "Dense\n(None, 1)\n2 params"
    with pytest.raises(ValueError, match="Received: 'BT'"):
        plot_model(model, rankdir="BT")


def test_plot_model_draws_a_functional_graph_as_it_is_wired():
    a, b = Input((4,), name="a"), Input((4,), name="b")
    shared = Dense(4, name="shared")
    joined = Add(name="add")([shared(a), shared(b)])
    both = Concatenate(name="both")([joined, a])
    model = Model([a, b], [Dense(1, name="head")(both), joined])
    ax = plot_model(model)
    texts = [t.get_text().split(" ")[0] for t in _boxes(ax)]
    assert texts == ["a", "b", "shared", "add", "both", "head"]
    # a->shared, b->shared, shared->add, add->both, a->both, both->head
    assert len(_arrows(ax)) == 6
    place = {t.get_text().split(" ")[0]: t.get_position() for t in _boxes(ax)}
    assert place["a"][1] > place["shared"][1] > place["add"][1] > place["head"][1]
    # a layer called at two depths gets no arrow back up to itself
    x = inputs = Input((3,))
    twice = Dense(3, name="twice")
    model = Model(inputs, twice(twice(x)))
    assert len(_arrows(plot_model(model))) == 1
