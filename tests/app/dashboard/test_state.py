from hwplan.app.dashboard.state import KINDS, PlanInputs, from_query, to_query


def test_round_trip_keeps_every_input():
    inputs = PlanInputs(workload="llama2-70b", mode="inference", throughput=25_000, latency_ms=200,
                        budget_usd_month=50_000, power_cap_kw=12.5, kinds=["gpu", "tpu"], pricing="owned")
    back, notes = from_query(to_query(inputs), {"llama2-70b", "resnet50"})
    assert notes == []
    assert back == inputs


def test_volume_demand_round_trips_and_gives_a_rate():
    # inference: a volume by a deadline is a rate (a training run has its own inputs: train_volume, train_deadline)
    inputs = PlanInputs(workload="resnet50", mode="inference", demand_form="volume", volume=3.6e9, deadline_h=10)
    back, _ = from_query(to_query(inputs))
    assert back.demand_form == "volume" and back.volume == 3.6e9 and back.deadline_h == 10
    assert back.required_throughput() == 3.6e9 / 36_000


def test_open_constraints_stay_out_of_the_url():
    q = to_query(PlanInputs())
    assert set(q) == {"workload", "mode", "pricing", "throughput"}


def test_bad_values_keep_defaults_and_are_named():
    inputs, notes = from_query({"workload": "nope", "throughput": "-5", "latency_ms": "abc", "kinds": "gpu,quantum",
                                "mode": "sideways"}, {"resnet50"})
    assert inputs.workload == "resnet50" and inputs.throughput == PlanInputs().throughput
    assert inputs.latency_ms is None and inputs.kinds == ["gpu"] and inputs.mode == "inference"
    assert len(notes) == 5


def test_kinds_order_is_canonical():
    q = to_query(PlanInputs(kinds=["tpu", "cpu"]))
    assert q["kinds"] == "cpu,tpu"
    assert to_query(PlanInputs(kinds=list(KINDS))).get("kinds") is None


# ---- LLM serving and your own model ------------------------------------------------------------

import math  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hwplan.app.dashboard import state  # noqa: E402

LLM_KEYS = {"rps", "in", "out", "ttft", "tpot"}


def test_llm_inputs_round_trip_with_short_keys():
    inputs = PlanInputs(workload="llama2-70b", demand_form="requests", request_rate=5, input_len=2048, output_len=128,
                        ttft_p99_ms=500, tpot_p99_ms=40, kv_precision="fp8")
    q = to_query(inputs)
    assert {"rps", "in", "out", "ttft", "tpot", "kv"} <= set(q) and q["demand"] == "requests" and "throughput" not in q
    back, notes = from_query(q, {"llama2-70b"})
    assert notes == [] and back == inputs
    assert isinstance(back.input_len, int) and back.required_throughput() == 5 * 128


def test_llm_keys_stay_out_of_a_non_llm_link():
    inputs = PlanInputs(workload="resnet50", demand_form="requests", request_rate=5, ttft_p99_ms=500, kv_precision="fp8")
    q = to_query(inputs, serving=False)
    assert not (LLM_KEYS | {"kv", "demand"}) & set(q) and q["throughput"] == "10000"


def test_short_form_round_trips_but_an_uploaded_config_never_enters_the_link():
    short = PlanInputs(own="short", own_params_b=8, own_layers=32, own_hidden=4096, own_heads=32, own_kv_heads=8)
    q = to_query(short)
    assert q["own"] == "short" and "workload" not in q and q["params"] == "8" and q["kvh"] == "8"
    back, notes = from_query(q, {"resnet50"})
    assert notes == [] and back.own_layers == 32 and back.own_kv_heads == 8 and back.mode == "inference"
    q = to_query(PlanInputs(own="config", own_params_b=8))
    assert q["own"] == "config" and "params" not in q and "workload" not in q


