"""Model: a network of layers, functional (``Model(inputs, outputs)``), subclassed
(layers as attributes and a custom ``call``) or :class:`~glassnet.models.Sequential`.

Structure, weights and ``summary()`` live here; the training API (compile / fit /
evaluate / predict) comes from :class:`~glassnet.models.trainer.Trainer`.

A model may be used from several threads: each holds a
:class:`~glassnet.models.locks.ReadWriteLock`. A training step (and
``set_weights``) holds it alone; ``predict``, ``evaluate``, ``model(x)`` and
``get_weights`` hold it shared, for the whole call. So a prediction made while
another thread trains sees the weights from between two optimizer steps, never
half of one step, and does not change what training computes. ``evaluate``
keeps its metric state to itself (a copy of the compiled metrics per call).
"""

from __future__ import annotations

import copy
import functools
import warnings
from _thread import get_ident
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassnet import losses, optimizers, tree
from glassnet import metrics as metrics_module
from glassnet.autograd import Tensor, is_grad_enabled
from glassnet.callbacks import History
from glassnet.layers.base import (
    BUILD_LOCK,
    Layer,
    assign_weights,
    is_single_shape,
    standardize_shapes,
    unique_name,
    without_batch,
)
from glassnet.layers.call_context import CONTEXT, UNSET
from glassnet.layers.core import InputLayer
from glassnet.layers.fusion import layer_calls
from glassnet.layers.node import KerasTensor, symbolic_call
from glassnet.models.functional import (
    FunctionalGraph,
    fit_rank,
    make_graph,
    unpack_singleton,
)
from glassnet.models.functional_config import (
    functional_config,
    functional_from_config,
    is_functional_config,
)
from glassnet.models.locks import ReadWriteLock
from glassnet.models.outputs import Outputs
from glassnet.models.summary import connections, summarize, summary_html
from glassnet.models.trainer import Trainer
from glassnet.ops import seam
from glassnet.runtime import kernel_scope


def _reading(method: Callable[..., Any], own_metrics: bool = False) -> Any:
    """Trainer's ``method`` holding the model's lock shared for the whole call
    (and, for evaluations, with this call's own copy of the metrics); its name,
    signature and documentation are the Trainer's."""

    @functools.wraps(method)
    def reading(self: Model, *args: Any, **kwargs: Any) -> Any:
        with self._lock.read():
            if not own_metrics:
                return method(self, *args, **kwargs)
            with _OwnMetrics(self):
                return method(self, *args, **kwargs)

    return reading


