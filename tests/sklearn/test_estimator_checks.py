"""scikit-learn's own estimator checks, for both estimators."""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from glassnet.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

# max_iter=100 is the setting scikit-learn's own test suite checks MLPs with.
ESTIMATORS = [MLPClassifier(max_iter=100), MLPRegressor(max_iter=100)]


# max_iter=100 rarely converges: each check's fit line would show its warning.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
