"""One batch at a time: the steps fit / evaluate / predict run, in Keras 3's
words (:class:`Steps`, mixed into the Trainer), and the lean built-in steps
they run when a model keeps Keras's defaults.

A model may override ``train_step(self, data)``, ``test_step(self, data)`` and
``predict_step(self, data)``, as in Keras's guide "Customizing what happens in
fit()". ``data`` is one batch as the data adapter gives it, packed as Keras
packs it: ``(x, y)``, ``(x, y, sample_weight)``, or ``x`` alone without
targets (:func:`~glassnet.models.data_adapter.unpack_x_y_sample_weight`
unpacks it). Inside, glassnet's engine in Keras's vocabulary::

    def train_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        loss.backward()  # fills the .grad of self.trainable_variables
        grads = [v.grad for v in self.trainable_variables]
        self.optimizer.apply(grads, self.trainable_variables)
        return self.compute_metrics(x, y, y_pred, sample_weight)

The returned dict is the logs: its values (Tensors, metric results, nested
dicts of them) become floats for the progress bar, the callbacks and
``History``; an epoch's logs are its last step's. ``fit`` clears the weights'
``.grad`` before each custom step, resets ``self.metrics`` before each epoch
(and ``evaluate`` before it starts) and holds the model's write lock around a
training step.

The loops ask :func:`step_function` for the object that runs a batch. When the
model's class keeps Keras's default step, that object runs the lean built-in
one -- one forward pass, one backward pass seeded with the gradient of the
batch's loss, ``optimizer.step`` -- and sums the epoch's loss in floats,
making a logs dict only when a callback or the epoch's end reads it; so a
model without a custom step pays nothing for the possibility.
"""

from __future__ import annotations

import functools
from math import isfinite
from typing import Any

import numpy as np

from glassnet import ops, tree
from glassnet._warnings import warn
from glassnet.autograd import Tensor
from glassnet.layers import masking
from glassnet.metrics import Metric
from glassnet.models.compile_metrics import output_masks
from glassnet.models.compile_utils import CompileLosses, warn_not_finite
from glassnet.models.data_adapter import (
    Batch,
    pack_x_y_sample_weight,
    unpack_x_y_sample_weight,
)
from glassnet.runtime import kernel_scope

#: what the built-in steps return: the batch's loss, the model's output (an
#: array, or a list of them) and the outputs' masks (None without)
Stepped = tuple[float, Any, Any]


def y_pred_data(y_pred: Any) -> Any:
    """The model's output as the steps keep it: an array, or for several
    outputs a list of arrays in output order."""
    if isinstance(y_pred, Tensor):
        return y_pred.data
    return [_data(t) for t in tree.flatten(y_pred)]


def _with_masks(y_pred: Any, masks: Any) -> Any:
    """The output arrays as Tensors carrying their masks (``masks`` as
    :func:`~glassnet.models.compile_metrics.output_masks` gives them)."""
    if isinstance(y_pred, np.ndarray):
        tensor = Tensor(y_pred)
        masking.set_mask(tensor, masks)
        return tensor
    tensors = [Tensor(p) for p in y_pred]
    for tensor, mask in zip(tensors, masks):
        masking.set_mask(tensor, mask)
    return tensors


def _data(value: Any) -> Any:
    """A Tensor's array, anything else as an array (None stays None)."""
    if value is None or isinstance(value, np.ndarray):
        return value
    return np.asarray(value.data if isinstance(value, Tensor) else value)


def pythonify_logs(logs: Any) -> dict[str, Any]:
    """Logs as callbacks get them (Keras's ``pythonify_logs``): nested dicts
    flattened, one-value Tensors, arrays and NumPy numbers as floats."""
    result: dict[str, Any] = {}
    for key, value in (logs or {}).items():
        if isinstance(value, dict):
            result.update(pythonify_logs(value))
            continue
        array = value.data if isinstance(value, Tensor) else value
        try:
            result[key] = float(array) if np.size(array) == 1 else value
        except (TypeError, ValueError):
            result[key] = value
    return result


