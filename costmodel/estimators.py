"""scikit-learn estimators used when fitting (never on the planning path).

- `ShrunkRidge`: ridge regression where each column has its own prior scale, so per-device effects
  shrink toward their kind / generation effects (a one-level hierarchical prior, solved exactly).
- `ConformalRegressor`: wraps a regressor; residual quantiles from cross-validation give an
  interval with the wanted coverage (split-conformal on out-of-fold residuals).
- `PowerCurve`: wall power = host per node x nodes + devices (idle + (cap - idle) u^gamma), fitted on log
  wall power with log-normal priors (hwplan.costmodel.power).
- `HostSharePowerCurve`: the previous power model, n (idle + (board - idle) u^gamma) (1 + host share); kept for
  `hwplan validate`'s comparison.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data


class ShrunkRidge(RegressorMixin, BaseEstimator):
    """Ridge with per-column prior scales: minimises ||y - Xb||^2 + alpha * sum((b_j / scale_j)^2).

    A column with a large scale is barely penalised (a fixed effect); a small scale shrinks its
    coefficient toward zero, i.e. toward what the other columns explain.
    """

    def __init__(self, alpha: float = 1.0, column_scales=None, fit_intercept: bool = True):
        self.alpha = alpha
        self.column_scales = column_scales
        self.fit_intercept = fit_intercept

    def fit(self, X, y, sample_weight=None):
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        _n, k = X.shape
        scales = np.ones(k) if self.column_scales is None else np.asarray(self.column_scales, dtype=float)
        if scales.shape != (k,):
            raise ValueError(f"column_scales has {scales.shape} entries, X has {k} columns")
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if not sw.sum() > 0:
            raise ValueError("Sample weights must contain at least one non-zero number.")
        if self.fit_intercept:
            xm = np.average(X, axis=0, weights=sw)
            ym = float(np.average(y, weights=sw))
        else:
            xm, ym = np.zeros(k), 0.0
        Xs = (X - xm) * scales
        r = np.sqrt(sw)
        A = (Xs * r[:, None]).T @ (Xs * r[:, None]) + self.alpha * np.eye(k)
        beta_s = np.linalg.solve(A, (Xs * r[:, None]).T @ ((y - ym) * r))
        self.coef_ = beta_s * scales
        self.intercept_ = ym - float(xm @ self.coef_)
        return self

    def predict(self, X):
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_ + self.intercept_


class ConformalRegressor(RegressorMixin, BaseEstimator):
    """Point predictions from `estimator`; an interval from out-of-fold residual quantiles.

    `groups` (passed to fit) makes the folds leave whole groups out (e.g. one device), so the
    interval reflects predicting for an unseen group.
    """

    def __init__(self, estimator=None, coverage: float = 0.8, n_splits: int = 5):
        self.estimator = estimator
        self.coverage = coverage
        self.n_splits = n_splits

    def fit(self, X, y, groups=None, sample_weight=None):
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        base = ShrunkRidge() if self.estimator is None else self.estimator
        n = len(y)
        resid = np.full(n, np.nan)
        if groups is not None and len(np.unique(groups)) >= 2:
            splitter = GroupKFold(n_splits=min(self.n_splits, len(np.unique(groups))))
            splits = splitter.split(X, y, groups)
        else:
            splitter = KFold(n_splits=max(2, min(self.n_splits, n)), shuffle=True, random_state=0)
            splits = splitter.split(X, y)
        for tr, te in splits:
            est = clone(base)
            if sample_weight is not None:
                est.fit(X[tr], y[tr], sample_weight=np.asarray(sample_weight)[tr])
            else:
                est.fit(X[tr], y[tr])
            resid[te] = y[te] - est.predict(X[te])
        self.residuals_ = resid
        a = (1 - self.coverage) / 2
        self.quantiles_ = np.nanquantile(resid, [a, 1 - a]) if np.isfinite(resid).any() else np.array([0.0, 0.0])
        self.estimator_ = clone(base)
        if sample_weight is not None:
            self.estimator_.fit(X, y, sample_weight=sample_weight)
        else:
            self.estimator_.fit(X, y)
        return self

    def predict(self, X):
        check_is_fitted(self, "estimator_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.estimator_.predict(X)

    def predict_interval(self, X):
        """(low, high) with the fitted coverage."""
        yhat = self.predict(X)
        return yhat + self.quantiles_[0], yhat + self.quantiles_[1]


class HostSharePowerCurve(RegressorMixin, BaseEstimator):
    """The previous power model (kept for comparison): setup power from device power limits and utilisation.

    X columns: [idle_w, board_w, utilisation (0..1), device_count]; y: measured power (W) of the
    whole setup at the scope measured. Fits gamma (grid) and a host overhead h on log power:
    P = n (P_idle + (P_max - P_idle) u^gamma) (1 + h).
    """

    def __init__(self, gammas=(0.25, 0.5, 0.75, 1.0, 1.5, 2.0), max_host: float = 3.0):
        self.gammas = gammas
        self.max_host = max_host

    def _device(self, X, gamma):
        idle, board, u, n = X[:, 0], X[:, 1], np.clip(X[:, 2], 0, 1), np.maximum(X[:, 3], 1)
        return n * (idle + (board - idle) * u ** gamma)

    def fit(self, X, y):
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        if X.shape[1] != 4:
            raise ValueError("PowerCurve expects 4 columns: idle_w, board_w, utilisation, device_count")
        y = np.maximum(y, 1e-9)
        best = None
        for g in self.gammas:
            base = np.maximum(self._device(X, g), 1e-9)
            lh = float(np.median(np.log(y / base)))
            h = float(np.clip(np.exp(lh) - 1, 0, self.max_host))
            err = float(np.mean((np.log(y) - np.log(base * (1 + h))) ** 2))
            if best is None or err < best[0]:
                best = (err, g, h)
        assert best is not None  # gammas is never empty
        self.mse_log_, self.gamma_, self.host_ = best
        return self

    def predict(self, X):
        check_is_fitted(self, "gamma_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self._device(X, self.gamma_) * (1 + self.host_)


class PowerCurve(RegressorMixin, BaseEstimator):
    """Wall power of a setup: nodes x host(u) + n x (idle + (cap - idle) u^gamma) (hwplan.costmodel.power).

    X columns (COLUMNS): idle_w, board_w, utilisation (0..1), device_count, nodes, capped (0/1: a power-capped
    submission), kind code (index into `kinds`), reference host W (NaN: none), host CPU cores (NaN: unknown).
    y: measured wall power (W). Fitted on log power, every system (`groups`) weighing the same, with log-normal
    priors (`prior`: median, sd of the log) on the cap fraction and the host W per kind, the reference-host
    fraction and W per CPU core; gamma on a grid.
    """

    COLUMNS = ("idle_w", "board_w", "util", "n", "nodes", "capped", "kind", "ref_host_w", "cores")

    def __init__(self, kinds=("gpu",), gammas=None, prior=None, sigma: float = 0.1, host_idle_frac=None):
        self.kinds = kinds
        self.gammas = gammas
        self.prior = prior
        self.sigma = sigma
        self.host_idle_frac = host_idle_frac

    def _parts(self):
        from hwplan.costmodel import power

        prior = power.PRIOR if self.prior is None else self.prior
        hi = power.HOST_IDLE_FRAC if self.host_idle_frac is None else self.host_idle_frac
        return power, prior, hi, len(self.kinds)

    def _predict(self, theta, X, gamma):
        power, _prior, hi, K = self._parts()
        cap_k, host_k = np.exp(theta[:K]), np.exp(theta[K:2 * K])
        r, per_core = np.exp(theta[2 * K]), np.exp(theta[2 * K + 1])
        kind = X[:, 6].astype(int)
        cap = np.where(X[:, 5] > 0, cap_k[kind], 1.0)
        cores = np.where(np.isfinite(X[:, 8]), X[:, 8], power.REF_CORES)
        base = np.maximum(host_k[kind] + per_core * (cores - power.REF_CORES), 0.1 * host_k[kind])
        host = np.where(np.isfinite(X[:, 7]), r * X[:, 7], base)
        wall, _dev, _idle = power.system_power(gamma, hi, X[:, 1], X[:, 0], X[:, 2], X[:, 3], X[:, 4], host, cap)
        return wall

    def fit(self, X, y, groups=None):
        from scipy.optimize import least_squares

        X = np.asarray(X, dtype=np.float64)
        y = np.maximum(np.asarray(y, dtype=np.float64), 1e-9)
        if X.ndim != 2 or X.shape[1] != len(self.COLUMNS):
            raise ValueError(f"PowerCurve expects {len(self.COLUMNS)} columns: {', '.join(self.COLUMNS)}")
        power, prior, _hi, K = self._parts()
        mu = np.log(np.array([prior["cap_frac"][0]] * K + [prior["host_w"][0]] * K
                             + [prior["host_ref_frac"][0], prior["host_w_per_core"][0]]))
        sd = np.array([prior["cap_frac"][1]] * K + [prior["host_w"][1]] * K
                      + [prior["host_ref_frac"][1], prior["host_w_per_core"][1]])
        g = np.zeros(len(y)) if groups is None else np.unique(np.asarray(groups).astype(str), return_inverse=True)[1]
        size = np.bincount(g)[g].astype(float)
        w = 1 / np.sqrt(size / np.median(np.bincount(g)))  # each system weighs as much as a typical one
        best = None
        for gamma in (power.GAMMAS if self.gammas is None else self.gammas):
            def res(th, gamma=gamma):
                return np.concatenate([w * (np.log(self._predict(th, X, gamma)) - np.log(y)) / self.sigma,
                                       (th - mu) / sd])

            sol = least_squares(res, mu)
            cost = float(np.sum(sol.fun ** 2))
            if best is None or cost < best[0]:
                best = (cost, gamma, sol.x)
        assert best is not None
        _cost, self.gamma_, self.theta_ = best
        th = self.theta_
        seen = set(X[:, 6].astype(int).tolist())
        capped_k = set(X[X[:, 5] > 0, 6].astype(int).tolist())
        hosted_k = set(X[~np.isfinite(X[:, 7]), 6].astype(int).tolist())
        self.cap_frac_ = {self.kinds[k]: float(np.exp(th[k])) for k in sorted(seen & capped_k)}
        self.host_w_ = {self.kinds[k]: float(np.exp(th[K + k])) for k in sorted(seen & hosted_k)}
        self.host_ref_frac_ = float(np.exp(th[2 * K]))
        self.host_w_per_core_ = float(np.exp(th[2 * K + 1]))
        self.mse_log_ = float(np.mean((np.log(self._predict(th, X, self.gamma_)) - np.log(y)) ** 2))
        return self

    def predict(self, X):
        check_is_fitted(self, "theta_")
        return self._predict(self.theta_, np.asarray(X, dtype=np.float64), self.gamma_)
