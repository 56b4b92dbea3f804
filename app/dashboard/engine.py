"""What the Plan view hands the cost model: assumptions and a demand built from its inputs, and the plan's
server time (the dashboard benchmark reads it). No cost arithmetic lives here."""

from __future__ import annotations

import time
from dataclasses import dataclass

from hwplan.app.dashboard.state import PlanInputs
from hwplan.costmodel import api
from hwplan.costmodel.assumptions import Assumptions


def make_assumptions(values: dict | None) -> Assumptions:
    """An Assumptions object from a plain dict (session overrides); None = the defaults."""
    return Assumptions(**(values or {}))


def make_demand(inputs: PlanInputs):
    a = api
    volume = inputs.demand_form == "volume" and inputs.volume and inputs.deadline_h
    kwargs = dict(workload=inputs.workload, throughput=None if volume else inputs.throughput, mode=inputs.mode,
                  latency_p99_ms=inputs.latency_ms, budget_usd_month=inputs.budget_usd_month,
                  power_cap_kw=inputs.power_cap_kw, kinds=list(inputs.kinds) or None, pricing=inputs.pricing)
    if volume:
        kwargs.update(token_volume=inputs.volume, deadline_hours=inputs.deadline_h)
    return a.Demand(**kwargs)


@dataclass
class TimedPlan:
    result: object
    seconds: float


def run_plan(model, inputs: PlanInputs, assumptions=None, top: int = 10, clock=time.perf_counter) -> TimedPlan:
    """plan() with the server time it took (the benchmark reads it)."""
    demand = make_demand(inputs)
    t0 = clock()
    result = api.plan(model, demand, assumptions=assumptions, top=top)
    return TimedPlan(result, clock() - t0)
