"""The hardware catalog and the workload list: data files validated at load, never constants."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from hwplan.core import paths
from hwplan.core.errors import Problem, UnknownIdError, ValidationError
from hwplan.core.vocab import DEVICE_KINDS, TOPOLOGIES

CATALOG_NUMERIC = (
    "launch_year", "cores", "fp32_tflops", "tf32_tflops", "bf16_tflops", "fp16_tflops", "fp8_tflops",
    "int8_tops", "mem_gb", "mem_bw_gbs", "interconnect_gbs", "board_power_w", "idle_power_w",
    "price_usd", "fp4_tflops", "link_gbs_per_direction", "devices_per_node", "scaleup_domain",
    "scaleout_gbs_per_direction", "pcie_gbs_per_direction",
)
CATALOG_TEXT = (
    "id", "vendor", "model", "kind", "aliases", "source", "notes", "topology",
)
# Filled from the price catalog (data/prices.csv, hwplan.core.prices) at load: never columns of catalog.csv
CLOUD_COLUMNS = ("cloud_usd_per_hour", "cloud_provider", "cloud_instance", "cloud_region", "cloud_price_date",
                 "cloud_price_stale", "cloud_price_source")
CATALOG_CHOICES = {"topology": TOPOLOGIES}
CATALOG_REQUIRED = ("id", "vendor", "model", "kind", "source")
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9.]+)*$")


def validate_catalog(df: pd.DataFrame, file: str = "catalog.csv") -> tuple[pd.DataFrame, list[Problem]]:
    """Check every cell of the catalog (a pandera schema, hwplan.core.validation); return the typed table and
    all problems at once."""
    from hwplan.core import validation  # pandera: only when a table is checked

    missing = [Problem(file, 0, c, "required column is missing") for c in CATALOG_REQUIRED + CATALOG_NUMERIC
               if c not in df.columns]
    if missing:
        return df, missing
    out = typed_catalog(df)
    owners: dict[int, list[str]] = {}
    seen: dict[str, str] = {}
    for i, (dev, aliases) in enumerate(zip(out["id"], out["aliases"])):
        for a in filter(None, (x.strip() for x in aliases.split(";"))):
            key = a.lower()
            if key in seen and seen[key] != dev:
                owners.setdefault(i, []).append(f"'{a}' is also an alias of '{seen[key]}'")
            seen[key] = dev
    checked = out[list(CATALOG_REQUIRED) + ["aliases", *CATALOG_CHOICES]].join(
        df[list(CATALOG_NUMERIC)].reset_index(drop=True))
    schema, checks = validation.catalog_schema(CATALOG_REQUIRED, CATALOG_NUMERIC, ID_PATTERN.pattern, DEVICE_KINDS,
                                               {i: "; ".join(m) for i, m in owners.items()}, CATALOG_CHOICES)
    problems = validation.validate(schema, checks, checked, file, [i + 2 for i in range(len(out))],
                                   CATALOG_REQUIRED + CATALOG_NUMERIC + ("aliases", *CATALOG_CHOICES))
    return out, problems


def typed_catalog(df: pd.DataFrame) -> pd.DataFrame:
    """The catalog with text stripped and numbers as floats (cells that do not parse become NaN), unchecked."""
    out = df.copy().reset_index(drop=True)
    for c in CATALOG_TEXT:
        if c not in out.columns:
            out[c] = ""
        out[c] = out[c].astype("string").fillna("").str.strip()
    for c in CATALOG_NUMERIC:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float) if c in out.columns else np.nan
    return out


@lru_cache(maxsize=8)
def _load(path: str, mtime: float, validated: bool, prices_mtime: float) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if not validated:
        return with_cloud_prices(typed_catalog(df).set_index("id", drop=False))
    out, problems = validate_catalog(df, Path(path).name)
    if problems:
        raise ValidationError(problems, f"the hardware catalog {path} is invalid")
    return with_cloud_prices(out.set_index("id", drop=False))


def with_cloud_prices(cat: pd.DataFrame, prices: pd.DataFrame | None = None, pricing: str = "on-demand") -> pd.DataFrame:
    """The catalog with each device's cloud price by the price catalog's rule (hwplan.core.prices.PRICE_RULE):
    price per device-hour, provider, instance, region, date, whether it is stale, and its source."""
    from hwplan.core.prices import device_prices

    out = cat.copy()
    if prices is None and not paths.PRICES_CSV.exists():
        table = {}
    else:
        table = device_prices(prices, pricing)
    get = lambda d, k, default: getattr(table[d], k) if d in table else default
    out["cloud_usd_per_hour"] = [get(d, "usd_per_device_hour", np.nan) for d in out.index]
    out["cloud_provider"] = [get(d, "provider", "") for d in out.index]
    out["cloud_instance"] = [get(d, "instance_type", "") for d in out.index]
    out["cloud_region"] = [get(d, "region", "") for d in out.index]
    out["cloud_price_date"] = [get(d, "price_date", "") for d in out.index]
    out["cloud_price_stale"] = [bool(get(d, "stale", False)) for d in out.index]
    out["cloud_price_source"] = [get(d, "source", "") for d in out.index]
    return out


def load_catalog(path: str | Path | None = None, validated: bool = True) -> pd.DataFrame:
    """The validated catalog, indexed by id. Cached per file and modification time.

    `validated=False` skips the checks (and pandera): for the profiler on an accelerator box that has only
    torch, numpy and pandas, reading the shipped catalog that CI validates."""
    p = Path(path or paths.CATALOG_CSV)
    if not p.exists():
        raise ValidationError([Problem(str(p), 0, "file", "catalog file not found",
                                       "the catalog shipped in hwplan's package data (hwplan/data/catalog.csv)")])
    pm = paths.PRICES_CSV.stat().st_mtime if paths.PRICES_CSV.exists() else 0.0
    return _load(str(p), p.stat().st_mtime, validated, pm).copy()


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
WORKLOAD_TEXT = ("id", "field", "task", "throughput_unit", "source", "notes", "mlperf_models", "description", "kind",
                 "accuracy_precision", "modes", "lowest_precision", "train_task", "train_source")


@lru_cache(maxsize=4)
def _load_workloads(path: str, mtime: float) -> pd.DataFrame:
    from hwplan.core import validation  # pandera: only when a table is checked

    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    name = Path(path).name
    problems = [Problem(name, 0, c, "required column is missing") for c in WORKLOAD_REQUIRED if c not in df.columns]
    if not problems:
        schema, checks = validation.workload_schema(WORKLOAD_REQUIRED)
        problems = validation.validate(schema, checks, df, name, [i + 2 for i in range(len(df))], WORKLOAD_REQUIRED)
    if problems:
        raise ValidationError(problems, f"the workload table {path} is invalid")
    for c in df.columns:
        if c not in WORKLOAD_TEXT:
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
