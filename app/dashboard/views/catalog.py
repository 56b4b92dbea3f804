"""Catalog: browse and compare devices; override prices and environment assumptions (never data/)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hwplan.app.dashboard import auth, charts, data, engine
from hwplan.app.dashboard.views import common
from hwplan.core import accounts
from hwplan.core.accounts import PermissionDenied
from hwplan.core.prices import carbon_regions
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
TCO_FIELDS = ("host_usd_per_node", "network_usd_per_node", "facility_usd_per_kw", "facility_life_years",
              "maintenance_fraction")
# label, step; the bounds are Assumptions' own (its validators refuse a bad value, and nothing is applied)
ENV_LABELS = {"electricity_usd_per_kwh": ("Electricity (USD / kWh)", 0.01), "pue": ("PUE", 0.01),
              "utilisation": ("Utilisation of owned hardware", 0.05),
              "carbon_kg_per_kwh": ("Carbon intensity (kg CO₂ / kWh)", 0.01),
              "life_years": ("Hardware life (years)", 0.5),
              "host_usd_per_node": ("Host server per 8-device node (USD)", 1000.0),
              "network_usd_per_node": ("Scale-out network per node (USD)", 1000.0),
              "facility_usd_per_kw": ("Facility build per kW (USD)", 100.0),
              "facility_life_years": ("Facility life (years)", 1.0),
              "maintenance_fraction": ("Maintenance per year (share of capex)", 0.01)}
REGION_KEY = "cat_region"


def explain(exc: Exception) -> str:
    """A validation error as a person reads it: each bad field by its label, what is wrong, the value given."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    out = []
    for e in errors():
        loc = e.get("loc") or ()
        name = str(loc[0]) if loc else ""
        label = ENV_LABELS.get(name, (name.replace("_", " "),))[0] if name != "region" else "Grid region"
        if name == "price_overrides":
            label = "Price override"
        msg = str(e.get("msg", "")).removeprefix("Value error, ")
        given = e.get("input")
        out.append(f"{label}: {msg}" + (f" (you gave {given!r})" if name in ENV_LABELS else ""))
    return "; ".join(out) or str(exc)


def _region_label(regions: pd.DataFrame, rid: str) -> str:
    r = regions.loc[rid]
    return f"{r['name']} · {float(r['kg_co2_per_kwh']):.3g} kg CO₂/kWh"


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
        "bf16_tflops": st.column_config.NumberColumn("BF16 TFLOP/s", format="localized"),
        "fp8_tflops": st.column_config.NumberColumn("FP8 TFLOP/s", format="localized"),
        "int8_tops": st.column_config.NumberColumn("INT8 TOP/s", format="localized"),
        "mem_gb": st.column_config.NumberColumn("memory GB", format="%.0f"),
        "mem_bw_gbs": st.column_config.NumberColumn("bandwidth GB/s", format="localized"),
        "board_power_w": st.column_config.NumberColumn("power W", format="localized"),
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
            st.error(f"Set '{pick}' is invalid, not loaded. {explain(exc)}")
        else:
            st.session_state[common.ASSUMPTIONS_KEY] = payload
            st.session_state[common.ASSUMPTIONS_LABEL_KEY] = f"set '{pick}'"
            st.session_state.pop(REGION_KEY, None)  # the chooser shows the loaded set's region
            st.rerun()
    if top[2].button("Reset to defaults", width="stretch"):
        st.session_state.pop(common.ASSUMPTIONS_KEY, None)
        st.session_state.pop(common.ASSUMPTIONS_LABEL_KEY, None)
        st.session_state.pop(REGION_KEY, None)
        st.rerun()
    st.markdown(f"In use: **{common.plain(common.assumptions_label())}**")
    with st.form("assumptions_form", border=True):
        values = {}
        for fields in (ENV_FIELDS, TCO_FIELDS):
            for col, name in zip(st.columns(len(fields)), fields):
                values[name] = _number(col, name, cur, defaults)
        regions = carbon_regions()
        ids = list(regions.index)
        values["region"] = st.selectbox(
            "Grid region (carbon intensity)", ids, index=ids.index(cur.region) if cur.region in ids else 0,
            format_func=lambda rid: _region_label(regions, rid), key=REGION_KEY,
            help="the grid whose carbon intensity the plan uses when Carbon intensity is empty; "
                 f"{len(ids)} regions from data/carbon_intensity.csv, each with its source. Default: " + _source("region"))
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
        may_save = auth.may(accounts.CREATE)
        save = b[1].form_submit_button("Apply and save as named set", width="stretch", disabled=not may_save,
                                       help=None if may_save else "viewers apply sets for their session; a planner saves")
    if apply or save:
        payload: dict = {"region": values.pop("region")}
        payload.update({k: float(v) for k, v in values.items() if v is not None})  # empty carbon: the region's
        po = {}
        for r in edited.itertuples(index=False):
            entry = {}
            for k, v in (("price_usd", r[3]), ("cloud_usd_per_hour", r[4])):
                if v is not None and pd.notna(v):
                    try:
                        entry[k] = float(v)
                    except (TypeError, ValueError):
                        entry[k] = v  # not a number: Assumptions refuses it, with the device named
            if entry:
                po[r[0]] = entry
        if po:
            payload["price_overrides"] = po
        try:
            engine.make_assumptions(payload)
        except Exception as exc:
            st.error(f"Not applied, nothing was saved. {explain(exc)}")
            return
        st.session_state[common.ASSUMPTIONS_KEY] = payload
        label = "session overrides"
        if save:
            if not (name or "").strip():
                st.error("Give the set a name to save it.")
                return

            try:
                store.put_assumptions(name.strip()[:200], utc_now_iso(), payload, actor=auth.current_user())
            except PermissionDenied as exc:
                st.error(f"Not saved: {common.plain(exc)}")
                return
            label = f"set '{name.strip()[:200]}'"
        st.session_state[common.ASSUMPTIONS_LABEL_KEY] = label
        st.toast(f"Assumptions applied ({label})", icon=":material/check:")
        st.rerun()
    with st.expander("Where the defaults come from"):
        st.dataframe(pd.DataFrame(defaults.defaults_table())[["field", "default", "description", "source"]]
                     .astype({"default": str}), hide_index=True, width="stretch")


def _number(col, name: str, cur: Assumptions, defaults: Assumptions):
    """One assumption's number input: no bounds of its own, so a bad value reaches Assumptions' validators."""
    label, step = ENV_LABELS[name]
    value = getattr(cur, name)
    default = getattr(defaults, name)
    optional = name == "carbon_kg_per_kwh"
    return col.number_input(label, value=None if value is None else float(value), step=step,
                            format="%.0f" if step >= 100 else "%g",
                            placeholder=f"region's: {cur.carbon_intensity():.3g}" if optional else None,
                            help=Assumptions.model_fields[name].description + ". Default "
                            + ("empty (the region's)" if default is None else f"{default:g}") + ": " + _source(name))


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
