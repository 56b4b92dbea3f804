"""Public API of the cost model: fit, predict, curves, plan.

Stable names (the dashboard and reports code against them): `fit_models`, `predict` -> `Estimate`,
`predict_curve`, `scaling_curve`, `Demand`, `plan` -> `PlanResult`. Fields may be added, never
renamed. The prediction and planning paths are numpy only; sklearn is imported only to fit.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hwplan.costmodel import CODE_VERSION
from hwplan.costmodel.assumptions import Assumptions
from hwplan.costmodel.cost import costs, prices
from hwplan.costmodel.model import SCENARIOS, PerformanceModel, evaluate, precision_allowed
from hwplan.core.vocab import BASES, BOUNDS, MODES, PHASES, PRECISIONS, QUALITY
from hwplan.core.errors import HwplanError, UnknownIdError

__all__ = ["fit_models", "load_or_fit", "predict", "predict_curve", "scaling_curve", "Demand", "plan", "Estimate",
           "PlanResult", "Assumptions", "PerformanceModel"]


# ---- fitting and the cache -------------------------------------------------------------------

def cache_dir() -> Path:
    env = os.environ.get("HWPLAN_CACHE_DIR", "").strip()
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("hwplan", appauthor=False)) / "costmodel"


def data_hash(measurements: pd.DataFrame | None, catalog: pd.DataFrame, workloads: pd.DataFrame) -> str:
    """Hash of everything the fit depends on: rows, catalog, workloads and the code version."""
    h = hashlib.sha256(CODE_VERSION.encode())
    for df in (measurements, catalog, workloads):
        if df is None:
            h.update(b"none")
            continue
        buf = io.StringIO()
        df.to_csv(buf, index=False)
        h.update(buf.getvalue().encode())
    return h.hexdigest()[:24]


def fit_models(measurements: pd.DataFrame | None = None, catalog: pd.DataFrame | None = None, *,
               measurements_df: pd.DataFrame | None = None, workloads: pd.DataFrame | None = None,
               db: str | None = None, use_cache: bool = True) -> PerformanceModel:
    """The fitted performance model. `measurements` None: every row of the store (seeded first).

    Fitted coefficients are cached as JSON (keyed by a hash of rows, catalog, workloads and code
    version) under $HWPLAN_CACHE_DIR or the user cache folder, so a second call is cheap.
    """
    from hwplan.core.catalog import load_catalog, load_workloads

    if measurements is None:
        measurements = measurements_df
    if measurements is None:
        measurements = load_store_measurements(db)
    cat = load_catalog() if catalog is None else catalog
    wls = load_workloads() if workloads is None else workloads
    key = data_hash(measurements, cat, wls)
    path = cache_dir() / f"model-{key}.json"
    if use_cache and path.exists():
        try:
            return PerformanceModel.load(path)
        except (OSError, ValueError, TypeError):
            pass  # a damaged cache file is refitted below
    from hwplan.costmodel.fit import fit_performance_model

    model = fit_performance_model(measurements, cat, wls, data_hash=key)
    if use_cache:
        try:
            model.save(path)
        except OSError:
            pass  # a read-only cache folder only costs a refit next time
    return model


def load_store_measurements(db: str | None = None) -> pd.DataFrame:
    from hwplan.core.ingest import seed_store
    from hwplan.core.store import Store

    store = Store.open(db)
    try:
        seed_store(store)
        return store.measurements()
    finally:
        store.close()


def load_or_fit(db: str | None = None) -> PerformanceModel:
    """The model for a store, for commands. Fast path (SQLite): a fingerprint of the store's rows and
    the shipped data files, read with the standard library, finds the cached fit without importing
    SQLAlchemy or reading every row. Anything else takes the full path (seed, read, hash, fit)."""
    import json

    from hwplan.core import paths

    url = paths.as_db_url(db) if db else paths.default_db_url()
    index_file = cache_dir() / "stores.json"
    fp = store_fingerprint(url)
    if fp:
        try:
            known = json.loads(index_file.read_text())
            path = cache_dir() / known[fp]
            return PerformanceModel.load(path)
        except (OSError, ValueError, KeyError, TypeError):
            pass
    model = fit_models(measurements=load_store_measurements(url))
    fp = store_fingerprint(url)
    if fp and model.meta.get("data_hash"):
        try:
            known = json.loads(index_file.read_text()) if index_file.exists() else {}
            known = dict(list(known.items())[-50:])
            known[fp] = f"model-{model.meta['data_hash']}.json"
            index_file.parent.mkdir(parents=True, exist_ok=True)
            index_file.write_text(json.dumps(known))
        except (OSError, ValueError):
            pass
    return model


def store_fingerprint(url: str) -> str | None:
    """A hash of a SQLite store's rows and of the data files the fit reads; None when it cannot be
    taken cheaply (not SQLite, no file yet, or the shipped results are not loaded yet)."""
    import sqlite3

    from hwplan.core import paths

    if not url.startswith("sqlite:///"):
        return None
    db_file = url.split("///", 1)[1]
    if not db_file or db_file == ":memory:" or not Path(db_file).exists():
        return None
    files = [p for p in [paths.PUBLISHED_CSV, *sorted(paths.MEASURED_DIR.glob("*.csv"))] if p.exists()]
    digest = hashlib.sha256()  # the same digest hwplan.core.ingest.seed_store records
    for p in files:
        digest.update(p.name.encode())
        digest.update(p.read_bytes())
    version = digest.hexdigest()[:16]
    try:
        con = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=5)
        try:
            seeded = con.execute("SELECT value FROM meta WHERE key = 'seeded_data_version'").fetchone()
            if not seeded or seeded[0] != version:
                return None
            row = con.execute("SELECT count(*), total(throughput), total(power_avg_w), total(batch_size), "
                              "group_concat(row_key) FROM (SELECT * FROM measurements ORDER BY row_id)").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    h = hashlib.sha256(f"{CODE_VERSION}|{db_file}|{version}|{row[0]}|{row[1]!r}|{row[2]!r}|{row[3]!r}".encode())
    h.update((row[4] or "").encode())
    for p in (paths.CATALOG_CSV, paths.WORKLOADS_CSV):
        h.update(p.read_bytes() if p.exists() else b"-")
    return h.hexdigest()[:24]


# ---- results ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    """One predicted setup. Throughput is for the whole setup (all devices), in throughput_unit."""

    workload: str
    device: str
    device_count: int
    precision: str
    batch_size: int
    scenario: str
    mode: str
    throughput: float
    throughput_unit: str
    low: float
    high: float
    basis: str
    basis_detail: str
    latency_p99_s: float | None
    power_w: float
    energy_per_unit_j: float | None
    usd_per_hour_cloud: float | None
    usd_per_hour_owned: float | None
    usd_per_million_units_cloud: float | None
    usd_per_million_units_owned: float | None
    co2_kg_per_million_units: float | None
    parallel_efficiency: float | None
    memory_gb_required: float
    min_devices: int
    bound: str
    device_kind: str = ""
    phase: str = ""
    interval_coverage: float = 0.8
    replicas: int = 1
    devices_per_replica: int = 1
    power_scope: str = "system"
    fits: bool = True
    note: str = ""
    usd_per_month_cloud: float | None = None
    usd_per_month_owned: float | None = None
    energy_kwh_per_month: float | None = None
    co2_kg_per_month: float | None = None
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    latency_p50_s: float | None = None
    overhead_s: float | None = None
    peak_throughput: float | None = None
    flops_per_unit: float | None = None

    @property
    def usd_per_million_units(self) -> dict:
        return {"cloud": self.usd_per_million_units_cloud, "owned": self.usd_per_million_units_owned}

    def as_dict(self) -> dict:
        return {k: _clean(v) for k, v in asdict(self).items()}


def _clean(v):
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


# ---- checking ids ---------------------------------------------------------------------------------

def _wi(model: PerformanceModel, workload: str) -> int:
    if workload not in model.a["wl_index"]:
        raise UnknownIdError("workload", str(workload), model.workloads)
    return model.workload_index(workload)


def _di(model: PerformanceModel, device: str) -> int:
    if device not in model.a["dev_index"]:
        raise UnknownIdError("device", str(device), model.devices)
    return model.device_index(device)


def _scenario_index(scenario: str, mode: str) -> int:
    if mode not in MODES:
        raise HwplanError(f"mode '{mode}' is not known; use inference or training")
    if mode == "training":
        return 2
    if scenario not in ("offline", "server"):
        raise HwplanError(f"scenario '{scenario}' is not known; use offline or server")
    return SCENARIOS.index(scenario)


def supported_precisions(model: PerformanceModel, workload: str, device: str) -> list[str]:
    """Precisions the device has a peak for and that meet the workload's accuracy target."""
    w, d = _wi(model, workload), _di(model, device)
    peak = model.a["peak"][d]
    allowed = precision_allowed(model, w)
    return [p for j, p in enumerate(PRECISIONS) if allowed[j] and np.isfinite(peak[j]) and peak[j] > 0]


