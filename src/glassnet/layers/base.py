"""Layer: the Keras lifecycle on the glassnet engine.

``__init__`` stores the configuration, ``build(input_shape)`` creates the weights
(``Tensor`` objects with ``requires_grad=True``) through :meth:`Layer.add_weight`,
``call(x, training=False)`` is the math, written with ``glassnet.ops`` so every
step has its own local gradient, and ``compute_output_shape`` lets ``summary()``
show shapes without running data through the model.

As in Keras 3, every ``build`` (the subclass's own included) is wrapped so that
it marks the layer built and records its input shape: a layer built by hand is
never built again by its first call, so weights set in between are kept, and a
second ``build`` of a layer that has weights is an error. Builds hold one
process-wide lock, so the first call of an unbuilt layer from several threads
builds it once.
"""

from __future__ import annotations

import collections
import functools
import re
import threading
from typing import Any

import numpy as np

from glassnet import initializers, ops, regularizers
from glassnet._registry import dtype_policy_name, without_keras_only
from glassnet.autograd import Tensor
from glassnet.layers.budget import charge

_NAME_COUNTS: collections.Counter[str] = collections.Counter()
_NAME_LOCK = threading.Lock()
# NOTE: one lock for every build (re-entrant: a model's build builds its layers).
# Builds happen once per layer, so a process-wide lock costs nothing measurable,
# and a lock object per layer would have to be dropped from every pickle.
BUILD_LOCK = threading.RLock()


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
    """Wrap a layer's ``build(input_shape)`` as Keras 3 does: the shape is
    standardized, the layer is marked built and its input shape recorded, all
    under the build lock. A layer that already has weights is not built again
    (ValueError, nothing changed): its weights were made once and are kept."""
    if getattr(build, "_tracks_build", False):
        return build

    @functools.wraps(build)
    def wrapper(self: Layer, input_shape: Any, *args: Any, **kwargs: Any) -> None:
        shape = standardize_shape(input_shape, "input_shape")
        with BUILD_LOCK:
            if self.built and self._weights:
                raise ValueError(
                    f"Layer {self.name!r} is already built (for input shape "
                    f"{self._build_shape}): build() creates the weights once, and "
                    f"they are kept. Received: input_shape={input_shape!r}"
                )
            build(self, shape, *args, **kwargs)
            self._build_shape = (None, *shape[1:]) if shape else shape
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


class KerasTensor:
    """A symbolic tensor: only a shape (batch axis ``None``) and where it came from.

    ``Input(shape)`` makes one; calling a layer on it builds the layer and gives
    the output KerasTensor, so ``Model(inputs, outputs)`` can find its layers.
    """

    def __init__(
        self, shape: Any, layer: Layer | None = None, inputs: tuple = (), name=None
    ) -> None:
        self.shape = standardize_shape(shape)
        self.layer = layer
        self.inputs = inputs
        self.name = name

    def apply(self, layer: Layer) -> KerasTensor:
        layer.build_for(self.shape)
        return KerasTensor(layer.compute_output_shape(self.shape), layer, (self,))

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}>"


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
        self.trainable = bool(trainable)
        self.built = False
        self._weights: list[Tensor] = []
        self._trainable_flags: list[bool] = []
        self._regularizers: list[tuple[Tensor, Any]] = []
        # NOTE: per thread: the penalty of this thread's last call, so a
        # prediction in one thread never changes another's training loss.
        self._activity = threading.local()
        self._build_shape: tuple[int | None, ...] | None = None
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

    #: The exact rank of the input, checked on every call (Keras's
    #: ``InputSpec(ndim=...)``); None: any rank.
    input_ndim: int | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = tracks_build(cls.__dict__["build"])

    def __getstate__(self) -> dict[str, Any]:
        # NOTE: the per-thread activity penalties are transient (and a
        # threading.local does not pickle).
        state = dict(self.__dict__)
        state.pop("_activity", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__["_activity"] = threading.local()

    # --- lifecycle --------------------------------------------------------------
    @tracks_build
    def build(self, input_shape: tuple[int | None, ...]) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis ``None``).

        Calling it by hand marks the layer built, as the first call would: the
        weights it makes (and any set with ``set_weights`` afterwards) are the
        ones the layer computes with.
        """

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        """The layer's math, Tensor -> Tensor, written with ``glassnet.ops``."""
        return x

    def compute_output_shape(
        self, input_shape: tuple[int | None, ...]
    ) -> tuple[int | None, ...]:
        """Output shape for ``input_shape`` (batch axis ``None``)."""
        return tuple(input_shape)

    def build_for(self, input_shape: Any) -> None:
        """Build for ``input_shape`` unless built (once, whichever threads ask
        at the same time), else check ``input_shape`` against the layer."""
        shape = standardize_shape(input_shape, "input_shape")
        if not self.built:
            with BUILD_LOCK:
                if not self.built:
                    self.build(shape)
                    return
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
        if expected is None or not self._weights:
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

    def __call__(self, x: Any, training: bool = False) -> Any:
        if isinstance(x, KerasTensor):
            return x.apply(self)
        x = self.prepare_input(x)
        out = self.call(x, training=training)
        if self.activity_regularizer is not None:
            # Keras 3 divides the activity penalty by the batch size
            penalty = self.activity_regularizer(out)
            if out.data.ndim and len(out.data):
                penalty = ops.div(penalty, float(len(out.data)))
            self._activity.losses = [penalty]
        return out

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

    # --- weights ----------------------------------------------------------------
    def add_weight(
        self,
        name: str,
        shape: Any,
        initializer: Any = "zeros",
        regularizer: Any = None,
        trainable: bool = True,
        dtype: Any = None,
    ) -> Tensor:
        """Create a weight ``Tensor`` of ``shape`` filled by ``initializer``."""
        shape = standardize_shape(shape, f"{name} shape")
        init = initializers.get(initializer)
        dtype = np.dtype(dtype or self._dtype)
        charge(shape, dtype, f"Layer {self.name!r}")
        value = np.asarray(init(shape, dtype=dtype.name), dtype=dtype)
        weight = Tensor(value, requires_grad=trainable, name=f"{self.name}/{name}")
        self._weights.append(weight)
        self._trainable_flags.append(bool(trainable))
        if regularizer is not None:
            self._regularizers.append((weight, regularizer))
        return weight

    @property
    def weights(self) -> list[Tensor]:
        """Trainable weights, then non-trainable ones (Keras order)."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self) -> list[Tensor]:
        if not self.trainable:
            return []
        return [w for w, t in zip(self._weights, self._trainable_flags) if t]

    @property
    def non_trainable_weights(self) -> list[Tensor]:
        if not self.trainable:
            return list(self._weights)
        return [w for w, t in zip(self._weights, self._trainable_flags) if not t]

    @property
    def losses(self) -> list[Tensor]:
        """Regularization penalties (Tensors) of the weights, and of the
        activity of this thread's last call."""
        activity = getattr(self._activity, "losses", [])
        return [reg(w) for w, reg in self._regularizers] + activity

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
        return int(sum(w.data.size for w in self._weights))

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
        return {"input_shape": list(self._build_shape)}

    def build_from_config(self, config: dict[str, Any]) -> None:
        """Build from :meth:`get_build_config` (when loading a saved layer)."""
        shape = config.get("input_shape") if isinstance(config, dict) else None
        if shape is not None:
            self.build_for(shape)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
