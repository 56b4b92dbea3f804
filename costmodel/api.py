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
from hwplan.costmodel.cost import costs, device_price_basis, power_band, prices, tco_dict
from hwplan.costmodel.evaluate import SCENARIOS, evaluate, precision_allowed, scenario_index
from hwplan.costmodel.llmserve import request_shape
from hwplan.costmodel.performance import PerformanceModel
from hwplan.costmodel.planner import run_plan
from hwplan.costmodel.power import describe as power_describe
from hwplan.costmodel.results import Demand, Estimate, PlanResult, clean
from hwplan.costmodel.trainplan import plan_training, predict_training, training_workloads

__all__ = [
    "Assumptions",
    "Demand",
    "Estimate",
    "PerformanceModel",
    "PlanResult",
    "custom_workload",
    "fit_models",
    "plan",
    "plan_training",
    "predict",
    "predict_curve",
    "predict_training",
    "scaling_curve",
    "supported_precisions",
    "training_workloads",
]


def fit_models(measurements: pd.DataFrame | None = None, catalog: pd.DataFrame | None = None,
               workloads: pd.DataFrame | None = None, *, measurements_df: pd.DataFrame | None = None,
               db: str | None = None, use_cache: bool = True) -> PerformanceModel:
    """A performance model fitted on these Measurement rows (none: specs and priors only).

    `db` (a store URL or SQLite path) fits on that store's rows instead, seeded with the shipped results first;
    with `use_cache` (and the shipped catalog and workloads) the model comes from the cost model's one cache,
    `hwplan.costmodel.cache.model_for_db`. Rows given as a frame are fitted each call: the one cache is keyed by
    a store's data version. `measurements_df` is the name earlier releases used for `measurements`."""
    if measurements_df is not None:
        if measurements is not None:
            raise HwplanError("give the rows as measurements or as measurements_df, not both")
        measurements = measurements_df
    if db is not None:
        if measurements is not None:
            raise HwplanError("give either measurement rows or db (fit on a store's rows), not both")
        from hwplan.costmodel import cache

        if use_cache and catalog is None and workloads is None:
            return cache.model_for_db(db)
        measurements = cache.store_measurements(db)
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
            assumptions: Assumptions | None = None, phase: str = "", input_len: float | None = None,
            output_len: float | None = None, kv_precision: str | None = None, tokens=None, samples=None, epochs=None,
            global_batch=None) -> Estimate:
    """Throughput (whole setup), interval, power, energy and cost of one setup. LLM inference: at a request
    shape (input_len prompt + output_len output tokens; default the benchmark dataset's means) and KV-cache
    precision (default the format's own), with TTFT / TPOT, the parallel layout and the memory split."""
    a = assumptions or Assumptions()
    w, d = _wi(model, workload), _di(model, device)
    I, O, kv = request_shape(model, w, input_len, output_len, kv_precision)
    s = scenario_index(scenario, mode)
    if mode == "training":  # a training run: its volume (none: the benchmark's run), see predict_training
        return predict_training(model, workload, device, count=count, precision=precision, tokens=tokens,
                                samples=samples, epochs=epochs, global_batch=global_batch, assumptions=a)
    if "inference" not in str(model.wl_["modes"][w]).split(";"):
        raise HwplanError(f"--workload {workload} is a training workload (modes: {model.wl_['modes'][w]}); use "
                          "--mode training")
    if count is None or int(count) < 1:
        raise HwplanError(f"--count must be a whole number >= 1, not {count}")
    if batch is not None and int(batch) < 1:
        raise HwplanError(f"--batch must be a whole number >= 1, not {batch}")
    if phase not in PHASES:
        raise UnknownIdError("phase", phase, [p for p in PHASES if p])
    ph = PHASES.index(phase)
    ps = _precision_indices(model, workload, device, precision)
    serving = bool(model.wl_["is_llm"][w]) and s != 2 and ph == 0
    shape = dict(in_len=I, out_len=O, kv=kv) if serving else {}
    ev = evaluate(model, w, d, np.array(ps), 0 if batch is None else int(batch), int(count), s, ph, **shape)
    j = int(np.nanargmax(np.where(np.isfinite(ev.throughput), ev.throughput, -1))) if len(ps) > 1 else 0
    est = _estimate(model, workload, device, w, d, ps[j], ev.at(j), int(count), s, mode, a,
                    phase, auto=len(ps) > 1)
    if serving:
        est = _serving_fields(model, est, d, ps[j], ev.at(j), I, O, kv)
    return est


