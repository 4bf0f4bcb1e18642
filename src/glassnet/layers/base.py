"""Layer: the Keras lifecycle on the glassnet engine.

``__init__`` stores the configuration, ``build(input_shape)`` creates the weights
(``Tensor`` objects with ``requires_grad=True``) through :meth:`Layer.add_weight`,
``call(inputs)`` is the math, written with ``glassnet.ops`` so every step has
its own local gradient, and ``compute_output_shape`` lets ``summary()`` show
shapes without running data through the model.

As in Keras 3, every ``build`` (the subclass's own included) is wrapped so that
it marks the layer built and records its input shape: a layer built by hand is
never built again by its first call, so weights set in between are kept, and a
second ``build`` of a layer that has weights is an error. Builds hold one
process-wide lock, so the first call of an unbuilt layer from several threads
builds it once.

Subclassing works as in Keras 3:

- ``call`` gets ``training`` only if its signature declares it; nested layers
  inherit the value of the call around them (:mod:`.call_context`).
- Layers assigned as attributes (also in lists, tuples and dicts) are tracked,
  and so are weights (leaf Tensors that require grad): ``weights`` lists the
  layer's own (trainable ones first), then each sublayer's in turn; setting
  ``trainable`` sets it on every sublayer too.
- ``add_loss`` inside ``call``; ``losses`` holds what the latest call added
  (activity penalties included), then the weight regularization penalties.
- Inputs may be lists, tuples and dicts of tensors (NumPy arrays are made
  Tensors), and ``build`` then gets the same structure of shapes.

Called on symbolic tensors (``Input(...)`` and what layers made of it), a
layer builds, records the call as a :class:`~glassnet.layers.node.Node` and
returns symbolic outputs (:mod:`glassnet.layers.node`); ``input`` and
``output`` are those of its first such call. ``Model(inputs, outputs)``
runs the recorded calls (:mod:`glassnet.models.functional`).
"""

from __future__ import annotations

import collections
import functools
import re
import threading
from typing import Any

import numpy as np

from glassnet import initializers, ops, regularizers, tree
from glassnet._registry import dtype_policy_name, without_keras_only
from glassnet.autograd import Tensor, no_grad
from glassnet.layers import masking
from glassnet.layers.budget import charge
from glassnet.layers.call_context import CONTEXT, UNSET, CallSignature
from glassnet.layers.node import KerasTensor, has_keras_tensors, symbolic_call

_NAME_COUNTS: collections.Counter[str] = collections.Counter()
_NAME_LOCK = threading.Lock()
# NOTE: one lock for every build (re-entrant: a model's build builds its layers).
# Builds happen once per layer, so a process-wide lock costs nothing measurable,
# and a lock object per layer would have to be dropped from every pickle.
BUILD_LOCK = threading.RLock()
_NESTS = (list, tuple, dict)
_HOLDS_WEIGHTS = (Tensor, list, tuple, dict)


def to_snake_case(name: str) -> str:
    """Keras's automatic layer name: ``"BatchNormalization"`` ->
    ``"batch_normalization"``, ``"Conv2D"`` -> ``"conv2d"``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base: str) -> str:
    """Keras-style automatic names: ``dense``, then ``dense_1``, ``dense_2``, ...
    (unique across threads too)."""
    with _NAME_LOCK:
        count = _NAME_COUNTS[base]
        _NAME_COUNTS[base] += 1
    return base if count == 0 else f"{base}_{count}"


def clear_session() -> None:
    """Restart automatic naming (the next Dense is called ``dense`` again)."""
    with _NAME_LOCK:
        _NAME_COUNTS.clear()


def tracks_build(build: Any) -> Any:
    """Wrap a layer's ``build(input_shape)`` as Keras 3 does: the shape (or
    structure of shapes) is standardized, the layer is marked built and its
    input shape recorded, all under the build lock. A layer that already has
    weights is not built again (ValueError, nothing changed): its weights were
    made once and are kept. Weights made inside are named after the layer
    (and after the layers whose build or first call is running around it)."""
    if getattr(build, "_tracks_build", False):
        return build

    @functools.wraps(build)
    def wrapper(self: Layer, input_shape: Any, *args: Any, **kwargs: Any) -> None:
        shape = standardize_shapes(input_shape, "input_shape")
        with BUILD_LOCK:
            if self.built and self._weights:
                raise ValueError(
                    f"Layer {self.name!r} is already built (for input shape "
                    f"{self._build_shape}): build() creates the weights once, and "
                    f"they are kept. Received: input_shape={input_shape!r}"
                )
            state = CONTEXT.state
            scope = state.scope
            state.scope = (*scope, self)
            try:
                build(self, shape, *args, **kwargs)
            finally:
                state.scope = scope
            self._build_shape = without_batch(shape)
            self.built = True

    wrapper._tracks_build = True  # type: ignore[attr-defined]
    return wrapper


def assign_weights(own: list[Tensor], values: Any, owner: str) -> None:
    """Copy ``values`` into the tensors ``own`` in place, all or nothing: every
    count and shape is checked before the first weight changes."""
    if len(values) != len(own):
        raise ValueError(
            f"{owner} has {len(own)} weights, but the weight list has "
            f"{len(values)} elements."
        )
    arrays = [np.asarray(v) for v in values]
    for w, v in zip(own, arrays):
        if v.shape != w.data.shape:
            raise ValueError(
                f"{owner}: weight {w.name!r} has shape {w.data.shape}; the value "
                f"has shape {v.shape}."
            )
    for w, v in zip(own, arrays):
        w.assign(v)


def standardize_shape(shape: Any, what: str = "shape") -> tuple[int | None, ...]:
    """A shape as a tuple of ints (``None`` for unknown); an int becomes ``(n,)``."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"A shape must be a tuple of integers (or None). Received: {what}={shape!r}"
        ) from None
    if any(d is not None and d < 0 for d in shape):
        raise ValueError(
            f"A shape cannot have negative dimensions. Received: {what}={shape!r}"
        )
    return shape


