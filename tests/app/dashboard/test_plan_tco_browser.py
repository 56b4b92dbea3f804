"""The Plan page's total cost of ownership in Debian's chromium: the default plan (one rented device whose price is
undated) shows the breakdown, 'never' breaks even and flags the stale price; a bought GPU fleet breaks even inside
five years and the chart marks it.

Screenshots go to a temporary folder; with HWPLAN_SCREENSHOTS=1 plan.png (1,400 x 1,000, the TCO part) replaces
docs/screenshots/plan.png.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hwplan.app.dashboard import engine, state
from hwplan.core.store import Store
from hwplan.costmodel.cache import ModelCache
from tests.app.conftest import AppServer
from tests.app.dashboard.browsing import metric, settle, wait_text

pytestmark = pytest.mark.browser
TERMS = ("Devices", "Host servers", "Scale-out network", "Facility (power, cooling)", "Maintenance", "Energy", "Total")
OWNED = "/?workload=resnet50&mode=inference&throughput=200000&kinds=gpu&pricing=owned"


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_cache):
    db = str(tmp_path_factory.mktemp("tco-browser") / "tco.db")
    srv = AppServer(db, model_cache).start()
    yield srv
    srv.stop()


def tco_table(page) -> dict[str, list[str]]:
    table = page.get_by_test_id("stTable").filter(has_text="Host servers").first
    rows = table.locator("tbody tr")
    return {rows.nth(i).locator("th").inner_text().strip(): [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
            for i in range(rows.count())}


def test_default_plan_shows_the_tco_and_a_stale_price(server, page):
    page.goto(server.url + "/")
    wait_text(page, "Total cost of ownership: ")
    wait_text(page, "Break-even: cumulative cost of renting vs buying")  # the chart's title, drawn
    settle(page)
    rows = tco_table(page)
    assert tuple(rows) == TERMS
    assert all(re.fullmatch(r"\$[\d,.]+", v) for v in rows["Total"])
    assert re.fullmatch(r"\$[\d,]+", metric(page, "Capex (buy, up front)"))
    assert metric(page, "Break-even") == "never"  # renting one device costs less than maintaining one
    main = page.get_by_test_id("stMain").inner_text()
    assert "Cloud price:" in main and "per device-hour" in main and "undated" in main
    badge = page.get_by_test_id("stMarkdownContainer").filter(has_text=re.compile(r"^\s*(schedule)?\s*stale\s*$"))
    assert badge.count() >= 1 and badge.first.is_visible()  # the red badge beside the price
    assert "Carbon: US grid average" in main and "0.373 kg CO₂ per kWh" in main
    assert "at the wall" in main
    assert "Left out for want of a cloud price" in main and "Catalog" in main and "Price overrides" in main


def test_a_bought_fleet_breaks_even_and_the_chart_marks_it(server, page, shots, model_cache):
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(server.url + OWNED)
    wait_text(page, "Total cost of ownership: ")
    settle(page)
    model = ModelCache(Path(model_cache)).get(Store.open(server.db), seed=False)
    inputs = state.PlanInputs(workload="resnet50", throughput=200_000.0, kinds=["gpu"], pricing="owned")
    top = engine.run_plan(model, inputs).result.ranked.iloc[0]
    months = float(top["breakeven_months"])
    assert 0 < months < 60
    assert metric(page, "Break-even") == f"{months:.3g} months"
    assert metric(page, "Capex (buy, up front)") == f"${top['capex_usd']:,.0f}"
    assert tco_table(page)["Total"] == [f"${top['capex_usd']:,.0f}", f"${top['usd_per_month_owned']:,.0f}"]
    main = page.get_by_test_id("stMain").inner_text()
    assert f"Purchase price: {top['price_basis']}" in main and "Cloud price: $" in main
    chart = page.get_by_test_id("stPlotlyChart").filter(has_text="Break-even: cumulative cost").first
    assert f"break-even {months:.3g} months" in chart.inner_text()  # the marked point's label
    page.get_by_text("Total cost of ownership: ").first.scroll_into_view_if_needed()
    page.evaluate("() => { const h = [...document.querySelectorAll('h3')].find(e => "
                  "e.innerText.startsWith('Total cost of ownership')); h.scrollIntoView(); window.scrollBy(0, -70); }")
    page.wait_for_timeout(600)
    page.screenshot(path=str(shots / "plan.png"))
