"""The network of the MLP estimators on the engine: forward graph, training step.

A training step builds one graph node per layer (``ops.linear``, the hidden
activation fused into it) and one fused output/loss node
(:class:`~glassnet.sklearn._losses.MLPLoss`), runs ``Tensor.backward`` and
leaves scikit-learn's gradients in one flat vector laid out like the packed
parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import ops
from glassnet.autograd import Tensor
from glassnet.layers import Dense
from glassnet.runtime import FlatVector
from glassnet.sklearn._losses import MLPLoss

#: Hidden-layer activations: scikit-learn's names -> the names ``ops.linear``
#: fuses into its node (in place, as scikit-learn's in-place activations).
HIDDEN_ACTIVATIONS = {
    "identity": None,
    "logistic": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
}


def network_output(X, layers: list[Dense], activation: str | None) -> Tensor:
    """The graph from ``X`` (array or sparse matrix) through the Dense layers to
    the output layer's pre-activation ``z``; ``activation`` (a name from
    ``HIDDEN_ACTIVATIONS``' values) after each hidden layer, in its linear node."""
    linear = ops.linear
    h = X
    for layer in layers[:-1]:
        h = linear(h, layer.kernel, layer.bias, activation=activation)
    last = layers[-1]
    return linear(h, last.kernel, last.bias)


class TrainingStep:
    """Forward and backward pass of one batch, set up once per fit.

    Calling it returns the batch loss (a NumPy scalar, penalty included) and
    leaves scikit-learn's gradients ``(X.T @ delta + alpha W) / s`` in ``grad``,
    a flat vector laid out like the packed parameters (all kernels, then all
    biases). Everything that does not change between batches is looked up here,
    once, because tiny networks run tens of thousands of batches.
    """

    def __init__(self, estimator: Any, layers: list[Dense]):
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
        self.activation = HIDDEN_ACTIVATIONS[estimator.activation]
        loss = estimator.loss
        if loss == "log_loss" and estimator.out_activation_ == "logistic":
            loss = "binary_log_loss"
        self.settings = {
            "activation": estimator.out_activation_,
            "loss": loss,
            "alpha": estimator.alpha,
        }

    def __call__(self, X, y, sample_weight=None):
        sw_sum = X.shape[0] if sample_weight is None else sample_weight.sum()
        kernels = [k.data for k in self.kernels]
        # NOTE: the kernels go in as arrays (constants of the graph): the
        # penalty's gradient alpha W is added below straight into the packed
        # gradient, which saves an allocation per kernel and per graph edge.
        loss = MLPLoss.apply(
            network_output(X, self.layers, self.activation),
            *kernels,
            y=y,
            sample_weight=sample_weight,
            sw_sum=sw_sum,
            **self.settings,
        )
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
