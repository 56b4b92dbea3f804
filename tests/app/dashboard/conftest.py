"""Real-browser fixtures (Debian's chromium through Playwright, never `playwright install`): one browser per
module, one fresh page per test, and where screenshots go."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.app.conftest import CHROMIUM_ARGS, REPO, chromium_path


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    exe = chromium_path()
    if exe is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where screenshots go: a temporary folder; with HWPLAN_SCREENSHOTS=1, docs/screenshots/."""
    if os.environ.get("HWPLAN_SCREENSHOTS") == "1":
        return REPO / "docs" / "screenshots"
    return tmp_path_factory.mktemp("shots")


@pytest.fixture
def page(browser):
    """A fresh page at 1,400 x 1,000, the size the README's screenshots are taken at."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    yield pg
    ctx.close()
