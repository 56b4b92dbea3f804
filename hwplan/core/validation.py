"""pandera schemas of hwplan's three tables: Measurement rows, the hardware catalog, the workload list.

Each check is named, and its name finds the wording of the problem it raises (`Wording`): a failed check
becomes a `Problem` with the file's row number, the column, what is wrong and what was expected, and every
problem of a table is reported at once (pandera's lazy validation). Imported only when a table is validated,
so pandera's import stays off `hwplan plan` and off accelerator boxes that have only torch, numpy and pandas.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from hwplan.core.errors import MAX_ID_CHARS, Problem, closest
from hwplan.core.vocab import MEASURED_ENERGY_METHODS, SOURCES

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
        """Every failure of a lazy validation as a Problem, ordered by row (the whole file's first), then column
        and check."""
        col_order = {c: i for i, c in enumerate(columns)}
        out: list[tuple[tuple, Problem]] = []
        seen: set[tuple] = set()
        fc = err.failure_cases
        for check, _column, value, index in zip(fc["check"], fc["column"], fc["failure_case"], fc["index"]):
            check = str(check)
            if check == "column_in_schema":  # a column the schema does not have
                name = str(value)
                hint = closest(name, list(col_order), n=1)
                out.append(((0, -1, 0, name), Problem(file, 0, name, "unknown column" + (
                    f"; did you mean '{hint[0]}'?" if hint else ""), "only the Measurement columns: see `hwplan import --help`")))
                continue
            if check == "column_in_dataframe":  # a required column that is not there
                name = str(value)
                w = self.wording.get(f"{name}:missing")
                out.append(((0, col_order.get(name, 999), -1, name),
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
            out.append(((rows[pos], col_order.get(w.column, 999), self.order.get(check, 0), ""),
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
    """True where a cell is missing (None, NaN, NA, NaT) or only white space. One pass over the values: on the
    small tables hwplan checks this costs far less than pandas' string operations."""
    vals = series.to_numpy(dtype=object)
    out = np.fromiter((v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v)
                       or not (v if isinstance(v, str) else str(v)).strip() for v in vals), dtype=bool, count=len(vals))
    return pd.Series(out, index=series.index)


def as_number(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.where(~blank(series)), errors="coerce")


def short(value, limit: int = 60) -> str:
    s = str(value).replace("\n", "\\n").replace("\r", "\\r")
    return s if len(s) <= limit else s[: limit - 3] + "..."


# ---- Measurement rows ---------------------------------------------------------------------------------------

class CellFacts:
    """What the checks (and the typing) of a column need, derived once per column of one table: whether each cell
    is blank, its number, its time, its stripped lower-case text. The cell schema is built once and reads these
    through `current_facts()` while `validate` runs inside `with facts.active():`."""

    def __init__(self, df: pd.DataFrame):
        self.df = df
        self._memo: dict[tuple[str, str], Any] = {}

    def _get(self, what: str, col: str, make: Callable[[], Any]) -> Any:
        key = (what, col)
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def blank(self, col: str) -> np.ndarray:
        return self._get("blank", col, lambda: blank(self.df[col]).to_numpy(dtype=bool))

    def number(self, col: str) -> np.ndarray:
        """float64; NaN where blank or not a number (inf stays inf)."""
        raw = self.df[col]
        return self._get("number", col, lambda: pd.to_numeric(raw.where(~self.blank(col)), errors="coerce")
                         .astype(float).to_numpy())

    def time(self, col: str) -> pd.Series:
        raw = self.df[col]
        return self._get("time", col, lambda: pd.to_datetime(raw.astype("string").str.strip().where(~self.blank(col)),
                                                             errors="coerce", utc=True, format="ISO8601"))

    def lower(self, col: str) -> pd.Series:
        return self._get("lower", col, lambda: self.df[col].astype("string").str.strip().str.lower())

    def active(self):
        return _FactsScope(self)


_FACTS: contextvars.ContextVar[CellFacts] = contextvars.ContextVar("hwplan_cell_facts")


