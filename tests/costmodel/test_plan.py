"""The planner: ranked setups, Pareto front, binding limits, and the infeasible answer."""

from __future__ import annotations

import numpy as np
import pytest

from hwplan.costmodel.api import Demand, plan, predict
from hwplan.costmodel.assumptions import Assumptions


def test_plan_ranks_cheapest_first_and_all_meet_the_demand(model):
    res = plan(model, Demand("resnet50", throughput=200_000))
    assert res.feasible and len(res.ranked) > 1
    assert (res.ranked["throughput"] >= 200_000).all()
    assert res.ranked["usd_per_month"].is_monotonic_increasing
    assert list(res.ranked["rank"]) == list(range(1, len(res.ranked) + 1))
    assert res.why and res.binding
    assert res.candidates_evaluated > 100_000
    # the Pareto front holds no dominated point
    p = res.pareto[["usd_per_month", "latency_p99_s", "energy_kwh_per_month"]].to_numpy()
    for i in range(len(p)):
        dominated = np.all(p <= p[i], axis=1) & np.any(p < p[i], axis=1)
        assert not dominated.any()
    d = res.as_dict()
    assert d["feasible"] and d["ranked"][0]["device"] == res.ranked["device"].iloc[0]


def test_latency_limit_binds_and_is_named(model):
    loose = plan(model, Demand("llama2-70b", throughput=20_000))
    top = loose.ranked.iloc[0]
    # tighten the TPOT limit until it costs more than the loose plan (a cheaper layout of the same setup may meet a
    # mild limit at no cost): then TPOT is what binds, and the plan says what it costs
    for factor in (0.3, 0.15, 0.08, 0.04):
        tight_ms = top["tpot_p99_s"] * 1000 * factor
        res = plan(model, Demand("llama2-70b", throughput=20_000, tpot_p99_ms=tight_ms))
        assert not res.feasible or (res.ranked["tpot_p99_s"] * 1000 <= tight_ms).all()
        if res.feasible and res.ranked["usd_per_month"].iloc[0] > top["usd_per_month"]:
            break
        if res.feasible:
            assert not res.binding.startswith("TPOT binds")  # met at no extra cost: it does not bind
    else:
        pytest.fail("no TPOT limit down to 4% of the loose plan's made a costlier plan")
    assert res.binding.startswith("TPOT binds") and "more" in res.binding
    # the whole-request p99 limit (first token to last) is kept too
    e2e = plan(model, Demand("llama2-70b", throughput=20_000, latency_p99_ms=top["latency_p99_s"] * 1000 * 0.5))
    assert (e2e.ranked["latency_p99_s"] <= top["latency_p99_s"] * 0.5).all()


def test_infeasible_demand_gives_nearest_setups_and_what_each_breaks(model):
    res = plan(model, Demand("llama2-70b", throughput=1e6, budget_usd_month=5_000, power_cap_kw=2))
    assert not res.feasible and len(res.ranked) == 0
    assert len(res.nearest) >= 3
    assert res.nearest["breaks"].str.len().gt(0).all()
    assert res.nearest["breaks"].str.contains("budget").any()
    assert "infeasible" in res.why and "broken most often" in res.binding
    assert res.as_dict()["nearest"][0]["breaks"]


def test_kinds_filter_and_price_overrides(model):
    res = plan(model, Demand("bert-large", throughput=5_000, kinds=["tpu"]))
    assert set(res.ranked["device_kind"]) == {"tpu"}
    a = Assumptions(price_overrides={"amd-mi300x": {"cloud_usd_per_hour": 0.01}})
    res2 = plan(model, Demand("bert-large", throughput=5_000), assumptions=a)
    assert res2.ranked["device"].iloc[0] == "amd-mi300x"


def test_owned_pricing_uses_purchase_prices(model):
    res = plan(model, Demand("resnet50", throughput=50_000, pricing="owned"))
    assert res.feasible
    assert np.allclose(res.ranked["usd_per_month"], res.ranked["usd_per_month_owned"])


def test_training_demand_from_volume_and_deadline(model):
    d = Demand("llama3.1-8b", mode="training", token_volume=1e10, deadline_hours=100)
    assert d.required_throughput() == pytest.approx(1e10 / 360_000)
    res = plan(model, d)
    assert res.feasible and (res.ranked["throughput"] >= d.required_throughput()).all()


def test_a_setup_that_meets_the_tpot_target_beats_a_faster_one_that_breaks_it(serving_model):
    e = predict(serving_model, "llama2-70b", "nvidia-h100-sxm", count=8, precision="fp8")
    tight = e.tpot_p99_s * 1000 * 0.15
    res = plan(serving_model, Demand("llama2-70b", throughput=1000, tpot_p99_ms=tight, kinds=["gpu"]))
    assert res.feasible and (res.ranked["tpot_p99_s"] * 1000 <= tight * (1 + 1e-9)).all()


def test_a_whole_request_latency_limit_is_checked_at_every_count(serving_model):
    res = plan(serving_model, Demand("llama2-70b", throughput=8000, latency_p99_ms=5000))
    assert res.feasible and (res.ranked["latency_p99_s"] <= 5.0).all()


def test_the_server_scenario_keeps_the_benchmarks_own_latency_limits(serving_model):
    # MLPerf's Llama 3.1 405B server limits: TTFT p99 6 s, TPOT p99 175 ms (data/workloads.csv)
    res = plan(serving_model, Demand("llama3.1-405b", throughput=3000, scenario="server"))
    assert res.feasible
    assert (res.ranked["ttft_p99_s"] <= 6.0).all() and (res.ranked["tpot_p99_s"] <= 0.175).all()


def test_a_setup_that_does_not_fit_names_the_devices_it_needs(serving_model):
    e = predict(serving_model, "llama2-70b", "nvidia-h100-sxm", count=1, precision="bf16")
    assert not e.fits and e.min_devices == 2 and "needs 2 device(s)" in e.note
