"""The dashboard's one door into the cost model (`hwplan.costmodel.api`).

Views call these functions instead of the cost model directly, so a name that moves in the cost
model is adapted here once. No cost arithmetic lives here: it builds inputs and times calls.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass

import pandas as pd

from hwplan.app.dashboard.state import PlanInputs


class CostModelUnavailable(RuntimeError):
    """hwplan.costmodel.api cannot be imported (not installed, or still being written)."""


def api():
    try:
        return importlib.import_module("hwplan.costmodel.api")
    except ImportError as exc:
        raise CostModelUnavailable(f"the cost model (hwplan.costmodel.api) could not be loaded: {exc}") from exc


def assumptions_class():
    from hwplan.costmodel.assumptions import Assumptions

    return Assumptions


def make_assumptions(values: dict | None):
    """An Assumptions object from a plain dict (session overrides); None = the defaults."""
    cls = assumptions_class()
    return cls(**(values or {}))


def make_demand(inputs: PlanInputs):
    a = api()
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
    result = api().plan(model, demand, assumptions=assumptions, top=top)
    return TimedPlan(result, clock() - t0)


def predict(model, workload: str, device: str, count: int = 1, precision: str = "auto", batch=None,
            mode: str = "inference", assumptions=None):
    return api().predict(model, workload, device, count=count, precision=precision, batch=batch, mode=mode,
                         assumptions=assumptions)


def predict_curve(model, workload: str, device: str, count: int = 1, precisions=None, batches=None,
                  assumptions=None) -> pd.DataFrame:
    return api().predict_curve(model, workload, device, count=count, precisions=precisions, batches=batches,
                               assumptions=assumptions)


def scaling_curve(model, workload: str, device: str, counts, precision: str = "auto") -> pd.DataFrame:
    return api().scaling_curve(model, workload, device, counts, precision=precision)
