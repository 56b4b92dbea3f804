"""Compare: 2–6 setups side by side — curves, roofline, scaling, measured against predicted."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hwplan.app.dashboard import charts, compare_data, data
from hwplan.app.dashboard.views import common
from hwplan.core import fmt

SETUPS_KEY = "compare_setups"
VERSION_KEY = "compare_editor_version"


def _init(known_devices: set[str], workloads: set[str]) -> None:
    ss = st.session_state
    if SETUPS_KEY not in ss:
        q = st.query_params
        setups = compare_data.parse_setups(q.get("setups"), known_devices)
        ss[SETUPS_KEY] = setups if len(setups) >= 1 else [dict(s) for s in compare_data.DEFAULT_SETUPS]
        if q.get("workload") in workloads:
            ss["compare_workload"] = q.get("workload")
        if q.get("mode") in ("inference", "training"):
            ss["compare_mode"] = q.get("mode")
    ss.setdefault(VERSION_KEY, 0)
    ss.setdefault("compare_workload", "resnet50" if "resnet50" in workloads else sorted(workloads)[0])
    ss.setdefault("compare_mode", "inference")


def _apply_edits() -> None:
    """Fold the editor's changes into the setups list (the editor is then rebuilt from it)."""
    ss = st.session_state
    key = f"compare_editor_{ss[VERSION_KEY]}"
    edits = ss.get(key) or {}
    rows = [dict(r) for r in ss[SETUPS_KEY]]
    for i, change in (edits.get("edited_rows") or {}).items():
        rows[int(i)].update({k: v for k, v in change.items() if v is not None})
    for i in sorted(edits.get("deleted_rows") or [], reverse=True):
        rows.pop(int(i))
    for new in edits.get("added_rows") or []:
        if new.get("device"):
            rows.append({"device": new["device"], "count": int(new.get("count") or 1),
                         "precision": new.get("precision") or "auto"})
    ss[SETUPS_KEY] = [r for r in rows if r.get("device")][: compare_data.MAX_SETUPS]
    ss[VERSION_KEY] += 1


def render() -> None:
    st.title("Compare")
    wl = common.planning_workloads()
    cat = data.load_catalog()
    _init(set(cat.index), set(wl.index))
    ss = st.session_state
    top = st.columns([2, 1, 1, 1])
    top[0].selectbox("Workload", list(wl.index), key="compare_workload", format_func=lambda w: common.workload_label(wl, w))
    wid = ss["compare_workload"]
    modes = [m for m in ("inference", "training") if m in str(wl.loc[wid, "modes"]).split(";")]
    if ss["compare_mode"] not in modes:
        ss["compare_mode"] = modes[0]
    top[1].segmented_control("Mode", modes, key="compare_mode")
    mode = ss["compare_mode"] or modes[0]
    top[2].segmented_control("Cost", ["cloud", "owned"], key="compare_pricing", default="cloud")
    pricing = ss.get("compare_pricing") or "cloud"
    unit = wl.loc[wid, "throughput_unit"]
    per = unit.replace("/s", "")

    with st.expander("Setups (2–6): device, count, precision", expanded=True):
        st.data_editor(
            pd.DataFrame(ss[SETUPS_KEY], columns=["device", "count", "precision"]),
            key=f"compare_editor_{ss[VERSION_KEY]}", on_change=_apply_edits, num_rows="dynamic", hide_index=True,
            width="stretch",
            column_config={
                "device": st.column_config.SelectboxColumn("device", options=list(cat.index), required=True, width="large"),
                "count": st.column_config.NumberColumn("devices", min_value=1, max_value=4096, step=1, default=1, required=True),
                "precision": st.column_config.SelectboxColumn("precision", options=["auto", *compare_data.PRECISIONS],
                                                              default="auto", required=True),
            })
    setups = ss[SETUPS_KEY]
    st.query_params.from_dict({"workload": wid, "mode": mode, "setups": compare_data.setups_to_text(setups)})
    if len(setups) < 2:
        st.info("Add at least two setups to compare.")
        if not setups:
            return
    model = common.cost_model()
    assumptions = common.session_assumptions()
    ests, errors = compare_data.estimates(model, wid, setups, mode, assumptions)

    cards = st.columns(len(setups))
    for col, s, e, err in zip(cards, setups, ests, errors):
        with col.container(border=True):
            st.markdown(f"**{compare_data.label(s)}**")
            if e is None:
                st.error(err)
                continue
            st.metric("Throughput", fmt.rate(e.throughput, unit), help=f"interval {fmt.interval(e.low, e.high, unit)}")
            cost = e.usd_per_million_units_cloud if pricing == "cloud" else e.usd_per_million_units_owned
            st.metric(f"Cost per million {per}", fmt.usd(cost), help=f"{pricing} pricing; "
                      f"{fmt.usd(e.usd_per_month_cloud if pricing == 'cloud' else e.usd_per_month_owned, 'month')}")
            st.metric(f"{per} per joule", fmt.number(e.throughput / e.power_w if e.power_w else None),
                      help=f"power {fmt.watts(e.power_w)} ({e.power_scope})")
            common.basis_badge(e.basis)
            st.caption(f"{e.precision} · batch {e.batch_size} · {e.bound}-bound · "
                       f"{fmt.interval(e.low, e.high, unit)}" + (f" · {e.note}" if e.note else ""))

    ok = [s for s, e in zip(setups, ests) if e is not None]
    resolved = [dict(s, precision=e.precision) for s, e in zip(setups, ests) if e is not None]
    devices = [s["device"] for s in ok]
    all_precisions = st.toggle("Curves for every supported precision", key="compare_all_precisions",
                               help="off: each setup at its chosen precision (auto = the fastest allowed)")
    with st.spinner("Computing curves…"):
        curves = compare_data.curves(model, wid, ok if all_precisions else resolved, assumptions, mode)
        if pricing == "owned" and not curves.empty:
            curves = curves.assign(usd_per_million_units=curves["usd_per_million_units_owned"])
        scaling = compare_data.scaling(model, wid, ok, mode)
        meas = data.measurements(data.store_url(), data.store_version(data.store_url()))
        mvp = compare_data.measured_vs_predicted(model, meas, wid, devices, mode)
        roof_dev = compare_data.roofline_devices(cat, [(s["device"], s["precision"]) for s in resolved])
        roof_pts = compare_data.roofline_points(model, meas, wid, devices, mode)
    c = st.columns(2)
    c[0].plotly_chart(charts.perf_per_watt_chart(curves, unit), key="ppw_chart")
    c[1].plotly_chart(charts.cost_curve_chart(curves, unit), key="cost_chart")
    c = st.columns(2)
    c[0].plotly_chart(charts.roofline_chart(roof_dev, roof_pts), key="roofline_chart")
    c[1].plotly_chart(charts.scaling_chart(scaling), key="scaling_chart")
    st.plotly_chart(charts.measured_vs_predicted_chart(mvp, unit), key="mvp_chart")
    if not mvp.empty:
        st.caption(f"{len(mvp)} stored measurement(s) of these devices on {wid}; error bars are the model's 80% interval.")
    common.save_report_control(
        "compare", {"workload": wid, "mode": mode, "pricing": pricing, "setups": setups},
        estimates=[e.as_dict() for e in ests if e is not None],
        curves={"curves": curves, "scaling": scaling, "measured_vs_predicted": mvp}, assumptions=assumptions,
        key="compare_save")
