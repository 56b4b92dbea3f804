"""A saved plan's first page (summary, Markdown, HTML, PDF) gives the recommendation's total cost of ownership by
term, the cloud price's source and date ('stale' when flagged), the break-even, the power with its basis and the
carbon region used."""

from __future__ import annotations

import io
import re

import pytest

from hwplan.app.reports.html import render_html
from hwplan.app.reports.markdown import render_markdown
from hwplan.app.reports.snapshot import load_report, save_report
from hwplan.app.reports.summary import build_summary
from tests.app.reports.test_reports import env  # noqa: F401 - env is a fixture

TERMS = ("Devices", "Host servers", "Scale-out network", "Facility (power, cooling)", "Maintenance", "Energy", "Total")


def _saved(env, title, **demand):  # noqa: F811
    from hwplan.costmodel.api import Demand, plan

    d = Demand(**demand)
    result = plan(env["model"], d, top=6)
    inputs = {k: v for k, v in demand.items() if k != "kinds"}
    rid = save_report(env["store"], title=title, author="Fin", kind="plan", inputs=inputs, plan_result=result,
                      assumptions=result.assumptions)
    return result, load_report(env["store"], rid)


@pytest.fixture(scope="module")
def owned(env):  # noqa: F811 - a GPU fleet bought: a break-even inside five years
    return _saved(env, "Bought GPU fleet", workload="resnet50", throughput=200_000.0, pricing="owned", kinds=["gpu"])


@pytest.fixture(scope="module")
def rented(env):  # noqa: F811 - the default plan: one rented device whose price is undated (stale)
    return _saved(env, "Rented inference", workload="resnet50", throughput=10_000.0, pricing="cloud")


def test_summary_gives_the_tco_breakdown_and_its_bases(owned):
    result, snap = owned
    best = result.ranked.iloc[0]
    s = build_summary(snap)
    assert [r["term"] for r in s.tco] == list(TERMS)
    total = s.tco[-1]
    assert total["capex"] == f"${best['capex_usd']:,.0f}"  # the capex terms add up to the cost model's total
    assert total["owned / month"] == f"${best['usd_per_month_owned']:,.0f}"
    devices = s.tco[0]
    assert devices["owned / month"] == f"${best['owned_usd_month_devices']:,.0f}"
    basis = dict(s.cost_basis)
    assert basis["Break-even"].startswith(f"{best['breakeven_months']:.3g} months of use")
    assert "at the wall" in basis["Power"]
    assert basis["Carbon region"].startswith("US grid average") and "0.373 kg CO₂ per kWh" in basis["Carbon region"]
    assert basis["Purchase price"] == best["price_basis"]  # an owned plan: the purchase price's basis
    assert re.match(r"\$[\d.]+ per device-hour: \w+", basis["Cloud price"])  # and the cloud price it is weighed against


def test_a_stale_price_is_flagged_with_its_source_and_date(rented):
    result, snap = rented
    best = result.ranked.iloc[0]
    assert bool(best["price_stale"])
    s = build_summary(snap)
    price = dict(s.cost_basis)["Cloud price"]
    assert s.price_stale and "STALE" in price and best["price_basis"] in price
    assert dict(s.cost_basis)["Break-even"].startswith("never: renting")
    dev = snap.device_row(str(best["device"]))
    assert any(f"Cloud price of {dev['id']}" in r and "(stale" in r for r in s.risks)


def test_markdown_and_html_first_page_show_the_tco_price_source_and_date(owned, rented):
    for result, snap in (owned, rented):
        best = result.ranked.iloc[0]
        text = render_markdown(snap)
        first = text.split("**Top setups**")[0]  # before the ranking: the first page's own part
        assert "**Total cost of ownership of the recommendation**" in first
        assert re.search(r"\| Host servers \| \$[\d,]+ \| \$[\d,]+ \|", first)
        assert "- Cloud price: " in first and "- Break-even: " in first and "- Carbon region: " in first
        html = render_html(snap)
        summary = html.split('<section class="detail">')[0]
        assert "Total cost of ownership of the recommendation" in summary
        for term in ("Devices", "Host servers", "Maintenance", "Energy"):
            assert f"<td>{term}</td>" in summary
        assert "Cloud price:" in summary and "Carbon region:" in summary
        dev = snap.device_row(str(best["device"]))
        assert dev.get("cloud_provider") and dev["cloud_provider"] in summary  # the cloud price's source
        assert (dev.get("cloud_price_date") or "undated") in summary  # and its date (or that it has none)
    _, snap = rented
    html = render_html(snap).split('<section class="detail">')[0]
    assert '<span class="stale">' in html and "STALE" in html


def test_pdf_first_page_shows_the_tco(owned):
    pytest.importorskip("fpdf")
    pypdf = pytest.importorskip("pypdf")
    from hwplan.app.reports.pdf import render_pdf

    _, snap = owned

    def no_charts(charts):
        raise RuntimeError("not drawn in this test")

    first = " ".join(pypdf.PdfReader(io.BytesIO(render_pdf(snap, image_fn=no_charts))).pages[0].extract_text().split())
    for text in ("Total cost of ownership of the recommendation", "Host servers", "Break-even:", "Cloud price:",
                 "Carbon region:"):
        assert text in first, text
