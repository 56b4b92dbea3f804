"""The manager's summary, derived from a snapshot alone: what to buy or rent, what it costs, how
sure we are, what else was considered and why it lost, what could go wrong.

Every renderer (HTML, PDF, Markdown, the dashboard view) shows this same structure, so the four
outputs never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hwplan.app.reports.model import Snapshot
from hwplan.app.reports.text import cell, setup_label
from hwplan.core import fmt
from hwplan.core.fmt import num

BASIS_MEANING = {
    "measured": "measured: this device ran this workload (profiler, upload or published run)",
    "calibrated": "calibrated: fitted from measurements of other devices of the same kind and generation; "
                  "this device was not measured on this workload",
    "roofline": "roofline: from the device's specifications only; no measurement informs it, so treat it as "
                "a rough guide",
}
ASSUMPTION_LABELS = {
    "electricity_usd_per_kwh": ("Electricity", lambda v: f"${v:g} per kWh"),
    "pue": ("PUE", lambda v: f"{v:g}"),
    "utilisation": ("Utilisation of owned hardware", lambda v: fmt.pct(v)),
    "carbon_kg_per_kwh": ("Carbon intensity", lambda v: f"{v:g} kg CO₂ per kWh"),
    "life_years": ("Write-off period", lambda v: f"{v:g} years"),
    "hours_per_month": ("Hours per month", lambda v: f"{v:g}"),
}
RUNNERS_UP = 3


@dataclass
class Summary:
    title: str
    subtitle: str
    feasible: bool
    headline: str
    unit: str
    why: str = ""
    bom: list[dict[str, str]] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)       # label, value
    targets: list[dict[str, str]] = field(default_factory=list)        # measure, target, estimate, interval, verdict
    runners_up: list[dict[str, str]] = field(default_factory=list)     # setup, monthly cost, energy, why it lost
    risks: list[str] = field(default_factory=list)
    assumptions: list[tuple[str, str]] = field(default_factory=list)   # label, value


def _rows(snap: Snapshot) -> list[dict[str, Any]]:
    """Setups best first: the plan's ranking, or compared setups by monthly cost among those meeting the demand."""
    if snap.plan is not None:
        return sorted(snap.plan.ranked, key=lambda r: num(r.get("rank")) or 0)
    demand = num(snap.inputs.get("throughput"))

    def key(r):
        meets = r.get("meets_demand")
        if meets is None and demand is not None:
            meets = (num(r.get("throughput")) or 0) >= demand
        return (0 if meets in (True, None) else 1, num(month_cost(r, snap)) or float("inf"))

    return sorted(snap.estimates, key=key)


def pricing(snap: Snapshot) -> str:
    return "owned" if str(snap.inputs.get("pricing") or "cloud") == "owned" else "cloud"


def month_cost(r: dict, snap: Snapshot, which: str | None = None) -> float | None:
    which = which or pricing(snap)
    v = num(r.get(f"usd_per_month_{which}"))
    if v is None and which == pricing(snap):
        v = num(r.get("usd_per_month"))
    return v


def _latency_target_s(snap: Snapshot) -> float | None:
    ms = num(snap.inputs.get("latency_p99_ms", snap.inputs.get("latency_ms")))  # the dashboard's PlanInputs says latency_ms
    return ms / 1e3 if ms is not None else None


def _reasons_lost(r: dict, best: dict, snap: Snapshot) -> str:
    reasons = []
    if r.get("meets_demand") is False:
        reasons.append("does not reach the demanded throughput")
    c_r, c_b = month_cost(r, snap), month_cost(best, snap)
    if c_r is not None and c_b:
        diff = c_r - c_b
        reasons.append(f"{'+' if diff >= 0 else '−'}{fmt.usd(abs(diff))} per month ({fmt.pct(diff / c_b, signed=True)}) "
                       f"in {pricing(snap)} cost")
    e_r, e_b = num(r.get("energy_kwh_per_month")), num(best.get("energy_kwh_per_month"))
    if e_r is not None and e_b:
        reasons.append(f"energy {fmt.pct((e_r - e_b) / e_b, signed=True)}")
    l_r, l_b = num(r.get("latency_p99_s")), num(best.get("latency_p99_s"))
    if l_r is not None and l_b is not None and _latency_target_s(snap) is not None:
        reasons.append(f"p99 latency {fmt.ms(l_r)} vs {fmt.ms(l_b)}")
    if r.get("basis") and best.get("basis") and r.get("basis") != best.get("basis"):
        reasons.append(f"estimate basis {r['basis']} (recommended: {best['basis']})")
    return "; ".join(reasons) or "ranked lower by the planner"


