"""The Measurement row: one flat table shared by the profiler, uploads and published results.

Columns are declared as data (`MEASUREMENT_COLUMNS`); `validate_measurements` checks a whole
table at once and returns every problem with its row and column, so an import either stores all
rows or none. Units live in column names and are SI.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np
import pandas as pd

from hwplan.core.errors import Problem
from hwplan.core.vocab import (
    DEVICE_KINDS,
    ENERGY_METHODS,
    MODES,
    POWER_SCOPES,
    PRECISIONS,
    SCENARIOS,
    SOURCES,
    STATUSES,
    THROUGHPUT_UNITS,
)

MAX_INT = 2**53  # beyond this a float cannot hold every whole number


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "str" | "int" | "float" | "datetime"
    required: bool = True
    choices: tuple[str, ...] | None = None
    min: float | None = None
    help: str = ""
    exclusive_min: bool = False
    extra: dict = field(default_factory=dict)


MEASUREMENT_COLUMNS: tuple[Column, ...] = (
    Column("run_id", "str", help="profiling run or upload id"),
    Column("measured_at", "datetime", help="ISO 8601 UTC timestamp"),
    Column("source", "str", choices=SOURCES),
    Column("source_ref", "str", required=False, help="file, URL or citation; required for published"),
    Column("host", "str", required=False, help="host that measured it"),
    Column("workload", "str", help="reference workload id"),
    Column("mode", "str", choices=MODES),
    Column("phase", "str", required=False, help="prefill, decode, step, or empty"),
    Column("scenario", "str", required=False, choices=SCENARIOS),
    Column("accuracy_target", "str", required=False, help="e.g. 99 or 99.9 (MLPerf)"),
    Column("precision", "str", choices=PRECISIONS),
    Column("batch_size", "int", required=False, min=1,
           help="per device; required unless source is published (MLPerf does not publish it)"),
    Column("seq_len", "int", required=False, min=1),
    Column("device", "str", help="catalog id, or 'unknown' with the raw name in device_name"),
    Column("device_name", "str", help="raw device name as reported"),
    Column("device_kind", "str", choices=DEVICE_KINDS),
    Column("device_count", "int", min=1),
    Column("backend", "str", help="e.g. torch-eager, torch-compile, onnxruntime-cpu, vendor"),
    Column("software", "str", required=False),
    Column("throughput", "float", required=False, min=0, exclusive_min=True),
    Column("throughput_unit", "str", required=False, choices=THROUGHPUT_UNITS),
    Column("latency_p50_s", "float", required=False, min=0),
    Column("latency_p99_s", "float", required=False, min=0),
    Column("power_avg_w", "float", required=False, min=0),
    Column("power_scope", "str", required=False, choices=POWER_SCOPES,
           help="device = the accelerators only; system = wall power of the whole system"),
    Column("energy_per_unit_j", "float", required=False, min=0),
    Column("energy_method", "str", choices=ENERGY_METHODS),
    Column("flops_per_unit", "float", required=False, min=0),
    Column("bytes_per_unit", "float", required=False, min=0),
    Column("repetitions", "int", required=False, min=1),
    Column("cov", "float", required=False, min=0),
    Column("status", "str", choices=STATUSES),
    Column("error", "str", required=False),
    Column("notes", "str", required=False),
    # LLM serving (schema revision 0003): the request shape, the parallel layout, the KV-cache format, the load
    # and the serving latencies, and when the software that ran it was released
    Column("input_len", "int", required=False, min=1, help="prompt tokens per request (mean)"),
    Column("output_len", "int", required=False, min=1, help="output tokens per request (mean)"),
    Column("tensor_parallel", "int", required=False, min=1, help="devices per tensor-parallel group"),
    Column("pipeline_parallel", "int", required=False, min=1, help="pipeline stages"),
    Column("expert_parallel", "int", required=False, min=1, help="devices the experts are spread over (MoE)"),
    Column("kv_precision", "str", required=False, choices=(*PRECISIONS, ""), help="KV-cache format"),
    Column("concurrency", "int", required=False, min=1, help="requests in flight across the whole setup"),
    Column("request_rate_per_s", "float", required=False, min=0,
           help="offered load in requests/s (the row measured latency at this rate; empty: its capacity)"),
    Column("ttft_p50_s", "float", required=False, min=0, help="time to first token, median"),
    Column("ttft_p99_s", "float", required=False, min=0),
    Column("tpot_p50_s", "float", required=False, min=0, help="time per output token after the first, median"),
    Column("tpot_p99_s", "float", required=False, min=0),
    Column("software_date", "datetime", required=False, help="release date of the serving software (ISO 8601)"),
)

COLUMN_NAMES = tuple(c.name for c in MEASUREMENT_COLUMNS)
COLUMNS_BY_NAME = {c.name: c for c in MEASUREMENT_COLUMNS}

# A measurement is the same measurement when these agree; the store keeps it once.
KEY_COLUMNS = (
    "run_id", "workload", "mode", "phase", "scenario", "accuracy_target", "precision",
    "batch_size", "seq_len", "device", "device_count", "backend",
)
# Key columns added later: they enter a row's key only when set, so the keys of rows stored before them stay
KEY_COLUMNS_ADDED = ("input_len", "output_len", "tensor_parallel", "pipeline_parallel", "expert_parallel",
                     "kv_precision", "concurrency", "request_rate_per_s")


def _expected(col: Column) -> str:
    if col.choices:
        return "one of " + ", ".join(c for c in col.choices if c) + (" or empty" if "" in col.choices else "")
    base = {"str": "text", "int": "a whole number", "float": "a number",
            "datetime": "an ISO 8601 time such as 2026-11-29T04:00:00Z"}[col.kind]
    if col.min is not None:
        base += f" {'>' if col.exclusive_min else '>='} {col.min:g}"
    return base


def validate_measurements(
    df: pd.DataFrame,
    file: str = "<table>",
    row_numbers: list[int] | None = None,
    known_workloads: set[str] | None = None,
    known_devices: set[str] | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check and coerce a Measurement table. Returns (clean table, every problem found).

    The checks are pandera schemas (hwplan.core.validation): each cell on its own, then the rules across
    columns on the typed table. `row_numbers` maps positions to the numbers a person sees in the file (CSV
    line numbers). The clean table has exactly `COLUMN_NAMES`, typed; it is only meaningful when no problem.
    """
    from hwplan.core import validation  # pandera: only when a table is checked (see that module)

    n = len(df)
    rows = row_numbers if row_numbers is not None else list(range(1, n + 1))
    df = df.reset_index(drop=True)
    df.columns = [str(c) for c in df.columns]
    cells, checks = _cell_schema()
    facts = validation.CellFacts(df)
    with facts.active():
        problems = validation.validate(cells, checks, df, file, rows, COLUMN_NAMES)
    out = _typed(df, facts)
    raw_tp_blank = facts.blank("throughput") if "throughput" in df.columns else out["throughput"].isna().to_numpy()
    raw_batch_blank = facts.blank("batch_size") if "batch_size" in df.columns else out["batch_size"].isna().to_numpy()
    if n:
        rules, rule_checks = validation.measurement_rules(out, raw_tp_blank, known_workloads, known_devices,
                                                          raw_batch_blank)
        problems += validation.validate(rules, rule_checks, out, file, rows, COLUMN_NAMES)
    order = {c: i for i, c in enumerate(COLUMN_NAMES)}
    problems.sort(key=lambda p: (p.row, order.get(p.column, -1 if p.row == 0 else len(order))))  # by row, stable
    return out, problems


