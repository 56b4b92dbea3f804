"""Plan: a workload (or your own LLM, from its config.json or a short form), a demand and constraints in; ranked
setups, Pareto chart and reasons out. LLM serving plans add TTFT / TPOT, the parallel layout and the memory split."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hwplan.app.dashboard import charts, data, engine, state, upload
from hwplan.app.dashboard.views import common
from hwplan.app.reports import summary as summary_mod
from hwplan.app.reports import tco as tco_mod
from hwplan.core import fmt
from hwplan.core.errors import HwplanError
from hwplan.core.vocab import BASIS_HELP
from hwplan.costmodel import llmconfig, planner

P = state.WIDGET_PREFIX
OWN_SCENARIO = "Your own model"
OWN_CONFIG_KEY = "plan_own_config"  # the uploaded config.json: {file_id, file, name, facts} or {file_id, file, error}
FORM_LABELS = {"rate": "throughput", "volume": "volume by deadline", "requests": "requests/s"}
SERVING_FORM_LABELS = {"rate": "tokens/s", "requests": "requests/s", "volume": "volume"}  # three fit on a line


def number_widget(spec: state.NumberField, placeholder: str = "", step: float | None = None) -> None:
    """A number input for one of the LLM / own-model fields, bounded as `spec` says (empty = None)."""
    lo, hi = (int(spec.low), int(spec.high)) if spec.whole else (float(spec.low), float(spec.high))
    st.number_input(spec.label, min_value=lo, max_value=hi, value=None, step=1 if spec.whole else (step or 1.0),
                    format="%d" if spec.whole else "%g", placeholder=placeholder or None, key=P + spec.name,
                    help=spec.help or None)


def own_model_sidebar() -> None:
    """Your own LLM: an uploaded config.json (parsed here, never fetched) or the short form."""
    ss = st.session_state
    if ss.get(P + "own") not in state.OWN_SOURCES:
        ss[P + "own"] = "config"
    st.segmented_control("Your model from", state.OWN_SOURCES, key=P + "own", selection_mode="single",
                         format_func=lambda s: {"config": "config.json", "short": "short form"}[s])
    if (ss.get(P + "own") or "config") == "config":
        up = st.file_uploader("config.json", type=["json"], key="plan_own_upload",
                              help=f"a Hugging Face config.json, read here and never fetched from a hub; at most "
                                   f"{upload.MAX_CONFIG_KB:,} KB")
        if up is not None:
            file_id = getattr(up, "file_id", None) or f"{up.name}:{up.size}"
            blob = ss.get(OWN_CONFIG_KEY) or {}
            if blob.get("file_id") != file_id:
                try:
                    facts = upload.read_model_config(up.name, up.getvalue())
                except llmconfig.ConfigError as err:
                    ss[OWN_CONFIG_KEY] = {"file_id": file_id, "file": up.name, "error": str(err)}
                else:
                    ss[OWN_CONFIG_KEY] = {"file_id": file_id, "file": up.name, "facts": facts,
                                          "name": upload.model_name(up.name, facts)}
        blob = ss.get(OWN_CONFIG_KEY) or {}
        if blob.get("facts"):
            st.caption(f"Planning **{common.plain(blob['name'])}** ({common.plain(blob['file'])}): "
                       f"{facts_summary(blob['facts'])}")
    else:
        cols = st.columns(2)
        for i, spec in enumerate(state.OWN_NUMBERS):
            with cols[i % 2]:
                number_widget(spec, placeholder={"own_kv_heads": "= heads", "own_experts": "dense",
                                                 "own_experts_per_token": "–", "own_active_b": "all"}.get(spec.name, ""))


def facts_summary(facts: dict) -> str:
    """'8.19 B parameters, 36 layers, hidden 4,096, 32 heads (8 KV)' (+ experts for MoE)."""
    n = lambda k: fmt.count(facts.get(k))
    text = (f"{fmt.number(facts.get('params', 0) / 1e9)} B parameters, {n('layers')} layers, hidden {n('d_model')}, "
            f"{n('n_heads')} heads ({n('n_kv_heads')} KV)")
    if (facts.get("n_experts") or 0) > 0:
        text += (f", {n('n_experts')} experts ({n('experts_per_token')} per token, "
                 f"{fmt.number(facts.get('active_params', 0) / 1e9)} B active)")
    return text


def llm_means(model, wid: str) -> tuple[float | None, float | None]:
    """The benchmark's mean prompt and output tokens of an LLM workload (None when it is not one)."""
    try:
        w = model.workload_index(wid)
    except HwplanError:
        return None, None
    if not model.wl_["is_llm"][w]:
        return None, None
    return float(model.wl_["in_len"][w]), float(model.wl_["out_len"][w])


