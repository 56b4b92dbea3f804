from hwplan.app.dashboard.state import KINDS, PlanInputs, from_query, to_query


def test_round_trip_keeps_every_input():
    inputs = PlanInputs(workload="llama2-70b", mode="inference", throughput=25_000, latency_ms=200,
                        budget_usd_month=50_000, power_cap_kw=12.5, kinds=["gpu", "tpu"], pricing="owned")
    back, notes = from_query(to_query(inputs), {"llama2-70b", "resnet50"})
    assert notes == []
    assert back == inputs


def test_volume_demand_round_trips_and_gives_a_rate():
    inputs = PlanInputs(workload="resnet50", mode="training", demand_form="volume", volume=3.6e9, deadline_h=10)
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
