"""The network of the MLP estimators on the engine: forward graph, training step.

A training step builds one graph node per layer (``ops.linear``, the hidden
activation fused into it; a ``glassnet.layers.Dropout`` after a hidden layer
where ``dropout`` asks for one) and one fused output/loss node
(:class:`~glassnet.sklearn._losses.MLPLoss`; the regressor's other losses are
composed from ``glassnet.losses``), runs ``Tensor.backward`` and leaves
scikit-learn's gradients in one flat vector laid out like the packed
parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import ops
from glassnet.autograd import Tensor, no_grad
from glassnet.layers import Dense, Dropout
from glassnet.runtime import FlatVector
from glassnet.sklearn._losses import MLPLoss, engine_loss, engine_objective

#: Hidden-layer activations: scikit-learn's names -> the names ``ops.linear``
#: fuses into its node (in place, as scikit-learn's in-place activations).
HIDDEN_ACTIVATIONS = {
    "identity": None,
    "logistic": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
}


def network_output(
    X,
    layers: list[Dense],
    activations: list[str | None],
    dropouts: list[Dropout | None] | None = None,
) -> Tensor:
    """The graph from ``X`` (array or sparse matrix) through the Dense layers to
    the output layer's pre-activation ``z``; ``activations[i]`` (a name from
    ``HIDDEN_ACTIVATIONS``' values) after hidden layer i, in its linear node,
    then ``dropouts[i]`` in training mode where there is one."""
    linear = ops.linear
    h = X
    for i, layer in enumerate(layers[:-1]):
        h = linear(h, layer.kernel, layer.bias, activation=activations[i])
        if dropouts is not None and dropouts[i] is not None:
            h = dropouts[i].call(h, training=True)
    last = layers[-1]
    return linear(h, last.kernel, last.bias)


class TrainingStep:
    """Forward and backward pass of one batch, set up once per fit.

    Calling it returns the batch loss (a NumPy scalar, penalty included) and
    leaves scikit-learn's gradients ``(X.T @ delta + alpha W) / s`` in ``grad``,
    a flat vector laid out like the packed parameters (all kernels, then all
    biases). Everything that does not change between batches is looked up here,
    once, because tiny networks run tens of thousands of batches.
    ``dropouts`` (one per hidden layer, None where there is none) act in the
    training passes only; :meth:`evaluate` runs without them.
    """

    def __init__(
        self,
        estimator: Any,
        layers: list[Dense],
        dropouts: list[Dropout | None] | None = None,
    ):
        self.layers = layers
        self.kernels = [layer.kernel for layer in layers]
        self.params = self.kernels + [layer.bias for layer in layers]
        for p in self.params:
            p.grad = None  # e.g. left over from an interrupted fit
        layout = FlatVector(
            [p.data.shape for p in self.params],
            np.result_type(*[p.data for p in self.params]),
        )
        self.grad, self.grad_views = layout.data, layout.views
        self.activations = estimator._fused_activations()
        self.dropouts = dropouts
        loss = estimator.loss
        self.engine_loss = engine_loss(loss, getattr(estimator, "huber_delta", None))
        if loss == "log_loss" and estimator.out_activation_ == "logistic":
            loss = "binary_log_loss"
        self.settings = {
            "activation": estimator.out_activation_,
            "loss": loss,
            "alpha": estimator.alpha,
        }

    def _objective(self, z, kernels, y, sample_weight, sw_sum) -> Tensor:
        if self.engine_loss is not None:
            alpha = self.settings["alpha"]
            return engine_objective(
                self.engine_loss, z, y, sample_weight, sw_sum, kernels, alpha
            )
        return MLPLoss.apply(
            z,
            *kernels,
            y=y,
            sample_weight=sample_weight,
            sw_sum=sw_sum,
            **self.settings,
        )

    def __call__(self, X, y, sample_weight=None):
        sw_sum = X.shape[0] if sample_weight is None else sample_weight.sum()
        kernels = [k.data for k in self.kernels]
        # NOTE: the kernels go in as arrays (constants of the graph): the
        # penalty's gradient alpha W is added below straight into the packed
        # gradient, which saves an allocation per kernel and per graph edge.
        z = network_output(X, self.layers, self.activations, self.dropouts)
        loss = self._objective(z, kernels, y, sample_weight, sw_sum)
        # The gradient of s * loss, divided by s afterwards: scikit-learn's rounding.
        loss.backward(np.asarray(sw_sum))
        # (X.T @ delta + alpha W) / s, as scikit-learn rounds it.
        alpha, views = self.settings["alpha"], self.grad_views
        n = len(kernels) if alpha != 0 else 0
        for w, p, out in zip(kernels[:n], self.kernels, views):
            # NOTE: plain operators, not out=: ufunc keywords cost more than the
            # temporaries on tiny networks, and nothing measurable on big ones.
            np.divide(alpha * w + p.grad, sw_sum, out=out)
        for p, out in zip(self.params[n:], views[n:]):
            np.divide(p.grad, sw_sum, out=out)
        for p in self.params:
            p.grad = None  # backward accumulates into leaves: start empty next time
        return loss.data[()]

    def evaluate(self, X, y, sample_weight=None) -> float:
        """The loss of ``X`` (penalty included, ``s`` the number of samples or
        their weights' sum) at inference: no dropout, no graph."""
        sw_sum = X.shape[0] if sample_weight is None else sample_weight.sum()
        kernels = [k.data for k in self.kernels]
        with no_grad():
            z = network_output(X, self.layers, self.activations)
            return float(self._objective(z, kernels, y, sample_weight, sw_sum).data)