def inputs_sidebar(wl: pd.DataFrame, model) -> tuple[state.PlanInputs, bool, list[str]]:
    """The plan's widgets (their state seeded from the URL on the session's first visit), whether the plan is
    LLM serving (an LLM workload in inference, or your own model), and the values that were cleared as unusable."""
    notes = state.init_widgets(st.session_state, st.query_params.to_dict(), set(wl.index))
    for n in notes:
        st.toast(f"Link: {n}", icon=":material/link_off:")
    ss = st.session_state
    cleared = state.clean_widgets(ss)
    if ss.get(P + "own") in state.OWN_SOURCES:
        ss[P + "mode"] = "inference"  # your own LLM is planned for serving
    elif ss.get(P + "mode") not in state.MODES:
        ss[P + "mode"] = "inference"
    with st.sidebar:
        st.segmented_control("Plan for", state.MODES, key=P + "mode", selection_mode="single",
                             format_func=str.capitalize, help="inference: a serving fleet and its monthly cost; "
                             "training: a training run, its time to train and its cost per run")
    training = (ss[P + "mode"] or "inference") == "training"
    wl = wl[[("training" if training else "inference") in str(m).split(";") for m in wl["modes"]]]
    if training:  # workloads whose training the model cannot represent (e.g. DLRM's sharded embeddings) stay out
        from hwplan.costmodel.trainplan import NOT_MODELLED

        wl = wl[~wl.index.isin(list(NOT_MODELLED))]
    scenarios = common.scenario_of(wl)
    names = [*scenarios] if training else [*scenarios, OWN_SCENARIO]
    current = ss[P + "workload"]
    if ss.get(P + "own") in state.OWN_SOURCES and not training:
        field = OWN_SCENARIO
    else:
        field = wl.loc[current, "field"] if current in wl.index else next(iter(scenarios))
    if ss.get("plan_scenario_pick") not in names:
        ss.pop("plan_scenario_pick", None)  # the other mode's scenario: start from the workload's own
    with st.sidebar:
        st.subheader("Workload")
        scenario = st.selectbox("Scenario", names, index=names.index(field), key="plan_scenario_pick")
        if training:
            ss[P + "own"] = ""
            options = scenarios[scenario]
            if ss[P + "workload"] not in options:
                ss[P + "workload"] = options[0]
            st.selectbox("Workload", options, key=P + "workload", format_func=lambda w: common.workload_label(wl, w))
            training_sidebar(wl, ss[P + "workload"])
            return state.read_widgets(ss), False, cleared
        if scenario == OWN_SCENARIO:
            own_model_sidebar()
            unit, serving = "tokens/s", True
            in_mean = out_mean = None
        else:
            ss[P + "own"] = ""
            options = scenarios[scenario]
            if ss[P + "workload"] not in options:
                ss[P + "workload"] = options[0]
            st.selectbox("Workload", options, key=P + "workload", format_func=lambda w: common.workload_label(wl, w))
            wid = ss[P + "workload"]
            unit = wl.loc[wid, "throughput_unit"]
            in_mean, out_mean = llm_means(model, wid)
            serving = in_mean is not None
        per = unit.replace("/s", "")

        st.subheader("Demand")
        forms = ("rate", "requests", "volume") if serving else ("rate", "volume")
        if ss.get(P + "demand_form") not in forms:
            ss[P + "demand_form"] = "rate"
        st.segmented_control("Demand as", forms, key=P + "demand_form",
                             format_func=(SERVING_FORM_LABELS if serving else FORM_LABELS).get)
        form = ss[P + "demand_form"]
        if form == "volume":
            st.number_input(f"Volume ({per})", min_value=1.0, step=1e6, format="%.0f", key=P + "volume",
                            help=f"dataset size × epochs for training, or {per} to process")
            st.number_input("Deadline (hours)", min_value=0.01, step=1.0, key=P + "deadline_h")
        elif form == "requests":
            number_widget(state.NUMBERS["request_rate"], placeholder="requests per second")
        else:
            st.number_input(f"Throughput ({unit})", min_value=0.001, step=1000.0, format="%.0f",
                            key=P + "throughput", help="output tokens/s for the whole setup" if serving
                            else "for the whole setup")
        if serving:
            mean = lambda v: f"mean {fmt.count(v)}" if v else "default"
            c = st.columns(2)
            with c[0]:
                number_widget(state.NUMBERS["input_len"], placeholder=mean(in_mean))
            with c[1]:
                number_widget(state.NUMBERS["output_len"], placeholder=mean(out_mean))
            st.selectbox("KV-cache precision", state.KV_CHOICES, key=P + "kv_precision",
                         help="auto = the weight format's own KV-cache format")
            c = st.columns(2)
            with c[0]:
                number_widget(state.NUMBERS["ttft_p99_ms"], placeholder="no limit", step=10.0)
            with c[1]:
                number_widget(state.NUMBERS["tpot_p99_ms"], placeholder="no limit", step=1.0)
        st.number_input("Latency p99 (ms)", min_value=0.01, value=None, placeholder="no limit",
                        key=P + "latency_ms", help="whole request, prompt and every output token; leave empty for none"
                        if serving else "per request; leave empty for none")

        st.subheader("Constraints")
        st.number_input("Budget (USD / month)", min_value=1.0, step=1000.0, value=None, placeholder="no limit",
                        format="%.0f", key=P + "budget_usd_month")
        power_kinds_pricing()
    inputs = state.read_widgets(ss)
    if scenario == OWN_SCENARIO and not inputs.own:
        inputs.own = "config"  # the source control was clicked off: it still is your own model
    return inputs, serving, cleared


def ranked_plan(spinner: str, explain, model, inputs, **kw):
    """engine.run_plan under a spinner; a planning error is shown (explain: HwplanError -> text) and gives None."""
    with st.spinner(spinner):
        try:
            return engine.run_plan(model, inputs, **kw)
        except HwplanError as exc:
            st.error(f"Planning failed: {explain(exc)}")
        except Exception as exc:
            st.error(f"Planning failed ({type(exc).__name__}): {common.plain(exc)}")
    return None


TRAIN_FOR_KEY = "plan_train_unit_for"  # the workload the volume unit was chosen for


def training_units(wl: pd.DataFrame, wid: str) -> tuple[str, ...]:
    """What a run's volume may count: tokens or sequences (samples) for an LLM; samples or epochs otherwise."""
    return ("tokens", "samples") if str(wl.loc[wid, "kind"]) == "llm" else ("samples", "epochs")