def is_overridden(model: Any, name: str) -> bool:
    """Whether ``model`` brings its own ``train_step`` / ``test_step`` /
    ``predict_step`` instead of Keras's default."""
    return name in vars(model) or getattr(type(model), name) is not getattr(Steps, name)


class Steps:
    """Keras's per-batch API of a model: the default steps, and what a custom
    step uses (``compute_loss``, ``compute_metrics``, ``metrics``,
    ``reset_metrics``; ``trainable_variables`` is the Layer's). Relies on the
    model for ``_forward``, ``losses``, ``weights``, ``trainable_weights``,
    ``optimizer`` and the compiled ``_compile_loss`` / ``_compile_metrics``."""

    # --- Keras's default steps ----------------------------------------------------
    def train_step(self, data: Any) -> dict[str, Any]:
        """One optimizer step on ``data`` with the compiled loss; returns the
        logs so far (the loss tracker and the compiled metrics). ``fit`` runs
        the same step, without building these logs, unless a subclass
        overrides this method."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        batch = self._flat_batch(x, y, sample_weight)
        value, y_pred, masks = self._train_step(batch, self.trainable_weights)
        if not isfinite(value):
            warn_not_finite(value, "train_step")
            self.stop_training = True
        return self._record(batch, value, y_pred, masks)

    def test_step(self, data: Any) -> dict[str, Any]:
        """The compiled loss and metrics of ``data``, added to the running
        logs, which it returns."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        batch = self._flat_batch(x, y, sample_weight)
        return self._record(batch, *self._test_step(batch))

    def predict_step(self, data: Any) -> Any:
        """The model's output for the ``x`` of ``data``: ``self(x)``."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _flat_batch(self, x: Any, y: Any, sample_weight: Any) -> Batch:
        """A custom step's batch as the built-in steps take it: arrays, and
        for several inputs or outputs flat lists of them (:func:`structured`
        undone)."""
        if tree.is_nested(x) and getattr(self, "_several", False):
            x = [t.data for t in self._flat_inputs(x)]
        else:
            x = _data(x)
        outputs = getattr(self._compile_loss, "outputs", None)
        if outputs is None:
            return x, _data(y), _data(sample_weight)
        if y is not None:
            y = [_data(v) for v in outputs.targets(y)]
        sample_weight = outputs.sample_weights(sample_weight)
        if sample_weight is not None:
            sample_weight = [_data(w) for w in sample_weight]
        return x, y, sample_weight

    def _record(self, batch: Batch, value: float, y_pred: Any, masks: Any) -> dict:
        """Add the batch's loss and metrics to the running logs (the outputs
        go to ``compute_metrics`` as Tensors carrying their ``masks``, as
        Keras's carry theirs); returns the logs."""
        compiled = self._compile_metrics
        n = len(y_pred) if isinstance(y_pred, np.ndarray) else len(y_pred[0])
        compiled.loss_tracker.update_state(value, n)
        if isinstance(self._compile_loss, CompileLosses):
            for tracker, part in zip(compiled.loss_trackers, self._compile_loss.values):
                tracker.update_state(part, n)
        if masks is not None:
            y_pred = _with_masks(y_pred, masks)
        return self.compute_metrics(batch[0], batch[1], y_pred, batch[2])

    # --- what a custom step uses ----------------------------------------------------
    def zero_grad(self) -> None:
        """Clear the ``.grad`` of every weight (PyTorch's name, which Keras's
        torch guide calls; ``fit`` clears them before each custom step)."""
        for weight in self.weights:
            weight.grad = None

    @property
    def metrics(self) -> list[Any]:
        """Keras 3's list: the loss tracker (a ``Mean`` named ``"loss"``) and
        the compiled metrics (one ``compile_metrics`` metric whose result is a
        dict) once compiled, then the Metric objects set as attributes of the
        model. A custom step may return ``{m.name: m.result() for m in
        self.metrics}``; override this property to list your own."""
        found: list[Any] = []
        compiled = self._compile_metrics if getattr(self, "compiled", False) else None
        if compiled is not None:
            found.append(compiled.loss_tracker)
            if compiled.specs:
                found.append(compiled)
            found += compiled.loss_trackers  # several outputs: "<output>_loss"
        found += [
            value
            for name, value in vars(self).items()
            if isinstance(value, Metric) and not name.startswith("_")
        ]
        return found

    @property
    def metrics_names(self) -> list[str]:
        return [metric.name for metric in self.metrics]

    def reset_metrics(self) -> None:
        """``reset_state()`` of every metric in ``self.metrics``."""
        for metric in self.metrics:
            metric.reset_state()

    def get_metrics_result(self) -> dict[str, Any]:
        """``{name: result}`` of ``self.metrics`` (a dict result flattened in)."""
        logs: dict[str, Any] = {}
        for metric in self.metrics:
            result = metric.result()
            logs.update(result if isinstance(result, dict) else {metric.name: result})
        return pythonify_logs(logs)

    def compute_loss(
        self,
        x: Any = None,
        y: Any = None,
        y_pred: Any = None,
        sample_weight: Any = None,
        training: bool = True,
    ) -> Tensor:
        """The loss of one batch as a scalar Tensor: the compiled loss of
        ``y_pred`` (a Tensor) against ``y``, weighted by ``sample_weight``
        (its reduction: the mean over the batch by default), plus the model's
        own losses (``self.losses``). ``loss.backward()`` fills the ``.grad``
        of the trainable variables."""
        del x, training  # NOTE: Keras's default does not use them either
        terms = []
        compiled = getattr(self, "_compile_loss", None)
        if isinstance(compiled, CompileLosses) and compiled.fn is not None:
            terms.append(self._several_losses(compiled, y, y_pred, sample_weight))
        elif compiled is not None and compiled.fn is not None:
            if not compiled.built:
                compiled.build(self)
            if not isinstance(y_pred, Tensor):
                y_pred = Tensor(np.asarray(y_pred))
            root, seed, _ = compiled(_data(y), y_pred, _data(sample_weight))
            terms.append(root if seed is None else ops.weighted_sum(root, seed))
        terms += self.losses
        if not terms:
            raise ValueError(
                "No loss to compute. Provide a `loss` argument in `compile()`, or "
                "compute the loss in your own train_step. Received: loss=None"
            )
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total

    def _several_losses(self, compiled: Any, y: Any, y_pred: Any, sw: Any) -> Tensor:
        """The compiled losses of several outputs (``y`` and ``sample_weight``
        as ``fit`` takes them) summed with their weights; each output's own
        loss goes to its ``<output>_loss`` tracker, as in Keras 3."""
        if not compiled.built:
            compiled.build(self)
        outputs = compiled.outputs
        if not isinstance(y, list) or len(y) != outputs.count:
            y = outputs.targets(y)
        y = [_data(v) for v in y]
        sw = outputs.sample_weights(sw)
        sw = None if sw is None else [_data(w) for w in sw]
        root, _, _ = compiled(y, y_pred, sw)
        n = len(y_pred_data(y_pred)[0])
        for tracker, part in zip(self._compile_metrics.loss_trackers, compiled.values):
            tracker.update_state(part, n)
        return root

    def compute_metrics(
        self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None
    ) -> dict[str, Any]:
        """Add the batch to the compiled metrics; returns
        :meth:`get_metrics_result` (the logs of a step)."""
        del x
        compiled = self._compile_metrics if getattr(self, "compiled", False) else None
        if compiled is not None and compiled.specs:
            compiled.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    # --- the lean built-in steps ------------------------------------------------------
    def _train_step(self, batch: Batch, params: list[Tensor]) -> Stepped:
        """One optimizer step on ``(x, y, sample_weight)``; returns the batch's
        loss, the model's output (arrays) and the outputs' masks
        (:func:`~glassnet.models.compile_metrics.output_masks`, None without).
        A NaN or infinite loss changes nothing."""
        x, y, sample_weight = batch
        loss = self._compile_loss
        plan = self._training_plan()
        if plan is not None and not loss.penalties(self):
            ran = plan.forward(x)
            if ran is not None and all(p.grad is None for p in params):
                return self._planned_step(plan, ran, y, sample_weight, params)
        with kernel_scope():
            y_pred = self._forward(x, True)
            penalties = loss.penalties(self)
            root, seed, value = loss(y, y_pred, sample_weight, penalties)
            masks = output_masks(y_pred) if masking.SWITCH.active else None
            if not isfinite(value):
                return value, y_pred_data(y_pred), masks
            # None: no compiled loss, the model's own only; no graph: nothing
            # to train (a model without trainable weights, as Keras allows)
            if root is not None and root.requires_grad:
                root.backward(seed)
            for penalty in penalties:
                if penalty.requires_grad:
                    penalty.backward()
            self.optimizer.step(params)
        for p in params:
            p.grad = None
        out = y_pred.data if isinstance(y_pred, Tensor) else y_pred_data(y_pred)
        return value, out, masks

    def _planned_step(
        self, plan: Any, ran: Any, y: Any, sample_weight: Any, params: list[Tensor]
    ) -> Stepped:
        """:meth:`_train_step` through a training plan (the layers' forward
        and backward on arrays): the compiled loss on the plan's output, its
        gradient back through the plan into the weights, the optimizer step."""
        out, tape = ran
        y_pred = Tensor(out, requires_grad=True)
        root, seed, value = self._compile_loss(y, y_pred, sample_weight)
        if not isfinite(value):
            return value, out, None
        if root is not None and root.requires_grad:  # as the plain step
            root.backward(seed)
        if y_pred.grad is not None:
            plan.backward(tape, y_pred.grad)
        self.optimizer.step(params)
        for p in params:
            p.grad = None
        return value, out, None  # a plan's layers make no masks

    def _test_step(self, batch: Batch) -> Stepped:
        """The loss (penalties included), the output and its masks on one
        batch (as :meth:`_train_step`)."""
        x, y, sample_weight = batch
        loss = self._compile_loss
        plan = self._inference_plan()
        out = None if plan is None else plan(x)
        if out is not None:  # the layers' arithmetic on arrays (see _predict_step)
            value = loss(y, Tensor(out), sample_weight, loss.penalties(self))[2]
            return value, out, None
        with kernel_scope():
            y_pred = self._forward(x, False)
            value = loss(y, y_pred, sample_weight, loss.penalties(self))[2]
        masks = output_masks(y_pred) if masking.SWITCH.active else None
        out = y_pred.data if isinstance(y_pred, Tensor) else y_pred_data(y_pred)
        return value, out, masks

    def _planned_prediction(self, x: Any) -> np.ndarray | None:
        """The output for ``x`` of the inference plan that the built-in
        predict step would run, when there is one and it made a new array
        (the caller's to keep, with no copy); else None."""
        if is_overridden(self, "predict_step"):
            return None
        plan = self._inference_plan()
        out = None if plan is None else plan.run(x)
        return None if out is x else out

    def _predict_step(self, x: Any) -> Any:
        plan = self._inference_plan()
        if plan is not None:
            out = plan(x)
            if out is not None:
                return out
        with kernel_scope():
            out = self._forward(x, False)
        if isinstance(out, Tensor):
            return out.data
        return tree.map_structure(lambda t: t.data, out)


