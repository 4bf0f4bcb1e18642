"""What a layer call knows about the calls around it (Keras 3's ``CallContext``).

Per thread, a layer call inside another layer's call (a sublayer of a
subclassed layer or model, the layers of a Sequential) sees:

- the ``training`` value to inherit. As in Keras 3, a layer's value is the
  ``training`` passed to it (even ``None``), else the value left by the calls
  before it in the outermost call, else its ``call``'s default; it is then left
  for the layers called after it, and dropped when the outermost call returns;
- the layers being built (``scope``), which name the weights they create:
  ``"my_block/dense/kernel"`` for a Dense built inside ``my_block``;
- the layers holding losses added in this thread (``add_loss`` and activity
  regularizers), so the outermost call clears only what is there to clear.

:class:`CallSignature` is what ``Layer.__call__`` needs to know about a
class's ``call`` (does it take ``training``, where, with which default), read
once per class, not once per call.
"""

from __future__ import annotations

import inspect
import threading
import weakref
from typing import Any

#: ``training`` was not given.
UNSET: Any = object()

_POSITIONAL = (
    inspect.Parameter.POSITIONAL_ONLY,
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
)


class CallState:
    """One thread's layer calls (see the module docstring)."""

    __slots__ = ("entry", "training", "scope", "eager", "holders")

    def __init__(self) -> None:
        self.entry: Any = None  # the outermost layer being called
        self.training: Any = None
        self.scope: tuple = ()  # the layers being built, outermost first
        self.eager: Any = None  # the layer building in its first call (no probe)
        # NOTE: by id (a layer need not be hashable), holding weak references
        # that remove themselves: a dropped layer does not stay alive here.
        self.holders: dict[int, weakref.ref] = {}

    def hold(self, layer: Any) -> None:
        """Record that ``layer`` holds losses added in this thread."""
        key, holders = id(layer), self.holders
        if key not in holders:
            holders[key] = weakref.ref(layer, lambda _, k=key: holders.pop(k, None))

    def release(self, layer: Any) -> bool:
        """Forget ``layer`` as a holder; whether it was one."""
        return self.holders.pop(id(layer), None) is not None


class _Context(threading.local):
    # NOTE: one thread-local lookup per layer call, then plain attributes
    # (a thread-local attribute costs about three plain ones).
    def __init__(self) -> None:
        self.state = CallState()


CONTEXT = _Context()


class CallSignature:
    """How a ``call`` takes its arguments: whether it declares ``training``
    (and at which position, with which default) and ``mask``, and the name
    of its first argument (the inputs, which may also come as a keyword)."""

    __slots__ = ("training", "training_index", "training_default", "first", "mask")

    def __init__(self, call: Any) -> None:
        params = list(inspect.signature(call).parameters.values())[1:]  # self
        by_name = {p.name: p for p in params}
        training = by_name.get("training")
        self.training = training is not None
        default = None if training is None else training.default
        self.training_default = None if default is inspect.Parameter.empty else default
        positional = [p.name for p in params if p.kind in _POSITIONAL]
        self.training_index = (
            positional.index("training") if "training" in positional else -1
        )
        self.first = positional[0] if positional else None
        self.mask = "mask" in by_name

    def split(
        self, owner: Any, args: tuple, kwargs: dict, training: Any = UNSET
    ) -> tuple[tuple, Any]:
        """``(args, training)``: the inputs first in ``args`` (``layer(inputs=x)``
        too) and ``training`` taken out of ``args`` or ``kwargs`` (``UNSET`` if
        not given, nor passed in). ``kwargs`` loses what was taken."""
        if training is UNSET:
            training = kwargs.pop("training", UNSET)
        if not args and self.first in kwargs:
            args = (kwargs.pop(self.first),)
        if not args:
            raise TypeError(
                f"Layer {owner.name!r} was called without inputs: pass them as "
                "the first argument, e.g. layer(x)."
            )
        index = self.training_index
        if training is UNSET and 0 < index < len(args):
            # NOTE: Keras accepts tensors only as positional arguments; glassnet
            # also binds a positional training flag, as older code passes it.
            training = args[index]
            args = args[:index] + args[index + 1 :]
        return args, training


def losses_added() -> bool:
    """Whether a layer holds losses added in this thread (by ``add_loss`` or
    an activity regularizer) that a call has not cleared yet."""
    return bool(CONTEXT.state.holders)
