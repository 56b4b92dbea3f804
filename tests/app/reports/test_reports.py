"""Planning reports: frozen snapshots, exports, safety, and `hwplan report`, on the real cost model."""

from __future__ import annotations

import csv
import functools
import io
import re
import shutil

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwplan.app.reports import snapshot as snapmod
from hwplan.app.reports.csvout import neutralise, render_csv
from hwplan.app.reports.html import PLOTLYJS_BEGIN, PLOTLYJS_END, plotly_js, render_html
from hwplan.app.reports.markdown import render_markdown
from hwplan.app.reports.snapshot import Snapshot, build_snapshot, is_valid_id, load_report, new_report_id, save_report
from hwplan.core import paths
from hwplan.core.catalog import load_catalog
from hwplan.core.store import Store
from hwplan.core.tableio import FORMULA_START
from tests.conftest import make_rows

XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"
WORKLOAD, DEMAND = "resnet50", 50_000.0
URL_RE = re.compile(r"(?i)(https?:)?//[a-z0-9-]+(\.[a-z0-9-]+)+|\b(?:https?|ftp|wss?)://")


@functools.lru_cache(maxsize=1)
def _shared(root: str) -> dict:
    """One seeded store and one fitted model per test session, whichever module asks first."""
    from hwplan.core.ingest import seed_store
    from hwplan.costmodel.api import fit_models

    url = f"sqlite:///{root}/store.db"
    store = Store.open(url)
    seed_store(store)
    # an uploaded row whose file name and notes carry a script: it must show as text everywhere
    store.add_measurements(make_rows(1, run_id="xss-run", source_ref=XSS + ".csv", notes=XSS, workload=WORKLOAD,
                                     device="google-tpu-v6e", device_name="TPU v6e", device_kind="tpu", precision="int8"))
    model = fit_models(measurements=store.measurements())
    return {"store": store, "url": url, "model": model, "root": root}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.getbasetemp() / "reports-shared"
    root.mkdir(exist_ok=True)
    mp = pytest.MonkeyPatch()
    mp.setenv("HWPLAN_CACHE_DIR", str(root / "cache"))  # the CLI's fit finds the same cached model
    yield _shared(str(root))
    mp.undo()


def _plan(env, **demand):
    from hwplan.costmodel.api import Demand, plan

    d = Demand(workload=WORKLOAD, throughput=DEMAND, **demand)
    return plan(env["model"], d, top=8)


def _inputs(**kw):
    return {"workload": WORKLOAD, "throughput": DEMAND, "mode": "inference", "pricing": "cloud", **kw}


@pytest.fixture(scope="module")
def saved(env):
    """A plan report saved through the dashboard's interface, with an XSS payload as title and author."""
    result = _plan(env, latency_p99_ms=50.0)
    rid = save_report(env["store"], title=XSS, author=XSS, kind="plan", inputs=_inputs(latency_p99_ms=50.0),
                      plan_result=result, assumptions=result.assumptions)
    return rid, load_report(env["store"], rid)


# ---- ids and the snapshot --------------------------------------------------------------------------

