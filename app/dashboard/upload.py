"""Uploads: the same validation as `hwplan import`, all rows stored or none. No Streamlit here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hwplan.core.accounts import LOCAL, User
from hwplan.core.errors import HwplanError, Problem, ValidationError
from hwplan.core.ingest import import_into
from hwplan.core.tableio import DEFAULT_MAX_BYTES, FORMATS
from hwplan.costmodel import llmconfig

ACCEPTED_TYPES = ("csv", "json", "jsonl", "parquet")
MAX_UPLOAD_MB = DEFAULT_MAX_BYTES // (1024 * 1024)
PROBLEM_COLUMNS = ["file", "row", "column", "problem", "expected"]


@dataclass
class UploadOutcome:
    ok: bool
    inserted: int = 0
    duplicates: int = 0
    rows_read: int = 0
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    summary: str = ""
    files: list[dict] = field(default_factory=list)


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Every problem as a row a person can sort: file, row (0 = whole file), column, problem, expected."""
    return pd.DataFrame([{"file": p.file, "row": int(p.row), "column": p.column, "problem": p.message,
                          "expected": p.expected} for p in problems], columns=PROBLEM_COLUMNS)


def upload(store, files: list[tuple[str, bytes]], max_bytes: int = DEFAULT_MAX_BYTES, actor: User = LOCAL
           ) -> UploadOutcome:
    """Validate every file; store every row in one transaction only if none has a problem, recorded as `actor`'s
    upload (a viewer's is refused by the store)."""
    if not files:
        return UploadOutcome(False, summary="no file given")
    pre: list[Problem] = []
    for name, _data in files:
        if Path(name).suffix.lower() not in FORMATS:
            pre.append(Problem(name, 0, "file", f"'{Path(name).suffix or 'no extension'}' files cannot be read",
                               "a .csv, .json, .jsonl or .parquet file in the Measurement schema"))
    if pre:
        return UploadOutcome(False, problems=problems_frame(pre), summary=f"{len(pre)} file(s) refused; nothing was stored")
    try:
        report = import_into(store, [(name, data, None) for name, data in files], max_bytes=max_bytes,
                             source_override="upload", actor=actor)  # the server says where rows come from
    except ValidationError as err:
        n = len(err.problems)
        return UploadOutcome(False, problems=problems_frame(err.problems),
                             summary=f"{n} problem{'s' if n != 1 else ''} found; nothing was stored")
    except HwplanError as err:
        return UploadOutcome(False, problems=problems_frame([Problem("(upload)", 0, "file", str(err))]),
                             summary="nothing was stored")
    res = report.result
    info = [{"file": f.name, "kind": f.kind, "rows": f.mapped, "left_out": sum(f.skipped.values())} for f in report.files]
    rows = sum(f.mapped for f in report.files)
    return UploadOutcome(True, inserted=res.inserted if res else 0, duplicates=res.duplicates if res else 0,
                         rows_read=rows, files=info,
                         summary=f"stored {res.inserted if res else 0:,} new row(s); "
                                 f"{res.duplicates if res else 0:,} already stored")


MAX_CONFIG_KB = llmconfig.MAX_CONFIG_BYTES // 1024


def read_model_config(name: str, data: bytes, max_bytes: int = llmconfig.MAX_CONFIG_BYTES) -> dict:
    """Architecture facts of an uploaded Hugging Face config.json (read here, never fetched from a hub).
    Raises llmconfig.ConfigError naming the field (or `file`) and what was expected."""
    if len(data) > max_bytes:
        raise llmconfig.ConfigError(name, "file", f"is {len(data):,} bytes", f"a config.json under {max_bytes:,} bytes")
    try:
        cfg = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise llmconfig.ConfigError(name, "file", f"is not JSON ({err})", "a Hugging Face config.json") from None
    except RecursionError:
        raise llmconfig.ConfigError(name, "file", "is nested too deeply", "a Hugging Face config.json") from None
    try:
        return llmconfig.from_config(cfg, name)
    except llmconfig.ConfigError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, ArithmeticError) as err:  # a field of an unexpected shape
        raise llmconfig.ConfigError(name, "file", f"could not be read ({type(err).__name__}: {err})",
                                    "a Hugging Face config.json") from None


def model_name(file_name: str, facts: dict) -> str:
    """A name for an uploaded model: the file's stem, or the config's own name when the file is just config.json."""
    stem = Path(file_name).stem
    return str(facts.get("name") or stem) if stem.lower() in ("config", "") else stem
