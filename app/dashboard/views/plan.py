"""Plan: a workload, a demand and constraints in; ranked setups, Pareto chart and reasons out."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hwplan.app.dashboard import charts, engine, state
from hwplan.app.dashboard.views import common
from hwplan.core import fmt
from hwplan.core.vocab import BASIS_HELP

RANKED_COLUMNS = {
    "rank": st.column_config.NumberColumn("#", width="small"),
    "setup": st.column_config.TextColumn("setup", width="medium"),
    "device_kind": st.column_config.TextColumn("kind", width="small"),
    "throughput_text": st.column_config.TextColumn("throughput"),
    "interval": st.column_config.TextColumn("interval (low–high)"),
    "basis": st.column_config.TextColumn(
        "basis", help="measured, calibrated (fitted from similar devices) or roofline (specs only)"),
    "latency": st.column_config.TextColumn("latency p99"),
    "power": st.column_config.TextColumn("power"),
    "usd_per_month": st.column_config.NumberColumn("USD / month", format="$%.0f"),
    "usd_per_million_units": st.column_config.NumberColumn("USD / million", format="$%.3f"),
    "energy_kwh_per_month": st.column_config.NumberColumn("kWh / month", format="%.0f"),
    "co2_kg_per_month": st.column_config.NumberColumn("CO₂ kg / month", format="%.0f"),
}


def inputs_sidebar(wl: pd.DataFrame) -> state.PlanInputs:
    """The plan's widgets; their state is seeded from the URL on the session's first visit."""
    notes = state.init_widgets(st.session_state, st.query_params.to_dict(), set(wl.index))
    for n in notes:
        st.toast(f"Link: {n}", icon=":material/link_off:")
    scenarios = common.scenario_of(wl)
    ss = st.session_state
    current = ss[state.WIDGET_PREFIX + "workload"]
    field = wl.loc[current, "field"] if current in wl.index else next(iter(scenarios))
    with st.sidebar:
        st.subheader("Workload")
        scenario = st.selectbox("Scenario", list(scenarios), index=list(scenarios).index(field), key="plan_scenario_pick")
        options = scenarios[scenario]
        if ss[state.WIDGET_PREFIX + "workload"] not in options:
            ss[state.WIDGET_PREFIX + "workload"] = options[0]
        st.selectbox("Workload", options, key=state.WIDGET_PREFIX + "workload",
                     format_func=lambda w: common.workload_label(wl, w))
        wid = ss[state.WIDGET_PREFIX + "workload"]
        modes = [m for m in state.MODES if m in str(wl.loc[wid, "modes"]).split(";")] or ["inference"]
        if ss[state.WIDGET_PREFIX + "mode"] not in modes:
            ss[state.WIDGET_PREFIX + "mode"] = modes[0]
        st.segmented_control("Mode", modes, key=state.WIDGET_PREFIX + "mode", selection_mode="single")
        unit = wl.loc[wid, "throughput_unit"]
        per = unit.replace("/s", "")

        st.subheader("Demand")
        st.segmented_control("Demand as", state.DEMAND_FORMS, key=state.WIDGET_PREFIX + "demand_form",
                             format_func=lambda f: {"rate": "throughput", "volume": "volume by deadline"}[f])
        if ss[state.WIDGET_PREFIX + "demand_form"] == "volume":
            st.number_input(f"Volume ({per})", min_value=1.0, step=1e6, format="%.0f", key=state.WIDGET_PREFIX + "volume",
                            help=f"dataset size × epochs for training, or {per} to process")
            st.number_input("Deadline (hours)", min_value=0.01, step=1.0, key=state.WIDGET_PREFIX + "deadline_h")
        else:
            st.number_input(f"Throughput ({unit})", min_value=0.001, step=1000.0, format="%.0f",
                            key=state.WIDGET_PREFIX + "throughput", help="for the whole setup")
        st.number_input("Latency p99 (ms)", min_value=0.01, placeholder="no limit",
                        key=state.WIDGET_PREFIX + "latency_ms", help="per request; leave empty for none")

        st.subheader("Constraints")
        st.number_input("Budget (USD / month)", min_value=1.0, step=1000.0, placeholder="no limit",
                        format="%.0f", key=state.WIDGET_PREFIX + "budget_usd_month")
        st.number_input("Power cap (kW)", min_value=0.01, step=1.0, placeholder="no limit",
                        key=state.WIDGET_PREFIX + "power_cap_kw")
        st.pills("Allowed kinds", state.KINDS, selection_mode="multi", key=state.WIDGET_PREFIX + "kinds")
        st.segmented_control("Pricing", state.PRICING, key=state.WIDGET_PREFIX + "pricing",
                             format_func=lambda p: {"cloud": "cloud (rent)", "owned": "owned (buy)"}[p])
        st.caption(f"Assumptions: **{common.assumptions_label()}** (change them on the Catalog page)")
    return state.read_widgets(ss)


def ranked_table(ranked: pd.DataFrame, unit: str) -> pd.DataFrame:
    df = ranked.copy()
    df["setup"] = charts.setup_label(df)
    df["throughput_text"] = df["throughput"].map(lambda v: fmt.rate(v, unit))
    df["interval"] = [fmt.interval(lo, hi, unit) for lo, hi in zip(df["low"], df["high"])]
    df["latency"] = df["latency_p99_s"].map(fmt.seconds) if "latency_p99_s" in df else "–"
    df["power"] = df["power_kw"].map(fmt.kw)
    cols = [c for c in RANKED_COLUMNS if c in df.columns]
    return df[cols]


def render() -> None:
    st.title("Plan")
    wl = common.planning_workloads()
    inputs = inputs_sidebar(wl)
    state.sync_query(st.query_params, inputs)
    unit = wl.loc[inputs.workload, "throughput_unit"]
    row = wl.loc[inputs.workload]
    st.caption(f"{row['field']} · {row['task']} · {row['description']} — {inputs.mode}. "
               f"This page's URL holds these inputs: copy it to share the plan.")
    if not inputs.kinds:
        st.warning("Pick at least one device kind in the sidebar.")
        return
    model = common.cost_model()
    assumptions = common.session_assumptions()
    with st.spinner("Ranking setups…"):
        try:
            timed = engine.run_plan(model, inputs, assumptions=assumptions, top=10)
        except Exception as exc:
            st.error(f"Planning failed: {exc}")
            return
    result = timed.result
    demand = inputs.required_throughput()
    ranked = result.ranked if result.ranked is not None else pd.DataFrame()
    header = st.container()
    with header:
        cols = st.columns([3, 1])
        need = fmt.rate(demand, unit)
        cols[0].markdown(f"**Demand:** {need}"
                         + (f" · p99 ≤ {inputs.latency_ms:g} ms" if inputs.latency_ms else "")
                         + (f" · budget {fmt.usd(inputs.budget_usd_month, 'month')}" if inputs.budget_usd_month else "")
                         + (f" · power ≤ {fmt.kw(inputs.power_cap_kw)}" if inputs.power_cap_kw else "")
                         + f" · {inputs.pricing} pricing")
        cols[1].caption(f"server time {timed.seconds * 1000:.0f} ms", help="time the planner took for this ranking")
    if not result.feasible or ranked.empty:
        st.error(f"No setup meets every constraint. {result.why}")
        if getattr(result, "binding", ""):
            st.markdown(f"**Binding constraint:** {result.binding}")
        nearest = getattr(result, "nearest", None)
        if nearest is not None and len(nearest):
            st.subheader("Nearest setups and what they break")
            near = ranked_table(nearest, unit)
            if "breaks" in nearest:
                near.insert(1, "breaks", nearest["breaks"].values)
            st.dataframe(near, hide_index=True, column_config=RANKED_COLUMNS, width="stretch")
        return
    top = ranked.iloc[0]
    st.subheader(f"Best: {int(top['count'])} × {top['device']} · {top['precision']}"
                 + (f" · batch {int(top['batch_size'])}" if pd.notna(top.get("batch_size")) else ""))
    per = unit.replace("/s", "")
    m = st.columns(5)
    m[0].metric("Cost (USD / month)", fmt.usd(top["usd_per_month"]), border=True,
                help=f"{inputs.pricing} pricing; {fmt.usd(top.get('usd_per_million_units'))} per million {per}")
    m[1].metric(unit.capitalize(), fmt.number(top["throughput"]), border=True,
                help=f"interval {fmt.interval(top['low'], top['high'], unit)}")
    m[2].metric("Power", fmt.kw(top["power_kw"]), border=True, help="accelerators plus host share, at this load")
    m[3].metric("Energy / month", fmt.kwh(top.get("energy_kwh_per_month")), border=True,
                help=f"CO₂ {fmt.co2(top.get('co2_kg_per_month'))} / month")
    m[4].metric("Latency p99", fmt.seconds(top.get("latency_p99_s")), border=True)
    b = st.columns([1, 5])
    with b[0]:
        common.basis_badge(str(top["basis"]))
    b[1].caption(f"Interval {fmt.interval(top['low'], top['high'], unit)} · "
                 + (str(top.get("basis_detail")) if "basis_detail" in ranked and pd.notna(top.get("basis_detail"))
                    else BASIS_HELP.get(str(top["basis"]), "")))
    st.info(f"**Why this one:** {result.why}", icon=":material/emoji_events:")
    c = st.columns(2)
    pareto = getattr(result, "pareto", None)
    c[0].plotly_chart(charts.pareto_chart(ranked, pareto, demand, unit), key="pareto_chart")
    c[1].plotly_chart(charts.interval_chart(ranked, unit, demand), key="interval_chart")
    st.subheader("Ranked setups")
    st.dataframe(ranked_table(ranked, unit), hide_index=True, column_config=RANKED_COLUMNS, width="stretch")
    common.save_report_control("plan", state.as_dict(inputs), plan_result=result, assumptions=assumptions, key="plan_save")