def test_ids_have_at_least_128_random_bits_and_a_strict_format():
    ids = {new_report_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(is_valid_id(i) and len(i) == 32 for i in ids)  # 32 base64url chars = 192 bits
    for bad in ["", "x", "../" * 11, "a" * 31, "a" * 33, "a" * 31 + "/", "a" * 31 + "\n", "a" * 32 + "\n", None, 12,
                "' OR 1=1 --" + "a" * 21, "a" * 31 + "."]:
        assert not is_valid_id(bad)


def test_new_ids_never_start_with_a_dash_so_the_cli_can_take_them(monkeypatch):
    # one base64url id in 64 starts with '-', which argparse reads as an option (a CI failure)
    draws = iter(["-" + "a" * 31, "-" + "b" * 31, "c" * 32])
    monkeypatch.setattr("hwplan.app.reports.snapshot.secrets.token_urlsafe", lambda n: next(draws))
    assert new_report_id() == "c" * 32


def test_snapshot_holds_everything_the_issue_lists(saved):
    rid, snap = saved
    assert isinstance(snap, Snapshot) and snap.id == rid and snap.title == XSS
    assert snap.inputs["workload"] == WORKLOAD and snap.inputs["throughput"] == DEMAND
    assert len(snap.versions["catalog_sha256"]) == 64 and snap.versions["data_version"]
    assert snap.versions["store_rows"] > 700
    fields = {a["field"]: a for a in snap.assumptions}
    for f in ("electricity_usd_per_kwh", "pue", "utilisation", "carbon_kg_per_kwh", "price_overrides"):
        assert f in fields and fields[f]["source"]
    best = snap.plan.ranked[0]
    for col in ("device", "count", "precision", "throughput", "low", "high", "basis", "usd_per_month",
                "energy_kwh_per_month", "co2_kg_per_month"):
        assert col in best
    assert snap.device_row(best["device"])["cloud_usd_per_hour"] is not None
    assert snap.evidence and len(snap.evidence) <= snapmod.MAX_EVIDENCE_ROWS
    assert {c.name for c in snap.charts} >= {"setups"}
    assert all(c.figure.get("data") and c.data for c in snap.charts)


def test_saved_report_reopens_unchanged_after_the_catalog_changes(env, tmp_path, monkeypatch):
    cat_copy, price_copy = tmp_path / "catalog.csv", tmp_path / "prices.csv"
    shutil.copy(paths.CATALOG_CSV, cat_copy)
    shutil.copy(paths.PRICES_CSV, price_copy)
    monkeypatch.setattr(paths, "CATALOG_CSV", cat_copy)
    monkeypatch.setattr(paths, "PRICES_CSV", price_copy)
    result = _plan(env)
    rid = save_report(env["store"], title="Before the price change", author="t", kind="plan", inputs=_inputs(),
                      plan_result=result)
    first = load_report(env["store"], rid)
    html1, md1, csv1 = render_html(first), render_markdown(first), render_csv(first)
    dev = first.plan.ranked[0]["device"]
    old_price = first.device_row(dev)["cloud_usd_per_hour"]

    df = pd.read_csv(cat_copy, dtype=str, keep_default_na=False)
    df.loc[df["id"] == dev, "model"] = "renamed in the new catalog"
    df.to_csv(cat_copy, index=False)
    # every offer of the device in the price catalog triples (+1 USD per device-hour): its planning price does too
    pc = pd.read_csv(price_copy, dtype=str, keep_default_na=False)
    mine = pc["device"] == dev
    pc.loc[mine, "usd_per_hour"] = [str((old_price * 3 + 1) * int(n)) for n in pc.loc[mine, "devices_per_instance"]]
    pc.to_csv(price_copy, index=False)
    assert load_catalog().loc[dev, "cloud_usd_per_hour"] == pytest.approx(old_price * 3 + 1)

    again = load_report(env["store"], rid)
    assert again.model_dump() == first.model_dump()
    assert again.device_row(dev)["cloud_usd_per_hour"] == old_price
    assert render_html(again) == html1 and render_markdown(again) == md1 and render_csv(again) == csv1
    assert "renamed in the new catalog" not in html1
    # a report saved now does see the new catalog, so the test above is not vacuous
    now = build_snapshot(title="after", plan_result=result, inputs=_inputs(), store=env["store"])
    assert now.versions["catalog_sha256"] != first.versions["catalog_sha256"]
    assert now.device_row(dev)["cloud_usd_per_hour"] == pytest.approx(old_price * 3 + 1)


def test_unknown_malformed_or_damaged_ids_give_none(env):
    store = env["store"]
    assert load_report(store, new_report_id()) is None
    for bad in ["nope", "../../etc/passwd", "", None, "%2e%2e%2f" * 4]:
        assert load_report(store, bad) is None
    rid = new_report_id()
    store.put_report(rid, "broken", "", "2026-01-01T00:00:00Z", {"schema_version": "something else"})
    assert load_report(store, rid) is None
    good = save_report(store, title="fine", inputs=_inputs(), plan_result=_plan(env))
    assert load_report(store, good) is not None
    other = new_report_id()  # a payload copied under another id is not served
    store.put_report(other, "copy", "", "2026-01-01T00:00:00Z", store.get_report(good)["payload"])
    assert load_report(store, other) is None


def test_compare_report_from_estimates_and_a_curve(env):
    from hwplan.costmodel.api import predict, predict_curve, scaling_curve

    m = env["model"]
    ests = [predict(m, WORKLOAD, "nvidia-h100-sxm", count=1), predict(m, WORKLOAD, "nvidia-l4", count=4)]
    curve = predict_curve(m, WORKLOAD, "nvidia-l4", count=1, batches=[1, 8, 64])
    rid = save_report(env["store"], title="H100 vs L4", author="a", kind="compare", inputs=_inputs(),
                      estimates=[e.as_dict() for e in ests],  # as the Compare page passes them
                      curves={"curves": curve, "scaling": scaling_curve(m, WORKLOAD, "nvidia-l4", [1, 2, 4, 8]),
                              "empty": pd.DataFrame()})
    snap = load_report(env["store"], rid)
    assert snap.kind == "compare" and len(snap.estimates) == 2 and snap.estimates[0]["count"] == 1
    assert "Best of the compared setups" in render_markdown(snap)
    assert "nvidia-l4" in render_csv(snap)
    assert sum(c.name.startswith("curve") for c in snap.charts) == 2
    assert render_html(snap).count('class="chart"') == len(snap.charts)


def test_infeasible_plan_still_reports_why(env):
    result = _plan(env, budget_usd_month=1.0)
    snap = build_snapshot(title="too cheap", plan_result=result, inputs=_inputs(budget_usd_month=1.0), store=env["store"])
    assert snap.plan.feasible is False
    text = render_markdown(snap)
    assert "No setup meets every target" in text
    render_html(snap)


# ---- HTML -----------------------------------------------------------------------------------------

def _outside_plotly(html: str) -> str:
    head, rest = html.split(PLOTLYJS_BEGIN, 1)
    js, tail = rest.split(PLOTLYJS_END, 1)
    assert js == f"<script>{plotly_js()}</script>"  # plotly.js verbatim: its own strings, nothing of ours
    return head + tail


def test_html_is_self_contained_with_no_external_url(saved):
    _, snap = saved
    html = render_html(snap)
    ours = _outside_plotly(html)
    assert URL_RE.search(ours) is None, URL_RE.search(ours)
    assert not re.search(r"(?i)<(link|iframe|object|embed|base)\b", ours)
    assert not re.search(r"(?i)<[a-z][^>]*\s(src|href|action|srcset|poster|formaction)\s*=", ours)
    assert "@import" not in ours and "url(" not in ours
    assert "default-src 'none'" in html  # and the browser refuses any request anyway
    # the catalog cites web pages: they are printed as text without a scheme
    src = next(d["source"] for d in snap.devices if "https://" in (d.get("source") or ""))
    assert "https://" in src and src.split("https://", 1)[1].split()[0][:30] in ours


def test_xss_payload_in_title_author_and_uploaded_names_renders_as_text(saved):
    _, snap = saved
    html = render_html(snap)
    ours = _outside_plotly(html)
    assert "<script>alert" not in ours and "<img" not in ours and "onerror=alert(1)>" not in ours
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in ours
    assert ours.count("<script") == ours.count("</script>") == 1 + len(snap.charts)  # draw + chart JSON blocks


def test_chart_json_cannot_close_its_script_element():
    from hwplan.app.reports.html import _json_for_script

    out = _json_for_script({"t": "</script><script>alert(1)</script>&"})
    assert "<" not in out and ">" not in out and "&" not in out


# ---- PDF ------------------------------------------------------------------------------------------

def _pdf_text(data: bytes) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]