def training_sidebar(wl: pd.DataFrame, wid: str) -> None:
    """A training run's inputs: its volume (empty = the benchmark's reference run), a deadline, a budget per run,
    power, device kinds and pricing."""
    ss = st.session_state
    units = training_units(wl, wid)
    if ss.get(P + "train_unit") not in units or ss.get(TRAIN_FOR_KEY, wid) != wid:
        ss[P + "train_unit"] = units[0]  # another workload: its own unit (a link's unit stands on first visit)
    ss[TRAIN_FOR_KEY] = wid
    reference = engine.has_reference_run(wid)
    st.subheader("Training run")
    st.segmented_control("Volume in", units, key=P + "train_unit", selection_mode="single",
                         format_func=lambda u: "sequences" if u == "samples" and units[0] == "tokens" else u)
    unit = ss[P + "train_unit"] or units[0]
    epochs = unit == "epochs"
    st.number_input(f"Volume ({'sequences' if unit == 'samples' and units[0] == 'tokens' else unit})",
                    min_value=0.01 if epochs else 1.0, value=None, step=1.0 if epochs else 1e9 if unit == "tokens"
                    else 1e6, format="%g" if epochs else "%.0f", key=P + "train_volume",
                    placeholder="the benchmark's reference run" if reference else f"required: {unit} to train on",
                    help=("empty = the MLPerf Training reference run (samples to its quality target)" if reference
                          else f"{wid} has no benchmark reference run: give the {unit} to train on"))
    c = st.columns([3, 2])
    with c[0]:
        st.number_input("Deadline", min_value=0.01, value=None, step=1.0, format="%g", key=P + "train_deadline",
                        placeholder="no deadline", help="the run must finish within it; empty = the cheapest run")
    with c[1]:
        if ss.get(P + "deadline_unit") not in state.DEADLINE_UNITS:
            ss[P + "deadline_unit"] = "days"
        st.selectbox("Unit", state.DEADLINE_UNITS, key=P + "deadline_unit")
    st.subheader("Constraints")
    st.number_input("Budget (USD / run)", min_value=1.0, step=1000.0, value=None, placeholder="no limit",
                    format="%.0f", key=P + "budget_usd_run")
    power_kinds_pricing()


def power_kinds_pricing() -> None:
    """The constraints a serving plan and a training run share: power cap, device kinds, pricing, assumptions."""
    st.number_input("Power cap (kW)", min_value=0.01, step=1.0, value=None, placeholder="no limit",
                    key=P + "power_cap_kw")
    st.pills("Allowed kinds", state.KINDS, selection_mode="multi", key=P + "kinds")
    st.segmented_control("Pricing", state.PRICING, key=P + "pricing",
                         format_func=lambda p: {"cloud": "cloud (rent)", "owned": "owned (buy)"}[p])
    st.caption(f"Assumptions: **{common.plain(common.assumptions_label())}** (change them on the Catalog page)")


TRAINING_HEADERS = {  # column -> (header, hover help); the table wraps to the page, never scrolls sideways
    "rank": ("#", "rank: cheapest run first"),
    "setup": ("setup", "devices × device · precision"),
    "layout": ("layout", "data × tensor × pipeline parallel, ZeRO stage, activation recompute"),
    "time": ("time to train (80% interval)", "predicted, and the 80% interval of the prediction"),
    "cost": ("$ / run", "the pricing chosen in the sidebar"),
    "device_hours_text": ("device-h", "device-hours per run"),
    "energy": ("kWh / run", "accelerators plus host share, with the facility's PUE"),
    "co2": ("kg CO₂ / run", "carbon per run at the grid's intensity"),
    "mfu_text": ("MFU", "model FLOPs utilisation: useful FLOPs / peak"),
    "memory": ("GB / device", "memory needed, of the device's memory"),
    "basis": ("basis", "measured, calibrated (fitted from similar devices) or roofline (specs only)"),
}
TRAINING_COLUMNS = tuple(TRAINING_HEADERS)


def device_memory_gb(model, device: str) -> float | None:
    try:
        return float(model.dev_["mem"][model.device_index(device)]) / 1e9
    except (HwplanError, KeyError, IndexError, TypeError, ValueError):
        return None


def training_table(ranked: pd.DataFrame, pricing: str, model=None) -> pd.DataFrame:
    """A training plan's setups with readable units: time in h or days, dollars with separators, kWh, t CO₂."""
    df = ranked.copy().reset_index(drop=True)
    df["rank"] = range(1, len(df) + 1)
    df["setup"] = charts.setup_label(df)
    df["time"] = [training_time_text(r) for r in df.to_dict("records")]
    df["cost"] = df[charts.run_cost_column(pricing)].map(fmt.usd)
    df["device_hours_text"] = df["device_hours"].map(fmt.count)
    df["energy"] = df["energy_kwh_per_run"].map(fmt.number)
    df["co2"] = df["co2_kg_per_run"].map(fmt.number)
    df["mfu_text"] = df["mfu"].map(fmt.pct)
    df["layout"] = charts.training_layout_label(df)
    caps = [device_memory_gb(model, str(d)) if model is not None else None for d in df["device"]]
    df["memory"] = [fmt.number(m) + (f" of {fmt.number(c)}" if c else "")
                    for m, c in zip(df["memory_gb_per_device"], caps)]
    df["global_batch_text"] = df["global_batch"].map(fmt.count)
    df["power"] = df["power_kw"].map(fmt.kw)
    return df[[c for c in TRAINING_COLUMNS if c in df.columns]]


def _hours_as_s(h: object) -> float | None:
    v = fmt.num(h)
    return None if v is None else v * 3600


def training_time_text(row) -> str:
    """'1.04 h (33.2 min–2.3 h)': the predicted time to train and its 80 % interval."""
    text = fmt.duration(_hours_as_s(row.get("time_to_train_h")))
    lo, hi = _hours_as_s(row.get("time_to_train_low_h")), _hours_as_s(row.get("time_to_train_high_h"))
    return text if lo is None or hi is None else f"{text} ({fmt.duration(lo)}–{fmt.duration(hi)})"


def cost_more_text(row, best, column: str, per: str) -> str | None:
    """'+$642 / month (+5%)' over the recommendation, 'the same cost' (per run: 'the same cost per run') within
    0.5 %, None where either cost is missing."""
    c, b = fmt.num(row.get(column)), fmt.num(best.get(column))
    if c is None or not b:
        return None
    diff = c - b
    if abs(diff) < 0.005 * b:
        return "the same cost" + (" per run" if per == "run" else "")
    return f"{'+' if diff > 0 else '−'}{fmt.usd(abs(diff))} / {per} ({fmt.pct(diff / b, signed=True)})"


