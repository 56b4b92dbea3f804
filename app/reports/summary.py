"""The manager's summary, derived from a snapshot alone: what to buy or rent, what it costs, how
sure we are, what else was considered and why it lost, what could go wrong.

Every renderer (HTML, PDF, Markdown, the dashboard view) shows this same structure, so the four
outputs never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hwplan.app.reports.model import Snapshot
from hwplan.app.reports.tco import carbon_text, power_text, tco_of
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
    "host_usd_per_node": ("Host server per 8-device node", lambda v: fmt.usd(v)),
    "network_usd_per_node": ("Scale-out network per node", lambda v: fmt.usd(v)),
    "facility_usd_per_kw": ("Facility build", lambda v: f"{fmt.usd(v)} per kW"),
    "facility_life_years": ("Facility write-off", lambda v: f"{v:g} years"),
    "maintenance_fraction": ("Maintenance", lambda v: f"{fmt.pct(v)} of hardware capex a year"),
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
    tco: list[dict[str, str]] = field(default_factory=list)            # term, capex, owned / month (total last)
    cost_basis: list[tuple[str, str]] = field(default_factory=list)    # label, text: price, break-even, power, carbon
    price_stale: bool = False
    training: bool = False  # a training run: figures per run (time to train, cost, energy), not per month


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
    reasons += _cost_gap(month_cost(r, snap), month_cost(best, snap), "month", snap)
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


def is_training(snap: Snapshot) -> bool:
    """A saved plan of a training run (its ranked rows carry a time to train, not a monthly cost)."""
    if snap.kind != "plan":
        return False
    if str(snap.inputs.get("mode") or "") == "training":
        return True
    rows = (snap.plan.ranked + snap.plan.nearest) if snap.plan else []
    return bool(rows) and "time_to_train_h" in rows[0]


def run_cost(r: dict, snap: Snapshot, which: str | None = None) -> float | None:
    """A training setup's cost per run, at the report's pricing (or `which`)."""
    return num(r.get(f"usd_per_run_{which or pricing(snap)}"))


def duration_h(hours: object) -> str:
    """Hours as a person reads a run's length: '14 h', '25.6 days'."""
    h = num(hours)
    return fmt.MISSING if h is None else fmt.seconds(h * 3600)


def training_layout(r: dict) -> str:
    """'DP 104 × TP 1 × PP 2, ZeRO-3, selective recompute'."""
    dp, tp, pp = (num(r.get(k)) for k in ("data_parallel", "tensor_parallel", "pipeline_parallel"))
    if dp is None or tp is None or pp is None:
        return fmt.MISSING
    zero = num(r.get("zero_stage"))
    rec = str(r.get("recompute") or "")
    return (f"DP {fmt.count(dp)} × TP {fmt.count(tp)} × PP {fmt.count(pp)}, "
            + (f"ZeRO-{fmt.count(zero)}" if zero else "no ZeRO")
            + ("" if not rec else ", no recompute" if rec == "none" else f", {rec} recompute"))


def _run_volume(snap: Snapshot) -> str:
    i = snap.inputs
    for key, word in (("token_volume", "tokens"), ("samples", "samples"), ("epochs", "epochs")):
        v = num(i.get(key))
        if v is not None:
            return f"{fmt.number(v) if key == 'epochs' else fmt.count(v)} {word}"
    v = num(i.get("train_volume"))  # the dashboard's own name, where the Demand's are missing
    if v is not None:
        return f"{fmt.count(v)} {i.get('train_unit') or 'units'}"
    return "the benchmark's reference run"


def _deadline_h(snap: Snapshot) -> float | None:
    return num(snap.inputs.get("deadline_hours"))


def _cost_gap(c_r, c_b, per: str, snap: Snapshot) -> list[str]:
    """'+$1,234 per month (+12%) in cloud cost' for a runner-up against the recommendation, or nothing."""
    if c_r is None or not c_b:
        return []
    diff = c_r - c_b
    return [f"{'+' if diff >= 0 else '−'}{fmt.usd(abs(diff))} per {per} ({fmt.pct(diff / c_b, signed=True)}) "
            f"in {pricing(snap)} cost"]


def _training_lost(r: dict, best: dict, snap: Snapshot) -> str:
    reasons = []
    reasons += _cost_gap(run_cost(r, snap), run_cost(best, snap), "run", snap)
    t_r, t_b = num(r.get("time_to_train_h")), num(best.get("time_to_train_h"))
    if t_r is not None and t_b:
        reasons.append(f"time to train {duration_h(t_r)} vs {duration_h(t_b)}")
    if r.get("basis") and best.get("basis") and r.get("basis") != best.get("basis"):
        reasons.append(f"estimate basis {r['basis']} (recommended: {best['basis']})")
    return "; ".join(reasons) or "ranked lower by the planner"


