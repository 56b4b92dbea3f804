"""What the Plan view hands the cost model: assumptions, the workload (your own LLM added to the model when there
is one) and a demand built from its inputs, and the plan's server time (the dashboard benchmark reads it). No cost
arithmetic lives here."""

from __future__ import annotations

import math
import re
import time
from dataclasses import asdict, dataclass

from hwplan.app.dashboard.state import NUMBERS, SHORT_FORM_REQUIRED, PlanInputs
from hwplan.core.errors import HwplanError
from hwplan.costmodel import api, llmconfig
from hwplan.costmodel.assumptions import Assumptions


def make_assumptions(values: dict | None) -> Assumptions:
    """An Assumptions object from a plain dict (session overrides); None = the defaults."""
    return Assumptions(**(values or {}))


@dataclass(frozen=True)
class Target:
    """What a plan runs on: the model (knowing your own LLM when there is one) and the workload id it plans."""

    model: object
    workload: str
    serving: bool                  # an LLM in inference: request shape, TTFT / TPOT and requests/s apply
    unit: str                      # the workload's throughput unit (tokens/s for LLMs)
    in_len_mean: float | None      # the benchmark's (or planning default) tokens per request; None for non-LLMs
    out_len_mean: float | None
    reference: str | None = None   # your config has the architecture of this reference workload
    facts: dict | None = None      # your own LLM's architecture facts (hwplan.costmodel.llmconfig)
    name: str = ""                 # your own LLM's name


def short_form_facts(inputs: PlanInputs) -> dict:
    """Architecture facts from the short form (parameters in billions); ConfigError names the field."""
    for name in SHORT_FORM_REQUIRED:
        if getattr(inputs, name) is None:
            raise llmconfig.ConfigError("short form", NUMBERS[name].label, "is missing", "a number > 0")
    billions = lambda v: None if v is None else float(v) * 1e9
    try:
        return llmconfig.from_short_form(
            params=billions(inputs.own_params_b), layers=int(inputs.own_layers), d_model=int(inputs.own_hidden),
            n_heads=int(inputs.own_heads), n_kv_heads=inputs.own_kv_heads or None, n_experts=inputs.own_experts or 0,
            experts_per_token=inputs.own_experts_per_token or 0, active_params=billions(inputs.own_active_b))
    except llmconfig.ConfigError as err:  # name the fields as the form labels them
        text = re.sub(r"\b(" + "|".join(SHORT_FORM_LABELS) + r")\b", lambda m: SHORT_FORM_LABELS[m.group(1)],
                      str(err).removeprefix("short form: "))
        field = SHORT_FORM_LABELS.get(err.field, err.field)
        raise llmconfig.ConfigError("short form", field, text.removeprefix(f"{field}: ")) from None


# llmconfig.from_short_form's argument names -> the short form's labels (longest first, for the regex)
SHORT_FORM_LABELS = {"experts_per_token": "Experts per token", "active_params": "Active parameters",
                     "n_kv_heads": "KV heads", "n_experts": "Experts", "n_heads": "Attention heads",
                     "d_model": "Hidden size", "layers": "Layers", "params": "Parameters"}


def own_facts(inputs: PlanInputs, uploaded: dict | None = None) -> tuple[dict, str]:
    """(facts, name) of your own LLM: the uploaded config.json's (kept in session state) or the short form's."""
    if inputs.own == "config":
        if not uploaded or not uploaded.get("facts"):
            raise HwplanError("upload your model's config.json in the sidebar (a link cannot carry the file)")
        return uploaded["facts"], str(uploaded.get("name") or "model")
    if inputs.own == "short":
        return short_form_facts(inputs), f"your {inputs.own_params_b:g}B model"
    raise HwplanError(f"own model source '{inputs.own}' is not one of config, short")


def target(model, inputs: PlanInputs, uploaded: dict | None = None) -> Target:
    """The model and workload a plan runs on. Raises HwplanError (ConfigError for a config) naming what is wrong."""
    reference = facts = None
    name = ""
    if inputs.own:
        facts, name = own_facts(inputs, uploaded)
        model, wid, reference = api.custom_workload(model, facts, name=name, input_len=inputs.input_len,
                                                    output_len=inputs.output_len)
    else:
        wid = inputs.workload
    w = model.workload_index(wid)
    llm = bool(model.wl_["is_llm"][w])
    mean = lambda key: float(model.wl_[key][w]) if llm and math.isfinite(float(model.wl_[key][w])) else None
    return Target(model=model, workload=wid, serving=llm and (bool(inputs.own) or inputs.mode == "inference"),
                  unit=str(model.wl_["unit"][w]), in_len_mean=mean("in_len"), out_len_mean=mean("out_len"),
                  reference=reference, facts=facts, name=name)


def is_training(inputs: PlanInputs) -> bool:
    """A training run is planned (your own LLM is planned for serving only)."""
    return inputs.mode == "training" and not inputs.own


