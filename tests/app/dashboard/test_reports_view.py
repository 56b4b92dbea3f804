"""The Reports page and the read-only report view, through Streamlit's AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from hwplan.app.reports.snapshot import new_report_id, save_report
from tests.app.reports.test_reports import XSS, _inputs, _plan, env  # noqa: F401 - env is a fixture


def _saved_page(report_id, url):
    from hwplan.app.dashboard.views.reports import render_saved
    from hwplan.core.store import Store

    render_saved(report_id, store=Store.open(url))


def _list_page(url):
    from hwplan.app.dashboard.views.reports import render_list
    from hwplan.core.store import Store

    render_list(store=Store.open(url))


@pytest.fixture
def fresh(tmp_path):
    from hwplan.core.store import Store

    url = f"sqlite:///{tmp_path / 'views.db'}"
    store = Store.open(url)
    yield store, url
    store.close()


@pytest.mark.parametrize("rid", ["nope", "../../etc/passwd", "", "unknown-but-well-formed"])
def test_unknown_or_malformed_id_shows_report_not_found_and_nothing_more(fresh, rid):
    _, url = fresh
    rid = new_report_id() if rid == "unknown-but-well-formed" else rid
    at = AppTest.from_function(_saved_page, args=(rid, url)).run(timeout=30)
    assert not at.exception
    assert [e.value for e in at.error] == ["report not found"]
    assert len(at.main.children) == 1  # the error, and nothing else


def test_saved_report_view_shows_the_snapshot_as_text(env, fresh):  # noqa: F811
    store, url = fresh
    result = _plan(env)
    rid = save_report(store, title=XSS, author="Ana", kind="plan", inputs=_inputs(), plan_result=result)
    at = AppTest.from_function(_saved_page, args=(rid, url)).run(timeout=60)
    assert not at.exception
    # every punctuation mark escaped: Markdown sees no tag, link or heading in it
    assert at.title[0].value == "\\<script\\>alert\\(1\\)\\<\\/script\\>\\<img src\\=x onerror\\=alert\\(1\\)\\>"
    assert len(at.get("download_button")) == 4
    assert at.success and at.success[0].value.startswith("Recommended")
    text = " ".join(m.value for m in at.markdown)
    assert "Monthly cost\\, cloud  \n**\\$" in text and "Monthly cost\\, ownership" in text and "CO₂ per month" in text
    assert len(at.table) == 4  # bill of materials, TCO, targets, runners-up: static tables, nothing clipped
    assert "Total cost of ownership of the recommendation" in [s.value for s in at.subheader]
    assert len(at.get("plotly_chart")) >= 2


def test_list_shows_reports_and_deletes_after_confirmation(env, fresh):  # noqa: F811
    store, url = fresh
    at = AppTest.from_function(_list_page, args=(url,)).run(timeout=30)
    assert "No reports saved yet" in at.info[0].value
    rid = save_report(store, title="Q3 plan", author="Ana", inputs=_inputs(), plan_result=_plan(env))
    at = AppTest.from_function(_list_page, args=(url,)).run(timeout=30)
    assert "Q3 plan" in at.markdown[0].value and "Ana" in at.markdown[0].value
    assert f"?report={rid}" in at.code[0].value
    at.button(key=f"delete-{rid}").click().run(timeout=30)
    assert "cannot be undone" in at.warning[0].value
    assert store.get_report(rid) is not None  # nothing deleted before the confirmation
    at.button(key=f"cancel-{rid}").click().run(timeout=30)
    assert not at.warning and store.get_report(rid) is not None
    at.button(key=f"delete-{rid}").click().run(timeout=30)
    at.button(key=f"confirm-{rid}").click().run(timeout=30)
    assert store.get_report(rid) is None
    assert "No reports saved yet" in at.info[0].value


def test_open_sets_the_report_query_parameter(env, fresh):  # noqa: F811
    store, url = fresh
    rid = save_report(store, title="Q4", inputs=_inputs(), plan_result=_plan(env))
    at = AppTest.from_function(_list_page, args=(url,)).run(timeout=30)
    at.button(key=f"open-{rid}").click().run(timeout=30)
    assert at.query_params["report"] == [rid] or at.query_params["report"] == rid
