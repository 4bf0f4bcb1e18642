"""Lambda (a function as a layer) and Identity.

A Lambda's function is written in a config by its *name* only (Keras's
``{"module", "class_name": "function", "config": name, "registered_name"}``),
never as code: it loads where that name is registered
(``glassnet.saving.register_keras_serializable``) or given in
``custom_objects``, or names one of glassnet's own ops or activations. A
Python ``lambda`` has no name: its config says ``"<lambda>"``, which saving
refuses, and a Keras file's ``__lambda__`` (stored code) is never loaded.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from glassnet import activations, ops
from glassnet._registry import find_custom_object, is_keras_module, serialize_object
from glassnet.autograd import Tensor, no_grad
from glassnet.layers import masking
from glassnet.layers.base import Layer


def function_config(fn: Any) -> Any:
    """``fn`` as Keras names a function in a config; ``"<lambda>"`` for a
    lambda (no code is ever written)."""
    if getattr(fn, "__name__", None) == "<lambda>":
        return "<lambda>"
    return serialize_object(fn)


def function_from_config(config: Any, what: str = "function") -> Any:
    """The function a config names: a registered or ``custom_objects`` one,
    else one of glassnet's ops or activations. Code is never loaded."""
    if callable(config):
        return config
    if isinstance(config, dict) and config.get("class_name") == "__lambda__":
        raise ValueError(
            f"The Lambda layer's `{what}` is a Python lambda stored as code; "
            "glassnet never loads code from a file, whatever safe_mode says. "
            "Rebuild the layer with a named function."
        )
    name, module, registered = config, None, None
    if isinstance(config, dict) and config.get("class_name") == "function":
        name, module = config.get("config"), config.get("module")
        registered = config.get("registered_name")
    fn = find_custom_object(registered, name)
    if fn is None and isinstance(name, str) and is_keras_module(module):
        # a bare name is how an activation is written; a dict, any function
        own = [_activation, _op] if isinstance(config, str) else [_op, _activation]
        fn = own[0](name) or own[1](name)
    if not callable(fn) or isinstance(fn, type):
        raise ValueError(
            f"Unknown function for the Lambda layer's `{what}`: {config!r}. It is "
            "neither glassnet's nor registered: register it with "
            "glassnet.saving.register_keras_serializable() or pass it in "
            "custom_objects=. Modules named in a file are never imported, and a "
            "lambda cannot be loaded."
        )
    return fn


def _op(name: str) -> Any:
    return getattr(ops, name, None) if name in ops.__all__ else None


def _activation(name: str) -> Any:
    try:
        return activations.get(name)
    except ValueError:
        return None


def array_from_config(value: Any) -> Any:
    """A config value with Keras's ``__numpy__`` entries (arrays) as arrays of
    numbers; lists and dicts item by item, other values as they are."""
    if isinstance(value, list):
        return [array_from_config(item) for item in value]
    if not isinstance(value, dict):
        return value
    if value.get("class_name") != "__numpy__":
        return {key: array_from_config(item) for key, item in value.items()}
    inner = value.get("config") or {}
    dtype = np.dtype(str(inner.get("dtype")))
    if dtype.kind not in "biuf":
        raise ValueError(f"A __numpy__ entry must hold numbers. Received: {value!r}")
    return np.array(inner.get("value"), dtype=dtype)


class Lambda(Layer):
    """Wraps a function of Tensors as a layer: ``y = function(x, **arguments)``
    (the function also gets ``training=`` and ``mask=`` when it declares them).

    ``output_shape``: the shape of one output sample (a tuple), or a function
    of the input shape (batch axis included); by default the function is run
    once on a batch of ones to find it. ``mask``: None or a function
    ``(inputs, mask) -> mask``, returned by :meth:`compute_mask`.

    Saving writes the function's name, never its code (see the module's
    docstring): use named functions in models you save.

    >>> Lambda(ops.sqrt)  # (None, 4) -> (None, 4)
    """

    def __init__(
        self,
        function: Any,
        output_shape: Any = None,
        mask: Any = None,
        arguments: dict | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(
                f"Lambda needs a callable function. Received: function={function!r}"
            )
        self.function = function
        if isinstance(output_shape, list):
            output_shape = tuple(output_shape)
        self._output_shape = output_shape
        self.mask = mask
        if mask is not None:
            masking.enable()
        self.arguments = dict(arguments or {})
        try:
            declared = inspect.signature(function).parameters
        except (TypeError, ValueError):  # some builtins have no signature
            declared = {}
        self._keywords = [k for k in ("training", "mask") if k in declared]

    def call(self, x: Tensor, training: bool = False, mask: Any = None) -> Tensor:
        given = {"training": training, "mask": mask}
        return self.function(
            x, **self.arguments, **{k: given[k] for k in self._keywords}
        )

    def compute_output_shape(self, input_shape):
        if callable(self._output_shape):
            return tuple(self._output_shape(tuple(input_shape)))
        if self._output_shape is not None:
            return (input_shape[0], *self._output_shape)
        if any(d is None for d in input_shape[1:]):
            raise NotImplementedError(
                "We could not automatically infer the shape of the Lambda's "
                "output. Please specify the `output_shape` argument for this "
                f"Lambda layer. Received: input_shape={tuple(input_shape)}"
            )
        probe = Tensor(np.ones((1, *input_shape[1:]), self._dtype))
        with no_grad(), np.errstate(all="ignore"):
            out = self.call(probe)
        return (input_shape[0], *np.shape(getattr(out, "data", out))[1:])

    def compute_mask(self, x: Any, mask: Any = None) -> Any:
        return self.mask(x, mask) if callable(self.mask) else self.mask

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "function": function_config(self.function)}
        if self._output_shape is not None:
            shape = self._output_shape
            config["output_shape"] = (
                function_config(shape) if callable(shape) else shape
            )
        if self.mask is not None:
            mask = self.mask
            config["mask"] = function_config(mask) if callable(mask) else mask
        return {**config, "arguments": self.arguments}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Lambda:
        config = dict(config)
        config["function"] = function_from_config(config.get("function"))
        shape = config.get("output_shape")
        if isinstance(shape, (dict, str)):
            config["output_shape"] = function_from_config(shape, "output_shape")
        if isinstance(config.get("mask"), (dict, str)):
            config["mask"] = function_from_config(config["mask"], "mask")
        if "arguments" in config:
            config["arguments"] = array_from_config(config["arguments"])
        return super().from_config(config)


class Identity(Layer):
    """Returns its input unchanged (a placeholder); no graph node at all."""

    supports_masking = True

    def call(self, x: Tensor, training: bool = False) -> Tensor:
        return x
