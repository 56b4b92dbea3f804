"""The HTML export in a real browser (Debian's chromium through Playwright): opened from disk with the
network off, it makes no request, runs no injected script, and draws its charts."""

from __future__ import annotations

import shutil

import pytest

from hwplan.app.reports.html import render_html
from hwplan.app.reports.snapshot import build_snapshot
from tests.app.reports.test_reports import XSS, _inputs, _plan, env  # noqa: F401 - env is a fixture

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_html_opens_offline_makes_no_request_and_shows_the_xss_title_as_text(env, tmp_path):  # noqa: F811
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    snap = build_snapshot(title=XSS, author=XSS, plan_result=_plan(env), inputs=_inputs(), store=env["store"])
    path = tmp_path / "report.html"
    path.write_text(render_html(snap), encoding="utf-8")

    requests, dialogs, errors = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(offline=True, java_script_enabled=True)
            page = context.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=15_000)
            page.wait_for_timeout(300)
            heading = page.inner_text("h1")
            plots = page.locator(".js-plotly-plot").count()
            body = page.inner_text("body")
        finally:
            browser.close()

    external = [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))]
    assert external == []
    assert [u for u in requests if u.startswith("file:")] == [path.as_uri()]  # the report itself, nothing else
    assert dialogs == []
    assert errors == []  # the Content-Security-Policy blocked nothing plotly needs
    assert heading == XSS
    assert plots == len(snap.charts) >= 2
    assert "Bill of materials" in body and "Monthly cost, cloud" in body