def _precision_indices(model, workload, device, precision) -> list[int]:
    w, d = _wi(model, workload), _di(model, device)
    sup = supported_precisions(model, workload, device)
    if precision in (None, "", "auto"):
        if not sup:
            has = [p for j, p in enumerate(PRECISIONS) if np.isfinite(model.a["peak"][d, j])]
            raise HwplanError(f"device '{device}' has no peak throughput in the catalog for a precision that meets "
                              f"{workload}'s accuracy target (lowest allowed: {_lowest(model, w)}; the device lists "
                              f"{', '.join(has) or 'none'}); add its peak figures to data/catalog.csv")
        return [PRECISIONS.index(p) for p in sup]
    if precision not in PRECISIONS:
        raise UnknownIdError("precision", precision, list(PRECISIONS) + ["auto"])
    if precision not in sup:
        j = PRECISIONS.index(precision)
        why = ("the catalog lists no peak for it" if not np.isfinite(model.a["peak"][d, j])
               else f"it does not meet {workload}'s accuracy target (lowest allowed: {_lowest(model, w)})")
        raise HwplanError(f"{device} cannot run {workload} at {precision}: {why}; "
                          f"supported: {', '.join(sup) or 'none'} (or use --precision auto)")
    return [PRECISIONS.index(precision)]


