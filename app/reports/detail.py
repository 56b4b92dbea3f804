"""The detail pages: every table behind the summary, as plain text cells, shared by all renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hwplan.app.reports.model import Snapshot
from hwplan.app.reports.text import cell
from hwplan.core import fmt

SETUP_COLUMNS = (
    ("rank", "#"), ("device", "device"), ("count", "n"), ("precision", "prec."), ("batch_size", "batch"),
    ("throughput", "throughput"), ("low", "low"), ("high", "high"), ("basis", "basis"), ("latency_p99_s", "p99 s"),
    ("power_kw", "kW"), ("usd_per_month_cloud", "cloud $/mo"), ("usd_per_month_owned", "owned $/mo"),
    ("usd_per_month", "$/mo"), ("usd_per_million_units", "$/M units"), ("energy_kwh_per_month", "kWh/mo"),
    ("co2_kg_per_month", "CO₂ kg/mo"), ("meets_demand", "meets"),
)
TRAINING_COLUMNS = (
    ("device", "device"), ("count", "n"), ("precision", "prec."), ("time_to_train_h", "hours"),
    ("device_hours", "device-h"), ("usd_per_run_cloud", "cloud $/run"), ("usd_per_run_owned", "owned $/run"),
    ("energy_kwh_per_run", "kWh/run"), ("co2_kg_per_run", "CO₂ kg/run"), ("mfu", "MFU"), ("data_parallel", "DP"),
    ("tensor_parallel", "TP"), ("pipeline_parallel", "PP"), ("zero_stage", "ZeRO"), ("recompute", "recompute"),
    ("global_batch", "batch"), ("memory_gb_per_device", "GB/dev"), ("power_kw", "kW"), ("basis", "basis"),
    ("meets_deadline", "meets"),
)
DEVICE_COLUMNS = ("id", "model", "kind", "launch_year", "mem_gb", "mem_bw_gbs", "board_power_w", "price_usd",
                  "cloud_usd_per_hour", "cloud_provider", "cloud_region", "cloud_price_date")
EVIDENCE_SHOWN = ("source", "device", "device_count", "precision", "batch_size", "scenario", "throughput",
                  "throughput_unit", "latency_p99_s", "power_avg_w", "measured_at", "source_ref")


# relative column widths for the PDF (others 1)
WIDTHS = {"device": 2.0, "#": 0.5, "n": 0.5, "batch": 0.7, "meets": 0.6, "basis": 1.1, "source_ref": 4.5, "notes": 3.0,
          "source": 1.0, "measured_at": 1.1, "model": 1.8, "cloud_price_date": 2.2, "breaks": 3.0, "id": 1.6}


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""
    wide: bool = False          # many columns: renderers may shrink the font
    widths: list[float] = field(default_factory=list)   # relative column widths (PDF)


def _setup_table(title: str, rows: list[dict[str, Any]], note: str = "", extra: tuple = ()) -> Table | None:
    if not rows:
        return None
    columns = TRAINING_COLUMNS if "time_to_train_h" in rows[0] else SETUP_COLUMNS
    cols = [(k, label) for k, label in columns + extra if any(r.get(k) is not None for r in rows)]
    # usd_per_month repeats the cloud or owned column of the chosen pricing
    if any(("usd_per_month_cloud" in r or "usd_per_month_owned" in r) for r in rows):
        cols = [(k, lbl) for k, lbl in cols if k != "usd_per_month"]
    labels = [lbl for _, lbl in cols]
    return Table(title=title, columns=labels, rows=[[cell(r.get(k)) for k, _ in cols] for r in rows],
                 note=note, wide=True, widths=_widths(labels))


def _widths(columns: list[str]) -> list[float]:
    return [WIDTHS.get(c, 1.0) for c in columns]


def _dev_cell(col: str, v: Any) -> str:
    if col == "launch_year" and fmt.num(v) is not None:
        return str(int(fmt.num(v)))
    if col == "measured_at" and isinstance(v, str):
        return v[:10]
    return cell(v)


def detail_tables(snap: Snapshot) -> list[Table]:
    unit = str(snap.workload.get("throughput_unit") or "units/s")
    out: list[Table | None] = []
    training = bool(snap.plan and (snap.plan.ranked or snap.plan.nearest)
                    and "time_to_train_h" in (snap.plan.ranked or snap.plan.nearest)[0])
    if snap.plan and training:
        out.append(_setup_table("Ranked setups", snap.plan.ranked, "hours to train; device-hours; cost, energy and "
                                "CO₂ per run; DP × TP × PP the parallel layout"))
        out.append(_setup_table("Pareto front (time to train, cost per run)", snap.plan.pareto))
        out.append(_setup_table("Fastest setups (none meets every constraint)", snap.plan.nearest))
    elif snap.plan:
        out.append(_setup_table("Ranked setups", snap.plan.ranked,
                                f"throughput, low and high in {unit}; low–high is the 80% interval"))
        out.append(_setup_table("Pareto front (cost, time, energy)", snap.plan.pareto))
        out.append(_setup_table("Nearest setups that break a constraint", snap.plan.nearest, extra=(("breaks", "breaks"),)))
    if snap.estimates:
        out.append(_setup_table("Compared setups", snap.estimates, f"throughput in {unit}"))
    if snap.devices:
        cols = [c for c in DEVICE_COLUMNS if any(d.get(c) not in (None, "") for d in snap.devices)]
        out.append(Table("Devices as in the catalog when saved", cols,
                         [[_dev_cell(c, d.get(c)) for c in cols] for d in snap.devices],
                         note=f"catalog sha256 {snap.versions.get('catalog_sha256', '')[:16]}…", wide=True, widths=_widths(cols)))
        out.append(Table("Catalog sources", ["id", "source", "notes"],
                         [[str(d.get("id")), str(d.get("source") or ""), str(d.get("notes") or "")] for d in snap.devices],
                         widths=[1, 3, 3]))
    out.append(Table("Assumptions", ["assumption", "value", "default", "source"],
                     [[str(a.get("field")), cell(a.get("value")), cell(a.get("default")), str(a.get("source") or "")]
                      for a in snap.assumptions], widths=[1.2, 0.8, 0.8, 4]))
    out.append(Table("Inputs", ["input", "value"], [[str(k), cell(v)] for k, v in snap.inputs.items()], widths=[1, 3]))
    out.append(Table("Versions", ["item", "value"], [[str(k), cell(v)] for k, v in snap.versions.items()], widths=[1, 3]))
    if snap.evidence:
        cols = [c for c in EVIDENCE_SHOWN if any(e.get(c) not in (None, "") for e in snap.evidence)]
        shown = len(snap.evidence)
        out.append(Table("Measured and published results behind the top setups", cols,
                         [[_dev_cell(c, e.get(c)) for c in cols] for e in snap.evidence],
                         note=f"{shown} of {snap.evidence_total} stored row(s) for these devices on this workload",
                         wide=True, widths=_widths(cols)))
    return [t for t in out if t is not None]