def training_runner_up_text(row, best, cost_column: str) -> str:
    """What a training runner-up costs more per run and how much longer or shorter it trains."""
    gap = cost_more_text(row, best, cost_column, "run")
    parts = [gap] if gap else []
    t, tb = fmt.num(row.get("time_to_train_h")), fmt.num(best.get("time_to_train_h"))
    if t is not None and tb:
        gap = (t - tb) * 3600
        parts.append("the same time" if abs(gap) < 0.005 * tb * 3600 else
                     f"{fmt.duration(abs(gap))} {'longer' if gap > 0 else 'shorter'}")
    return ", ".join(parts) or "ranked lower on time"


def hours_text(h: float | None) -> str:
    """'720 h (30 days)' / '12 h'."""
    if not h:
        return fmt.MISSING
    return f"{fmt.number(h)} h" + (f" ({fmt.number(h / 24)} days)" if h >= 48 else "")


def training_demand_text(inputs: state.PlanInputs, units: tuple[str, ...]) -> str:
    what = inputs.train_unit
    if what == "samples" and units[0] == "tokens":
        what = "sequences"
    volume = (f"{fmt.count(inputs.train_volume) if what != 'epochs' else fmt.number(inputs.train_volume)} {what}"
              if inputs.train_volume else "the benchmark's reference run")
    deadline = inputs.train_deadline_h
    return (f"**Run:** {inputs.workload} on {volume}"
            + (f" · deadline {hours_text(deadline)}" if deadline else " · no deadline")
            + (f" · budget {fmt.usd(inputs.budget_usd_run, 'run')}" if inputs.budget_usd_run else "")
            + (f" · power ≤ {fmt.kw(inputs.power_cap_kw)}" if inputs.power_cap_kw else "")
            + f" · {inputs.pricing} pricing")


def render_training(wl: pd.DataFrame, model, inputs: state.PlanInputs) -> None:
    """A training plan: setups that finish the run by the deadline within the budget, cheapest run first."""
    wid = inputs.workload
    row = wl.loc[wid]
    st.caption(f"{row['field']} · {row['task']} · {row['description']} — training. "
               "This page's URL holds these inputs: copy it to share the plan.")
    if not inputs.kinds:
        st.warning("Pick at least one device kind in the sidebar.")
        return
    units = training_units(wl, wid)
    if not inputs.train_volume and not engine.has_reference_run(wid):
        st.info(f"**{wid}** has no benchmark reference run: give the {inputs.train_unit} to train on in the sidebar "
                "(**Volume**).", icon=":material/edit:")
        return
    assumptions = common.session_assumptions()
    timed = ranked_plan("Ranking training setups…", engine.training_message, model, inputs, assumptions=assumptions,
                        top=10)
    if timed is None:
        return
    result = timed.result
    ranked = result.ranked if result.ranked is not None else pd.DataFrame()
    cols = st.columns([3, 1])
    cols[0].markdown(training_demand_text(inputs, units))
    cols[1].caption(f"server time {timed.seconds * 1000:.0f} ms", help="time the planner took for this ranking")
    deadline = inputs.train_deadline_h
    if not result.feasible or ranked.empty:
        st.error(f"No setup meets every constraint: {result.why}.")
        price_notes(result.notes)
        nearest = getattr(result, "nearest", None)
        if nearest is not None and len(nearest):
            st.subheader("Fastest setups")
            st.caption("None of these meets every constraint; they are the quickest runs the catalog allows.")
            st.html(charts.table_html(training_table(nearest, inputs.pricing, model), TRAINING_HEADERS))
        return
    top = ranked.iloc[0]
    st.subheader(f"Best: {int(top['count'])} × {top['device']} · {top['precision']}")
    cost = top.get(charts.run_cost_column(inputs.pricing))
    m = st.columns(4)
    m[0].metric("Time to train", fmt.seconds(float(top["time_to_train_h"]) * 3600), border=True,
                help=f"{fmt.number(top['time_to_train_h'])} h; 80% interval "
                     f"{training_time_text(top).partition('(')[2].rstrip(')') or fmt.MISSING}"
                     + (f"; deadline {hours_text(deadline)}" if deadline else ""))
    m[1].metric("Cost per run", fmt.usd(cost), border=True,
                help=f"{inputs.pricing} pricing; cloud {fmt.usd(top.get('usd_per_run_cloud'))}, owned "
                     f"{fmt.usd(top.get('usd_per_run_owned'))}")
    m[2].metric("Device-hours", fmt.count(top.get("device_hours")), border=True)
    m[3].metric("Energy per run", fmt.kwh(top.get("energy_kwh_per_run")), border=True,
                help=f"power {fmt.kw(top.get('power_kw'))} at load, with the facility's PUE")
    m = st.columns([1, 1, 2])
    m[0].metric("CO₂ per run", fmt.co2(top.get("co2_kg_per_run")), border=True)
    m[1].metric("MFU", fmt.pct(top.get("mfu")), border=True, help="model FLOPs utilisation: useful FLOPs / peak")
    layout = charts.training_layout_label(pd.DataFrame([top])).iloc[0]
    m[2].metric("Layout", layout.split(", ")[0], border=True, help="data × tensor × pipeline parallel")
    cap = device_memory_gb(model, str(top["device"]))
    b = st.columns([1, 5])
    with b[0]:
        common.basis_badge(str(top["basis"]))
    b[1].caption(f"{', '.join(layout.split(', ')[1:])} · global batch {fmt.count(top.get('global_batch'))} · memory "
                 f"{fmt.number(top.get('memory_gb_per_device'))}{f' of {fmt.number(cap)}' if cap else ''} GB per device"
                 f" · {BASIS_HELP.get(str(top['basis']), '')}")
    st.markdown(f"**Basis:** {top['basis']}; the time to train, {training_time_text(top)}, "
                f"{training_basis_text(wid, str(top['device']))}.")
    st.info(f"**Why this one:** {result.why}", icon=":material/emoji_events:")
    rivals = ranked.iloc[1:5].to_dict("records")
    if rivals:
        cost_column = charts.run_cost_column(inputs.pricing)
        st.markdown("**Runner-ups:**\n" + "\n".join(
            f"- #{i} {fmt.count(r.get('count'))} × {r['device']} · {r.get('precision')}: "
            f"{training_runner_up_text(r, top, cost_column)}" for i, r in enumerate(rivals, start=2)))
    price_notes(result.notes)
    st.plotly_chart(charts.training_chart(ranked, deadline_h=deadline, pricing=inputs.pricing),
                    key="training_chart")
    st.subheader("Ranked setups")
    cells = training_table(ranked, inputs.pricing, model)
    st.session_state[RANKED_KEY] = cells
    st.html(charts.table_html(cells, TRAINING_HEADERS))
    common.save_report_control("plan", engine.report_inputs(inputs, engine.target(model, inputs)), plan_result=result,
                               assumptions=assumptions, key="plan_save")


