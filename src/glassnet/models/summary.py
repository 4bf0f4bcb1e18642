"""``model.summary()``: Keras 3's box table of layers, output shapes and counts.

Plain Unicode box drawing (no ``rich``); ``explain=True`` adds under each layer
the arithmetic of its parameter count (``1024 × 4 weights + 4 biases = 4,100``).
A functional model that is not one chain gets Keras's "Connected to" column:
the tensors each layer's calls read, as ``layer_name[call][output]``.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from glassnet.layers.serialization import keras_class_name

# Content widths of Layer (type), Output Shape, Param # (and Trainable), as Keras 3
# lays them out.
_COLUMNS = (31, 22, 13)
_COLUMNS_TRAINABLE = (27, 21, 10, 5)
# ... and with Keras's "Connected to" column (a graph that is not a chain)
_COLUMNS_CONNECTED = (19, 17, 10, 17)
_COLUMNS_CONNECTED_TRAINABLE = (17, 15, 9, 14, 5)

# Plural words for the usual weight names, so explanations read naturally.
_WEIGHT_WORDS = {
    "kernel": "weights",
    "bias": "biases",
    "gamma": "scales (gamma)",
    "beta": "offsets (beta)",
    "moving_mean": "moving means",
    "moving_variance": "moving variances",
}
_ONE_WEIGHT_WORDS = {"kernel": "weight", "bias": "bias"}


def readable_size(num_bytes: float) -> str:
    """``16`` -> ``"16.00 B"``, ``16464`` -> ``"16.08 KB"`` (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if num_bytes < 1024 or unit == "TB":
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    raise AssertionError("unreachable")


def format_shape(shape: Any) -> str:
    """``(None, 4)`` as Keras prints it; ``"?"`` when unknown."""
    if shape is None:
        return "?"
    if isinstance(shape, list):  # several outputs, as Keras prints them
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    return (
        "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    )


def explain_params(layer: Any) -> str:
    """How ``layer.count_params()`` arises: ``1024 × 4 weights + 4 biases = 4,100``."""
    terms = []
    for w in layer.weights:
        short = (w.name or "weight").rsplit("/", 1)[-1]
        shape = " × ".join(str(d) for d in w.data.shape) or "1"
        words = _ONE_WEIGHT_WORDS if w.data.size == 1 else _WEIGHT_WORDS
        terms.append(f"{shape} {words.get(short, _WEIGHT_WORDS.get(short, short))}")
    if not terms:
        return "no weights = 0"
    return " + ".join(terms) + f" = {layer.count_params():,}"


def _wrap(text: str, width: int) -> list[str]:
    """Word-wrap ``text``; a word longer than ``width`` is cut with ``…``."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        if len(word) > width:
            word = word[: width - 1] + "…"
        if current and len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            if current:
                lines.append(current)
            current = word
    lines.append(current)
    return lines


def _rule(widths: tuple[int, ...], left: str, fill: str, middle: str, right: str):
    return left + middle.join(fill * (w + 2) for w in widths) + right


def _row(
    widths: tuple[int, ...],
    cells: list[list[str]],
    separator: str = "│",
    aligns: tuple[Any, ...] = (str.ljust, str.ljust, str.rjust, str.center),
) -> list[str]:
    """One table row; a cell is a list of lines. Param # is right-aligned, the
    Trainable flag centred, the rest left-aligned."""
    height = max(len(c) for c in cells)
    out = []
    for i in range(height):
        parts = []
        for cell, width, align in zip(cells, widths, aligns):
            text = cell[i] if i < len(cell) else ""
            parts.append(align(text, width))
        out.append(separator + " " + f" {separator} ".join(parts) + " " + separator)
    return out


def _cells(layer: Any, shape: Any) -> tuple[str, str, str]:
    """The three cells of a layer's row: "name (Type)", its output shape and
    its parameter count ("0 (unbuilt)" before it has weights)."""
    name = f"{layer.name} ({keras_class_name(layer)})"
    if not layer.built:
        return name, format_shape(None), "0 (unbuilt)"
    return name, format_shape(shape), f"{layer.count_params():,}"


def connections(graph: Any) -> list[str] | None:
    """Keras's "Connected to" entry of each layer of a functional ``graph``
    (in its layers' order): the tensors each of the layer's calls in the
    graph reads, ``name[call][output]``, or ``-``. None for a chain of
    one-input calls without shared layers (Keras's "sequential-like")."""
    nodes = [n for depth in graph.nodes_by_depth.values() for n in depth]
    ids = {id(n) for n in nodes}
    chain = all(len(n.input_tensors) <= 1 for n in nodes) and all(
        len(v) == 1 for v in graph.nodes_by_depth.values()
    )
    if chain and all(
        sum(id(n) in ids for n in layer._inbound_nodes) <= 1 for layer in graph.layers
    ):
        return None
    found = []
    for layer in graph.layers:
        entries = [
            "{}[{}][{}]".format(t._keras_history[0].name, *t._keras_history[1:])
            for node in layer._inbound_nodes
            if id(node) in ids
            for t in node.input_tensors
        ]
        found.append(", ".join(entries) or "-")
    return found


def _totals(rows: list[tuple[Any, Any]]) -> list[str]:
    """``Total params: 4 (16.00 B)``, then the trainable and non-trainable."""
    weights = list({id(w): w for layer, _ in rows for w in layer.weights}.values())
    trainable = {id(w) for layer, _ in rows for w in layer.trainable_weights}
    total = [sum(w.data.size for w in weights), sum(w.data.nbytes for w in weights)]
    train = [
        sum(w.data.size for w in weights if id(w) in trainable),
        sum(w.data.nbytes for w in weights if id(w) in trainable),
    ]
    fixed = [total[0] - train[0], total[1] - train[1]]
    return [
        f"{label} params: {n:,} ({readable_size(size)})"
        for label, (n, size) in (
            ("Total", total),
            ("Trainable", train),
            ("Non-trainable", fixed),
        )
    ]


def summarize(
    model: Any,
    rows: list[tuple[Any, Any]],
    print_fn: Callable[..., Any] | None = None,
    explain: bool = False,
    show_trainable: bool = False,
    connections: list[str] | None = None,
) -> None:
    """Print the table for ``rows`` of ``(layer, output_shape)`` of ``model``
    (with a "Connected to" column when ``connections`` gives one entry a
    row)."""
    header = [["Layer (type)"], ["Output Shape"], ["Param #"]]
    aligns: tuple[Any, ...] = (str.ljust, str.ljust, str.rjust)
    if connections is None:
        widths = _COLUMNS_TRAINABLE if show_trainable else _COLUMNS
    else:
        widths = _COLUMNS_CONNECTED_TRAINABLE if show_trainable else _COLUMNS_CONNECTED
        header.append(["Connected to"])
        aligns += (str.ljust,)
    if show_trainable:
        header.append(_wrap("Trainable", widths[-1]))
        aligns += (str.center,)
    lines = [f'Model: "{model.name}"', _rule(widths, "┏", "━", "┳", "┓")]
    lines += _row(widths, header, "┃", aligns)
    lines.append(_rule(widths, "┡", "━", "╇", "┩"))
    inner = sum(widths) + 3 * len(widths) - 1
    for i, (layer, shape) in enumerate(rows):
        name, shape_text, count = _cells(layer, shape)
        cells = [_wrap(name, widths[0]), _wrap(shape_text, widths[1]), [count]]
        if connections is not None:
            cells.append(_wrap(connections[i], widths[3]))
        if show_trainable:
            cells.append(
                ["-" if not layer.weights else "Y" if layer.trainable else "N"]
            )
        lines += _row(widths, cells, aligns=aligns)
        if explain and layer.built:
            for text in _wrap(explain_params(layer), inner - 5):
                lines.append("│   = " + text.ljust(inner - 4) + "│")
        if i < len(rows) - 1:
            lines.append(_rule(widths, "├", "─", "┼", "┤"))
    lines.append(_rule(widths, "└", "─", "┴", "┘"))
    lines += [" " + line for line in _totals(rows)]
    text = "\n".join(lines)
    if print_fn is None:
        print(text)
    else:
        print_fn(text + "\n")  # NOTE: Keras 3 hands print_fn the text with "\n"


def summary_html(
    model: Any, rows: list[tuple[Any, Any]], connections: list[str] | None = None
) -> str:
    """The ``summary()`` table as HTML (a model's ``_repr_html_`` in Jupyter):
    the same rows, columns and totals, escaped."""
    columns = [("Layer (type)", "left"), ("Output Shape", "left"), ("Param #", "right")]
    if connections is not None:
        columns.append(("Connected to", "left"))
    head = "".join(
        f'<th style="text-align:{align}">{title}</th>' for title, align in columns
    )
    body = []
    for i, (layer, shape) in enumerate(rows):
        cells = list(_cells(layer, shape))
        if connections is not None:
            cells.append(connections[i])
        body.append(
            "<tr>"
            + "".join(
                f'<td style="text-align:{align}">{html.escape(text)}</td>'
                for text, (_, align) in zip(cells, columns)
            )
            + "</tr>"
        )
    totals = "<br>".join(html.escape(line) for line in _totals(rows))
    return (
        '<div class="glassnet-summary">'
        f"<p><b>Model: &quot;{html.escape(model.name)}&quot;</b></p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
        f"</table><p>{totals}</p></div>"
    )
