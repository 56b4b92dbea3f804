"""Profiles: upload results (validated like `hwplan import`), browse and filter everything stored."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hwplan.app.dashboard import auth, charts, data, upload
from hwplan.app.dashboard.views.common import plain
from hwplan.core import accounts, fmt
from hwplan.core.tableio import write_table

ENERGY_BASIS = {
    "nvml": "measured on the device (NVIDIA NVML)",
    "amdsmi": "measured on the device (AMD SMI)",
    "rapl": "measured on the CPU package (Intel/AMD RAPL)",
    "wall-meter": "measured at the wall (whole system)",
    "estimated-tdp": "estimated from board power (TDP)",
    "published": "published with the result (e.g. MLPerf Power)",
    "none": "no energy measured",
}
SOURCE_BASIS = {"profiler": "measured by hwplan's profiler", "upload": "uploaded by a user",
                "published": "published (vendor or MLPerf)"}
OUTCOME_KEY = "upload_outcome"


def _upload_section(url: str) -> None:
    st.subheader("Upload results")
    user = auth.current_user()
    if not accounts.allowed(user, accounts.CREATE):
        st.caption("Viewers browse the stored results; a planner or an admin uploads them.")
        return
    st.caption(f"CSV, JSON, JSONL or Parquet in the Measurement schema, or an MLPerf results table; up to "
               f"{upload.MAX_UPLOAD_MB} MB per file. Every row is checked first: if any row has a problem, every "
               "problem is listed and nothing is stored.")
    ss = st.session_state
    ss.setdefault("upload_nonce", 0)
    files = st.file_uploader("Result files", type=list(upload.ACCEPTED_TYPES), accept_multiple_files=True,
                             key=f"uploader_{ss['upload_nonce']}", max_upload_size=upload.MAX_UPLOAD_MB)
    if st.button("Validate and import", type="primary", disabled=not files, icon=":material/upload:"):
        items = [(f.name, f.getvalue()) for f in files]
        with st.spinner(f"Checking {len(items)} file(s)…"):
            outcome = upload.upload(data.get_store(url), items, actor=user)
        ss[OUTCOME_KEY] = outcome
        ss["upload_nonce"] += 1  # an empty picker for the next try; the outcome below stays
        st.rerun()
    outcome = ss.get(OUTCOME_KEY)
    if outcome is None:
        return
    if outcome.ok:
        st.success(f"Imported: {plain(outcome.summary)} ({outcome.rows_read:,} row(s) read).", icon=":material/check_circle:")
        if outcome.files:
            st.dataframe(pd.DataFrame(outcome.files), hide_index=True)
    else:
        st.error(f"Upload refused: {plain(outcome.summary)}.", icon=":material/error:")
        st.dataframe(outcome.problems, hide_index=True, width="stretch",
                     column_config={"row": st.column_config.NumberColumn("row", help="line in a CSV (header = 1), "
                                                                         "record in JSON/Parquet; 0 = the whole file")})
        st.download_button("Download the problems (CSV)", write_table(outcome.problems, "csv", None),
                           file_name="upload-problems.csv", mime="text/csv")


def preset_filters(df) -> None:
    """A link's ?source=&device=&workload=&precision= preset the filters once (the Plan page links its rows here)."""
    ss, q = st.session_state, st.query_params
    if ss.get("prof_link_read"):
        return
    ss["prof_link_read"] = True
    for key, col in (("source", "source"), ("device", "device"), ("workload", "workload"), ("precision", "precision")):
        want = [v for v in q.get_all(key) if v in set(df[col])]
        if want:
            ss["prof_" + key] = want


def _browse(url: str) -> None:
    st.subheader("Stored results")
    df = data.measurements(url, data.store_version(url))
    if df.empty:
        st.info("No results stored yet. Upload a file above, or run `hwplan profile`.")
        return
    preset_filters(df)
    f = st.columns(4)
    sources = f[0].multiselect("Source", sorted(df["source"].unique()), key="prof_source", placeholder="all")
    devices = f[1].multiselect("Device", sorted(df["device"].unique()), key="prof_device", placeholder="all")
    workloads = f[2].multiselect("Workload", sorted(df["workload"].unique()), key="prof_workload", placeholder="all")
    precisions = f[3].multiselect("Precision", sorted(df["precision"].unique()), key="prof_precision", placeholder="all")
    view = df
    for col, chosen in (("source", sources), ("device", devices), ("workload", workloads), ("precision", precisions)):
        if chosen:
            view = view[view[col].isin(chosen)]
    m = st.columns(4)
    m[0].metric("Results", f"{len(view):,}", border=True)
    m[1].metric("Devices", f"{view['device'].nunique():,}", border=True)
    m[2].metric("Workloads", f"{view['workload'].nunique():,}", border=True)
    m[3].metric("With energy", f"{int((view['energy_method'] != 'none').sum()):,}", border=True,
                help="rows with an energy figure: measured by a sensor, published, or estimated from board power "
                "(the energy basis column says which)")
    table = view.assign(
        basis=view["source"].map(SOURCE_BASIS).fillna(view["source"]),
        energy_basis=view["energy_method"].map(ENERGY_BASIS).fillna(view["energy_method"]),
        throughput_text=[fmt.rate(v, u) for v, u in zip(view["throughput"], view["throughput_unit"])],
    )
    # A blank cell reads better than "None": MLPerf publishes no batch size, most rows carry no power.
    for col, spec in (("batch_size", "{:.0f}"), ("latency_p99_s", "{:.4g}"), ("power_avg_w", "{:.0f}"),
                      ("energy_per_unit_j", "{:.4g}")):
        table[col] = ["" if pd.isna(v) else spec.format(float(v)) for v in table[col]]
    cols = ["source", "basis", "workload", "mode", "scenario", "precision", "batch_size", "device", "device_count",
            "throughput_text", "latency_p99_s", "power_avg_w", "energy_per_unit_j", "energy_method", "energy_basis",
            "backend", "measured_at", "source_ref", "run_id"]
    st.dataframe(table[cols], hide_index=True, width="stretch", height=420, column_config={
        "throughput_text": st.column_config.TextColumn("throughput"),
        "device_count": st.column_config.NumberColumn("devices"),
        "latency_p99_s": st.column_config.TextColumn("latency p99 (s)"),
        "power_avg_w": st.column_config.TextColumn("power (W)"),
        "energy_per_unit_j": st.column_config.TextColumn("energy / unit (J)"),
        "energy_basis": st.column_config.TextColumn("energy basis", width="medium"),
        "basis": st.column_config.TextColumn("basis", width="medium"),
        "source_ref": st.column_config.TextColumn("reference", width="medium"),
    })
    st.download_button("Download these rows (CSV)", write_table(view, "csv", None), file_name="hwplan-results.csv",
                       mime="text/csv", icon=":material/download:")
    st.plotly_chart(charts.source_counts_chart(view), key="source_counts")


def render() -> None:
    st.title("Profiles")
    url = data.store_url()
    _upload_section(url)
    st.divider()
    _browse(url)