@lru_cache(maxsize=1)
def _cell_schema():
    """The pandera schema of single cells: built once (it depends only on MEASUREMENT_COLUMNS)."""
    from hwplan.core import validation

    return validation.measurement_cells(MEASUREMENT_COLUMNS, _expected, MAX_INT)


def _typed(df: pd.DataFrame, facts) -> pd.DataFrame:
    """The table with exactly COLUMN_NAMES, each of its type; cells that do not parse become missing.
    `facts` (validation.CellFacts) holds what was derived from each column for its checks."""
    n = len(df)
    out = pd.DataFrame(index=range(n))
    for col in MEASUREMENT_COLUMNS:
        if col.name not in df.columns:
            out[col.name] = pd.Series([pd.NA] * n, dtype=_dtype(col))
            continue
        raw = df[col.name]
        blank = pd.Series(facts.blank(col.name), index=df.index)
        if col.kind in ("int", "float"):
            num = pd.Series(facts.number(col.name), index=df.index)
            num = num.where(np.isfinite(num))
            if col.kind == "int":
                num = num.where(~(~num.isna() & (num.abs() > MAX_INT)))
                out[col.name] = num.where(~num.isna() & ~(num != np.floor(num.fillna(0)))).astype("Int64")
            else:
                out[col.name] = num.astype("Float64")
        elif col.kind == "datetime":
            out[col.name] = facts.time(col.name).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").astype("string")
        else:
            text = facts.lower(col.name) if col.choices else raw.astype("string").str.strip()
            out[col.name] = text.where(~blank, "" if not col.required else text)
    return out[list(COLUMN_NAMES)]


def _short(value, limit: int = 60) -> str:
    s = str(value).replace("\n", "\\n").replace("\r", "\\r")
    return s if len(s) <= limit else s[: limit - 3] + "..."


def empty_measurements() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=_dtype(COLUMNS_BY_NAME[c])) for c in COLUMN_NAMES})


def _dtype(col: Column) -> str:
    return {"int": "Int64", "float": "Float64"}.get(col.kind, "string")


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or value == ""
