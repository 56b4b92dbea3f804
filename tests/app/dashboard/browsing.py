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
