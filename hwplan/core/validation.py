"""pandera schemas of hwplan's three tables: Measurement rows, the hardware catalog, the workload list.

Each check is named, and its name finds the wording of the problem it raises (`Wording`): a failed check
becomes a `Problem` with the file's row number, the column, what is wrong and what was expected, and every
problem of a table is reported at once (pandera's lazy validation). Imported only when a table is validated,
so pandera's import stays off `hwplan plan` and off accelerator boxes that have only torch, numpy and pandas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from hwplan.core.errors import Problem, closest

Message = Callable[[Any, int], str]  # (the cell's raw value, its position) -> what is wrong


@dataclass(frozen=True)
class Wording:
    column: str
    message: Message
    expected: str = ""


class Checks:
    """Named pandera checks with the wording of the problem each one reports."""

    def __init__(self) -> None:
        self.wording: dict[str, Wording] = {}
        self.order: dict[str, int] = {}

    def check(self, name: str, ok: Callable[[Any], Any], column: str, message: Message, expected: str = "") -> pa.Check:
        """`ok(data)` returns True where the data is fine (a Series for a column check, per row for a table).

        pandera dispatches check functions by `__name__` to its built-in checks: a function named like one
        (`in_range`, `isin`, ...) would be replaced by it. The check errors below make such a slip loud."""
        self.wording[name] = Wording(column, message, expected)
        self.order.setdefault(name, len(self.order))
        return pa.Check(ok, name=name, error=name, ignore_na=False)

    def problems(self, err: SchemaErrors, df: pd.DataFrame, file: str, rows: list[int],
                 columns: Iterable[str]) -> list[Problem]:
        """Every failure of a lazy validation as a Problem, ordered by column, check and row."""
        col_order = {c: i for i, c in enumerate(columns)}
        out: list[tuple[tuple, Problem]] = []
        seen: set[tuple] = set()
        fc = err.failure_cases
        for check, _column, value, index in zip(fc["check"], fc["column"], fc["failure_case"], fc["index"]):
            check = str(check)
            if check == "column_in_schema":  # a column the schema does not have
                name = str(value)
                hint = closest(name, list(col_order), n=1)
                out.append(((-1, 0, 0, name), Problem(file, 0, name, "unknown column" + (
                    f"; did you mean '{hint[0]}'?" if hint else ""), "only the Measurement columns: see `hwplan import --help`")))
                continue
            if check == "column_in_dataframe":  # a required column that is not there
                name = str(value)
                w = self.wording.get(f"{name}:missing")
                out.append(((col_order.get(name, 999), -1, 0, name),
                            Problem(file, 0, name, "required column is missing", w.expected if w else "")))
                continue
            w = self.wording.get(check)
            if w is None:
                continue
            if index is None or (isinstance(index, float) and np.isnan(index)):
                # a check that raised: a defect here, never the data's fault; never a silent pass
                raise RuntimeError(f"validation check {check!r} failed to run: {str(value)[:300]}")
            pos = int(index)
            key = (check, pos)
            if key in seen:  # a table-level check fails once per column of the row: report it once
                continue
            seen.add(key)
            raw = df[w.column].iloc[pos] if w.column in df.columns else value
            out.append(((col_order.get(w.column, 999), self.order.get(check, 0), pos, ""),
                        Problem(file, rows[pos], w.column, w.message(raw, pos), w.expected)))
        return [p for _, p in sorted(out, key=lambda t: t[0])]


def validate(schema: pa.DataFrameSchema, checks: Checks, df: pd.DataFrame, file: str, rows: list[int],
             columns: Iterable[str]) -> list[Problem]:
    try:
        schema.validate(df, lazy=True)
    except SchemaErrors as err:
        return checks.problems(err, df, file, rows, columns)
    return []


# ---- cell tests shared by the schemas -----------------------------------------------------------------------

def blank(series: pd.Series) -> pd.Series:
    s = series.astype("string")
    return s.isna() | (s.str.strip() == "")


def as_number(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.where(~blank(series)), errors="coerce")


def short(value, limit: int = 60) -> str:
    s = str(value).replace("\n", "\\n").replace("\r", "\\r")
    return s if len(s) <= limit else s[: limit - 3] + "..."


# ---- Measurement rows ---------------------------------------------------------------------------------------

def measurement_cells(columns, expected: Callable, max_int: float) -> tuple[pa.DataFrameSchema, Checks]:
    """Checks of each cell on its own (raw values as read from the file)."""
    chk = Checks()
    schema_cols = {}
    for col in columns:
        exp = expected(col)
        chk.wording[f"{col.name}:missing"] = Wording(col.name, lambda v, i: "required column is missing", exp)
        cs = []
        if col.required:
            cs.append(chk.check(f"{col.name}:empty", lambda s: ~blank(s), col.name, lambda v, i: "is empty", exp))
        if col.kind in ("int", "float"):
            def finite(s):
                num = as_number(s)
                return blank(s) | (num.notna() & np.isfinite(num.astype(float)))
            cs.append(chk.check(f"{col.name}:number", finite, col.name,
                                lambda v, i: f"'{short(v)}' is not a finite number", exp))
            if col.kind == "int":
                cs.append(chk.check(f"{col.name}:huge", lambda s: ~(_finite_num(s).abs() > max_int).fillna(False),
                                    col.name, lambda v, i: f"{short(v)} is too large", f"a whole number below {max_int:.0e}"))

                def whole(s):
                    num = _finite_num(s)
                    num = num.where(~(num.abs() > max_int))
                    return ~(num.notna() & (num != np.floor(num.fillna(0)))).fillna(False)
                cs.append(chk.check(f"{col.name}:whole", whole, col.name, lambda v, i: f"{v} is not a whole number", exp))
            if col.min is not None:
                def _at_least_min(s, col=col):
                    num = _finite_num(s)
                    if col.kind == "int":
                        num = num.where(~(num.abs() > max_int))
                    low = (num <= col.min) if col.exclusive_min else (num < col.min)
                    return ~(num.notna() & low).fillna(False)
                cs.append(chk.check(f"{col.name}:range", _at_least_min, col.name, lambda v, i: f"{v} is out of range", exp))
        elif col.kind == "datetime":
            def when(s):
                b = blank(s)
                parsed = pd.to_datetime(s.astype("string").str.strip().where(~b), errors="coerce", utc=True,
                                        format="ISO8601")
                return b | parsed.notna()
            cs.append(chk.check(f"{col.name}:time", when, col.name, lambda v, i: f"'{short(v)}' is not a valid time", exp))
        elif col.choices:
            def chosen(s, allowed=frozenset(col.choices)):
                return blank(s) | s.astype("string").str.strip().str.lower().isin(allowed)
            cs.append(chk.check(f"{col.name}:choice", chosen, col.name, lambda v, i: f"'{short(v)}' is not allowed", exp))
        schema_cols[col.name] = pa.Column(None, checks=cs, nullable=True, required=col.required, coerce=False)
    return pa.DataFrameSchema(schema_cols, strict=True), chk


def _finite_num(s: pd.Series) -> pd.Series:
    num = as_number(s)
    return num.where(np.isfinite(num.astype(float)))


def measurement_rules(clean: pd.DataFrame, raw_throughput_blank: np.ndarray, known_workloads: set[str] | None,
                      known_devices: set[str] | None) -> tuple[pa.DataFrameSchema, Checks]:
    """Rules across columns, on the typed table: what an ok row must carry, what published rows must cite."""
    chk = Checks()
    status = clean["status"].astype("string").fillna("")
    ok = status == "ok"
    pub = clean["source"].astype("string").fillna("") == "published"
    from hwplan.core.vocab import MEASURED_ENERGY_METHODS

    rules = [
        chk.check("rule:throughput", lambda d: ~(ok & pd.Series(raw_throughput_blank, index=d.index)), "throughput",
                  lambda v, i: "is empty on an ok row", "a number > 0"),
        chk.check("rule:unit", lambda d: ~(ok & blank(d["throughput_unit"])), "throughput_unit",
                  lambda v, i: "is empty on an ok row", "samples/s or tokens/s"),
        chk.check("rule:error", lambda d: ~(status.isin(["failed", "skipped"]) & blank(d["error"])), "error",
                  lambda v, i: f"is empty on a {status.iloc[i]} row", "the reason it failed or was skipped"),
        chk.check("rule:batch", lambda d: ~(~pub & d["batch_size"].isna()), "batch_size", lambda v, i: "is empty",
                  "a whole number >= 1 (optional only for published rows)"),
        chk.check("rule:cite", lambda d: ~(pub & blank(d["source_ref"])), "source_ref",
                  lambda v, i: "is empty on a published row", "a URL or citation"),
        chk.check("rule:energy", lambda d: ~(ok & d["energy_method"].astype("string").fillna("").isin(MEASURED_ENERGY_METHODS)
                                             & d["power_avg_w"].isna() & d["energy_per_unit_j"].isna()), "energy_method",
                  lambda v, i: f"says '{clean['energy_method'].iloc[i]}' but no power or energy is given",
                  "power_avg_w or energy_per_unit_j, or energy_method none"),
        chk.check("rule:p99", lambda d: ~(d["latency_p50_s"].notna() & d["latency_p99_s"].notna()
                                          & (d["latency_p99_s"].fillna(0) < d["latency_p50_s"].fillna(0))),
                  "latency_p99_s", lambda v, i: "is below latency_p50_s", "p99 >= p50"),
    ]
    if known_workloads is not None:
        wl = clean["workload"].astype("string").fillna("")

        def workload_message(v, i):
            sug = closest(wl.iloc[i], known_workloads)
            return f"'{short(wl.iloc[i])}' is not a known workload" + (
                f"; did you mean {', '.join(repr(s) for s in sug)}?" if sug else "")
        rules.append(chk.check("rule:workload", lambda d: (wl == "") | wl.isin(known_workloads), "workload",
                               workload_message, "a workload id from `hwplan catalog workloads`"))
    if known_devices is not None:
        dev = clean["device"].astype("string").fillna("")

        def device_message(v, i):
            sug = closest(dev.iloc[i], known_devices)
            return f"'{short(dev.iloc[i])}' is not in the catalog" + (
                f"; did you mean {', '.join(repr(s) for s in sug)}?" if sug else "")
        rules.append(chk.check("rule:device", lambda d: (dev == "") | (dev == "unknown") | dev.isin(known_devices), "device",
                               device_message,
                               "a catalog id from `hwplan catalog list`, or 'unknown' with the raw name in device_name"))
    return pa.DataFrameSchema(checks=rules), chk


# ---- the hardware catalog -------------------------------------------------------------------------------------

def catalog_schema(required: tuple[str, ...], numeric: tuple[str, ...], id_pattern: str, kinds: tuple[str, ...],
                   alias_owner: dict[int, str]) -> tuple[pa.DataFrameSchema, Checks]:
    """Checks of the catalog's text cells (stripped) and numeric cells (raw), and of aliases across rows."""
    chk = Checks()
    cols: dict[str, pa.Column] = {}
    for c in required:
        cs = [chk.check(f"{c}:empty", lambda s: s != "", c, lambda v, i: "is empty", "a value; every row needs it")]
        if c == "id":
            cs.append(chk.check("id:slug", lambda s: (s == "") | s.str.match(id_pattern), "id",
                                lambda v, i: f"'{v}' is not a valid id", "a lowercase slug like vendor-model-variant"))
            cs.append(chk.check("id:unique", lambda s: ~(s.duplicated() & (s != "")), "id",
                                lambda v, i: f"'{v}' appears twice", "unique ids"))
        if c == "kind":
            cs.append(chk.check("kind:choice", lambda s: s.isin(kinds), "kind",
                                lambda v, i: f"'{v}' is not a device kind", "one of " + ", ".join(kinds)))
        cols[c] = pa.Column(None, checks=cs, nullable=True)
    for c in numeric:
        def number(s):
            num = pd.to_numeric(s, errors="coerce")
            return ~(s.notna() & (s.astype("string").str.strip() != "") & num.isna())
        cols[c] = pa.Column(None, nullable=True, checks=[
            chk.check(f"{c}:number", number, c, lambda v, i: f"'{v}' is not a number", "a number or empty"),
            chk.check(f"{c}:negative", lambda s: ~(pd.to_numeric(s, errors="coerce") < 0).fillna(False), c,
                      lambda v, i: f"{pd.to_numeric(pd.Series([v]), errors='coerce').iloc[0]} is negative", "a number >= 0"),
        ])
    alias_checks = [chk.check("aliases:unique", lambda d: pd.Series([k not in alias_owner for k in range(len(d))],
                                                                    index=d.index), "aliases",
                              lambda v, i: alias_owner[i], "each alias names one device")]
    return pa.DataFrameSchema(cols, checks=alias_checks), chk


# ---- the workload list ----------------------------------------------------------------------------------------

def workload_schema(required: tuple[str, ...]) -> tuple[pa.DataFrameSchema, Checks]:
    chk = Checks()
    cols = {}
    for c in required:
        cs = [chk.check(f"{c}:empty", lambda s: s.astype("string").str.strip() != "", c, lambda v, i: "is empty")]
        if c == "id":
            cs.append(chk.check("id:unique", lambda s: ~s.duplicated(), "id", lambda v, i: "appears twice"))
        cols[c] = pa.Column(None, checks=cs, nullable=True)
    return pa.DataFrameSchema(cols), chk
