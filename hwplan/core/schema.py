"""The Measurement row: one flat table shared by the profiler, uploads and published results.

Columns are declared as data (`MEASUREMENT_COLUMNS`); `validate_measurements` checks a whole
table at once and returns every problem with its row and column, so an import either stores all
rows or none. Units live in column names and are SI.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from hwplan.core.errors import Problem, closest
from hwplan.core.vocab import (DEVICE_KINDS, ENERGY_METHODS, MEASURED_ENERGY_METHODS, MODES, POWER_SCOPES,
                               PRECISIONS, SCENARIOS, SOURCES, STATUSES, THROUGHPUT_UNITS)

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
    Column("batch_size", "int", required=False, min=1, help="per device; required unless source is published (MLPerf does not publish it)"),
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
)

COLUMN_NAMES = tuple(c.name for c in MEASUREMENT_COLUMNS)
COLUMNS_BY_NAME = {c.name: c for c in MEASUREMENT_COLUMNS}

# A measurement is the same measurement when these agree; the store keeps it once.
KEY_COLUMNS = (
    "run_id", "workload", "mode", "phase", "scenario", "accuracy_target", "precision",
    "batch_size", "seq_len", "device", "device_count", "backend",
)


def _expected(col: Column) -> str:
    if col.choices:
        return "one of " + ", ".join(c for c in col.choices if c) + (" or empty" if "" in col.choices else "")
    base = {"str": "text", "int": "a whole number", "float": "a number", "datetime": "an ISO 8601 time such as 2026-11-29T04:00:00Z"}[col.kind]
    if col.min is not None:
        base += f" {'>' if col.exclusive_min else '>='} {col.min:g}"
    return base


def _blank(series: pd.Series) -> pd.Series:
    s = series.astype("string")
    return s.isna() | (s.str.strip() == "")


def validate_measurements(
    df: pd.DataFrame,
    file: str = "<table>",
    row_numbers: list[int] | None = None,
    known_workloads: set[str] | None = None,
    known_devices: set[str] | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check and coerce a Measurement table. Returns (clean table, every problem found).

    `row_numbers` maps positions to the numbers a person sees in the file (CSV line numbers).
    The clean table has exactly `COLUMN_NAMES`, typed; it is only meaningful when no problem.
    """
    problems: list[Problem] = []
    n = len(df)
    rows = row_numbers if row_numbers is not None else list(range(1, n + 1))
    df = df.reset_index(drop=True)
    columns = [str(c) for c in df.columns]
    unknown_cols = [c for c in columns if c not in COLUMNS_BY_NAME]
    for c in unknown_cols:
        hint = closest(c, COLUMN_NAMES, n=1)
        problems.append(Problem(file, 0, c, "unknown column" + (f"; did you mean '{hint[0]}'?" if hint else ""),
                                "only the Measurement columns: see `hwplan import --help`"))
    out = pd.DataFrame(index=range(n))
    for col in MEASUREMENT_COLUMNS:
        if col.name not in df.columns:
            if col.required:
                problems.append(Problem(file, 0, col.name, "required column is missing", _expected(col)))
            out[col.name] = pd.Series([pd.NA] * n, dtype=_dtype(col))
            continue
        raw = df[col.name]
        blank = _blank(raw)
        if col.required:
            for i in np.flatnonzero(blank.to_numpy()):
                problems.append(Problem(file, rows[i], col.name, "is empty", _expected(col)))
        if col.kind in ("int", "float"):
            num = pd.to_numeric(raw.where(~blank), errors="coerce")
            bad = (~blank) & num.isna()
            nonfinite = (~blank) & ~num.isna() & ~np.isfinite(num.astype(float))
            for i in np.flatnonzero((bad | nonfinite).to_numpy()):
                problems.append(Problem(file, rows[i], col.name, f"'{_short(raw.iloc[i])}' is not a finite number", _expected(col)))
            num = num.where(~nonfinite)
            if col.kind == "int":
                huge = ~num.isna() & (num.abs() > MAX_INT)
                for i in np.flatnonzero(huge.to_numpy()):
                    problems.append(Problem(file, rows[i], col.name, f"{_short(raw.iloc[i])} is too large", f"a whole number below {MAX_INT:.0e}"))
                num = num.where(~huge)
                frac = ~num.isna() & (num != np.floor(num.fillna(0)))
                for i in np.flatnonzero(frac.to_numpy()):
                    problems.append(Problem(file, rows[i], col.name, f"{raw.iloc[i]} is not a whole number", _expected(col)))
            if col.min is not None:
                low = ~num.isna() & ((num <= col.min) if col.exclusive_min else (num < col.min))
                for i in np.flatnonzero(low.to_numpy()):
                    problems.append(Problem(file, rows[i], col.name, f"{raw.iloc[i]} is out of range", _expected(col)))
            if col.kind == "int":
                out[col.name] = num.where(~num.isna() & ~(num != np.floor(num.fillna(0)))).astype("Int64")
            else:
                out[col.name] = num.astype("Float64")
        elif col.kind == "datetime":
            text = raw.astype("string").str.strip()
            parsed = pd.to_datetime(text.where(~blank), errors="coerce", utc=True, format="ISO8601")
            for i in np.flatnonzero(((~blank) & parsed.isna()).to_numpy()):
                problems.append(Problem(file, rows[i], col.name, f"'{_short(raw.iloc[i])}' is not a valid time", _expected(col)))
            out[col.name] = parsed.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").astype("string")
        else:
            text = raw.astype("string").str.strip()
            if col.choices:
                allowed = set(col.choices)
                low = text.str.lower()
                bad = (~blank) & ~low.isin(allowed)
                for i in np.flatnonzero(bad.to_numpy()):
                    problems.append(Problem(file, rows[i], col.name, f"'{_short(raw.iloc[i])}' is not allowed", _expected(col)))
                text = low
            out[col.name] = text.where(~blank, "" if not col.required else text)
    out = out[list(COLUMN_NAMES)]
    problems += _row_rules(out, file, rows, known_workloads, known_devices,
                           df["throughput"] if "throughput" in df.columns else None)
    return out, problems


