"""Reading and writing Measurement tables: CSV, JSON and Parquet only (never pickle), with bounded work.

`ImportLimits` bounds what one file may cost: its size on disk, its decompressed size (Parquet's metadata is read
first, and row groups one at a time), its rows, its columns and the length of any cell, checked while reading.
Every CSV hwplan writes goes through `neutralise_formulas`, so a cell taken from an upload is never a formula."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from hwplan.core import published
from hwplan.core.errors import HwplanError, Problem, ValidationError
from hwplan.core.schema import COLUMN_NAMES, validate_measurements

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula
_REFUSED = "file refused; nothing was stored"


@dataclass(frozen=True)
class ImportLimits:
    """What one input file may cost to read. Each has an environment variable (HWPLAN_MAX_MB, HWPLAN_MAX_DECOMPRESSED_MB,
    HWPLAN_MAX_ROWS, HWPLAN_MAX_COLUMNS, HWPLAN_MAX_CELL_CHARS) and a `hwplan import` option."""

    max_bytes: int = DEFAULT_MAX_BYTES  # the file as given (compressed, for Parquet)
    max_decompressed_bytes: int = DEFAULT_MAX_BYTES  # the data once decompressed / decoded
    max_rows: int = 200_000
    max_columns: int = 200
    max_cell_chars: int = 4096

    @classmethod
    def from_env(cls, **overrides: int | None) -> ImportLimits:
        """The defaults, then HWPLAN_* variables, then the non-None `overrides`."""
        env = {"max_bytes": ("HWPLAN_MAX_MB", 1024 * 1024), "max_decompressed_bytes": ("HWPLAN_MAX_DECOMPRESSED_MB", 1024 * 1024),
               "max_rows": ("HWPLAN_MAX_ROWS", 1), "max_columns": ("HWPLAN_MAX_COLUMNS", 1),
               "max_cell_chars": ("HWPLAN_MAX_CELL_CHARS", 1)}
        values: dict[str, int] = {}
        for field_name, (var, scale) in env.items():
            raw = os.environ.get(var, "").strip()
            if raw:
                try:
                    values[field_name] = int(float(raw) * scale)
                except ValueError:
                    raise HwplanError(f"{var}={raw!r} is not a number (expected e.g. {var}=100)") from None
        values.update({k: int(v) for k, v in overrides.items() if v is not None})
        for k, v in values.items():
            if v < 1:
                raise HwplanError(f"the import limit {k} must be at least 1, not {v}")
        return cls(**values)


def _refuse(name: str, message: str, expected: str, row: int = 0, column: str = "file") -> ValidationError:
    return ValidationError([Problem(name, row, column, message, expected)], _REFUSED)
FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class LoadedTable:
    """One input file, read and checked: rows ready to store, or the problems that stop it."""

    name: str
    rows: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    mapped: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> rows left out (published imports)
    kind: str = "measurements"


def file_format(name: str) -> str:
    ext = Path(name).suffix.lower()
    if ext not in FORMATS:
        raise HwplanError(f"{name}: cannot read '{ext or 'no extension'}' files (expected .csv, .json, .jsonl or .parquet;"
                          " pickle and other code-bearing formats are never read)")
    return FORMATS[ext]


def read_raw(name: str, data: bytes | None = None, path: str | Path | None = None,
             max_bytes: int | None = None, limits: ImportLimits | None = None) -> tuple[pd.DataFrame, list[int]]:
    """Parse a file into a string table plus the row numbers a person sees, within `limits`. Raises ValidationError."""
    limits = limits or ImportLimits()
    if max_bytes is not None:
        limits = replace(limits, max_bytes=max_bytes)
    fmt = file_format(name)
    if data is None and path is None:
        raise HwplanError(f"{name}: give the file's bytes or its path")
    size = len(data) if data is not None else os.stat(path).st_size  # type: ignore[arg-type]
    if size > limits.max_bytes:
        raise _refuse(name, f"is {size / 1e6:.1f} MB, over the {limits.max_bytes / 1e6:.0f} MB limit",
                      "a smaller file, or raise the limit with --max-mb")
    if size == 0:
        raise _refuse(name, "is empty", "a header row and at least one data row")
    if data is None:
        data = Path(path).read_bytes()  # type: ignore[arg-type]
    try:
        if fmt == "csv":
            return _read_csv(name, data, limits)
        if fmt == "parquet":
            return _read_parquet(name, data, limits)
        if len(data) > limits.max_decompressed_bytes:
            raise _refuse(name, f"is {len(data) / 1e6:.1f} MB, over the {limits.max_decompressed_bytes / 1e6:.0f} MB limit",
                          "a smaller file, or raise the limit with --max-decompressed-mb")
        text = data.decode("utf-8")
        records: object
        if fmt == "jsonl":
            records = []
            for line in text.splitlines():
                if line.strip():
                    records.append(json.loads(line))
                    _check_rows(name, len(records), limits)
        else:
            obj = json.loads(text)
            records = obj.get("rows", obj.get("measurements")) if isinstance(obj, dict) else obj
            if isinstance(records, list):
                _check_rows(name, len(records), limits)
        return _records_frame(name, records, limits)
    except ValidationError:
        raise
    except RecursionError:
        raise _refuse(name, f"could not be read as {fmt.upper()}: nested too deeply", f"a flat {fmt.upper()} table") from None
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError, ImportError) as exc:
        msg = str(exc).splitlines()[0][:200] if str(exc) else exc.__class__.__name__
        raise _refuse(name, f"could not be read as {fmt.upper()}: {msg}",
                      f"a well-formed {fmt.upper()} file in the Measurement schema") from None
    except Exception as exc:  # pyarrow and friends raise their own types for corrupt files
        raise _refuse(name, f"could not be read as {fmt.upper()}: {exc.__class__.__name__}",
                      f"a well-formed {fmt.upper()} file") from None


def _check_rows(name: str, n: int, limits: ImportLimits) -> None:
    if n > limits.max_rows:
        raise _refuse(name, f"has more than {limits.max_rows:,} rows", "fewer rows, or raise the limit with --max-rows")


def _check_columns(name: str, n: int, limits: ImportLimits) -> None:
    if n > limits.max_columns:
        raise _refuse(name, f"has {n:,} columns, over the {limits.max_columns:,} limit",
                      "the Measurement columns only, or raise the limit with --max-columns")


def _check_cells(name: str, df: pd.DataFrame, rows: list[int], limits: ImportLimits) -> None:
    """Every text cell no longer than limits.max_cell_chars; the first too long is reported with its row."""
    for col in df.columns:
        lengths = df[col].astype("string").str.len().fillna(0).to_numpy()
        if len(lengths) and lengths.max() > limits.max_cell_chars:
            pos = int(lengths.argmax())
            raise _refuse(name, f"is {int(lengths[pos]):,} characters long, over the {limits.max_cell_chars:,} limit",
                          "a shorter value, or raise the limit with --max-cell-chars", row=rows[pos], column=_short(col))


def _short(value: object, limit: int = 60) -> str:
    s = str(value).replace("\n", "\\n").replace("\r", "\\r")
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _read_csv(name: str, data: bytes, limits: ImportLimits) -> tuple[pd.DataFrame, list[int]]:
    """CSV in chunks: rows, columns, cell length and decoded size checked as each chunk arrives."""
    import csv

    csv.field_size_limit(max(limits.max_cell_chars + 1, 1024))
    chunks: list[pd.DataFrame] = []
    n = 0
    decoded = 0
    reader = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8", on_bad_lines="error",
                         skip_blank_lines=True, chunksize=10_000, engine="c")
    with reader:
        for chunk in reader:
            _check_columns(name, chunk.shape[1], limits)
            rows = [n + i + 2 for i in range(len(chunk))]
            n += len(chunk)
            _check_rows(name, n, limits)
            _check_cells(name, chunk, rows, limits)
            decoded += int(chunk.memory_usage(index=False, deep=True).sum())
            if decoded > 4 * limits.max_decompressed_bytes:  # Python strings weigh about 4x their bytes
                raise _refuse(name, f"decodes to over {limits.max_decompressed_bytes / 1e6:.0f} MB",
                              "a smaller file, or raise the limit with --max-decompressed-mb")
            chunks.append(chunk)
    df = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
    return df, [i + 2 for i in range(len(df))]


def _read_parquet(name: str, data: bytes, limits: ImportLimits) -> tuple[pd.DataFrame, list[int]]:
    """Parquet from its metadata first (rows, columns, decompressed size), then one row group at a time, every
    column cast to text (a nested or undecodable column is a problem, not an exception)."""
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.compute as pc  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    pf = pq.ParquetFile(io.BytesIO(data))
    md = pf.metadata
    _check_columns(name, md.num_columns, limits)
    _check_rows(name, md.num_rows, limits)
    unpacked = 0
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        unpacked += max(rg.total_byte_size, sum(rg.column(c).total_uncompressed_size for c in range(rg.num_columns)))
    if unpacked > limits.max_decompressed_bytes:
        raise _refuse(name, f"decompresses to {unpacked / 1e6:.1f} MB (from {len(data) / 1e3:.1f} KB), over the "
                            f"{limits.max_decompressed_bytes / 1e6:.0f} MB limit",
                      "a smaller file, or raise the limit with --max-decompressed-mb")
    problems: list[Problem] = []
    for field_ in pf.schema_arrow:
        t = field_.type
        if pa.types.is_nested(t) or (pa.types.is_dictionary(t) and pa.types.is_nested(t.value_type)):
            problems.append(Problem(name, 0, _short(field_.name), f"holds {t} values", "text, numbers or empty cells"))
    if problems:
        raise ValidationError(problems, _REFUSED)
    frames: list[pd.DataFrame] = []
    seen = 0
    for g in range(md.num_row_groups):
        table = pf.read_row_group(g)
        cols: dict[str, pd.Series] = {}
        for field_, arr in zip(table.schema, table.columns):
            cols[str(field_.name)] = _text_column(name, str(field_.name), arr, seen, pa, pc)
        frame = pd.DataFrame(cols)
        rows = list(range(seen + 1, seen + len(frame) + 1))
        _check_cells(name, frame, rows, limits)
        seen += len(frame)
        frames.append(frame)
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[f.name for f in pf.schema_arrow])
    return df, list(range(1, len(df) + 1))


def _text_column(name: str, column: str, arr, offset: int, pa, pc) -> pd.Series:
    """One Parquet column as text: numbers written as Python writes them, times as ISO 8601, bytes decoded as
    UTF-8 (a cell that is not is reported with its row), missing as empty."""
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = t.value_type
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        out = []
        for i, v in enumerate(arr.to_pylist()):
            if v is None:
                out.append("")
                continue
            try:
                out.append(v.decode("utf-8"))
            except UnicodeDecodeError:
                raise _refuse(name, "is not UTF-8 text", "text in UTF-8", row=offset + i + 1, column=_short(column)) from None
        return pd.Series(out, dtype=object)
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        values = arr.to_pandas() if not pa.types.is_date(t) else pd.to_datetime(arr.to_pandas(), errors="coerce")
        ts = pd.to_datetime(values, errors="coerce", utc=True)
        return pd.Series(ts.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), dtype=object).fillna("").reset_index(drop=True)
    if pa.types.is_boolean(t):
        return pd.Series(["" if v is None else ("true" if v else "false") for v in arr.to_pylist()], dtype=object)
    if pa.types.is_floating(t):
        return pd.Series(["" if v is None or v != v else repr(float(v)) for v in arr.to_pylist()], dtype=object)
    try:
        text = pc.cast(arr, pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        raise _refuse(name, f"holds {t} values", "text, numbers or empty cells", column=_short(column)) from None
    return pd.Series(text.to_pylist(), dtype=object).fillna("")


def _records_frame(name: str, records, limits: ImportLimits | None = None) -> tuple[pd.DataFrame, list[int]]:
    limits = limits or ImportLimits()
    if not isinstance(records, list):
        raise ValidationError([Problem(name, 0, "file", "JSON must be a list of row objects (or {\"rows\": [...]})",
                                       "[{\"run_id\": ..., ...}, ...]")], "file refused; nothing was stored")
    problems = []
    clean = []
    for i, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            problems.append(Problem(name, i, "row", f"is a {type(rec).__name__}, not an object", "{\"column\": value, ...}"))
            continue
        _check_columns(name, len(rec), limits)
        row = {}
        for k, v in rec.items():
            if isinstance(v, (dict, list)):
                problems.append(Problem(name, i, str(k), "holds a nested value", "a string, number or null"))
            else:
                text = "" if v is None else (str(v).lower() if isinstance(v, bool) else _json_text(v))
                if len(text) > limits.max_cell_chars:
                    raise _refuse(name, f"is {len(text):,} characters long, over the {limits.max_cell_chars:,} limit",
                                  "a shorter value, or raise the limit with --max-cell-chars", row=i, column=_short(k))
                row[str(k)] = text
        clean.append(row)
    if problems:
        raise ValidationError(problems)
    _check_columns(name, len({k for r in clean for k in r}), limits)
    if not clean:
        raise ValidationError([Problem(name, 0, "file", "holds no rows", "at least one row")], "file refused; nothing was stored")
    return pd.DataFrame(clean, dtype=str).fillna(""), list(range(1, len(clean) + 1))


def _json_text(v: object) -> str:
    """A JSON scalar as text; an integer too long to be a count (Python refuses to print over 4,300 digits) is cut."""
    if isinstance(v, int) and v.bit_length() > 4000:
        return "1e400"  # far beyond any column's range: the validator says it is too large
    return str(v)


def load_file(name: str, data: bytes | None = None, path: str | Path | None = None,
              max_bytes: int | None = None, known_workloads=None, known_devices=None,
              limits: ImportLimits | None = None, source: str | None = None, citation: str | None = None) -> LoadedTable:
    """Read one file in the Measurement schema, or an MLPerf results table (mapped on the way). `source`, when
    given, replaces the file's own `source` column before validation (the server says where rows come from), and
    `citation` fills `source_ref` where a row has none."""
    try:
        raw, rows = read_raw(name, data=data, path=path, max_bytes=max_bytes, limits=limits)
    except ValidationError as err:
        return LoadedTable(name, pd.DataFrame(columns=list(COLUMN_NAMES)), err.problems)

    if published.is_published_table(raw):
        mapped, skipped = published.map_published(raw, source_name=name)
        lines = list(mapped.pop("_line"))
        mapped = _with_source(mapped, source, citation)
        clean, problems = validate_measurements(mapped, name, row_numbers=lines, known_workloads=known_workloads,
                                                known_devices=known_devices)
        return LoadedTable(name, clean, problems, mapped=len(mapped), skipped=skipped, kind="published")
    if published.is_serving_table(raw):
        mapped, skipped = published.map_serving(raw)
        lines = list(mapped.pop("_line"))
        mapped = _with_source(mapped, source, citation)
        clean, problems = validate_measurements(mapped, name, row_numbers=lines, known_workloads=known_workloads,
                                                known_devices=known_devices)
        return LoadedTable(name, clean, problems, mapped=len(mapped), skipped=skipped, kind="published")
    if raw.empty:
        return LoadedTable(name, raw, [Problem(name, 0, "file", "holds no rows", "at least one data row")])
    raw = _with_source(raw, source, citation)
    clean, problems = validate_measurements(raw, name, rows, known_workloads, known_devices)
    return LoadedTable(name, clean, problems, mapped=len(clean))


def _with_source(df: pd.DataFrame, source: str | None, citation: str | None) -> pd.DataFrame:
    if not source:
        return df
    df = df.copy()
    df["source"] = source
    if citation:
        ref = df["source_ref"].astype("string").fillna("").str.strip() if "source_ref" in df else pd.Series([""] * len(df))
        df["source_ref"] = ref.where(ref != "", citation.strip()).astype(object)
    return df


def write_table(df: pd.DataFrame, fmt: str, out: str | Path | None) -> bytes | None:
    """Write to a file atomically (temp file, then rename), or return the bytes when `out` is None."""
    buf = io.BytesIO()
    if fmt == "csv":
        buf.write(neutralise_formulas(df).to_csv(index=False).encode())
    elif fmt == "json":
        buf.write(df.to_json(orient="records", indent=1).encode())
    elif fmt == "parquet":
        df.to_parquet(buf, index=False)
    else:
        raise HwplanError(f"unknown export format '{fmt}' (expected csv, json or parquet)")
    data = buf.getvalue()
    if out is None:
        return data
    out = Path(out)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    return None


def neutralise_cell(value: object) -> object:
    """A text cell a spreadsheet would run as a formula, with a leading apostrophe; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` safe to write as CSV: text cells (and column names) starting with = + - @, a tab or a carriage
    return get a leading apostrophe; numbers (-1.5) stay numbers. Every CSV hwplan writes goes through here."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            out[col] = s.map(neutralise_cell, na_action="ignore")
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out
