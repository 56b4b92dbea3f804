"""CSV of the setups, safe to open in a spreadsheet: a cell that a spreadsheet would read as a
formula (it starts with = + - @, a tab or a carriage return) is prefixed with an apostrophe."""

from __future__ import annotations

import csv
import io

from hwplan.app.reports.model import Snapshot
from hwplan.core.tableio import neutralise_cell

LEADING_COLUMNS = ("rank", "device", "device_kind", "count", "device_count", "precision", "batch_size", "throughput",
                   "throughput_unit", "low", "high", "basis", "latency_p99_s", "power_kw", "usd_per_month",
                   "usd_per_month_cloud", "usd_per_month_owned", "usd_per_million_units", "energy_kwh_per_month",
                   "co2_kg_per_month", "meets_demand")


def neutralise(value: object) -> str:
    """The cell as text, with a leading apostrophe when a spreadsheet would evaluate it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    return str(neutralise_cell(str(value)))  # the one rule every CSV hwplan writes follows


def setup_rows(snap: Snapshot) -> list[dict]:
    if snap.plan is not None:
        return [{"table": "ranked", **r} for r in snap.plan.ranked] + \
               [{"table": "nearest", **r} for r in snap.plan.nearest]
    return [{"table": "compared", **r} for r in snap.estimates]


def render_csv(snap: Snapshot) -> str:
    rows = setup_rows(snap)
    seen: list[str] = ["table"]
    for c in LEADING_COLUMNS:
        if any(c in r for r in rows):
            seen.append(c)
    for r in rows:
        for c in r:
            if c not in seen:
                seen.append(c)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([neutralise(c) for c in seen])
    for r in rows:
        w.writerow([neutralise(_flat(r.get(c))) for c in seen])
    return buf.getvalue()


def _flat(v: object) -> object:
    if isinstance(v, (list, tuple)):
        return "; ".join(str(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}={x}" for k, x in v.items())
    return v