def training_demand(inputs: PlanInputs, workload: str):
    """The Demand of a training run: its volume (tokens, samples or epochs; none = the benchmark's reference run),
    the deadline in hours, a budget per run, pricing and device kinds."""
    volume = {f"{inputs.train_unit}": inputs.train_volume} if inputs.train_volume else {}
    return api.Demand(workload=workload, mode="training", token_volume=volume.get("tokens"),
                      samples=volume.get("samples"), epochs=volume.get("epochs"),
                      deadline_hours=inputs.train_deadline_h, budget_usd=inputs.budget_usd_run,
                      power_cap_kw=inputs.power_cap_kw, kinds=list(inputs.kinds) or None, pricing=inputs.pricing)


# the cost model names its training inputs as the CLI spells them; the dashboard says what its widgets say
TRAINING_FLAG_WORDS = {"--tokens T (tokens to train on)": "the tokens to train on",
                       "--samples S or --epochs E": "the samples or epochs to train on",
                       "--tokens": "tokens", "--samples": "samples", "--epochs": "epochs",
                       "--deadline-hours": "the deadline", "--budget-usd": "the budget per run"}


def training_message(err: Exception) -> str:
    """A cost-model error about a training run, in the dashboard's words."""
    text = str(err)
    for flag, words in TRAINING_FLAG_WORDS.items():
        text = text.replace(flag, words)
    return text


def has_reference_run(workload: str) -> bool:
    """Whether the workload has a benchmark's reference training run (planned when no volume is given)."""
    from hwplan.costmodel import trainrun

    return workload in set(trainrun.reference_runs()["workload"])


def make_demand(inputs: PlanInputs, tgt: Target | None = None):
    """The cost model's Demand. LLM fields go in only when `tgt` is LLM serving (they mean nothing otherwise)."""
    if is_training(inputs):
        return training_demand(inputs, tgt.workload if tgt else inputs.workload)
    serving = bool(tgt and tgt.serving)
    requests = serving and inputs.demand_form == "requests"
    volume = not requests and inputs.demand_form == "volume" and inputs.volume and inputs.deadline_h
    kwargs = dict(workload=tgt.workload if tgt else inputs.workload,
                  throughput=None if (volume or requests) else inputs.throughput,
                  mode="inference" if inputs.own else inputs.mode, latency_p99_ms=inputs.latency_ms,
                  budget_usd_month=inputs.budget_usd_month, power_cap_kw=inputs.power_cap_kw,
                  kinds=list(inputs.kinds) or None, pricing=inputs.pricing)
    if volume:
        kwargs.update(token_volume=inputs.volume, deadline_hours=inputs.deadline_h)
    if requests:
        kwargs.update(request_rate=inputs.request_rate)
    if serving:
        kwargs.update(ttft_p99_ms=inputs.ttft_p99_ms, tpot_p99_ms=inputs.tpot_p99_ms, input_len=inputs.input_len,
                      output_len=inputs.output_len,
                      kv_precision=None if inputs.kv_precision in (None, "", "auto") else inputs.kv_precision)
    return api.Demand(**kwargs)


def required_throughput(inputs: PlanInputs, tgt: Target) -> float:
    """The rate the plan must reach, in the workload's unit (LLM requests/s become output tokens/s)."""
    if not tgt.serving and inputs.demand_form == "requests":
        return float(inputs.throughput)
    return inputs.required_throughput(tgt.out_len_mean)


def report_inputs(inputs: PlanInputs, tgt: Target) -> dict:
    """The plan's inputs as a saved report keeps them (your own LLM by its facts, as `hwplan report` reads them)."""
    d = asdict(inputs)
    if is_training(inputs):
        d.update(workload=tgt.workload, throughput=None, deadline_hours=inputs.train_deadline_h,
                 token_volume=inputs.train_volume if inputs.train_unit == "tokens" else None,
                 samples=inputs.train_volume if inputs.train_unit == "samples" else None,
                 epochs=inputs.train_volume if inputs.train_unit == "epochs" else None, budget_usd=inputs.budget_usd_run)
        return d
    d.update(workload=tgt.workload, required_throughput=required_throughput(inputs, tgt))
    if tgt.serving and inputs.demand_form == "requests":
        d["throughput"] = None
    if tgt.facts is not None:
        d.update(model_facts=dict(tgt.facts), model_name=tgt.name, mode="inference")
    return d


@dataclass
class TimedPlan:
    result: object
    seconds: float
    target: Target | None = None


def run_plan(model, inputs: PlanInputs, assumptions=None, top: int = 10, clock=time.perf_counter,
             tgt: Target | None = None) -> TimedPlan:
    """plan() with the server time it took (the benchmark reads it). `tgt` (from `target`) plans your own LLM."""
    tgt = tgt or target(model, inputs)
    demand = make_demand(inputs, tgt)
    t0 = clock()
    result = api.plan(tgt.model, demand, assumptions=assumptions, top=top)
    return TimedPlan(result, clock() - t0, tgt)
