"""Dashboard benchmark (Playwright + Debian's chromium).

1. Start: `hwplan app` started -> the Plan view shows its first chart (the interval chart, HTML drawn with the
   page's text), and -> every chart drawn (the Plotly charts, whose 4.7 MB library loads on first use), median
   of 5 starts: a restart on the store a user already has (seeded, fitted-model JSON cache warm), and a start
   on a fresh store (the first-start seeding included; the model cache warm, as for a second store on the
   same machine).
2. Constraint change: a new throughput typed into the Plan sidebar -> the updated ranking shown.
   Server time is what the page reports (perf_counter around hwplan.costmodel.api.plan); browser time is
   from the key press to the new 'server time' caption appearing.

Writes bench/results/app.json and prints a Markdown table. Run: python bench/bench_app.py
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.app.conftest import CHROMIUM_ARGS, AppServer, chromium_path  # noqa: E402

# the first chart: the Plan view's interval chart (HTML, painted with the text) or any Plotly chart drawn
CHART_JS = ("() => document.querySelector('.hw-chart .row') !== null"
            " || document.querySelector('[data-testid=\"stPlotlyChart\"] .main-svg') !== null")
# every chart drawn: each Plotly element on the page has its SVG (the full charts that follow the first paint)
ALL_CHARTS_JS = ("() => { const c = [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')];"
                 " return c.length >= 1 && c.every(e => e.querySelector('.main-svg')); }")
TEXT_JS = ("() => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
           ".some(e => e.innerText.startsWith('server time'))")


FULL: list[float] = []  # server start -> the ranking's text shown (its 'server time' caption), per start
ALL: list[float] = []  # server start -> every chart drawn, per start


def cold_start(browser, cache: str, tmp: Path, i: int, db: str | None = None) -> float:
    srv = AppServer(db or str(tmp / f"cold-{i}.db"), cache)
    t0 = time.perf_counter()
    srv.start()
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(srv.url + "/")
        page.wait_for_function(TEXT_JS, timeout=120_000)
        FULL.append(time.perf_counter() - t0)
        page.wait_for_function(CHART_JS, timeout=120_000)
        took = time.perf_counter() - t0
        page.wait_for_function(ALL_CHARTS_JS, timeout=120_000)
        ALL.append(time.perf_counter() - t0)
        page.close()
        return took
    finally:
        srv.stop()


def constraint_changes(browser, cache: str, tmp: Path, n: int = 8) -> tuple[list[float], list[float]]:
    srv = AppServer(str(tmp / "warm.db"), cache).start()
    server_ms, browser_ms = [], []
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(srv.url + "/")
        page.wait_for_function(ALL_CHARTS_JS, timeout=120_000)
        box = page.get_by_role("spinbutton", name=re.compile(r"^Throughput"))
        for k in range(n):
            before = page.get_by_text(re.compile(r"server time \d+ ms")).first.inner_text()
            page.wait_for_timeout(300)
            box.fill(str(12_000 + 1_500 * k))
            t0 = time.perf_counter()
            box.press("Enter")
            page.wait_for_function(
                "(b) => { const e = [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
                ".find(x => x.innerText.startsWith('server time')); return e && e.innerText !== b "
                "&& !document.querySelector('[data-testid=stStatusWidget]'); }", arg=before, timeout=60_000)
            browser_ms.append((time.perf_counter() - t0) * 1000)
            text = page.get_by_text(re.compile(r"server time \d+ ms")).first.inner_text()
            server_ms.append(float(re.search(r"(\d+) ms", text).group(1)))
        return server_ms, browser_ms
    finally:
        srv.stop()


def main() -> int:
    exe = chromium_path()
    if exe is None:
        print("Debian's chromium is missing: apt-get install -y chromium", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as d, sync_playwright() as p:
        tmp = Path(d)
        cache = str(tmp / "cache")
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        first = cold_start(browser, cache, tmp, 0)  # empty model cache: includes the fit
        restarts = [cold_start(browser, cache, tmp, 0, db=str(tmp / "cold-0.db")) for _ in range(5)]
        full_restarts, all_restarts = FULL[1:6], ALL[1:6]
        colds = [cold_start(browser, cache, tmp, i) for i in range(1, 6)]
        server_ms, browser_ms = constraint_changes(browser, cache, tmp)
        browser.close()
    res = {
        "first_start_with_fit_s": round(first, 2),
        "restart_to_plan_chart_s": {"median": round(statistics.median(restarts), 2),
                                    "runs": [round(c, 2) for c in restarts]},
        "restart_to_ranking_text_s": {"median": round(statistics.median(full_restarts), 2),
                                            "runs": [round(c, 2) for c in full_restarts]},
        "restart_to_all_charts_s": {"median": round(statistics.median(all_restarts), 2),
                                    "runs": [round(c, 2) for c in all_restarts]},
        "fresh_store_start_to_plan_chart_s": {"median": round(statistics.median(colds), 2),
                                              "runs": [round(c, 2) for c in colds]},
        "constraint_change_server_ms": {"median": statistics.median(server_ms), "max": max(server_ms), "runs": server_ms},
        "constraint_change_browser_ms": {"median": round(statistics.median(browser_ms)), "max": round(max(browser_ms)),
                                         "runs": [round(b) for b in browser_ms]},
        "targets": {"start_s": 3.0, "constraint_change_browser_ms": 300},
    }
    out = REPO / "bench" / "results" / "app.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    print("| measure | median | runs | target |\n|---|---|---|---|")
    print(f"| first start, empty model cache (seed + fit) → Plan chart | {res['first_start_with_fit_s']} s | 1 | – |")
    print(f"| restart → Plan chart (the user's store, model cache warm) | {res['restart_to_plan_chart_s']['median']} s | "
          f"{res['restart_to_plan_chart_s']['runs']} | ≤ 3 s |")
    print(f"| restart → the ranking's text shown (before the charts) | {res['restart_to_ranking_text_s']['median']} s | "
          f"{res['restart_to_ranking_text_s']['runs']} | – |")
    print(f"| restart → every chart drawn (Plotly loaded) | {res['restart_to_all_charts_s']['median']} s | "
          f"{res['restart_to_all_charts_s']['runs']} | – |")
    print(f"| start on a fresh store → Plan chart (seeding included) | "
          f"{res['fresh_store_start_to_plan_chart_s']['median']} s | {res['fresh_store_start_to_plan_chart_s']['runs']} | – |")
    print(f"| constraint change → ranking, server time | {res['constraint_change_server_ms']['median']:.0f} ms | "
          f"max {res['constraint_change_server_ms']['max']:.0f} ms of {len(server_ms)} | – |")
    print(f"| constraint change → ranking, browser-observed | {res['constraint_change_browser_ms']['median']} ms | "
          f"max {res['constraint_change_browser_ms']['max']} ms of {len(browser_ms)} | ≤ 300 ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
