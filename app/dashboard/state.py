"""Plan inputs <-> URL query string, so a copied URL reopens the same plan.

Pure functions (`from_query`, `to_query`) do the work and are tested without Streamlit; the
Streamlit glue (`init_widgets`, `sync_query`) only moves values between them and session state.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

from hwplan.core.vocab import DEVICE_KINDS as KINDS
from hwplan.core.vocab import MODES, PRICING
from hwplan.costmodel.llmserve import KV_FORMATS, MAX_REQUEST_TOKENS

DEMAND_FORMS = ("rate", "volume", "requests")  # requests: requests/s, for LLM serving only
OWN_SOURCES = ("config", "short")               # your own LLM: an uploaded config.json, or the short form
TRAIN_UNITS = ("tokens", "samples", "epochs")   # what a training run's volume counts (tokens: LLMs only)
DEADLINE_UNITS = ("hours", "days")
KV_CHOICES = ("auto", *KV_FORMATS)


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
    # LLM serving (an LLM workload in inference, or your own model); None = the benchmark's means / no limit
    request_rate: float | None = None  # requests/s, when demand_form is "requests"
    input_len: int | None = None       # prompt tokens per request
    output_len: int | None = None      # output tokens per request
    ttft_p99_ms: float | None = None
    tpot_p99_ms: float | None = None
    kv_precision: str = "auto"         # auto = the weight format's own KV-cache format
    # your own LLM: "" = a catalog workload; "config" = an uploaded config.json (its facts live in session state,
    # never in the URL); "short" = the short form below
    own: str = ""
    own_params_b: float | None = None  # billions of parameters
    own_layers: int | None = None
    own_hidden: int | None = None
    own_heads: int | None = None
    own_kv_heads: int | None = None    # None = as many as the attention heads
    own_experts: int | None = None     # None or 0 = dense
    own_experts_per_token: int | None = None
    own_active_b: float | None = None  # billions active per token (MoE); None = all
    # training runs (mode "training"): the run's volume in `train_unit` (None = the benchmark's reference run), a
    # deadline in `deadline_unit` (None = none), a budget per run (None = no limit)
    train_volume: float | None = None
    train_unit: str = "tokens"
    train_deadline: float | None = None
    deadline_unit: str = "days"
    budget_usd_run: float | None = None

    @property
    def train_deadline_h(self) -> float | None:
        """The training deadline in hours (None = no deadline)."""
        if not self.train_deadline:
            return None
        return float(self.train_deadline) * (24.0 if self.deadline_unit == "days" else 1.0)

    def required_throughput(self, output_len_mean: float | None = None) -> float:
        """The rate the plan must reach: given directly, volume / deadline, or (LLM) requests/s x output tokens
        per request (the benchmark's mean output length unless given)."""
        if self.demand_form == "requests" and self.request_rate:
            out = self.output_len or output_len_mean
            return float(self.request_rate) * float(out) if out else float("nan")
        if self.demand_form == "volume" and self.volume and self.deadline_h:
            return float(self.volume) / (float(self.deadline_h) * 3600.0)
        return float(self.throughput)


@dataclass(frozen=True)
class NumberField:
    """A number input of the LLM and own-model forms: its URL key, its label and the values it takes."""

    name: str     # PlanInputs field
    query: str    # short URL key
    label: str    # what a person reads, in the widget and in messages
    whole: bool   # a whole number
    low: float    # smallest allowed (inclusive)
    high: float   # largest allowed (inclusive)
    help: str = ""

    def problem(self, value) -> str | None:
        """Why `value` cannot be used (None = it can, or it was left empty)."""
        if value is None:
            return None
        v = float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else float("nan")
        ok = math.isfinite(v) and self.low <= v <= self.high and (not self.whole or v == int(v))
        if ok:
            return None
        kind = "a whole number" if self.whole else "a number"
        return f"{self.label} must be {kind} from {_bound(self.low)} to {_bound(self.high)}; got {value!r}"

    def coerce(self, value):
        """The value in the widget's type (int for whole numbers); call only where `problem` is None."""
        if value is None:
            return None
        return int(float(value)) if self.whole else float(value)


LLM_NUMBERS = (
    NumberField("request_rate", "rps", "Requests/s", False, 0.001, 1e9, "requests arriving per second, whole setup"),
    NumberField("input_len", "in", "Prompt tokens", True, 1, MAX_REQUEST_TOKENS,
                "prompt length per request; empty = the benchmark's mean"),
    NumberField("output_len", "out", "Output tokens", True, 1, MAX_REQUEST_TOKENS,
                "output length per request; empty = the benchmark's mean"),
    NumberField("ttft_p99_ms", "ttft", "TTFT p99 (ms)", False, 0.01, 1e7, "time to first token, p99; empty = no limit"),
    NumberField("tpot_p99_ms", "tpot", "TPOT p99 (ms)", False, 0.01, 1e7,
                "time per output token after the first, p99; empty = no limit"),
)
OWN_NUMBERS = (
    NumberField("own_params_b", "params", "Parameters (billions)", False, 0.001, 1e5, "total, embeddings included"),
    NumberField("own_layers", "layers", "Layers", True, 1, 10_000),
    NumberField("own_hidden", "hidden", "Hidden size", True, 1, 1_000_000, "d_model"),
    NumberField("own_heads", "heads", "Attention heads", True, 1, 100_000),
    NumberField("own_kv_heads", "kvh", "KV heads", True, 1, 100_000, "grouped-query attention; empty = as many as heads"),
    NumberField("own_experts", "experts", "Experts", True, 0, 100_000, "MoE experts; empty or 0 = a dense model"),
    NumberField("own_experts_per_token", "topk", "Experts per token", True, 0, 100_000, "routed experts per token (MoE)"),
    NumberField("own_active_b", "active", "Active parameters (billions)", False, 0.001, 1e5,
                "per token (MoE); empty = all of them"),
)
NUMBERS = {f.name: f for f in LLM_NUMBERS + OWN_NUMBERS}
SHORT_FORM_REQUIRED = ("own_params_b", "own_layers", "own_hidden", "own_heads")


# query key -> field name (short keys keep shared URLs readable)
QUERY_KEYS = {
    "workload": "workload", "mode": "mode", "demand": "demand_form", "throughput": "throughput",
    "volume": "volume", "deadline_h": "deadline_h", "latency_ms": "latency_ms", "budget": "budget_usd_month",
    "power_kw": "power_cap_kw", "kinds": "kinds", "pricing": "pricing", "kv": "kv_precision", "own": "own",
    "train": "train_volume", "train_unit": "train_unit", "deadline": "train_deadline", "deadline_unit": "deadline_unit",
    "budget_run": "budget_usd_run",
    **{f.query: f.name for f in LLM_NUMBERS + OWN_NUMBERS},
}
FIELD_TO_QUERY = {v: k for k, v in QUERY_KEYS.items()}


def _bound(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:g}"


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
    for key, choices in (("mode", MODES), ("pricing", PRICING), ("demand", DEMAND_FORMS), ("kv", KV_CHOICES),
                         ("own", OWN_SOURCES), ("train_unit", TRAIN_UNITS), ("deadline_unit", DEADLINE_UNITS)):
        if (v := get(key)) is not None:
            if v in choices:
                setattr(out, QUERY_KEYS[key], v)
            else:
                notes.append(f"{key}='{v}' is not one of {', '.join(choices)}")
    for key in ("throughput", "volume", "deadline_h", "latency_ms", "budget", "power_kw", "train", "deadline",
                "budget_run"):
        if (v := get(key)) is not None:
            num = _pos_float(v)
            if num is None:
                notes.append(f"{key}='{v}' is not a positive number; ignored")
            else:
                setattr(out, QUERY_KEYS[key], num)
    for spec in LLM_NUMBERS + OWN_NUMBERS:
        if (v := get(spec.query)) is not None:
            try:
                num = float(v.replace(",", "").replace("_", ""))
            except ValueError:
                num = v
            why = spec.problem(num)
            if why:
                notes.append(f"{spec.query}='{v}': {why}; ignored")
            else:
                setattr(out, spec.name, spec.coerce(num))
    if out.own:
        out.mode = "inference"  # your own LLM is planned for serving
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


def to_query(inputs: PlanInputs, serving: bool = True) -> dict[str, str]:
    """Only what differs from nothing: constraints left open stay out of the URL. `serving` (an LLM in inference):
    the LLM fields go in; otherwise they stay out (they would mean nothing for this workload)."""
    q: dict[str, str] = {}
    if inputs.own in OWN_SOURCES:
        q["own"] = inputs.own  # an uploaded config itself never goes in a URL
        if inputs.own == "short":
            for spec in OWN_NUMBERS:
                if getattr(inputs, spec.name) is not None:
                    q[spec.query] = _fmt(getattr(inputs, spec.name))
    else:
        q.update(workload=inputs.workload, mode=inputs.mode)
    q["pricing"] = inputs.pricing
    if inputs.mode == "training" and not inputs.own:
        return {**q, **training_query(inputs)}
    if serving and inputs.demand_form == "requests":
        q["demand"] = "requests"
        if inputs.request_rate:
            q["rps"] = _fmt(inputs.request_rate)
    elif inputs.demand_form == "volume":
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
    if serving:
        for spec in LLM_NUMBERS:
            if spec.name != "request_rate" and getattr(inputs, spec.name) is not None:
                q[spec.query] = _fmt(getattr(inputs, spec.name))
        if inputs.kv_precision != "auto":
            q["kv"] = inputs.kv_precision
    if sorted(inputs.kinds) != sorted(KINDS):
        q["kinds"] = ",".join(k for k in KINDS if k in inputs.kinds)
    return q


def training_query(inputs: PlanInputs) -> dict[str, str]:
    """A training plan's own keys: its volume and unit, its deadline and unit, budget per run, power cap, kinds."""
    q = {"train_unit": inputs.train_unit, "deadline_unit": inputs.deadline_unit}
    for name in ("train_volume", "train_deadline", "budget_usd_run", "power_cap_kw"):
        v = getattr(inputs, name)
        if v:
            q[FIELD_TO_QUERY[name]] = _fmt(v)
    if sorted(inputs.kinds) != sorted(KINDS):
        q["kinds"] = ",".join(k for k in KINDS if k in inputs.kinds)
    return q


def problems(inputs: PlanInputs, serving: bool) -> list[str]:
    """What keeps these inputs from being planned, each as a sentence that says what to change (empty: none)."""
    out: list[str] = []
    if serving or inputs.own:
        for spec in LLM_NUMBERS:
            why = spec.problem(getattr(inputs, spec.name))
            if why:
                out.append(why)
        if inputs.kv_precision not in KV_CHOICES:
            out.append(f"KV-cache precision '{inputs.kv_precision}' is not one of {', '.join(KV_CHOICES)}")
        if inputs.demand_form == "requests" and inputs.request_rate is None:
            out.append("Give the request rate (Requests/s), or choose the demand as tokens/s")
    if inputs.own and inputs.own not in OWN_SOURCES:
        out.append(f"own model source '{inputs.own}' is not one of {', '.join(OWN_SOURCES)}")
    if inputs.own == "short":
        for spec in OWN_NUMBERS:
            why = spec.problem(getattr(inputs, spec.name))
            if why:
                out.append(why)
        missing = [NUMBERS[n].label for n in SHORT_FORM_REQUIRED if getattr(inputs, n) is None]
        if missing:
            out.append(f"The short form needs {', '.join(missing)}")
        p, a = inputs.own_params_b, inputs.own_active_b
        if not out and p and a and a > p:
            out.append(f"Active parameters ({a:g} B) cannot be more than the parameters ({p:g} B)")
    return out


FIELD_NAMES = tuple(f.name for f in fields(PlanInputs))


# ---- the assumption set in the URL: by name and content hash -------------------------------------------------

ASSUMPTION_KEYS = ("assumptions", "ah")  # the set's name; the first 12 hex of the sha256 of its canonical JSON


def assumptions_hash(values: Mapping | None) -> str:
    """The first 12 hex digits of the sha256 of the values' canonical JSON (sorted keys, no spaces); {} and None
    (the defaults) hash alike."""
    text = json.dumps(dict(values or {}), sort_keys=True, separators=(",", ":"), default=str, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def assumption_query(name: str | None, values: Mapping | None) -> dict[str, str]:
    """The URL keys for the assumptions a plan used: a saved set by name and hash; unsaved overrides by hash only;
    the defaults by nothing."""
    if name:
        return {"assumptions": name, "ah": assumptions_hash(values)}
    if values:
        return {"ah": assumptions_hash(values)}
    return {}


def read_assumption_link(query: Mapping) -> tuple[str | None, str | None]:
    """(set name, hash) from a link; (None, None) when it names no assumptions."""
    def get(key):
        v = query.get(key)
        if isinstance(v, list):
            v = v[-1] if v else None
        return str(v).strip() or None if v is not None else None

    return get("assumptions"), get("ah")


def assumption_link_note(name: str | None, want: str | None, current: Mapping | None, found: bool) -> str | None:
    """What differs between the assumptions a link was made with and what this page can use (None: nothing).
    `current`: the named set's values now (found=True), or None when it is not stored."""
    if name and not found:
        return (f"the assumption set '{name}' this link was made with is not stored here (deleted or renamed); "
                "numbers use the default assumptions")
    if name:
        now = assumptions_hash(current)
        if want and want != now:
            return (f"the assumption set '{name}' changed since this link was made (hash {want}, now {now}); "
                    "numbers use its current values")
        return None
    if want and want != assumptions_hash(None):
        return (f"this link was made with unsaved assumption overrides (hash {want}) that a link cannot carry; "
                "numbers use the default assumptions: save the set on the Catalog page and share its link")
    return None


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
    defaults = asdict(PlanInputs())
    for name in FIELD_NAMES:
        key = WIDGET_PREFIX + name
        if key not in session:
            session[key] = saved.get(name, defaults[name])  # a field added since this session saved its inputs
    return notes


def clean_widgets(session) -> list[str]:
    """Put back to empty any number the LLM widgets could not show (out of range, not a number, a wrong type) and
    any choice they do not offer, so no widget fails; returns what was reset and why."""
    notes: list[str] = []
    for spec in NUMBERS.values():
        key = WIDGET_PREFIX + spec.name
        v = session.get(key)
        why = spec.problem(v)
        if why:
            notes.append(f"{why}; it was cleared")
            session[key] = None
        elif v is not None and type(v) is not (int if spec.whole else float):
            session[key] = spec.coerce(v)
    for name, choices, default in (("kv_precision", KV_CHOICES, "auto"), ("own", ("", *OWN_SOURCES), ""),
                                   ("demand_form", DEMAND_FORMS, "rate"), ("train_unit", TRAIN_UNITS, "tokens"),
                                   ("deadline_unit", DEADLINE_UNITS, "days")):
        key = WIDGET_PREFIX + name
        if key in session and session[key] is not None and session[key] not in choices:
            notes.append(f"{name} '{session[key]}' is not one of {', '.join(c for c in choices if c)}; it was reset")
            session[key] = default
    return notes


def read_widgets(session) -> PlanInputs:
    values = {name: session.get(WIDGET_PREFIX + name) for name in FIELD_NAMES}
    base = PlanInputs()
    for name, v in values.items():
        if v is None and name in ("workload", "mode", "demand_form", "throughput", "kinds", "pricing", "kv_precision",
                                  "own", "train_unit", "deadline_unit"):
            values[name] = getattr(base, name)
    values["kinds"] = list(values["kinds"] or [])
    inputs = PlanInputs(**values)
    session[SAVED_KEY] = asdict(inputs)
    return inputs


def sync_query(query_params, inputs: PlanInputs, serving: bool = True, extra: Mapping | None = None) -> None:
    """Write the inputs (and `extra`: the assumption keys) into the URL, only when they changed (no extra rerun)."""
    want = {**to_query(inputs, serving), **dict(extra or {})}
    have = {k: query_params.get(k) for k in query_params} if hasattr(query_params, "keys") else {}
    if have != want:
        query_params.from_dict(want)
