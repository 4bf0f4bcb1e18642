"""Optimizers: update weights in place from their gradients.

``optimizer.step(params)`` updates each ``p.data`` in place from ``p.grad``
(params whose grad is ``None`` are skipped); ``apply_gradients(grads_and_vars)``
and ``apply(grads, variables)`` are Keras's spellings of the same thing.

SGD and Adam do their arithmetic in exactly scikit-learn's order (see
``sklearn/neural_network/_stochastic_optimizers.py``), so the scikit-learn
estimators built on them reproduce scikit-learn to the last bit; the results
equal Keras 3's and PyTorch's up to rounding. AdamW, RMSprop and Adagrad follow
Keras 3's update rules.

As in Keras 3, ``optimizer.build(variables)`` creates the state (momenta,
moments) of its variables once; ``apply`` calls it on the first update when the
user did not. The state is kept per variable (a :class:`~glassnet.Tensor` or an
ndarray), so a variable met later, or given an array of a new shape, gets its
own state on its first update.

``apply`` does what every optimizer shares (checks, clipping, the learning-rate
schedule, weight decay, the iteration count) and hands the update to
``_update_all``. Optimizers whose update is elementwise (Adam, AdamW) step
several variables of one dtype there as one flat vector
(:class:`glassnet.runtime.FlatVector`): their gradients are copied into one
buffer and their states become views of one array each, so a step is one set of
ufunc calls instead of one per variable (on small networks the per-call cost
dominates). Elementwise arithmetic does not depend on the layout, so the results
are the same to the last bit.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from glassnet import schedules
from glassnet._registry import Registry, serialize_object, without_keras_only
from glassnet._warnings import warn
from glassnet.autograd import Tensor
from glassnet.runtime import FlatVector

_registry = Registry("optimizer", module="keras.optimizers")
_schedules = schedules._registry
# NOTE: Keras's module path: ``from glassnet.optimizers.schedules import ...``
# finds the module here, as it would a submodule of a package.
sys.modules[f"{__name__}.schedules"] = schedules


class _Default(float):
    """A default learning rate: a float that remembers nobody passed it, so
    ``lr=`` (the old spelling) given together with ``learning_rate=`` is caught
    even when the two agree with the default. It prints as the plain number."""


def _check_nonnegative(name: str, value: Any, upper: float | None = None) -> None:
    if value is None or callable(value):
        return
    ok = isinstance(value, (int, float, np.number)) and value >= 0
    if ok and upper is not None:
        ok = value <= upper
    if not ok:
        bound = f" and at most {upper}" if upper is not None else ""
        raise ValueError(
            f"`{name}` must be a number >= 0{bound}. Received: {name}={value!r}"
        )


class Optimizer:
    """Base class. Subclasses define ``_new_state`` (the state of one variable)
    and ``_update`` (the update of one variable), or override ``_update_all``
    (the update of all the variables of one step).

    Parameters
    ----------
    learning_rate : float or callable
        A plain attribute that schedules and callbacks may change between steps;
        a callable (a :mod:`glassnet.optimizers.schedules` schedule) is called
        at each update with ``iterations``, the updates before it, as in Keras.
        ``lr=`` is accepted as an alias (the old Keras spelling); giving both
        ``lr`` and ``learning_rate`` is an error.
    weight_decay : float, optional
        Keras's decoupled decay ``w -= w * weight_decay * learning_rate`` applied
        before each update.
    clipnorm, clipvalue, global_clipnorm : float, optional
        Clip each gradient to this L2 norm, each entry to ``[-v, v]``, or all
        gradients together to this global norm (at most one of them is used,
        in that order of precedence, as in Keras).

    Attributes
    ----------
    iterations : int
        Number of updates applied so far.
    built : bool
        Whether :meth:`build` has run.
    """

    #: Keras's arguments glassnet lacks, accepted in configs at these values.
    keras_only: dict[str, Any] = {
        "use_ema": False,
        "ema_momentum": 0.99,
        "ema_overwrite_frequency": None,
    }

    def __init__(
        self,
        learning_rate: float | Callable[[int], float] = _Default(0.001),  # noqa: B008 (a float)
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if "lr" in kwargs:
            if type(learning_rate) is not _Default:
                raise ValueError(
                    "`lr` is the old name of `learning_rate`: pass only one of them. "
                    f"Received: lr={kwargs['lr']!r}, learning_rate={learning_rate!r}"
                )
            learning_rate = kwargs.pop("lr")
        if type(learning_rate) is _Default:
            learning_rate = float(learning_rate)
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected argument(s): "
                f"{', '.join(sorted(kwargs))}. Received: {kwargs}"
            )
        _check_nonnegative("learning_rate", learning_rate)
        for key, value in [
            ("weight_decay", weight_decay),
            ("clipnorm", clipnorm),
            ("clipvalue", clipvalue),
            ("global_clipnorm", global_clipnorm),
        ]:
            _check_nonnegative(key, value)
        if clipnorm and global_clipnorm:
            raise ValueError(
                "Only one of `clipnorm` and `global_clipnorm` can be set. Received: "
                f"clipnorm={clipnorm}, global_clipnorm={global_clipnorm}"
            )
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self.built = False
        self._state: dict[int, tuple[Any, list[np.ndarray]]] = {}
        self._buffers: dict[tuple[Any, ...], np.ndarray] = {}
        # NOTE: one update at a time: the state and the scratch buffers are
        # shared by every model compiled with this optimizer.
        self._lock = threading.Lock()

    # --- the old Keras spelling ------------------------------------------------------
    @property
    def lr(self) -> Any:
        return self.learning_rate

    @lr.setter
    def lr(self, value: Any) -> None:
        self.learning_rate = value

    # --- public API ------------------------------------------------------------------
    def step(self, params: Iterable[Any]) -> None:
        """Update every parameter that has a gradient, in place, from ``p.grad``."""
        params = [p for p in params if p.grad is not None]
        self._apply([p.grad for p in params], params)

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Any]]) -> int:
        """Keras's ``apply_gradients([(grad, variable), ...])``: :meth:`apply`
        on the pairs (None gradients skipped); returns ``iterations``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])
        return self.iterations

    def apply(
        self, grads: Iterable[Any], variables: Iterable[Any] | None = None
    ) -> None:
        """Keras's ``apply``: one update of ``variables`` (Tensors or ndarrays;
        by default those the optimizer was built with) from ``grads``. As in
        Keras, a variable whose gradient is None is left alone (with a
        warning naming it), no gradient at all is an error, and an empty
        ``grads`` does nothing (``iterations`` unchanged)."""
        grads = grads if type(grads) is list else list(grads)
        if not grads:
            return
        if variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must "
                    "already be built on a list of variables: call "
                    "optimizer.build(trainable_variables) first, or pass them. "
                    f"Received: {len(grads)} gradients, variables=None"
                )
            variables = [entry[0] for entry in self._state.values()]
        variables = variables if type(variables) is list else list(variables)
        for grad in grads:
            if grad is None:
                if not self.built:  # NOTE: Keras builds on all of them
                    with self._lock:
                        self.build(variables)
                grads, variables = self._skip_missing(grads, variables)
                break
        self._apply(grads, variables)

    def _skip_missing(self, grads: list[Any], variables: list[Any]) -> Any:
        """The pairs whose gradient is not None (Keras warns about the rest)."""
        if len(grads) != len(variables):
            return grads, variables  # NOTE: _apply says what is wrong
        kept = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if not kept:
            raise ValueError(
                "No gradients provided for any variable. Received: "
                f"{len(grads)} gradients, all None"
            )
        missing = [v for g, v in zip(grads, variables) if g is None]
        names = [getattr(v, "name", None) or type(v).__name__ for v in missing]
        warn(
            f"Gradients do not exist for variables {names} when minimizing the "
            "loss. If using `model.compile()`, did you forget to provide a "
            "`loss` argument?"
        )
        return [g for g, _ in kept], [v for _, v in kept]

    def _apply(self, grads: list[Any], variables: list[Any]) -> None:
        """One update of ``variables`` from ``grads`` (none of them None), one
        update at a time, whichever threads call it."""
        if len(grads) != len(variables):
            raise ValueError(
                f"Got {len(grads)} gradients for {len(variables)} variables."
            )
        # NOTE: inline, not _array(): two calls fewer per variable and step
        arrays = [v._data if isinstance(v, Tensor) else v for v in variables]
        grads = [np.asarray(g._data if isinstance(g, Tensor) else g) for g in grads]
        for array, grad, var in zip(arrays, grads, variables):
            if not isinstance(array, np.ndarray) or grad.shape != array.shape:
                raise ValueError(
                    f"Gradient of shape {grad.shape} does not match the variable "
                    f"{getattr(var, 'name', None) or ''} of shape "
                    f"{np.shape(array)}. Received: variable of type "
                    f"{type(var).__name__}"
                )
        with self._lock:
            if not self.built:
                self.build(variables)
            grads = self._clip(grads)
            lr = self.learning_rate
            if callable(lr):
                lr = lr(self.iterations)
            if self.weight_decay:
                for array in arrays:
                    decay = np.multiply(
                        array, self.weight_decay, out=self._scratch(array)
                    )
                    decay *= lr
                    array -= decay
            self.iterations += 1
            self._update_all(arrays, grads, variables, lr)
        for var in variables:
            if isinstance(var, Tensor):
                var.mark_modified()  # a graph that kept the old values is stale

    def build(self, variables: Iterable[Any]) -> None:
        """Create the state of ``variables`` (Tensors or ndarrays) now, as Keras's
        ``optimizer.build``; ``apply`` calls it on the first update when the user
        did not. A variable that already has its state keeps it."""
        for var in variables:
            self._state_of(var, _array(var))
        self.built = True

    @property
    def variables(self) -> list[np.ndarray]:
        """All state arrays, in the order variables were first seen."""
        return [a for _, state in self._state.values() for a in state]

    def slots(self, variable: Any) -> list[np.ndarray]:
        """The state arrays of ``variable`` (made on first use), in the order of
        ``_new_state``: what saving writes and loading fills in place."""
        return self._state_of(variable, _array(variable))

    @property
    def slots_per_variable(self) -> int:
        """How many state arrays each variable has (Adam: 2, 3 with AMSGrad)."""
        return len(self._new_state(np.zeros(0)))

    def __getstate__(self) -> dict[str, Any]:
        # NOTE: the lock is made again by __setstate__, the scratch buffers by
        # the next step; a pickle carries the state only (the buffers are as
        # large as the weights).
        state = {**self.__dict__, "_buffers": {}}
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # NOTE: the per-variable state is keyed by id(), and ids change when a
        # pickle is loaded: re-key it so training resumes where it stopped.
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self.__dict__.setdefault("built", bool(self._state))
        self._state = {id(entry[0]): entry for entry in self._state.values()}

    def reset(self) -> None:
        """Forget all state and set ``iterations`` back to 0."""
        self._state.clear()
        self._buffers.clear()
        self.built = False
        self.iterations = 0

    def get_config(self) -> dict[str, Any]:
        learning_rate = self.learning_rate
        if hasattr(learning_rate, "get_config"):  # a schedule object
            learning_rate = serialize_object(learning_rate)
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
            **self.keras_only,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        config = without_keras_only(cls, config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.get(config["learning_rate"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(learning_rate={self.learning_rate!r})"

    # --- for subclasses --------------------------------------------------------------
    def _new_state(self, array: np.ndarray) -> list[np.ndarray]:
        return []

    def _update_all(
        self, arrays: list[np.ndarray], grads: list[np.ndarray], variables: list, lr
    ) -> None:
        """One update of every variable (after clipping, weight decay and the
        iteration count): ``_update`` variable by variable."""
        for array, grad, var in zip(arrays, grads, variables):
            self._update(array, grad, self._state_of(var, array), lr)

    def _update(
        self, p: np.ndarray, g: np.ndarray, state: list[np.ndarray], lr: Any
    ) -> None:
        raise NotImplementedError

    def _scratch(self, like: np.ndarray, index: int = 0) -> np.ndarray:
        """A reusable temporary shaped like ``like`` (no allocation per step;
        large temporaries would otherwise be mapped and page-faulted every step)."""
        key = (like.shape, like.dtype.str, index)
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = np.empty(like.shape, like.dtype)
        return buffer

    def _state_of(self, var: Any, array: np.ndarray) -> list[np.ndarray]:
        entry = self._state.get(id(var))
        # NOTE: check identity and shape: ids are reused after garbage collection,
        # and set_weights may give a variable a new shape.
        stale = entry is None or entry[0] is not var
        if not stale and entry[1] and entry[1][0].shape != array.shape:
            stale = True
        if stale:
            entry = (var, self._new_state(array))
            self._state[id(var)] = entry
        return entry[1]

    def _clip(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        if self.clipnorm:
            return [g * (self.clipnorm / max(_norm(g), self.clipnorm)) for g in grads]
        if self.global_clipnorm:
            total = float(np.sqrt(sum(_norm(g) ** 2 for g in grads)))
            scale = self.global_clipnorm / max(total, self.global_clipnorm)
            return [g * scale for g in grads]
        if self.clipvalue:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads


class _ElementwiseOptimizer(Optimizer):
    """Base of the optimizers whose update is elementwise: ``w += step`` with a
    step computed entry by entry from ``g`` and the state.

    Subclasses define ``_elementwise_step(g, state, lr, like)``, which returns the
    step (shaped like ``g``; ``like`` has the weights' shape and dtype, for
    scratch buffers). :meth:`build` also makes a flat group of the variables
    (several, all of one dtype), and ``_update_all`` then steps them as one flat
    vector; it makes the group again when the variables, their arrays or their
    state change (after set_weights, after unpickling), and steps variable by
    variable where no group fits (mixed dtypes, gradients of another dtype).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._flat: _FlatGroup | None = None

    def build(self, variables: Iterable[Any]) -> None:
        variables = list(variables)
        super().build(variables)
        arrays = [_array(v) for v in variables]
        group = self._flat
        if group is None or not group.matches(variables, arrays, self._state):
            self._flat = self._new_group(variables, arrays)

    def reset(self) -> None:
        super().reset()
        self._flat = None

    def __getstate__(self) -> dict[str, Any]:
        # NOTE: the flat group is made again from the per-variable state
        # (pickling turns its views into copies).
        return {**super().__getstate__(), "_flat": None}

    def _elementwise_step(
        self, g: np.ndarray, state: list[np.ndarray], lr: Any, like: np.ndarray
    ) -> np.ndarray:
        raise NotImplementedError

    def _update(self, p, g, state, lr):
        p += self._elementwise_step(g, state, lr, p)

    def _update_all(self, arrays, grads, variables, lr):
        group = self._flat
        if group is None or not group.matches(variables, arrays, self._state):
            group = self._flat = self._new_group(variables, arrays)
        # NOTE: a gradient of another dtype is rounded where the per-variable
        # path would round only its products: keep that path for it.
        if group is None or any(g.dtype != group.dtype for g in grads):
            super()._update_all(arrays, grads, variables, lr)
            return
        grad = group.grad.gather(grads)
        group.add(self._elementwise_step(grad, group.state, lr, grad))

    def _new_group(self, variables: list, arrays: list) -> _FlatGroup | None:
        """The flat group of ``variables``; None for fewer than two or mixed
        dtypes."""
        if len(arrays) < 2 or any(a.dtype != arrays[0].dtype for a in arrays):
            return None
        for var, array in zip(variables, arrays):
            self._state_of(var, array)
        return _FlatGroup(variables, arrays, [self._state[id(v)] for v in variables])


class _FlatGroup:
    """Variables of one dtype stepped as one flat vector: a gradient buffer
    ``grad`` laid out like the variables, and one vector per state slot
    (``state[k]``, Adam's m and v) of which the per-variable states are views, so
    the flat and the per-variable stepping see the same moments."""

    def __init__(self, variables: list, arrays: list, entries: list) -> None:
        self.variables = list(variables)
        self.arrays = list(arrays)
        self.entries = entries
        self.shapes = [a.shape for a in arrays]
        self.dtype = arrays[0].dtype
        self.grad = FlatVector(self.shapes, self.dtype)
        self.state = []
        for k in range(len(entries[0][1])):
            slot = FlatVector.pack([state[k] for _, state in entries])
            for (_, state), view in zip(entries, slot.views):
                state[k] = view
            self.state.append(slot.data)
        self._step: np.ndarray | None = None
        self._step_views: list[np.ndarray] = []

    def matches(self, variables: list, arrays: list, state: dict) -> bool:
        """Whether this group still steps ``variables``: the same variables, with
        the same arrays (set_weights may give a Tensor a new one), shapes and
        state."""
        if len(variables) != len(self.variables):
            return False
        for var, own, array, own_array, shape, entry in zip(
            variables, self.variables, arrays, self.arrays, self.shapes, self.entries
        ):
            if (
                var is not own
                or array is not own_array
                or array.shape != shape
                or state.get(id(var)) is not entry
            ):
                return False
        return True

    def add(self, step: np.ndarray) -> None:
        """``w += step`` for each variable, from a flat ``step``."""
        # NOTE: the step is usually a reused scratch buffer: slice it once.
        if step is not self._step:
            self._step_views = self.grad.split(step)
            self._step = step
        for array, view in zip(self.arrays, self._step_views):
            array += view


def _array(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _norm(g: np.ndarray) -> float:
    return float(np.sqrt(np.vdot(g, g).real))


_registry.base = Optimizer


@_registry.register("sgd")
class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum.

    ``v = momentum * v - lr * g``, then ``w += v`` (nesterov:
    ``w += momentum * v - lr * g``), in scikit-learn's order of operations.
    Without momentum simply ``w -= lr * g``.
    """

    def __init__(
        self,
        learning_rate: float = _Default(0.01),
        momentum: float = 0.0,
        nesterov: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        _check_nonnegative("momentum", momentum, upper=1.0)
        self.momentum, self.nesterov = momentum, bool(nesterov)

    def _new_state(self, array):
        return [np.zeros_like(array)] if self.momentum else []

    def _update(self, p, g, state, lr):
        step = np.multiply(g, float(lr), out=self._scratch(p))
        if not self.momentum:
            p -= step
            return
        (v,) = state
        v *= self.momentum
        v -= step
        if self.nesterov:
            update = np.multiply(v, self.momentum, out=self._scratch(p, 1))
            update -= step
            p += update
        else:
            p += v

    def get_config(self):
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "nesterov": self.nesterov,
        }


@_registry.register("adam")
class Adam(_ElementwiseOptimizer):
    """Adam (Kingma & Ba), with optional AMSGrad.

    ``t += 1; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g**2;
    lr_t = lr sqrt(1 - b2**t) / (1 - b1**t); w += -lr_t m / (sqrt(v) + eps)``.

    float64 weights step in exactly scikit-learn's order (bit for bit). Keras 3
    and PyTorch agree up to rounding (PyTorch scales ``eps`` slightly
    differently).

    Parameters
    ----------
    learning_rate, beta_1, beta_2, epsilon, amsgrad :
        As in Keras 3 (``epsilon`` is added to ``sqrt(v)``).
    step_dtype : {None, "float64"}, default None
        Where the last step of weights narrower than float64 (float32) is
        rounded. None: in the weights' dtype, as ``m / (sqrt(v) + eps) * -lr_t``
        (no float64 temporaries). ``"float64"``: as scikit-learn does,
        ``-lr_t m / (sqrt(v) + eps)`` in float64, rounded to the weights' dtype
        when added, which reproduces scikit-learn's float32 fits bit for bit
        (the scikit-learn estimators pass it). The two agree to float32
        rounding.
    **kwargs :
        The base class's (weight_decay, clipnorm, clipvalue, global_clipnorm,
        name, ``lr``).
    """

    def __init__(
        self,
        learning_rate: float = _Default(0.001),
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        step_dtype: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        _check_nonnegative("beta_1", beta_1, upper=1.0)
        _check_nonnegative("beta_2", beta_2, upper=1.0)
        _check_nonnegative("epsilon", epsilon)
        if step_dtype is not None and not _is_float64(step_dtype):
            raise ValueError(
                "`step_dtype` must be None (the weights' dtype) or 'float64' "
                f"(scikit-learn's rounding). Received: step_dtype={step_dtype!r}"
            )
        self.beta_1, self.beta_2 = beta_1, beta_2
        self.epsilon, self.amsgrad = epsilon, bool(amsgrad)
        self.step_dtype = None if step_dtype is None else "float64"

    def _new_state(self, array):
        return [np.zeros_like(array) for _ in range(3 if self.amsgrad else 2)]

    def _elementwise_step(self, g, state, lr, like):
        # NOTE: ufuncs get ``out`` positionally: the keyword is parsed on every
        # call, and there are 11 calls per step.
        m, v, buffer = state[0], state[1], self._scratch(like)
        t = self.iterations
        beta_1, beta_2 = self.beta_1, self.beta_2
        m *= beta_1
        m += np.multiply(g, 1 - beta_1, buffer)
        np.multiply(g, g, buffer)
        buffer *= 1 - beta_2
        v *= beta_2
        v += buffer
        if self.amsgrad:
            np.maximum(state[2], v, out=state[2])
            v = state[2]
        lr_t = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        denominator = np.sqrt(v, buffer)
        denominator += self.epsilon
        if like.dtype == np.float64:
            step = np.multiply(m, -lr_t, self._scratch(like, 1))
            step /= denominator
        elif self.step_dtype is not None:
            step = m * -lr_t  # a float64 array (lr_t is a float64), as in scikit-learn
            step /= denominator
        else:
            step = np.divide(m, denominator, buffer)
            step *= -float(lr_t)
        return step

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
            # glassnet's own argument: written only when set, so Keras reads it
            **({"step_dtype": self.step_dtype} if self.step_dtype else {}),
        }


def _is_float64(dtype: Any) -> bool:
    try:
        return np.dtype(dtype) == np.float64
    except TypeError:
        return False


@_registry.register("adamw", "adam_w")
class AdamW(Adam):
    """Adam with decoupled weight decay (Keras 3): ``w -= w * wd * lr`` first."""

    def __init__(
        self, learning_rate: float = _Default(0.001), weight_decay=0.004, **kwargs
    ):
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, **kwargs
        )


@_registry.register("rmsprop")
class RMSprop(Optimizer):
    """RMSprop (Keras 3 rule).

    ``v = rho v + (1 - rho) g**2``; ``d = lr g / sqrt(v + eps)`` (centered:
    ``sqrt(v - a**2 + eps)`` with ``a = rho a + (1 - rho) g``); with momentum
    ``m = momentum m + d; w -= m``, else ``w -= d``.
    """

    def __init__(
        self,
        learning_rate: float = _Default(0.001),
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        _check_nonnegative("rho", rho, upper=1.0)
        _check_nonnegative("momentum", momentum, upper=1.0)
        _check_nonnegative("epsilon", epsilon)
        self.rho, self.momentum = rho, momentum
        self.epsilon, self.centered = epsilon, bool(centered)

    def _new_state(self, array):
        n = 1 + bool(self.momentum) + self.centered
        return [np.zeros_like(array) for _ in range(n)]

    def _update(self, p, g, state, lr):
        v, buffer = state[0], self._scratch(p)
        np.multiply(g, g, out=buffer)
        buffer *= 1 - self.rho
        v *= self.rho
        v += buffer
        if self.centered:
            a = state[-1]
            a *= self.rho
            a += np.multiply(g, 1 - self.rho, out=buffer)
            denominator = np.multiply(a, a, out=buffer)
            np.subtract(v, denominator, out=denominator)
            denominator += self.epsilon
        else:
            denominator = np.add(v, self.epsilon, out=buffer)
        np.sqrt(denominator, out=denominator)
        step = np.multiply(g, lr, out=self._scratch(p, 1))
        step /= denominator
        if self.momentum:
            m = state[1]
            m *= self.momentum
            m += step
            step = m
        p -= step

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


@_registry.register("adagrad")
class Adagrad(Optimizer):
    """Adagrad (Keras 3 rule): ``a += g**2; w -= lr g / sqrt(a + eps)``.

    The accumulator ``a`` starts at ``initial_accumulator_value``.
    """

    def __init__(
        self,
        learning_rate: float = _Default(0.001),
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        _check_nonnegative("initial_accumulator_value", initial_accumulator_value)
        _check_nonnegative("epsilon", epsilon)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def _new_state(self, array):
        return [np.full_like(array, self.initial_accumulator_value)]

    def _update(self, p, g, state, lr):
        (a,) = state
        square = np.multiply(g, g, out=self._scratch(p))
        a += square
        denominator = np.add(a, self.epsilon, out=square)
        np.sqrt(denominator, out=denominator)
        step = np.multiply(g, lr, out=self._scratch(p, 1))
        step /= denominator
        p -= step

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name (``"adam"``, ``"SGD"``), an instance, a class or a
    config dict; names give a new instance with default settings."""
    if identifier is None:
        raise ValueError("An optimizer is required. Received: optimizer=None")
    optimizer = _registry.get(identifier)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"Could not interpret optimizer identifier. Received: {identifier!r}"
        )
    return optimizer


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """Keras 3's ``{"module", "class_name", "config", "registered_name"}``."""
    return _registry.serialize(optimizer)


def deserialize(config: dict[str, Any]) -> Optimizer:
    return get(config)
