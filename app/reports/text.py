"""Short texts the report renderers share: a setup's label and any table cell (numbers through hwplan.core.fmt)."""

from __future__ import annotations

import math
from typing import Any

from hwplan.core import fmt


def setup_label(row: dict) -> str:
    """'4 x nvidia-h100-sxm fp8'."""
    count = row.get("count", row.get("device_count"))
    parts = [f"{int(count)} x" if fmt.num(count) is not None else "", str(row.get("device") or "?"),
             str(row.get("precision") or "")]
    return " ".join(p for p in parts if p)


def cell(x: Any) -> str:
    """Any table cell as short text."""
    if x is None:
        return ""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return fmt.number(x, 4) if math.isfinite(x) else ""
    if isinstance(x, (list, tuple)):
        return "; ".join(cell(v) for v in x)
    if isinstance(x, dict):
        return "; ".join(f"{k}={cell(v)}" for k, v in x.items())
    return str(x)
