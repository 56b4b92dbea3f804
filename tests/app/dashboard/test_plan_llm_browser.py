"""An LLM plan in Debian's chromium: upload your own config.json, set TTFT / TPOT targets and read the plan;
and a malformed config, which names the field it lacks.

Screenshots go to a temporary folder; with HWPLAN_SCREENSHOTS=1 plan-llm.png replaces docs/screenshots/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hwplan.app.dashboard import engine, state
from hwplan.core.store import Store
from hwplan.costmodel import llmconfig
from hwplan.costmodel.cache import ModelCache
from tests.app.conftest import REPO, AppServer
from tests.app.dashboard.browsing import best, fill, settle, wait_text

pytestmark = pytest.mark.browser
QWEN = REPO / "tests" / "costmodel" / "configs" / "qwen3-8b.json"


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_cache):
    db = str(tmp_path_factory.mktemp("llm-browser") / "llm.db")
    srv = AppServer(db, model_cache).start()
    yield srv
    srv.stop()


def pick_own_model(page) -> None:
    """Scenario → 'Your own model' through the select box, as a person does."""
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Scenario").click()
    page.get_by_role("option", name="Your own model").click()
    wait_text(page, "Your model from")


def metric(page, label: str) -> str:
    card = page.get_by_test_id("stMetric").filter(has=page.get_by_text(label, exact=True)).first
    return card.get_by_test_id("stMetricValue").inner_text()


def ms(text: str) -> float:
    return float(re.match(r"([\d,.]+) ms", text).group(1).replace(",", ""))


def test_own_config_plans_with_ttft_tpot_layout_and_memory(server, page, shots, model_cache, tmp_path):
    page.goto(server.url + "/")
    wait_text(page, "Why this one")
    pick_own_model(page)
    page.get_by_test_id("stSidebar").locator("input[type=file]").set_input_files(str(QWEN))
    wait_text(page, "Planning qwen3-8b")
    fill(page, "TTFT p99 (ms)", "500", "ttft=500")
    fill(page, "TPOT p99 (ms)", "50", "tpot=50")
    wait_text(page, "TTFT p99 ≤ 500 ms · TPOT p99 ≤ 50 ms")
    wait_text(page, "Why this one")
    settle(page)
    assert "own=config" in page.url and "workload=" not in page.url  # the file itself never goes in a link
    heading = best(page)
    ttft, tpot = ms(metric(page, "TTFT p99")), ms(metric(page, "TPOT p99"))
    assert 0 < ttft <= 500 and 0 < tpot <= 50
    assert re.fullmatch(r"TP \d+ × PP \d+( × EP \d+)? × \d+ replicas?", metric(page, "Layout"))
    memory = page.get_by_test_id("stMarkdownContainer").filter(has_text="Memory per replica:").first.inner_text()
    assert re.search(r"weights [\d.]+ GB · KV cache [\d.]+ GB · activations [\d.]+ GB", memory)
    assert "8.19 GB" in memory  # the weights of 8.19 B parameters at 8 bits, or more at 16
    page.screenshot(path=str(shots / "plan-llm.png"))
    page.locator("table.hw-ranked").last.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "plan-llm-table.png"))

    # the page plans what the engine plans for the same inputs: the same top device, count and precision
    model = ModelCache(Path(model_cache)).get(Store.open(server.db), seed=False)
    facts = llmconfig.from_config(json.loads(QWEN.read_text()), "qwen3-8b.json")
    inputs = state.PlanInputs(own="config", ttft_p99_ms=500, tpot_p99_ms=50)
    tgt = engine.target(model, inputs, {"facts": facts, "name": "qwen3-8b"})
    top = engine.run_plan(model, inputs, tgt=tgt).result.ranked.iloc[0]
    assert heading.startswith(f"Best: {int(top['count'])} × {top['device']} · {top['precision']}")
    assert f"{float(top['tpot_p99_s']) * 1000:.3g}" in metric(page, "TPOT p99").replace(",", "")


def test_malformed_config_names_the_missing_field(server, page, shots, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps({"model_type": "llama"}))
    page.goto(server.url + "/?own=config")
    wait_text(page, "Upload your model's Hugging Face")
    page.get_by_test_id("stSidebar").locator("input[type=file]").set_input_files(str(bad))
    wait_text(page, "could not be read")
    err = page.get_by_test_id("stAlertContentError").first.inner_text()
    assert "hidden_size" in err and "broken.json" in err
    settle(page)
    page.screenshot(path=str(tmp_path / "plan-llm-config-error.png"))
