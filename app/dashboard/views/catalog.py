"""Catalog: browse and compare devices; override prices and environment assumptions (never data/)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hwplan.app.dashboard import charts, data, engine
from hwplan.app.dashboard.views import common
from hwplan.core.schema import utc_now_iso
from hwplan.costmodel.assumptions import DEFAULT_SOURCES, Assumptions

SPEC_CHOICES = {
    "bf16_tflops": ("Peak BF16 (dense)", "TFLOP/s"),
    "fp8_tflops": ("Peak FP8 (dense)", "TFLOP/s"),
    "int8_tops": ("Peak INT8 (dense)", "TOP/s"),
    "fp32_tflops": ("Peak FP32", "TFLOP/s"),
    "mem_gb": ("Memory", "GB"),
    "mem_bw_gbs": ("Memory bandwidth", "GB/s"),
    "board_power_w": ("Board power", "W"),
    "cloud_usd_per_hour": ("Cloud price", "USD / device-hour"),
    "price_usd": ("List price", "USD"),
    "bf16_per_watt": ("BF16 per watt", "TFLOP/s per W"),
}
ENV_FIELDS = ("electricity_usd_per_kwh", "pue", "utilisation", "carbon_kg_per_kwh", "life_years")
ENV_LABELS = {"electricity_usd_per_kwh": ("Electricity (USD / kWh)", 0.0, None, 0.01),
              "pue": ("PUE", 1.0, 5.0, 0.01), "utilisation": ("Utilisation of owned hardware", 0.01, 1.0, 0.05),
              "carbon_kg_per_kwh": ("Carbon intensity (kg CO₂ / kWh)", 0.0, None, 0.01),
              "life_years": ("Hardware life (years)", 0.5, 20.0, 0.5)}


def _device_table(cat: pd.DataFrame) -> None:
    f = st.columns([2, 2, 3])
    kinds = f[0].multiselect("Kind", sorted(cat["kind"].unique()), key="cat_kind", placeholder="all")
    vendors = f[1].multiselect("Vendor", sorted(cat["vendor"].unique()), key="cat_vendor", placeholder="all")
    view = cat
    if kinds:
        view = view[view["kind"].isin(kinds)]
    if vendors:
        view = view[view["vendor"].isin(vendors)]
    cols = ["id", "vendor", "kind", "launch_year", "bf16_tflops", "fp8_tflops", "int8_tops", "mem_gb", "mem_bw_gbs",
            "board_power_w", "price_usd", "cloud_usd_per_hour", "cloud_provider", "source"]
    st.dataframe(view[cols], hide_index=True, width="stretch", height=640, column_config={
        "launch_year": st.column_config.NumberColumn("year", format="%d"),
        "bf16_tflops": st.column_config.NumberColumn("BF16 TFLOP/s", format="%.0f"),
        "fp8_tflops": st.column_config.NumberColumn("FP8 TFLOP/s", format="%.0f"),
        "int8_tops": st.column_config.NumberColumn("INT8 TOP/s", format="%.0f"),
        "mem_gb": st.column_config.NumberColumn("memory GB", format="%.0f"),
        "mem_bw_gbs": st.column_config.NumberColumn("bandwidth GB/s", format="%.0f"),
        "board_power_w": st.column_config.NumberColumn("power W", format="%.0f"),
        "price_usd": st.column_config.NumberColumn("list price", format="dollar"),
        "cloud_usd_per_hour": st.column_config.NumberColumn("cloud $/h", format="$%.2f"),
        "source": st.column_config.TextColumn("source", width="medium"),
    })
    st.caption(f"{len(view)} of {len(cat)} devices from data/catalog.csv; every row cites its source.")


def _compare_chart(cat: pd.DataFrame) -> None:
    st.subheader("Compare devices")
    c = st.columns([3, 2])
    default = [d for d in ("nvidia-h100-sxm", "nvidia-a100-sxm-80gb", "nvidia-l4", "amd-mi300x", "google-tpu-v5e",
                           "intel-gaudi2") if d in cat.index]
    chosen = c[0].multiselect("Devices", list(cat.index), default=default, key="cat_compare")
    spec = c[1].selectbox("Spec", list(SPEC_CHOICES), format_func=lambda k: SPEC_CHOICES[k][0], key="cat_spec")
    df = cat.loc[chosen] if chosen else cat.iloc[0:0]
    df = df.assign(bf16_per_watt=df["bf16_tflops"] / df["board_power_w"])
    title, unit = SPEC_CHOICES[spec]
    st.plotly_chart(charts.catalog_bar_chart(df, spec, title, unit), key="catalog_chart")


def _current() -> dict:
    return dict(st.session_state.get(common.ASSUMPTIONS_KEY) or {})


def _assumptions(cat: pd.DataFrame, url: str) -> None:
    st.subheader("Assumptions")
    st.caption("Used by Plan and Compare in this session. Overrides never edit data/; save a named set to reuse it.")
    store = data.get_store(url)
    defaults = engine.make_assumptions({})
    cur = engine.make_assumptions(_current()) if _current() else defaults
    names = store.list_assumptions()
    top = st.columns([2, 1, 1])
    pick = top[0].selectbox("Saved assumption sets", ["—"] + names, key="cat_set_pick")
    if top[1].button("Load", disabled=pick == "—", width="stretch"):
        payload = store.get_assumptions(pick) or {}
        try:
            engine.make_assumptions(payload)
        except Exception as exc:
            st.error(f"Set '{pick}' is invalid: {exc}")
        else:
            st.session_state[common.ASSUMPTIONS_KEY] = payload
            st.session_state[common.ASSUMPTIONS_LABEL_KEY] = f"set '{pick}'"
            st.rerun()
    if top[2].button("Reset to defaults", width="stretch"):
        st.session_state.pop(common.ASSUMPTIONS_KEY, None)
        st.session_state.pop(common.ASSUMPTIONS_LABEL_KEY, None)
        st.rerun()
    st.markdown(f"In use: **{common.assumptions_label()}**")
    with st.form("assumptions_form", border=True):
        cols = st.columns(len(ENV_FIELDS))
        values = {}
        for col, name in zip(cols, ENV_FIELDS):
            label, lo, hi, step = ENV_LABELS[name]
            values[name] = col.number_input(label, min_value=lo, max_value=hi, step=step, value=float(getattr(cur, name)),
                                            help=Assumptions.model_fields[name].description + ". Default "
                                            f"{getattr(defaults, name):g}: " + _source(name))
        st.markdown("**Price overrides** (empty = the catalog's price)")
        overrides = cur.price_overrides
        price_df = pd.DataFrame({
            "device": cat["id"], "catalog list price": cat["price_usd"], "catalog cloud $/h": cat["cloud_usd_per_hour"],
            "list price": [overrides.get(d, {}).get("price_usd") for d in cat["id"]],
            "cloud $/h": [overrides.get(d, {}).get("cloud_usd_per_hour") for d in cat["id"]],
        })
        edited = st.data_editor(price_df, hide_index=True, width="stretch", height=260, key="cat_prices",
                                disabled=["device", "catalog list price", "catalog cloud $/h"], column_config={
                                    "catalog list price": st.column_config.NumberColumn(format="dollar"),
                                    "catalog cloud $/h": st.column_config.NumberColumn(format="$%.2f"),
                                    "list price": st.column_config.NumberColumn(min_value=0.0, format="dollar"),
                                    "cloud $/h": st.column_config.NumberColumn(min_value=0.0, format="$%.2f")})
        name = st.text_input("Name (to save as a set)", placeholder="e.g. our colo, 2026 prices", key="cat_set_name")
        b = st.columns(2)
        apply = b[0].form_submit_button("Apply for this session", type="primary", width="stretch")
        save = b[1].form_submit_button("Apply and save as named set", width="stretch")
    if apply or save:
        payload = {k: float(v) for k, v in values.items()}
        po = {}
        for r in edited.itertuples(index=False):
            entry = {}
            if pd.notna(r[3]):
                entry["price_usd"] = float(r[3])
            if pd.notna(r[4]):
                entry["cloud_usd_per_hour"] = float(r[4])
            if entry:
                po[r[0]] = entry
        if po:
            payload["price_overrides"] = po
        try:
            engine.make_assumptions(payload)
        except Exception as exc:
            st.error(f"Not applied: {exc}")
            return
        st.session_state[common.ASSUMPTIONS_KEY] = payload
        label = "session overrides"
        if save:
            if not (name or "").strip():
                st.error("Give the set a name to save it.")
                return

            store.put_assumptions(name.strip()[:200], utc_now_iso(), payload)
            label = f"set '{name.strip()[:200]}'"
        st.session_state[common.ASSUMPTIONS_LABEL_KEY] = label
        st.toast(f"Assumptions applied ({label})", icon=":material/check:")
        st.rerun()
    with st.expander("Where the defaults come from"):
        st.dataframe(pd.DataFrame(defaults.defaults_table())[["field", "default", "description", "source"]]
                     .astype({"default": str}), hide_index=True, width="stretch")


def _source(name: str) -> str:
    return DEFAULT_SOURCES.get(name, "")


def render() -> None:
    st.title("Catalog")
    cat = data.load_catalog()
    url = data.store_url()
    tabs = st.tabs(["Devices", "Compare", "Assumptions"])
    with tabs[0]:
        _device_table(cat)
    with tabs[1]:
        _compare_chart(cat)
    with tabs[2]:
        _assumptions(cat, url)
