"""Graphs drawn with matplotlib alone: the computational graph behind a tensor
(:func:`draw_graph`) and a model's layers (:func:`plot_model`).

Both are a set of boxes and the inputs of each box; :func:`layered_layout`
places them in columns (or rows) by their distance from the inputs, as
graphviz's ``dot`` does in spirit, and :func:`draw_boxes` draws the boxes and
an arrow from each input to its user. No system program is needed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from glassnet.plot._common import pyplot, short_number

#: box colours: inputs and weights, operations / layers, constants
LEAF_COLOR, OP_COLOR, CONST_COLOR = "#dbe9f6", "#fdf0c9", "#eeeeee"


@dataclass
class Box:
    """One node of a drawing: its text, the nodes it reads and its colour."""

    label: str
    inputs: list[Hashable] = field(default_factory=list)
    color: str = OP_COLOR
    kind: str = "op"
    emphasis: bool = False


def layered_layout(boxes: dict[Hashable, Box]) -> dict[Hashable, tuple[int, int]]:
    """(layer, row) of each box: a box's layer is one more than its inputs'
    deepest (longest path from a source); a source sits just before its first
    user, so a weight stands next to the op that reads it. Rows follow the
    order of ``boxes``. Raises on a cycle."""
    users: dict[Hashable, list[Hashable]] = {key: [] for key in boxes}
    pending = {key: len(box.inputs) for key, box in boxes.items()}
    for key, box in boxes.items():
        for source in box.inputs:
            users[source].append(key)
    ready = [key for key, count in pending.items() if count == 0]
    order = []
    while ready:  # Kahn's topological sort: no recursion, any depth
        key = ready.pop()
        order.append(key)
        for user in users[key]:
            pending[user] -= 1
            if pending[user] == 0:
                ready.append(user)
    if len(order) != len(boxes):
        raise ValueError("The graph has a cycle; it cannot be drawn in layers.")
    layer: dict[Hashable, int] = {}
    for key in order:
        layer[key] = 1 + max((layer[i] for i in boxes[key].inputs), default=-1)
    for key in order:
        if not boxes[key].inputs and users[key]:
            layer[key] = min(layer[u] for u in users[key]) - 1
    rows: dict[int, int] = {}
    placed = {}
    for key in boxes:
        placed[key] = (layer[key], rows.get(layer[key], 0))
        rows[layer[key]] = placed[key][1] + 1
    return placed


def _box_size(label: str, fontsize: float) -> tuple[float, float]:
    """Width and height in inches of a monospace box (0.6 em a character,
    1.2 em a line, 0.5 em of padding around)."""
    em = fontsize / 72
    lines = label.split("\n")
    return (max(map(len, lines)) * 0.6 + 1.4) * em, (len(lines) * 1.2 + 1.4) * em


def _border(center, toward, size, margin: float = 0.04):
    """Where the segment from ``center`` to ``toward`` leaves a box of ``size``
    (width, height) centred there, ``margin`` further out."""
    dx, dy = toward[0] - center[0], toward[1] - center[1]
    half_w, half_h = size[0] / 2 + margin, size[1] / 2 + margin
    scale = min(
        half_w / abs(dx) if dx else float("inf"),
        half_h / abs(dy) if dy else float("inf"),
    )
    return center[0] + dx * scale, center[1] + dy * scale


def draw_boxes(
    boxes: dict[Hashable, Box],
    *,
    direction: str = "LR",
    fontsize: float = 10,
    gap: float = 0.45,
    title_space: float = 0.0,
    ax: Any = None,
) -> Any:
    """Draw ``boxes`` in layers, left to right (``"LR"``) or top to bottom
    (``"TB"``), with an arrow from each input to its user, ``gap`` inches
    apart. Data units are inches: a new figure is the drawing's size (plus
    ``title_space`` at the top); in a given Axes the aspect is kept equal and
    the boxes keep their size in inches, so give it that room.
    Returns the Axes; its texts are the boxes in the order of ``boxes``, each
    with its ``kind`` as gid; its patches are the arrows (FancyArrowPatch)."""
    from matplotlib.patches import FancyArrowPatch

    if direction not in ("LR", "TB"):
        raise ValueError(f"direction must be 'LR' or 'TB'. Received: {direction!r}")
    placed = layered_layout(boxes)
    sizes = {key: _box_size(box.label, fontsize) for key, box in boxes.items()}
    width = max(w for w, _ in sizes.values())
    height = max(h for _, h in sizes.values())
    per_layer: dict[int, int] = {}
    for layer, row in placed.values():
        per_layer[layer] = max(per_layer.get(layer, 0), row + 1)
    xy = {}
    for key, (layer, row) in placed.items():
        offset = row - (per_layer[layer] - 1) / 2
        if direction == "LR":
            xy[key] = (layer * (width + gap), -offset * (height + gap / 2))
        else:
            xy[key] = (offset * (width + gap / 2), -layer * (height + gap))
    low_x = min(x for x, _ in xy.values()) - width / 2 - gap / 2
    high_x = max(x for x, _ in xy.values()) + width / 2 + gap / 2
    low_y = min(y for _, y in xy.values()) - height / 2 - gap / 2
    high_y = max(y for _, y in xy.values()) + height / 2 + gap / 2
    if ax is None:
        size = (high_x - low_x, high_y - low_y + title_space)
        fig = pyplot().figure(figsize=size)
        ax = fig.add_axes((0, 0, 1, (high_y - low_y) / size[1]))
    else:
        ax.set_aspect("equal", adjustable="datalim")
    texts = {}
    for key, box in boxes.items():
        texts[key] = ax.text(
            *xy[key],
            box.label,
            ha="center",
            va="center",
            fontsize=fontsize,
            family="monospace",
            bbox=dict(
                boxstyle="round,pad=0.5",
                fc=box.color,
                ec="#c0392b" if box.emphasis else "0.3",
                lw=2 if box.emphasis else 1,
            ),
            gid=box.kind,
            zorder=2,
        )
    for key, box in boxes.items():
        for source in box.inputs:
            start = _border(xy[source], xy[key], sizes[source])
            end = _border(xy[key], xy[source], sizes[key])
            arrow = FancyArrowPatch(
                start, end, arrowstyle="-|>", mutation_scale=12, color="0.3", zorder=1
            )
            ax.add_patch(arrow)
    ax.set_xlim(low_x, high_x)
    ax.set_ylim(low_y, high_y)
    ax.set_axis_off()
    return ax


# --- the computational graph behind a tensor ------------------------------------------
def _value_and_grad(tensor: Any, digits: int) -> str:
    grad = tensor.grad
    text = "—" if grad is None else short_number(grad, digits)
    return f"value {short_number(tensor.data, digits)}\ngrad  {text}"


def graph_boxes(
    tensor: Any, *, digits: int = 4, max_nodes: int = 200
) -> dict[Hashable, Box]:
    """The boxes of :func:`draw_graph`: one per tensor (named, or its op's
    name), one per non-tensor constant an op read, with the inputs of each,
    found through ``tensor.grad_fn`` and ``Function.inputs``."""
    from glassnet.autograd import Tensor

    boxes: dict[Hashable, Box] = {}
    queue = deque([tensor])
    while queue:  # breadth first: rows follow the order each op reads its inputs
        t = queue.popleft()
        if id(t) in boxes:
            continue
        fn = t.grad_fn
        value_and_grad = _value_and_grad(t, digits)
        if fn is None:
            label = f"{t.name or 'tensor'}\n{value_and_grad}"
            boxes[id(t)] = Box(label, [], LEAF_COLOR, "leaf")
            continue
        head = f"{t.name} = {fn.name}" if t.name else fn.name
        box = boxes[id(t)] = Box(f"{head}\n{value_and_grad}")
        for position, x in enumerate(fn.inputs):
            if isinstance(x, Tensor):
                box.inputs.append(id(x))
                queue.append(x)
            else:
                key = ("constant", id(fn), position)
                text = f"constant\n{short_number(x, digits)}"
                boxes[key] = Box(text, [], CONST_COLOR, "constant")
                box.inputs.append(key)
        if len(boxes) > max_nodes:
            raise ValueError(
                f"The graph has more than max_nodes={max_nodes} nodes; draw a "
                "smaller one (a loss on one batch of a small model) or raise "
                "max_nodes."
            )
    return boxes


def draw_graph(
    tensor: Any,
    *,
    direction: str = "LR",
    digits: int = 4,
    max_nodes: int = 200,
    ax: Any = None,
) -> Any:
    """Draw the computational graph that produced ``tensor``: one box per
    tensor, with the operation that made it (``Add``, ``Mul``, ...), its value
    and its gradient, and an arrow from each input to the operation that read
    it. Inputs (leaves) are blue, operations yellow, constants grey.

    Gradients appear after ``tensor.backward(retain_grads=True)`` (without it
    only the leaves keep theirs; the others show "—"). Values and gradients
    print as numbers when small, else as their shapes.

    >>> x, y, z = (Tensor(v, requires_grad=True, name=n)
    ...            for v, n in [(-2.0, "x"), (5.0, "y"), (-4.0, "z")])
    >>> q = x + y; q.name = "q"
    >>> f = q * z; f.name = "f"
    >>> f.backward(retain_grads=True)
    >>> ax = draw_graph(f)   # x, y -> q = Add -> f = Mul <- z, with their gradients

    Returns the Axes; its texts are the boxes, ``tensor``'s first, each with
    its kind ("op", "leaf" or "constant") as gid.
    """
    boxes = graph_boxes(tensor, digits=digits, max_nodes=max_nodes)
    next(iter(boxes.values())).emphasis = True  # the output, drawn in red
    return draw_boxes(boxes, direction=direction, ax=ax)


# --- a model's architecture -----------------------------------------------------------
def _graph_inputs(model: Any, rows: list) -> list[list[Hashable]] | None:
    """For a functional model, each row's inputs: the layers whose outputs
    the layer's calls in this model read, each once (None for a Sequential
    or subclassed model). A shared layer's box has an arrow from each of its
    callers' inputs; an arrow that would point back up the layer list (a
    layer shared at several depths) is left out, so the drawing has no
    cycle."""
    if not getattr(model, "_functional", False):
        return None
    graph = model._graph
    ids = {id(n) for nodes in graph.nodes_by_depth.values() for n in nodes}
    place = {id(layer): i for i, (layer, _) in enumerate(rows)}
    found = []
    for layer, _ in rows:
        inputs: list[Hashable] = []
        for node in layer._inbound_nodes:
            if id(node) not in ids:
                continue
            for tensor in node.input_tensors:
                parent = id(tensor._keras_history[0])
                if (
                    parent not in inputs
                    and place.get(parent, 1 << 30) < place[id(layer)]
                ):
                    inputs.append(parent)
        found.append(inputs)
    return found


#: what a box of plot_model shows by default
SHOW = frozenset({"names", "shapes", "params"})


def _label(layer: Any, shape: Any, show: frozenset) -> str:
    """A layer's box text: the lines ``show`` asks for."""
    from glassnet.models.summary import format_shape

    kind = type(layer).__name__
    lines = [f"{layer.name} ({kind})" if "names" in show else kind]
    if "shapes" in show:
        lines.append(format_shape(shape))
    if "dtype" in show:
        lines.append(f"dtype: {layer.dtype}")
    if "activations" in show and hasattr(layer, "activation"):
        name = getattr(layer.activation, "__name__", None) or "linear"
        lines.append(f"activation: {name}")
    if "trainable" in show:
        lines.append(f"trainable: {layer.trainable}")
    if "params" in show:
        lines.append(f"{layer.count_params():,} params" if layer.built else "unbuilt")
    return "\n".join(lines)