PRICE_HELP = ("Add or change a price on the **Catalog** page: Assumptions → Price overrides (cloud $/h or list "
              "price), then Apply; or add a row to data/prices.csv.")


def price_notes(notes: list[str]) -> None:
    """The planner's notes, those about devices left out for want of a price with how to add one."""
    for note in notes:
        note = note.replace("want of a owned", "want of an owned")
        if "for want of" in note:
            st.warning(f"**{note.split(':')[0].capitalize()}:** {note.split(':', 1)[1].split(';')[0].strip()}. "
                       + PRICE_HELP, icon=":material/sell:")
        else:
            st.caption(f"Note: {note}")


def tco_section(top, assumptions, notes: list[str], pricing: str = "cloud") -> None:
    """The recommended setup's total cost of ownership: capex and owned cost per month by term, cloud per month,
    break-even (with its chart), the price's basis and date (stale flagged), the power and carbon figures used."""
    t = tco_mod.tco_of(top, assumptions.life_years, assumptions.facility_life_years)
    st.subheader(f"Total cost of ownership: {int(top['count'])} × {top['device']}")
    cat = data.load_catalog()
    dev = cat.loc[str(top["device"])].to_dict() if str(top["device"]) in cat.index else {}
    stale = summary_mod.is_stale(dict(top), dev, pricing)
    if pricing == "owned":
        st.markdown(f"**Purchase price:** {t.price_basis or 'no purchase price'}")
    p = st.columns([6, 1]) if stale else [st.container()]
    p[0].markdown(f"**Cloud price:** {summary_mod.price_text(dict(top), dev, pricing)}")
    if stale:
        with p[1]:
            st.badge("stale", color="red", icon=":material/schedule:",
                     help="this price is older than 365 days or undated: check it before signing")
    m = st.columns(4)
    m[0].metric("Capex (buy, up front)", fmt.usd(t.capex_total), border=True,
                help="devices, host servers, scale-out network and the facility's build cost per kW")
    m[1].metric("Owned (USD / month)", fmt.usd(t.owned_month), border=True,
                help=f"write-off over {assumptions.life_years:g} years (facility {assumptions.facility_life_years:g}), "
                     "maintenance and energy")
    m[2].metric("Cloud (USD / month)", fmt.usd(t.cloud_month), border=True,
                help="capacity held every hour of the month")
    be = t.breakeven_months
    m[3].metric("Break-even", f"{fmt.number(be)} months" if be is not None else "never", border=True,
                help="months of use after which buying has cost less than renting: " + t.breakeven_text())
    c = st.columns([2, 3])
    with c[0]:
        st.table(pd.DataFrame(t.rows()).set_index("term"))
        st.caption(f"**Break-even:** {t.breakeven_text()}.")
        st.caption(f"**Power:** {tco_mod.power_text(top)}.")
        st.caption("**Carbon:** " + tco_mod.carbon_text(assumptions.region, assumptions.carbon_kg_per_kwh,
                                                        assumptions.carbon_intensity()) + ".")
    c[1].plotly_chart(charts.breakeven_chart(t), key="breakeven_chart")
    price_notes(notes)


RANKED_KEY = "plan_ranked_table"  # the ranked table's text cells, as last shown


def plan_limits(inputs: state.PlanInputs) -> dict:
    """The limits a plan was given, in the ranked table's units (s, USD / month, kW), for its 'meets' column."""
    ms = lambda v: v / 1000.0 if v else None
    return {"latency": ms(inputs.latency_ms), "ttft": ms(inputs.ttft_p99_ms), "tpot": ms(inputs.tpot_p99_ms),
            "budget": inputs.budget_usd_month, "power": inputs.power_cap_kw}


def show_ranked(ranked: pd.DataFrame, unit: str, demand: float, inputs: state.PlanInputs) -> None:
    """The ranked setups as a compact table that fits the page (every number formatted, units in the headers); the
    cells also stay in session state (RANKED_KEY) for the view's tests."""
    cells = charts.ranked_cells(ranked, unit, demand, plan_limits(inputs))
    st.session_state[RANKED_KEY] = cells
    st.html(charts.table_html(cells))


def is_llm_plan(df: pd.DataFrame | None) -> bool:
    """An LLM serving plan's table carries TTFT / TPOT (NaN for every other workload)."""
    return df is not None and "ttft_p99_s" in df and bool(pd.to_numeric(df["ttft_p99_s"], errors="coerce").notna().any())


def replica_memory_gb(model, top) -> float | None:
    """The memory of one replica's devices (GB), from the catalog as the model holds it."""
    try:
        d = model.device_index(str(top["device"]))
        per = fmt.num(top.get("devices_per_replica")) or 1.0
        return float(model.dev_["mem"][d]) * per / 1e9
    except (HwplanError, KeyError, IndexError, TypeError, ValueError):
        return None


