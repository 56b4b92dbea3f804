"""The performance model as a scikit-learn estimator.

`PerformanceModel(...)` only stores its hyperparameters; `fit(rows)` learns from Measurement rows (and the
catalog and workload tables) and returns self; what it learnt lives in attributes ending in `_`, and
`predict(rows)` checks it was fitted. So `sklearn.base.clone` and scikit-learn's group splits work on it:

    from sklearn.model_selection import LeaveOneGroupOut, cross_val_score
    cross_val_score(PerformanceModel(), rows, groups=rows["device"], cv=LeaveOneGroupOut())

The fitted state serialises to JSON (`to_dict` / `from_dict`), so `hwplan plan` evaluates millions of
setups with numpy alone. Fitting, in named steps: the tables (`_tables`), efficiency priors from
micro-benchmarks, the rows the fit can use (`_rows`), fixed per-batch overhead, the efficiency
regression (`_fit_efficiency`), each combination's basis (`_assign_basis`), conformal intervals
(`_fit_intervals`) and the power curve (`_fit_power`).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hwplan.core.catalog import load_catalog, load_workloads
from hwplan.core.errors import HwplanError, UnknownIdError
from hwplan.core.fmt import number
from hwplan.core.vocab import BASES, DEVICE_KINDS, ESTIMATED_ENERGY_METHODS, PRECISIONS
from hwplan.costmodel import CODE_VERSION
from hwplan.costmodel.efficiency import (
    DEFAULT_COMM,
    DEFAULT_EC0,
    DEFAULT_EM0,
    GROUP_SUPPORT_N0,
    OVERHEAD_MIN_BATCHES,
    SCALES,
    Design,
    fit_overhead,
    priors,
)
from hwplan.costmodel.evaluate import OVERHEAD_PRIOR_S, SCENARIOS, Evaluation, evaluate
from hwplan.costmodel.llmfit import fit_llm, serving_rows
from hwplan.costmodel.power import capped, host_cores, node_host_w, row_nodes
from hwplan.costmodel.power import default_state as power_default_state
from hwplan.costmodel.rows import row_scales, training_rows
from hwplan.costmodel.serving import STEP_OVERHEAD_S
from hwplan.costmodel.specs import add_host_devices, device_table
from hwplan.costmodel.work import workload_table

DEFAULT_INTERVAL = {"measured": [-0.25, 0.25], "calibrated": [-0.6, 0.6], "roofline": [-1.2, 1.2]}
# The fitted state, in the order `to_dict` writes it.
STATE = ("devices_", "dev_", "workloads_", "wl_", "eta_", "basis_", "basis_detail_", "interval_", "ec0_", "em0_",
         "comm_eff_", "power_", "overhead_", "meta_", "llm_", "train_")
_ARRAY_SKIP_DEV = ("kind", "vendor", "notes", "price_basis")
_ARRAY_SKIP_WL = ("ids", "basis", "unit", "modes")


class NotFittedError(ValueError, AttributeError):
    """A model used before `fit` (the same bases as scikit-learn's NotFittedError, which this mirrors)."""


class EstimatorParams:
    """scikit-learn's estimator contract without importing scikit-learn (its import costs seconds, and the
    planning path must not pay them): parameters are the `__init__` arguments, stored as given."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict:
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params) -> EstimatorParams:
        valid = self._param_names()
        for k, v in params.items():
            if k not in valid:
                raise ValueError(f"invalid parameter {k!r} for {type(self).__name__}; valid parameters: {valid}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={'<DataFrame>' if isinstance(v, pd.DataFrame) else repr(v)}"
                   for k, v in self.get_params().items() if not (v is defaults.get(k) or _same(v, defaults.get(k)))]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self):  # only scikit-learn calls this, so it is loaded by then
        from sklearn.base import BaseEstimator, RegressorMixin

        class _Regressor(RegressorMixin, BaseEstimator):
            pass

        tags = _Regressor().__sklearn_tags__()
        tags.input_tags.two_d_array = True  # X is a table of Measurement rows (mixed types, by column name)
        tags.input_tags.string = True
        return tags

    def _check_fitted(self) -> None:
        if not hasattr(self, "eta_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(rows) first")


def _same(a, b) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


class PerformanceModel(EstimatorParams):
    """Throughput of any (workload, device, count, precision, batch) setup: a roofline from the catalog's
    specs and the workloads' work counts, times efficiencies learnt from measured rows on a log scale with
    per-device effects shrunk toward their kind, vendor and generation; conformal intervals per basis.

    catalog, workloads: the tables to fit with (None: the shipped ones, loaded at fit time).
    alpha, scales, group_support_n0: the shrinkage (ridge penalty, prior scale per effect block, how many
        distinct devices a group effect needs to keep half its scale).
    coverage, n_splits, min_rows_for_interval: the conformal intervals.
    implausible_low, implausible_high: rows outside these multiples of the spec roofline are data errors.
    overhead_min_batches: batch sizes a sweep needs before it informs the fixed per-batch overhead.
    llm_intervals: fit the LLM serving intervals by leave-one-device-out refits (validate's inner fits skip them).
    training_rows: published training results to fit the training model on (data/published_training.csv schema);
        None: the shipped file (hwplan.costmodel.trainfit.published_training); an empty frame: priors only.
    """

    # learned by fit (see STATE); declared for readers and type checkers, set only by fit and from_dict
    devices_: list[str]
    dev_: dict[str, Any]
    workloads_: list[str]
    wl_: dict[str, Any]
    eta_: list
    basis_: list
    basis_detail_: dict[str, str]
    interval_: dict[str, list[float]]
    ec0_: list
    em0_: list
    comm_eff_: list
    power_: dict[str, Any]
    overhead_: dict[str, Any]
    meta_: dict[str, Any]
    llm_: dict[str, Any]
    train_: dict[str, Any]
    _arrays: dict[str, Any] | None = None

    def __init__(self, catalog: pd.DataFrame | None = None, workloads: pd.DataFrame | None = None, alpha: float = 1.0,
                 scales: dict | None = None, group_support_n0: float = GROUP_SUPPORT_N0, coverage: float = 0.8,
                 n_splits: int = 5, min_rows_for_interval: int = 8, implausible_low: float = 1e-3,
                 implausible_high: float = 30.0, overhead_min_batches: int = OVERHEAD_MIN_BATCHES,
                 llm_intervals: bool = True, training_rows: pd.DataFrame | None = None):
        self.catalog = catalog
        self.workloads = workloads
        self.alpha = alpha
        self.scales = scales
        self.group_support_n0 = group_support_n0
        self.coverage = coverage
        self.n_splits = n_splits
        self.min_rows_for_interval = min_rows_for_interval
        self.implausible_low = implausible_low
        self.implausible_high = implausible_high
        self.overhead_min_batches = overhead_min_batches
        self.llm_intervals = llm_intervals
        self.training_rows = training_rows

    # ---- fitting ------------------------------------------------------------------------------------------

    def fit(self, X: pd.DataFrame | None, y=None) -> PerformanceModel:
        """Learn from Measurement rows X (None or empty: specs and priors only). y, when given, replaces X's
        throughput column (whole-setup throughput in the row's unit).

        BLAS runs on one thread here: the fit's matrices are small (a few thousand x a few hundred), and on a
        2-core machine OpenBLAS's threads make one SVD or QR of that size ~100x slower (2.5 s vs 0.02 s measured)."""
        import scipy.linalg  # noqa: F401  (loads scipy's own OpenBLAS, so that the limit below reaches it)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(X, y)

    def _fit(self, X: pd.DataFrame | None, y=None) -> PerformanceModel:
        meas = X
        if y is not None and X is not None:
            meas = X.assign(throughput=np.asarray(y, dtype=float))
        meas, _catalog = self._tables(meas)
        W, D, P, S = len(self.workloads_), len(self.devices_), len(PRECISIONS), len(SCENARIOS)
        ec0, em0, comm, prior_info = priors(meas, self.devices_, self.dev_)
        self.eta_ = np.zeros((W, D, P, S)).tolist()
        self.basis_ = np.full((W, D, S), 2, dtype=int).tolist()
        self.basis_detail_ = {}
        self.interval_ = dict(DEFAULT_INTERVAL)
        self.ec0_, self.em0_, self.comm_eff_ = ec0.tolist(), em0.tolist(), comm.tolist()
        self.power_ = power_default_state()
        self.overhead_ = {}
        self.meta_["priors"] = prior_info
        self.llm_ = {}
        self.train_ = {}
        self._arrays = None
        rows = self._rows(meas)
        # LLM serving rows are fitted by the serving model's own efficiencies (hwplan.costmodel.llmfit)
        serving = serving_rows(rows, self.wl_) if len(rows) else np.zeros(0, dtype=bool)
        llm_rows, rows = rows[serving].reset_index(drop=True), rows[~serving].reset_index(drop=True)
        eta = np.zeros((W, D, P, S))
        basis = np.full((W, D, S), 2, dtype=int)
        if len(rows):
            self.overhead_ = fit_overhead(rows, self, self.overhead_min_batches)
            self._arrays = None
            rows, y_log = self._targets(rows)
            eta = self._fit_efficiency(rows, y_log)
            basis = self._assign_basis(rows)
            self._fit_intervals(rows, y_log)
        self.eta_, self.basis_ = eta.tolist(), basis.tolist()
        self._arrays = None
        if len(rows):
            self._fit_power(rows)
        self._arrays = None
        self.llm_ = fit_llm(self, llm_rows, with_intervals=self.llm_intervals)
        self._arrays = None
        from hwplan.costmodel.trainfit import fit_training, published_training, store_training_rows

        published = published_training() if self.training_rows is None else self.training_rows
        own = store_training_rows(meas, self.devices_) if self.training_rows is None else None
        self.train_ = fit_training(self, published if own is None or not len(own)
                                   else pd.concat([published, own], ignore_index=True))
        self._arrays = None
        return self

    def _tables(self, meas: pd.DataFrame | None) -> tuple[pd.DataFrame | None, pd.DataFrame]:
        """Catalog (+ measured hosts as pseudo-devices), device arrays and work facts."""
        cat = load_catalog() if self.catalog is None else self.catalog
        wls = load_workloads() if self.workloads is None else self.workloads
        meas, cat, host_info = add_host_devices(meas, cat)
        self.devices_ = list(cat.index)
        self.dev_ = device_table(cat)
        self.wl_ = workload_table(wls, meas)
        self.workloads_ = self.wl_["ids"]
        self.meta_ = {"code_version": CODE_VERSION, "rows_used": 0, "scales": self._scales(), "alpha": self.alpha,
                      "host_devices": host_info}
        return meas, cat

    def _scales(self) -> dict:
        return dict(SCALES if self.scales is None else self.scales)

    def _rows(self, meas: pd.DataFrame | None) -> pd.DataFrame:
        """The rows the fit can use: index columns, target, and a peak for their precision."""
        rows = training_rows(meas, self.devices_, self.wl_)
        if len(rows):
            has_peak = np.isfinite(np.asarray(self.dev_["peak"])[rows["di"], rows["pi"]])
            self.meta_["rows_without_peak"] = rows.loc[~has_peak].groupby(["device", "precision"]).size().rename(
                "rows").reset_index().astype(str).to_dict("records")
            rows = rows[has_peak].reset_index(drop=True)
        return rows

    def _targets(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """Each row's log ratio of roofline time to measured time (the fixed overhead taken out first), without
        rows that do not fit memory or are implausibly far from the roofline."""
        ws, wm = row_scales(self, rows)
        rows["ws"], rows["wm"] = ws, wm
        base = evaluate(self, rows["wi"], rows["di"], rows["pi"], rows["b"], rows["n"], rows["si"], rows["phi"],
                        eta_on=False, work_scale=ws, bytes_scale=wm)
        ok = (base.throughput > 0) & np.isfinite(base.throughput)
        ratio = rows["y_tp"].to_numpy() / np.where(ok, base.throughput, 1.0)
        # the correction scales the roofline time only: measured batch time minus the fixed overhead
        t_meas = base.replicas * base.units_per_batch / np.maximum(rows["y_tp"].to_numpy(), 1e-30)
        t_meas_core = np.maximum(t_meas - base.overhead_s, 0.2 * t_meas)
        with np.errstate(divide="ignore", invalid="ignore"):
            y_all = np.log(base.t_core_s / t_meas_core)
        lo, hi = self.implausible_low, self.implausible_high
        plausible = (ratio < hi) & (ratio > lo)
        self.meta_["rows_left_out"] = {
            "setup does not fit device memory by the work model": int((~ok).sum()),
            f"implausible: outside {lo:g}-{hi:g} x the spec roofline": int((ok & ~plausible).sum()),
        }
        self.meta_["implausible_rows"] = rows.loc[ok & ~plausible, ["run_id", "workload", "device", "throughput"]].astype(
            str).to_dict("records")[:20]
        ok = ok & plausible
        rows = rows[ok].reset_index(drop=True)
        y = y_all[ok]
        rows["y"] = y
        return rows, y

    def _design(self) -> Design:
        return Design(self.workloads_, self.devices_, self.dev_, self._scales(), self.group_support_n0)

    def _fit_efficiency(self, rows: pd.DataFrame, y: np.ndarray) -> np.ndarray:
        """eta for every (workload, device, precision, scenario), in two stages. A measured host's peak is its
        own best gemm (not a spec sheet) and its rows ran reduced shapes, so its rows must not move the
        workload, kind or vendor effects that catalog devices share: stage 1 fits catalog-device rows only;
        stage 2 fits each pseudo-device's own terms (device, workload x device, precision) on its rows, offset by
        what stage 1 predicts for it (so it still inherits the workload and kind effects learnt elsewhere)."""
        from hwplan.costmodel.estimators import ShrunkRidge

        W, D, P, S = len(self.workloads_), len(self.devices_), len(PRECISIONS), len(SCENARIOS)
        design = self._design()
        dup = rows.groupby(["run_id", "workload", "si", "phi", "b"])["y"].transform("size").to_numpy()
        sw = 1.0 / dup
        X = design.matrix(rows["wi"], rows["di"], rows["pi"], rows["si"])
        is_ps = (np.asarray(self.dev_["pseudo"]) > 0)[rows["di"].to_numpy()]
        real = ~is_ps if (~is_ps).any() else np.ones(len(rows), dtype=bool)
        design.set_support(rows["wi"].to_numpy()[real], rows["di"].to_numpy()[real])
        self.meta_["group_support"] = design.support_info
        reg = ShrunkRidge(alpha=self.alpha, column_scales=design.scales).fit(X[real], y[real], sample_weight=sw[real])
        gw, gd, gp, gs = np.meshgrid(np.arange(W), np.arange(D), np.arange(P), np.arange(S), indexing="ij")
        Xall = design.matrix(gw.ravel(), gd.ravel(), gp.ravel(), gs.ravel())
        eta = reg.predict(Xall).reshape(W, D, P, S)
        o = design.offsets
        stage2 = {}
        scales = self._scales()
        for di in (np.unique(rows["di"].to_numpy()[is_ps]) if real.sum() < len(rows) or not is_ps.any() else []):
            mine = is_ps & (rows["di"].to_numpy() == di)
            sc = np.zeros(design.k)
            sc[o["device"]:o["device"] + D] = scales["device"]
            sc[o["workload_device"]:o["workload_device"] + W * D] = scales["workload_device"]
            sc[o["precision"]:o["precision"] + P] = scales["precision"]
            r2 = ShrunkRidge(alpha=self.alpha, column_scales=sc, fit_intercept=False).fit(
                X[mine], y[mine] - reg.predict(X[mine]), sample_weight=sw[mine])
            sel = gd.ravel() == di
            eta[:, di] += r2.predict(Xall[sel]).reshape(W, P, S)
            stage2[self.devices_[di]] = {"rows": int(mine.sum()), "device_effect": float(r2.coef_[o["device"] + di]),
                                         "rmse_log": float(np.sqrt(np.average((reg.predict(X[mine]) + r2.predict(X[mine])
                                                                               - y[mine]) ** 2, weights=sw[mine])))}
        self.meta_["host_stage2"] = stage2
        self.meta_.update(rows_used=len(rows),
                          train_rmse_log=float(np.sqrt(np.average((reg.predict(X[real]) - y[real]) ** 2, weights=sw[real]))),
                          intercept=float(reg.intercept_),
                          workload_effect={self.workloads_[i]: float(reg.coef_[o["workload"] + i]) for i in range(W)},
                          sources=rows["source"].value_counts().to_dict())
        self._fit_cache = {"X": X, "sw": sw, "real": real, "design": design}
        return eta

    def _assign_basis(self, rows: pd.DataFrame) -> np.ndarray:
        """measured where rows of the workload on the device exist; calibrated where the workload was measured on
        other devices (or the device is a measured host); roofline otherwise."""
        W, D, S = len(self.workloads_), len(self.devices_), len(SCENARIOS)
        basis = np.full((W, D, S), 2, dtype=int)
        seen_wds = set(zip(rows["wi"], rows["di"], rows["si"]))
        seen_ws = set(zip(rows["wi"], rows["si"]))
        seen_wd = set(zip(rows["wi"], rows["di"]))
        seen_w = set(rows["wi"])
        pseudo = np.asarray(self.dev_["pseudo"]) > 0
        for wi in range(W):
            for si in range(S):
                for di in range(D):
                    if (wi, di, si) in seen_wds:
                        basis[wi, di, si] = 0
                    elif ((wi, si) in seen_ws or (wi, di) in seen_wd or (wi in seen_w and si < 2)
                          or pseudo[di]):
                        # a measured host's "specs" are its own micro-benchmarks, and its efficiency is
                        # learnt from its own rows: calibrated, never spec-sheet roofline
                        basis[wi, di, si] = 1
        for (wi, di, si), grp in rows.groupby(["wi", "di", "si"]):
            srcs = grp["source"].value_counts().to_dict()
            self.basis_detail_[f"{self.workloads_[wi]}|{self.devices_[di]}|{SCENARIOS[si]}"] = (
                f"{len(grp)} row(s) of this workload on this device ({', '.join(f'{v} {k}' for k, v in srcs.items())}), "
                f"median measured {number(np.median(grp['y_tp']))} at device_count {int(np.median(grp['n']))}")
        return basis

    def _fit_intervals(self, rows: pd.DataFrame, y: np.ndarray) -> None:
        """Conformal intervals per basis: measured (folds by run), calibrated (leave devices out), roofline
        (leave workloads out); a basis is never narrower than the one it claims to be better than."""
        from hwplan.costmodel.estimators import ConformalRegressor, ShrunkRidge

        X, sw, real, design = (self._fit_cache[k] for k in ("X", "sw", "real", "design"))
        interval = dict(DEFAULT_INTERVAL)
        est = ShrunkRidge(alpha=self.alpha, column_scales=design.scales)
        for name, groups in (("measured", rows["run_id"].to_numpy()), ("calibrated", rows["di"].to_numpy()),
                             ("roofline", rows["wi"].to_numpy())):
            if real.sum() >= self.min_rows_for_interval and len(np.unique(groups[real])) >= 3:
                cr = ConformalRegressor(est, coverage=self.coverage, n_splits=self.n_splits).fit(
                    X[real], y[real], groups=groups[real], sample_weight=sw[real])
                interval[name] = [float(cr.quantiles_[0]), float(cr.quantiles_[1])]
        interval["calibrated"] = [min(interval["calibrated"][0], interval["measured"][0]),
                                  max(interval["calibrated"][1], interval["measured"][1])]
        interval["roofline"] = [min(interval["roofline"][0], interval["calibrated"][0]),
                                max(interval["roofline"][1], interval["calibrated"][1])]
        self.interval_ = interval
        del self._fit_cache

    def _fit_power(self, rows: pd.DataFrame) -> None:
        """The wall-power model (hwplan.costmodel.power) on measured system wall-power rows: host W per node by
        kind (or a fraction of the reference system's host figure), the MaxQ cap fraction by kind, gamma."""
        from hwplan.costmodel.estimators import PowerCurve

        pr = power_rows(rows)
        if len(pr) < 3:
            return
        ev = evaluate(self, pr["wi"], pr["di"], pr["pi"], pr["b"], pr["n"], pr["si"], pr["phi"])
        X, good = power_design(self, pr, ev.util)
        if good.sum() < 3:
            return
        state = self.power_
        pc = PowerCurve(kinds=DEVICE_KINDS).fit(X[good], pr["power_avg_w"].astype(float).to_numpy()[good],
                                                groups=power_system(pr)[good])
        systems = len(set(power_system(pr)[good]))
        state.update(gamma=float(pc.gamma_), host_w=pc.host_w_, host_ref_frac=pc.host_ref_frac_,
                     host_w_per_core=pc.host_w_per_core_, cap_frac=pc.cap_frac_, rows=int(good.sum()),
                     systems=systems, rmse_log=float(np.sqrt(pc.mse_log_)))
        if pc.host_w_:
            state["host_default_w"] = float(np.exp(np.mean(np.log(list(pc.host_w_.values())))))
        if pc.cap_frac_:
            state["cap_default"] = float(np.exp(np.mean(np.log(list(pc.cap_frac_.values())))))
        state["basis"] = (f"fitted on {int(good.sum())} measured system wall-power row(s) of {systems} system(s) "
                          f"(MLPerf Power), rms log error {np.sqrt(pc.mse_log_):.2f}")
        self.power_ = state

    # ---- using it -------------------------------------------------------------------------------------------

    def evaluate(self, w, d, p, b, n, s, phase=0, **kw) -> Evaluation:
        """Vectorised prediction for setups given as index arrays (see costmodel.evaluate.evaluate)."""
        self._check_fitted()
        return evaluate(self, w, d, p, b, n, s, phase, **kw)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Whole-setup throughput for Measurement-like rows (workload, device, precision, device_count, mode,
        scenario, phase, batch_size; flops_per_unit / bytes_per_unit where a row ran a reduced shape), in each
        row's throughput unit; NaN for a row the model cannot place (unknown id, no peak, does not fit)."""
        self._check_fitted()
        rows = training_rows(_with_defaults(X), self.devices_, self.wl_)
        out = np.full(len(X), np.nan)
        if len(rows):
            ws, wm = row_scales(self, rows)
            ev = evaluate(self, rows["wi"], rows["di"], rows["pi"], rows["b"], rows["n"], rows["si"], rows["phi"],
                          work_scale=ws, bytes_scale=wm)
            tp = np.where(ev.fits & (ev.throughput > 0), ev.throughput, np.nan)
            # back to the row's unit (an LLM row in samples/s counts whole requests of out_len tokens)
            per_unit = rows["y_tp"].to_numpy() / rows["throughput"].astype(float).to_numpy()
            out[rows["_pos"].to_numpy()] = tp / per_unit
        return out

    def score(self, X: pd.DataFrame, y=None) -> float:
        """Minus the median absolute percentage error on rows the model can place (higher is better)."""
        actual = np.asarray(X["throughput"] if y is None else y, dtype=float)
        pred = self.predict(X)
        ok = np.isfinite(pred) & (actual > 0)
        return -float(np.median(np.abs(pred[ok] / actual[ok] - 1))) if ok.any() else float("-inf")

    # ---- ids -------------------------------------------------------------------------------------------------

    def workload_index(self, workload: str) -> int:
        try:
            return self.arrays_["wl_index"][workload]
        except KeyError:
            raise self._unknown_workload(str(workload)) from None

    def _unknown_workload(self, workload: str) -> UnknownIdError:
        """Not a model workload: a micro-benchmark of the workload table says what it is instead."""
        try:
            table = load_workloads() if self.workloads is None else self.workloads
            row = table.loc[workload] if workload in table.index else None
        except HwplanError:
            row = None
        if row is not None and str(row.get("kind", "")) == "micro":
            what = str(row.get("description") or row.get("task") or "").strip()
            return UnknownIdError("workload", workload, self.workloads_, why=(
                f"is a micro-benchmark{f' ({what})' if what else ''}, not a model workload: the profiler runs it to "
                "measure a device's peaks; predict and plan a model workload (`hwplan catalog workloads` lists them)"))
        return UnknownIdError("workload", workload, self.workloads_)

    def device_index(self, device: str) -> int:
        try:
            return self.arrays_["dev_index"][device]
        except KeyError:
            raise UnknownIdError("device", str(device), self.devices_) from None

    # ---- the state as arrays, and as JSON ---------------------------------------------------------------------

    @property
    def arrays_(self) -> dict[str, Any]:
        """The fitted state as numpy arrays, for the evaluator (built once per state)."""
        self._check_fitted()
        if self._arrays is None:  # built once per fitted state
            A: dict[str, Any] = {k: np.asarray(v, dtype=float) for k, v in self.dev_.items() if k not in _ARRAY_SKIP_DEV}
            A.update({"wl_" + k: np.asarray(v, dtype=float) for k, v in self.wl_.items() if k not in _ARRAY_SKIP_WL})
            A["kind_code"] = np.array([DEVICE_KINDS.index(k) for k in self.dev_["kind"]])
            A["eta"] = np.asarray(self.eta_, dtype=float)
            A["basis"] = np.asarray(self.basis_, dtype=np.int8)
            A["ec0"] = np.asarray(self.ec0_, dtype=float)
            A["em0"] = np.asarray(self.em0_, dtype=float)
            A["comm_eff"] = np.asarray(self.comm_eff_, dtype=float)
            A["q"] = np.array([self.interval_.get(b, [-0.7, 0.7]) for b in BASES], dtype=float)
            oh = self.overhead_ or {}
            A["oh_fixed"] = np.array([OVERHEAD_PRIOR_S[k][0] for k in DEVICE_KINDS])
            A["oh_layer"] = np.array([OVERHEAD_PRIOR_S[k][1] for k in DEVICE_KINDS])
            A["oh_mult"] = np.asarray(oh.get("mult", [1.0] * len(self.devices_)), dtype=float)
            A["step_oh_fixed"] = np.array([STEP_OVERHEAD_S[k][0] for k in DEVICE_KINDS])
            A["step_oh_layer"] = np.array([STEP_OVERHEAD_S[k][1] for k in DEVICE_KINDS])
            A["host_node_w"] = node_host_w(self.power_, self.devices_, self.dev_["kind"])
            A["power_gamma"] = float(self.power_["gamma"])
            A["host_idle_frac"] = float(self.power_["host_idle_frac"])
            llm = getattr(self, "llm_", None) or {}
            if llm:
                for k in ("ec", "ec_moe", "ecp", "ecp_moe"):
                    A["llm_" + k] = np.asarray(llm[k], dtype=float)
                for k in ("em", "ex", "om"):
                    A["llm_" + k] = np.asarray(llm[k], dtype=float)
                A["llm_basis"] = np.asarray(llm["basis"], dtype=np.int64)
                A["llm_q"] = np.asarray(llm["q"], dtype=float)
            tr_state = getattr(self, "train_", None) or {}
            if tr_state:
                A["train"] = {"ec": np.asarray(tr_state["ec"], dtype=float), "em": np.asarray(tr_state["em"], dtype=float),
                              "ex": np.asarray(tr_state["ex"], dtype=float), "om": np.asarray(tr_state["om"], dtype=float),
                              "run_frac": np.asarray(tr_state["run_frac"], dtype=float),
                              "run_s": np.asarray(tr_state["run_s"], dtype=float),
                              "basis": np.asarray(tr_state["basis"], dtype=int), "q": tr_state["q"]}
            A["dev_index"] = {d: i for i, d in enumerate(self.devices_)}
            A["wl_index"] = {w: i for i, w in enumerate(self.workloads_)}
            self._arrays = A
            return A
        return self._arrays

    def with_llm_workload(self, workload_id: str, row: dict[str, Any]) -> PerformanceModel:
        """A copy that also knows one more LLM workload (a user's own model: a data/workloads.csv-style row, e.g.
        from hwplan.costmodel.llmconfig). Its serving predictions use the fitted per-device efficiencies; its
        basis is each device's best basis for LLM serving other than `measured` (nothing of it was measured)."""
        import copy

        self._check_fitted()
        if workload_id in self.workloads_:
            raise HwplanError(f"workload id '{workload_id}' already exists")
        extra = workload_table(pd.DataFrame([{"kind": "llm", "modes": "inference;training", "throughput_unit": "tokens/s",
                                              **row}], index=[workload_id]))
        m = copy.copy(self)
        m.workloads_ = [*self.workloads_, workload_id]
        m.wl_ = {k: [*v, *extra[k]] for k, v in self.wl_.items()}
        eta = np.asarray(self.eta_, dtype=float)
        m.eta_ = np.concatenate([eta, np.zeros((1, *eta.shape[1:]))]).tolist()
        basis = np.asarray(self.basis_)
        m.basis_ = np.concatenate([basis, np.full((1, *basis.shape[1:]), 2, dtype=basis.dtype)]).tolist()
        if self.llm_:
            m.llm_ = dict(self.llm_)
            m.llm_["basis"] = [*self.llm_["basis"], list(self.llm_["dev_basis"])]
        if getattr(self, "train_", None):
            # a user's model was never trained here: each device's best basis short of `measured`
            b = np.asarray(self.train_["basis"])
            m.train_ = {**self.train_, "basis": [*self.train_["basis"], np.maximum(b.min(axis=0), 1).tolist()],
                        "run_frac": [*self.train_["run_frac"], 0.0], "run_s": [*self.train_["run_s"], 0.0]}
        m._arrays = None
        return m

    def with_priors(self, ec0: float, em0: float) -> PerformanceModel:
        """A copy whose compute and memory efficiency priors are fixed values (the plain spec-sheet roofline)."""
        m = PerformanceModel.from_dict(self.to_dict())
        m.ec0_ = np.full_like(np.asarray(self.ec0_, dtype=float), ec0).tolist()
        m.em0_ = np.full_like(np.asarray(self.em0_, dtype=float), em0).tolist()
        return m

    def to_dict(self) -> dict:
        self._check_fitted()
        return {k: getattr(self, k) for k in STATE}

    @classmethod
    def from_dict(cls, state: dict, **params) -> PerformanceModel:
        """A fitted model from `to_dict` output; `params` are the hyperparameters it was fitted with."""
        m = cls(**params)
        for k in STATE:
            setattr(m, k, state[k])
        m._arrays = None
        return m

    def save(self, path: str | Path) -> None:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(p.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), allow_nan=True))
        tmp.replace(p)

    @classmethod
    def load(cls, path: str | Path) -> PerformanceModel:
        return cls.from_dict(json.loads(Path(path).read_text()))


def spec_roofline(catalog: pd.DataFrame | None = None, workloads: pd.DataFrame | None = None) -> PerformanceModel:
    """The plain spec-sheet roofline: no rows, fixed efficiencies (what `hwplan validate` compares against)."""
    return PerformanceModel(catalog=catalog, workloads=workloads, training_rows=pd.DataFrame()).fit(None).with_priors(
        DEFAULT_EC0, DEFAULT_EM0)


def power_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Fit rows (training_rows output) with a measured system wall power (not an estimated energy method)."""
    if "power_avg_w" not in rows or not len(rows):
        return rows.iloc[:0]
    est = (rows["energy_method"].astype("string").fillna("").isin(ESTIMATED_ENERGY_METHODS).to_numpy()
           if "energy_method" in rows else np.zeros(len(rows), dtype=bool))
    scope = rows["power_scope"].astype("string").fillna("").astype(str).to_numpy() if "power_scope" in rows else ""
    keep = rows["power_avg_w"].notna().to_numpy() & ~est & (scope == "system") & (rows["si"] != 2).to_numpy()
    return rows[keep].reset_index(drop=True)


def power_system(rows: pd.DataFrame) -> np.ndarray:
    """The system a power row was measured on: its run id without the MLPerf round (a system in two rounds is one)."""
    run = rows["run_id"].astype(str)
    return np.where(run.str.contains(":"), run.str.split(":", n=1).str[1], run + "|" + rows["device"].astype(str))


def power_design(model, pr: pd.DataFrame, util) -> tuple[np.ndarray, np.ndarray]:
    """PowerCurve's X for power rows at utilisation `util`, and which rows are usable."""
    dev = model.dev_
    di = pr["di"].to_numpy()
    notes = pr["notes"].astype("string").fillna("").astype(str).tolist() if "notes" in pr else [""] * len(pr)
    run = pr["run_id"].astype(str).tolist()
    kinds = [dev["kind"][i] for i in di]
    ref = model.power_.get("host_ref_w", {})
    X = np.column_stack([
        np.asarray(dev["idle_w"])[di], np.asarray(dev["board_w"])[di], np.asarray(util, dtype=float),
        pr["n"].to_numpy(dtype=float), row_nodes(notes, pr["n"].to_numpy(dtype=float), np.asarray(dev["per_node"])[di]),
        capped(run, notes).astype(float), np.array([DEVICE_KINDS.index(k) for k in kinds], dtype=float),
        np.array([ref.get(model.devices_[i], np.nan) for i in di], dtype=float), host_cores(notes)])
    y = pr["power_avg_w"].astype(float).to_numpy()
    good = np.isfinite(X[:, :7]).all(axis=1) & (y > 0)
    return X, good


def _with_defaults(X: pd.DataFrame) -> pd.DataFrame:
    """Rows to predict, with the columns `training_rows` reads filled where a caller left them out."""
    df = X.reset_index(drop=True).copy()
    defaults = {"status": "ok", "throughput": 1.0, "throughput_unit": "", "scenario": "offline", "phase": "",
                "mode": "inference", "source": "", "run_id": "", "batch_size": np.nan, "device_count": 1}
    for c, v in defaults.items():
        if c not in df:
            df[c] = v
    df["throughput"] = pd.to_numeric(df["throughput"], errors="coerce").fillna(1.0)
    if (df["throughput_unit"].astype(str) == "").any():
        df["throughput_unit"] = df["throughput_unit"].astype(str).replace("", "samples/s")
    df["_pos"] = np.arange(len(df))
    return df


__all__ = ["DEFAULT_COMM", "DEFAULT_EC0", "DEFAULT_EM0", "PerformanceModel", "spec_roofline"]
