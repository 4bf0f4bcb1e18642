"""Model: a network of layers, functional (``Model(inputs, outputs)``), subclassed
(layers as attributes and a custom ``call``) or :class:`~glassnet.models.Sequential`.

Structure, weights and ``summary()`` live here; the training API (compile / fit /
evaluate / predict) comes from :class:`~glassnet.models.trainer.Trainer`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassnet import losses, optimizers
from glassnet import metrics as metrics_module
from glassnet.autograd import Tensor, no_grad
from glassnet.callbacks import History
from glassnet.layers.base import (
    KerasTensor,
    Layer,
    assign_weights,
    standardize_shape,
    unique_name,
)
from glassnet.layers.core import InputLayer
from glassnet.layers.fusion import layer_calls
from glassnet.models.functional_config import (
    functional_config,
    functional_from_config,
    is_functional_config,
)
from glassnet.models.summary import summarize, summary_html
from glassnet.models.trainer import Trainer


class Model(Trainer, Layer):
    """A network of layers with Keras's training API.

    ``Model(inputs, outputs)`` takes an :func:`~glassnet.layers.Input` and the
    KerasTensor obtained by calling layers on it (one chain of single-input
    layers). Subclasses may instead set layers as attributes in ``__init__``
    and define ``call(x, training=False)``, as in Keras.

    >>> inputs = Input((1024,))
    >>> outputs = Dense(4, activation="relu")(inputs)
    >>> model = Model(inputs, outputs)

    A ``Conv2D`` (relu or no activation) followed by a ``MaxPooling2D`` whose
    windows tile runs as one engine node: the same outputs, gradients equal up
    to the order of float sums (:mod:`glassnet.layers.fusion`); set
    ``fuse_layers = False`` before the model is built to run every layer on its
    own.
    """

    fuse_layers = True

    def __init__(
        self,
        inputs: Any = None,
        outputs: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if name is None and type(self) is Model:
            name = unique_name("functional")
        super().__init__(name=name, **kwargs)
        self._layers: list[Layer] = []
        self._input_layer: InputLayer | None = None
        self._output_shapes: list[Any] = []
        self.optimizer: Any = None
        self.loss: Any = None
        self.compiled = False
        self.stop_training = False
        self.history: History | None = None
        self._forward_fns: list[Callable[..., Tensor]] = []
        self._functional = inputs is not None or outputs is not None
        if inputs is not None or outputs is not None:
            self._init_functional(inputs, outputs)

    # --- structure ----------------------------------------------------------------
    def _init_functional(self, inputs: Any, outputs: Any) -> None:
        if isinstance(inputs, (list, tuple)) and len(inputs) == 1:
            inputs = inputs[0]
        if isinstance(outputs, (list, tuple)) and len(outputs) == 1:
            outputs = outputs[0]
        if not isinstance(inputs, KerasTensor) or not isinstance(outputs, KerasTensor):
            raise ValueError(
                "Model(inputs, outputs) needs one Input(...) and the output of layers "
                "called on it (several inputs or outputs are not supported). "
                f"Received: inputs={inputs!r}, outputs={outputs!r}"
            )
        chain: list[Layer] = []
        node = outputs
        while node is not inputs:
            if node.layer is None or not node.inputs:
                raise ValueError(
                    "The outputs are not computed from the given inputs. "
                    f"Received: inputs={inputs!r}, outputs={outputs!r}"
                )
            if len(node.inputs) != 1:
                raise ValueError("Only chains of single-input layers are supported.")
            chain.append(node.layer)
            node = node.inputs[0]
        self._input_layer = inputs.layer
        self._layers = [inputs.layer, *reversed(chain)]
        self.build(inputs.shape)

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def _compute_layers(self) -> list[Layer]:
        return [layer for layer in self._layers if not isinstance(layer, InputLayer)]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        if index is not None:
            return self.layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name}. Existing layers are: "
            f"{[layer.name for layer in self._layers]}."
        )

    @property
    def input_shape(self) -> tuple[int | None, ...] | None:
        return self._build_shape

    @property
    def output_shape(self) -> tuple[int | None, ...] | None:
        return self._output_shapes[-1] if self._output_shapes else self._build_shape

    # --- subclassed models: layers set as attributes, a custom ``call`` ---------
    @property
    def _subclassed(self) -> bool:
        return type(self).call is not Model.call

    def __setattr__(self, name: str, value: Any) -> None:
        layers = self.__dict__.get("_layers")
        if layers is not None and not name.startswith("_") and self._subclassed:
            found = value if isinstance(value, (list, tuple)) else [value]
            for item in found:
                if isinstance(item, Layer) and item is not self and item not in layers:
                    layers.append(item)
        super().__setattr__(name, value)

    def _build_subclassed(self, shape: tuple) -> None:
        """Build a subclassed model by running its ``call`` once on zeros."""
        self._build_shape = shape
        probe = np.zeros((1, *shape[1:]), dtype=self._dtype)
        with no_grad():
            out = self.call(Tensor(probe), False)
        self._output_shapes = [(None, *out.data.shape[1:])]
        self.built = True

    def build(self, input_shape: Any) -> None:
        """Build every layer in turn, from ``input_shape`` (batch axis ``None``)."""
        shape = standardize_shape(input_shape, "input_shape")
        shape = (None, *shape[1:])
        if self._subclassed:
            self._build_subclassed(shape)
            return
        self._build_shape = shape
        self._output_shapes = []
        for layer in self._compute_layers():
            layer.build_for(shape)
            shape = tuple(layer.compute_output_shape(shape))
            self._output_shapes.append(shape)
        self.built = True
        self._forward_fns = layer_calls(self._compute_layers(), self.fuse_layers)
        layers = self._compute_layers()
        self._dtype = layers[0]._dtype if layers else self._dtype

    def build_for(self, input_shape: Any) -> None:
        if not self.built:
            self.build(input_shape)
        else:
            self._check_input(tuple(input_shape))

    def _check_input(self, shape: tuple[int, ...]) -> None:
        expected = self._build_shape
        if expected is None:
            return
        ok = len(shape) == len(expected) and all(
            e is None or s == e for s, e in zip(shape[1:], expected[1:])
        )
        if not ok:
            layers = self._compute_layers()
            first = layers[0] if layers else self
            raise ValueError(
                f"Input of layer {first.name!r} ({type(first).__name__}), the first "
                f"layer of model {self.name!r}, is incompatible with the layer: "
                f"expected shape={expected}, found shape={tuple(shape)}"
            )

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        for fn in self._forward_fns:  # layer(x, training), or a fused pair
            x = fn(x, training)
        return x

    def compute_output_shape(self, input_shape):
        if not self.built:
            self.build(input_shape)
        return self.output_shape

    # --- weights ------------------------------------------------------------------
    def _collect(self, attribute: str) -> list[Tensor]:
        seen: set[int] = set()
        out = []
        for layer in self._layers:
            for w in getattr(layer, attribute):
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def weights(self) -> list[Tensor]:
        return self._collect("weights")

    @property
    def trainable_weights(self) -> list[Tensor]:
        return self._collect("trainable_weights") if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[Tensor]:
        if not self.trainable:
            return self.weights
        return self._collect("non_trainable_weights")

    @property
    def losses(self) -> list[Tensor]:
        return [loss for layer in self._layers for loss in layer.losses]

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"You tried to call count_params() on model {self.name!r}, but it "
                "isn't built yet. Give the first layer an input shape "
                "(input_shape=... / input_dim=... / Input(...)), call the model on "
                f"data, or build it: {self.name}.build((None, features))."
            )
        return int(sum(w.data.size for w in self.weights))

    def get_weights(self) -> list[np.ndarray]:
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        assign_weights(self.weights, weights, f"Model {self.name!r}")

    def __call__(self, x: Any, training: bool = False) -> Any:
        if isinstance(x, KerasTensor):
            return x.apply(self)
        if not isinstance(x, Tensor):
            x = Tensor(self._as_x(x))
        else:
            self.build_for(x.data.shape)
        return self.call(x, training)

    # --- summary --------------------------------------------------------------------
    def summary(
        self,
        line_length: int | None = None,
        positions: Any = None,
        print_fn: Callable[..., Any] | None = None,
        expand_nested: bool = False,
        show_trainable: bool = False,
        layer_range: Any = None,
        explain: bool = False,
    ) -> None:
        """Print the layers, their output shapes and parameter counts (Keras 3's
        table); ``explain=True`` also shows how each count arises."""
        summarize(
            self,
            self._summary_rows(),
            print_fn=print_fn,
            explain=explain,
            show_trainable=show_trainable,
        )

    def _summary_rows(self) -> list[tuple[Layer, Any]]:
        """(layer, output shape) of each row of ``summary()`` (and of the HTML
        table and ``glassnet.plot.plot_model``); the shape is None if unknown."""
        rows = []
        shapes = iter(() if self._subclassed else self._output_shapes)
        for layer in self._layers:
            if isinstance(layer, InputLayer):
                if self._functional:
                    rows.append((layer, layer.batch_shape))
                continue
            rows.append((layer, next(shapes, None) if self.built else None))
        return rows

    def _repr_html_(self) -> str:
        """Jupyter's view of a model: the ``summary()`` table, as HTML."""
        return summary_html(self, self._summary_rows())

    # --- config and saving (Keras 3's .keras files: glassnet.saving) ---------------
    def get_config(self) -> dict[str, Any]:
        """Keras 3's config: a functional model's layers and how they connect;
        a subclassed model's name (its own ``get_config`` adds its arguments)."""
        if self._functional:
            return functional_config(self)
        return super().get_config()

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects=None) -> Model:
        if is_functional_config(config):
            return functional_from_config(cls, config, custom_objects)
        return super().from_config(config)

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """:meth:`Trainer.compile`; the arguments are kept for
        :meth:`get_compile_config` (the ``compile_config`` of saved files)."""
        super().compile(*args, **kwargs)
        bound = inspect.signature(super().compile).bind(*args, **kwargs)
        bound.apply_defaults()
        self._compile_arguments = dict(bound.arguments)

    def get_compile_config(self) -> dict[str, Any] | None:
        """Keras's ``compile_config``: the optimizer (its current settings),
        loss and metrics as Keras 3 writes them; None before ``compile``."""
        args = getattr(self, "_compile_arguments", None)
        if not self.compiled or args is None:
            return None
        metrics = args.get("metrics")
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            metrics = [metrics]
        return {
            "optimizer": optimizers.serialize(self.optimizer),
            "loss": losses.serialize(args.get("loss")),
            "loss_weights": args.get("loss_weights"),
            "metrics": None
            if metrics is None
            else [metrics_module.serialize(m) for m in metrics],
            "weighted_metrics": args.get("weighted_metrics"),
            "run_eagerly": bool(args.get("run_eagerly")),
            "steps_per_execution": args.get("steps_per_execution", 1),
            "jit_compile": bool(args.get("jit_compile")),
        }

    def compile_from_config(self, config: dict[str, Any]) -> None:
        """``compile`` with the arguments of :meth:`get_compile_config`."""
        metrics = config.get("metrics")
        if isinstance(metrics, list):
            metrics = [
                m if isinstance(m, str) else metrics_module.get(m) for m in metrics
            ]
        loss = config.get("loss")
        self.compile(
            optimizer=optimizers.get(config.get("optimizer")),
            loss=loss if isinstance(loss, str) else losses.get(loss),
            metrics=metrics,
            loss_weights=config.get("loss_weights"),
            weighted_metrics=config.get("weighted_metrics"),
        )

    def save(self, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
        """Write the model (architecture, weights, optimizer state and compile
        arguments) to a Keras 3 ``.keras`` file; see :mod:`glassnet.saving`."""
        from glassnet.saving import save_model

        save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Write the weights (and optimizer state) to a Keras ``.weights.h5``."""
        from glassnet.saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any, skip_mismatch: bool = False) -> None:
        """Load weights written by :meth:`save_weights` or in a ``.keras``
        file, matched by layer structure (as Keras does), all or nothing."""
        from glassnet.saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def to_json(self, **kwargs: Any) -> str:
        """The model's config as Keras 3's JSON (``json.dumps`` keywords
        apply); :func:`glassnet.models.model_from_json` reads it back."""
        from glassnet.saving import model_to_json

        return model_to_json(self, **kwargs)

    def export(
        self,
        filepath: Any,
        format: str = "tf_saved_model",
        verbose: Any = None,
        input_signature: Any = None,
        **kwargs: Any,
    ) -> None:
        """Export the model for inference (Keras 3's method): glassnet writes
        ONNX, ``format="onnx"`` (``opset_version=`` accepted); the other
        formats Keras knows raise. See :mod:`glassnet.onnx`."""
        if format != "onnx":
            raise ValueError(
                "glassnet exports models to ONNX only: model.export(path, "
                f"format='onnx'). Received: format={format!r}"
            )
        if input_signature is not None:
            raise ValueError(
                "glassnet exports the model's own input shape (the batch "
                f"dynamic). Received: input_signature={input_signature!r}"
            )
        unknown = set(kwargs) - {"opset_version"}
        if unknown:
            raise TypeError(f"Unrecognized arguments to export(): {sorted(unknown)}")
        from glassnet.onnx import export

        export(self, filepath, **kwargs)
        if verbose:
            print(f"Saved artifact at '{filepath}'.")