# --- what the loops run per batch ---------------------------------------------------
class _BuiltinSteps:
    """The built-in train or test step over an epoch: ``reset()``, then
    ``step(batch)`` per batch (False: stop), ``logs()`` when wanted."""

    def __init__(self, model: Any, training: bool) -> None:
        self.model = model
        self.metrics = model._compile_metrics
        self.update = self.metrics.update if self.metrics else None
        self.step = model._train_step if training else model._test_step
        self.params = model.trainable_weights if training else None
        if training and not self.params:
            warn("The model does not have any trainable weights.")
        # NOTE: the model's write lock taken here, around the plain step, is
        # what Model._train_step does: one call fewer per step
        self.lock = getattr(model, "_lock", None)
        if training and self.lock is not None:
            self.step = functools.partial(Steps._train_step, model)

    def reset(self) -> None:
        self.total, self.seen = 0.0, 0
        self.metrics.reset()

    def logs(self, final: bool = False) -> dict[str, Any]:
        """The running logs; ``final``: the epoch's, also put in the loss
        tracker of ``model.metrics``."""
        loss = self.total / self.seen if self.seen else float("nan")
        if final:
            self.metrics.pending = loss, self.seen
        if self.update is None:
            return {"loss": loss}
        return {"loss": loss, **self.metrics.result()}

    def stopped(self, where: str) -> bool:
        """After ``step`` returned False: the loss was not finite (True)."""
        warn_not_finite(self.total, where)
        self.model.stop_training = True
        return True