def _training_breaks(r: dict, snap: Snapshot) -> str:
    out = []
    deadline = _deadline_h(snap)
    t = num(r.get("time_to_train_h"))
    if r.get("meets_deadline") is False or (deadline and t and t > deadline):
        out.append(f"misses the deadline: {duration_h(t)} against {duration_h(deadline)}")
    budget, c = num(snap.inputs.get("budget_usd")), run_cost(r, snap)
    if budget is not None and c is not None and c > budget:
        out.append(f"over the budget: {fmt.usd(c, 'run')} against {fmt.usd(budget, 'run')}")
    if r.get("priced") is False:
        out.append(f"no {pricing(snap)} price in the catalog")
    return "; ".join(out) or "breaks a constraint"


def _training_row(r: dict, snap: Snapshot, why: str) -> dict[str, str]:
    return {"setup": setup_label(r), "time to train": duration_h(r.get("time_to_train_h")),
            "cost / run": fmt.usd(run_cost(r, snap)), "why it lost": why}


def training_summary(snap: Snapshot, s: Summary, rows: list[dict]) -> Summary:
    """The first page of a training plan: time to train, device-hours, cost, energy and CO₂ per run."""
    wl = snap.inputs.get("workload") or snap.workload.get("id") or "?"
    deadline = _deadline_h(snap)
    s.training = True
    s.assumptions = [(k, v) for k, v in s.assumptions if k != "Hours per month"]  # a run is not held by the month
    s.subtitle = (f"Training plan for {wl}: {_run_volume(snap)}, "
                  + (f"deadline {fmt.number(deadline)} h" + (f" ({fmt.number(deadline / 24)} days)" if deadline >= 48
                                                             else "") if deadline else "no deadline")
                  + f"; saved {snap.created_at}{' by ' + snap.author if snap.author else ''}")
    if not s.feasible:
        s.headline = "No setup finishes the run within every constraint. " + (snap.plan.why if snap.plan else "")
        for r in (snap.plan.nearest if snap.plan else [])[:RUNNERS_UP + 2]:
            s.runners_up.append(_training_row(r, snap, _training_breaks(r, snap)))
        s.risks.append("Nothing was recommended: a later deadline, a larger budget per run or more device kinds "
                       "would let a setup through; the fastest setups are listed above.")
        return s
    best = rows[0]
    dev = snap.device_row(str(best.get("device")))
    name = dev.get("model") or best.get("device")
    count = int(num(best.get("count")) or 1)
    cost = run_cost(best, snap)
    s.headline = (f"Recommended: {count} × {name} at {best.get('precision') or '?'}, trains in "
                  f"{duration_h(best.get('time_to_train_h'))}"
                  + (f" for {fmt.usd(cost, 'run')} ({pricing(snap)})" if cost is not None else ""))
    s.why = snap.plan.why if snap.plan else ""
    s.bom.append({"device": str(name), "catalog id": str(best.get("device")),
                  "kind": str(best.get("kind") or dev.get("kind") or ""), "count": str(count),
                  "precision": str(best.get("precision") or ""), "layout": training_layout(best)})
    cloud, owned = run_cost(best, snap, "cloud"), run_cost(best, snap, "owned")
    s.figures += [
        ("Time to train", duration_h(best.get("time_to_train_h"))),
        ("Device-hours", fmt.count(best.get("device_hours"))),
        ("Cost per run, cloud", fmt.usd(cloud, "run") if cloud is not None else "no cloud price in the catalog"),
        ("Cost per run, ownership", fmt.usd(owned, "run") if owned is not None else "no list price in the catalog"),
        ("Energy per run", fmt.kwh(best.get("energy_kwh_per_run"))),
        ("CO₂ per run", fmt.co2(best.get("co2_kg_per_run"))),
        ("MFU", fmt.pct(best.get("mfu"))),
        ("Power at load", fmt.kw(best.get("power_kw"))),
    ]
    t = num(best.get("time_to_train_h"))
    if deadline:
        s.targets.append({"measure": "Deadline", "target": duration_h(deadline), "estimate": duration_h(t),
                          "verdict": "meets it" if t is not None and t <= deadline else "misses it"})
    budget = num(snap.inputs.get("budget_usd"))
    if budget is not None:
        s.targets.append({"measure": "Budget per run", "target": fmt.usd(budget, "run"), "estimate": fmt.usd(cost, "run"),
                          "verdict": "within" if cost is not None and cost <= budget else "over"})
    cap = num(snap.inputs.get("power_cap_kw"))
    if cap is not None:
        p = num(best.get("power_kw"))
        s.targets.append({"measure": "Power", "target": fmt.kw(cap), "estimate": fmt.kw(p),
                          "verdict": "within" if p is not None and p <= cap else "over"})
    for r in _runners_up(rows):
        s.runners_up.append(_training_row(r, snap, _training_lost(r, best, snap)))
    basis = str(best.get("basis") or "")
    if basis:
        s.risks.append("Basis of the estimate: " + BASIS_MEANING.get(basis, basis) + ".")
    if dev and num(dev.get("cloud_usd_per_hour")) is not None:
        s.risks.append(f"Cloud price of {dev.get('id')}: ${num(dev.get('cloud_usd_per_hour')):g} per device-hour, "
                       f"{dev.get('cloud_price_date') or 'undated'}; on-demand list price, discounts not included.")
    s.risks.append("Time to train assumes the run converges in the volume given (or the benchmark's reference "
                   "convergence) with no restarts; failures, checkpoints and evaluation add time and cost.")
    s.risks.append("Energy includes the facility overhead (PUE); cloud cost counts every device-hour of the run.")
    return s


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
    if is_training(snap):
        return training_summary(snap, s, rows)
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
    tco_part(snap, s, best, dev)
    s.risks = _risks(snap, best, dev, demand)
    return s