class Model(Trainer, Layer):
    """A network of layers with Keras's training API.

    ``Model(inputs, outputs)`` takes :func:`~glassnet.layers.Input` tensors
    and the KerasTensors obtained by calling layers on them, each alone or in
    a list or dict: any graph of layer calls between them (branches, merges,
    shared layers, models used as layers; :mod:`glassnet.models.functional`).
    ``model(x)`` and ``predict`` take and give the structures the model was
    made with. Subclasses may instead set layers as attributes in
    ``__init__`` and define ``call(inputs)`` (``training`` too if they use
    it), as in Keras: the layers, their weights and losses are tracked as a
    Layer's are.

    >>> inputs = Input((1024,))
    >>> hidden = Dense(4, activation="relu")(inputs)
    >>> model = Model(inputs, [Dense(1)(hidden), Dense(3)(hidden)])

    A ``Conv2D`` (relu or no activation) followed by a ``MaxPooling2D`` whose
    windows tile runs as one engine node: the same outputs, gradients equal up
    to the order of float sums (:mod:`glassnet.layers.fusion`); set
    ``fuse_layers = False`` before the model is built to run every layer on its
    own.
    """

    fuse_layers = True
    #: Whether the model is a chain of layers built one after the other (a
    #: Sequential, also when a subclass brings its own ``call``).
    _chain_of_layers = False

    def __init__(
        self,
        inputs: Any = None,
        outputs: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if name is None and type(self) is Model:
            name = unique_name("functional")
        self._lock = ReadWriteLock()
        self._evaluating: dict[int, Any] = {}  # thread -> its evaluate's metrics
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
            if not self.trainable:
                self.trainable = False  # now that the layers are known

    # --- structure ----------------------------------------------------------------
    def _init_functional(self, inputs: Any, outputs: Any) -> None:
        """The graph from ``inputs`` to ``outputs`` (KerasTensors, or lists,
        tuples and dicts of them), checked and ordered as Keras orders it."""
        graph = make_graph(inputs, outputs)
        graph.compile(self.fuse_layers)
        self._graph = graph
        self._layers = graph.layers
        firsts = [t._keras_history[0] for t in graph.inputs]
        self._input_layer = firsts[0] if len(firsts) == 1 else None
        computing = [x for x in graph.layers if not isinstance(x, InputLayer)]
        self._dtype = computing[0]._dtype if computing else self._dtype
        self._forward_fns = graph.fused
        shapes = [without_batch(t.shape) for t in graph.inputs]
        self._build_shape = shapes[0] if len(shapes) == 1 else shapes
        self.built = True

    @property
    def layers(self) -> list[Layer]:
        """The model's layers: a functional model's in Keras's graph order
        (inputs included), a subclassed model's in the order they were set
        as attributes."""
        return self._sublayers()

    def _compute_layers(self) -> list[Layer]:
        return [layer for layer in self._layers if not isinstance(layer, InputLayer)]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by its ``name`` (unique in the model) or its ``index`` in
        :attr:`layers`."""
        if index is not None and name is not None:
            raise ValueError(
                "Provide only a layer name or a layer index. Received: "
                f"index={index}, name={name}."
            )
        layers = self.layers
        if index is not None:
            if len(layers) <= index:
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only "
                    f"has {len(layers)} layers."
                )
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: {name}. Existing layers are: "
                f"{[layer.name for layer in layers]}."
            )
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    # --- the graph's ends ----------------------------------------------------------
    def _symbolic_graph(self) -> FunctionalGraph:
        graph = self.__dict__.get("_graph")
        if graph is None:
            raise AttributeError(
                f"Model {self.name!r} has no symbolic inputs and outputs: it is "
                "neither a functional model nor a Sequential model that knows "
                "its input shape."
            )
        return graph

    @property
    def inputs(self) -> list[KerasTensor]:
        """The symbolic inputs (a flat list), of a functional or built
        Sequential model."""
        return list(self._symbolic_graph().inputs)

    @property
    def outputs(self) -> list[KerasTensor]:
        """The symbolic outputs (a flat list)."""
        return list(self._symbolic_graph().outputs)

    @property
    def input(self) -> Any:
        """The symbolic inputs as the model was given them."""
        return self._symbolic_graph().inputs_struct

    @property
    def output(self) -> Any:
        """The symbolic outputs as the model was given them."""
        return self._symbolic_graph().outputs_struct

    @property
    def output_names(self) -> list[str]:
        """Keras's ``output_names``: the names of the layers that make the
        outputs, in the order of :attr:`outputs`."""
        return [t._keras_history[0].name for t in self.outputs]

    @property
    def _several(self) -> bool:
        """Whether the model has several inputs or several outputs (or takes
        or returns them in a list or dict)."""
        graph = self.__dict__.get("_graph")
        return graph is not None and graph.structured

    @property
    def _output_dtypes(self) -> Any:
        """The outputs' dtypes, for a symbolic call of this model."""
        graph = self.__dict__.get("_graph")
        if graph is None:
            return None
        dtypes = [t.dtype for t in graph.outputs]
        return dtypes if tree.is_nested(graph.outputs_struct) else dtypes[0]

    @property
    def input_shape(self) -> Any:
        """The input shape (batch ``None``); a list of them for several inputs."""
        graph = self.__dict__.get("_graph")
        if graph is not None and self._functional:
            shapes = [t.shape for t in graph.inputs]
            return shapes[0] if len(shapes) == 1 else shapes
        return self._build_shape

    @property
    def output_shape(self) -> Any:
        """The output shape; a list of them for several outputs."""
        graph = self.__dict__.get("_graph")
        if graph is not None and self._functional:
            shapes = [t.shape for t in graph.outputs]
            return shapes[0] if len(shapes) == 1 else shapes
        if not self._output_shapes and self._subclassed and self.built:
            self._probe_output_shape()  # a subclass's own build ran, not call
        return self._output_shapes[-1] if self._output_shapes else self._build_shape

    # --- subclassed models: layers set as attributes, a custom ``call`` ---------
    @property
    def _subclassed(self) -> bool:
        return type(self).call is not Model.call

    def _build_subclassed(self, shape: Any) -> None:
        """Build a subclassed model by running its ``call`` once on zeros."""
        if self.built and shape == self._build_shape:
            return  # another thread built it while this one waited
        self._build_shape = shape
        self._probe_output_shape()
        self.built = True

    def _probe_output_shape(self) -> None:
        outputs = self._probe(self._build_shape)
        self._output_shapes = [
            tree.map_structure(
                lambda t: (None, *t.data.shape[1:]) if isinstance(t, Tensor) else None,
                outputs,
            )
        ]

    def build(self, input_shape: Any) -> None:
        """Build every layer in turn, from ``input_shape`` (batch axis ``None``;
        a subclassed model: a structure of shapes for several inputs)."""
        if self._functional:
            return  # built with its graph
        shape = without_batch(standardize_shapes(input_shape, "input_shape"))
        if self._subclassed and not self._chain_of_layers:
            self._build_subclassed(shape)
            return
        layers = self._compute_layers()
        # NOTE: the shapes and calls are made aside, then assigned whole: a
        # thread already predicting never sees them half made.
        build_shape, output_shapes = shape, []
        for layer in layers:
            layer.build_for(shape)
            shape = tuple(layer.compute_output_shape(shape))
            output_shapes.append(shape)
        self._build_shape, self._output_shapes = build_shape, output_shapes
        self._forward_fns = layer_calls(layers, self.fuse_layers)
        self._dtype = layers[0]._dtype if layers else self._dtype
        self.built = True
        if self._subclassed:  # a chain whose own call runs it: that call's output
            self._output_shapes = []
            self._probe_output_shape()
        trace = getattr(self, "_trace_graph", None)
        if trace is not None:
            trace()  # a Sequential's symbolic inputs and outputs

    def build_for(self, input_shape: Any) -> None:
        if not self.built:
            with BUILD_LOCK:
                if not self.built:
                    self.build(input_shape)
                    return
        self._check_input(standardize_shapes(input_shape, "input_shape"))

    def _check_input(self, shape: Any) -> None:
        expected = self._build_shape
        fits = self.__dict__.get("_fits")
        if fits is not None and fits[0] is expected and fits[1] == shape:
            return  # NOTE: the last input that fitted this build (most calls)
        if expected is None or not (
            is_single_shape(shape) and is_single_shape(expected)
        ):
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
        self.__dict__["_fits"] = (expected, shape)

    def call(self, inputs: Any, training: Any = None) -> Any:
        """Run the layers: a chain one after the other, a graph's calls in
        order (:class:`~glassnet.models.functional.FunctionalGraph`)."""
        if self._functional:
            graph = self._graph
            if graph.chain is None:
                if type(inputs) is Tensor and len(graph.inputs) == 1:
                    flat = [inputs]  # checked by prepare_input
                else:
                    flat = self._flat_inputs(inputs)
                return unpack_singleton(graph.run(flat, training))
            if type(inputs) is not Tensor:
                inputs = self._flat_inputs(inputs)[0]  # [x] for a model of [input]
            if isinstance(graph.outputs_struct, dict):  # a chain to {name: output}
                return tree.pack_sequence_as(
                    graph.outputs_struct, [graph.run([inputs], training)]
                )
        fns = self._forward_fns
        if fns is None:
            fns = self._relink()
        for fn in fns:  # a layer's one-input call, or a fused pair
            inputs = fn(inputs, training)
        return inputs

    def _inference_plan(self) -> Any:
        """The seam's plan for this Sequential's layers at inference
        (:mod:`glassnet.runtime.inference`), or None; made again whenever the
        chain's calls are (a new build, a copy)."""
        return self._kept_plan("_inference_kept", "chain_inference")

    def _training_plan(self) -> Any:
        """The seam's plan of this Sequential's training step
        (:mod:`glassnet.runtime.training`), or None; as :meth:`_inference_plan`,
        and made again when a layer's ``trainable`` flag changes."""
        flags = tuple(layer.trainable for layer in self._compute_layers())
        return self._kept_plan("_training_kept", "chain_training", flags)

    def _kept_plan(self, key: str, name: str, extra: Any = None) -> Any:
        fns = self._forward_fns
        kept = self.__dict__.get(key)
        if kept is not None and kept[0] is fns and kept[1] == extra:
            return kept[2]
        plan = None
        if fns is not None and not self._functional and not self._subclassed:
            plan = seam.fast(name, self._compute_layers(), self._dtype)
        self.__dict__[key] = (fns, extra, plan)
        return plan

    def _relink(self) -> list[Callable]:
        """The chain's calls again (after a copy or unpickling, which drop
        them: fused pairs are closures)."""
        if self._functional:
            self._graph.compile(self.fuse_layers)
            fns = self._graph.fused
        else:
            fns = layer_calls(self._compute_layers(), self.fuse_layers)
        self._forward_fns = fns
        return fns

    def _flat_inputs(self, inputs: Any) -> list[Any]:
        """The inputs as a flat list of Tensors, checked against
        :attr:`inputs` (:meth:`FunctionalGraph.flatten_inputs`)."""
        return self._graph.flatten_inputs(inputs, self.name, self._as_tensor)

    def compute_output_shape(self, input_shape: Any) -> Any:
        graph = self.__dict__.get("_graph")
        if graph is None or not self._functional:
            if not self.built:
                self.build(input_shape)
            return self.output_shape
        shapes = standardize_shapes(input_shape, "input_shape")
        return unpack_singleton(graph.compute_output_shape(shapes))

    # --- weights (tracked as a Layer's: its own, then each layer's) -------------
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
        with self._lock.read():
            return [w.data.copy() for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        with self._lock.write():
            assign_weights(self.weights, weights, f"Model {self.name!r}")

    def __call__(self, *args: Any, training: Any = UNSET, **kwargs: Any) -> Any:
        if args and isinstance(args[0], KerasTensor):
            return symbolic_call(self, args, kwargs, training)
        if len(args) == 1 and type(args[0]) is np.ndarray and not kwargs:
            out = self._planned_call(args[0], training)
            if out is not None:
                return out
        writes = training
        if training is UNSET or training is None:
            index = self._call_signature.training_index
            writes = args[index] if 0 < index < len(args) else CONTEXT.state.training
        # training=True may move state (BatchNormalization's moving statistics);
        # the kernels' thread and BLAS policy for the whole call, as in predict
        with self._lock.write() if writes else self._lock.read(), kernel_scope():
            return Layer.__call__(self, *args, training=training, **kwargs)

    def _planned_call(self, x: np.ndarray, training: Any) -> Tensor | None:
        """``model(x)`` for an array where no graph is recorded and nothing
        trains: the inference plan's output (:meth:`_inference_plan`) as a
        Tensor, ``x`` checked as the layers' call checks it; None where the
        layers' calls must run (a graph, training, a call inside another
        layer's, a model with no plan). An array carries no mask, and no
        layer of a plan makes one."""
        if is_grad_enabled() or not self.built:
            return None
        ctx = CONTEXT.state
        if ctx.entry is not None:
            return None
        if training is UNSET:
            if ctx.training:
                return None
        elif training is not None and training is not False:
            return None
        plan = self._inference_plan()
        if plan is None:
            return None
        with self._lock.read():
            out = plan.run(self._as_x(x))
        return None if out is None else Tensor(out)

    def prepare_input(self, x: Any) -> Tensor:
        """An array checked and cast as ``fit`` checks it (the first one builds
        the model); a Tensor as it is."""
        if self._functional:
            if len(self._graph.inputs) > 1:
                raise ValueError(self._graph.structure_error(x))
            x = fit_rank(x, self._graph.inputs[0].shape)
        if not isinstance(x, Tensor):
            return Tensor(self._as_x(x))
        if self.built:
            self._check_input(x.data.shape)
        else:
            self.build_for(x.data.shape)
        return x

    def _forward(self, x: np.ndarray, training: bool) -> Any:
        """The trainer's steps' call, as Keras 3's: ``self(x, training=...)``
        if ``call`` declares ``training``, else ``self(x)`` (its layers then
        use their own defaults). The caller has checked ``x``, built the model
        and holds its lock."""
        if not self._call_signature.training:
            training = UNSET
        if isinstance(x, list):  # several inputs: one array each, in order
            tensors = [Tensor(a) for a in x]
            if hasattr(x, "packed"):  # a subclassed model's dict, list or tuple
                return self._run(x.packed(tensors), (), {}, training)
            return self._run(tensors, (), {}, training)
        return self._run(Tensor(x), (), {}, training)

    # --- threads: one training step at a time, predictions between steps --------
    def _train_step(self, batch: Any, params: list[Tensor]) -> Any:
        lock = self._lock  # NOTE: no context-manager frames on the hot path
        lock.acquire_write()
        try:
            return Trainer._train_step(self, batch, params)
        finally:
            lock.release_write()

    predict = _reading(Trainer.predict)
    predict_on_batch = _reading(Trainer.predict_on_batch)
    evaluate = _reading(Trainer.evaluate, own_metrics=True)
    test_on_batch = _reading(Trainer.test_on_batch, own_metrics=True)

    @property
    def _compile_metrics(self) -> Any:
        """The compiled metrics: the model's, or inside ``evaluate`` this
        thread's own copy of them (so an evaluation never resets or adds to
        the metrics of a fit running in another thread)."""
        state = self.__dict__
        evaluating = state.get("_evaluating")
        if evaluating:  # NOTE: empty unless an evaluate runs: one check a step
            own = evaluating.get(get_ident())
            if own is not None:
                return own
        return state.get("_shared_metrics")

    @_compile_metrics.setter
    def _compile_metrics(self, metrics: Any) -> None:
        self.__dict__["_shared_metrics"] = metrics

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_lock", None)
        state.pop("_evaluating", None)
        state["_forward_fns"] = None  # closures: made again when first needed
        state.pop("_inference_kept", None)
        state.pop("_training_kept", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.__dict__["_lock"] = ReadWriteLock()
        self.__dict__["_evaluating"] = {}

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
            connections=self._summary_connections(),
        )

    def _summary_rows(self) -> list[tuple[Layer, Any]]:
        """(layer, output shape) of each row of ``summary()`` (and of the HTML
        table and ``glassnet.plot.plot_model``); the shape is None if unknown,
        a list of shapes for a layer with several outputs. A functional
        model's rows are its layers (inputs included) with the shapes of
        each layer's latest call, as Keras shows them."""
        if self._functional:
            rows = []
            for layer in self.layers:
                nodes = layer._inbound_nodes
                shapes = [t.shape for t in nodes[-1].outputs] if nodes else [None]
                rows.append((layer, shapes[0] if len(shapes) == 1 else shapes))
            return rows
        rows = []
        shapes = iter(() if self._subclassed else self._output_shapes)
        for layer in self._sublayers():
            if isinstance(layer, InputLayer):
                continue
            rows.append((layer, next(shapes, None) if self.built else None))
        return rows

    def _summary_connections(self) -> list[str] | None:
        """Keras's "Connected to" column of a functional model that is not one
        chain; None for a chain, a Sequential or a subclassed model."""
        return connections(self._graph) if self._functional else None

    def _repr_html_(self) -> str:
        """Jupyter's view of a model: the ``summary()`` table, as HTML."""
        return summary_html(self, self._summary_rows(), self._summary_connections())

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

    def get_compile_config(self) -> dict[str, Any] | None:
        """Keras's ``compile_config``: the optimizer (its current settings),
        loss and metrics as Keras 3 writes them; None before ``compile``."""
        args = getattr(self, "_compile_arguments", None)
        if not self.compiled or args is None:
            return None
        metrics, weighted = args.get("metrics"), args.get("weighted_metrics")
        return {
            "optimizer": optimizers.serialize(self.optimizer),
            "loss": _serialized(args.get("loss"), losses.serialize),
            "loss_weights": args.get("loss_weights"),
            "metrics": _serialized(_as_list(metrics), metrics_module.serialize),
            "weighted_metrics": _serialized(
                _as_list(weighted), metrics_module.serialize
            ),
            "run_eagerly": bool(args.get("run_eagerly")),
            "steps_per_execution": args.get("steps_per_execution", 1),
            "jit_compile": bool(args.get("jit_compile")),
        }

    def compile_from_config(self, config: dict[str, Any]) -> None:
        """``compile`` with the arguments of :meth:`get_compile_config` (for
        several outputs, lists and dicts of them). A model whose outputs
        glassnet does not train (nested lists or dicts) is left uncompiled,
        with a warning."""
        try:
            Outputs.of(self)
        except NotImplementedError as error:
            warnings.warn(
                f"{error}. The model was saved compiled; it is loaded without its "
                "compile arguments and optimizer state.",
                stacklevel=2,
            )
            return
        self.compile(
            optimizer=optimizers.get(config.get("optimizer")),
            loss=_from_config(config.get("loss"), _loss),
            metrics=_from_config(config.get("metrics"), _metric),
            loss_weights=config.get("loss_weights"),
            weighted_metrics=_from_config(config.get("weighted_metrics"), _metric),
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


def _is_leaf(value: Any) -> bool:
    """A loss or metric rather than a list or dict of them (a config dict,
    ``{"class_name": ...}``, is one)."""
    return not isinstance(value, (list, tuple, dict)) or (
        isinstance(value, dict) and "class_name" in value
    )


def _as_list(metrics: Any) -> Any:
    return [metrics] if metrics is not None and _is_leaf(metrics) else metrics


def _serialized(value: Any, serialize: Callable[[Any], Any]) -> Any:
    """``value`` (a loss or metric, or lists and dicts of them: several
    outputs) as Keras 3 writes it in a compile config."""
    if value is None:
        return None
    if _is_leaf(value):
        return serialize(value)
    if isinstance(value, dict):
        return {key: _serialized(entry, serialize) for key, entry in value.items()}
    return [_serialized(entry, serialize) for entry in value]


def _loss(config: Any) -> Any:
    return config if isinstance(config, str) else losses.get(config)


def _metric(config: Any) -> Any:
    return config if isinstance(config, str) else metrics_module.get(config)


def _from_config(value: Any, read: Callable[[Any], Any]) -> Any:
    """A compile config's loss or metrics (lists and dicts of them too) as
    ``compile`` takes them: names stay names, configs become objects."""
    if value is None:
        return None
    if _is_leaf(value):
        return read(value)
    if isinstance(value, dict):
        return {key: _from_config(entry, read) for key, entry in value.items()}
    return [_from_config(entry, read) for entry in value]


class _OwnMetrics:
    """Inside ``evaluate``: this thread works on its own copy of the compiled
    metrics, made fresh for each call."""

    __slots__ = ("model", "outer")

    def __init__(self, model: Model) -> None:
        self.model = model

    def __enter__(self) -> None:
        evaluating, me = self.model._evaluating, get_ident()
        shared = self.model.__dict__.get("_shared_metrics")
        self.outer = evaluating.get(me)
        if shared is not None:
            evaluating[me] = copy.deepcopy(shared)

    def __exit__(self, *exc: object) -> None:
        evaluating, me = self.model._evaluating, get_ident()
        if self.outer is None:
            evaluating.pop(me, None)
        else:
            evaluating[me] = self.outer
