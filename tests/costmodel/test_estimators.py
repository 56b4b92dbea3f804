"""The estimators follow scikit-learn's contract and learn what they should."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from hwplan.costmodel.estimators import ConformalRegressor, HostSharePowerCurve, ShrunkRidge


@parametrize_with_checks([ShrunkRidge(), ConformalRegressor(ShrunkRidge(alpha=0.1), n_splits=3)])
def test_sklearn_contract(estimator, check):
    check(estimator)


def test_shrunk_ridge_small_scale_shrinks_toward_other_columns():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = 2 * X[:, 0] + 1.5 * X[:, 1] + 3
    free = ShrunkRidge(alpha=1.0, column_scales=[10.0, 10.0]).fit(X, y)
    tight = ShrunkRidge(alpha=1.0, column_scales=[10.0, 0.01]).fit(X, y)
    assert free.coef_ == pytest.approx([2, 1.5], abs=0.02)
    assert free.intercept_ == pytest.approx(3, abs=0.02)
    assert abs(tight.coef_[1]) < 0.05  # shrunk to ~0
    assert tight.coef_[0] == pytest.approx(2, abs=0.1)


def test_conformal_interval_covers_about_its_coverage():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2000, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(scale=0.3, size=2000)
    cr = ConformalRegressor(ShrunkRidge(alpha=1e-3), coverage=0.8).fit(X[:1000], y[:1000])
    lo, hi = cr.predict_interval(X[1000:])
    cover = np.mean((y[1000:] >= lo) & (y[1000:] <= hi))
    assert 0.75 <= cover <= 0.85


def test_conformal_groups_leave_whole_groups_out():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 2))
    groups = np.repeat(np.arange(10), 30)
    y = X[:, 0] + groups * 0.3 + rng.normal(scale=0.1, size=300)  # a group effect X does not explain
    grouped = ConformalRegressor(ShrunkRidge(), coverage=0.8).fit(X, y, groups=groups)
    assert grouped.quantiles_[1] - grouped.quantiles_[0] > 0.5  # wide: unseen groups are hard


def test_power_curve_recovers_gamma_and_host_share():
    rng = np.random.default_rng(3)
    n = 60
    idle, board = np.full(n, 100.0), np.full(n, 700.0)
    u, count = rng.uniform(0.1, 1, n), rng.integers(1, 9, n).astype(float)
    X = np.column_stack([idle, board, u, count])
    y = count * (idle + (board - idle) * u ** 0.5) * 1.3
    pc = HostSharePowerCurve().fit(X, y)
    assert pc is not None and pc.gamma_ == 0.5
    assert pc.host_ == pytest.approx(0.3, abs=1e-6)
    assert clone(pc).get_params() == pc.get_params()
    assert np.allclose(pc.predict(X), y)
