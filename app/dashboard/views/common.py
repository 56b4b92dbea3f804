"""Bits several views share: session assumptions, the save-report control, basis badges."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from hwplan.app import palette
from hwplan.app.dashboard import auth, data, engine
from hwplan.app.dashboard.plaintext import WORD_JOINER, plain  # noqa: F401  (the views' one escaper)
from hwplan.app.reports.snapshot import save_report
from hwplan.core import accounts
from hwplan.core.accounts import User
from hwplan.core.vocab import BASIS_HELP

ASSUMPTIONS_KEY = "assumptions"            # dict of Assumptions fields (session overrides)
ASSUMPTIONS_LABEL_KEY = "assumptions_label"  # "defaults", "session overrides" or a saved set's name
SCENARIO_ORDER = ("image recognition", "object detection", "NLP", "LLM inference", "recommendation",
                  "financial risk scoring", "medical imaging")


def signed_in_bar(user: User, on_sign_out: Callable[[], None]) -> None:
    """Who is signed in, and the button that signs them out (in the sidebar, on every page)."""
    with st.sidebar:
        st.markdown(f"Signed in as **{plain(user.name)}** ({plain(user.role)})")
        st.button("Sign out", key="sign_out", on_click=on_sign_out)


def session_assumptions():
    """The Assumptions this session plans with (defaults until the Catalog page changes them)."""
    values = st.session_state.get(ASSUMPTIONS_KEY) or {}
    try:
        return engine.make_assumptions(values)
    except Exception as exc:
        st.warning(f"The assumption overrides are invalid ({plain(exc)}); using the defaults.")
        return engine.make_assumptions({})


def assumptions_label() -> str:
    overridden = bool(st.session_state.get(ASSUMPTIONS_KEY))
    return st.session_state.get(ASSUMPTIONS_LABEL_KEY) or ("session overrides" if overridden else "defaults")


def basis_badge(basis: str) -> None:
    st.badge(basis, color=palette.BASIS_BADGE.get(basis, "gray"), help=BASIS_HELP.get(basis))


def planning_workloads() -> pd.DataFrame:
    """Workloads a person plans for (the micro-benchmarks are for calibration only)."""
    wl = data.load_workloads()
    return wl[wl["kind"].isin(["model", "llm"])]


def scenario_of(wl: pd.DataFrame) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for field in list(SCENARIO_ORDER) + sorted(set(wl["field"]) - set(SCENARIO_ORDER)):
        ids = wl.index[wl["field"] == field].tolist()
        if ids:
            out[field] = ids
    return out


def workload_label(wl: pd.DataFrame, wid: str) -> str:
    row = wl.loc[wid]
    return f"{wid} — {row['task']}"


def save_report_control(kind: str, inputs: dict, plan_result=None, estimates=None, curves=None, assumptions=None,
                        key: str = "save") -> None:
    """Title + button that saves a frozen report and shows its link (not offered to a viewer: the store would
    refuse it)."""
    user = auth.current_user()
    if not accounts.allowed(user, accounts.CREATE):
        return
    with st.popover("Save report", icon=":material/bookmark_add:"):
        title = st.text_input("Title", key=f"{key}_title", placeholder="e.g. Q3 inference fleet for resnet50")
        author = st.text_input("Author", key=f"{key}_author", value="")
        shared = st.checkbox("Share with the team", key=f"{key}_shared", value=False,
                             help="shared: everyone signed in sees it in Reports and can open its link; not shared: "
                                  "only you and the admins")
        if st.button("Save", key=f"{key}_button", type="primary", disabled=not (title or "").strip()):
            try:
                rid = save_report(data.get_store(data.store_url()), title=title.strip(), author=author.strip(), kind=kind,
                                  inputs=inputs, plan_result=plan_result, estimates=estimates, curves=curves,
                                  assumptions=assumptions, actor=user, shared=shared)
            except Exception as exc:
                st.error(f"The report could not be saved: {plain(exc)}")
            else:
                st.session_state[f"{key}_last_id"] = rid
        rid = st.session_state.get(f"{key}_last_id")
        if rid:
            who = ("Anyone with this link sees" if auth.mode() == "none" else
                   "This link shows you, the admins and (if shared) everyone signed in")
            st.success(f"Saved. {who} the report as it is now:")
            st.markdown(f"[?report={rid}](/?report={rid})")
            st.code(f"?report={rid}", language=None)


def cost_model():
    """The performance model fitted on the store's rows (from the cost model's cache)."""
    return data.model()
