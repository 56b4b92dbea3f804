"""LLM serving from the command line: request shapes, TTFT/TPOT targets, request rates, your own config.json."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwplan.app.cli import main
from hwplan.core.store import Store

CONFIGS = Path(__file__).resolve().parents[2] / "costmodel" / "configs"
SERVING_FIELDS = ("ttft_p50_s", "ttft_p99_s", "tpot_p50_s", "tpot_p99_s", "total_tokens_per_s", "concurrency",
                  "tensor_parallel", "pipeline_parallel", "expert_parallel", "replicas", "devices_per_node",
                  "weights_gb", "kv_cache_gb", "activations_gb", "input_len", "output_len", "kv_precision")


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def _rows(url):
    s = Store.open(url)
    try:
        return s.count()
    finally:
        s.close()


def test_an_llm_prediction_has_serving_metrics_layout_and_memory(seeded_db, capsys):
    assert main(["predict", "--workload", "llama2-70b", "--device", "nvidia-h100-sxm", "--count", "8", "--json",
                 "--db", seeded_db]) == 0
    e = _json(capsys)
    assert all(e[f] is not None for f in SERVING_FIELDS)
    assert 0 < e["ttft_p50_s"] <= e["ttft_p99_s"] and 0 < e["tpot_p50_s"] <= e["tpot_p99_s"]
    # the benchmark's own request shape (OpenOrca means) unless given
    assert e["input_len"] == pytest.approx(222.33) and e["output_len"] == pytest.approx(294.45)
    assert e["replicas"] * e["tensor_parallel"] * e["pipeline_parallel"] <= 8
    assert e["weights_gb"] == pytest.approx(68.976648192 * e["tensor_parallel"] * e["pipeline_parallel"]
                                            / (e["tensor_parallel"] * e["pipeline_parallel"]))
    assert e["total_tokens_per_s"] == pytest.approx(e["throughput"] * (222.33 + 294.45) / 294.45)
    # longer prompts: more prefill per output token, slower first tokens
    assert main(["predict", "--workload", "llama2-70b", "--device", "nvidia-h100-sxm", "--count", "8", "--json",
                 "--input-len", "8000", "--output-len", "200", "--db", seeded_db]) == 0
    long = _json(capsys)
    assert long["input_len"] == 8000 and long["throughput"] < e["throughput"] and long["ttft_p50_s"] > e["ttft_p50_s"]
    # text form names TTFT, TPOT, the layout and the memory split
    assert main(["predict", "--workload", "llama2-70b", "--device", "nvidia-h100-sxm", "--count", "8",
                 "--db", seeded_db]) == 0
    text = capsys.readouterr().out
    assert all(k in text for k in ("TTFT", "TPOT", "layout", "KV cache", "weights"))


def test_plan_meets_ttft_and_tpot_targets_and_counts_that_can_be_bought(seeded_db, capsys):
    assert main(["plan", "--workload", "llama3.1-70b", "--throughput", "20000", "--ttft-p99-ms", "500",
                 "--tpot-p99-ms", "40", "--json", "--db", seeded_db]) == 0
    res = _json(capsys)
    assert res["feasible"] and res["ranked"]
    for r in res["ranked"]:
        assert r["ttft_p99_s"] <= 0.5 and r["tpot_p99_s"] <= 0.04 and r["throughput"] >= 20000
        n, node = r["count"], r["devices_per_node"]
        assert (n <= node and (n & (n - 1) == 0 or n == node)) or n % node == 0
        assert r["replicas"] * r["tensor_parallel"] * r["pipeline_parallel"] <= n
    # a request rate is the same demand in requests/s: output tokens/s = rate x output length
    assert main(["plan", "--workload", "llama3.1-70b", "--request-rate", "100", "--output-len", "200",
                 "--json", "--db", seeded_db]) == 0
    by_rate = _json(capsys)
    assert main(["plan", "--workload", "llama3.1-70b", "--throughput", "20000", "--output-len", "200",
                 "--json", "--db", seeded_db]) == 0
    by_tps = _json(capsys)
    assert by_rate["ranked"][0] == by_tps["ranked"][0]


def test_impossible_targets_give_the_nearest_setups_and_what_they_break(seeded_db, capsys):
    assert main(["plan", "--workload", "llama3.1-70b", "--throughput", "20000", "--tpot-p99-ms", "0.5", "--json",
                 "--db", seeded_db]) == 0
    res = _json(capsys)
    assert not res["feasible"] and res["nearest"] and all("TPOT" in r["breaks"] for r in res["nearest"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flag=st.sampled_from(["--input-len", "--output-len"]),
       value=st.one_of(st.sampled_from(["0", "-5", "1.5", "nan", "inf", "1e9", "abc", "2e6"]),
                       st.integers(max_value=0).map(str)))
def test_bad_lengths_are_refused_and_nothing_is_stored(seeded_db, capsys, flag, value):
    before = _rows(seeded_db)
    try:
        rc = main(["predict", "--workload", "llama2-70b", "--device", "nvidia-h100-sxm", f"{flag}={value}",
                   "--db", seeded_db])
    except SystemExit as exc:  # argparse refuses what is not a number at all
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2 and (flag in err or "invalid float" in err)
    assert _rows(seeded_db) == before


def test_lengths_on_a_workload_that_is_not_an_llm(seeded_db, capsys):
    assert main(["predict", "--workload", "resnet50", "--device", "nvidia-l4", "--input-len", "100",
                 "--db", seeded_db]) == 2
    assert "only to LLM workloads" in capsys.readouterr().err
    assert main(["plan", "--workload", "resnet50", "--throughput", "100", "--ttft-p99-ms", "10", "--db", seeded_db]) == 2
    assert "LLM serving" in capsys.readouterr().err


def test_your_own_config_plans_end_to_end(seeded_db, capsys):
    cfg = str(CONFIGS / "qwen3-8b.json")
    assert main(["plan", "--model-config", cfg, "--throughput", "10000", "--tpot-p99-ms", "50", "--json",
                 "--db", seeded_db]) == 0
    res = _json(capsys)
    assert res["feasible"] and res["demand"]["workload"] == "custom:qwen3-8b"
    assert all(r["tpot_p99_s"] <= 0.05 for r in res["ranked"])
    # the reference model's own config is that workload: the same answer as --workload
    assert main(["predict", "--model-config", str(CONFIGS / "llama3.1-8b.json"), "--device", "nvidia-h100-sxm",
                 "--json", "--db", seeded_db]) == 0
    a = _json(capsys)
    assert main(["predict", "--workload", "llama3.1-8b", "--device", "nvidia-h100-sxm", "--json",
                 "--db", seeded_db]) == 0
    assert _json(capsys) == a


@pytest.mark.parametrize("cfg, field", [
    ({"model_type": "llama"}, "hidden_size"),
    ({"model_type": "t5", "d_model": 512}, "model_type"),
    ({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
      "num_key_value_heads": 5, "vocab_size": 32000, "intermediate_size": 11008}, "num_key_value_heads"),
])
def test_a_bad_config_is_refused_naming_the_field_and_nothing_is_stored(seeded_db, tmp_path, capsys, cfg, field):
    p = tmp_path / "config.json"
    p.write_text(json.dumps(cfg))
    before = _rows(seeded_db)
    for cmd in (["predict", "--device", "nvidia-h100-sxm"], ["plan", "--throughput", "100"]):
        assert main([*cmd, "--model-config", str(p), "--db", seeded_db]) == 2
        assert field in capsys.readouterr().err
    assert _rows(seeded_db) == before


def test_batch_queries_take_request_lengths(seeded_db, tmp_path):
    q = tmp_path / "in.csv"
    pd.DataFrame({"workload": ["llama3.1-8b", "llama3.1-8b", "resnet50"], "device": ["nvidia-h100-sxm"] * 3,
                  "device_count": [1, 1, 1], "scenario": ["offline"] * 3, "input_len": [128, 4096, ""],
                  "output_len": [1024, 256, ""]}).to_csv(q, index=False)
    out = tmp_path / "out.csv"
    assert main(["predict", "--queries", str(q), "--out", str(out), "--db", seeded_db]) == 0
    df = pd.read_csv(out)
    assert list(df["input_len"].iloc[:2]) == [128, 4096] and (df["tpot_p50_s"].iloc[:2] > 0).all()
    assert df["throughput"].iloc[0] > df["throughput"].iloc[1]  # long prompts cost output tokens/s
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"workload": ["llama3.1-8b"], "device": ["nvidia-h100-sxm"], "device_count": [1],
                  "scenario": ["offline"], "input_len": ["-3"]}).to_csv(bad, index=False)
    assert main(["predict", "--queries", str(bad), "--out", str(tmp_path / "o2.csv"), "--db", seeded_db]) == 2
    assert not (tmp_path / "o2.csv").exists()


def test_a_report_of_your_own_model_keeps_its_architecture(seeded_db, tmp_path, capsys):
    out = tmp_path / "plan.md"
    assert main(["report", "--model-config", str(CONFIGS / "qwen3-8b.json"), "--throughput", "10000",
                 "--tpot-p99-ms", "50", "--format", "md", "--out", str(out), "--db", seeded_db]) == 0
    text = out.read_text()
    assert "custom:qwen3-8b" in text and "TPOT p99" in text and "tokens/s" in text and "units/s" not in text
