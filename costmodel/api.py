"""Public API of the cost model: predict one setup, curves over batch and count, plan a demand.

Stable names (the dashboard, the CLI and reports code against them): `predict` -> `Estimate`,
`predict_curve`, `scaling_curve`, `supported_precisions`, `Demand`, `plan` -> `PlanResult`, and
`fit_models` (a fitted `PerformanceModel`). Fields may be added, never renamed. The prediction and
planning paths are numpy only; scikit-learn is imported only to fit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hwplan.core.errors import HwplanError, UnknownIdError
from hwplan.core.vocab import BASES, BOUNDS, PHASES, PRECISIONS, QUALITY
from hwplan.costmodel.assumptions import Assumptions
from hwplan.costmodel.cost import costs, prices
from hwplan.costmodel.evaluate import SCENARIOS, evaluate, precision_allowed, scenario_index
from hwplan.costmodel.performance import PerformanceModel
from hwplan.costmodel.planner import run_plan
from hwplan.costmodel.results import Demand, Estimate, PlanResult, clean

__all__ = [
    "Assumptions",
    "Demand",
    "Estimate",
    "PerformanceModel",
    "PlanResult",
    "fit_models",
    "plan",
    "predict",
    "predict_curve",
    "scaling_curve",
    "supported_precisions",
]


def fit_models(measurements: pd.DataFrame | None = None, catalog: pd.DataFrame | None = None,
               workloads: pd.DataFrame | None = None) -> PerformanceModel:
    """A performance model fitted on these Measurement rows (none: specs and priors only). Not cached: for a
    store, use `hwplan.costmodel.cache.model_for_store`, the one place fitted models are kept."""
    return PerformanceModel(catalog=catalog, workloads=workloads).fit(measurements)


# ---- checking ids ---------------------------------------------------------------------------------

def _wi(model: PerformanceModel, workload: str) -> int:
    return model.workload_index(workload)


def _di(model: PerformanceModel, device: str) -> int:
    return model.device_index(device)


def supported_precisions(model: PerformanceModel, workload: str, device: str) -> list[str]:
    """Precisions the device has a peak for and that meet the workload's accuracy target."""
    w, d = _wi(model, workload), _di(model, device)
    peak = model.arrays_["peak"][d]
    allowed = precision_allowed(model, w)
    return [p for j, p in enumerate(PRECISIONS) if allowed[j] and np.isfinite(peak[j]) and peak[j] > 0]


def _precision_indices(model, workload, device, precision) -> list[int]:
    w, d = _wi(model, workload), _di(model, device)
    sup = supported_precisions(model, workload, device)
    if precision in (None, "", "auto"):
        if not sup:
            has = [p for j, p in enumerate(PRECISIONS) if np.isfinite(model.arrays_["peak"][d, j])]
            raise HwplanError(f"device '{device}' has no peak throughput in the catalog for a precision that meets "
                              f"{workload}'s accuracy target (lowest allowed: {_lowest(model, w)}; the device lists "
                              f"{', '.join(has) or 'none'}); add its peak figures to data/catalog.csv")
        return [PRECISIONS.index(p) for p in sup]
    if precision not in PRECISIONS:
        raise UnknownIdError("precision", precision, list(PRECISIONS) + ["auto"])
    if precision not in sup:
        j = PRECISIONS.index(precision)
        why = ("the catalog lists no peak for it" if not np.isfinite(model.arrays_["peak"][d, j])
               else f"it does not meet {workload}'s accuracy target (lowest allowed: {_lowest(model, w)})")
        raise HwplanError(f"{device} cannot run {workload} at {precision}: {why}; "
                          f"supported: {', '.join(sup) or 'none'} (or use --precision auto)")
    return [PRECISIONS.index(precision)]


def _lowest(model, w):
    q = model.wl_["lowest_quality"][w]
    return min((p for p in PRECISIONS if QUALITY[p] >= q), key=lambda p: QUALITY[p])


def _unit(model, w, phase_i=0) -> str:
    unit = model.wl_["unit"][w]
    return unit


# ---- predict -------------------------------------------------------------------------------------

def predict(model: PerformanceModel, workload: str, device: str, count: int = 1, precision: str = "auto",
            batch: int | None = None, scenario: str = "offline", mode: str = "inference",
            assumptions: Assumptions | None = None, phase: str = "") -> Estimate:
    """Throughput (whole setup), interval, power, energy and cost of one setup."""
    a = assumptions or Assumptions()
    w, d = _wi(model, workload), _di(model, device)
    s = scenario_index(scenario, mode)
    if mode == "training" and "training" not in model.wl_["modes"][w]:
        raise HwplanError(f"workload '{workload}' has no training mode (modes: {model.wl_['modes'][w]})")
    if count is None or int(count) < 1:
        raise HwplanError(f"--count must be a whole number >= 1, not {count}")
    if batch is not None and int(batch) < 1:
        raise HwplanError(f"--batch must be a whole number >= 1, not {batch}")
    if phase not in PHASES:
        raise UnknownIdError("phase", phase, [p for p in PHASES if p])
    ph = PHASES.index(phase)
    ps = _precision_indices(model, workload, device, precision)
    ev = evaluate(model, w, d, np.array(ps), 0 if batch is None else int(batch), int(count), s, ph)
    j = int(np.nanargmax(np.where(np.isfinite(ev.throughput), ev.throughput, -1))) if len(ps) > 1 else 0
    return _estimate(model, workload, device, w, d, ps[j], ev.at(j), int(count), s, mode, a,
                     phase, auto=len(ps) > 1)


