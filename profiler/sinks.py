"""Where finished rows go, at once: a CSV file (appended, flushed, fsynced) and/or the results store.

A run killed half-way loses nothing already written; `done_keys(run_id)` lets `--resume` skip it. The store is
imported lazily, so a GPU box with only torch, numpy and pandas can still write CSV (`store_missing` says what the
store would need there).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
from pathlib import Path

import pandas as pd

from hwplan.core.schema import COLUMN_NAMES, KEY_COLUMNS
from hwplan.profiler.errors import ProfileError

_NA = pd.NA


def row_key(row: dict) -> tuple:
    """The identity of a measurement, normalised as the store's `row_keys` does (NULL and empty agree)."""
    out = []
    for c in KEY_COLUMNS:
        v = row.get(c)
        missing = v is None or v is _NA or (isinstance(v, float) and v != v)
        out.append("" if missing else str(v).strip().lower())
    return tuple(out)


class CsvSink:
    """Appends Measurement rows to a CSV; a half-written last line from a killed run is cut off on open."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def open(self) -> CsvSink:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size > 0:
            _cut_partial_line(self.path)
            with self.path.open(newline="", encoding="utf-8") as fh:
                header = next(csv.reader(fh), [])
            if header != list(COLUMN_NAMES):
                raise ProfileError(f"{self.path} exists with other columns; give a new --out file or the Measurement CSV it was")
        else:
            with self.path.open("w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerow(COLUMN_NAMES)
                fh.flush()
                os.fsync(fh.fileno())
        return self

    def write(self, rows: list[dict]) -> None:
        # One write call per group of rows, then fsync: a kill leaves whole rows or a cut-off tail that open() removes.
        buf = io.StringIO()
        w = csv.writer(buf)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r.get(c) for c in COLUMN_NAMES])
        with self.path.open("a", newline="", encoding="utf-8") as fh:
            fh.write(buf.getvalue())
            fh.flush()
            os.fsync(fh.fileno())

    def rows(self, run_id: str | None = None):
        if not self.path.exists():
            return pd.DataFrame(columns=list(COLUMN_NAMES))
        df = pd.read_csv(self.path, dtype=str, keep_default_na=False)
        return df if run_id is None else df[df["run_id"] == run_id].reset_index(drop=True)

    def done_keys(self, run_id: str) -> set[tuple]:
        return {row_key(r) for r in self.rows(run_id).to_dict("records")}

    def describe(self) -> str:
        return str(self.path)


def _cut_partial_line(path: Path) -> None:
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as fh:
            fh.truncate(data.rfind(b"\n") + 1)


class StoreSink:
    """Writes each group of rows to the results store (SQLite or PostgreSQL); validated, all-or-nothing."""

    def __init__(self, url: str | None):
        self.url = url
        self.store = None

    def open(self) -> StoreSink:
        from hwplan.core.store import Store

        self.store = Store.open(self.url, writes=True)
        return self

    def write(self, rows: list[dict]) -> None:
        self.store.add_measurements(pd.DataFrame(rows, columns=list(COLUMN_NAMES)), file="profiler")

    def rows(self, run_id: str | None = None):
        return self.store.measurements(run_id=run_id)

    def done_keys(self, run_id: str) -> set[tuple]:
        return {row_key(r) for r in self.rows(run_id).to_dict("records")}

    def describe(self) -> str:
        return self.store.describe() if self.store else str(self.url)


# What writing to the results store imports: the engine, row validation, settings (the default store's place) and
# migrations (a store of an earlier release). A profiler-only install may lack any of them.
STORE_PACKAGES = ("sqlalchemy", "pandera", "pydantic", "pydantic_settings", "alembic")


def store_missing() -> list[str]:
    """The packages the results store needs that this Python cannot import (none: the store can be used).
    Looked up, not imported, so the check costs nothing on a full install."""
    missing = []
    for name in STORE_PACKAGES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # ValueError: a None entry in sys.modules, i.e. made unimportable
            found = False
        if not found:
            missing.append(name)
    return missing