def _lowest(model, w):
    q = model.wl["lowest_quality"][w]
    return min((p for p in PRECISIONS if QUALITY[p] >= q), key=lambda p: QUALITY[p])


def _unit(model, w, phase_i=0) -> str:
    unit = model.wl["unit"][w]
    return unit


# ---- predict -------------------------------------------------------------------------------------

def predict(model: PerformanceModel, workload: str, device: str, count: int = 1, precision: str = "auto",
            batch: int | None = None, scenario: str = "offline", mode: str = "inference",
            assumptions: Assumptions | None = None, phase: str = "") -> Estimate:
    """Throughput (whole setup), interval, power, energy and cost of one setup."""
    a = assumptions or Assumptions()
    w, d = _wi(model, workload), _di(model, device)
    s = _scenario_index(scenario, mode)
    if mode == "training" and "training" not in model.wl["modes"][w]:
        raise HwplanError(f"workload '{workload}' has no training mode (modes: {model.wl['modes'][w]})")
    if count is None or int(count) < 1:
        raise HwplanError(f"--count must be a whole number >= 1, not {count}")
    if batch is not None and int(batch) < 1:
        raise HwplanError(f"--batch must be a whole number >= 1, not {batch}")
    if phase not in PHASES:
        raise UnknownIdError("phase", phase, [p for p in PHASES if p])
    ph = PHASES.index(phase)
    ps = _precision_indices(model, workload, device, precision)
    ev = evaluate(model, w, d, np.array(ps), 0 if batch is None else int(batch), int(count), s, ph)
    j = int(np.nanargmax(np.where(np.isfinite(ev["throughput"]), ev["throughput"], -1))) if len(ps) > 1 else 0
    return _estimate(model, workload, device, w, d, ps[j], {k: v[j] for k, v in ev.items()}, int(count), s, mode, a,
                     phase, auto=len(ps) > 1)