class _FactsScope:
    def __init__(self, facts: CellFacts):
        self.facts = facts

    def __enter__(self) -> CellFacts:
        self.token = _FACTS.set(self.facts)
        return self.facts

    def __exit__(self, *exc) -> None:
        _FACTS.reset(self.token)


def current_facts() -> CellFacts:
    return _FACTS.get()


def _mask(s: pd.Series, ok: np.ndarray) -> pd.Series:
    return pd.Series(ok, index=s.index)


def measurement_cells(columns, expected: Callable, max_int: float) -> tuple[pa.DataFrameSchema, Checks]:
    """Checks of each cell on its own (raw values as read from the file), built once; run inside
    `CellFacts(df).active()`, so every check of a column shares what was derived from it."""
    chk = Checks()
    schema_cols = {}
    F = current_facts
    for col in columns:
        exp = expected(col)
        chk.wording[f"{col.name}:missing"] = Wording(col.name, lambda v, i: "required column is missing", exp)
        cs = []
        if col.required:
            cs.append(chk.check(f"{col.name}:empty", lambda s: _mask(s, ~F().blank(s.name)), col.name,
                                lambda v, i: "is empty", exp))
        if col.kind in ("int", "float"):
            def finite(s):
                num = F().number(s.name)
                return _mask(s, F().blank(s.name) | np.isfinite(num))
            cs.append(chk.check(f"{col.name}:number", finite, col.name,
                                lambda v, i: f"'{short(v)}' is not a finite number", exp))
            if col.kind == "int":
                def small(s):
                    num = F().number(s.name)
                    return _mask(s, ~(np.isfinite(num) & (np.abs(num) > max_int)))
                cs.append(chk.check(f"{col.name}:huge", small, col.name, lambda v, i: f"{short(v)} is too large",
                                    f"a whole number below {max_int:.0e}"))

                def whole(s):
                    num = _usable(F().number(s.name), max_int)
                    return _mask(s, ~(np.isfinite(num) & (num != np.floor(np.nan_to_num(num)))))
                cs.append(chk.check(f"{col.name}:whole", whole, col.name, lambda v, i: f"{v} is not a whole number", exp))
            if col.min is not None:
                def _at_least_min(s, col=col):
                    num = F().number(s.name)
                    num = _usable(num, max_int) if col.kind == "int" else np.where(np.isfinite(num), num, np.nan)
                    with np.errstate(invalid="ignore"):
                        low = (num <= col.min) if col.exclusive_min else (num < col.min)
                    return _mask(s, ~(np.isfinite(num) & low))
                cs.append(chk.check(f"{col.name}:range", _at_least_min, col.name, lambda v, i: f"{v} is out of range", exp))
        elif col.kind == "datetime":
            def when(s):
                return _mask(s, F().blank(s.name) | F().time(s.name).notna().to_numpy())
            cs.append(chk.check(f"{col.name}:time", when, col.name, lambda v, i: f"'{short(v)}' is not a valid time", exp))
        elif col.choices:
            def chosen(s, allowed=frozenset(col.choices)):
                return _mask(s, F().blank(s.name) | F().lower(s.name).isin(allowed).fillna(False).to_numpy(dtype=bool))
            cs.append(chk.check(f"{col.name}:choice", chosen, col.name, lambda v, i: f"'{short(v)}' is not allowed", exp))
        schema_cols[col.name] = pa.Column(None, checks=cs, nullable=True, required=col.required, coerce=False)
    return pa.DataFrameSchema(schema_cols, strict=True), chk


