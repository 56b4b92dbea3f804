"""Your own model: Hugging Face config.json files and the short form (hwplan.costmodel.llmconfig)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwplan.core.catalog import load_workloads
from hwplan.costmodel import llmconfig as lc
from hwplan.costmodel.api import custom_workload, predict

CONFIGS = Path(__file__).parent / "configs"
# published parameter totals (the model cards on huggingface.co), in billions: (total, active)
PUBLISHED = {
    "llama2-7b": (6.74, None), "llama2-70b": (68.98, None), "llama3.1-8b": (8.03, None), "llama3.1-70b": (70.55, None),
    "llama3.1-405b": (405.85, None), "mixtral-8x7b": (46.7, 12.9), "mixtral-8x22b": (140.6, 39.1),
    "gpt-j": (6.05, None), "gpt-neox-20b": (20.55, None), "qwen3-8b": (8.19, None), "qwen2-moe-a2.7b": (14.3, 2.7),
    "deepseek-v3": (671.0, 37.0),
}
REFERENCE = [p.stem for p in sorted(CONFIGS.glob("*.json")) if p.stem in load_workloads().index]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_parameters_counted_from_the_shapes_match_the_published_totals(name):
    facts = lc.read_config(CONFIGS / f"{name}.json")
    total, active = PUBLISHED[name]
    assert facts["params"] / 1e9 == pytest.approx(total, rel=0.01)
    if active:
        assert facts["active_params"] / 1e9 == pytest.approx(active, rel=0.03)
    else:
        assert facts["active_params"] == facts["params"]


def test_kv_cache_values_per_layer():
    assert lc.read_config(CONFIGS / "llama2-70b.json")["kv_values"] == 2 * 8 * 128
    # DeepSeek-V3's multi-head latent attention caches the 512-wide latent and the 64-wide rotary key
    assert lc.read_config(CONFIGS / "deepseek-v3.json")["kv_values"] == 512 + 64


@pytest.mark.parametrize("name", REFERENCE)
def test_a_config_identical_to_a_reference_workload_predicts_the_same(serving_model, name):
    model, wid, ref = custom_workload(serving_model, lc.read_config(CONFIGS / f"{name}.json"))
    assert wid == ref == name and model is serving_model
    a = predict(serving_model, name, "nvidia-h100-sxm", count=8)
    b = predict(model, wid, "nvidia-h100-sxm", count=8)
    assert a.as_dict() == b.as_dict()


def test_a_new_model_is_predicted_from_the_fitted_efficiencies(serving_model):
    model, wid, ref = custom_workload(serving_model, lc.read_config(CONFIGS / "qwen3-8b.json"), name="qwen3-8b",
                                      input_len=1000, output_len=200)
    assert ref is None and wid == "custom:qwen3-8b" and wid not in serving_model.workloads_
    est = predict(model, wid, "nvidia-h100-sxm", count=1, input_len=1000, output_len=200)
    assert est.fits and est.throughput > 0 and est.basis in ("calibrated", "roofline")
    assert est.weights_gb == pytest.approx(lc.read_config(CONFIGS / "qwen3-8b.json")["params"] / 1e9, rel=0.01)  # fp8
    assert 0 < est.ttft_p50_s <= est.ttft_p99_s and 0 < est.tpot_p50_s <= est.tpot_p99_s
    # an architecture like llama3.1-8b's but for its vocabulary and head count is near it, not equal
    near = predict(serving_model, "llama3.1-8b", "nvidia-h100-sxm", count=1, input_len=1000, output_len=200)
    assert 0.5 < est.throughput / near.throughput < 2


REQUIRED = {"llama": ["hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size", "intermediate_size"],
            "mixtral": ["num_local_experts", "num_experts_per_tok", "intermediate_size"],
            "gptj": ["n_embd", "n_layer", "n_head", "vocab_size"]}
BASE = {"llama": "llama3.1-8b", "mixtral": "mixtral-8x7b", "gptj": "gpt-j"}
BAD = st.one_of(st.none(), st.integers(-10, 0), st.floats(allow_nan=True), st.text(max_size=5), st.booleans(),
                st.lists(st.integers(), max_size=2))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(REQUIRED)), data=st.data())
def test_a_malformed_config_is_refused_naming_the_field(kind, data):
    cfg = json.loads((CONFIGS / f"{BASE[kind]}.json").read_text())
    field = data.draw(st.sampled_from(REQUIRED[kind]))
    # anything but a whole number >= 1 (inf and NaN included: int(inf) would raise inside the filter itself)
    value = data.draw(BAD.filter(lambda v: not (isinstance(v, (int, float)) and not isinstance(v, bool)
                                                 and math.isfinite(v) and v == int(v) and v >= 1)))
    if data.draw(st.booleans()):
        cfg.pop(field)
    else:
        cfg[field] = value
    with pytest.raises(lc.ConfigError) as err:
        lc.from_config(cfg, "config.json")
    assert err.value.field == field and field in str(err.value) and "expected" in str(err.value)


@pytest.mark.parametrize("cfg, field", [
    ([1, 2], "file"), ({}, "model_type"), ({"model_type": "bert"}, "model_type"),
    ({**json.loads((CONFIGS / "llama2-70b.json").read_text()), "num_key_value_heads": 7}, "num_key_value_heads"),
    ({**json.loads((CONFIGS / "mixtral-8x7b.json").read_text()), "num_experts_per_tok": 9}, "num_experts_per_tok"),
])
def test_unsupported_or_inconsistent_configs(cfg, field):
    with pytest.raises(lc.ConfigError) as err:
        lc.from_config(cfg)
    assert err.value.field == field


def test_files_that_are_not_configs(tmp_path):
    for name, data in (("missing.json", None), ("bad.json", b"{not json"), ("bin.json", b"\xff\xfe\x00")):
        p = tmp_path / name
        if data is not None:
            p.write_bytes(data)
        with pytest.raises(lc.ConfigError) as err:
            lc.read_config(p)
        assert err.value.field == "file"


@settings(max_examples=60, deadline=None)
@given(params=st.one_of(st.none(), st.floats(max_value=0), st.just(float("nan"))), layers=st.integers(-3, 0))
def test_the_short_form_refuses_what_is_not_a_model(params, layers):
    with pytest.raises(lc.ConfigError) as err:
        lc.from_short_form(params=params, layers=32, d_model=4096, n_heads=32)
    assert err.value.field == "params"
    with pytest.raises(lc.ConfigError) as err:
        lc.from_short_form(params=8e9, layers=layers, d_model=4096, n_heads=32)
    assert err.value.field == "layers"


def test_the_short_form_of_a_reference_model_is_that_model(serving_model):
    facts = lc.from_short_form(params=8_030_261_248, layers=32, d_model=4096, n_heads=32, n_kv_heads=8, vocab=128256)
    _, _wid, ref = custom_workload(serving_model, facts)
    assert ref == "llama3.1-8b"


BAD_NUMBER = st.one_of(st.text(max_size=4), st.floats(max_value=-1e-9), st.just(float("nan")), st.just(10 ** 400),
                       st.booleans(), st.lists(st.integers(), max_size=2))


@settings(max_examples=80, deadline=None)
@given(field=st.sampled_from(["n_kv_heads", "n_experts", "experts_per_token", "active_params", "vocab", "head_dim",
                              "layers", "d_model"]), value=BAD_NUMBER)
def test_every_number_of_the_short_form_is_checked(field, value):
    kw = dict(params=8e9, layers=32, d_model=4096, n_heads=32, n_kv_heads=8, vocab=128256)
    kw[field] = value
    with pytest.raises(lc.ConfigError) as err:
        lc.from_short_form(**kw)
    assert err.value.field in (field, "experts_per_token", "active_params")


def test_huge_numbers_and_strings_for_flags_are_refused():
    cfg = json.loads((CONFIGS / "llama3.1-8b.json").read_text())
    for field, value in (("hidden_size", 10 ** 400), ("hidden_size", 1e300), ("tie_word_embeddings", "false")):
        with pytest.raises(lc.ConfigError) as err:
            lc.from_config({**cfg, field: value})
        assert err.value.field == field


def test_mla_caches_one_latent_per_token_on_every_tensor_parallel_device():
    facts = lc.read_config(CONFIGS / "deepseek-v3.json")
    assert facts["n_kv_heads"] == 1  # the latent is not split over TP devices (it is replicated)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.integers(max_value=0), st.just(0.5), st.just("abc"), st.just(10 ** 400)))
def test_a_custom_model_refuses_bad_lengths(serving_model, value):
    from hwplan.core.errors import HwplanError

    with pytest.raises(HwplanError, match="--input-len"):
        custom_workload(serving_model, lc.read_config(CONFIGS / "qwen3-8b.json"), input_len=value, output_len=100)