def test_bad_llm_link_values_are_named_and_ignored():
    inputs, notes = from_query({"in": "0", "out": "2.5", "ttft": "-1", "tpot": "nan", "rps": "fast", "kv": "fp7",
                                "own": "hub", "layers": "1e9"})
    assert inputs.input_len is None and inputs.output_len is None and inputs.ttft_p99_ms is None
    assert inputs.kv_precision == "auto" and inputs.own == "" and inputs.own_layers is None
    assert len(notes) == 8
    assert any("Prompt tokens must be a whole number from 1 to 1,048,576" in n for n in notes)


def test_problems_say_what_to_change():
    ok = PlanInputs(workload="llama2-70b", ttft_p99_ms=500)
    assert state.problems(ok, serving=True) == []
    assert state.problems(PlanInputs(demand_form="requests"), serving=True) == [
        "Give the request rate (Requests/s), or choose the demand as tokens/s"]
    missing = state.problems(PlanInputs(own="short", own_params_b=8), serving=True)
    assert missing == ["The short form needs Layers, Hidden size, Attention heads"]
    too_many = PlanInputs(own="short", own_params_b=8, own_layers=2, own_hidden=64, own_heads=4, own_active_b=9)
    assert "cannot be more than the parameters" in state.problems(too_many, serving=True)[0]
    # LLM fields are not looked at when the plan is not LLM serving
    assert state.problems(PlanInputs(ttft_p99_ms=-3), serving=False) == []


any_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-10**12, max_value=10**12),
    st.floats(min_value=0, max_value=2e6), st.text(max_size=12), st.booleans(), st.lists(st.integers(), max_size=2),
)


def usable(spec, value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False  # text is parsed where it is read (the URL), never handed on
    return math.isfinite(value) and spec.low <= value <= spec.high and (not spec.whole or value == int(value))


@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from([f.name for f in state.LLM_NUMBERS + state.OWN_NUMBERS]), value=any_values)
def test_any_bad_length_or_limit_is_a_clear_message_not_a_crash(field, value):
    spec = state.NUMBERS[field]
    why = spec.problem(value)
    session = {state.WIDGET_PREFIX + field: value}
    notes = state.clean_widgets(session)
    if usable(spec, value):
        assert why is None and notes == []
        assert type(session[state.WIDGET_PREFIX + field]) is (int if spec.whole else float)  # what the widget takes
        return
    assert why and why.startswith(spec.label) and "must be" in why
    inputs = PlanInputs(own="short" if field.startswith("own_") else "", **{field: value})
    assert any(m.startswith(spec.label) for m in state.problems(inputs, serving=True))
    assert session[state.WIDGET_PREFIX + field] is None and "cleared" in notes[0]


@settings(max_examples=150, deadline=None)
@given(query=st.dictionaries(st.sampled_from(sorted(state.QUERY_KEYS)), st.text(max_size=16), max_size=6))
def test_any_link_opens_with_valid_inputs(query):
    inputs, notes = from_query(query, {"resnet50", "llama2-70b"})
    assert all(isinstance(n, str) for n in notes)
    for spec in state.LLM_NUMBERS + state.OWN_NUMBERS:
        assert spec.problem(getattr(inputs, spec.name)) is None
    assert inputs.kv_precision in state.KV_CHOICES and inputs.own in ("", *state.OWN_SOURCES)
    back, again = from_query(to_query(inputs))
    assert again == [] and to_query(back) == to_query(inputs)


def test_a_training_plan_round_trips_through_the_url():
    inputs = state.PlanInputs(workload="llama3.1-70b", mode="training", train_volume=1e12, train_unit="tokens",
                              train_deadline=30, deadline_unit="days", budget_usd_run=250_000, kinds=["gpu", "tpu"])
    q = state.to_query(inputs, serving=False)
    assert q == {"workload": "llama3.1-70b", "mode": "training", "pricing": "cloud", "train_unit": "tokens",
                 "deadline_unit": "days", "train": "1000000000000", "deadline": "30", "budget_run": "250000",
                 "kinds": "gpu,tpu"}
    back, notes = state.from_query(q, {"llama3.1-70b"})
    assert not notes and back == inputs and back.train_deadline_h == 720.0
    bad, notes = state.from_query({"mode": "training", "train_unit": "litres", "deadline": "-3"})
    assert bad.train_unit == "tokens" and bad.train_deadline is None and len(notes) == 2
