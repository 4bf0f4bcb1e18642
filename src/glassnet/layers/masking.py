"""Keras's masks: which timesteps of a sequence are padding.

A layer that makes a mask (``Embedding(mask_zero=True)``: ``ids != 0``, of
shape (batch, steps)) attaches it to its output Tensor; the next layer gets
it as ``call(..., mask=...)`` when its ``call`` declares ``mask``, and passes
it on to its own output when it ``supports_masking`` (its
``compute_mask(inputs, previous_mask)`` says what the output's mask is: by
default the same one; ``GlobalAveragePooling1D`` averages the kept steps and
gives no mask). A layer that does not support masking drops it, as in Keras.

Masks are kept beside the Tensors (weakly: one goes when its Tensor goes), and
a layer call looks for them only once a mask can exist in this process (an
``Embedding(mask_zero=True)``, a ``Lambda`` with a ``mask``, or a user layer
with its own ``compute_mask`` was made): models without masks run as they
did.
"""

from __future__ import annotations

import weakref
from typing import Any

from glassnet import tree
from glassnet.autograd import Tensor
from glassnet.layers.node import has_keras_tensors

_masks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _Switch:
    """Whether a mask can exist (layers look for masks only then)."""

    active = False


SWITCH = _Switch()


def enable() -> None:
    """Let layer calls look for masks from now on (a layer that can make one
    was created)."""
    SWITCH.active = True


def get_mask(x: Any) -> Any:
    """The mask attached to ``x`` (a Tensor), or None."""
    return _masks.get(x) if isinstance(x, Tensor) else None


def set_mask(x: Tensor, mask: Any) -> None:
    """Attach ``mask`` (a boolean array, or None to detach) to ``x``."""
    if mask is None:
        _masks.pop(x, None)
    else:
        _masks[x] = mask
        SWITCH.active = True


def call_with_masks(layer: Any, args: tuple, kwargs: dict, training: Any) -> Any:
    """``layer(*args, training=training, **kwargs)`` with Keras's masking: the
    mask of the first argument given as ``mask`` when ``call`` declares it
    and none was given, and the output's mask (``compute_mask``) attached
    when the layer supports masking."""
    first = args[0] if args else kwargs.get(layer._call_signature.first)
    if first is None or has_keras_tensors(first):
        return layer._call_arguments(args, kwargs, training)
    previous = kwargs.get("mask")
    if previous is None:
        previous = tree.map_structure(get_mask, first)
        if all(m is None for m in tree.flatten(previous)):
            previous = None
        elif layer._call_signature.mask:
            kwargs = {**kwargs, "mask": previous}
    outputs = layer._call_arguments(args, kwargs, training)
    if layer.supports_masking:
        mask = layer.compute_mask(first, previous)
        if mask is not None:
            for output, m in zip(tree.flatten(outputs), tree.flatten(mask)):
                if isinstance(output, Tensor) and get_mask(output) is None:
                    set_mask(output, m)
    return outputs
