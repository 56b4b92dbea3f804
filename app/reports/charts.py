"""The report's charts: pure functions from snapshot rows to plotly figures.

The figures are built once, when a report is saved, and stored as plotly JSON next to the rows
they draw; every renderer redraws the stored JSON, so a saved chart never changes.
"""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go

from hwplan.app import palette
from hwplan.app.reports.model import Chart, Snapshot
from hwplan.app.reports.text import setup_label
from hwplan.core.fmt import number

MAX_POINTS = 40
_LAYOUT = dict(template="plotly_white", height=420, margin=dict(l=70, r=20, t=60, b=60),
               font=dict(family="DejaVu Sans, Arial, sans-serif", size=12), legend=dict(orientation="h", y=-0.2))


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if v == v else None


def setups_figure(rows: list[dict], demand: float | None, unit: str, cost_col: str = "usd_per_month") -> go.Figure:
    """Monthly cost against throughput with its 80% interval, one colour per basis of estimate."""
    fig = go.Figure()
    rows = [r for r in rows[:MAX_POINTS] if _num(r.get(cost_col)) is not None and _num(r.get("throughput")) is not None]
    for basis in sorted({str(r.get("basis") or "unknown") for r in rows}):
        sub = [r for r in rows if str(r.get("basis") or "unknown") == basis]
        y = [_num(r["throughput"]) for r in sub]
        hi = [max((_num(r.get("high")) or yy) - yy, 0) for r, yy in zip(sub, y)]
        lo = [max(yy - (_num(r.get("low")) or yy), 0) for r, yy in zip(sub, y)]
        fig.add_trace(go.Scatter(
            x=[_num(r[cost_col]) for r in sub], y=y, mode="markers", name=basis,
            marker=dict(size=10, color=palette.BASIS.get(basis, palette.OTHER)),
            error_y=dict(type="data", array=hi, arrayminus=lo, thickness=1),
            text=[f"#{r.get('rank', '')} {setup_label(r)}" for r in sub],
            hovertemplate="%{text}<br>%{x:$,.0f} / month<br>%{y:,.4g} " + unit + "<extra>%{fullData.name}</extra>",
        ))
    if rows:
        best = rows[0]
        fig.add_annotation(x=_num(best[cost_col]), y=_num(best["throughput"]), text="recommended",
                           showarrow=True, arrowhead=2, ax=40, ay=-40)
    if demand:
        fig.add_hline(y=float(demand), line_dash="dash", line_color=palette.DEMAND,
                      annotation_text=f"target {number(demand)} {unit}", annotation_position="bottom right")
    fig.update_layout(title="Setups: monthly cost against throughput (80% interval)", **_LAYOUT)
    fig.update_xaxes(title="USD per month", tickprefix="$", separatethousands=True)
    fig.update_yaxes(title=f"throughput ({unit})")
    return fig


def pareto_figure(rows: list[dict], cost_col: str = "usd_per_month") -> go.Figure:
    """The Pareto-optimal setups (on cost, latency and energy) placed by monthly cost and energy.

    Points, not a line: a front in three objectives is not monotone in any two of them."""
    pts = [r for r in rows[:MAX_POINTS] if _num(r.get(cost_col)) is not None and _num(r.get("energy_kwh_per_month")) is not None]
    pts.sort(key=lambda r: _num(r[cost_col]))
    fig = go.Figure(go.Scatter(
        x=[_num(r[cost_col]) for r in pts], y=[_num(r["energy_kwh_per_month"]) for r in pts],
        mode="markers", marker=dict(size=9, color=palette.ACCENT), name="Pareto-optimal",
        text=[setup_label(r) for r in pts], hovertemplate="%{text}<br>%{x:$,.0f} / month<br>%{y:,.4g} kWh / month<extra></extra>",
    ))
    fig.update_layout(title="Pareto-optimal setups (cost, latency, energy): monthly cost against energy", showlegend=False,
                      **_LAYOUT)
    fig.update_xaxes(title="USD per month", tickprefix="$", separatethousands=True)
    fig.update_yaxes(title="energy (kWh per month)")
    return fig


