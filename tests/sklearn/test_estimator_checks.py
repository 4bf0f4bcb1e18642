"""scikit-learn's own estimator checks, for both estimators."""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from glassnet.optimizers import SGD, RMSprop  # noqa: E402
from glassnet.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

# max_iter=100 is the setting scikit-learn's own test suite checks MLPs with.
ESTIMATORS = [MLPClassifier(max_iter=100), MLPRegressor(max_iter=100)]

# glassnet's keywords away from their defaults, where the checks still apply:
# not class_weight='balanced' (the checks duplicate samples, which changes the
# class frequencies, and call partial_fit), not dropout (its masks are drawn
# per row), not callbacks (stateful, as in Keras).
EXTRAS = [
    MLPRegressor(
        loss="huber", activation=["tanh"], optimizer=RMSprop(0.01), max_iter=100
    ),
    MLPRegressor(loss="absolute_error", max_iter=100),
    MLPClassifier(
        activation=["logistic"],
        optimizer=SGD(0.05, momentum=0.9),
        early_stopping_metric="loss",
        restore_best_weights=False,
        max_iter=100,
    ),
]


# max_iter=100 rarely converges: each check's fit line would show its warning.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(EXTRAS)
def test_sklearn_compatible_with_extras(estimator, check):
    check(estimator)
