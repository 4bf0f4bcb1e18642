"""scikit-learn estimators on the glassnet engine.

``MLPRegressor`` and ``MLPClassifier`` are drop-in replacements for
``sklearn.neural_network``'s: same parameters, attributes and numbers, trained by
glassnet's Dense layers, initializers, optimizers and autograd.
"""

from __future__ import annotations

from glassnet.sklearn._classifier import MLPClassifier
from glassnet.sklearn._regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
