"""Helpers for the dashboard's real-browser tests: wait for text, wait until Streamlit has drawn everything."""

from __future__ import annotations

WAIT_MS = 60_000


def wait_text(page, text, timeout=WAIT_MS):
    page.get_by_text(text).first.wait_for(timeout=timeout)


SETTLED_JS = """() => {
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;      // a run is in progress
  if (document.querySelector('[data-testid="stSkeleton"], .stSkeleton')) return false;  // elements still loading
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
  if (charts.some(c => !c.querySelector('.main-svg'))) return false;                 // a chart not drawn yet
  const frames = [...document.querySelectorAll('[data-testid="stDataFrame"]')].filter(f => f.offsetParent);
  return frames.every(f => f.querySelector('canvas'));
}"""


def settle(page):
    """Wait until Streamlit has finished its run and drawn every chart and table."""
    page.wait_for_function(SETTLED_JS, timeout=WAIT_MS)
    page.wait_for_timeout(1200)
    page.wait_for_function(SETTLED_JS, timeout=WAIT_MS)


def best(page) -> str:
    return page.locator("h3").filter(has_text="Best:").first.inner_text()


def metric(page, label: str) -> str:
    """The value of the metric card with this label."""
    card = page.get_by_test_id("stMetric").filter(has=page.get_by_text(label, exact=True)).first
    return card.get_by_test_id("stMetricValue").inner_text()


IDLE_JS = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"


def fill(page, label: str, value: str, url_part: str, tries: int = 3) -> None:
    """Type a number into the spin box labelled `label` and press Enter, as a person does once the page is idle;
    done when the page's URL holds `url_part`. A run still in progress can redraw the box and drop what was typed
    (on a loaded machine), so the typing is repeated, at most `tries` times."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.get_by_role("spinbutton", name=label)
    for _ in range(tries):
        page.wait_for_function(IDLE_JS, timeout=WAIT_MS)
        box.fill(value)
        box.press("Enter")
        try:
            page.wait_for_function("(p) => location.search.includes(p)", arg=url_part, timeout=WAIT_MS // 3)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"typing {value} into '{label}' never reached the URL ({url_part} not in {page.url})")
