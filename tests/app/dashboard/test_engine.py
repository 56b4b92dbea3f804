"""The Plan view's hand-over to the cost model for LLM serving and your own model: demand, target, config upload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwplan.app.dashboard import engine, state, upload
from hwplan.core.errors import HwplanError
from hwplan.core.store import Store
from hwplan.costmodel import llmconfig
from hwplan.costmodel.cache import ModelCache
from tests.app.conftest import REPO

CONFIGS = REPO / "tests" / "costmodel" / "configs"


@pytest.fixture(scope="module")
def model(seeded_db, model_cache):
    store = Store.open(seeded_db)
    yield ModelCache(Path(model_cache)).get(store, seed=False)
    store.close()


def config_bytes(name: str) -> bytes:
    return (CONFIGS / name).read_bytes()


def test_llm_fields_reach_the_demand_only_for_llm_serving(model):
    inputs = state.PlanInputs(workload="llama2-70b", demand_form="requests", request_rate=4, input_len=512,
                              output_len=128, ttft_p99_ms=800, tpot_p99_ms=60, kv_precision="fp8")
    tgt = engine.target(model, inputs)
    assert tgt.serving and tgt.unit == "tokens/s" and tgt.in_len_mean > 0 and tgt.out_len_mean > 0
    d = engine.make_demand(inputs, tgt)
    assert d.throughput is None and d.request_rate == 4 and d.input_len == 512 and d.kv_precision == "fp8"
    assert d.ttft_p99_ms == 800 and d.tpot_p99_ms == 60
    assert engine.required_throughput(inputs, tgt) == 4 * 128
    # the same fields on a non-LLM workload, or an LLM in training, are left out (the cost model would refuse them)
    for other in (state.PlanInputs(workload="resnet50", demand_form="requests", request_rate=4, ttft_p99_ms=5),
                  state.PlanInputs(workload="llama2-70b", mode="training", ttft_p99_ms=5)):
        t = engine.target(model, other)
        assert not t.serving
        d = engine.make_demand(other, t)
        assert d.ttft_p99_ms is None and d.request_rate is None
        assert d.throughput == (None if other.mode == "training" else other.throughput)  # a run has no rate


def test_a_training_run_plans_its_volume_by_its_deadline(model):
    inputs = state.PlanInputs(workload="llama3.1-70b", mode="training", train_volume=1e12, train_unit="tokens",
                              train_deadline=30, deadline_unit="days", budget_usd_run=5e6, kinds=["gpu"])
    d = engine.make_demand(inputs, engine.target(model, inputs))
    assert (d.mode, d.token_volume, d.samples, d.deadline_hours, d.budget_usd, d.kinds) == \
        ("training", 1e12, None, 720.0, 5e6, ["gpu"])
    result = engine.run_plan(model, inputs).result
    assert result.feasible and (result.ranked["time_to_train_h"] <= 720).all()
    report = engine.report_inputs(inputs, engine.target(model, inputs))
    assert report["token_volume"] == 1e12 and report["deadline_hours"] == 720.0 and report["throughput"] is None
    # resnet50 without a volume plans the MLPerf reference run; an LLM without one has none to plan
    assert engine.has_reference_run("resnet50") and not engine.has_reference_run("llama3.1-70b")
    ref = state.PlanInputs(workload="resnet50", mode="training", train_unit="samples")
    assert engine.run_plan(model, ref).result.feasible
    with pytest.raises(HwplanError) as err:
        engine.run_plan(model, state.PlanInputs(workload="resnet50", mode="training", train_unit="epochs",
                                                train_volume=-1))
    assert "--" not in engine.training_message(err.value)
    plain = state.PlanInputs(workload="llama2-70b")
    assert engine.make_demand(plain, engine.target(model, plain)).kv_precision is None


def test_an_uploaded_config_plans_as_its_own_workload(model):
    facts = upload.read_model_config("qwen3-8b.json", config_bytes("qwen3-8b.json"))
    inputs = state.PlanInputs(own="config", mode="training", ttft_p99_ms=500, tpot_p99_ms=50)
    tgt = engine.target(model, inputs, {"facts": facts, "name": "qwen3-8b"})
    assert tgt.workload == "custom:qwen3-8b" and tgt.serving and tgt.reference is None and tgt.facts == facts
    timed = engine.run_plan(model, inputs, tgt=tgt)
    top = timed.result.ranked.iloc[0]
    assert top["ttft_p99_s"] <= 0.5 and top["tpot_p99_s"] <= 0.05 and top["weights_gb"] > 0
    report = engine.report_inputs(inputs, tgt)
    assert report["model_facts"] == facts and report["workload"] == "custom:qwen3-8b" and report["mode"] == "inference"


def test_a_config_equal_to_a_reference_workload_is_that_workload(model):
    facts = upload.read_model_config("config.json", config_bytes("llama3.1-8b.json"))
    tgt = engine.target(model, state.PlanInputs(own="config"), {"facts": facts, "name": "x"})
    assert tgt.workload == tgt.reference == "llama3.1-8b"


def test_short_form_plans_and_names_fields_as_the_form_does(model):
    inputs = state.PlanInputs(own="short", own_params_b=8, own_layers=32, own_hidden=4096, own_heads=32, own_kv_heads=8)
    tgt = engine.target(model, inputs)
    assert tgt.workload.startswith("custom:") and tgt.facts["n_kv_heads"] == 8
    assert not engine.run_plan(model, inputs, tgt=tgt).result.ranked.empty
    with pytest.raises(llmconfig.ConfigError, match="KV heads: 3 does not divide Attention heads 32"):
        engine.target(model, state.PlanInputs(own="short", own_params_b=8, own_layers=32, own_hidden=4096,
                                              own_heads=32, own_kv_heads=3))
    with pytest.raises(llmconfig.ConfigError, match="Active parameters: is missing"):
        engine.short_form_facts(state.PlanInputs(own="short", own_params_b=47, own_layers=32, own_hidden=4096,
                                                 own_heads=32, own_experts=8, own_experts_per_token=2))
    with pytest.raises(HwplanError, match=r"upload your model's config\.json"):
        engine.target(model, state.PlanInputs(own="config"), None)


@pytest.mark.parametrize(("data", "field"), [
    (b'{"model_type": "llama"}', "hidden_size"),
    (b"{not json", "file"),
    (b"[1, 2]", "file"),
    (b'{"model_type": "bert"}', "model_type"),
    (b'{"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 2, "num_attention_heads": 32, '
     b'"vocab_size": 100, "intermediate_size": 64, "architectures": 5}', "file"),
    (b"[" * 100_000, "file"),
    (b" " * (llmconfig.MAX_CONFIG_BYTES + 1), "file"),
])
def test_a_bad_config_is_a_config_error_naming_the_field(data, field):
    with pytest.raises(llmconfig.ConfigError) as err:
        upload.read_model_config("mine.json", data)
    assert err.value.field == field and str(err.value).startswith(f"mine.json: {field}:")


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=12)
config_keys = st.sampled_from(["model_type", "hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size",
                               "num_key_value_heads", "intermediate_size", "head_dim", "architectures", "num_experts",
                               "num_experts_per_tok", "moe_intermediate_size", "mlp_only_layers", "_name_or_path"])


@settings(max_examples=200, deadline=None)
@given(cfg=st.dictionaries(config_keys, json_values, max_size=10),
       model_type=st.sampled_from(list(llmconfig.SUPPORTED) + ["bert", 3]))
def test_any_uploaded_json_gives_facts_or_a_config_error(cfg, model_type):
    cfg = {"model_type": model_type, **{k: v for k, v in cfg.items() if k != "model_type"}}
    try:
        facts = upload.read_model_config("any.json", json.dumps(cfg).encode())
    except llmconfig.ConfigError as err:
        assert str(err).startswith("any.json: ")
    else:
        assert facts["params"] > 0


@settings(max_examples=40, deadline=None)
@given(field=st.sampled_from(["input_len", "output_len", "ttft_p99_ms", "tpot_p99_ms", "request_rate"]),
       value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**9, 10**9)))
def test_bad_lengths_and_limits_are_a_clear_error_not_a_crash(model, field, value):
    """Whatever reaches the cost model, the answer is a plan or a HwplanError naming the field, never a crash."""
    spec = state.NUMBERS[field]
    inputs = state.PlanInputs(workload="llama3.1-8b", demand_form="requests" if field == "request_rate" else "rate",
                              **{field: value})
    if field == "request_rate" and not value:
        inputs.request_rate = None
    problems = state.problems(inputs, serving=True)
    tgt = engine.target(model, inputs)
    try:
        result = engine.run_plan(model, inputs, tgt=tgt, top=3).result
    except HwplanError as err:
        flag = {"input_len": "--input-len", "output_len": "--output-len", "ttft_p99_ms": "--ttft-p99-ms",
                "tpot_p99_ms": "--tpot-p99-ms", "request_rate": "--request-rate"}[field]
        assert flag in str(err) or "throughput" in str(err)
        assert problems, "the dashboard stops before the cost model refuses"
    else:
        assert result.feasible in (True, False)
        if problems:  # the dashboard is stricter than the cost model only within the range it offers
            assert problems[0].startswith(spec.label) or problems[0].startswith("Give the request rate")