def _estimate(model, workload, device, w, d, p, e, count, s, mode, a, phase="", auto=False) -> Estimate:
    price, cloud = prices(model.devices_, model.dev_["price_usd"], model.dev_["cloud_usd_per_hour"], a)
    tp = float(e.throughput)
    power = float(e.power_w)
    c = costs(count, tp, power, float(e.idle_w), price[d], cloud[d], a)
    basis = BASES[int(e.basis)]
    key = f"{workload}|{device}|{SCENARIOS[s]}"
    if basis == "measured":
        detail = model.basis_detail_.get(key, "measured rows of this workload on this device")
    elif basis == "calibrated":
        detail = ("efficiency learnt from other devices' rows of this workload, shrunk toward this device's kind "
                  f"({model.dev_['kind'][d]}) and generation")
    else:
        detail = ("spec-sheet roofline (catalog peaks and bandwidth) with efficiency priors fitted on other "
                  "workloads; no row of this workload was measured")
    tp_, pp_, reps = int(e.tensor_parallel), int(e.pipeline_parallel), int(e.replicas)
    if bool(e.fits):
        detail += (f"; parallelism: {reps} replica(s) of {tp_ * pp_} device(s) (tensor parallel {tp_} x pipeline "
                   f"{pp_}), batch {int(e.batch)} per replica")
        if model.wl_["is_llm"][w]:
            detail += " (group sizes up to a node tried; the highest throughput kept)"
    fitted = (model.overhead_ or {}).get("fitted", {})
    detail += (f"; fixed overhead {float(e.overhead_s) * 1e6:,.0f} us per batch ("
               + (f"fitted from this device's batch sweeps, x{fitted[device]['factor']:.2f} the prior" if device in fitted
                  else f"estimate: {model.dev_['kind'][d]} prior, host round trip + per-layer launch") + ")")
    pk = float(e.peak_throughput)
    if np.isfinite(pk) and pk > 0 and tp >= pk * (1 - 1e-9):
        detail += "; capped at 100% of the compute peak for the FLOPs counted"
    detail += f"; work model: {model.wl_['basis'][w]}"
    if auto:
        detail += f"; precision auto: fastest allowed ({PRECISIONS[p]})"
    note = ""
    fits = bool(e.fits)
    if not fits:
        note = (f"does not fit: one replica needs {int(e.group)} device(s) "
                f"({float(e.mem_required_b) / 1e9:.1f} GB at batch {int(e.batch)}); throughput 0")
    imputed = [name for name, flag in (("board power", "board_imputed"), ("idle power", "idle_imputed"),
                                       ("interconnect", "ic_imputed")) if model.dev_[flag][d]]
    if imputed:
        note = (note + "; " if note else "") + "estimated (not in the catalog): " + ", ".join(imputed)
    if model.dev_.get("pseudo") and model.dev_["pseudo"][d]:
        note = (note + "; " if note else "") + (
            "measured host, not in the catalog: peak = best gemm it measured (measured-peak), bandwidth = its membw "
            "copy; no board power, price or memory size, so power, energy and cost are not estimated")
        detail += "; device specs: measured-peak from this host's own micro-benchmarks (not a spec sheet)"
    lat = float(e.latency_s) if fits else None
    return Estimate(
        workload=workload, device=device, device_count=count, precision=PRECISIONS[p], batch_size=int(e.batch),
        scenario=SCENARIOS[s] if s < 2 else "offline", mode=mode, throughput=tp,
        throughput_unit=_unit(model, w), low=float(e.low), high=float(e.high), basis=basis, basis_detail=detail,
        latency_p99_s=lat, power_w=power, energy_per_unit_j=clean(c["energy_per_unit_j"]),
        usd_per_hour_cloud=clean(c["usd_per_hour_cloud"]), usd_per_hour_owned=clean(c["usd_per_hour_owned"]),
        usd_per_million_units_cloud=clean(c["usd_per_million_cloud"]),
        usd_per_million_units_owned=clean(c["usd_per_million_owned"]),
        co2_kg_per_million_units=clean(c["co2_kg_per_million_units"]),
        parallel_efficiency=clean(e.parallel_eff), memory_gb_required=float(e.mem_required_b) / 1e9,
        min_devices=int(e.min_devices), bound=BOUNDS[int(e.bound)], device_kind=model.dev_["kind"][d],
        phase=phase, replicas=int(e.replicas), devices_per_replica=int(e.group), fits=fits, note=note,
        usd_per_month_cloud=clean(c["usd_per_month_cloud"]), usd_per_month_owned=clean(c["usd_per_month_owned"]),
        energy_kwh_per_month=clean(c["energy_kwh_per_month"]), co2_kg_per_month=clean(c["co2_kg_per_month"]),
        tensor_parallel=int(e.tensor_parallel), pipeline_parallel=int(e.pipeline_parallel),
        latency_p50_s=float(e.latency_p50_s) if fits else None, overhead_s=clean(e.overhead_s),
        peak_throughput=clean(e.peak_throughput), flops_per_unit=clean(e.flops_per_unit),
    )


