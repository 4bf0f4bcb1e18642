"""scikit-learn estimators on the glassnet engine.

``MLPRegressor`` and ``MLPClassifier`` are drop-in replacements for
``sklearn.neural_network``'s: same parameters, attributes and numbers, trained by
glassnet's Dense layers, initializers, optimizers and autograd.
``NeuralNetClassifier`` and ``NeuralNetRegressor`` make any glassnet model a
scikit-learn estimator.
"""

from __future__ import annotations

from glassnet.sklearn._classifier import MLPClassifier
from glassnet.sklearn._regressor import MLPRegressor
from glassnet.sklearn._wrappers import NeuralNetClassifier, NeuralNetRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "NeuralNetClassifier", "NeuralNetRegressor"]