def _runners_up(rows: list[dict]) -> list[dict]:
    """The next options a manager would weigh: other hardware first, then other counts or precisions."""
    best = rows[0]
    seen = {best.get("device")}
    out = []
    for r in rows[1:]:
        if r.get("device") not in seen:
            seen.add(r.get("device"))
            out.append(r)
    for r in rows[1:]:
        if len(out) >= RUNNERS_UP:
            break
        if r not in out:
            out.append(r)
    return out[:RUNNERS_UP]


def _breaks(r: dict) -> str:
    b = r.get("breaks")
    if isinstance(b, (list, tuple)):
        return "; ".join(str(x) for x in b)
    return str(b or "breaks a constraint")


def build_summary(snap: Snapshot) -> Summary:
    unit = str(snap.workload.get("throughput_unit") or "units/s")
    rows = _rows(snap)
    demand = num(snap.inputs.get("throughput"))
    wl = snap.inputs.get("workload") or snap.workload.get("id") or "?"
    what = "Comparison" if snap.kind == "compare" else "Plan"
    subtitle = (f"{what} for {wl} ({snap.inputs.get('mode') or 'inference'}), demand "
                f"{fmt.rate(demand, unit) if demand is not None else 'not given'}; "
                f"saved {snap.created_at}{' by ' + snap.author if snap.author else ''}")
    feasible = bool(rows) and (snap.plan is None or snap.plan.feasible is not False)
    s = Summary(title=snap.title, subtitle=subtitle, feasible=feasible, headline="", unit=unit)
    for a in snap.assumptions:
        if a.get("field") in ASSUMPTION_LABELS and num(a.get("value")) is not None:
            label, show = ASSUMPTION_LABELS[a["field"]]
            s.assumptions.append((label, show(float(a["value"]))))
    if not feasible:
        why = snap.plan.why if snap.plan else ""
        s.headline = "No setup meets every target. " + (why or "")
        for r in (snap.plan.nearest if snap.plan else [])[:RUNNERS_UP + 2]:
            s.runners_up.append({"setup": setup_label(r), "monthly cost": fmt.usd(month_cost(r, snap)),
                                 "energy / month": fmt.kwh(r.get("energy_kwh_per_month")), "why it lost": _breaks(r)})
        s.risks.append("Nothing was recommended: relax the binding constraint"
                       + (f" ({snap.plan.binding})" if snap.plan and snap.plan.binding else "") + " or widen the device kinds.")
        return s

    best = rows[0]
    dev = snap.device_row(str(best.get("device")))
    name = dev.get("model") or best.get("device")
    count = int(num(best.get("count")) or 1)
    s.headline = (f"{'Recommended' if snap.kind == 'plan' else 'Best of the compared setups'}: "
                  f"{count} × {name} at {best.get('precision') or '?'}"
                  + (f", {fmt.usd(month_cost(best, snap), 'month')} ({pricing(snap)})"
                     if month_cost(best, snap) is not None else ""))
    if snap.plan and snap.plan.why:
        s.why = snap.plan.why
    s.bom.append({"device": str(name), "catalog id": str(best.get("device")),
                  "kind": str(best.get("device_kind") or dev.get("kind") or ""),
                  "count": str(count), "precision": str(best.get("precision") or ""),
                  "batch size": cell(best.get("batch_size"))})

    cloud, owned = month_cost(best, snap, "cloud"), month_cost(best, snap, "owned")
    s.figures += [
        ("Monthly cost, cloud", fmt.usd(cloud, "month") if cloud is not None else "no cloud price in the catalog"),
        ("Monthly cost, ownership", fmt.usd(owned, "month") if owned is not None else "no list price in the catalog"),
        ("Energy per month", fmt.kwh(best.get("energy_kwh_per_month"))),
        ("CO₂ per month", fmt.co2(best.get("co2_kg_per_month"))),
        ("Power at load", fmt.kw(best.get("power_kw"))),
        ("Cost per million " + unit.split("/")[0], fmt.usd(best.get("usd_per_million_units"))),
    ]

    lo, hi, x = num(best.get("low")), num(best.get("high")), num(best.get("throughput"))
    verdict = "–"
    if demand is not None and x is not None:
        verdict = ("meets it across the interval" if lo is not None and lo >= demand else
                   "meets it at the estimate; the low end of the interval does not" if x >= demand else "below target")
    s.targets.append({"measure": "Throughput", "target": fmt.rate(demand, unit) if demand is not None else "–",
                      "estimate": fmt.rate(x, unit), "80% interval": fmt.interval(lo, hi, unit), "verdict": verdict})
    lat_t, lat = _latency_target_s(snap), num(best.get("latency_p99_s"))
    if lat is not None or lat_t is not None:
        v = "–" if lat is None or lat_t is None else ("meets it" if lat <= lat_t else "above target")
        s.targets.append({"measure": "p99 latency", "target": fmt.ms(lat_t), "estimate": fmt.ms(lat),
                          "80% interval": "–", "verdict": v})
    budget = num(snap.inputs.get("budget_usd_month"))
    if budget is not None:
        c = month_cost(best, snap)
        s.targets.append({"measure": "Budget", "target": fmt.usd(budget, "month"), "estimate": fmt.usd(c, "month"),
                          "80% interval": "–", "verdict": "within" if c is not None and c <= budget else "over"})
    cap = num(snap.inputs.get("power_cap_kw"))
    if cap is not None:
        p = num(best.get("power_kw"))
        s.targets.append({"measure": "Power", "target": fmt.kw(cap), "estimate": fmt.kw(p), "80% interval": "–",
                          "verdict": "within" if p is not None and p <= cap else "over"})

    for r in _runners_up(rows):
        s.runners_up.append({"setup": setup_label(r), "monthly cost": fmt.usd(month_cost(r, snap)),
                             "energy / month": fmt.kwh(r.get("energy_kwh_per_month")),
                             "why it lost": _reasons_lost(r, best, snap)})
    for r in (snap.plan.nearest if snap.plan else [])[:2]:
        s.runners_up.append({"setup": setup_label(r), "monthly cost": fmt.usd(month_cost(r, snap)),
                             "energy / month": fmt.kwh(r.get("energy_kwh_per_month")), "why it lost": "excluded: " + _breaks(r)})
    s.risks = _risks(snap, best, dev, demand)
    return s