def test_pdf_first_page_is_the_managers_summary(saved):
    from hwplan.app.reports.pdf import find_font, render_pdf

    _, snap = saved
    co2 = "CO₂ per month" if find_font() else "CO2 per month"  # core-font fallback without DejaVu
    data = render_pdf(snap)  # real kaleido and chromium
    pages = _pdf_text(data)
    first = " ".join(pages[0].split())
    best = snap.plan.ranked[0]
    for needle in ("Recommended", "Bill of materials", best["device"], best["precision"], "Monthly cost, cloud",
                   "Monthly cost, ownership", "Energy per month", "kWh", co2, "Against the target",
                   "80% interval", "Runner-up options", "Main risks", "PUE"):
        assert needle in first, needle
    assert XSS in first  # the title is printed as typed, never interpreted
    if shutil.which("chromium"):
        assert "Charts left out" not in " ".join(pages)
    assert b"/JavaScript" not in data and b"/JS " not in data
    assert len(pages) >= 3


def test_pdf_builds_without_a_browser_and_says_charts_were_left_out(saved):
    from hwplan.app.reports.pdf import render_pdf

    def no_browser(charts):
        raise RuntimeError("chromium not found")

    pages = _pdf_text(render_pdf(saved[1], image_fn=no_browser))
    assert "Monthly cost, cloud" in pages[0]
    assert "Charts left out: RuntimeError: chromium not found" in " ".join(" ".join(p.split()) for p in pages[1:])
    assert "Ranked setups" in " ".join(pages)


def test_pdf_falls_back_to_a_core_font(saved, monkeypatch):
    from hwplan.app.reports import pdf

    monkeypatch.setattr(pdf, "find_font", lambda: None)
    text = _pdf_text(pdf.render_pdf(saved[1], charts=False))[0]
    assert "Monthly cost, cloud" in text and "CO2 per month" in text


