"""Number formatting for reports: SI values in, text a manager reads out."""

from __future__ import annotations

import math
from typing import Any

DASH = "–"


def num(x: Any) -> float | None:
    """A finite float or None."""
    if isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def usd(x: Any, per: str = "") -> str:
    v = num(x)
    if v is None:
        return DASH
    text = f"${sig(v)}" if 0 < abs(v) < 1 else f"${v:,.2f}" if abs(v) < 10 else f"${v:,.0f}"
    return f"{text} / {per}" if per else text


def sig(x: Any, digits: int = 3) -> str:
    """Significant digits with thousands separators: 12,300 or 0.0123."""
    v = num(x)
    if v is None:
        return DASH
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    decimals = max(digits - 1 - mag, 0)
    rounded = round(v, -(mag - digits + 1)) if mag >= digits else v
    return f"{rounded:,.{decimals}f}"


def rate(x: Any, unit: str) -> str:
    v = num(x)
    return DASH if v is None else f"{sig(v)} {unit}"


def interval(low: Any, high: Any, unit: str = "") -> str:
    lo, hi = num(low), num(high)
    if lo is None or hi is None:
        return DASH
    return f"{sig(lo)}{DASH}{sig(hi)} {unit}".rstrip()


def ms(x_s: Any) -> str:
    v = num(x_s)
    if v is None:
        return DASH
    return f"{sig(v * 1e3)} ms"


def kwh(x: Any) -> str:
    v = num(x)
    if v is None:
        return DASH
    return f"{sig(v / 1000)} MWh" if abs(v) >= 100_000 else f"{sig(v)} kWh"


def co2(x_kg: Any) -> str:
    v = num(x_kg)
    if v is None:
        return DASH
    return f"{sig(v / 1000)} t" if abs(v) >= 1000 else f"{sig(v)} kg"


def kw(x: Any) -> str:
    v = num(x)
    if v is None:
        return DASH
    return f"{sig(v * 1000)} W" if abs(v) < 1 else f"{sig(v)} kW"


def pct(x: Any, signed: bool = False) -> str:
    v = num(x)
    if v is None:
        return DASH
    return f"{v * 100:+.0f}%" if signed else f"{v * 100:.0f}%"


def setup_label(row: dict) -> str:
    """'4 x nvidia-h100-sxm fp8'."""
    count = row.get("count", row.get("device_count"))
    parts = [f"{int(count)} x" if num(count) is not None else "", str(row.get("device") or "?"),
             str(row.get("precision") or "")]
    return " ".join(p for p in parts if p)


def cell(x: Any) -> str:
    """Any table cell as short text."""
    if x is None:
        return ""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return sig(x, 4) if math.isfinite(x) else ""
    if isinstance(x, (list, tuple)):
        return "; ".join(cell(v) for v in x)
    if isinstance(x, dict):
        return "; ".join(f"{k}={cell(v)}" for k, v in x.items())
    return str(x)