def _usable(num: np.ndarray, max_int: float) -> np.ndarray:
    """Finite and within what a float holds exactly (larger ones are reported as too large, nothing else)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(num) & (np.abs(num) <= max_int), num, np.nan)


def measurement_rules(clean: pd.DataFrame, raw_throughput_blank: np.ndarray, known_workloads: set[str] | None,
                      known_devices: set[str] | None, raw_batch_blank: np.ndarray | None = None
                      ) -> tuple[pa.DataFrameSchema, Checks]:
    """Rules across columns, on the typed table: what an ok row must carry, what published rows must cite.
    A rule speaks only where its own cells are readable: a batch size that is not a number, or a source that is
    not one of the sources, is reported by its cell check alone."""
    chk = Checks()
    status = clean["status"].astype("string").fillna("")
    ok = status == "ok"
    source = clean["source"].astype("string").fillna("")
    pub = source == "published"
    needs_batch = source.isin([s for s in SOURCES if s != "published"])  # an unreadable source: no batch rule
    batch_blank = (pd.Series(raw_batch_blank, index=clean.index) if raw_batch_blank is not None
                   else clean["batch_size"].isna())

    rules = [
        chk.check("rule:throughput", lambda d: ~(ok & pd.Series(raw_throughput_blank, index=d.index)), "throughput",
                  lambda v, i: "is empty on an ok row", "a number > 0"),
        chk.check("rule:unit", lambda d: ~(ok & blank(d["throughput_unit"])), "throughput_unit",
                  lambda v, i: "is empty on an ok row", "samples/s or tokens/s"),
        chk.check("rule:error", lambda d: ~(status.isin(["failed", "skipped"]) & blank(d["error"])), "error",
                  lambda v, i: f"is empty on a {status.iloc[i]} row", "the reason it failed or was skipped"),
        chk.check("rule:batch", lambda d: ~(needs_batch & batch_blank), "batch_size", lambda v, i: "is empty",
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
            if len(wl.iloc[i]) > MAX_ID_CHARS:
                return f"is {len(wl.iloc[i]):,} characters long ('{short(wl.iloc[i], 40)}')"
            sug = closest(wl.iloc[i], known_workloads)
            return f"'{short(wl.iloc[i])}' is not a known workload" + (
                f"; did you mean {', '.join(repr(s) for s in sug)}?" if sug else "")
        rules.append(chk.check("rule:workload", lambda d: (wl == "") | wl.isin(known_workloads), "workload",
                               workload_message, "a workload id from `hwplan catalog workloads`"))
    if known_devices is not None:
        dev = clean["device"].astype("string").fillna("")

        def device_message(v, i):
            if len(dev.iloc[i]) > MAX_ID_CHARS:
                return f"is {len(dev.iloc[i]):,} characters long ('{short(dev.iloc[i], 40)}')"
            sug = closest(dev.iloc[i], known_devices)
            return f"'{short(dev.iloc[i])}' is not in the catalog" + (
                f"; did you mean {', '.join(repr(s) for s in sug)}?" if sug else "")
        rules.append(chk.check("rule:device", lambda d: (dev == "") | (dev == "unknown") | dev.isin(known_devices), "device",
                               device_message,
                               "a catalog id from `hwplan catalog list`, or 'unknown' with the raw name in device_name"))
    return pa.DataFrameSchema(checks=rules), chk


# ---- the hardware catalog -------------------------------------------------------------------------------------

def _choice(allowed: tuple[str, ...]):
    return lambda s: (s == "") | s.isin(allowed)


def catalog_schema(required: tuple[str, ...], numeric: tuple[str, ...], id_pattern: str, kinds: tuple[str, ...],
                   alias_owner: dict[int, str], choices: Mapping[str, tuple[str, ...]] | None = None
                   ) -> tuple[pa.DataFrameSchema, Checks]:
    """Checks of the catalog's text cells (stripped) and numeric cells (raw), of closed sets (`choices`: column ->
    allowed values, empty allowed) and of aliases across rows."""
    chk = Checks()
    cols: dict[str, pa.Column] = {}
    for c, allowed in (choices or {}).items():
        cols[c] = pa.Column(None, nullable=True, checks=[chk.check(
            f"{c}:choice", _choice(allowed), c,
            lambda v, i: f"'{v}' is not one of the known values", "one of " + ", ".join(allowed) + " or empty")])
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
