"""The paths a person clicks, in Debian's chromium: open, plan, change a constraint, upload a good
and a bad file, compare, follow a deep link, save and open a report.

Screenshots go to a temporary folder; with HWPLAN_SCREENSHOTS=1 they replace docs/screenshots/.
"""

from __future__ import annotations

import re

import pytest

from tests.app.conftest import AppServer
from tests.app.dashboard.browsing import WAIT_MS, best, settle, wait_text
from tests.conftest import make_rows

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_cache):
    db = str(tmp_path_factory.mktemp("browser") / "first-start.db")  # empty: the app seeds it on first start
    srv = AppServer(db, model_cache).start()
    yield srv
    srv.stop()


def test_open_plan_and_change_a_constraint(server, page, shots):
    page.goto(server.url + "/")
    wait_text(page, "Why this one")
    settle(page)
    assert "measured" in page.content()
    page.screenshot(path=str(shots / "plan-top.png"))  # docs/screenshots/plan.png: test_plan_tco_browser.py
    before = best(page)
    box = page.get_by_role("spinbutton", name="Throughput (samples/s)")
    box.fill("200000")
    box.press("Enter")
    page.wait_for_function("() => location.search.includes('throughput=200000')", timeout=WAIT_MS)
    page.wait_for_function("(b) => { const h = [...document.querySelectorAll('h3')].find(e => e.innerText.startsWith('Best:'));"
                           " return h && h.innerText !== b; }", arg=before, timeout=WAIT_MS)
    budget = page.get_by_role("spinbutton", name="Budget (USD / month)")
    budget.fill("50")
    budget.press("Enter")
    wait_text(page, "No setup meets every constraint")
    assert "budget=50" in page.url


def test_deep_link_reopens_the_same_plan(server, page, shots):
    page.goto(server.url + "/?workload=bert-large&mode=inference&throughput=5000&budget=40000&kinds=gpu,asic&pricing=owned")
    wait_text(page, "Why this one")
    settle(page)
    assert page.get_by_role("spinbutton", name="Budget (USD / month)").input_value() == "40000"
    assert page.get_by_role("spinbutton", name="Throughput (samples/s)").input_value() == "5000"
    assert page.get_by_text("NLP · question answering").count() >= 1  # the caption names the linked workload
    assert "owned pricing" in page.content()


def test_upload_a_good_and_a_bad_file(server, page, shots, tmp_path):
    good = tmp_path / "good.csv"
    make_rows(5, run_id="browser-good").to_csv(good, index=False)
    bad_df = make_rows(3, run_id="browser-bad")
    bad_df.loc[1, "throughput"] = "fast"
    bad_df.loc[2, "device"] = "nvidia-h1OO"
    bad = tmp_path / "bad.csv"
    bad_df.to_csv(bad, index=False)
    page.goto(server.url + "/profiles")
    wait_text(page, "Stored results")
    page.locator("input[type=file]").set_input_files(str(bad))
    page.get_by_role("button", name="Validate and import").click()
    wait_text(page, "Upload refused")
    assert "2 problems found; nothing was stored" in page.content()  # one per bad cell
    settle(page)
    page.screenshot(path=str(shots / "profiles-upload-error.png"))
    page.locator("input[type=file]").set_input_files(str(good))
    page.get_by_role("button", name="Validate and import").click()
    wait_text(page, "Imported: stored 5 new row(s)")
    settle(page)
    page.screenshot(path=str(shots / "profiles.png"))


def test_compare_setups(server, page, shots):
    page.goto(server.url + "/compare?workload=resnet50"
              "&setups=nvidia-h100-sxm:1:auto,nvidia-a100-sxm-80gb:1:auto,nvidia-l4:2:auto")
    wait_text(page, "Measured against predicted")
    settle(page)
    assert page.get_by_text("2 × nvidia-l4").count() >= 1
    assert page.locator(".js-plotly-plot").count() >= 5
    page.screenshot(path=str(shots / "compare.png"))


def test_catalog_and_save_a_report(server, page, shots):
    page.goto(server.url + "/catalog")
    wait_text(page, "every row cites its source")
    settle(page)
    page.screenshot(path=str(shots / "catalog.png"))
    page.get_by_role("tab", name="Assumptions").click()
    wait_text(page, "Price overrides")
    page.wait_for_timeout(500)
    page.screenshot(path=str(shots / "catalog-assumptions.png"))
    page.goto(server.url + "/?workload=resnet50&throughput=20000")
    wait_text(page, "Why this one")
    settle(page)
    page.get_by_role("button", name="Save report").click()
    page.get_by_label("Title").fill("Browser test plan")
    page.get_by_label("Title").press("Enter")
    page.get_by_role("button", name="Save", exact=True).click()
    wait_text(page, "Saved. Anyone with this link")
    code = page.locator("code").filter(has_text="?report=").first
    code.wait_for(timeout=WAIT_MS)
    rid = re.search(r"\?report=([A-Za-z0-9_-]+)", code.inner_text()).group(1)
    page.goto(server.url + f"/?report={rid}")
    wait_text(page, "Browser test plan")
    page.goto(server.url + "/reports")
    wait_text(page, "Browser test plan")
    settle(page)
    page.screenshot(path=str(shots / "reports.png"))
