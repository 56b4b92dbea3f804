"""Plan inputs <-> URL query string, so a copied URL reopens the same plan.

Pure functions (`from_query`, `to_query`) do the work and are tested without Streamlit; the
Streamlit glue (`init_widgets`, `sync_query`) only moves values between them and session state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

from hwplan.core.vocab import DEVICE_KINDS as KINDS
from hwplan.core.vocab import MODES, PRICING

DEMAND_FORMS = ("rate", "volume")


@dataclass
class PlanInputs:
    """Everything that decides a plan. Units in names; `None` = no constraint."""

    workload: str = "resnet50"
    mode: str = "inference"
    demand_form: str = "rate"          # rate: throughput given; volume: volume by a deadline
    throughput: float = 10_000.0       # samples/s or tokens/s for the whole setup
    volume: float | None = None        # samples or tokens to process
    deadline_h: float | None = None    # hours to process `volume` in
    latency_ms: float | None = None    # p99 per request
    budget_usd_month: float | None = None
    power_cap_kw: float | None = None
    kinds: list[str] = field(default_factory=lambda: list(KINDS))
    pricing: str = "cloud"

    def required_throughput(self) -> float:
        """The rate the plan must reach: given directly, or volume / deadline."""
        if self.demand_form == "volume" and self.volume and self.deadline_h:
            return float(self.volume) / (float(self.deadline_h) * 3600.0)
        return float(self.throughput)


# query key -> field name (short keys keep shared URLs readable)
QUERY_KEYS = {
    "workload": "workload", "mode": "mode", "demand": "demand_form", "throughput": "throughput",
    "volume": "volume", "deadline_h": "deadline_h", "latency_ms": "latency_ms", "budget": "budget_usd_month",
    "power_kw": "power_cap_kw", "kinds": "kinds", "pricing": "pricing",
}
FIELD_TO_QUERY = {v: k for k, v in QUERY_KEYS.items()}


def _pos_float(text) -> float | None:
    try:
        v = float(str(text).replace(",", "").replace("_", ""))
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def from_query(query: Mapping[str, str | list[str]], known_workloads: set[str] | None = None) -> tuple[PlanInputs, list[str]]:
    """Plan inputs from query parameters; a value that does not parse keeps the default and is named."""
    out = PlanInputs()
    notes: list[str] = []

    def get(key):
        v = query.get(key)
        if isinstance(v, list):
            v = v[-1] if v else None
        return None if v is None or str(v).strip() == "" else str(v).strip()

    if (w := get("workload")) is not None:
        if known_workloads is None or w in known_workloads:
            out.workload = w
        else:
            notes.append(f"workload '{w}' is not known; showing {out.workload}")
    for key, choices in (("mode", MODES), ("pricing", PRICING), ("demand", DEMAND_FORMS)):
        if (v := get(key)) is not None:
            if v in choices:
                setattr(out, QUERY_KEYS[key], v)
            else:
                notes.append(f"{key}='{v}' is not one of {', '.join(choices)}")
    for key in ("throughput", "volume", "deadline_h", "latency_ms", "budget", "power_kw"):
        if (v := get(key)) is not None:
            num = _pos_float(v)
            if num is None:
                notes.append(f"{key}='{v}' is not a positive number; ignored")
            else:
                setattr(out, QUERY_KEYS[key], num)
    if (v := get("kinds")) is not None:
        kinds = [k.strip().lower() for k in v.split(",") if k.strip()]
        bad = [k for k in kinds if k not in KINDS]
        good = [k for k in KINDS if k in kinds]
        if bad:
            notes.append(f"unknown device kind(s) {', '.join(bad)} ignored")
        if good:
            out.kinds = good
    return out, notes


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def to_query(inputs: PlanInputs) -> dict[str, str]:
    """Only what differs from nothing: constraints left open stay out of the URL."""
    q: dict[str, str] = {"workload": inputs.workload, "mode": inputs.mode, "pricing": inputs.pricing}
    if inputs.demand_form == "volume":
        q["demand"] = "volume"
        if inputs.volume:
            q["volume"] = _fmt(inputs.volume)
        if inputs.deadline_h:
            q["deadline_h"] = _fmt(inputs.deadline_h)
    else:
        q["throughput"] = _fmt(inputs.throughput)
    for name in ("latency_ms", "budget_usd_month", "power_cap_kw"):
        v = getattr(inputs, name)
        if v:
            q[FIELD_TO_QUERY[name]] = _fmt(v)
    if sorted(inputs.kinds) != sorted(KINDS):
        q["kinds"] = ",".join(k for k in KINDS if k in inputs.kinds)
    return q


def as_dict(inputs: PlanInputs) -> dict:
    d = asdict(inputs)
    d["required_throughput"] = inputs.required_throughput()
    return d


FIELD_NAMES = tuple(f.name for f in fields(PlanInputs))


# ---- Streamlit glue ---------------------------------------------------------------------------

WIDGET_PREFIX = "plan_"
SAVED_KEY = "plan_inputs"  # survives page switches (widget state does not)


def init_widgets(session, query: Mapping, known_workloads: set[str]) -> list[str]:
    """Fill the Plan widgets' state: from the URL on the session's first visit, else from the last
    values this session used. Returns notes about query values that were ignored."""
    notes: list[str] = []
    if SAVED_KEY not in session:
        inputs, notes = from_query(query, known_workloads)
        if inputs.workload not in known_workloads and known_workloads:
            inputs.workload = sorted(known_workloads)[0]
        session[SAVED_KEY] = asdict(inputs)
    saved = session[SAVED_KEY]
    for name in FIELD_NAMES:
        key = WIDGET_PREFIX + name
        if key not in session:
            session[key] = saved[name]
    return notes


def read_widgets(session) -> PlanInputs:
    values = {name: session.get(WIDGET_PREFIX + name) for name in FIELD_NAMES}
    base = PlanInputs()
    for name, v in values.items():
        if v is None and name in ("workload", "mode", "demand_form", "throughput", "kinds", "pricing"):
            values[name] = getattr(base, name)
    values["kinds"] = list(values["kinds"] or [])
    inputs = PlanInputs(**values)
    session[SAVED_KEY] = asdict(inputs)
    return inputs


def sync_query(query_params, inputs: PlanInputs) -> None:
    """Write the inputs into the URL (only when they changed, so no extra rerun)."""
    want = to_query(inputs)
    have = {k: query_params.get(k) for k in query_params} if hasattr(query_params, "keys") else {}
    if have != want:
        query_params.from_dict(want)