def layout_sentence(top) -> str:
    """How the model is split over the devices: '8 devices: 4 replicas of TP 1 × PP 2 (2 devices each), 2 servers of
    4'; for a non-LLM setup, '4 devices, each running its own copy at batch 64, 1 server of 8'."""
    n = fmt.num(top.get("count")) or 0
    k, per = charts.nodes(top), fmt.num(top.get("devices_per_node"))
    where = f"{fmt.count(k)} server{'' if k == 1 else 's'} (node{'' if k == 1 else 's'}) of {fmt.count(per)} devices" \
        if k and per else ""
    if fmt.num(top.get("tpot_p99_s")) is not None:
        reps, group = fmt.num(top.get("replicas")), fmt.num(top.get("devices_per_replica"))
        ep = fmt.num(top.get("expert_parallel"))
        text = (f"{fmt.count(n)} device{'' if n == 1 else 's'}: {fmt.count(reps)} replica{'' if reps == 1 else 's'} of "
                f"TP {fmt.count(top.get('tensor_parallel'))} × PP {fmt.count(top.get('pipeline_parallel'))}"
                + (f" × EP {fmt.count(ep)}" if ep and ep > 1 else "")
                + f" ({fmt.count(group)} device{'' if group == 1 else 's'} each, the weights split over them)")
    else:
        text = (f"{fmt.count(n)} device{'' if n == 1 else 's'}, each running its own copy of the model at batch "
                f"{fmt.count(top.get('batch_size'))} (data parallel, no split)")
    return text + (f", on {where}" if where else "")


def runner_up_text(row, best) -> str:
    """What a runner-up costs more than the recommendation, or what it breaks: '+$642 / month (+5%), +12% energy'."""
    if row.get("breaks"):
        return f"breaks {row['breaks']}"
    gap = cost_more_text(row, best, "usd_per_month", "month")
    parts = [gap] if gap else []
    e, eb = fmt.num(row.get("energy_kwh_per_month")), fmt.num(best.get("energy_kwh_per_month"))
    if e is not None and eb and abs(e / eb - 1) >= 0.005:
        parts.append(f"{fmt.pct(e / eb - 1, signed=True)} energy")
    lo, lob = fmt.num(row.get("low")), fmt.num(best.get("low"))
    tp = fmt.num(row.get("throughput"))
    if lo is not None and tp and lob is not None and lo < lob:
        parts.append("a lower interval low end")
    return ", ".join(parts) or "ranked lower on energy"


def profiles_link(workload: str, device: str | None = None, source: str | None = None) -> str:
    """A link to the Profiles page with its filters preset (workload, device, source)."""
    from urllib.parse import urlencode

    q = {"workload": workload, **({"device": device} if device else {}), **({"source": source} if source else {})}
    return "/profiles?" + urlencode(q)


def rows_basis(rows: pd.DataFrame, workload: str, device: str) -> dict:
    """The stored rows an estimate rests on: this workload on this device (measured basis), else this workload on
    other devices (calibrated); counts by source, and how many of them were uploaded."""
    if rows is None or rows.empty or not {"workload", "device", "source"} <= set(rows.columns):
        return {"n": 0, "where": "none", "by_source": {}, "uploaded": 0}
    same = rows[(rows["workload"] == workload) & (rows["device"] == device)]
    where, use = ("this workload on this device", same)
    if same.empty:
        where, use = ("this workload on other devices", rows[rows["workload"] == workload])
    by = use["source"].value_counts().to_dict()
    return {"n": len(use), "where": where, "by_source": by, "uploaded": int(by.get("upload", 0)),
            "device": device if not same.empty else None}


def rows_basis_text(info: dict, workload: str) -> str:
    """'rests on 12 rows of this workload on this device (10 published, 2 upload): [see them](/profiles?...)'."""
    if not info["n"]:
        return "rests on no stored row of this workload: the spec-sheet roofline only"
    srcs = ", ".join(f"{v} {k}" for k, v in info["by_source"].items())
    text = (f"rests on {fmt.count(info['n'])} row{'' if info['n'] == 1 else 's'} of {info['where']} ({srcs}): "
            f"[see them in Profiles]({profiles_link(workload, info.get('device'))})")
    if info["uploaded"]:
        text += (f" · **rests on {fmt.count(info['uploaded'])} uploaded row{'' if info['uploaded'] == 1 else 's'}** "
                 f"([uploads only]({profiles_link(workload, info.get('device'), 'upload')})): they changed this "
                 "prediction")
    return text


def stored_rows() -> pd.DataFrame:
    """The store's rows, for the basis lines; an empty frame where the store cannot be read (the line is a
    courtesy, the plan does not need it)."""
    try:
        return data.measurements(data.store_url(), data.store_version(data.store_url()))
    except Exception:
        return pd.DataFrame()


@st.cache_data(show_spinner=False)
def published_training_counts() -> pd.DataFrame:
    """Published training results (data/published_training.csv) per workload and device."""
    from hwplan.costmodel.trainfit import published_training

    pub = published_training()
    if pub.empty:
        return pd.DataFrame(columns=["workload", "device", "n"])
    return pub.groupby(["workload", "device"]).size().rename("n").reset_index()


def training_basis_text(workload: str, device: str) -> str:
    """What a training estimate is fitted on: published training results of this workload (on this device, and in
    all) and the store's training-step rows, with a link to those in Profiles."""
    pub = published_training_counts()
    wl = pub[pub["workload"] == workload]
    same = int(wl.loc[wl["device"] == device, "n"].sum())
    text = (f"rests on {fmt.count(wl['n'].sum())} published training result{'' if wl['n'].sum() == 1 else 's'} of "
            f"this workload ({fmt.count(same)} on this device; data/published_training.csv)" if len(wl) else
            "rests on no published training result of this workload (the other workloads' efficiencies and the "
            "step model's physics)")
    rows = stored_rows()
    rows = rows[rows["mode"] == "training"] if "mode" in rows else rows
    info = rows_basis(rows, workload, device)
    if info["n"]:
        text += " and " + rows_basis_text(info, workload).removeprefix("rests on ")
    return text


