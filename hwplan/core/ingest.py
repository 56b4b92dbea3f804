"""Import files into the store: every file checked first, then all rows stored in one go, or none."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hwplan.core import paths
from hwplan.core.accounts import User
from hwplan.core.catalog import load_catalog, load_workloads
from hwplan.core.errors import HwplanError, Problem, ValidationError
from hwplan.core.store import DATA_VERSION_KEY, AddResult, Store
from hwplan.core.tableio import ImportLimits, LoadedTable, load_file


@dataclass
class ImportReport:
    files: list[LoadedTable] = field(default_factory=list)
    result: AddResult | None = None

    @property
    def problems(self):
        return [p for f in self.files for p in f.problems]

    def as_dict(self) -> dict:
        return {
            "files": [{"file": f.name, "kind": f.kind, "rows_mapped": f.mapped, "rows_left_out": sum(f.skipped.values()),
                       "left_out_reasons": f.skipped, "problems": len(f.problems)} for f in self.files],
            "inserted": self.result.inserted if self.result else 0,
            "duplicates": self.result.duplicates if self.result else 0,
            "problems": [str(p) for p in self.problems],
        }


UPLOAD = "upload"  # the source of every row a person imports; only `--as-published --citation` stores published rows


def load_inputs(items: Sequence[tuple[str, bytes | None, Path | None]], max_bytes: int | None = None,
                limits: ImportLimits | None = None, source: str | None = None, citation: str | None = None
                ) -> ImportReport:
    """Read and validate each (name, bytes, path) input without storing anything, each within `limits`."""
    known_wl = set(load_workloads().index)
    known_dev = set(load_catalog().index)
    report = ImportReport()
    for name, data, path in items:
        report.files.append(load_file(name, data=data, path=path, max_bytes=max_bytes, limits=limits, source=source,
                                      citation=citation, known_workloads=known_wl, known_devices=known_dev))
    return report


def import_into(store: Store, items: Sequence[tuple[str, bytes | None, Path | None]],
                max_bytes: int | None = None, source_override: str | None = UPLOAD, citation: str | None = None,
                limits: ImportLimits | None = None, actor: User | None = None) -> ImportReport:
    """Validate every input; store all rows in one transaction only if none has a problem.

    The server, not the file, says where rows come from: `source_override` (by default `upload`) replaces whatever
    the file's `source` column says, so an upload cannot pass its rows off as published results. Storing published
    rows takes `source_override="published"` and a `citation`, which fills `source_ref` where a row has none. Only
    the shipped-data seeding passes None (its files are the project's own). `actor`: the user who uploads (their
    role is checked, and the rows and the audit log record them)."""
    if source_override == "published" and not (citation and citation.strip()):
        raise HwplanError("published rows need a citation: give --citation \"<URL or reference>\" with --as-published")
    report = load_inputs(items, max_bytes, limits, source=source_override, citation=citation)
    if report.problems:
        raise ValidationError(report.problems, f"{len(report.problems)} problem(s) found; nothing was imported")
    frames = [f.rows for f in report.files if len(f.rows)]
    if not frames:
        report.result = AddResult(0, 0)
        return report
    rows = pd.concat(frames, ignore_index=True)
    names = ", ".join(f.name for f in report.files)
    report.result = store.add_measurements(rows, validated=True, file=names, actor=actor)
    return report


def import_paths(store: Store, files: list[str | Path], max_bytes: int | None = None, source_override: str = UPLOAD,
                 citation: str | None = None, limits: ImportLimits | None = None, actor: User | None = None
                 ) -> ImportReport:
    items = []
    for f in files:
        p = Path(f)
        if not p.is_file():
            raise ValidationError([_missing(p)], "nothing was imported")
        items.append((p.name if len(files) == 1 else str(p), None, p))
    return import_into(store, items, max_bytes, source_override=source_override, citation=citation, limits=limits,
                       actor=actor)


def _missing(p: Path):
    return Problem(str(p), 0, "file", "does not exist or is not a file", "a path to a .csv, .json or .parquet file")


def seed_store(store: Store, force: bool = False) -> AddResult | None:
    """Load the shipped results (data/published_results.csv, data/measured/*) once per data version."""
    files = [p for p in [*paths.PUBLISHED_FILES, *sorted(paths.MEASURED_DIR.glob("*.csv"))] if p.exists()]
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.name.encode())
        digest.update(p.read_bytes())
    version = digest.hexdigest()[:16]
    if not force and store.get_meta("seeded_data_version") == version:
        return None
    big = ImportLimits(max_bytes=1 << 31, max_decompressed_bytes=1 << 31, max_rows=10_000_000)
    was_empty = store.count() == 0
    report = import_into(store, [(p.name, None, p) for p in files], source_override=None, limits=big)
    store.set_meta("seeded_data_version", version)
    if was_empty and report.result is not None and store.count() == report.result.inserted:
        # A store holding exactly the shipped rows has the same data version as every other such store, so a model
        # fitted on them (the cost model's cache is keyed by it) serves a fresh store without a refit.
        store.set_meta(DATA_VERSION_KEY, f"seed-{version}")
    return report.result
