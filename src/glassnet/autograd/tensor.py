"""Tensor: a NumPy array that remembers which Function made it.

``backward()`` walks the graph from this tensor back to its leaves in reverse
topological order (iteratively, so deep graphs do not hit the recursion limit;
every tensor carries a creation number, and a tensor is always created after its
inputs, so newest-first is a valid order),
asks each Function for its local gradients and sums them into ``.grad`` wherever
a tensor is used more than once. The walk, not each op, reduces the gradient of a
broadcast input back to that input's shape.
"""

from __future__ import annotations

import itertools
import weakref
from operator import attrgetter
from typing import Any

import numpy as np

#: Creation counter: a tensor's ``_seq`` is larger than its inputs' ``_seq``.
#: In-place changes draw from it too, so "changed after node k was made" is
#: "changed at a number above k's".
next_seq = itertools.count().__next__
_by_seq = attrgetter("_seq")
#: The number of the latest in-place change of any tensor (-1: none yet): a
#: backward pass over nodes all made after it has nothing to check.
_last_change = [-1]
#: Each tensor ever changed in place (the number of its latest change is its
#: ``_changed_at``): added to once per tensor, so a step's updates cost no
#: new weak reference.
_changed: weakref.WeakSet = weakref.WeakSet()


class Tensor:
    """An array node of the computation graph.

    Parameters
    ----------
    data : array_like
        The value. Python floats become float64, as in NumPy. An ndarray of the
        right dtype is wrapped without a copy (the tensor shares its memory).
    requires_grad : bool
        Whether ``backward`` should compute ``.grad`` for this tensor.
    dtype : numpy dtype, optional
        Cast ``data`` to this dtype.
    name : str, optional
        A label shown in graph drawings and reprs.

    Attributes
    ----------
    data : numpy.ndarray
        The value itself, not a copy. Assigning a new array is always safe.
        Changing the array in place (``t.data += 1``, or :meth:`assign`) after
        a Function kept it for its backward pass makes that ``backward`` raise
        instead of returning a wrong gradient; only writes through NumPy into
        the array (``t.data[...] = v``, ``np.copyto(t.data, v)``) go unseen:
        code that writes so calls :meth:`mark_modified` afterwards.
    grad : numpy.ndarray or None
        Filled by ``backward``; same shape as ``data``.
    version : int
        How many times the value was changed in place.
    """

    __slots__ = (
        "_data",
        "grad",
        "requires_grad",
        "name",
        "_ctx",
        "_seq",
        "_version",
        "_changed_at",
        "__weakref__",
    )
    # NOTE: Tensor keeps identity hashing (no __eq__): backward keys dicts by tensor.
    __array_priority__ = 1000  # so ``ndarray + Tensor`` defers to Tensor.__radd__

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        dtype: Any = None,
        name: str | None = None,
    ) -> None:
        if isinstance(data, Tensor):
            data = data._data
        self._data = np.asarray(data, dtype=dtype)
        if requires_grad and not np.issubdtype(self._data.dtype, np.inexact):
            raise TypeError(
                "Only floating-point tensors can require gradients. "
                f"Received: dtype={self._data.dtype}"
            )
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._ctx = None
        self._seq = next_seq()

    # --- the value and its in-place changes --------------------------------------
    @property
    def data(self) -> np.ndarray:
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        if value is self._data:  # ``t.data += x`` hands back the same array
            self.mark_modified()
            return
        self._data = value if type(value) is np.ndarray else np.asarray(value)

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        # NOTE: a copy (or an unpickled tensor) is tracked anew when changed
        _, slots = super().__getstate__()
        slots.pop("_changed_at", None)
        return None, slots

    @property
    def version(self) -> int:
        """How many times the value was changed in place (0 for a new tensor)."""
        return getattr(self, "_version", 0)

    def mark_modified(self) -> None:
        """Record that ``data`` was changed in place (optimizers and
        ``set_weights`` call it), so a backward pass over a graph that kept the
        old values raises instead of returning a wrong gradient."""
        self._version = self.version + 1
        try:
            self._changed_at  # noqa: B018 (set once this process tracks it)
        except AttributeError:
            _changed.add(self)  # NOTE: readers copy the set (see below)
        self._changed_at = _last_change[0] = next_seq()

    def assign(self, value: Any) -> Tensor:
        """Write ``value`` into the tensor in place (Keras's ``Variable.assign``);
        its shape must broadcast to the tensor's."""
        np.copyto(self._data, getattr(value, "data", value), casting="same_kind")
        self.mark_modified()
        return self

    def assign_add(self, value: Any) -> Tensor:
        """``self += value`` in place (Keras's ``Variable.assign_add``)."""
        np.add(self._data, getattr(value, "data", value), out=self._data)
        self.mark_modified()
        return self

    def assign_sub(self, value: Any) -> Tensor:
        """``self -= value`` in place (Keras's ``Variable.assign_sub``)."""
        np.subtract(self._data, getattr(value, "data", value), out=self._data)
        self.mark_modified()
        return self

    # --- array-like attributes -------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def grad_fn(self) -> Any:
        """The Function that produced this tensor (``None`` for a leaf)."""
        return self._ctx

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    def __len__(self) -> int:
        return len(self.data)

    @property
    def value(self) -> Tensor:
        """The tensor itself: a weight *is* its value here, so code written for
        Keras's variables (``[v.value.grad for v in model.trainable_weights]``)
        runs unchanged."""
        return self

    def numpy(self) -> np.ndarray:
        return self.data

    def __float__(self) -> float:
        return float(self.data)

    # Comparisons give boolean tensors outside the graph (e.g. for ``where``).
    def __lt__(self, other: Any) -> Tensor:
        return Tensor(self.data < getattr(other, "data", other))

    def __le__(self, other: Any) -> Tensor:
        return Tensor(self.data <= getattr(other, "data", other))

    def __gt__(self, other: Any) -> Tensor:
        return Tensor(self.data > getattr(other, "data", other))

    def __ge__(self, other: Any) -> Tensor:
        return Tensor(self.data >= getattr(other, "data", other))

    def item(self) -> Any:
        return self.data.item()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        data = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return data.copy() if copy and data is self.data else data

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor(self.data)

    def zero_grad(self) -> None:
        self.grad = None

    def __repr__(self) -> str:
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self._ctx is not None:
            extra = f", grad_fn=<{self._ctx.name}>"
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        return f"Tensor({body}{extra})"

    # --- backward ----------------------------------------------------------------
    def backward(self, grad: Any = None, *, retain_grads: bool = False) -> None:
        """Accumulate d(self)/d(t) into ``t.grad`` for every leaf t of the graph.

        ``grad`` is the gradient of some scalar with respect to ``self``; it may
        be omitted only when ``self`` holds a single element. Leaves (tensors no
        Function made, such as weights) add to ``.grad``: reset it with
        ``zero_grad()`` or ``t.grad = None`` between steps. Intermediate tensors
        keep their gradient only with ``retain_grads=True`` (for inspecting or
        drawing the graph): by default they are dropped as soon as they have
        been used, which keeps a training step's peak memory low.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() needs a tensor that requires grad: this tensor has no "
                "graph (none of its inputs had requires_grad=True, or it was made "
                "under no_grad())."
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    "backward() without a gradient argument needs a scalar tensor; "
                    f"this one has shape {self.data.shape}. Pass the gradient of the "
                    "loss with respect to it, e.g. backward(np.ones(shape))."
                )
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
            if grad.shape != self.data.shape:
                raise ValueError(
                    f"backward() gradient has shape {grad.shape}, but the tensor has "
                    f"shape {self.data.shape}."
                )
        grads = {self: grad}  # pending gradient of each tensor, by identity
        pop, get = grads.pop, grads.get
        for node in _graph_newest_first(self):
            g = pop(node, None)
            if g is None:
                continue
            if type(g) is not np.ndarray:  # 0-d arithmetic gives NumPy scalars
                g = np.asarray(g)
            fn = node._ctx
            if fn is None or retain_grads:
                node.grad = g if node.grad is None else np.asarray(node.grad + g)
            if fn is None:
                continue
            if _last_change[0] > node._seq:
                _check_unchanged(node, fn)
            inputs = fn.inputs
            input_grads = fn.backward(g)
            if type(input_grads) is not tuple:
                input_grads = (
                    tuple(input_grads)
                    if isinstance(input_grads, list)
                    else (input_grads,)
                )
            if len(input_grads) != len(inputs):
                raise RuntimeError(
                    f"{fn.name}.backward returned {len(input_grads)} gradients for "
                    f"{len(inputs)} inputs."
                )
            for x, gx, needed in zip(inputs, input_grads, fn.needs_input_grad):
                if needed and gx is not None:
                    if type(gx) is not np.ndarray:  # a NumPy or Python scalar
                        gx = np.asarray(gx)
                    data = x._data
                    if gx.shape != data.shape:
                        gx = _sum_to_shape(gx, data.shape, fn)
                    if gx.dtype is not data.dtype and gx.dtype != data.dtype:
                        gx = gx.astype(data.dtype)
                    previous = get(x)
                    grads[x] = gx if previous is None else previous + gx


def _graph_newest_first(root: Tensor) -> list[Tensor]:
    """The tensors ``root`` depends on through inputs that need a gradient,
    newest first: every tensor comes before all of its inputs."""
    seen = {root}
    stack = [root]
    nodes = []
    while stack:
        node = stack.pop()
        nodes.append(node)
        fn = node._ctx
        if fn is not None:
            for x, needed in zip(fn.inputs, fn.needs_input_grad):
                if needed and x not in seen:
                    seen.add(x)
                    stack.append(x)
    nodes.sort(key=_by_seq, reverse=True)
    return nodes


def _check_unchanged(node: Tensor, fn: Any) -> None:
    """Raise if an array ``fn`` kept for its backward shares memory with a
    tensor changed in place after ``fn`` ran (``node`` is its output)."""
    kept = [v for v in vars(fn).values() if type(v) is np.ndarray]
    if not kept:
        return
    while True:  # another thread may change a tensor while we copy
        try:
            changes = list(_changed)
            break
        except RuntimeError:
            continue
    changed = [t for t in changes if t._changed_at > node._seq]
    for x in changed:
        if any(np.may_share_memory(x._data, v) for v in kept):
            label = repr(x.name) if x.name else f"of shape {x._data.shape}"
            raise RuntimeError(
                f"backward(): the tensor {label} was modified in place (it is at "
                f"version {x.version}) after {fn.name} kept its values for the "
                "backward pass, so its gradient would be wrong. Run the forward "
                "pass again after changing it, or change a copy instead."
            )


def _sum_to_shape(grad: np.ndarray, shape: tuple[int, ...], fn: Any) -> np.ndarray:
    """Undo broadcasting: sum ``grad`` over the axes along which it was expanded."""
    lead = grad.ndim - len(shape)
    if lead < 0 and grad.size == int(np.prod(shape)):
        grad = grad.reshape(shape)  # e.g. (n,) for an input of shape (1, n)
    elif lead > 0:
        grad = grad.sum(axis=tuple(range(lead)))
    if grad.ndim == len(shape):
        axes = tuple(
            i for i, (n, m) in enumerate(zip(shape, grad.shape)) if n == 1 and m != 1
        )
        if axes:
            grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:
        raise RuntimeError(
            f"{fn.name}.backward returned a gradient of shape {grad.shape} for an "
            f"input of shape {shape}."
        )
    return grad
