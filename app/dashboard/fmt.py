"""Display formatting: SI values in, text a person reads out. Only place units are converted."""

from __future__ import annotations

import math

_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def _missing(x) -> bool:
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return True


def si(x, unit: str = "", digits: int = 3) -> str:
    """1234567 -> '1.23 M' + unit; small values keep significant digits."""
    if _missing(x):
        return "–"
    v = float(x)
    for scale, prefix in _PREFIXES:
        if abs(v) >= scale:
            return f"{v / scale:.{digits}g} {prefix}{unit}".rstrip()
    return f"{v:.{digits}g} {unit}".rstrip()


def rate(x, unit: str = "samples/s") -> str:
    """Throughput with its unit: '1.2 M tokens/s'."""
    if _missing(x):
        return "–"
    v = float(x)
    for scale, prefix in _PREFIXES:
        if abs(v) >= scale:
            return f"{v / scale:.3g} {prefix} {unit}"
    return f"{v:,.3g} {unit}" if v < 100 else f"{v:,.0f} {unit}"


def usd(x, per: str = "") -> str:
    """'$12,345 / month'; cents kept below $10."""
    if _missing(x):
        return "–"
    v = float(x)
    if v != 0 and abs(v) < 1:
        text = f"${v:.3g}"
    else:
        text = f"${v:,.2f}" if abs(v) < 10 else f"${v:,.0f}"
    return f"{text} / {per}" if per else text


def kw(x_kw) -> str:
    if _missing(x_kw):
        return "–"
    v = float(x_kw)
    return f"{v * 1000:,.0f} W" if v < 1 else f"{v:,.3g} kW" if v < 1000 else f"{v / 1000:,.3g} MW"


def seconds(x_s) -> str:
    if _missing(x_s):
        return "–"
    v = float(x_s)
    if v < 1e-3:
        return f"{v * 1e6:.3g} µs"
    if v < 1:
        return f"{v * 1e3:.3g} ms"
    return f"{v:.3g} s"


def interval(low, high, unit: str) -> str:
    """'980–1,240 samples/s'."""
    if _missing(low) or _missing(high):
        return "–"
    return f"{_num(low)}–{_num(high)} {unit}"


def _num(x) -> str:
    v = float(x)
    for scale, prefix in _PREFIXES:
        if abs(v) >= scale:
            return f"{v / scale:.3g} {prefix}"
    return f"{v:,.3g}"


def number(x, digits: int = 3) -> str:
    return "–" if _missing(x) else f"{float(x):,.{digits}g}"


def pct(x) -> str:
    return "–" if _missing(x) else f"{float(x) * 100:.0f}%"


BASIS_COLOURS = {"measured": "green", "calibrated": "blue", "roofline": "orange"}
BASIS_HELP = {
    "measured": "this device and workload were measured (profiler, upload or published run)",
    "calibrated": "fitted from measurements of other devices of the same kind and generation",
    "roofline": "from the device's specs only; no measurement informs it",
}
