"""A saved training-plan report speaks of runs: its first page (summary, HTML, Markdown, PDF, the dashboard's
read-only view) gives the time to train, device-hours, cost, energy and CO₂ per run, never $/month or units/s."""

from __future__ import annotations

import io
import re

import pytest

from hwplan.app.reports.html import render_html
from hwplan.app.reports.markdown import render_markdown
from hwplan.app.reports.snapshot import load_report, save_report
from hwplan.app.reports.summary import build_summary
from tests.app.reports.test_reports import env  # noqa: F401 - env is a fixture

INPUTS = {"workload": "llama3.1-70b", "mode": "training", "pricing": "cloud", "token_volume": 1e12,
          "deadline_hours": 720.0, "budget_usd": None, "throughput": None}
FIRST_PAGE = ("Time to train", "Device-hours", "Cost per run, cloud", "Energy per run", "CO₂ per run")


def _train_plan(env, **demand):  # noqa: F811
    from hwplan.costmodel.api import Demand, plan

    d = Demand(workload="llama3.1-70b", mode="training", token_volume=1e12, deadline_hours=720.0, **demand)
    return plan(env["model"], d, top=6)


@pytest.fixture(scope="module")
def saved(env):  # noqa: F811
    result = _train_plan(env)
    rid = save_report(env["store"], title="Llama 3.1 70B pre-training", author="Ana", kind="plan", inputs=INPUTS,
                      plan_result=result, assumptions=result.assumptions)
    return result, load_report(env["store"], rid)


def test_summary_of_a_training_plan_gives_figures_per_run(saved):
    result, snap = saved
    s = build_summary(snap)
    best = result.ranked.iloc[0]
    assert s.training and s.feasible
    assert s.headline.startswith(f"Recommended: {int(best['count'])} × ") and " trains in " in s.headline
    assert "/ run (cloud)" in s.headline
    labels = dict(s.figures)
    for label in FIRST_PAGE:
        assert label in labels, label
    assert labels["Device-hours"] == f"{round(best['device_hours']):,d}"
    assert labels["Cost per run, cloud"] == f"${best['usd_per_run_cloud']:,.0f} / run"
    assert labels["Time to train"].endswith((" h", " days"))
    assert not any("month" in k or "month" in v for k, v in s.figures)
    assert s.targets[0]["measure"] == "Deadline" and s.targets[0]["verdict"] == "meets it"
    assert "1,000,000,000,000 tokens" in s.subtitle and "720 h (30 days)" in s.subtitle
    assert all("cost / run" in r and "time to train" in r for r in s.runners_up)
    assert "DP " in s.bom[0]["layout"]


def test_html_and_markdown_first_page_show_time_device_hours_and_cost_per_run(saved):
    _, snap = saved
    html = render_html(snap)
    summary = html.split('<section class="detail">')[0]
    for label in FIRST_PAGE:
        assert label in summary, label
    assert "per month" not in summary and "units/s" not in summary
    assert "Cost per run against time to train" in html  # the training chart, not cost against throughput
    text = render_markdown(snap)
    assert "Time to train: **" in text and "Device-hours: **" in text and "$ / run" in text
    assert "/ month" not in text


def test_pdf_first_page_of_a_training_plan(saved):
    pytest.importorskip("fpdf")
    pypdf = pytest.importorskip("pypdf")
    from hwplan.app.reports.pdf import find_font, render_pdf

    _, snap = saved

    def no_charts(charts):
        raise RuntimeError("not drawn in this test")

    first = " ".join(pypdf.PdfReader(io.BytesIO(render_pdf(snap, image_fn=no_charts))).pages[0].extract_text().split())
    co2 = "CO₂ per run" if find_font() else "CO2 per run"
    for needle in ("Time to train", "Device-hours", "Cost per run, cloud", "Energy per run", co2, "Deadline"):
        assert needle in first, needle
    assert "Monthly cost" not in first


def test_saved_view_of_a_training_plan(saved, env, tmp_path):  # noqa: F811
    from streamlit.testing.v1 import AppTest

    _, snap = saved

    def page(report_id, url):
        from hwplan.app.dashboard.views.reports import render_saved
        from hwplan.core.store import Store

        render_saved(report_id, store=Store.open(url))

    at = AppTest.from_function(page, args=(snap.id, env["url"])).run(timeout=60)
    assert not at.exception
    assert at.success[0].value.startswith("Recommended") and "trains in" in at.success[0].value
    text = re.sub(r"\\(.)", r"\1", " ".join(m.value for m in at.markdown))  # as read: Markdown's escapes removed
    for label in ("Time to train", "Device-hours", "Cost per run, cloud", "Energy per run"):
        assert label in text, label


def test_a_training_plan_that_meets_no_deadline_lists_the_fastest_setups(env):  # noqa: F811
    from hwplan.app.reports.snapshot import build_snapshot
    from hwplan.costmodel.api import Demand, plan

    result = plan(env["model"], Demand(workload="llama3.1-70b", mode="training", token_volume=1e12, deadline_hours=1),
                  top=5)
    snap = build_snapshot(title="too fast", kind="plan", inputs={**INPUTS, "deadline_hours": 1.0}, plan_result=result)
    s = build_summary(snap)
    assert not s.feasible and s.headline.startswith("No setup finishes the run")
    assert s.runners_up and all(r["why it lost"].startswith("misses the deadline") for r in s.runners_up)


def test_plan_snapshot_plans_a_training_run_from_its_inputs(env):  # noqa: F811
    from hwplan.app.reports.snapshot import plan_snapshot

    snap = plan_snapshot(env["store"], env["model"], {**INPUTS, "kinds": ["gpu"], "top": 3}, "from inputs")
    s = build_summary(snap)
    assert s.training and s.feasible and len(snap.plan.ranked) == 3
    assert dict(s.figures)["Time to train"].endswith((" h", " days"))
