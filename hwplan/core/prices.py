"""The one price catalog: instance-level cloud prices (data/prices.csv) and the rule that turns them into the
per-device-hour price the planner uses; regional grid carbon intensity (data/carbon_intensity.csv).

The rule (PRICE_RULE): for each device, each provider's cheapest on-demand whole-instance offer per
device-hour (an instance's hourly price, host included, divided by its devices; a TPU slice or per-chip price),
over its regions; the planning price is the median of those provider prices (the lower middle one when there
are two or four), so one provider's odd line does not decide which setup wins. Accelerator-only lines (GCP bills
the VM on top) are listed, never used. A price older than PRICE_MAX_AGE_DAYS, or undated, is flagged stale wherever it is shown.

A price file is checked cell by cell; a file with any bad row is refused whole, every problem named as
FILE:ROW: column: what is wrong (expected ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd

from hwplan.core import paths
from hwplan.core.errors import HwplanError, Problem, UnknownIdError, ValidationError

PRICE_COLUMNS = ("provider", "instance_type", "device", "accelerator_name", "devices_per_instance", "vcpus",
                 "memory_gib", "region", "pricing", "usd_per_hour", "scope", "price_date", "source", "notes")
PRICE_REQUIRED = ("provider", "instance_type", "devices_per_instance", "region", "pricing", "usd_per_hour", "scope",
                  "source")
PRICINGS = ("on-demand", "spot", "1-year", "3-year")
SCOPES = ("instance", "accelerator-only", "per-chip")
USED_SCOPES = ("instance", "per-chip")
PRICE_MAX_AGE_DAYS = 365
PRICE_RULE = ("the median over providers of each provider's cheapest on-demand whole-instance offer per "
              "device-hour (instance price, host included, / devices per instance; TPU slices and per-chip prices as "
              "sold; the lower middle one for an even count) in data/prices.csv; accelerator-only lines are never used")
MAX_USD_PER_HOUR = 10_000.0   # no instance costs more: a larger number is a typo (cents, a yearly price)


def _problems_of(df: pd.DataFrame, file: str) -> list[Problem]:
    out = [Problem(file, 0, c, "required column is missing") for c in PRICE_REQUIRED if c not in df.columns]
    if out:
        return out
    for i, r in df.iterrows():
        line = int(i) + 2
        for c in PRICE_REQUIRED:
            if str(r.get(c, "")).strip() == "":
                out.append(Problem(file, line, c, "is empty", "a value"))
        v = _float(r.get("usd_per_hour"))
        if str(r.get("usd_per_hour", "")).strip() and not (v is not None and 0 < v <= MAX_USD_PER_HOUR):
            out.append(Problem(file, line, "usd_per_hour", f"{str(r.get('usd_per_hour'))[:40]!r} is not a price",
                               f"a number > 0 and <= {MAX_USD_PER_HOUR:,.0f} USD per hour for the whole instance"))
        n = _float(r.get("devices_per_instance"))
        if str(r.get("devices_per_instance", "")).strip() and not (n is not None and n >= 1 and n == int(n) and n <= 1e5):
            out.append(Problem(file, line, "devices_per_instance", f"{str(r.get('devices_per_instance'))[:40]!r} "
                               "is not a device count", "a whole number >= 1"))
        for c, allowed in (("pricing", PRICINGS), ("scope", SCOPES)):
            x = str(r.get(c, "")).strip()
            if x and x not in allowed:
                out.append(Problem(file, line, c, f"{x[:40]!r} is not known", "one of " + ", ".join(allowed)))
        d = str(r.get("price_date", "") or "").strip()
        if d:
            try:
                date.fromisoformat(d)
            except ValueError:
                out.append(Problem(file, line, "price_date", f"{d[:40]!r} is not a date", "YYYY-MM-DD or empty"))
    return out


def _float(x) -> float | None:
    try:
        v = float(str(x).strip())
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def read_prices(path: str | Path, known_devices: set[str] | None = None) -> pd.DataFrame:
    """A price file, checked: every problem at once, nothing returned when any row is bad."""
    p = Path(path)
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValidationError([Problem(p.name, 0, "file", f"cannot be read as CSV ({str(exc)[:120]})",
                                       "a CSV with columns " + ", ".join(PRICE_REQUIRED))]) from None
    problems = _problems_of(df, p.name)
    if known_devices is not None and "device" in df:
        for i, dev in enumerate(df["device"]):
            if str(dev).strip() and str(dev).strip() not in known_devices:
                problems.append(Problem(p.name, i + 2, "device", f"{str(dev)[:60]!r} is not in the catalog",
                                        "a catalog id (hwplan catalog list) or empty"))
    if problems:
        raise ValidationError(problems, f"{len(problems)} problem(s) in the price file {p.name}; nothing was stored or used")
    for c in PRICE_COLUMNS:
        if c not in df:
            df[c] = ""
    df["usd_per_hour"] = df["usd_per_hour"].astype(float)
    df["devices_per_instance"] = df["devices_per_instance"].astype(float).astype(int)
    df["usd_per_device_hour"] = df["usd_per_hour"] / df["devices_per_instance"]
    return df


@lru_cache(maxsize=4)
def _shipped(path: str, mtime: float) -> pd.DataFrame:
    return read_prices(path)


def load_prices(path: str | Path | None = None) -> pd.DataFrame:
    """The price catalog (the shipped data/prices.csv unless a path is given)."""
    p = Path(path or paths.PRICES_CSV)
    if not p.exists():
        raise HwplanError(f"{p}: no such price file")
    return _shipped(str(p), p.stat().st_mtime).copy()


def age_days(price_date: str, today: date | None = None) -> float | None:
    if not str(price_date or "").strip():
        return None
    try:
        return float(((today or date.today()) - date.fromisoformat(str(price_date).strip())).days)
    except ValueError:
        return None


def is_stale(price_date: str, today: date | None = None) -> bool:
    """Older than PRICE_MAX_AGE_DAYS, or undated."""
    a = age_days(price_date, today)
    return a is None or a > PRICE_MAX_AGE_DAYS


@dataclass(frozen=True)
class DevicePrice:
    device: str
    usd_per_device_hour: float
    provider: str
    instance_type: str
    region: str
    price_date: str
    stale: bool
    source: str

    def label(self) -> str:
        """'aws p5.48xlarge us-east-1, 2026-01-21' (+ ' (stale)')."""
        when = self.price_date or "undated"
        return (f"{self.provider} {self.instance_type} {self.region}, {when}" + (" (stale)" if self.stale else ""))


def device_prices(prices: pd.DataFrame | None = None, pricing: str = "on-demand",
                  today: date | None = None) -> dict[str, DevicePrice]:
    """Per device, the price PRICE_RULE picks (for `pricing`; on-demand unless asked)."""
    df = load_prices() if prices is None else prices
    ok = (df["device"].astype(str).str.strip() != "") & df["scope"].isin(USED_SCOPES) & (df["pricing"] == pricing)
    out: dict[str, DevicePrice] = {}
    sub = df[ok].sort_values(["device", "usd_per_device_hour", "price_date"], ascending=[True, True, False])
    cheapest = sub.drop_duplicates(["device", "provider"])          # each provider's cheapest offer
    for dev, g in cheapest.groupby("device", sort=False):
        g = g.sort_values(["usd_per_device_hour", "provider"])
        r = g.iloc[(len(g) - 1) // 2]                                 # the (lower) median provider
        out[str(dev)] = DevicePrice(device=str(dev), usd_per_device_hour=float(r["usd_per_device_hour"]),
                                    provider=str(r["provider"]), instance_type=str(r["instance_type"]),
                                    region=str(r["region"]), price_date=str(r["price_date"] or ""),
                                    stale=is_stale(str(r["price_date"] or ""), today), source=str(r["source"]))
    return out


# ---- regional carbon intensity --------------------------------------------------------------------------------

DEFAULT_REGION = "us-grid:average"


@lru_cache(maxsize=2)
def _carbon(path: str, mtime: float) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df["kg_co2_per_kwh"] = df["kg_co2_per_kwh"].astype(float)
    return df.set_index("region_id", drop=False)


def carbon_regions() -> pd.DataFrame:
    p = paths.CARBON_CSV
    return _carbon(str(p), p.stat().st_mtime).copy()


def carbon_of(region: str) -> float:
    """kg CO2 per kWh of a region id (data/carbon_intensity.csv); an unknown id names the closest ones."""
    table = carbon_regions()
    if region not in table.index:
        raise UnknownIdError("region", str(region), table.index)
    return float(table.loc[region, "kg_co2_per_kwh"])