def predict_curve(model: PerformanceModel, workload: str, device: str, count: int = 1, precisions=None, batches=None,
                  assumptions: Assumptions | None = None, scenario: str = "offline", mode: str = "inference") -> pd.DataFrame:
    """One row per precision x batch: throughput, interval, power, perf-per-watt, cost per million units."""
    a = assumptions or Assumptions()
    w, d = _wi(model, workload), _di(model, device)
    s = scenario_index(scenario, mode)
    precs = supported_precisions(model, workload, device) if not precisions else list(precisions)
    for p in precs:
        _precision_indices(model, workload, device, p)
    batches = list(batches) if batches else [1, 2, 4, 8, 16, 32, 64, 128, 256]
    P, B = np.meshgrid(np.array([PRECISIONS.index(p) for p in precs], dtype=int), np.array(batches, dtype=float), indexing="ij")
    ev = evaluate(model, w, d, P.ravel(), B.ravel(), int(count), s)
    price, cloud = prices(model.devices_, model.dev_["price_usd"], model.dev_["cloud_usd_per_hour"], a)
    c = costs(count, ev.throughput, ev.power_w, ev.idle_w, price[d], cloud[d], a)
    tp = ev.throughput
    df = pd.DataFrame({
        "workload": workload, "device": device, "device_count": int(count),
        "precision": [PRECISIONS[i] for i in P.ravel()], "batch_size": ev.batch.astype(int),
        "throughput": tp, "throughput_unit": _unit(model, w), "low": ev.low, "high": ev.high,
        "basis": [BASES[i] for i in ev.basis], "fits": ev.fits,
        "latency_p99_s": np.where(ev.fits, ev.latency_s, np.nan), "power_w": ev.power_w,
        "perf_per_watt": np.where(tp > 0, tp / ev.power_w, np.nan), "energy_per_unit_j": c["energy_per_unit_j"],
        "usd_per_million_units": c["usd_per_million_cloud"], "usd_per_million_units_cloud": c["usd_per_million_cloud"],
        "usd_per_million_units_owned": c["usd_per_million_owned"], "bound": [BOUNDS[i] for i in ev.bound],
    })
    # Compare views want the owned figure when no cloud price exists.
    df["usd_per_million_units"] = df["usd_per_million_units"].fillna(df["usd_per_million_units_owned"])
    return df


def scaling_curve(model: PerformanceModel, workload: str, device: str, counts, precision: str = "auto",
                  batch: int | None = None, scenario: str = "offline", mode: str = "inference") -> pd.DataFrame:
    """Throughput and parallel efficiency E = P_total / (N P_single) over device counts."""
    w, d = _wi(model, workload), _di(model, device)
    s = scenario_index(scenario, mode)
    ps = _precision_indices(model, workload, device, precision)
    if len(ps) > 1:  # fastest at the largest count asked
        probe = evaluate(model, w, d, np.array(ps), 0 if batch is None else batch, max(counts), s)
        ps = [ps[int(np.argmax(probe.throughput))]]
    counts = np.asarray(list(counts), dtype=float)
    ev = evaluate(model, w, d, ps[0], 0 if batch is None else batch, counts, s)
    return pd.DataFrame({"count": counts.astype(int), "throughput": ev.throughput, "low": ev.low, "high": ev.high,
                         "parallel_efficiency": ev.parallel_eff, "precision": PRECISIONS[ps[0]],
                         "devices_per_replica": ev.group.astype(int), "replicas": ev.replicas.astype(int),
                         "tensor_parallel": ev.tensor_parallel.astype(int),
                         "pipeline_parallel": ev.pipeline_parallel.astype(int),
                         "bound": [BOUNDS[i] for i in ev.bound]})


# ---- plan ---------------------------------------------------------------------------------------

def plan(model: PerformanceModel, demand: Demand, assumptions: Assumptions | None = None, top: int = 10) -> PlanResult:
    """Ranked setups meeting the demand, the Pareto front, why the top wins, what binds."""
    return run_plan(model, demand, assumptions or Assumptions(), top)
