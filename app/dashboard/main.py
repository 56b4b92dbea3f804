"""The dashboard's entry file: a router. It seeds the store once, then hands the page to a view.

`?report=<id>` shows that saved report read-only instead of the normal pages. Before any page runs,
`auth.signed_in()` says who is there; until someone is, the sign-in form stands in for every page (unless the
dashboard runs for a single user: `hwplan app --auth`).
"""

from __future__ import annotations

import streamlit as st

from hwplan.app.dashboard import auth, data, failures
from hwplan.app.dashboard.views import catalog, common, compare, plan, profiles, reports

try:  # the hosted "Deploy" button means nothing for a local planner
    st.set_option("client.toolbarMode", "viewer")
except Exception:
    pass
# No page_icon and no page icons: Streamlit draws a :material/...: or emoji icon as the favicon from an image it
# fetches off the internet (fonts.gstatic.com, a CDN) on every page; its own favicon is served by this server.
st.set_page_config(page_title="hwplan: capacity planner for AI hardware", layout="wide",
                   initial_sidebar_state="expanded")


WANTED_PAGE_KEY = "page_before_sign_in"


def saved_report(report_id: str) -> None:
    st.link_button("← Open the dashboard", "./", type="tertiary")
    reports.render_saved(report_id)


def main() -> None:
    url = data.store_url()
    data.ensure_seeded(url, data.data_files_version())
    user = auth.signed_in()  # None: no one signed in yet (without sign-in: the local admin)
    report_id = st.query_params.get("report")
    if report_id:
        pages = [st.Page(lambda: saved_report(report_id), title="Report", url_path="report", default=True)]
    else:
        pages = [
            st.Page(plan.render, title="Plan", url_path="plan", default=True),
            st.Page(compare.render, title="Compare", url_path="compare"),
            st.Page(profiles.render, title="Profiles", url_path="profiles"),
            st.Page(catalog.render, title="Catalog", url_path="catalog"),
            st.Page(reports.render_list, title="Reports", url_path="reports"),
        ]
    # The pages are named before the gate so the address asked for (a page, a report link) is the one shown after
    # signing in; no page runs, and none is listed, until someone is signed in.
    page = st.navigation(pages, position="top" if user is not None and not report_id else "hidden")
    if user is None:
        st.session_state.setdefault(WANTED_PAGE_KEY, page.url_path)
        auth.sign_in_form()
        st.stop()
    wanted = st.session_state.pop(WANTED_PAGE_KEY, None)  # the page asked for before signing in
    if wanted and wanted != page.url_path:
        st.switch_page(next(p for p in pages if p.url_path == wanted))
    if auth.mode() != "none":
        common.signed_in_bar(user, auth.sign_out)
    page.run()


failures.guarded(main)  # a page's failure: an error id here, the traceback in the server's log