def _row_rules(df, file, rows, known_workloads, known_devices, raw_throughput=None) -> list[Problem]:
    """Rules across columns: what an ok row must carry, what published rows must cite."""
    problems: list[Problem] = []
    n = len(df)
    if n == 0:
        return problems
    status = df["status"].astype("string").fillna("")
    ok = (status == "ok").to_numpy()
    blank_tp = (_blank(raw_throughput) if raw_throughput is not None else df["throughput"].isna()).to_numpy()
    for i in np.flatnonzero(ok & blank_tp):
        problems.append(Problem(file, rows[i], "throughput", "is empty on an ok row", "a number > 0"))
    blank_unit = _blank(df["throughput_unit"]).to_numpy()
    for i in np.flatnonzero(ok & blank_unit):
        problems.append(Problem(file, rows[i], "throughput_unit", "is empty on an ok row", "samples/s or tokens/s"))
    failed = status.isin(["failed", "skipped"]).to_numpy()
    for i in np.flatnonzero(failed & _blank(df["error"]).to_numpy()):
        problems.append(Problem(file, rows[i], "error", f"is empty on a {status.iloc[i]} row", "the reason it failed or was skipped"))
    pub = (df["source"].astype("string").fillna("") == "published").to_numpy()
    for i in np.flatnonzero(~pub & df["batch_size"].isna().to_numpy()):
        problems.append(Problem(file, rows[i], "batch_size", "is empty", "a whole number >= 1 (optional only for published rows)"))
    for i in np.flatnonzero(pub & _blank(df["source_ref"]).to_numpy()):
        problems.append(Problem(file, rows[i], "source_ref", "is empty on a published row", "a URL or citation"))
    measured_energy = df["energy_method"].astype("string").fillna("").isin(MEASURED_ENERGY_METHODS).to_numpy()
    no_power = (df["power_avg_w"].isna() & df["energy_per_unit_j"].isna()).to_numpy()
    for i in np.flatnonzero(ok & measured_energy & no_power):
        problems.append(Problem(file, rows[i], "energy_method", f"says '{df['energy_method'].iloc[i]}' but no power or energy is given",
                                "power_avg_w or energy_per_unit_j, or energy_method none"))
    p50, p99 = df["latency_p50_s"], df["latency_p99_s"]
    both = (~p50.isna() & ~p99.isna()).to_numpy()
    worse = both & (p99.fillna(0).to_numpy() < p50.fillna(0).to_numpy())
    for i in np.flatnonzero(worse):
        problems.append(Problem(file, rows[i], "latency_p99_s", "is below latency_p50_s", "p99 >= p50"))
    if known_workloads is not None:
        wl = df["workload"].astype("string").fillna("")
        for i in np.flatnonzero(((wl != "") & ~wl.isin(known_workloads)).to_numpy()):
            sug = closest(wl.iloc[i], known_workloads)
            problems.append(Problem(file, rows[i], "workload", f"'{_short(wl.iloc[i])}' is not a known workload"
                                    + (f"; did you mean {', '.join(repr(s) for s in sug)}?" if sug else ""),
                                    "a workload id from `hwplan catalog workloads`"))
    if known_devices is not None:
        dev = df["device"].astype("string").fillna("")
        bad = (dev != "") & (dev != "unknown") & ~dev.isin(known_devices)
        for i in np.flatnonzero(bad.to_numpy()):
            sug = closest(dev.iloc[i], known_devices)
            problems.append(Problem(file, rows[i], "device", f"'{_short(dev.iloc[i])}' is not in the catalog"
                                    + (f"; did you mean {', '.join(repr(s) for s in sug)}?" if sug else ""),
                                    "a catalog id from `hwplan catalog list`, or 'unknown' with the raw name in device_name"))
    return problems


def _short(value, limit: int = 60) -> str:
    s = str(value).replace("\n", "\\n").replace("\r", "\\r")
    return s if len(s) <= limit else s[: limit - 3] + "..."


def empty_measurements() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=_dtype(COLUMNS_BY_NAME[c])) for c in COLUMN_NAMES})


def _dtype(col: Column) -> str:
    return {"int": "Int64", "float": "Float64"}.get(col.kind, "string")


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or value == ""