def is_single_shape(shapes: Any) -> bool:
    """Whether ``shapes`` is one shape rather than a structure of several
    (quick: a shape starts with an int or None)."""
    if isinstance(shapes, dict):
        return False
    if not isinstance(shapes, (tuple, list)) or not shapes:
        return True
    first = shapes[0]
    return tree.is_shape(shapes) if first is None else not isinstance(first, _NESTS)


def standardize_shapes(shapes: Any, what: str = "shape") -> Any:
    """A shape, or a list, tuple or dict of shapes (the inputs of a layer that
    takes several), each standardized; None stays None."""
    if shapes is None:
        return None
    if is_single_shape(shapes):
        return standardize_shape(shapes, what)
    return tree.map_shape_structure(
        lambda s: None if s is None else standardize_shape(s, what), shapes
    )


def without_batch(shapes: Any) -> Any:
    """``shapes`` with ``None`` for the batch axis of each shape."""

    def one(shape: Any) -> Any:
        return (None, *shape[1:]) if shape else shape

    return tree.map_shape_structure(one, shapes)


def _is_structure(x: Any) -> bool:
    """Whether an input is several tensors (a dict, or a list or tuple holding
    arrays or Tensors) rather than one array given as nested lists."""
    if isinstance(x, dict):
        return True
    return isinstance(x, (list, tuple)) and any(
        isinstance(e, (Tensor, np.ndarray, KerasTensor))
        or (isinstance(e, _NESTS) and _is_structure(e))
        for e in x
    )


#: Attributes of glassnet's own bookkeeping: never searched for sublayers.
_BOOKKEEPING = frozenset(
    {
        "_weights",
        "_trainable_flags",
        "_regularizers",
        "_forward_fns",
        "_build_shape",
        "_batch_input_shape",
        "_output_shapes",
        "_evaluating",
        "_compile_arguments",
        "_inbound_nodes",
        "_graph",
    }
)


def _find_layers(value: Any, owner: Layer, found: list, seen: set) -> None:
    """Append to ``found`` the layers in ``value`` (a layer, or a list, tuple or
    dict holding layers at any depth), each once, never ``owner``."""
    if isinstance(value, Layer):
        if value is not owner and id(value) not in seen:
            seen.add(id(value))
            found.append(value)
    elif isinstance(value, _NESTS) and id(value) not in seen:
        seen.add(id(value))  # NOTE: a list may hold itself
        for item in value.values() if isinstance(value, dict) else value:
            _find_layers(item, owner, found, seen)


def _leaf_weights(value: Any, found: list, seen: set) -> list[Tensor]:
    """Append to ``found`` the weights in an attribute's value: leaf Tensors
    that require grad, alone or in lists, tuples and dicts."""
    if isinstance(value, Tensor):
        if value.requires_grad and value._ctx is None:
            found.append(value)
    elif isinstance(value, _NESTS) and value and id(value) not in seen:
        seen.add(id(value))
        for item in value.values() if isinstance(value, dict) else value:
            _leaf_weights(item, found, seen)
    return found


def _positional_weight_arguments(
    args: tuple, shape: Any, initializer: Any, dtype: Any
) -> tuple[Any, Any, Any]:
    """Keras 3's positional ``add_weight(shape, initializer, dtype)``; a name
    first (Keras 2's order) is an error that says how to write it."""
    if len(args) > 3:
        raise TypeError(
            f"add_weight() takes at most 3 positional arguments but {len(args)} "
            "were given."
        )
    if isinstance(args[0], str):
        raise ValueError(
            "`name` must be passed as a keyword argument. Received: "
            f"add_weight({args[0]!r}, ...). Use: add_weight(shape=..., "
            f"name={args[0]!r})."
        )
    given = [shape, initializer, dtype]
    for i, (value, what) in enumerate(zip(args, ("shape", "initializer", "dtype"))):
        if given[i] is not None:
            raise ValueError(
                f"`{what}` was passed both positionally and as a keyword argument."
            )
        given[i] = value
    return given[0], given[1], given[2]


