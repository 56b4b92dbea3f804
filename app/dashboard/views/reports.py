"""The Reports page (list, open, delete) and the read-only view of one saved report (`?report=<id>`).

Thin: widgets and calls. What a report shows is decided in `hwplan.app.reports.summary` / `detail` from
the saved snapshot alone, so the view shows a report exactly as saved. User text goes through
`md()` (`common.plain`) before any Markdown element, so a title cannot add headings, links, images or markup.
Each user sees the reports they may read (`hwplan.core.accounts`), and a delete control only where they may delete.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import streamlit as st

from hwplan.app.dashboard import auth
from hwplan.app.dashboard.views.common import plain
from hwplan.app.reports.detail import detail_tables
from hwplan.app.reports.export import render
from hwplan.app.reports.snapshot import is_valid_id, load_report
from hwplan.app.reports.summary import build_summary
from hwplan.core import accounts
from hwplan.core.accounts import PermissionDenied, User
from hwplan.core.paths import default_db_url
from hwplan.core.store import Store

NOT_FOUND = "report not found"
_CONFIRM_KEY = "reports_confirm_delete"


md = plain  # every text of a report is shown through it


@st.cache_resource(show_spinner=False)
def _open_store(url: str):
    return Store.open(url)


def _store(store=None):
    if store is not None:
        return store

    return _open_store(default_db_url())


def file_stem(title: str) -> str:
    """A download file name from the title (never from the id): letters, digits, '-' only."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()[:60]
    return stem or "hwplan-report"


def render_list(store=None, user: User | None = None) -> None:
    """The saved reports this user may see (their own, the shared ones, and all for an admin) with title, author
    and date; open, or delete after confirming where they may."""
    store = _store(store)
    user = user or auth.current_user()
    st.title("Reports")
    st.caption("Saved reports are frozen snapshots: they show the plan exactly as saved, even after the "
               "catalog or the data change. A shared report is listed, and its link opens, for everyone signed in; "
               "one not shared, for its owner and the admins.")
    reports = store.list_reports(user)
    if reports.empty:
        st.info("No reports saved yet. Make a plan on the Plan page (or a comparison on Compare) and press "
                "**Save report**.")
        return
    pending = st.session_state.get(_CONFIRM_KEY)
    for row in reports.itertuples(index=False):
        if not is_valid_id(row.id):
            continue
        with st.container(border=True):
            left, mid, right = st.columns([6, 1, 1])
            owner = f" · saved by {md(row.owner)}" if row.owner else ""
            left.markdown(f"**{md(row.title)}**  \n{md(row.author) or 'unknown author'} · {md(_when(row.created_at))}"
                          f"{owner}{' · shared' if row.shared else ''}")
            left.code(f"?report={row.id}", language=None)
            if mid.button("Open", key=f"open-{row.id}"):
                st.query_params["report"] = row.id
                st.rerun()
            if not accounts.allowed(user, accounts.MODIFY, row.owner):
                continue
            if right.button("Delete", key=f"delete-{row.id}"):
                st.session_state[_CONFIRM_KEY] = row.id
                st.rerun()
            if pending == row.id:
                st.warning(f"Delete the report '{md(row.title)}'? Its link will stop working. This cannot be undone.")
                yes, no = st.columns(2)
                if yes.button("Yes, delete", key=f"confirm-{row.id}", type="primary"):
                    st.session_state.pop(_CONFIRM_KEY, None)
                    try:
                        store.delete_report(row.id, actor=user)
                    except PermissionDenied as exc:
                        st.error(str(exc))
                        return
                    st.toast("Report deleted")
                    st.rerun()
                if no.button("Cancel", key=f"cancel-{row.id}"):
                    st.session_state.pop(_CONFIRM_KEY, None)
                    st.rerun()


def _downloads(snap) -> None:
    stem = file_stem(snap.title)
    cols = st.columns(4)
    for col, (label, fmt, ext, mime) in zip(cols, (
            ("HTML", "html", "html", "text/html"), ("PDF", "pdf", "pdf", "application/pdf"),
            ("Markdown", "md", "md", "text/markdown"), ("CSV", "csv", "csv", "text/csv"))):
        col.download_button(f"Download {label}", data=lambda f=fmt: render(snap, f), file_name=f"{stem}.{ext}",
                            mime=mime, key=f"dl-{fmt}", on_click="ignore", width="stretch")


def _table(rows: list[dict[str, str]] | list[list[str]], columns: list[str] | None = None) -> None:
    df = pd.DataFrame(rows, columns=columns) if columns else pd.DataFrame(rows)
    st.dataframe(df, hide_index=True, width="stretch")


def _short_table(rows: list[dict[str, str]]) -> None:
    """A few summary rows, every word visible (st.table wraps; st.dataframe would clip)."""
    st.table(pd.DataFrame(rows).set_index(next(iter(rows[0]))))


def _when(created_at: str) -> str:
    return created_at.replace("T", " ")[:16] + " UTC" if len(created_at) >= 16 else created_at


def render_saved(report_id: str, store=None, user: User | None = None) -> None:
    """One saved report, read-only, exactly as saved; or only 'report not found' (also for one this user may not
    read: whether it exists is not told)."""
    store = _store(store)
    user = user or auth.current_user()
    snap = load_report(store, report_id) if is_valid_id(report_id) and store.may_read_report(report_id, user) else None
    if snap is None:
        st.error(NOT_FOUND)
        return
    s = build_summary(snap)
    st.title(md(snap.title))
    st.caption(md(s.subtitle) + " · read-only snapshot")
    _downloads(snap)
    (st.success if s.feasible else st.error)(md(s.headline))
    if s.why:
        st.caption(md(s.why))
    if s.bom:
        st.subheader("Bill of materials")
        _short_table(s.bom)
    if s.figures:
        cols = st.columns(3)
        for i, (label, value) in enumerate(s.figures):
            cols[i % 3].markdown(f"{md(label)}  \n**{md(value)}**")
    if s.tco:
        st.subheader("Total cost of ownership of the recommendation")
        _short_table(s.tco)
    for label, value in s.cost_basis:
        if label == "Cloud price" and s.price_stale:
            st.warning(f"**{md(label)}:** {md(value)}", icon=":material/schedule:")
        else:
            st.caption(f"**{md(label)}:** {md(value)}")
    if s.targets:
        st.subheader("Against the target")
        _short_table(s.targets)
    if s.runners_up:
        st.subheader("Runner-up options and why they lost" if s.feasible else "Nearest setups and what they break")
        _short_table(s.runners_up)
    if s.risks:
        st.subheader("Main risks and assumptions")
        st.markdown("\n".join(f"- {md(r)}" for r in s.risks))
        if s.assumptions:
            st.markdown("; ".join(f"{md(k)}: **{md(v)}**" for k, v in s.assumptions))
    st.header("Detail")
    if snap.charts:
        import plotly.io as pio

        for c in snap.charts:
            st.plotly_chart(pio.from_json(json.dumps(c.figure), skip_invalid=True), theme=None,
                            key=f"chart-{c.name}", config={"displaylogo": False})
    for t in detail_tables(snap):
        with st.expander(md(t.title), expanded=t.title.startswith("Ranked")):
            _table(t.rows, t.columns)
            if t.note:
                st.caption(md(t.note))