def training_figure(rows: list[dict], cost_col: str, deadline_h: float | None = None) -> go.Figure:
    """Cost per run against time to train, one colour per basis of estimate, the deadline as a line."""
    rows = [r for r in rows[:MAX_POINTS] if _num(r.get(cost_col)) is not None and _num(r.get("time_to_train_h"))]
    days = any((_num(r["time_to_train_h"]) or 0) > 72 for r in rows) or (deadline_h or 0) > 72
    scale, unit = (24.0, "days") if days else (1.0, "hours")
    fig = go.Figure()
    for basis in sorted({str(r.get("basis") or "unknown") for r in rows}):
        sub = [r for r in rows if str(r.get("basis") or "unknown") == basis]
        fig.add_trace(go.Scatter(
            x=[(_num(r["time_to_train_h"]) or 0) / scale for r in sub], y=[_num(r[cost_col]) for r in sub],
            mode="markers", name=basis, marker=dict(size=10, color=palette.BASIS.get(basis, palette.OTHER)),
            text=[setup_label(r) for r in sub],
            hovertemplate="%{text}<br>%{x:,.3~r} " + unit + "<br>%{y:$,.0f} per run<extra>%{fullData.name}</extra>",
        ))
    if rows:
        fig.add_annotation(x=(_num(rows[0]["time_to_train_h"]) or 0) / scale, y=_num(rows[0][cost_col]),
                           text="recommended", showarrow=True, arrowhead=2, ax=40, ay=-40)
    if deadline_h:
        fig.add_vline(x=deadline_h / scale, line_dash="dash", line_color=palette.DEMAND,
                      annotation_text=f"deadline {number(deadline_h / scale)} {unit}", annotation_position="top left")
    fig.update_layout(title="Setups: cost per run against time to train", **_LAYOUT)
    fig.update_xaxes(title=f"time to train ({unit})", rangemode="tozero", separatethousands=True)
    fig.update_yaxes(title="USD per run", tickprefix="$", separatethousands=True, rangemode="tozero")
    return fig


def curve_figure(name: str, rows: list[dict]) -> go.Figure | None:
    """A predicted curve (for example throughput against device count) as lines, one per device."""
    if not rows:
        return None
    cols = list(rows[0])
    y_col = "throughput" if "throughput" in cols else None
    x_col = next((c for c in ("count", "batch_size", "device_count", "x") if c in cols
                  and len({r.get(c) for r in rows}) > 1), None)
    if not y_col or not x_col:
        return None
    keys_of = [c for c in ("device", "precision") if c in cols and c != x_col]
    label = lambda r: " ".join(str(r.get(c)) for c in keys_of) or name
    fig = go.Figure()
    for k in sorted({label(r) for r in rows})[:12]:
        sub = sorted((r for r in rows if label(r) == k), key=lambda r: (r.get(x_col) is None, r.get(x_col) or 0))
        fig.add_trace(go.Scatter(x=[r.get(x_col) for r in sub], y=[r.get(y_col) for r in sub], mode="lines+markers", name=k))
    if x_col in ("batch_size", "count"):
        fig.update_xaxes(type="log")
    fig.update_layout(title=f"{name}: {y_col} against {x_col}", **_LAYOUT)
    fig.update_xaxes(title=x_col)
    fig.update_yaxes(title=y_col)
    return fig


def _chart(name: str, title: str, rows: list[dict], fig: go.Figure) -> Chart:
    return Chart(name=name, title=title, data=rows, figure=json.loads(fig.to_json()))


def build_charts(snap: Snapshot) -> list[Chart]:
    unit = str(snap.workload.get("throughput_unit") or "units/s")
    demand = _num(snap.inputs.get("throughput"))
    out = []
    keep = ("rank", "device", "count", "precision", "batch_size", "throughput", "low", "high", "basis",
            "usd_per_month", "energy_kwh_per_month", "meets_demand")
    if snap.plan and snap.plan.ranked and "time_to_train_h" in snap.plan.ranked[0]:
        cost = "usd_per_run_owned" if snap.inputs.get("pricing") == "owned" else "usd_per_run_cloud"
        tkeep = ("device", "count", "precision", "time_to_train_h", "device_hours", cost, "energy_kwh_per_run", "basis")
        rows = [{k: r.get(k) for k in tkeep if k in r} for r in snap.plan.ranked[:MAX_POINTS]]
        return [_chart("training", "Cost per run against time to train", rows,
                       training_figure(rows, cost, _num(snap.inputs.get("deadline_hours"))))]
    if snap.plan and snap.plan.ranked:
        rows = [{k: r.get(k) for k in keep if k in r} for r in snap.plan.ranked[:MAX_POINTS]]
        out.append(_chart("setups", "Monthly cost against throughput", rows, setups_figure(rows, demand, unit)))
    if snap.plan and snap.plan.pareto:
        rows = [{k: r.get(k) for k in keep if k in r} for r in snap.plan.pareto[:MAX_POINTS]]
        if any(_num(r.get("energy_kwh_per_month")) is not None for r in rows):
            out.append(_chart("pareto", "Pareto-optimal setups: cost against energy", rows, pareto_figure(rows)))
    if snap.estimates:
        rows = [{k: r.get(k) for k in keep if k in r} for r in snap.estimates[:MAX_POINTS]]
        out.append(_chart("compared", "Compared setups: monthly cost against throughput", rows,
                          setups_figure(rows, demand, unit)))
    for name, rows in snap.curves.items():
        fig = curve_figure(name, rows)
        if fig is not None:
            out.append(_chart(f"curve-{len(out)}", f"Curve: {name}", rows[:500], fig))
    return out
