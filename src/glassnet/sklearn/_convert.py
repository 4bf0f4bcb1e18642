"""The MLP estimators as glassnet ``Sequential`` models, and back.

``to_model()`` writes the fitted network as Dense layers (and the Dropout
layers of ``dropout``); ``from_model(model)`` reads a Sequential model of Dense
layers (Dropout layers between them allowed) into a fitted estimator. Both copy
the weights: the model and the estimator do not share arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.layers import Dense, Dropout
from glassnet.models import Sequential

#: scikit-learn's hidden activations -> glassnet's activation names.
HIDDEN = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
#: ``out_activation_`` -> the output Dense layer's activation.
OUTPUT = {
    "identity": "linear",
    "exp": "exponential",
    "logistic": "sigmoid",
    "softmax": "softmax",
}


def to_sequential(estimator: Any) -> Sequential:
    """The fitted network of ``estimator`` as a built Sequential model."""
    coefs, intercepts = estimator.coefs_, estimator.intercepts_
    names = estimator._per_hidden_layer("activation")
    rates = estimator._per_hidden_layer("dropout")
    layers, dense = [], []
    for i, coef in enumerate(coefs):
        dtype = np.asarray(coef).dtype.name
        last = i == len(coefs) - 1
        layer = Dense(
            np.shape(coef)[1],
            activation=OUTPUT[estimator.out_activation_] if last else HIDDEN[names[i]],
            dtype=dtype,
            name=f"dense_{i}",
            **({"input_dim": np.shape(coef)[0]} if i == 0 else {}),
        )
        layers.append(layer)
        dense.append(layer)
        if not last and rates[i]:
            layers.append(Dropout(float(rates[i]), dtype=dtype, name=f"dropout_{i}"))
    model = Sequential(layers, name=type(estimator).__name__.lower())
    for layer, coef, intercept in zip(dense, coefs, intercepts):
        layer.set_weights([np.array(coef), np.array(intercept)])
    return model


def read_sequential(model: Any) -> dict[str, Any]:
    """What ``from_model`` needs from ``model``: ``coefs``, ``intercepts``
    (copies), ``activation`` and ``dropout`` (one per hidden layer, in the
    estimator's words) and ``output`` (the output layer's activation name)."""
    layers = _layers_of(model)
    coefs, intercepts, names, rates = [], [], [], []
    for i, layer in enumerate(layers):
        if isinstance(layer, Dropout):
            if i == 0 or not isinstance(layers[i - 1], Dense) or i == len(layers) - 1:
                raise _incompatible(
                    model, f"{layer.name!r} is not after a hidden Dense"
                )
            if layer.noise_shape is not None:
                raise _incompatible(model, f"{layer.name!r} has a noise_shape")
            rates[-1] = layer.rate
            continue
        kernel = np.array(layer.kernel.data)
        bias = layer.bias.data if layer.use_bias else np.zeros(kernel.shape[1])
        coefs.append(kernel)
        intercepts.append(np.array(bias, dtype=kernel.dtype))
        names.append(layer.get_config()["activation"])
        rates.append(0.0)
    output = names.pop()
    rates.pop()
    inverse = {v: k for k, v in HIDDEN.items()}
    for layer_name in names:
        if layer_name not in inverse:
            raise _incompatible(
                model,
                f"a hidden activation {layer_name!r} (the estimators have "
                f"{sorted(inverse)})",
            )
    return {
        "coefs": coefs,
        "intercepts": intercepts,
        "activation": [inverse[n] for n in names],
        "dropout": rates,
        "output": output,
    }


def _layers_of(model: Any) -> list:
    if not isinstance(model, Sequential) or not model.built:
        raise TypeError(
            "from_model takes a built glassnet Sequential model of Dense layers "
            f"(Dropout layers between them allowed). Received: {model!r}"
        )
    layers = model.layers
    if not layers or not isinstance(layers[-1], Dense):
        raise _incompatible(model, "no Dense output layer")
    for layer in layers:
        if not isinstance(layer, (Dense, Dropout)):
            raise _incompatible(model, f"the layer {layer.name!r}")
        if isinstance(layer, Dense) and len(layer.kernel.data.shape) != 2:
            raise _incompatible(model, f"{layer.name!r} is not a 2-D kernel")
    return layers


def _incompatible(model: Any, what: str) -> ValueError:
    return ValueError(
        "from_model takes a Sequential model of Dense layers with the "
        "activations 'linear', 'relu', 'tanh' or 'sigmoid' (Dropout layers "
        f"after hidden layers allowed). Received: {model.name!r} with {what}"
    )


def unfitted_estimator(cls: type, spec: dict[str, Any], params: dict) -> Any:
    """An estimator of ``cls`` with the network of ``spec`` (hidden layer
    sizes, activations, dropout) and the other parameters of ``params``."""
    taken = sorted({"hidden_layer_sizes", "activation", "dropout"} & params.keys())
    if taken:
        raise ValueError(
            f"from_model takes {', '.join(taken)} from the model. Received: "
            + ", ".join(f"{k}={params[k]!r}" for k in taken)
        )
    settings = {"hidden_layer_sizes": tuple(c.shape[1] for c in spec["coefs"][:-1])}
    if spec["activation"]:
        settings["activation"] = _one_or_list(spec["activation"])
    if any(spec["dropout"]):
        settings["dropout"] = _one_or_list(spec["dropout"])
    estimator = cls(**settings, **params)
    estimator._validate_params()
    return estimator


def _one_or_list(values: list) -> Any:
    """A per-layer setting as the estimator takes it: one value if all agree."""
    return values[0] if all(v == values[0] for v in values) else values


def adopt(estimator: Any, spec: dict[str, Any]) -> Any:
    """Make ``estimator`` fitted with the weights of ``spec`` (see
    :func:`read_sequential`), if its output activation is the model's."""
    coefs = spec["coefs"]
    layer_units = [coefs[0].shape[0], *(c.shape[1] for c in coefs)]
    estimator._start_fitted_state(layer_units[-1], layer_units)
    expected = OUTPUT[estimator.out_activation_]
    if spec["output"] != expected:
        raise ValueError(
            f"This {type(estimator).__name__} has the output activation "
            f"{expected!r} (out_activation_={estimator.out_activation_!r}), the "
            f"model {spec['output']!r}. Received: a model whose last Dense layer "
            f"has activation={spec['output']!r}"
        )
    estimator.coefs_ = coefs
    estimator.intercepts_ = spec["intercepts"]
    estimator.n_features_in_ = layer_units[0]
    estimator._layers = None
    estimator._best_coefs = [c.copy() for c in coefs]
    estimator._best_intercepts = [i.copy() for i in estimator.intercepts_]
    return estimator
