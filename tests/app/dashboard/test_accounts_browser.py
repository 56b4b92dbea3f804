"""A team store in Debian's chromium: the sign-in gate, what a viewer may not do, user text shown as typed, and
no request leaving the server.

One server for the module, on a copy of the session's seeded store with three users (so `hwplan app`'s
`--auth auto` asks for a sign-in) and one shared report of a planner's, whose author is Markdown bait.
"""

from __future__ import annotations

import re
import shutil

import pytest

from hwplan.app.dashboard.views.common import WORD_JOINER
from hwplan.app.reports.snapshot import save_report
from hwplan.core.accounts import PermissionDenied, User
from hwplan.core.store import Store
from tests.app.conftest import AppServer
from tests.app.dashboard.browsing import WAIT_MS, wait_text

pytestmark = pytest.mark.browser

PASSWORDS = {"root": "root's password", "ana": "ana's password", "vic": "vic's password"}
BAIT = "# x http://evil.example"


@pytest.fixture(scope="module")
def team(tmp_path_factory, seeded_db, model_cache):
    db = str(tmp_path_factory.mktemp("team") / "team.db")
    shutil.copy(seeded_db, db)
    store = Store.open(db)
    for name, role in (("root", "admin"), ("ana", "planner"), ("vic", "viewer")):
        store.add_user(name, PASSWORDS[name], role)
    rid = save_report(store, title="Q3 fleet", author=BAIT, inputs={"workload": "resnet50"}, actor=User("ana", "planner"),
                      shared=True)
    srv = AppServer(db, model_cache).start()
    yield srv, store, rid
    srv.stop()
    store.close()


def sign_in(page, url: str, name: str, password: str | None = None) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password or PASSWORDS[name])
    page.get_by_role("button", name="Sign in").click()
    wait_text(page, "Signed in as")


def go(page, name: str) -> None:
    """Another page through the top navigation (a new page load would be a new session, signed out)."""
    page.get_by_test_id("stTopNavLink").filter(has_text=name).first.click()


def test_an_anonymous_visitor_sees_only_the_sign_in_form(team, page, shots):
    srv, _, rid = team
    for path in ("/", f"/?report={rid}", "/reports"):
        page.goto(srv.url + path)
        page.get_by_role("button", name="Sign in").wait_for(timeout=WAIT_MS)
        page.wait_for_timeout(500)
        body = page.inner_text("body")
        assert "Plan" not in [h.inner_text() for h in page.locator("h1").all()]
        assert "Why this one" not in body and "Q3 fleet" not in body and "Save report" not in body
    page.screenshot(path=str(shots / "sign-in.png"))
    page.get_by_role("textbox", name="Name").fill("ana")
    page.get_by_role("textbox", name="Password").fill("not her password")
    page.get_by_role("button", name="Sign in").click()
    wait_text(page, "Wrong name or password.")
    assert "Signed in as" not in page.inner_text("body")


def test_a_viewer_can_read_but_not_delete_a_planners_shared_report(team, page, shots):
    srv, store, rid = team
    sign_in(page, srv.url + "/reports", "vic")
    page.get_by_role("button", name="Open").wait_for(timeout=WAIT_MS)
    assert page.get_by_role("button", name="Open").count() == 1
    assert page.get_by_role("button", name="Delete").count() == 0
    page.screenshot(path=str(shots / "reports-viewer.png"))
    with pytest.raises(PermissionDenied, match=r"vic \(viewer\) may not delete"):  # and the store refuses it anyway
        store.delete_report(rid, actor=store.get_user("vic"))
    assert store.get_report(rid) is not None
    go(page, "Profiles")
    wait_text(page, "Viewers browse the stored results")
    assert page.get_by_role("button", name="Validate and import").count() == 0


def test_an_author_is_shown_as_typed_never_as_markup(team, page):
    srv, _, _ = team
    sign_in(page, srv.url + "/reports", "vic")
    wait_text(page, "Q3 fleet")
    for view in ("list", "report"):
        if view == "report":
            page.get_by_role("button", name="Open").click()
            wait_text(page, "read-only snapshot")
        page.wait_for_timeout(500)
        assert BAIT in page.inner_text("body").replace(WORD_JOINER, "")  # as typed, bar invisible word joiners
        assert page.locator("a[href*='evil']").count() == 0
        headings = [h.inner_text().strip() for h in page.locator("h1, h2, h3, h4, h5, h6").all()]
        assert not any(re.match(r"^x\b", h) for h in headings), headings


def test_no_request_leaves_the_server(team, page):
    srv, _, _ = team
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    sign_in(page, srv.url + "/", "ana")
    wait_text(page, "Why this one")
    for name, text in (("Compare", "Compare"), ("Profiles", "Upload results"), ("Catalog", "Assumptions"),
                       ("Reports", "Q3 fleet")):
        go(page, name)
        wait_text(page, text)
        page.wait_for_timeout(800)
    outside = [u for u in requests if not u.startswith((srv.url + "/", "data:", "blob:", "about:"))]
    assert len(requests) > 20 and outside == []
