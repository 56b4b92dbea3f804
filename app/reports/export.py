"""A snapshot in one export format, as bytes ready to write or download."""

from __future__ import annotations

from hwplan.app.reports import FORMATS
from hwplan.app.reports.csvout import render_csv
from hwplan.app.reports.html import render_html
from hwplan.app.reports.markdown import render_markdown
from hwplan.app.reports.model import Snapshot
from hwplan.core.errors import HwplanError

__all__ = ["FORMATS", "render"]


def render(snap: Snapshot, fmt: str) -> bytes:
    if fmt == "html":
        return render_html(snap).encode("utf-8")
    if fmt == "pdf":
        from hwplan.app.reports.pdf import render_pdf  # fpdf2 and kaleido: the optional `pdf` extra

        return render_pdf(snap)
    if fmt == "md":
        return render_markdown(snap).encode("utf-8")
    if fmt == "csv":
        return render_csv(snap).encode("utf-8")
    raise HwplanError(f"format '{fmt}' is not known; use one of {', '.join(FORMATS)}")
