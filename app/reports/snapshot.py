"""A report is a frozen snapshot: everything needed to show a plan again, exactly as it was saved.

`build_snapshot` gathers the inputs, the assumptions with their sources, the catalog and data
versions, the catalog rows of the devices shown, the ranked setups, the Pareto front, the
measured and published rows behind the top setups, and the charts (data and plotly JSON).
Renderers read only the snapshot, never the live catalog or store, so a saved report does not
change when the catalog or the data do.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from hwplan import costmodel
from hwplan.app.reports.charts import build_charts
from hwplan.app.reports.model import KINDS, PlanPart, Snapshot
from hwplan.core import paths
from hwplan.core.accounts import LOCAL, User
from hwplan.core.catalog import load_catalog, load_workloads
from hwplan.core.errors import HwplanError
from hwplan.core.vocab import DEVICE_KINDS
from hwplan.costmodel.api import Demand, plan
from hwplan.costmodel.assumptions import Assumptions

# secrets.token_urlsafe(24): 24 random bytes = 192 bits, 32 characters of [A-Za-z0-9_-].
ID_BYTES = 24
ID_PATTERN = re.compile(r"\A[A-Za-z0-9_-]{32}\Z")
MAX_EVIDENCE_ROWS = 200
TITLE_MAX_CHARS = 200
EVIDENCE_COLUMNS = (
    "source", "source_ref", "measured_at", "workload", "mode", "phase", "scenario", "precision", "batch_size",
    "device", "device_name", "device_count", "backend", "throughput", "throughput_unit", "latency_p99_s",
    "power_avg_w", "energy_per_unit_j", "energy_method", "notes",
)


# ---- ids ---------------------------------------------------------------------------------------

def new_report_id() -> str:
    """A fresh id that never starts with '-', so `hwplan report --id <id>` cannot read it as an option."""
    while True:
        report_id = secrets.token_urlsafe(ID_BYTES)
        if report_id[0] != "-":
            return report_id


def is_valid_id(report_id: object) -> bool:
    """Strict format check, done before any store lookup."""
    return isinstance(report_id, str) and ID_PATTERN.match(report_id) is not None


# ---- JSON-safe conversion ----------------------------------------------------------------------

def jsonable(x: Any) -> Any:
    """Plain JSON types: NaN/inf -> None, numpy -> Python, DataFrame -> records."""
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        return v if math.isfinite(v) else None
    if isinstance(x, pd.DataFrame):
        return records(x)
    if isinstance(x, pd.Series):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set, np.ndarray)):
        return [jsonable(v) for v in x]
    if isinstance(x, BaseModel):
        return jsonable(x.model_dump())
    if hasattr(x, "as_dict"):
        return jsonable(x.as_dict())
    if x is pd.NA or x is pd.NaT:
        return None
    if isinstance(x, (pd.Timestamp, datetime)):
        return x.isoformat()
    return str(x)


def records(df: pd.DataFrame | list | None) -> list[dict[str, Any]]:
    if df is None:
        return []
    if isinstance(df, list):
        return [jsonable(r) for r in df]
    clean = df.astype(object).where(df.notna(), None)
    return [{str(k): jsonable(v) for k, v in r.items()} for r in clean.to_dict("records")]


# ---- building ------------------------------------------------------------------------------------

def _get(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _plan_part(plan_result: Any) -> PlanPart | None:
    if plan_result is None:
        return None
    return PlanPart(
        feasible=None if _get(plan_result, "feasible") is None else bool(_get(plan_result, "feasible")),
        why=str(_get(plan_result, "why", "") or ""),
        binding=str(_get(plan_result, "binding", "") or ""),
        ranked=records(_get(plan_result, "ranked")),
        pareto=records(_get(plan_result, "pareto")),
        nearest=records(_get(plan_result, "nearest")),
    )


def _assumptions_table(assumptions: Any, plan_result: Any) -> list[dict[str, Any]]:
    a = assumptions if assumptions is not None else _get(plan_result, "assumptions")
    if a is None:
        a = Assumptions()
    elif isinstance(a, dict):
        a = Assumptions(**a)
    rows = [jsonable(row) for row in a.defaults_table()]
    # the grid intensity the figures used, frozen with the report (the region's table may change later)
    rows.append(jsonable({"field": "carbon_intensity_used", "value": a.carbon_intensity(), "default": None,
                          "description": "grid carbon intensity the CO2 figures used, kg CO2 per kWh",
                          "source": "carbon_kg_per_kwh" if a.carbon_kg_per_kwh is not None
                          else f"region {a.region} (data/carbon_intensity.csv)"}))
    return rows


def _estimates(estimates: Any) -> list[dict[str, Any]]:
    """Compared setups as rows shaped like the plan's ranked rows (count, power_kw added)."""
    if estimates is None:
        return []
    rows = records(estimates) if isinstance(estimates, pd.DataFrame) else [jsonable(e) for e in estimates]
    for r in rows:
        if r.get("count") is None and r.get("device_count") is not None:
            r["count"] = r["device_count"]
        if r.get("power_kw") is None and isinstance(r.get("power_w"), (int, float)):
            r["power_kw"] = r["power_w"] / 1000.0
    return rows