def model_boxes(model: Any, show: frozenset = SHOW) -> dict[Hashable, Box]:
    """The boxes of :func:`plot_model`: one per layer with what ``show``
    names of its name, type, output shape, dtype, activation, trainable flag
    and parameter count, reading the boxes of its inputs: a functional
    model's graph (branches, merges, shared layers), a Sequential's chain
    after its input, a subclassed model's layers without arrows (its call
    order is not known)."""
    from glassnet.models.summary import format_shape

    boxes: dict[Hashable, Box] = {}
    rows = model._summary_rows()
    graph = _graph_inputs(model, rows)
    first_is_input = rows and type(rows[0][0]).__name__ == "InputLayer"
    previous: list[Hashable] = []
    if not first_is_input:
        shape = format_shape(model.input_shape) if "shapes" in show else ""
        boxes["input"] = Box(f"input\n{shape}".strip(), [], LEAF_COLOR, "input")
        previous = ["input"]
    chain = not getattr(model, "_subclassed", False)
    for i, (layer, shape) in enumerate(rows):
        color = LEAF_COLOR if type(layer).__name__ == "InputLayer" else OP_COLOR
        inputs = list(previous) if graph is None else graph[i]
        boxes[id(layer)] = Box(_label(layer, shape, show), inputs, color, "layer")
        previous = [id(layer)] if chain else []
    return boxes