def _estimate(model, workload, device, w, d, p, e, count, s, mode, a, phase="", auto=False) -> Estimate:
    price, cloud = prices(model.devices, model.dev["price_usd"], model.dev["cloud_usd_per_hour"], a)
    tp = float(e["throughput"])
    power = float(e["power_w"])
    c = costs(count, tp, power, float(e["idle_w"]), price[d], cloud[d], a)
    basis = BASES[int(e["basis"])]
    key = f"{workload}|{device}|{SCENARIOS[s]}"
    if basis == "measured":
        detail = model.basis_detail.get(key, "measured rows of this workload on this device")
    elif basis == "calibrated":
        detail = ("efficiency learnt from other devices' rows of this workload, shrunk toward this device's kind "
                  f"({model.dev['kind'][d]}) and generation")
    else:
        detail = ("spec-sheet roofline (catalog peaks and bandwidth) with efficiency priors fitted on other "
                  "workloads; no row of this workload was measured")
    tp_, pp_, reps = int(e["tensor_parallel"]), int(e["pipeline_parallel"]), int(e["replicas"])
    if bool(e["fits"]):
        detail += (f"; parallelism: {reps} replica(s) of {tp_ * pp_} device(s) (tensor parallel {tp_} x pipeline "
                   f"{pp_}), batch {int(e['batch'])} per replica")
        if model.wl["is_llm"][w]:
            detail += " (group sizes up to a node tried; the highest throughput kept)"
    fitted = (model.overhead or {}).get("fitted", {})
    detail += (f"; fixed overhead {float(e['overhead_s']) * 1e6:,.0f} us per batch ("
               + (f"fitted from this device's batch sweeps, x{fitted[device]['factor']:.2f} the prior" if device in fitted
                  else f"estimate: {model.dev['kind'][d]} prior, host round trip + per-layer launch") + ")")
    pk = float(e["peak_throughput"])
    if np.isfinite(pk) and pk > 0 and tp >= pk * (1 - 1e-9):
        detail += "; capped at 100% of the compute peak for the FLOPs counted"
    detail += f"; work model: {model.wl['basis'][w]}"
    if auto:
        detail += f"; precision auto: fastest allowed ({PRECISIONS[p]})"
    note = ""
    fits = bool(e["fits"])
    if not fits:
        note = (f"does not fit: one replica needs {int(e['group'])} device(s) "
                f"({float(e['mem_required_b']) / 1e9:.1f} GB at batch {int(e['batch'])}); throughput 0")
    imputed = [name for name, flag in (("board power", "board_imputed"), ("idle power", "idle_imputed"),
                                       ("interconnect", "ic_imputed")) if model.dev[flag][d]]
    if imputed:
        note = (note + "; " if note else "") + "estimated (not in the catalog): " + ", ".join(imputed)
    if model.dev.get("pseudo") and model.dev["pseudo"][d]:
        note = (note + "; " if note else "") + (
            "measured host, not in the catalog: peak = best gemm it measured (measured-peak), bandwidth = its membw "
            "copy; no board power, price or memory size, so power, energy and cost are not estimated")
        detail += "; device specs: measured-peak from this host's own micro-benchmarks (not a spec sheet)"
    lat = float(e["latency_s"]) if fits else None
    return Estimate(
        workload=workload, device=device, device_count=count, precision=PRECISIONS[p], batch_size=int(e["batch"]),
        scenario=SCENARIOS[s] if s < 2 else "offline", mode=mode, throughput=tp,
        throughput_unit=_unit(model, w), low=float(e["low"]), high=float(e["high"]), basis=basis, basis_detail=detail,
        latency_p99_s=lat, power_w=power, energy_per_unit_j=_clean(c["energy_per_unit_j"]),
        usd_per_hour_cloud=_clean(c["usd_per_hour_cloud"]), usd_per_hour_owned=_clean(c["usd_per_hour_owned"]),
        usd_per_million_units_cloud=_clean(c["usd_per_million_cloud"]),
        usd_per_million_units_owned=_clean(c["usd_per_million_owned"]),
        co2_kg_per_million_units=_clean(c["co2_kg_per_million_units"]),
        parallel_efficiency=_clean(e["parallel_eff"]), memory_gb_required=float(e["mem_required_b"]) / 1e9,
        min_devices=int(e["min_devices"]), bound=BOUNDS[int(e["bound"])], device_kind=model.dev["kind"][d],
        phase=phase, replicas=int(e["replicas"]), devices_per_replica=int(e["group"]), fits=fits, note=note,
        usd_per_month_cloud=_clean(c["usd_per_month_cloud"]), usd_per_month_owned=_clean(c["usd_per_month_owned"]),
        energy_kwh_per_month=_clean(c["energy_kwh_per_month"]), co2_kg_per_month=_clean(c["co2_kg_per_month"]),
        tensor_parallel=int(e["tensor_parallel"]), pipeline_parallel=int(e["pipeline_parallel"]),
        latency_p50_s=float(e["latency_p50_s"]) if fits else None, overhead_s=_clean(e["overhead_s"]),
        peak_throughput=_clean(e["peak_throughput"]), flops_per_unit=_clean(e["flops_per_unit"]),
    )


