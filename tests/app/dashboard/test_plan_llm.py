"""AppTest of the Plan view for LLM serving: TTFT / TPOT, layout and memory split shown; your own model from a
config (preset in session state, as the uploader leaves it) or the short form; bad values are messages."""

from __future__ import annotations

import json
import re

from streamlit.testing.v1 import AppTest

from hwplan.costmodel import llmconfig
from tests.app.conftest import REPO
from tests.app.dashboard.test_views import TIMEOUT, texts

QWEN = REPO / "tests" / "costmodel" / "configs" / "qwen3-8b.json"


def plan_view() -> AppTest:
    def script():
        from hwplan.app.dashboard.views import plan

        plan.render()

    return AppTest.from_function(script, default_timeout=TIMEOUT)


def table(at):
    return at.session_state["plan_ranked_table"]


def test_llm_plan_shows_ttft_tpot_layout_and_memory(app_env):
    at = plan_view()
    at.query_params.update({"workload": "llama2-70b", "demand": "requests", "rps": "5", "ttft": "2000", "tpot": "50"})
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["TTFT p99"].endswith(" ms") and float(metrics["TTFT p99"][:-3].replace(",", "")) <= 2000
    assert metrics["TPOT p99"].endswith(" ms") and float(metrics["TPOT p99"][:-3]) <= 50
    assert metrics["Layout"].startswith("TP ") and " × PP " in metrics["Layout"] and "replica" in metrics["Layout"]
    shown = texts(at)
    assert "5 requests/s × " in shown and "TTFT p99 ≤ 2000 ms · TPOT p99 ≤ 50 ms" in shown
    assert "**Memory per replica:** weights " in shown and "KV cache" in shown and "activations" in shown
    df = table(at)
    assert {"latency", "layout", "meets", "usd_month", "usd_million", "kw", "kwh", "co2"} <= set(df.columns)
    assert df["layout"].str.contains("TP ").all() and df["latency"].str.contains(" ms / ").all()
    q = at.query_params
    assert q["demand"] in ("requests", ["requests"]) and q["rps"] in ("5", ["5"])


def test_non_llm_plan_looks_as_before(app_env):
    at = plan_view()
    at.query_params.update({"workload": "resnet50", "throughput": "20000"})
    at.run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    # the recommendation's five figures first (the TCO section's own figures follow them)
    assert labels[:5] == ["Cost (USD / month)", "Samples/s", "Power", "kWh / month", "Latency p99"]
    df = table(at)
    assert "latency" not in df.columns and df["layout"].str.startswith("batch ").all()
    assert "Memory per replica" not in texts(at)
    assert "plan_ttft_p99_ms" not in [w.key for w in at.sidebar.number_input]


def test_uploaded_config_plans_end_to_end(app_env):
    facts = llmconfig.from_config(json.loads(QWEN.read_text()), "qwen3-8b.json")
    at = plan_view()
    at.query_params.update({"own": "config", "ttft": "500", "tpot": "50"})
    at.session_state["plan_own_config"] = {"file_id": "t", "file": "qwen3-8b.json", "name": "qwen3-8b", "facts": facts}
    at.run()
    assert not at.exception
    shown = texts(at)
    assert "Your own model · qwen3-8b from your config.json: 8.19 B parameters, 36 layers" in shown
    assert at.subheader[0].value.startswith("Best: ")
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["TTFT p99"][:-3]) <= 500 and float(metrics["TPOT p99"][:-3]) <= 50
    assert at.selectbox(key="plan_scenario_pick").value == "Your own model"


def test_own_config_link_without_the_file_asks_for_it(app_env):
    at = plan_view()
    at.query_params.update({"own": "config"})
    at.run()
    assert not at.exception and "Upload your model's Hugging Face **config.json**" in texts(at)


def test_malformed_config_error_names_the_field(app_env):
    at = plan_view()
    at.query_params.update({"own": "config"})
    at.session_state["plan_own_config"] = {"file_id": "t", "file": "broken.json",
                                           "error": "broken.json: hidden_size: is missing (expected a whole number > 0)"}
    at.run()
    assert not at.exception
    assert any("hidden_size" in e.value for e in at.error)


def test_short_form_plans_and_bad_short_forms_are_messages(app_env):
    at = plan_view()
    at.query_params.update({"own": "short", "params": "8", "layers": "32", "hidden": "4096", "heads": "32", "kvh": "8"})
    at.run()
    assert not at.exception and at.subheader[0].value.startswith("Best: ")
    assert "Your own model · your 8B model from the short form" in texts(at)
    at.number_input(key="plan_own_kv_heads").set_value(3).run()
    assert not at.exception
    # the message is shown through plain() (it may echo a model's name): read it with Markdown's escapes removed
    assert any("KV heads: 3 does not divide Attention heads 32" in re.sub(r"\\(.)", r"\1", e.value) for e in at.error)
    at.number_input(key="plan_own_layers").set_value(None).run()
    assert any("The short form needs Layers" in e.value for e in at.error)


def test_bad_values_in_session_are_cleared_with_a_message(app_env):
    at = plan_view()
    at.query_params.update({"workload": "llama3.1-8b"})
    at.session_state["plan_input_len"] = -5
    at.session_state["plan_kv_precision"] = "fp7"
    at.run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "Prompt tokens must be a whole number from 1 to 1,048,576; got -5" in errors and "kv_precision" in errors
    assert at.subheader[0].value.startswith("Best: ")  # then it plans with the defaults


def test_requests_form_without_a_rate_says_so(app_env):
    at = plan_view()
    at.query_params.update({"workload": "llama3.1-8b", "demand": "requests"})
    at.run()
    assert not at.exception
    assert any("Give the request rate" in e.value for e in at.error)


def test_tight_ttft_is_infeasible_with_what_breaks(app_env):
    at = plan_view()
    at.query_params.update({"workload": "llama3.1-8b", "ttft": "0.5", "tpot": "0.5"})
    at.run()
    assert not at.exception
    shown = texts(at)
    assert "No setup meets every constraint" in shown and "TTFT" in shown
    assert "breaks" in table(at).columns and "latency" in table(at).columns