class Layer:
    """Base class of every layer.

    Parameters
    ----------
    name : str, optional
        Unique automatic name from the class name when omitted (``dense_1``).
    dtype : str or numpy dtype, default "float32"
        The dtype of the weights and of the computation.
    trainable : bool, default True
        Whether the weights are updated by training.
    input_shape, input_dim, batch_input_shape :
        Legacy Keras keywords: the shape of one sample (without the batch axis),
        read by ``Sequential`` when this is the first layer.

    ``keras_only`` (a class attribute) lists Keras arguments the layer lacks
    with their Keras defaults: ``get_config`` writes them, so the config is the
    one Keras writes, and ``from_config`` accepts them at those values only.
    """

    keras_only: dict[str, Any] = {}
    _call_signature: CallSignature
    #: The calls of this layer on symbolic tensors (:class:`~.node.Node`),
    #: a list once it has one.
    _inbound_nodes: Any = ()
    #: Whether ``call`` is a user's (not glassnet's): the default
    #: ``compute_output_shape`` then runs it to find the output shape.
    _user_call = False

    def __init__(
        self,
        name: str | None = None,
        dtype: Any = None,
        trainable: bool = True,
        input_shape: Any = None,
        input_dim: int | None = None,
        batch_input_shape: Any = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                f"{kwargs}"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"A layer name must be a string. Received: name={name!r}")
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        dtype = dtype_policy_name(dtype)
        try:
            self._dtype = np.dtype(dtype or "float32")
        except TypeError:
            raise ValueError(
                f"Invalid dtype for layer {self.name!r}. Received: dtype={dtype!r}"
            ) from None
        if not np.issubdtype(self._dtype, np.floating):
            raise ValueError(
                f"A layer computes in a floating-point dtype. Received: dtype={dtype!r}"
            )
        if self._user_mask:
            masking.enable()
        self._weights: list[Tensor] = []
        self._trainable_flags: list[bool] = []  # as created: the Keras order
        self._regularizers: list[tuple[Tensor, Any]] = []
        self.trainable = bool(trainable)
        self.built = False
        # NOTE: per thread: the losses of this thread's last call, so a
        # prediction in one thread never changes another's training loss.
        self._call_losses = threading.local()
        self._build_shape: Any = None
        self._batch_input_shape = None
        if batch_input_shape is not None:
            self._batch_input_shape = standardize_shape(
                batch_input_shape, "batch_input_shape"
            )
        elif input_shape is not None:
            shape = standardize_shape(input_shape, "input_shape")
            self._batch_input_shape = (None, *shape)
        elif input_dim is not None:
            if not isinstance(input_dim, (int, np.integer)) or input_dim <= 0:
                raise ValueError(
                    "input_dim must be a positive integer. "
                    f"Received: input_dim={input_dim!r}"
                )
            self._batch_input_shape = (None, int(input_dim))
        self.activity_regularizer = None
        if activity_regularizer is not None:
            self.activity_regularizer = regularizers.get(activity_regularizer)

    # --- dtype ------------------------------------------------------------------
    @property
    def dtype(self) -> str:
        return self._dtype.name

    #: Whether the class has a ``compute_mask`` of its own from outside
    #: glassnet (its instances may make masks: see glassnet.layers.masking).
    _user_mask = False

    #: The exact rank of the input, checked on every call (Keras's
    #: ``InputSpec(ndim=...)``); None: any rank.
    input_ndim: int | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = tracks_build(cls.__dict__["build"])
        if "compute_mask" in cls.__dict__:
            module = getattr(cls.compute_mask, "__module__", None) or ""
            cls._user_mask = not module.startswith("glassnet.")
        if "call" in cls.__dict__:
            cls._call_signature = CallSignature(cls.call)
            module = getattr(cls.call, "__module__", None) or ""
            cls._user_call = not module.startswith("glassnet.")

    def __getstate__(self) -> dict[str, Any]:
        # NOTE: the per-thread losses are transient (and a threading.local
        # does not pickle).
        state = dict(self.__dict__)
        state.pop("_call_losses", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.pop("_activity", None)  # a layer pickled by an older glassnet
        if "trainable" in state:
            state["_trainable"] = state.pop("trainable")
        state["_call_losses"] = threading.local()
        # NOTE: not through self.__dict__, which (CPython 3.11) would slow
        # every later attribute read of the layer.
        for name, value in state.items():
            object.__setattr__(self, name, value)

    # --- tracking: weights and layers set as attributes -------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, _TRACKABLE) and name not in _BOOKKEEPING:
            self._track(name, value)  # a layer, weight, list, tuple or dict
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        object.__delattr__(self, name)
        getattr(self, "_tracked_names", {}).pop(name, None)

    def _track(self, name: str, value: Any) -> None:
        """Remember attribute ``name`` if it may hold layers (they are looked
        up when asked for, so a list appended to later counts), and add the
        weights in ``value`` (leaf Tensors that require grad) to this
        layer's own, as created trainable."""
        names = getattr(self, "_tracked_names", None)
        if names is None:
            names = {}
            object.__setattr__(self, "_tracked_names", names)
        if not isinstance(value, Tensor):
            names[name] = None
        elif name in names:  # a layer or list there before
            del names[name]
        weights = getattr(self, "_weights", None)
        if weights is None or not isinstance(value, _HOLDS_WEIGHTS):
            return
        for w in _leaf_weights(value, [], set()):
            if not any(w is own for own in weights):
                weights.append(w)
                self._trainable_flags.append(True)

    def _sublayers(self) -> list[Layer]:
        """The layers this layer holds as attributes, directly or in lists,
        tuples and dicts (Keras's ``_layers``), in the order they were set."""
        found: list[Layer] = []
        seen: set[int] = set()
        # NOTE: a snapshot: another thread may set an attribute meanwhile
        for name in tuple(getattr(self, "_tracked_names", ())):
            _find_layers(getattr(self, name, None), self, found, seen)
        return found

    def _flatten_layers(self, include_self: bool = True) -> list[Layer]:
        """This layer and every layer inside it, each once, in Keras's order
        (the order of ``losses``)."""
        layers = [self] if include_self else []
        seen = {id(self)}
        queue = collections.deque(self._sublayers())
        while queue:
            layer = queue.popleft()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            layers.append(layer)
            queue.extendleft(layer._sublayers())  # NOTE: as Keras: reversed
        return layers

    @property
    def trainable(self) -> bool:
        """Whether training updates the weights. Setting it sets it on every
        sublayer, and (as Keras's ``Variable.trainable``) ``requires_grad`` on
        every weight created trainable: a frozen weight gets no gradient."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        value = bool(value)
        object.__setattr__(self, "_trainable", value)
        weights = getattr(self, "_weights", None)
        if weights is None:  # in __init__
            return
        for w, flag in zip(weights, self._trainable_flags):
            if flag and np.issubdtype(w.data.dtype, np.inexact):
                w.requires_grad = value
        for layer in self._sublayers():
            layer.trainable = value

    # --- lifecycle --------------------------------------------------------------
    @tracks_build
    def build(self, input_shape: Any) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis ``None``;
        for several inputs, a list, tuple or dict of shapes).

        Calling it by hand marks the layer built, as the first call would: the
        weights it makes (and any set with ``set_weights`` afterwards) are the
        ones the layer computes with. This default builds the sublayers that
        are not built by running ``call`` once on zeros (as Keras traces it),
        except within the layer's first call, which builds them itself.
        """
        if CONTEXT.state.eager is not self and input_shape is not None:
            self._build_sublayers(input_shape)

    def _build_sublayers(self, input_shape: Any) -> None:
        """Run ``call`` once on zeros if some sublayers are not built yet (a
        build that did not build them), so every weight exists."""
        if any(not layer.built for layer in self._sublayers()):
            self._probe(input_shape)

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        """The layer's math, Tensor -> Tensor, written with ``glassnet.ops``."""
        return x

    # --- masks (see glassnet.layers.masking) ------------------------------------
    @property
    def supports_masking(self) -> bool:
        """Whether the layer passes a mask on to its output (Keras's rule:
        when it has its own ``compute_mask``, unless set)."""
        own = self.__dict__.get("_supports_masking")
        return type(self).compute_mask is not Layer.compute_mask if own is None else own

    @supports_masking.setter
    def supports_masking(self, value: bool) -> None:
        self.__dict__["_supports_masking"] = bool(value)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The mask of the output for ``inputs`` whose mask is
        ``previous_mask``: the same one, by default."""
        return previous_mask

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape for ``input_shape`` (batch axis ``None``). This
        default is the input shape for glassnet's layers, and for a user's
        ``call`` the shape of what it returns on zeros of ``input_shape``."""
        if not self._user_call:
            return tuple(input_shape)
        batch = None if not tree.is_shape(input_shape) else input_shape[0]
        outputs = self._probe(standardize_shapes(input_shape, "input_shape"))
        return tree.map_structure(
            lambda t: (batch, *t.data.shape[1:]) if isinstance(t, Tensor) else None,
            outputs,
        )

    def _probe(self, input_shape: Any) -> Any:
        """``call`` on zeros of ``input_shape`` (batch 1; 1 for unknown axes),
        on its own (not part of a call around it), without gradients, and
        forgetting the losses it adds. Builds the sublayers; returns the
        outputs."""

        def zeros(shape: Any) -> Any:
            if shape is None:
                return None
            dims = tuple(1 if d is None else d for d in shape)
            return Tensor(np.zeros((1, *dims[1:]) if dims else dims, self._dtype))

        inputs = tree.map_shape_structure(zeros, input_shape)
        state = CONTEXT.state
        outer = state.entry, state.training
        state.entry = state.training = None
        try:
            with no_grad():
                return self._run(inputs, (), {}, False)
        finally:
            state.entry, state.training = outer
            self._clear_losses()

    def build_for(self, input_shape: Any) -> None:
        """Build for ``input_shape`` unless built (once, whichever threads ask
        at the same time), else check ``input_shape`` against the layer."""
        shape = standardize_shapes(input_shape, "input_shape")
        if not self.built:
            with BUILD_LOCK:
                if not self.built:
                    self.build(shape)
                    if CONTEXT.state.eager is not self and shape is not None:
                        self._build_sublayers(shape)
                    return
        if is_single_shape(shape):
            self.check_input_shape(shape)

    def check_input_shape(self, shape: tuple[int | None, ...]) -> None:
        """Raise if a built layer gets input of a rank it does not take
        (``input_ndim``) or, for a layer with weights, of another rank or
        number of features than it was built for."""
        if self.input_ndim is not None and len(shape) != self.input_ndim:
            raise ValueError(
                f"Input of layer {self.name!r} ({type(self).__name__}) is "
                f"incompatible with the layer: expected ndim={self.input_ndim}, "
                f"found ndim={len(shape)}. Full shape received: {tuple(shape)}"
            )
        expected = self._build_shape
        if expected is None or not self._weights or not is_single_shape(expected):
            return
        if len(shape) != len(expected) or (
            expected[-1] is not None
            and shape[-1] is not None
            and shape[-1] != expected[-1]
        ):
            raise ValueError(
                f"Input of layer {self.name!r} ({type(self).__name__}) is "
                f"incompatible with the layer: expected shape={expected}, "
                f"found shape={tuple(shape)}"
            )

    # --- calling ----------------------------------------------------------------
    def __call__(self, *args: Any, training: Any = UNSET, **kwargs: Any) -> Any:
        """Run the layer on its inputs (the first argument): NumPy arrays are
        made Tensors of the layer's dtype, the layer is built on its first
        call, and ``call`` gets ``training`` only if it declares it (the value
        given, else the one of the call around it, else its own default)."""
        if masking.SWITCH.active:
            return masking.call_with_masks(self, args, kwargs, training)
        if kwargs or len(args) != 1:
            return self._call_arguments(args, kwargs, training)
        return self._call_input(args[0], training)

    def _call_input(self, x: Any, training: Any = UNSET) -> Any:
        """``self(x, training=training)`` for one input: what a model's loop
        calls for a layer that keeps Layer's ``__call__`` (no arguments to
        sort out)."""
        if masking.SWITCH.active:
            return masking.call_with_masks(self, (x,), {}, training)
        if type(x) is not Tensor:
            if isinstance(x, KerasTensor):
                return symbolic_call(self, (x,), {}, training)
            if not self.built or (type(x) in _NESTS and _is_structure(x)):
                return self._call_arguments((x,), {}, training)
        elif not self.built:
            return self._call_arguments((x,), {}, training)
        x = self.prepare_input(x)
        ctx = CONTEXT.state
        if ctx.entry is None:
            return self._run(x, (), {}, training)
        # NOTE: the hot path (a built layer inside a model's call) inlines _run;
        # the outermost call's ``finally`` resets the context if this raises.
        signature = self._call_signature
        if training is UNSET:
            training = ctx.training
            if training is None:
                training = signature.training_default
        ctx.training = training
        if training is not None and signature.training:
            outputs = self.call(x, training=training)
        else:
            outputs = self.call(x)
        if self.activity_regularizer is not None:
            self._add_activity_losses(outputs)
        return outputs

    def _call_arguments(self, args: tuple, kwargs: dict, training: Any) -> Any:
        """``__call__`` with more than the inputs, or inputs to convert first
        (a structure of several), or an unbuilt layer."""
        args, training = self._call_signature.split(self, args, kwargs, training)
        if has_keras_tensors(args) or (kwargs and has_keras_tensors(kwargs)):
            return symbolic_call(self, args, kwargs, training)
        inputs = args[0]
        if not self.built:
            return self._first_call(inputs, args[1:], kwargs, training)
        if type(inputs) in _NESTS and _is_structure(inputs):
            inputs = self._prepare_nested(inputs)
        else:
            inputs = self.prepare_input(inputs)
        args, kwargs = self._convert_arguments(args, kwargs)
        return self._run(inputs, args[1:], kwargs, training)

    def _first_call(self, inputs: Any, args: tuple, kwargs: dict, training) -> Any:
        """A call of an unbuilt layer: built for its inputs (sublayers by the
        call itself), and the weights made inside named after this layer."""
        ctx = CONTEXT.state
        eager, scope = ctx.eager, ctx.scope
        ctx.eager = self
        try:
            if type(inputs) in _NESTS and _is_structure(inputs):
                inputs = self._prepare_nested(inputs)
            else:
                inputs = self.prepare_input(inputs)
        finally:
            ctx.eager = eager
        args, kwargs = self._convert_arguments((inputs, *args), kwargs)
        ctx.scope = (*scope, self)
        try:
            return self._run(inputs, args[1:], kwargs, training)
        finally:
            ctx.scope = scope

    def _run(self, inputs: Any, args: tuple, kwargs: dict, training: Any) -> Any:
        """``call`` with the ``training`` value resolved (Keras 3's rules), the
        outermost call clearing the losses of the last one, and the activity
        penalties recorded."""
        ctx = CONTEXT.state
        entry = ctx.entry is None
        if entry:
            ctx.entry = self
            if ctx.holders:
                self._clear_losses()
        try:
            if training is UNSET:
                training = ctx.training
                if training is None:
                    training = self._call_signature.training_default
            ctx.training = training
            if args or kwargs:
                if training is not None and self._call_signature.training:
                    kwargs["training"] = training
                outputs = self.call(inputs, *args, **kwargs)
            elif training is not None and self._call_signature.training:
                outputs = self.call(inputs, training=training)
            else:
                outputs = self.call(inputs)
            if self.activity_regularizer is not None:
                self._add_activity_losses(outputs)
        finally:
            if entry:
                ctx.entry = ctx.training = None
        return outputs

    def prepare_input(self, x: Any) -> Tensor:
        """What ``__call__`` does before ``call``: ``x`` as a Tensor of this
        layer's dtype (Keras casts inputs to the layer; a Tensor that requires
        grad is left as it is), the layer built for its shape on the first
        call, and the shape checked on the next ones."""
        if not isinstance(x, Tensor):
            x = Tensor(np.asarray(x, dtype=self._dtype))
        elif x.data.dtype != self._dtype and not x.requires_grad:
            x = Tensor(x.data.astype(self._dtype))
        if self.built:
            self.check_input_shape(x.data.shape)
        else:
            self.build_for(x.data.shape)
        return x

    def _prepare_nested(self, inputs: Any) -> Any:
        """Several inputs (a list, tuple or dict): each array made a Tensor
        (:meth:`_as_tensor`), the layer built for their shapes."""
        inputs = tree.map_structure(self._as_tensor, inputs)
        if not self.built:
            shapes = tree.map_structure(
                lambda t: t.data.shape if isinstance(t, Tensor) else None, inputs
            )
            self.build_for(shapes)
        return inputs

    def _as_tensor(self, value: Any) -> Any:
        """One input among several, as Keras converts them: an array becomes a
        Tensor, cast to the layer's dtype if it is floating (integer arrays
        keep their dtype, for indices); anything else is left as it is."""
        if isinstance(value, Tensor):
            data = value.data
            if (
                data.dtype != self._dtype
                and not value.requires_grad
                and np.issubdtype(data.dtype, np.floating)
            ):
                return Tensor(data.astype(self._dtype))
            return value
        if isinstance(value, (np.ndarray, np.generic)):
            if np.issubdtype(value.dtype, np.floating):
                value = value.astype(self._dtype, copy=False)
            return Tensor(value)
        return value

    def _convert_arguments(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """The arguments after the inputs, arrays made Tensors as inputs are."""
        if len(args) == 1 and not kwargs:
            return args, kwargs
        convert = self._as_tensor
        rest = tuple(tree.map_structure(convert, a) for a in args[1:])
        kwargs = {k: tree.map_structure(convert, v) for k, v in kwargs.items()}
        return (args[0], *rest), kwargs

    # --- the symbolic calls (functional models) --------------------------------
    @property
    def input(self) -> Any:
        """The input KerasTensor(s) of this layer's first symbolic call (as
        Keras 3: a layer called several times, shared, gives the first)."""
        return self._node_attribute(0, "input_tensors", "input")

    @property
    def output(self) -> Any:
        """The output KerasTensor(s) of this layer's first symbolic call."""
        return self._node_attribute(0, "output_tensors", "output")

    def get_input_at(self, node_index: int) -> Any:
        """The input KerasTensor(s) of the layer's call number ``node_index``."""
        return self._node_attribute(node_index, "input_tensors", "input")

    def get_output_at(self, node_index: int) -> Any:
        """The output KerasTensor(s) of the layer's call number ``node_index``."""
        return self._node_attribute(node_index, "output_tensors", "output")

    def _node_attribute(self, node_index: int, attribute: str, what: str) -> Any:
        nodes = self._inbound_nodes
        if not nodes:
            raise AttributeError(
                f"The layer {self.name} has never been called and thus has no "
                f"defined {what}."
            )
        if not -len(nodes) <= node_index < len(nodes):
            raise ValueError(
                f"Asked to get {what} at node {node_index}, but the operation has "
                f"only {len(nodes)} inbound nodes."
            )
        values = getattr(nodes[node_index], attribute)
        return values[0] if len(values) == 1 else values

    # --- weights ----------------------------------------------------------------
    def add_weight(
        self,
        *args: Any,
        shape: Any = None,
        initializer: Any = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        regularizer: Any = None,
        constraint: Any = None,
        aggregation: Any = "none",
        overwrite_with_gradient: bool = False,
        name: str | None = None,
    ) -> Tensor:
        """Create a weight: a ``Tensor`` of ``shape`` (default ``()``) filled by
        ``initializer`` (default ``"glorot_uniform"`` for floating-point
        weights, ``"zeros"`` otherwise), in ``dtype`` (default the layer's).
        A trainable weight has ``requires_grad=True`` while the layer is
        trainable; ``regularizer`` adds its penalty to :attr:`losses`. Without
        a ``name``, Keras's automatic ones: ``"variable"``, ``"variable_1"``, ...

        As in Keras 3, up to three arguments may come by position, ``(shape,
        initializer, dtype)``; the others by keyword. ``autocast`` and
        ``aggregation`` change nothing in glassnet (one device, one dtype).
        """
        if getattr(self, "_weights", None) is None:
            raise RuntimeError(
                "You forgot to call `super().__init__()` in the `__init__()` "
                f"method of {type(self).__name__}. Go add it!"
            )
        if args:
            shape, initializer, dtype = _positional_weight_arguments(
                args, shape, initializer, dtype
            )
        if constraint is not None:
            raise NotImplementedError(
                "Weight constraints are not supported by glassnet yet. "
                f"Received: constraint={constraint!r}"
            )
        if overwrite_with_gradient:
            raise NotImplementedError(
                "overwrite_with_gradient (float8 training) is not supported by "
                "glassnet. Received: overwrite_with_gradient=True"
            )
        name = self._weight_name(name)
        shape = standardize_shape(() if shape is None else shape, f"{name} shape")
        dtype = self._dtype if dtype is None else np.dtype(dtype_policy_name(dtype))
        floating = np.issubdtype(dtype, np.inexact)
        if initializer is None:
            initializer = "glorot_uniform" if floating else "zeros"
        init = initializers.get(initializer)
        charge(shape, dtype, f"Layer {self.name!r}")
        value = np.asarray(init(shape, dtype=dtype.name), dtype=dtype)
        scope = CONTEXT.state.scope
        owners = scope if scope and scope[-1] is self else (*scope, self)
        path = "/".join([*(layer.name for layer in owners), name])
        requires_grad = bool(trainable) and self.trainable and floating
        weight = Tensor(value, requires_grad=requires_grad, name=path)
        self._weights.append(weight)
        self._trainable_flags.append(bool(trainable))
        regularizer = regularizers.get(regularizer)
        if regularizer is not None:
            self._regularizers.append((weight, regularizer))
        return weight

    def _weight_name(self, name: Any) -> str:
        """``name``, or the first of Keras's ``variable``, ``variable_1``, ...
        that none of this layer's weights has."""
        if name is not None:
            if not isinstance(name, str) or not name:
                raise ValueError(
                    f"A weight name must be a non-empty string. Received: name={name!r}"
                )
            return name
        taken = {(w.name or "").rsplit("/", 1)[-1] for w in self._weights}
        name, count = "variable", 0
        while name in taken:
            count += 1
            name = f"variable_{count}"
        return name

    def _own_weights(self) -> list[Tensor]:
        """This layer's own weights: those created trainable first (Keras's
        ``_trainable_variables + _non_trainable_variables``)."""
        pairs = list(zip(self._weights, self._trainable_flags))
        return [w for w, t in pairs if t] + [w for w, t in pairs if not t]

    @property
    def weights(self) -> list[Tensor]:
        """The layer's own weights (trainable ones first), then each tracked
        sublayer's, each weight once (Keras's order)."""
        weights = self._own_weights()
        seen = {id(w) for w in weights}
        for layer in self._sublayers():
            for w in layer.weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    weights.append(w)
        return weights

    @property
    def trainable_weights(self) -> list[Tensor]:
        if not self.trainable:
            return []
        return [w for w in self.weights if w.requires_grad]

    @property
    def non_trainable_weights(self) -> list[Tensor]:
        if not self.trainable:
            return self.weights
        return [w for w in self.weights if not w.requires_grad]

    @property
    def variables(self) -> list[Tensor]:
        """Keras's name for the weights (glassnet layers hold no other state)."""
        return self.weights

    @property
    def trainable_variables(self) -> list[Tensor]:
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[Tensor]:
        return self.non_trainable_weights

    # --- losses -----------------------------------------------------------------
    def add_loss(self, loss: Any) -> None:
        """Add a scalar loss (a Tensor; a list of them; several values count
        as their sum) from inside ``call``: it joins :attr:`losses` until the
        next call, and ``fit`` adds it to the loss it minimizes."""
        for value in tree.flatten(loss):
            if not isinstance(value, Tensor):
                value = Tensor(np.asarray(value, dtype=self._dtype))
            if value.data.ndim:
                value = ops.sum(value)
            own = getattr(self._call_losses, "items", None)
            if own is None:
                own = self._call_losses.items = []
            own.append(value)
            CONTEXT.state.hold(self)

    def _add_activity_losses(self, outputs: Any) -> None:
        # Keras 3 divides the activity penalty by the batch size
        for out in tree.flatten(outputs):
            if isinstance(out, Tensor):
                penalty = self.activity_regularizer(out)
                if out.data.ndim and len(out.data):
                    penalty = ops.div(penalty, float(len(out.data)))
                self.add_loss(penalty)

    def _clear_losses(self) -> None:
        """Forget what this layer and its sublayers added in this thread."""
        state = CONTEXT.state
        if not state.holders:
            return
        for layer in self._flatten_layers():
            if state.release(layer):
                layer._call_losses.items = []

    @property
    def losses(self) -> list[Tensor]:
        """Scalar loss Tensors: what this layer and its sublayers added in
        this thread's latest call (``add_loss``, activity penalties), then the
        regularization penalty of each trainable weight (Keras's order)."""
        found: list[Tensor] = []
        if CONTEXT.state.holders:
            for layer in self._flatten_layers():
                found.extend(getattr(layer._call_losses, "items", ()))
        return found + self._regularization_losses()

    def _regularization_losses(self) -> list[Tensor]:
        rules = {
            id(w): rule
            for layer in self._flatten_layers()
            for w, rule in layer._regularizers
        }
        if not rules:
            return []
        return [rules[id(w)](w) for w in self.trainable_weights if id(w) in rules]

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"You called {what} on layer {self.name!r}, but the layer isn't "
                "built yet: call it on data or give it an input shape first."
            )

    def _configure_kernel_and_bias(
        self,
        use_bias: Any,
        kernel_initializer: Any,
        bias_initializer: Any,
        kernel_regularizer: Any,
        bias_regularizer: Any,
    ) -> None:
        """Store the settings every layer with a kernel and a bias shares (Dense,
        the convolutions); ``build`` creates ``kernel`` and ``bias`` from them."""
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel: Tensor | None = None
        self.bias: Tensor | None = None

    def count_params(self) -> int:
        self._require_built("count_params()")
        return int(sum(w.data.size for w in self.weights))

    def get_weights(self) -> list[np.ndarray]:
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        """Copy ``weights`` (arrays in the order of ``self.weights``) into the layer."""
        assign_weights(self.weights, weights, f"Layer {self.name!r}")

    # --- config -----------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The arguments that make this layer again, as Keras 3 writes them (the
        dtype as a DTypePolicy; no input shape: a model's config holds it)."""
        config: dict[str, Any] = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": {
                "module": "keras",
                "class_name": "DTypePolicy",
                "config": {"name": self.dtype},
                "registered_name": None,
            },
        }
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(
                self.activity_regularizer
            )
        return {**config, **self.keras_only}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        return cls(**without_keras_only(cls, config))

    def get_build_config(self) -> dict[str, Any] | None:
        """Keras's ``build_config``: the input shape the layer was built for."""
        if not self.built or self._build_shape is None:
            return None
        return {"input_shape": tree.map_shape_structure(list, self._build_shape)}

    def build_from_config(self, config: dict[str, Any]) -> None:
        """Build from :meth:`get_build_config` (when loading a saved layer)."""
        shape = config.get("input_shape") if isinstance(config, dict) else None
        if shape is not None:
            self.build_for(shape)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


Layer._call_signature = CallSignature(Layer.call)
# NOTE: the default runs a user's call on zeros: a symbolic call then runs it
# with all its arguments instead (glassnet.layers.node).
Layer.compute_output_shape._probes = True  # type: ignore[attr-defined]
_TRACKABLE = (Layer, *_HOLDS_WEIGHTS)