def plot_model(
    model: Any,
    to_file: str | None = None,
    show_shapes: bool = True,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    *,
    direction: str | None = None,
    fontsize: float = 10,
    ax: Any = None,
) -> Any:
    """Draw a model's architecture: one box per layer with its name, type,
    output shape and parameter count, an arrow from each layer to the layers
    that read its output (a functional model's branches and merges as they
    are wired), top to bottom (``rankdir`` or ``direction`` ``"LR"``: left to
    right), the inputs first.

    Keras's arguments: ``to_file`` saves the figure (format from its
    extension) at ``dpi``; ``show_shapes``, ``show_dtype``,
    ``show_layer_names``, ``show_layer_activations`` and ``show_trainable``
    choose the lines of each box (shapes are shown unless told not to, as
    glassnet always drew them); a nested model is one box
    (``expand_nested`` is accepted and changes nothing). A subclassed
    model's call order is not known: its layers are drawn without arrows.
    Returns the Axes (its texts are the boxes, input first).
    """
    if not model.built:
        raise ValueError(
            f"plot_model needs a built model; {model.name!r} is not. Give the first "
            "layer an input shape or call the model on data first."
        )
    direction = rankdir if direction is None else direction
    if direction not in ("TB", "LR"):
        raise ValueError(
            f"rankdir (or direction) must be 'TB' or 'LR'. Received: {direction!r}"
        )
    flags = {
        "names": show_layer_names,
        "shapes": show_shapes,
        "dtype": show_dtype,
        "activations": show_layer_activations,
        "trainable": show_trainable,
        "params": True,
    }
    boxes = model_boxes(model, frozenset(k for k, on in flags.items() if on))
    ax = draw_boxes(
        boxes, direction=direction, fontsize=fontsize, title_space=0.4, ax=ax
    )
    total = sum(w.data.size for w in model.weights)
    ax.set_title(f"{model.name}: {total:,} parameters")
    if to_file is not None:
        ax.figure.savefig(to_file, dpi=dpi, bbox_inches="tight")
    return ax


__all__: Sequence[str] = ["draw_graph", "plot_model"]
