"""Numbers for people: SI values stay SI in tables; these only format them for reading."""

from __future__ import annotations

import math


def human(value, digits: int = 3) -> str:
    """1234567 -> '1,234,567'; 4.988 -> '4.99'; 0.0123 -> '0.0123'; None/NaN -> 'n/a'. Never scientific."""
    if value is None:
        return "n/a"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v) or math.isinf(v):
        return "n/a"
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:,.{max(digits - 1, 0)}f}"
    if a == 0:
        return "0"
    return f"{v:.{digits}g}"