# NOTE: the two __call__ repeat their four lines of bookkeeping on purpose:
# one more method call per step is what the seed model's 22,000 steps feel.
class _BuiltinTrain(_BuiltinSteps):
    def __call__(self, batch: Batch) -> bool:
        lock = self.lock
        if lock is None:
            value, y_pred, masks = self.step(batch, self.params)
        else:
            lock.acquire_write()
            try:
                value, y_pred, masks = self.step(batch, self.params)
            finally:
                lock.release_write()
        if not isfinite(value):
            self.total, self.seen = value, 1
            return False
        n = len(y_pred)
        self.total += value * n
        self.seen += n
        if self.update is not None:
            self.update(batch[1], y_pred, batch[2], masks)
        return True


class _BuiltinTest(_BuiltinSteps):
    def __call__(self, batch: Batch) -> bool:
        value, y_pred, masks = self.step(batch)
        n = len(y_pred)
        self.total += value * n
        self.seen += n
        if self.update is not None:
            self.update(batch[1], y_pred, batch[2], masks)
        return True


class _BuiltinSeveral(_BuiltinSteps):
    """The built-in train or test step of a model of several outputs: the
    total loss as for one output, and each output's own loss summed over
    the epoch too (``<output>_loss`` in the logs, before the metrics)."""

    def __init__(self, model: Any, training: bool) -> None:
        super().__init__(model, training)
        self.training = training
        self.losses = model._compile_loss

    def reset(self) -> None:
        super().reset()
        self.sums = [0.0] * len(self.losses.loss_names)

    def __call__(self, batch: Batch) -> bool:
        lock = self.lock if self.training else None
        if lock is not None:
            lock.acquire_write()
        try:
            if self.training:
                value, y_pred, masks = self.step(batch, self.params)
            else:
                value, y_pred, masks = self.step(batch)
        finally:
            if lock is not None:
                lock.release_write()
        if not isfinite(value):
            self.total, self.seen = value, 1
            return False
        n = len(y_pred[0])
        self.total += value * n
        self.seen += n
        self.sums = [s + part * n for s, part in zip(self.sums, self.losses.values)]
        if self.update is not None:
            self.update(batch[1], y_pred, batch[2], masks)
        return True

    def logs(self, final: bool = False) -> dict[str, Any]:
        seen = self.seen
        parts = [s / seen if seen else float("nan") for s in self.sums]
        logs = super().logs(final)
        if final:
            self.metrics.pending_outputs = [(part, seen) for part in parts]
        return {
            "loss": logs.pop("loss"),
            **dict(zip(self.losses.loss_names, parts)),
            **logs,
        }