def why_section(tgt: engine.Target, top, ranked: pd.DataFrame, result, demand: float, unit: str) -> None:
    """Why the recommendation: its basis and the rows it rests on, the layout, the binding constraint and what each
    runner-up costs more or breaks."""
    b = st.columns([1, 6])
    with b[0]:
        common.basis_badge(str(top["basis"]))
    info = rows_basis(stored_rows(), tgt.reference or tgt.workload, str(top["device"]))
    b[1].markdown(f"**Basis:** {top['basis']} ({BASIS_HELP.get(str(top['basis']), '')}); the estimate "
                  f"{rows_basis_text(info, tgt.reference or tgt.workload)}. 80% interval "
                  f"{fmt.interval(top['low'], top['high'], unit)}: even on a log scale (high / estimate = estimate / "
                  "low), so longer above the estimate than below.")
    st.markdown(f"**Layout:** {layout_sentence(top)}.")
    st.info(f"**Why this one:** {result.why}", icon=":material/emoji_events:")
    if getattr(result, "binding", ""):
        st.markdown(f"**Binding constraint:** {result.binding}")
    rivals = ranked.iloc[1:5].to_dict("records")
    if rivals:
        st.markdown("**Runner-ups:**\n" + "\n".join(
            f"- #{fmt.count(r.get('rank'))} {fmt.count(r.get('count'))} × {r['device']} · "
            f"{r.get('precisions') or r.get('precision')}: {runner_up_text(r, top)}" for r in rivals))


def llm_top(model, top, key: str = "memory_chart") -> None:
    """The top LLM setup's serving figures: TTFT / TPOT, layout, concurrency and the memory split per replica."""
    m = st.columns([1, 1, 2, 1])
    m[0].metric("TTFT p99", fmt.ms(top.get("ttft_p99_s")), border=True, help=f"p50 {fmt.ms(top.get('ttft_p50_s'))}")
    m[1].metric("TPOT p99", fmt.ms(top.get("tpot_p99_s")), border=True, help=f"p50 {fmt.ms(top.get('tpot_p50_s'))}")
    m[2].metric("Layout", charts.layout_label(pd.DataFrame([top])).iloc[0], border=True,
                help="tensor parallel × pipeline parallel (× expert parallel) × replicas")
    m[3].metric("Concurrency", fmt.count(top.get("concurrency")), border=True,
                help=f"requests in flight, whole setup; {fmt.count(top.get('batch_size'))} sequences per replica")
    cap = replica_memory_gb(model, top)
    parts = " · ".join(f"{label} {fmt.number(top.get(k))} GB" for k, label in charts.MEMORY_PARTS)
    st.markdown(f"**Memory per replica:** {parts}"
                + (f" (of {fmt.number(cap)} GB on {fmt.count(top.get('devices_per_replica'))} device(s))" if cap else ""))
    st.plotly_chart(charts.memory_split_chart(top, cap, title=""), key=key)


def demand_text(inputs: state.PlanInputs, tgt: engine.Target, need: float) -> str:
    """'**Demand:** 1,280 tokens/s (5 requests/s × 256 output tokens) · TTFT p99 ≤ 2000 ms · …'."""
    text = f"**Demand:** {fmt.rate(need, tgt.unit)}"
    if tgt.serving and inputs.demand_form == "requests":
        text += f" ({inputs.request_rate:g} requests/s × {fmt.count(inputs.output_len or tgt.out_len_mean)} output tokens)"
    if tgt.serving:
        text += (f" · requests of {fmt.count(inputs.input_len or tgt.in_len_mean)} prompt + "
                 f"{fmt.count(inputs.output_len or tgt.out_len_mean)} output tokens"
                 + ("" if inputs.input_len and inputs.output_len else
                    f" ({'planning defaults' if tgt.facts is not None and not tgt.reference else 'benchmark means'}"
                    " where not given)")
                 + (f" · KV cache {inputs.kv_precision}" if inputs.kv_precision != "auto" else ""))
        text += f" · TTFT p99 ≤ {inputs.ttft_p99_ms:g} ms" if inputs.ttft_p99_ms else ""
        text += f" · TPOT p99 ≤ {inputs.tpot_p99_ms:g} ms" if inputs.tpot_p99_ms else ""
    return (text + (f" · p99 ≤ {inputs.latency_ms:g} ms" if inputs.latency_ms else "")
            + (f" · budget {fmt.usd(inputs.budget_usd_month, 'month')}" if inputs.budget_usd_month else "")
            + (f" · power ≤ {fmt.kw(inputs.power_cap_kw)}" if inputs.power_cap_kw else "")
            + f" · {inputs.pricing} pricing")


def caption(wl: pd.DataFrame, inputs: state.PlanInputs, tgt: engine.Target) -> None:
    tail = "This page's URL holds these inputs and the assumption set: copy it to share the plan."
    if tgt.facts is None:
        row = wl.loc[inputs.workload]
        st.caption(f"{row['field']} · {row['task']} · {row['description']} — {inputs.mode}. {tail}")
        return
    src = "your config.json" if inputs.own == "config" else "the short form"
    st.caption(f"{OWN_SCENARIO} · {tgt.name} from {src}: {facts_summary(tgt.facts)} — inference. "
               + (tail if inputs.own == "short" else "A link carries the inputs but not the uploaded file."))
    if tgt.reference:
        st.info(f"This architecture is the reference workload **{tgt.reference}**: it is planned as "
                f"{tgt.reference}, with its measured and published results.", icon=":material/link:")


LINK_READ_KEY = "plan_link_assumptions_read"
LINK_NOTE_KEY = "plan_link_assumptions_note"


