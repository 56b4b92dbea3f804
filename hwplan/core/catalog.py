"""The hardware catalog and the workload list: data files validated at load, never constants."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from hwplan.core import paths
from hwplan.core.errors import Problem, UnknownIdError, ValidationError
from hwplan.core.vocab import DEVICE_KINDS

CATALOG_NUMERIC = (
    "launch_year", "cores", "fp32_tflops", "tf32_tflops", "bf16_tflops", "fp16_tflops", "fp8_tflops",
    "int8_tops", "mem_gb", "mem_bw_gbs", "interconnect_gbs", "board_power_w", "idle_power_w",
    "price_usd", "cloud_usd_per_hour",
)
CATALOG_TEXT = (
    "id", "vendor", "model", "kind", "cloud_provider", "cloud_region", "cloud_price_date",
    "aliases", "source", "notes",
)
CATALOG_REQUIRED = ("id", "vendor", "model", "kind", "source")
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9.]+)*$")


def validate_catalog(df: pd.DataFrame, file: str = "catalog.csv") -> tuple[pd.DataFrame, list[Problem]]:
    """Check every cell of the catalog; return the typed table and all problems at once."""
    problems: list[Problem] = []
    line = lambda i: int(i) + 2  # noqa: E731 - CSV line number (header is line 1)
    for c in CATALOG_REQUIRED + CATALOG_NUMERIC:
        if c not in df.columns:
            problems.append(Problem(file, 0, c, "required column is missing"))
    if problems:
        return df, problems
    out = df.copy()
    for c in CATALOG_TEXT:
        if c not in out.columns:
            out[c] = ""
        out[c] = out[c].astype("string").fillna("").str.strip()
    for c in CATALOG_REQUIRED:
        for i in np.flatnonzero((out[c] == "").to_numpy()):
            problems.append(Problem(file, line(i), c, "is empty", "a value; every row needs it"))
    for i, v in enumerate(out["id"]):
        if v and not ID_PATTERN.match(v):
            problems.append(Problem(file, line(i), "id", f"'{v}' is not a valid id", "a lowercase slug like vendor-model-variant"))
    for i in np.flatnonzero((out["id"].duplicated() & (out["id"] != "")).to_numpy()):
        problems.append(Problem(file, line(i), "id", f"'{out['id'].iloc[i]}' appears twice", "unique ids"))
    for i in np.flatnonzero(~out["kind"].isin(DEVICE_KINDS).to_numpy()):
        problems.append(Problem(file, line(i), "kind", f"'{out['kind'].iloc[i]}' is not a device kind", "one of " + ", ".join(DEVICE_KINDS)))
    for c in CATALOG_NUMERIC:
        raw = df[c]
        num = pd.to_numeric(raw, errors="coerce")
        bad = raw.notna() & (raw.astype("string").str.strip() != "") & num.isna()
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(Problem(file, line(i), c, f"'{raw.iloc[i]}' is not a number", "a number or empty"))
        for i in np.flatnonzero((num < 0).fillna(False).to_numpy()):
            problems.append(Problem(file, line(i), c, f"{num.iloc[i]} is negative", "a number >= 0"))
        out[c] = num.astype(float)
    seen: dict[str, str] = {}
    for i, (dev, aliases) in enumerate(zip(out["id"], out["aliases"])):
        for a in filter(None, (x.strip() for x in aliases.split(";"))):
            key = a.lower()
            if key in seen and seen[key] != dev:
                problems.append(Problem(file, line(i), "aliases", f"'{a}' is also an alias of '{seen[key]}'", "each alias names one device"))
            seen[key] = dev
    return out, problems


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    out, problems = validate_catalog(df, Path(path).name)
    if problems:
        raise ValidationError(problems, f"the hardware catalog {path} is invalid")
    return out.set_index("id", drop=False)


def load_catalog(path: str | Path | None = None) -> pd.DataFrame:
    """The validated catalog, indexed by id. Cached per file and modification time."""
    p = Path(path or paths.CATALOG_CSV)
    if not p.exists():
        raise ValidationError([Problem(str(p), 0, "file", "catalog file not found", "data/catalog.csv in the repository")])
    return _load(str(p), p.stat().st_mtime).copy()


def device(device_id: str, catalog: pd.DataFrame | None = None) -> pd.Series:
    cat = load_catalog() if catalog is None else catalog
    if device_id not in cat.index:
        raise UnknownIdError("device", device_id, cat.index)
    return cat.loc[device_id]


def alias_map(catalog: pd.DataFrame | None = None) -> dict[str, str]:
    """Lower-cased raw names (and ids and models) → catalog id."""
    cat = load_catalog() if catalog is None else catalog
    out: dict[str, str] = {}
    for dev, model, aliases in zip(cat["id"], cat["model"], cat["aliases"]):
        out[dev.lower()] = dev
        out[model.lower()] = dev
        for a in filter(None, (x.strip() for x in aliases.split(";"))):
            out[a.lower()] = dev
    return out


def match_device(raw_name: str, catalog: pd.DataFrame | None = None) -> str | None:
    """The catalog id a raw device name denotes, or None when it matches nothing."""
    name = " ".join(str(raw_name).split()).lower()
    return alias_map(catalog).get(name)


# ---- workloads -------------------------------------------------------------------------------

WORKLOAD_REQUIRED = ("id", "field", "task", "throughput_unit", "source")


@lru_cache(maxsize=4)
def _load_workloads(path: str, mtime: float) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    problems = [Problem(Path(path).name, 0, c, "required column is missing") for c in WORKLOAD_REQUIRED if c not in df.columns]
    if not problems:
        for i, row in df.iterrows():
            for c in WORKLOAD_REQUIRED:
                if not str(row[c]).strip():
                    problems.append(Problem(Path(path).name, int(i) + 2, c, "is empty"))
        for i in np.flatnonzero(df["id"].duplicated().to_numpy()):
            problems.append(Problem(Path(path).name, int(i) + 2, "id", "appears twice"))
    if problems:
        raise ValidationError(problems, f"the workload table {path} is invalid")
    for c in df.columns:
        if c not in ("id", "field", "task", "throughput_unit", "source", "notes", "mlperf_models", "description", "kind", "accuracy_precision"):
            conv = pd.to_numeric(df[c].replace("", np.nan), errors="coerce")
            if conv.notna().sum() == (df[c] != "").sum():
                df[c] = conv.astype(float)
    return df.set_index("id", drop=False)


def load_workloads(path: str | Path | None = None) -> pd.DataFrame:
    p = Path(path or paths.WORKLOADS_CSV)
    return _load_workloads(str(p), p.stat().st_mtime).copy()


def workload(workload_id: str) -> pd.Series:
    wl = load_workloads()
    if workload_id not in wl.index:
        raise UnknownIdError("workload", workload_id, wl.index)
    return wl.loc[workload_id]