def _serving_fields(model, est: Estimate, d, p, e, I, O, kv) -> Estimate:
    """An LLM serving estimate's request shape, TTFT / TPOT, layout, memory split and how it was got."""
    from dataclasses import replace

    from hwplan.core.vocab import KV_PRECISION

    fits = bool(e.fits)
    gb = lambda v: clean(float(v) / 1e9) if fits else None
    sec = lambda v: clean(float(v)) if fits else None
    kvp = PRECISIONS[kv] if kv is not None else KV_PRECISION[PRECISIONS[p]]
    reps, tp, pp, ep = int(e.replicas), int(e.tensor_parallel), int(e.pipeline_parallel), int(e.expert_parallel)
    per_node = int(model.dev_["per_node"][d])
    detail = (f"serving step model (continuous batching, paged KV cache; hwplan.costmodel.serving) at "
              f"{I:,.0f} prompt + {O:,.0f} output tokens per request, KV cache {kvp}; efficiencies fitted on published "
              f"and measured LLM serving rows (basis {est.basis}); layout: {reps} replica(s) of tensor parallel {tp} x "
              f"pipeline {pp}" + (f" (experts split over {ep})" if ep > 1 else "")
              + f", {int(e.batch)} sequences in flight per replica (the most that memory and the limits allow)")
    if fits:
        detail += (f"; memory per replica: weights {float(e.weights_b) / 1e9:,.1f} GB, KV cache "
                   f"{float(e.kv_cache_b) / 1e9:,.1f} GB, activations {float(e.activations_b) / 1e9:,.1f} GB")
    return replace(est, basis_detail=detail, input_len=I, output_len=O, kv_precision=kvp,
                   ttft_p50_s=sec(e.ttft_p50_s), ttft_p99_s=sec(e.ttft_p99_s), tpot_p50_s=sec(e.tpot_p50_s),
                   tpot_p99_s=sec(e.tpot_p99_s), total_tokens_per_s=clean(float(e.total_throughput)),
                   concurrency=int(e.batch) * reps if fits else 0, expert_parallel=ep, devices_per_node=per_node,
                   weights_gb=gb(e.weights_b), kv_cache_gb=gb(e.kv_cache_b), activations_gb=gb(e.activations_b),
                   meets_latency=bool(e.meets_latency) if fits else False)


def custom_workload(model: PerformanceModel, facts: dict, name: str | None = None, input_len: float | None = None,
                    output_len: float | None = None) -> tuple[PerformanceModel, str, str | None]:
    """A user's own LLM (architecture facts from hwplan.costmodel.llmconfig): (a model that knows it, its
    workload id, the reference workload it equals or None). A config whose architecture equals a reference
    workload's (same dimensions, experts and parameter count) is that workload, so it predicts the same."""
    from hwplan.costmodel.llmconfig import FINGERPRINT
    from hwplan.costmodel.llmserve import tokens

    input_len = None if input_len is None else tokens("--input-len", input_len)
    output_len = None if output_len is None else tokens("--output-len", output_len)
    for k in ("params", "active_params", "layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "kv_values", "vocab"):
        v = facts.get(k) if isinstance(facts, dict) else None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0:
            raise HwplanError(f"model facts: {k} is {v!r} (expected a number > 0; read a config with "
                              "hwplan.costmodel.llmconfig)")
    wl = model.wl_
    key = lambda get: tuple(round(float(get(k) or 0.0), 3) for k in FINGERPRINT) + (round(float(get("params") or 0) / 1e6),)
    mine = key(lambda k: facts.get(k))
    for i, wid in enumerate(model.workloads_):
        if wl["is_llm"][i] and not str(wid).startswith("custom:") and key(lambda k, i=i: wl[k][i]) == mine:
            return model, wid, wid
    label = str(name or facts.get("name") or "model")
    slug = "".join(c if c.isalnum() or c in "-._" else "-" for c in label.lower()).strip("-")[:48] or "model"
    wid = f"custom:{slug}"
    row = {k: facts.get(k) for k in ("params", "active_params", "layers", "d_model", "n_heads", "n_kv_heads", "head_dim",
                                      "kv_values", "n_experts", "experts_per_token", "vocab", "d_ff")}
    row.update(lowest_precision="fp4", description=f"your model: {label} ({facts.get('model_type', '')})",
               input_len_mean=input_len or 1024, output_len_mean=output_len or 256,
               length_source=("your request shape" if input_len and output_len else
                              "planning default 1,024 prompt + 256 output tokens (no benchmark dataset; set "
                              "--input-len / --output-len)"))
    if wid in model.workloads_:
        return model, wid, None
    return model.with_llm_workload(wid, row), wid, None


def _estimate(model, workload, device, w, d, p, e, count, s, mode, a, phase="", auto=False) -> Estimate:
    price, cloud = prices(model.devices_, model.dev_["price_usd"], model.dev_["cloud_usd_per_hour"], a)
    tp = float(e.throughput)
    power = float(e.power_w)
    c = costs(count, tp, power, float(e.idle_w), price[d], cloud[d], a, per_node=model.dev_["per_node"][d],
              kind=model.dev_["kind"][d])
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
        tco=tco_dict(c), breakeven_months=clean(float(c["breakeven_months"])),
        price_basis=device_price_basis(model, d, a)[0], price_stale=device_price_basis(model, d, a)[1],
        carbon_kg_per_kwh=a.carbon_intensity(),
        device_power_w=clean(e.device_power_w), power_basis=power_describe(model.power_),
        **_energy_interval(power, float(e.low), float(e.high), power_band(model.power_)),
    )


def _energy_interval(power_w: float, low: float, high: float, band: float) -> dict:
    """Energy per unit at the ends of the throughput interval, widened by the power fit's spread."""
    ok = np.isfinite(power_w) and power_w > 0 and low > 0 and high > 0
    return {"energy_per_unit_low_j": clean(power_w / band / high) if ok else None,
            "energy_per_unit_high_j": clean(power_w * band / low) if ok else None}


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
    c = costs(count, ev.throughput, ev.power_w, ev.idle_w, price[d], cloud[d], a, per_node=model.dev_["per_node"][d],
              kind=model.dev_["kind"][d])
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
    """Ranked setups meeting the demand, the Pareto front, why the top wins, what binds. A training demand
    (mode "training") plans a run: `plan_training`."""
    if demand.mode == "training":
        return plan_training(model, demand, assumptions or Assumptions(), top)
    return run_plan(model, demand, assumptions or Assumptions(), top)