class _CustomSteps:
    """A model's own ``train_step`` or ``test_step``, with Keras's packing of
    the batch and the logs it returns."""

    def __init__(self, model: Any, kind: str) -> None:
        self.model = model
        self.method = getattr(model, f"{kind}_step")
        self.training = kind == "train"
        self.last: Any = {}

    def reset(self) -> None:
        self.model.reset_metrics()
        self.last = {}

    def __call__(self, batch: Batch) -> bool:
        data = pack_x_y_sample_weight(*structured(self.model, batch))
        if not self.training:
            self.last = self.method(data)
            return True
        model = self.model
        weights = model.weights
        for weight in weights:
            weight.grad = None
        with model._lock.write():
            self.last = self.method(data)
        for weight in weights:
            weight.grad = None
        return not model.stop_training

    def logs(self, final: bool = False) -> dict[str, Any]:
        return pythonify_logs(self.last)

    def stopped(self, where: str) -> bool:
        """The step set ``stop_training``: nothing failed (False)."""
        return False


def step_function(model: Any, kind: str) -> Any:
    """What the loops call per batch for ``kind`` ``"train"`` or ``"test"``:
    the model's own step, or the built-in one (see the module)."""
    if is_overridden(model, f"{kind}_step"):
        return _CustomSteps(model, kind)
    if isinstance(model._compile_loss, CompileLosses):
        return _BuiltinSeveral(model, kind == "train")
    return _BuiltinTrain(model, True) if kind == "train" else _BuiltinTest(model, False)


