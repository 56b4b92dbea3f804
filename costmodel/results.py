"""What the cost model answers with: one setup's `Estimate`, a plan's `Demand` and `PlanResult`.

Plain data, shared by `api` and `planner` (one floor below both). Fields may be added, never renamed:
the dashboard, the CLI's --json and saved reports read them by name.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from hwplan.core.errors import HwplanError
from hwplan.costmodel.assumptions import Assumptions


@dataclass(frozen=True)
class Estimate:
    """One predicted setup. Throughput is for the whole setup (all devices), in throughput_unit."""

    workload: str
    device: str
    device_count: int
    precision: str
    batch_size: int
    scenario: str
    mode: str
    throughput: float
    throughput_unit: str
    low: float
    high: float
    basis: str
    basis_detail: str
    latency_p99_s: float | None
    power_w: float
    energy_per_unit_j: float | None
    usd_per_hour_cloud: float | None        # per hour rented (held), the cloud price x devices
    usd_per_hour_owned: float | None        # per busy hour: the month's TCO over its hours x utilisation
    usd_per_million_units_cloud: float | None
    usd_per_million_units_owned: float | None
    co2_kg_per_million_units: float | None
    parallel_efficiency: float | None
    memory_gb_required: float
    min_devices: int
    bound: str
    device_kind: str = ""
    phase: str = ""
    interval_coverage: float = 0.8
    replicas: int = 1
    devices_per_replica: int = 1
    power_scope: str = "system"
    fits: bool = True
    note: str = ""
    usd_per_month_cloud: float | None = None
    usd_per_month_owned: float | None = None
    energy_kwh_per_month: float | None = None
    co2_kg_per_month: float | None = None
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    latency_p50_s: float | None = None
    overhead_s: float | None = None
    peak_throughput: float | None = None
    flops_per_unit: float | None = None
    # LLM serving (None for other workloads): request shape, serving latencies, layout and memory split
    input_len: float | None = None
    output_len: float | None = None
    kv_precision: str | None = None
    ttft_p50_s: float | None = None
    ttft_p99_s: float | None = None
    tpot_p50_s: float | None = None
    tpot_p99_s: float | None = None
    total_tokens_per_s: float | None = None
    concurrency: int | None = None
    expert_parallel: int | None = None
    devices_per_node: int | None = None
    weights_gb: float | None = None
    kv_cache_gb: float | None = None
    activations_gb: float | None = None
    meets_latency: bool | None = None
    # training runs (None for inference): the run's length, cost, energy, MFU, layout and memory per device
    time_to_train_s: float | None = None
    time_to_train_low_s: float | None = None
    time_to_train_high_s: float | None = None
    device_hours: float | None = None
    usd_per_run_cloud: float | None = None
    usd_per_run_owned: float | None = None
    energy_kwh_per_run: float | None = None
    co2_kg_per_run: float | None = None
    mfu: float | None = None
    data_parallel: int | None = None
    zero_stage: int | None = None
    recompute: str | None = None
    micro_batch: int | None = None
    global_batch: int | None = None
    steps: float | None = None
    train_volume: float | None = None
    train_volume_unit: str | None = None
    train_volume_label: str | None = None
    grads_gb: float | None = None
    optimizer_gb: float | None = None
    # whole-system TCO and where the price came from
    tco: dict | None = None                  # capex by term, owned USD/month by term, break-even (hwplan.costmodel.cost)
    breakeven_months: float | None = None    # months of use after which buying costs less than renting
    price_basis: str | None = None           # the cloud offer the price is (provider, instance, region, date)
    price_stale: bool | None = None          # older than hwplan.core.prices.PRICE_MAX_AGE_DAYS, or undated
    carbon_kg_per_kwh: float | None = None   # the grid intensity used (the region's unless one was given)
    # power: power_w is wall power of the whole setup (power_scope "system": hosts per node + devices, no PUE);
    # device_power_w the devices' own share; power_basis what both rest on (hwplan.costmodel.power)
    device_power_w: float | None = None
    # 80% intervals of energy: the throughput (or time-to-train) interval and the power fit's spread together
    energy_per_unit_low_j: float | None = None
    energy_per_unit_high_j: float | None = None
    energy_kwh_per_run_low: float | None = None
    energy_kwh_per_run_high: float | None = None
    power_basis: str = ""

    @property
    def usd_per_million_units(self) -> dict:
        return {"cloud": self.usd_per_million_units_cloud, "owned": self.usd_per_million_units_owned}

    def as_dict(self) -> dict:
        return {k: clean(v) for k, v in asdict(self).items()}


def clean(v):
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


@dataclass
class Demand:
    """What a plan must meet. throughput: whole-setup samples/s (tokens/s for LLMs).

    Training: give `throughput`, or `token_volume` (samples or tokens to process) and
    `deadline_hours`, from which the throughput follows.
    """

    workload: str
    throughput: float | None = None
    mode: str = "inference"
    latency_p99_ms: float | None = None
    budget_usd_month: float | None = None
    power_cap_kw: float | None = None
    kinds: list[str] | None = None
    pricing: str = "cloud"
    scenario: str = "offline"
    token_volume: float | None = None
    deadline_hours: float | None = None
    include_measured_hosts: bool = False  # pseudo-devices `host:...` (measured, not in the catalog; no power or price)
    # LLM serving: latency targets per request, a request rate instead of tokens/s, the traffic's request shape
    ttft_p99_ms: float | None = None
    tpot_p99_ms: float | None = None
    request_rate: float | None = None     # requests/s; output tokens/s = rate x output_len
    input_len: float | None = None
    output_len: float | None = None
    kv_precision: str | None = None
    # training runs: the volume (token_volume = tokens; or samples, or epochs), the deadline, a budget per run
    samples: float | None = None
    epochs: float | None = None
    budget_usd: float | None = None
    global_batch: int | None = None

    def required_throughput(self) -> float:
        if self.throughput is not None and self.throughput > 0:
            return float(self.throughput)
        if self.token_volume and self.deadline_hours:
            return float(self.token_volume) / (float(self.deadline_hours) * 3600.0)
        raise HwplanError("the demand needs a throughput (--throughput) > 0, or a volume and a deadline for training")


@dataclass
class PlanResult:
    ranked: pd.DataFrame
    pareto: pd.DataFrame
    why: str
    binding: str
    feasible: bool
    nearest: pd.DataFrame
    assumptions: Assumptions
    demand: Demand | None = None
    candidates_evaluated: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        def table(df):
            return [{k: clean(v) for k, v in r.items()} for r in df.to_dict("records")]

        return {"feasible": self.feasible, "why": self.why, "binding": self.binding, "ranked": table(self.ranked),
                "pareto": table(self.pareto), "nearest": table(self.nearest),
                "assumptions": self.assumptions.model_dump(), "demand": asdict(self.demand) if self.demand else None,
                "candidates_evaluated": self.candidates_evaluated, "notes": self.notes}
