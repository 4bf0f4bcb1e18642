"""What a convolutional network learned (its filters) and sees (its feature maps)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.plot._common import panel_grid


def _symmetric_limit(values: np.ndarray) -> float:
    return float(np.abs(values).max()) or 1.0


def plot_filters(
    conv_layer: Any,
    *,
    channel: int | None = None,
    ncols: int | None = None,
    cmap: str = "RdBu_r",
    fig: Any = None,
) -> Any:
    """Draw each filter of a built ``Conv2D`` layer as a small image.

    The kernel has shape (height, width, in_channels, filters). With three
    input channels each filter is shown as an RGB image (scaled to [0, 1]);
    otherwise input channel ``channel`` (default 0) on a diverging colour map
    centred at 0, shared by all filters, so positive weights are red and
    negative blue on one scale.

    Returns the Figure: one Axes per filter, each with one image, titled
    ``filter i``; a colour bar for the single-channel view.
    """
    kernel = getattr(conv_layer, "kernel", None)
    if kernel is None or np.ndim(kernel.data) != 4:
        raise ValueError(
            "plot_filters needs a built Conv2D layer (a kernel of shape (height, "
            f"width, in_channels, filters)). Received: {conv_layer!r}"
        )
    weights = np.asarray(kernel.data, dtype=float)
    in_channels, filters = weights.shape[2:]
    rgb = channel is None and in_channels == 3
    channel = 0 if channel is None else channel
    if not rgb and not 0 <= channel < in_channels:
        raise ValueError(
            f"channel must be in [0, {in_channels}) for this layer. "
            f"Received: channel={channel}"
        )
    fig, axes = panel_grid(
        filters, ncols or min(filters, 8), fig=fig, panel_size=(1.6, 1.8)
    )
    limit = _symmetric_limit(weights[:, :, channel, :])
    image = None
    for index, ax in enumerate(axes):
        if rgb:
            w = weights[:, :, :, index]
            span = np.ptp(w) or 1.0
            ax.imshow((w - w.min()) / span, interpolation="nearest")
        else:
            w = weights[:, :, channel, index]
            image = ax.imshow(
                w, cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest"
            )
        ax.set_title(f"filter {index}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    name = getattr(conv_layer, "name", "conv")
    what = "RGB" if rgb else f"input channel {channel}"
    fig.suptitle(
        f"{name}: {filters} filters {weights.shape[0]}×{weights.shape[1]}, {what}"
    )
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
    return fig


def _chain_layers(model: Any) -> list[Any]:
    """The layers a Sequential or functional model runs, in order."""
    if getattr(model, "_subclassed", False):
        raise ValueError(
            f"plot_feature_maps follows a chain of layers; {model.name!r} is a "
            "subclassed model whose call order is not known."
        )
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def _graph_feature_maps(model: Any, sample: np.ndarray) -> list:
    """The maps of each Conv2D of a functional graph (branches, merges): the
    outputs of the Conv2D calls of the model, read by a model made of them."""
    from glassnet.layers import Conv2D
    from glassnet.models import Model

    graph = model._graph
    nodes = {id(n) for depth in graph.nodes_by_depth.values() for n in depth}
    taps = [
        (layer, node.outputs[0])
        for layer in model.layers
        if isinstance(layer, Conv2D)
        for node in layer._inbound_nodes
        if id(node) in nodes
    ]
    if not taps or len(graph.inputs) != 1:
        return []
    taken = Model(graph.inputs[0], [tensor for _, tensor in taps])
    outputs = taken.predict(sample, verbose=0)
    if len(taps) == 1:
        outputs = [outputs]
    return [(layer, out[0]) for (layer, _), out in zip(taps, outputs)]


def feature_maps(model: Any, x: Any) -> list[tuple[Any, np.ndarray]]:
    """(layer, output of shape (height, width, channels)) of each 2-D
    convolution of ``model`` for one sample ``x`` (h, w, c) or (1, h, w, c)."""
    from glassnet.autograd import Tensor, no_grad
    from glassnet.layers import Conv2D

    sample = np.asarray(x)
    if sample.ndim == 3:
        sample = sample[None]
    if sample.ndim != 4 or len(sample) != 1:
        raise ValueError(
            "plot_feature_maps needs one image, of shape (height, width, channels) "
            f"or (1, height, width, channels). Received: shape {np.shape(x)}"
        )
    dtype = model.weights[0].data.dtype if model.weights else np.float32
    graph = model.__dict__.get("_graph")
    if getattr(model, "_functional", False) and graph.chain is None:
        maps = _graph_feature_maps(model, sample.astype(dtype, copy=False))
    else:
        out = Tensor(sample.astype(dtype, copy=False))
        maps = []
        with no_grad():
            for layer in _chain_layers(model):
                out = layer(out)
                if isinstance(layer, Conv2D):
                    maps.append((layer, np.asarray(out.data[0])))
    if not maps:
        raise ValueError(f"Model {model.name!r} has no Conv2D layer.")
    return maps


def plot_feature_maps(
    model: Any,
    x: Any,
    *,
    max_maps: int = 8,
    cmap: str = "viridis",
    fig: Any = None,
) -> Any:
    """Draw what each ``Conv2D`` layer of ``model`` outputs for one image ``x``.

    One row per convolution layer (in the order the model runs them), the
    input image first; at most ``max_maps`` channels per row, each on its own
    colour scale. Works for Sequential and functional models (a chain of
    layers).

    Returns the Figure; row ``r`` holds the images of the r-th convolution,
    each Axes titled with the layer's name and channel.
    """
    maps = feature_maps(model, x)
    image = np.asarray(x, dtype=float)
    image = image[0] if image.ndim == 4 else image
    if image.shape[-1] == 3:
        image = (image - image.min()) / (np.ptp(image) or 1.0)
    else:
        image = image[..., 0]
    ncols = min(max_maps, max(m.shape[-1] for _, m in maps))
    rows = 1 + len(maps)
    fig, axes = panel_grid(rows * ncols, ncols, fig=fig, panel_size=(1.6, 1.7))
    grid = np.asarray(axes, dtype=object).reshape(rows, ncols)
    grid[0, 0].imshow(image, cmap="gray")
    grid[0, 0].set_title("input", fontsize=9)
    for ax in grid[0, 1:]:
        ax.set_visible(False)
    for r, (layer, output) in enumerate(maps, start=1):
        for c in range(ncols):
            ax = grid[r, c]
            if c >= output.shape[-1]:
                ax.set_visible(False)
                continue
            ax.imshow(output[..., c], cmap=cmap, interpolation="nearest")
            ax.set_title(f"{layer.name}[{c}]", fontsize=8)
    for ax in grid.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{model.name}: feature maps of one sample")
    return fig
