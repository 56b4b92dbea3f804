"""The dashboard's entry file: a router. It seeds the store once, then hands the page to a view.

`?report=<id>` shows that saved report read-only instead of the normal pages.
"""

from __future__ import annotations

import streamlit as st

from hwplan.app.dashboard import data, failures
from hwplan.app.dashboard.views import catalog, compare, plan, profiles, reports

try:  # the hosted "Deploy" button means nothing for a local planner
    st.set_option("client.toolbarMode", "viewer")
except Exception:
    pass
st.set_page_config(page_title="hwplan: capacity planner for AI hardware", page_icon=":material/memory:",
                   layout="wide", initial_sidebar_state="expanded")


def saved_report(report_id: str) -> None:
    st.link_button("← Open the dashboard", "./", type="tertiary")
    reports.render_saved(report_id)


def main() -> None:
    url = data.store_url()
    data.ensure_seeded(url, data.data_files_version())
    report_id = st.query_params.get("report")
    if report_id:
        st.navigation([st.Page(lambda: saved_report(report_id), title="Report", url_path="report", default=True)],
                      position="hidden").run()
        return
    pages = [
        st.Page(plan.render, title="Plan", icon=":material/insights:", url_path="plan", default=True),
        st.Page(compare.render, title="Compare", icon=":material/compare_arrows:", url_path="compare"),
        st.Page(profiles.render, title="Profiles", icon=":material/upload_file:", url_path="profiles"),
        st.Page(catalog.render, title="Catalog", icon=":material/memory:", url_path="catalog"),
        st.Page(reports.render_list, title="Reports", icon=":material/bookmarks:", url_path="reports"),
    ]
    st.navigation(pages, position="top").run()


failures.guarded(main)  # a page's failure: an error id here, the traceback in the server's log
