"""The one number formatter: SI values in, text a person reads out (CLI, dashboard, reports, explanations).

Three significant digits, thousands separators, trailing zeros dropped, never scientific notation, a unit
scaled to the size of the value (W / kW / MW, µs / ms / s, kWh / MWh, kg / t). Missing values (None, NaN,
inf, text that is not a number) print as an en dash.
"""

from __future__ import annotations

import math

MISSING = "–"


def num(x: object) -> float | None:
    """A finite float, or None (bools are not numbers here)."""
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def number(x: object, digits: int = 3) -> str:
    """12345.6 -> '12,300'; 4.988 -> '4.99'; 3.2 -> '3.2'; 0.012345 -> '0.0123'; 0 -> '0'."""
    v = num(x)
    if v is None:
        return MISSING
    if v == 0:
        return "0"
    digits = max(1, int(digits))
    mag = math.floor(math.log10(abs(v)))
    if mag >= digits - 1:
        rounded = round(v, -(mag - digits + 1))
        return f"{rounded:,.0f}"
    decimals = digits - 1 - mag
    text = f"{v:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def count(x: object) -> str:
    """A whole number with separators: 1024 -> '1,024'."""
    v = num(x)
    return MISSING if v is None else f"{round(v):,d}"


def rate(x: object, unit: str) -> str:
    """'12,300 samples/s'."""
    v = num(x)
    return MISSING if v is None else f"{number(v)} {unit}"


def interval(low: object, high: object, unit: str = "") -> str:
    """'980–1,240 samples/s'."""
    lo, hi = num(low), num(high)
    if lo is None or hi is None:
        return MISSING
    return f"{number(lo)}–{number(hi)} {unit}".rstrip()


def usd(x: object, per: str = "") -> str:
    """'$12,345 / month'; cents kept below $10; three significant digits below $1; nothing is '$0'."""
    v = num(x)
    if v is None:
        return MISSING
    a = abs(v)
    body = "0" if a == 0 else number(a) if a < 1 else f"{a:,.2f}" if a < 10 else f"{a:,.0f}"
    text = ("-$" if v < 0 else "$") + body
    return f"{text} / {per}" if per else text


def kw(x_kw: object) -> str:
    """Power given in kW: '72 W', '3.2 kW', '1.23 MW'."""
    v = num(x_kw)
    if v is None:
        return MISSING
    a = abs(v)
    if a < 1:
        return f"{number(v * 1000)} W"
    if a < 1000:
        return f"{number(v)} kW"
    return f"{number(v / 1000)} MW"


def watts(x_w: object) -> str:
    """Power given in W."""
    v = num(x_w)
    return MISSING if v is None else kw(v / 1000)


def kwh(x: object) -> str:
    """Energy given in kWh: '12.3 kWh', '1.23 MWh', '4.5 GWh'."""
    v = num(x)
    if v is None:
        return MISSING
    a = abs(v)
    if a >= 1e6:
        return f"{number(v / 1e6)} GWh"
    if a >= 1e3:
        return f"{number(v / 1e3)} MWh"
    return f"{number(v)} kWh"


def co2(x_kg: object) -> str:
    """Mass of CO2 given in kg: '123 kg', '1.23 t'."""
    v = num(x_kg)
    if v is None:
        return MISSING
    return f"{number(v / 1000)} t" if abs(v) >= 1000 else f"{number(v)} kg"


def seconds(x_s: object) -> str:
    """A duration given in s: '740 µs', '250 ms', '1.5 s', '3.2 h', '12 days'."""
    v = num(x_s)
    if v is None:
        return MISSING
    a = abs(v)
    if a == 0:
        return "0 s"
    if a < 1e-3:
        return f"{number(v * 1e6)} µs"
    if a < 1:
        return f"{number(v * 1e3)} ms"
    if a < 3600:
        return f"{number(v)} s"
    if a < 3 * 86400:
        return f"{number(v / 3600)} h"
    return f"{number(v / 86400)} days"


def ms(x_s: object) -> str:
    """A duration given in s, always in milliseconds: '12.3 ms'."""
    v = num(x_s)
    return MISSING if v is None else f"{number(v * 1e3)} ms"


def pct(x: object, signed: bool = False) -> str:
    """A fraction as a percentage: 0.123 -> '12%'; signed: '+12%'."""
    v = num(x)
    if v is None:
        return MISSING
    return f"{v * 100:+.0f}%" if signed else f"{v * 100:.0f}%"


def per_unit(unit: str) -> str:
    """'samples/s' -> 'sample', 'tokens/s' -> 'token'."""
    base = unit.split("/")[0]
    return base[:-1] if base.endswith("s") else base


def duration(x_s: object) -> str:
    """A run's length given in s: '45 s', '13.5 min', '3.2 h', '12 days' (minutes between 2 min and 1 h)."""
    v = num(x_s)
    if v is None:
        return MISSING
    if 120 <= abs(v) < 3600:
        return f"{number(v / 60)} min"
    return seconds(v)


def percent(x: object) -> str:
    """A fraction as a percentage: 0.4123 -> '41.2%'."""
    v = num(x)
    return MISSING if v is None else f"{number(v * 100)}%"


def cost_gap(cost: object, next_cost: object) -> str:
    """How much cheaper a setup is than the next one, relative to the next one's cost (so never over 100%):
    (100, 125) -> '20% below the next'; within half a percent -> 'the same cost as the next'."""
    c, r = num(cost), num(next_cost)
    if c is None or r is None or r <= 0:
        return "the same cost as the next"
    gap = min(max((r - c) / r, -1.0), 1.0)
    if abs(gap) < 0.005:
        return "the same cost as the next"
    if gap < 0:
        return f"{-gap:.0%} above the next"
    return f"{gap:.0%} below the next"


def compact(x: object, unit: str = "") -> str:
    """A number for a narrow table cell: 15500 -> '15.5k', 2.3e6 -> '2.3M', 0.42 -> '0.42' (never e-notation)."""
    v = num(x)
    if v is None:
        return MISSING
    a = abs(v)
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= scale * 0.9995:
            text = number(v / scale) + suffix
            break
    else:
        text = number(v)
    return f"{text} {unit}".rstrip()