def _risks(snap: Snapshot, best: dict, dev: dict, demand: float | None) -> list[str]:
    out = []
    basis = str(best.get("basis") or "")
    if basis:
        out.append("Basis of the estimate: " + BASIS_MEANING.get(basis, basis) + ".")
    lo, hi, x = num(best.get("low")), num(best.get("high")), num(best.get("throughput"))
    if lo is not None and hi is not None and x:
        out.append(f"80% interval of throughput: {fmt.pct((lo - x) / x, signed=True)} to {fmt.pct((hi - x) / x, signed=True)} "
                   "around the estimate.")
        if demand is not None and lo < demand:
            out.append("The low end of the interval is below the target: plan headroom (one more device) or measure first.")
    ev = [e for e in snap.evidence if e.get("device") == best.get("device")]
    if not ev:
        out.append(f"No measured or published result of {best.get('device')} on this workload is stored; "
                   "the figure is a model estimate.")
    else:
        by_src: dict[str, int] = {}
        for e in ev:
            by_src[str(e.get("source"))] = by_src.get(str(e.get("source")), 0) + 1
        out.append(f"Behind it: {', '.join(f'{n} {k}' for k, n in sorted(by_src.items()))} result(s) for "
                   f"{best.get('device')} on this workload (listed in the detail).")
        if any("precision assumed" in str(e.get("notes") or "") for e in ev):
            out.append("Published results do not state the numeric format; hwplan assumed the lowest precision the "
                       "device supports that usually meets the accuracy target.")
    if dev:
        when = dev.get("cloud_price_date") or "undated"
        where = " ".join(str(dev.get(k) or "") for k in ("cloud_provider", "cloud_region")).strip()
        if num(dev.get("cloud_usd_per_hour")) is not None:
            out.append(f"Cloud price of {dev.get('id')}: ${num(dev.get('cloud_usd_per_hour')):g} per device-hour"
                       f"{' (' + where + ')' if where else ''}, {when}; on-demand list price, discounts not included.")
        if num(dev.get("price_usd")) is None:
            out.append(f"No purchase price for {dev.get('id')} in the catalog: the ownership cost leaves hardware out "
                       "unless a price override is set.")
    overrides = snap.assumption("price_overrides") or {}
    if overrides:
        out.append("Price overrides in effect: " + ", ".join(sorted(overrides)) + ".")
    out.append("Energy includes the facility overhead (PUE); cloud cost assumes the capacity is held every hour of the month.")
    return out