def predict_curve(model: PerformanceModel, workload: str, device: str, count: int = 1, precisions=None, batches=None,
                  assumptions: Assumptions | None = None, scenario: str = "offline", mode: str = "inference") -> pd.DataFrame:
    """One row per precision x batch: throughput, interval, power, perf-per-watt, cost per million units."""
    a = assumptions or Assumptions()
    w, d = _wi(model, workload), _di(model, device)
    s = _scenario_index(scenario, mode)
    precs = supported_precisions(model, workload, device) if not precisions else list(precisions)
    for p in precs:
        _precision_indices(model, workload, device, p)
    batches = list(batches) if batches else [1, 2, 4, 8, 16, 32, 64, 128, 256]
    P, B = np.meshgrid(np.array([PRECISIONS.index(p) for p in precs], dtype=int), np.array(batches, dtype=float), indexing="ij")
    ev = evaluate(model, w, d, P.ravel(), B.ravel(), int(count), s)
    price, cloud = prices(model.devices, model.dev["price_usd"], model.dev["cloud_usd_per_hour"], a)
    c = costs(count, ev["throughput"], ev["power_w"], ev["idle_w"], price[d], cloud[d], a)
    tp = ev["throughput"]
    df = pd.DataFrame({
        "workload": workload, "device": device, "device_count": int(count),
        "precision": [PRECISIONS[i] for i in P.ravel()], "batch_size": ev["batch"].astype(int),
        "throughput": tp, "throughput_unit": _unit(model, w), "low": ev["low"], "high": ev["high"],
        "basis": [BASES[i] for i in ev["basis"]], "fits": ev["fits"],
        "latency_p99_s": np.where(ev["fits"], ev["latency_s"], np.nan), "power_w": ev["power_w"],
        "perf_per_watt": np.where(tp > 0, tp / ev["power_w"], np.nan), "energy_per_unit_j": c["energy_per_unit_j"],
        "usd_per_million_units": c["usd_per_million_cloud"], "usd_per_million_units_cloud": c["usd_per_million_cloud"],
        "usd_per_million_units_owned": c["usd_per_million_owned"], "bound": [BOUNDS[i] for i in ev["bound"]],
    })
    # Compare views want the owned figure when no cloud price exists.
    df["usd_per_million_units"] = df["usd_per_million_units"].fillna(df["usd_per_million_units_owned"])
    return df


