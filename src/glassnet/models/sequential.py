"""Sequential: a plain stack of layers, each feeding the next."""

from __future__ import annotations

from typing import Any

from glassnet.layers import serialization
from glassnet.layers.base import KerasTensor, Layer
from glassnet.layers.core import InputLayer
from glassnet.models.functional import FunctionalGraph
from glassnet.models.model import Model


class Sequential(Model):
    """A model made of ``layers`` applied one after the other.

    The input shape comes from an ``Input(shape)`` / ``InputLayer`` given first,
    from the first layer's ``input_shape=`` / ``input_dim=``, or from the first
    data the model sees; the model is built as soon as it is known.

    >>> model = Sequential()
    >>> model.add(Dense(units=1, input_dim=1))
    >>> model.add(Activation("tanh"))
    >>> model.add(Dense(units=1))
    >>> model.count_params()
    4
    """

    _chain_of_layers = True

    def __init__(
        self,
        layers: list[Any] | None = None,
        name: str | None = None,
        trainable: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, trainable=trainable, **kwargs)
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build()

    @property
    def layers(self) -> list[Layer]:
        return [layer for layer in self._layers if not isinstance(layer, InputLayer)]

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Append a layer (or an ``Input(...)`` first)."""
        if isinstance(layer, KerasTensor):
            history = layer._keras_history
            if history is None or not isinstance(history[0], InputLayer):
                raise ValueError(
                    "Only an Input(...) can be added to a Sequential model as a "
                    f"symbolic tensor. Received: {layer!r}"
                )
            layer = history[0]
        if not isinstance(layer, Layer):
            raise TypeError(
                "Only instances of glassnet.layers.Layer can be added to a "
                f"Sequential model. Received: {layer!r} (of type {type(layer)})"
            )
        if isinstance(layer, InputLayer):
            if self._layers:
                raise ValueError(
                    "An Input/InputLayer can only be the first layer of a "
                    f"Sequential model; {self.name!r} already has layers."
                )
            self._input_layer = layer
        elif layer.name in {other.name for other in self._layers}:
            raise ValueError(
                f"All layers added to a Sequential model should have unique names. "
                f"Name {layer.name!r} is already the name of a layer in this model."
            )
        self._layers.append(layer)
        if rebuild:
            self._maybe_build()

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer."""
        if not self.layers:
            raise IndexError("There are no layers in the model to pop.")
        layer = self._layers.pop()
        self.built = False
        self.__dict__.pop("_graph", None)
        self._output_shapes = []
        if rebuild:
            self._maybe_build()
        return layer

    def _trace_graph(self) -> None:
        """Once built, call the layers on symbolic tensors, as Keras 3 does:
        ``inputs``, ``outputs`` and each layer's ``input`` / ``output`` then
        exist (``Model(seq.inputs, [layer.output for layer in seq.layers])``)."""
        self.__dict__.pop("_graph", None)
        layers = self.layers
        if self._input_layer is not None:
            inputs = self._input_layer.output
        else:
            dtype = layers[0].dtype if layers else self.dtype
            entry = InputLayer(
                batch_shape=self._build_shape, dtype=dtype, name="input_layer"
            )
            inputs = entry.output
        x = inputs
        try:
            for layer in layers:
                x = layer(x)
        except (ValueError, TypeError, NotImplementedError):
            # NOTE: a layer that runs on arrays but not on symbolic tensors
            # (a user's call returning other values) leaves the model usable,
            # without symbolic inputs and outputs.
            return
        self.__dict__["_graph"] = FunctionalGraph(inputs, x)

    def _declared_input_shape(self) -> tuple | None:
        if self._input_layer is not None:
            return self._input_layer.batch_shape
        layers = self.layers
        if layers and layers[0]._batch_input_shape is not None:
            return layers[0]._batch_input_shape
        if layers and layers[0]._build_shape is not None:
            return layers[0]._build_shape
        return None

    def _maybe_build(self) -> None:
        shape = self._declared_input_shape()
        if shape is not None and self.layers:
            self.build(shape)
        elif shape is not None:
            self._build_shape = (None, *shape[1:])

    def get_config(self) -> dict[str, Any]:
        """Keras 3's config: the layers (an InputLayer first once the input
        shape is known, as Keras 3 adds one) and the input shape."""
        layers = list(self._layers)
        if self._input_layer is None and self._build_shape is not None:
            dtype = layers[0].dtype if layers else self.dtype
            first = InputLayer(
                batch_shape=self._build_shape, dtype=dtype, name="input_layer"
            )
            layers.insert(0, first)
        config = {
            **super().get_config(),
            "layers": [serialization.serialize(layer) for layer in layers],
        }
        if self._build_shape is not None:
            config["build_input_shape"] = list(self._build_shape)
        return config

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict | None = None
    ) -> Sequential:
        """Rebuild from :meth:`get_config` (fresh weights; copy them separately)."""
        entries = config.get("layers") if isinstance(config, dict) else None
        if not isinstance(entries, list):
            raise ValueError(
                "A Sequential config is a dict with a list of 'layers'. "
                f"Received: {config!r}"
            )
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in entries:
            model.add(serialization.deserialize(entry, custom_objects), rebuild=False)
        model._maybe_build()
        shape = config.get("build_input_shape")
        if not model.built and model.layers and isinstance(shape, list):
            model.build(shape)
        return model