# ---- Markdown and CSV -----------------------------------------------------------------------------

def test_markdown_summary_escapes_user_text(saved):
    _, snap = saved
    text = render_markdown(snap)
    assert text.startswith("## \\<script\\>alert(1)\\</script\\>")
    assert re.search(r"(?<!\\)[<>\[\]]", text) is None  # every <, >, [ and ] is escaped: no HTML, links or images
    for needle in ("Monthly cost, cloud", "Energy per month", "CO₂ per month", "Top setups", "Assumptions", "PUE"):
        assert needle in text
    assert len(text) < 6000


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_csv_neutralises_any_text(value):
    out = neutralise(value)
    if value.startswith(FORMULA_START):
        assert out == "'" + value
    else:
        assert out == value
    assert not out.startswith(FORMULA_START)


def test_csv_setups_are_neutralised_end_to_end(saved):
    _, snap = saved
    evil = ["=HYPERLINK(\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "ok"]
    rows = [dict(snap.plan.ranked[0], device=e, precision=e) for e in evil]
    crafted = snap.model_copy(update={"plan": snap.plan.model_copy(update={"ranked": rows, "nearest": []})})
    parsed = list(csv.DictReader(io.StringIO(render_csv(crafted))))
    assert [r["device"] for r in parsed] == ["'" + e for e in evil[:-1]] + ["ok"]
    for r in parsed:
        for k, v in r.items():
            assert not (isinstance(v, str) and v.startswith(("=", "+", "@", "\t", "\r"))), (k, v)
    real = list(csv.DictReader(io.StringIO(render_csv(snap))))
    assert len(real) == len(snap.plan.ranked) + len(snap.plan.nearest)
    assert float(real[0]["throughput"]) == pytest.approx(snap.plan.ranked[0]["throughput"])


# ---- the command line -----------------------------------------------------------------------------

@pytest.fixture
def no_kaleido(monkeypatch):
    from hwplan.app.reports import pdf

    def fail(charts):
        raise RuntimeError("not in this test")

    monkeypatch.setattr(pdf, "chart_images", fail)


@pytest.mark.parametrize("fmt", ["html", "pdf", "md", "csv"])
def test_cli_report_from_plan_arguments_and_from_a_saved_id(env, tmp_path, capsys, fmt, no_kaleido):
    from hwplan.app.cli import main

    out = tmp_path / f"r.{fmt}"
    args = ["report", "--workload", WORKLOAD, "--throughput", str(DEMAND), "--latency-p99-ms", "50", "--kinds", "gpu,tpu",
            "--title", XSS, "--author", "cli", "--format", fmt, "--out", str(out), "--db", env["url"], "--save"]
    assert main(args) == 0
    rid = capsys.readouterr().out.strip().splitlines()[-1]
    assert is_valid_id(rid)
    data = out.read_bytes()
    out2 = tmp_path / f"again.{fmt}"
    assert main(["report", "--id", rid, "--format", fmt, "--out", str(out2), "--db", env["url"]]) == 0
    again = out2.read_bytes()
    if fmt == "pdf":
        assert data.startswith(b"%PDF") and "Recommended" in _pdf_text(again)[0]
        assert _pdf_text(again)[0] == _pdf_text(data)[0]
    else:
        assert again == data
    if fmt == "html":
        assert XSS not in data.decode() and "&lt;script&gt;" in data.decode()
    if fmt == "md":
        assert "Top setups" in data.decode()
    if fmt == "csv":
        assert data.decode().startswith("table,rank,device")


def test_cli_unknown_or_malformed_id_says_report_not_found(env, tmp_path, capsys):
    from hwplan.app.cli import main

    for rid in (new_report_id(), "../../../etc/passwd", "x"):
        out = tmp_path / "never.html"
        assert main(["report", "--id", rid, "--format", "html", "--out", str(out), "--db", env["url"]]) == 2
        err = capsys.readouterr().err
        assert err.strip() == "hwplan report: report not found"
        assert not out.exists()


def test_cli_needs_plan_arguments_or_an_id(env, tmp_path, capsys):
    from hwplan.app.cli import main

    assert main(["report", "--format", "md", "--out", str(tmp_path / "x.md"), "--db", env["url"]]) == 2
    assert "--throughput or --request-rate" in capsys.readouterr().err
    assert main(["report", "--workload", "nope", "--throughput", "5", "--format", "md", "--out", str(tmp_path / "x.md"),
                 "--db", env["url"]]) == 2
    assert "workload 'nope' is not known" in capsys.readouterr().err