def scaling_curve(model: PerformanceModel, workload: str, device: str, counts, precision: str = "auto",
                  batch: int | None = None, scenario: str = "offline", mode: str = "inference") -> pd.DataFrame:
    """Throughput and parallel efficiency E = P_total / (N P_single) over device counts."""
    w, d = _wi(model, workload), _di(model, device)
    s = _scenario_index(scenario, mode)
    ps = _precision_indices(model, workload, device, precision)
    if len(ps) > 1:  # fastest at the largest count asked
        probe = evaluate(model, w, d, np.array(ps), 0 if batch is None else batch, max(counts), s)
        ps = [ps[int(np.argmax(probe["throughput"]))]]
    counts = np.asarray(list(counts), dtype=float)
    ev = evaluate(model, w, d, ps[0], 0 if batch is None else batch, counts, s)
    return pd.DataFrame({"count": counts.astype(int), "throughput": ev["throughput"], "low": ev["low"], "high": ev["high"],
                         "parallel_efficiency": ev["parallel_eff"], "precision": PRECISIONS[ps[0]],
                         "devices_per_replica": ev["group"].astype(int), "replicas": ev["replicas"].astype(int),
                         "tensor_parallel": ev["tensor_parallel"].astype(int),
                         "pipeline_parallel": ev["pipeline_parallel"].astype(int),
                         "bound": [BOUNDS[i] for i in ev["bound"]]})


# ---- plan ---------------------------------------------------------------------------------------

@dataclass
class Demand:
    """What a plan must meet. throughput: whole-setup samples/s (tokens/s for LLMs).

    Training: give `throughput`, or `token_volume` (samples or tokens to process) and
    `deadline_hours`, from which the throughput follows.
    """

    workload: str
    throughput: float | None = None
    mode: str = "inference"
    latency_p99_ms: float | None = None
    budget_usd_month: float | None = None
    power_cap_kw: float | None = None
    kinds: list[str] | None = None
    pricing: str = "cloud"
    scenario: str = "offline"
    token_volume: float | None = None
    deadline_hours: float | None = None
    include_measured_hosts: bool = False  # pseudo-devices `host:...` (measured, not in the catalog; no power or price)

    def required_throughput(self) -> float:
        if self.throughput is not None and self.throughput > 0:
            return float(self.throughput)
        if self.token_volume and self.deadline_hours:
            return float(self.token_volume) / (float(self.deadline_hours) * 3600.0)
        raise HwplanError("the demand needs a throughput (--throughput) > 0, or a volume and a deadline for training")


@dataclass
class PlanResult:
    ranked: pd.DataFrame
    pareto: pd.DataFrame
    why: str
    binding: str
    feasible: bool
    nearest: pd.DataFrame
    assumptions: Assumptions
    demand: Demand | None = None
    candidates_evaluated: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        def table(df):
            return [{k: _clean(v) for k, v in r.items()} for r in df.to_dict("records")]

        return {"feasible": self.feasible, "why": self.why, "binding": self.binding, "ranked": table(self.ranked),
                "pareto": table(self.pareto), "nearest": table(self.nearest),
                "assumptions": self.assumptions.model_dump(), "demand": asdict(self.demand) if self.demand else None,
                "candidates_evaluated": self.candidates_evaluated, "notes": self.notes}


def plan(model: PerformanceModel, demand: Demand, assumptions: Assumptions | None = None, top: int = 10) -> PlanResult:
    """Ranked setups meeting the demand, the Pareto front, why the top wins, what binds."""
    from hwplan.costmodel.planner import run_plan

    return run_plan(model, demand, assumptions or Assumptions(), top)