def cloud_source(dev: dict) -> str:
    """A catalog row's cloud price: '$1.9 per device-hour: lambda gpu_1x_a100, us-east-1, 2025-06-01 (stale)'."""
    usd_h = num(dev.get("cloud_usd_per_hour")) if dev else None
    if usd_h is None:
        return ""
    where = " ".join(str(dev.get(k) or "") for k in ("cloud_provider", "cloud_instance", "cloud_region")).strip()
    return (f"${usd_h:g} per device-hour: {where or 'catalog'}, {dev.get('cloud_price_date') or 'undated'}"
            + (" (stale)" if dev.get("cloud_price_stale") else ""))


def price_text(best: dict, dev: dict, pricing: str = "cloud") -> str:
    """Where the recommendation's cloud price comes from: a cloud plan's own basis (provider, instance, region, date,
    or your override), else the catalog row's provider, instance, region and date; '(stale)' when flagged."""
    basis = str(best.get("price_basis") or "") if pricing == "cloud" else ""
    if not basis:
        return cloud_source(dev) or "no cloud price"
    usd_h = num(dev.get("cloud_usd_per_hour")) if dev else None
    return (f"${usd_h:g} per device-hour: " if usd_h is not None and "override" not in basis else "") + basis


def is_stale(best: dict, dev: dict, pricing: str = "cloud") -> bool:
    flag = best.get("price_stale") if pricing == "cloud" else None
    if flag is None and dev:
        flag = dev.get("cloud_price_stale")
    return bool(flag) if flag is not None else False


def tco_part(snap: Snapshot, s: Summary, best: dict, dev: dict) -> None:
    """The recommendation's TCO breakdown and the bases of its cost figures (price, break-even, power, carbon)."""
    life = num(snap.assumption("life_years"))
    t = tco_of(best, life, num(snap.assumption("facility_life_years")))
    if t.has_owned() or t.capex_total is not None:
        s.tco = t.rows()
    which = pricing(snap)
    if which == "owned" and best.get("price_basis"):
        s.cost_basis.append(("Purchase price", str(best["price_basis"])))
    s.price_stale = is_stale(best, dev, which)
    price = price_text(best, dev, which)
    if s.price_stale:
        price += " — STALE: older than 365 days or undated; check it before signing"
    s.cost_basis.append(("Cloud price", price))
    if t.cloud_month is not None or t.capex_total is not None:
        s.cost_basis.append(("Break-even", t.breakeven_text()))
    s.cost_basis.append(("Power", power_text(best)))
    given = num(snap.assumption("carbon_kg_per_kwh"))
    region = snap.assumption("region")
    if region or given is not None:
        s.cost_basis.append(("Carbon region", carbon_text(region, given, num(snap.assumption("carbon_intensity_used")))))


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
        where = " ".join(str(dev.get(k) or "") for k in ("cloud_provider", "cloud_instance", "cloud_region")).strip()
        if num(dev.get("cloud_usd_per_hour")) is not None:
            out.append(f"Cloud price of {dev.get('id')}: ${num(dev.get('cloud_usd_per_hour')):g} per device-hour"
                       f"{' (' + where + ')' if where else ''}, {when}"
                       + (" (stale: older than 365 days or undated)" if dev.get("cloud_price_stale") else "")
                       + "; on-demand list price, discounts not included.")
        if num(dev.get("price_usd")) is None:
            out.append(f"No purchase price for {dev.get('id')} in the catalog: the ownership cost leaves hardware out "
                       "unless a price override is set.")
    overrides = snap.assumption("price_overrides") or {}
    if overrides:
        out.append("Price overrides in effect: " + ", ".join(sorted(overrides)) + ".")
    out.append("Energy includes the facility overhead (PUE); cloud cost assumes the capacity is held every hour of the month.")
    return out