def predict_function(model: Any) -> Any:
    """``fn(batch) -> outputs`` (arrays, or lists / dicts of arrays)."""
    if not is_overridden(model, "predict_step"):
        step = model._predict_step
        return lambda batch: step(batch[0])
    return lambda batch: to_numpy(
        model.predict_step(pack_x_y_sample_weight(*structured(model, batch)))
    )


def structured(model: Any, batch: Batch) -> Batch:
    """A batch of a model of several inputs or outputs, whose arrays the data
    adapter keeps in flat lists, in the structures of the model's inputs
    and outputs (a dict where the model has one), for a custom step."""
    graph = model.__dict__.get("_graph")
    if graph is None or not graph.structured:
        x, y, sample_weight = batch
        if hasattr(x, "packed"):  # a subclassed model's structure of inputs
            return x.packed(x), y, sample_weight
        return batch
    x, y, sample_weight = batch

    def pack(template: Any, value: Any) -> Any:
        if not isinstance(value, list) or len(value) != len(tree.flatten(template)):
            return value
        return tree.pack_sequence_as(template, value)

    x = pack(graph.inputs_struct, x)
    return x, pack(graph.outputs_struct, y), pack(graph.outputs_struct, sample_weight)


def to_numpy(outputs: Any) -> Any:
    """A predict step's outputs as arrays (in the lists or dicts they came in)."""
    if isinstance(outputs, dict):
        return {key: to_numpy(value) for key, value in outputs.items()}
    if isinstance(outputs, (list, tuple)):
        return type(outputs)(to_numpy(value) for value in outputs)
    return _data(outputs)


class PredictOutputs:
    """The outputs of ``predict``'s batches, joined along the batch axis.

    With ``samples`` known (array data), a step's single-array output is
    written into one array allocated when the first batch comes, so a large
    prediction holds its result once, never the batches as well; anything
    else (lists and dicts of outputs, sources of unknown length, a batch of
    another shape or dtype) is kept and concatenated at the end.
    """

    def __init__(self, samples: int | None) -> None:
        self.samples = samples
        self.out: np.ndarray | None = None
        self.filled = 0
        self.batches: list[Any] = []

    def add(self, output: Any) -> None:
        out, lo = self.out, self.filled
        if out is None and not self.batches and self.samples is not None:
            if isinstance(output, np.ndarray) and output.ndim:
                out = self.out = np.empty(
                    (self.samples, *output.shape[1:]), output.dtype
                )
        if out is not None:
            hi = lo + len(output)
            if (
                isinstance(output, np.ndarray)
                and output.shape[1:] == out.shape[1:]
                and output.dtype == out.dtype
                and hi <= len(out)
            ):
                out[lo:hi] = output
                self.filled = hi
                return
            self.batches.append(out[:lo])  # NOTE: the rest joins as batches
            self.out = None
        self.batches.append(output)

    def result(self) -> Any:
        out = self.out
        if out is not None:
            return out if self.filled == len(out) else out[: self.filled].copy()
        return concatenate(self.batches)


def concatenate(batches: list[Any]) -> Any:
    """The outputs of all batches, joined along the batch axis (per leaf)."""
    first = batches[0]
    if isinstance(first, dict):
        return {key: concatenate([b[key] for b in batches]) for key in first}
    if isinstance(first, (list, tuple)):
        return type(first)(concatenate(list(leaf)) for leaf in zip(*batches))
    return np.concatenate(batches) if len(batches) > 1 else first.copy()
