"""Reading and writing Measurement tables: CSV, JSON and Parquet only (never pickle), size-capped."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hwplan.core import published
from hwplan.core.errors import HwplanError, Problem, ValidationError
from hwplan.core.schema import COLUMN_NAMES, validate_measurements

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
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
             max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[pd.DataFrame, list[int]]:
    """Parse a file into a string table plus the row numbers a person sees. Raises ValidationError."""
    fmt = file_format(name)
    if data is None and path is None:
        raise HwplanError(f"{name}: give the file's bytes or its path")
    size = len(data) if data is not None else os.stat(path).st_size  # type: ignore[arg-type]
    if size > max_bytes:
        raise ValidationError([Problem(name, 0, "file", f"is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit",
                                       "a smaller file, or raise the limit with --max-mb")], "file refused; nothing was stored")
    if size == 0:
        raise ValidationError([Problem(name, 0, "file", "is empty", "a header row and at least one data row")],
                              "file refused; nothing was stored")
    if data is None:
        data = Path(path).read_bytes()  # type: ignore[arg-type]
    try:
        if fmt == "csv":
            df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8", on_bad_lines="error",
                             skip_blank_lines=True)
            return df, [i + 2 for i in range(len(df))]
        if fmt == "parquet":
            df = pd.read_parquet(io.BytesIO(data))
            return df, list(range(1, len(df) + 1))
        text = data.decode("utf-8")
        records: object
        if fmt == "jsonl":
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            obj = json.loads(text)
            records = obj.get("rows", obj.get("measurements")) if isinstance(obj, dict) else obj
        return _records_frame(name, records)
    except ValidationError:
        raise
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError, ImportError) as exc:
        msg = str(exc).splitlines()[0][:200] if str(exc) else exc.__class__.__name__
        raise ValidationError([Problem(name, 0, "file", f"could not be read as {fmt.upper()}: {msg}",
                                       f"a well-formed {fmt.upper()} file in the Measurement schema")],
                              "file refused; nothing was stored") from None
    except Exception as exc:  # pyarrow and friends raise their own types for corrupt files
        raise ValidationError([Problem(name, 0, "file", f"could not be read as {fmt.upper()}: {exc.__class__.__name__}",
                                       f"a well-formed {fmt.upper()} file")], "file refused; nothing was stored") from None


def _records_frame(name: str, records) -> tuple[pd.DataFrame, list[int]]:
    if not isinstance(records, list):
        raise ValidationError([Problem(name, 0, "file", "JSON must be a list of row objects (or {\"rows\": [...]})",
                                       "[{\"run_id\": ..., ...}, ...]")], "file refused; nothing was stored")
    problems = []
    clean = []
    for i, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            problems.append(Problem(name, i, "row", f"is a {type(rec).__name__}, not an object", "{\"column\": value, ...}"))
            continue
        row = {}
        for k, v in rec.items():
            if isinstance(v, (dict, list)):
                problems.append(Problem(name, i, str(k), "holds a nested value", "a string, number or null"))
            else:
                row[str(k)] = "" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
        clean.append(row)
    if problems:
        raise ValidationError(problems)
    if not clean:
        raise ValidationError([Problem(name, 0, "file", "holds no rows", "at least one row")], "file refused; nothing was stored")
    return pd.DataFrame(clean, dtype=str).fillna(""), list(range(1, len(clean) + 1))


def load_file(name: str, data: bytes | None = None, path: str | Path | None = None,
              max_bytes: int = DEFAULT_MAX_BYTES, known_workloads=None, known_devices=None) -> LoadedTable:
    """Read one file in the Measurement schema, or an MLPerf results table (mapped on the way)."""
    try:
        raw, rows = read_raw(name, data=data, path=path, max_bytes=max_bytes)
    except ValidationError as err:
        return LoadedTable(name, pd.DataFrame(columns=list(COLUMN_NAMES)), err.problems)

    if published.is_published_table(raw):
        mapped, skipped = published.map_published(raw, source_name=name)
        lines = list(mapped.pop("_line"))
        clean, problems = validate_measurements(mapped, name, row_numbers=lines, known_workloads=known_workloads,
                                                known_devices=known_devices)
        return LoadedTable(name, clean, problems, mapped=len(mapped), skipped=skipped, kind="published")
    if published.is_serving_table(raw):
        mapped, skipped = published.map_serving(raw)
        lines = list(mapped.pop("_line"))
        clean, problems = validate_measurements(mapped, name, row_numbers=lines, known_workloads=known_workloads,
                                                known_devices=known_devices)
        return LoadedTable(name, clean, problems, mapped=len(mapped), skipped=skipped, kind="published")
    if raw.empty:
        return LoadedTable(name, raw, [Problem(name, 0, "file", "holds no rows", "at least one data row")])
    clean, problems = validate_measurements(raw, name, rows, known_workloads, known_devices)
    return LoadedTable(name, clean, problems, mapped=len(clean))


def write_table(df: pd.DataFrame, fmt: str, out: str | Path | None) -> bytes | None:
    """Write to a file atomically (temp file, then rename), or return the bytes when `out` is None."""
    buf = io.BytesIO()
    if fmt == "csv":
        buf.write(df.to_csv(index=False).encode())
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