def _curves(curves: Any) -> dict[str, list[dict[str, Any]]]:
    if curves is None:
        return {}
    if isinstance(curves, pd.DataFrame):
        return {"curve": records(curves)}
    if isinstance(curves, dict):
        return {str(k): records(v) if isinstance(v, (pd.DataFrame, list)) else jsonable(v) for k, v in curves.items()}
    return {"curve": records(list(curves))}


def _sha256(path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def shown_devices(plan: PlanPart | None, estimates: list[dict[str, Any]]) -> list[str]:
    """Device ids the report shows, best first, without repeats."""
    out: list[str] = []
    rows = (plan.ranked + plan.pareto + plan.nearest) if plan else []
    for r in rows + estimates:
        d = r.get("device")
        if d and d not in out:
            out.append(str(d))
    return out


def _evidence(store, workload: str, devices: list[str]) -> tuple[list[dict[str, Any]], int]:
    """Measured and published rows behind the shown setups: best devices first, capped."""
    if store is None or not workload or not devices:
        return [], 0
    df = store.measurements(workload=workload, device=devices)
    if "status" in df.columns:
        df = df[df["status"].isin(["ok", ""])]
    total = len(df)
    if not total:
        return [], 0
    order = {d: i for i, d in enumerate(devices)}
    df = df.assign(_o=df["device"].map(order).fillna(len(order))).sort_values(["_o", "source"], kind="stable")
    cols = [c for c in EVIDENCE_COLUMNS if c in df.columns]
    return records(df[cols].head(MAX_EVIDENCE_ROWS)), total


def _versions(store, workload: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "catalog_file": paths.CATALOG_CSV.name,
        "catalog_sha256": _sha256(paths.CATALOG_CSV),
        "workloads_sha256": _sha256(paths.WORKLOADS_CSV),
        "costmodel": getattr(costmodel, "CODE_VERSION", ""),
        "hwplan": "0.1.0",
    }
    if store is not None:
        out["data_version"] = store.get_meta("seeded_data_version") or ""
        out["store_rows"] = store.count()
        if workload:
            src = store.measurements(workload=workload)["source"].value_counts()
            out["workload_rows_by_source"] = {str(k): int(v) for k, v in src.items()}
    return out


def _workload_row(workload: str) -> dict[str, Any]:
    if not workload:
        return {}
    wl = load_workloads()
    if workload not in wl.index:  # a user's own LLM (hwplan.costmodel.api.custom_workload) is served in tokens/s
        return ({"id": workload, "field": "LLM serving", "throughput_unit": "tokens/s",
                 "description": "your own model, from its config.json"} if workload.startswith("custom:") else
                {"id": workload})
    keep = ("id", "field", "task", "throughput_unit", "description", "lowest_precision", "source")
    return {k: jsonable(wl.loc[workload].get(k)) for k in keep if k in wl.columns}


def _device_rows(devices: list[str]) -> list[dict[str, Any]]:
    cat = load_catalog()
    return [jsonable(cat.loc[d].to_dict()) for d in devices if d in cat.index]


def clean_text(value: Any, limit: int) -> str:
    """A user string as stored: control characters out, length capped (escaping happens at render)."""
    text = "" if value is None else str(value)
    text = "".join(ch for ch in text if ch in "\t" or (ord(ch) >= 32 and ord(ch) != 127))
    return text.strip()[:limit]


def build_snapshot(*, title: str, author: str = "", kind: str = "plan", inputs: dict | None = None,
                   plan_result: Any = None, estimates: Any = None, curves: Any = None, assumptions: Any = None,
                   store=None, report_id: str | None = None, created_at: str | None = None) -> Snapshot:
    """Freeze a plan (or a comparison) and everything behind it into one Snapshot."""
    if kind not in KINDS:
        raise HwplanError(f"report kind '{kind}' is not known; use one of {', '.join(KINDS)}")
    title = clean_text(title, TITLE_MAX_CHARS)
    if not title:
        raise HwplanError("a report needs a title; give one (for example 'H2 inference capacity')")
    inputs = jsonable(dict(inputs or {}))
    plan = _plan_part(plan_result)
    ests = _estimates(estimates)
    workload = str(inputs.get("workload") or (plan.ranked[0].get("workload") if plan and plan.ranked else "")
                   or (ests[0].get("workload") if ests else "") or "")
    devices = shown_devices(plan, ests)
    top_devices = shown_devices(PlanPart(ranked=plan.ranked[:5]) if plan else None, ests[:5])
    evidence, total = _evidence(store, workload, top_devices)
    snap = Snapshot(
        id=report_id or new_report_id(),
        title=title,
        author=clean_text(author, TITLE_MAX_CHARS),
        created_at=created_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        kind=kind,
        inputs=inputs,
        versions=_versions(store, workload),
        assumptions=_assumptions_table(assumptions, plan_result),
        workload=_workload_row(workload),
        plan=plan,
        estimates=ests,
        curves=_curves(curves),
        devices=_device_rows(devices),
        evidence=evidence,
        evidence_total=total,
    )
    snap.charts = build_charts(snap)
    return snap


# ---- store ---------------------------------------------------------------------------------------

def save_report(store, *, title: str, author: str = "", kind: str = "plan", inputs: dict | None = None,
                plan_result: Any = None, estimates: Any = None, curves: Any = None, assumptions: Any = None,
                actor: User = LOCAL, shared: bool = False) -> str:
    """Store a frozen snapshot under a new unguessable id, owned by `actor` and `shared` with the team or not, and
    return the id."""
    snap = build_snapshot(title=title, author=author, kind=kind, inputs=inputs, plan_result=plan_result,
                          estimates=estimates, curves=curves, assumptions=assumptions, store=store)
    store.put_report(snap.id, snap.title, snap.author, snap.created_at, snap.model_dump(mode="json"), actor=actor,
                     shared=shared)
    return snap.id


def load_report(store, report_id: object) -> Snapshot | None:
    """The saved snapshot, or None for an id that is malformed, unknown, or whose payload is unreadable."""
    if not is_valid_id(report_id):
        return None
    row = store.get_report(report_id)
    if row is None or not isinstance(row.get("payload"), dict):
        return None
    try:
        snap = Snapshot.model_validate(row["payload"])
    except ValidationError:
        return None
    return snap if snap.id == report_id else None


def plan_snapshot(store, model, inputs: dict, title: str, author: str = "") -> Snapshot:
    """Run the plan these inputs describe (workload, throughput and plan options; a training run: mode "training",
    token_volume / samples / epochs, deadline_hours, budget_usd) and freeze it, not stored."""
    if inputs.get("mode") == "training" and inputs.get("model_facts"):
        raise HwplanError("a training report of your own model (--model-config) is not supported yet; plan it with "
                          "`hwplan plan --mode training --model-config ...` or report a reference workload")
    if inputs.get("mode") == "training" and inputs.get("workload"):
        return _training_snapshot(store, model, inputs, title, author)
    if not inputs.get("workload") or (inputs.get("throughput") is None and not inputs.get("request_rate")):
        raise HwplanError("give --workload (or --model-config) and --throughput or --request-rate (and any plan "
                          "option), or --id of a saved report")
    if inputs.get("kinds"):
        bad = sorted(set(inputs["kinds"]) - set(DEVICE_KINDS))
        if bad:
            raise HwplanError(f"device kind '{bad[0]}' is not known; use {', '.join(DEVICE_KINDS)}")
    if inputs.get("top") is not None and int(inputs["top"]) < 1:
        raise HwplanError("--top must be a whole number >= 1")
    workload = inputs["workload"]
    if inputs.get("model_facts"):  # the user's own LLM, kept in the report by its architecture facts
        from hwplan.costmodel.api import custom_workload

        model, workload, _ = custom_workload(model, inputs["model_facts"], name=inputs.get("model_name"),
                                             input_len=inputs.get("input_len"), output_len=inputs.get("output_len"))
        inputs = {**inputs, "workload": workload}
    demand = Demand(workload=workload, throughput=inputs.get("throughput"), mode=inputs["mode"],
                    latency_p99_ms=inputs.get("latency_p99_ms"), budget_usd_month=inputs.get("budget_usd_month"),
                    power_cap_kw=inputs.get("power_cap_kw"), kinds=inputs.get("kinds"), pricing=inputs["pricing"],
                    ttft_p99_ms=inputs.get("ttft_p99_ms"), tpot_p99_ms=inputs.get("tpot_p99_ms"),
                    request_rate=inputs.get("request_rate"), input_len=inputs.get("input_len"),
                    output_len=inputs.get("output_len"), kv_precision=inputs.get("kv_precision"))
    assumptions = Assumptions(**(inputs.get("assumptions") or {}))
    result = plan(model, demand, assumptions, top=int(inputs.get("top") or 10))
    return build_snapshot(title=title, author=author, kind="plan", inputs=inputs, plan_result=result,
                          assumptions=assumptions, store=store)


TRAINING_INPUTS = ("token_volume", "samples", "epochs", "deadline_hours", "budget_usd", "global_batch")


def _training_snapshot(store, model, inputs: dict, title: str, author: str) -> Snapshot:
    """A training run's plan (no volume = the benchmark's reference run) frozen into a snapshot."""
    if inputs.get("top") is not None and int(inputs["top"]) < 1:
        raise HwplanError("--top must be a whole number >= 1")
    demand = Demand(workload=inputs["workload"], mode="training", power_cap_kw=inputs.get("power_cap_kw"),
                    kinds=inputs.get("kinds"), pricing=inputs.get("pricing") or "cloud",
                    **{k: inputs.get(k) for k in TRAINING_INPUTS})
    assumptions = Assumptions(**(inputs.get("assumptions") or {}))
    result = plan(model, demand, assumptions, top=int(inputs.get("top") or 10))
    return build_snapshot(title=title, author=author, kind="plan", inputs=inputs, plan_result=result,
                          assumptions=assumptions, store=store)
