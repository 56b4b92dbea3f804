"""The CLI's one output layer: JSON for machines, rich tables and aligned fields for people.

Numbers are formatted by `hwplan.core.fmt`; nothing else in the CLI prints tables.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hwplan.core.fmt import MISSING


def emit_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=1, default=str)
    sys.stdout.write("\n")


def error(text: str) -> None:
    print(text, file=sys.stderr)


def fields(pairs: Iterable[tuple[str, str]], indent: int = 2) -> None:
    """Aligned 'label  value' lines."""
    pairs = list(pairs)
    width = max((len(k) for k, _ in pairs), default=0)
    for k, v in pairs:
        print(f"{' ' * indent}{k:<{width}}  {v}")


Column = tuple[str, str, Callable[[Any], str]]  # (key in each row, header, formatter)


def table(rows: Sequence[dict], columns: Sequence[Column], title: str | None = None) -> None:
    """A table with one line per row: never wrapped or cut, however narrow the terminal (a pipe gets it whole)."""
    import io

    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text  # a cell is text as given, never Rich markup ('[x]' stays '[x]')

    t = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", pad_edge=False, show_edge=False)
    for _, header, _ in columns:
        t.add_column(header, no_wrap=True, overflow="ignore")
    for r in rows:
        t.add_row(*(Text(f(r.get(k))) for k, _, f in columns))
    buf = io.StringIO()
    Console(file=buf, width=max(shutil.get_terminal_size((200, 40)).columns, 400), highlight=False,
            color_system=None).print(t)
    for line in buf.getvalue().splitlines():
        print(line.rstrip())


def text(x: Any) -> str:
    """A cell as text; a missing one (None, NaN, pd.NA, NaT) as the missing marker, as numbers print it."""
    return MISSING if is_missing(x) else str(x)


def is_missing(x: Any) -> bool:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return True
    pd = sys.modules.get("pandas")  # pandas' own missing values exist only once pandas is imported
    return pd is not None and bool(pd.api.types.is_scalar(x) and pd.isna(x))