def link_assumptions() -> dict[str, str]:
    """On the session's first visit, load the assumption set a link names (and say what differs when its hash does
    not match); then the URL keys for the assumptions in use, so a copied link carries them."""
    ss = st.session_state
    if not ss.get(LINK_READ_KEY):
        ss[LINK_READ_KEY] = True
        name, want = state.read_assumption_link(st.query_params.to_dict())
        if name or want:
            current = None
            if name:
                try:
                    current = data.get_store(data.store_url()).get_assumptions(name)
                except Exception:  # a store that cannot be read: the set is not found, and the note says so
                    current = None
            if current is not None:
                ss[common.ASSUMPTIONS_KEY] = current
                ss[common.ASSUMPTIONS_LABEL_KEY] = f"set '{name}'"
            ss[LINK_NOTE_KEY] = state.assumption_link_note(name, want, current, current is not None)
    label = common.assumptions_label()
    name = label[5:-1] if label.startswith("set '") and label.endswith("'") else None
    return state.assumption_query(name, ss.get(common.ASSUMPTIONS_KEY))


def render() -> None:
    st.title("Plan")
    wl = common.planning_workloads()
    model = common.cost_model()
    link = link_assumptions()
    inputs, serving, cleared = inputs_sidebar(wl, model)
    state.sync_query(st.query_params, inputs, serving, link)
    if st.session_state.get(LINK_NOTE_KEY):
        st.warning(f"Link: {st.session_state[LINK_NOTE_KEY]}", icon=":material/link_off:")
    ss = st.session_state
    for note in cleared:
        st.error(note)
    if engine.is_training(inputs):
        render_training(wl, model, inputs)
        return
    bad = state.problems(inputs, serving)
    if bad:
        st.error("These inputs cannot be planned:\n\n" + "\n".join(f"- {b}" for b in bad))
        return
    uploaded = ss.get(OWN_CONFIG_KEY) if inputs.own == "config" else None
    if inputs.own == "config":
        if uploaded and uploaded.get("error"):
            st.error(f"Your config.json could not be read. {uploaded['error']}")
            return
        if not uploaded or not uploaded.get("facts"):
            st.info("Upload your model's Hugging Face **config.json** in the sidebar (it is read here, never fetched "
                    "from a hub), or switch to the short form.", icon=":material/upload_file:")
            return
    try:
        tgt = engine.target(model, inputs, uploaded)
    except HwplanError as exc:
        st.error(f"Your model cannot be planned: {common.plain(exc)}" if inputs.own else f"Planning failed: {common.plain(exc)}")
        return
    caption(wl, inputs, tgt)
    if not inputs.kinds:
        st.warning("Pick at least one device kind in the sidebar.")
        return
    assumptions = common.session_assumptions()
    timed = ranked_plan("Ranking setups…", str, model, inputs, assumptions=assumptions, top=30, tgt=tgt)
    if timed is None:
        return
    result = timed.result
    unit = tgt.unit
    demand = engine.required_throughput(inputs, tgt)
    # the same setup at precisions that change nothing is one row; the top ten are ten different setups
    ranked = planner.collapse_precisions(result.ranked).head(10) if result.ranked is not None else pd.DataFrame()
    header = st.container()
    with header:
        cols = st.columns([3, 1])
        cols[0].markdown(demand_text(inputs, tgt, demand))
        cols[1].caption(f"server time {timed.seconds * 1000:.0f} ms", help="time the planner took for this ranking")
    if not result.feasible or ranked.empty:
        st.error(f"No setup meets every constraint. {result.why}")
        price_notes(result.notes)
        if getattr(result, "binding", ""):
            st.markdown(f"**Binding constraint:** {result.binding}")
        nearest = getattr(result, "nearest", None)
        if nearest is not None and len(nearest):
            st.subheader("Nearest setups and what they break")
            show_ranked(nearest, unit, demand, inputs)
        return
    top = ranked.iloc[0]
    llm = is_llm_plan(ranked)
    batch = ""
    if pd.notna(top.get("batch_size")):
        batch = f" · {int(top['batch_size'])} sequences per replica" if llm else f" · batch {int(top['batch_size'])}"
    st.subheader(f"Best: {int(top['count'])} × {top['device']} · {top.get('precisions') or top['precision']}{batch}")
    per = unit.replace("/s", "")
    m = st.columns(5)
    m[0].metric("Cost (USD / month)", fmt.usd(top["usd_per_month"]), border=True,
                help=f"{inputs.pricing} pricing; {fmt.usd(top.get('usd_per_million_units'))} per million {per}")
    m[1].metric(unit.capitalize(), fmt.number(top["throughput"]), border=True,
                help=f"interval {fmt.interval(top['low'], top['high'], unit)}")
    m[2].metric("Power", fmt.kw(top["power_kw"]), border=True, help="accelerators plus host share, at this load")
    m[3].metric("kWh / month", fmt.number(top.get("energy_kwh_per_month")), border=True,
                help=f"CO₂ {fmt.co2(top.get('co2_kg_per_month'))} / month")
    m[4].metric("Latency p99", fmt.seconds(top.get("latency_p99_s")), border=True)
    if llm:
        llm_top(tgt.model, top)
    why_section(tgt, top, ranked, result, demand, unit)
    c = st.columns(2)
    pareto = getattr(result, "pareto", None)
    c[0].html(charts.interval_html(ranked, unit, demand))  # HTML: it paints with the text, before any Plotly chart
    c[1].plotly_chart(charts.pareto_chart(ranked, pareto, demand, unit), key="pareto_chart")
    tco_section(top, assumptions, result.notes, inputs.pricing)
    st.subheader("Ranked setups")
    if "precisions" in ranked and (ranked["precisions"] != ranked["precision"]).any():
        st.caption("Setups that differ only by a precision with no effect on throughput, cost or energy are one row, "
                   "their precisions listed (fp16 / bf16).")
    show_ranked(ranked, unit, demand, inputs)
    common.save_report_control("plan", engine.report_inputs(inputs, tgt), plan_result=result, assumptions=assumptions,
                               key="plan_save")
