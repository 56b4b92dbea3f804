"""The PDF: page 1 is the manager's summary, detail follows (charts, then every table).

Text goes in as plain strings (fpdf2 interprets no markup unless asked, and we never ask), so a
title is printed as typed. DejaVu Sans carries non-Latin text; without it the core Helvetica font
is used and characters outside Latin-1 are replaced. Charts are drawn by kaleido through the
system's chromium; when that fails the PDF still builds and says why the charts were left out.
"""

from __future__ import annotations

import io
import json
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from hwplan.app.reports.detail import Table, detail_tables
from hwplan.app.reports.model import Chart, Snapshot
from hwplan.app.reports.summary import Summary, build_summary

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"), Path("/usr/local/share/fonts"))
BLUE = (33, 102, 172)
GREY = (85, 85, 85)
STALE = (178, 24, 43)  # a stale price (palette.WARNING)
_LATIN1 = str.maketrans({"–": "-", "—": "-", "−": "-", "×": "x", "₂": "2", "…": "...", "≥": ">=", "≤": "<=",
                         "’": "'", "‘": "'", "“": '"', "”": '"', "→": "->", "•": "-"})
_kaleido_lock = threading.Lock()

ImageFn = Callable[[list[Chart]], list[bytes]]


def find_font() -> tuple[Path, Path] | None:
    for d in FONT_DIRS:
        regular, bold = d / "DejaVuSans.ttf", d / "DejaVuSans-Bold.ttf"
        if regular.is_file():
            return regular, bold if bold.is_file() else regular
    return None


def chart_images(charts: list[Chart], width: int = 1000, height: int = 460) -> list[bytes]:
    """PNG of each saved figure, through kaleido and the system's chromium; raises when it cannot."""
    import kaleido
    import plotly.io as pio

    figs = [pio.from_json(json.dumps(c.figure), skip_invalid=True) for c in charts]
    out = []
    with _kaleido_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kaleido.start_sync_server(silence_warnings=True)
        try:
            for f in figs:
                out.append(f.to_image(format="png", width=width, height=height, scale=1.6))
        finally:
            kaleido.stop_sync_server(silence_warnings=True)
    return out


class _Doc(FPDF):
    def __init__(self, title: str, font: tuple[Path, Path] | None):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.report_title = title
        self.unicode = font is not None
        if font:
            self.add_font("DejaVu", "", str(font[0]))
            self.add_font("DejaVu", "B", str(font[1]))
            self.fam = "DejaVu"
        else:
            self.fam = "helvetica"
        self.set_auto_page_break(True, margin=14)
        self.set_margins(14, 14, 14)

    def tx(self, text: object) -> str:
        s = "" if text is None else str(text)
        return s if self.unicode else s.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(self.fam, "", 7)
        self.set_text_color(*GREY)
        self.cell(0, 5, self.tx(f"{self.report_title}  ·  page {self.page_no()}/{{nb}}" if self.unicode
                               else f"{self.report_title}  -  page {self.page_no()}/{{nb}}"), align="C")
        self.set_text_color(0, 0, 0)

    def heading(self, text: str, size: float = 12) -> None:
        self.set_font(self.fam, "B", size)
        self.set_text_color(*BLUE)
        self.multi_cell(0, size * 0.5, self.tx(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)
        self.ln(1)

    def para(self, text: str, size: float = 9, bold: bool = False, colour=(0, 0, 0)) -> None:
        self.set_font(self.fam, "B" if bold else "", size)
        self.set_text_color(*colour)
        self.multi_cell(0, size * 0.48, self.tx(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)

    def grid(self, columns: list[str], rows: list[list[str]], size: float = 8, widths: list[float] | None = None) -> None:
        if not rows:
            return
        self.set_font(self.fam, "", size)
        kw = dict(text_align="LEFT", line_height=size * 0.47, padding=0.8, first_row_as_headings=True,
                  headings_style=_heading_style(self.fam, size))
        if widths and len(widths) == len(columns):
            kw["col_widths"] = tuple(widths)
        with super().table(**kw) as t:
            t.row([self.tx(c) for c in columns])
            for r in rows:
                t.row([self.tx(c) for c in r])
        self.ln(2)


def _heading_style(family: str, size: float):
    return FontFace(family=family, emphasis="BOLD", size_pt=size, fill_color=(235, 240, 246))


def _dict_rows(rows: list[dict[str, str]]) -> tuple[list[str], list[list[str]]]:
    cols = list(rows[0]) if rows else []
    return cols, [[r.get(c, "") for c in cols] for r in rows]


def _summary_page(pdf: _Doc, s: Summary) -> None:
    pdf.add_page()
    pdf.heading(s.title, 17)
    pdf.para(s.subtitle, 8.5, colour=GREY)
    pdf.ln(2)
    pdf.set_fill_color(238, 244, 251) if s.feasible else pdf.set_fill_color(253, 240, 239)
    pdf.set_font(pdf.fam, "B", 10)
    pdf.multi_cell(0, 5, pdf.tx(s.headline), align="L", fill=True, padding=2, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    if s.why:
        pdf.para(s.why, 7.8, colour=GREY)
    pdf.ln(1)
    if s.bom:
        pdf.heading("Bill of materials", 11)
        pdf.grid(*_dict_rows(s.bom), size=8.5, widths=[3, 2.2, 0.8, 0.8, 1.1, 1])
    if s.figures:
        heading = "Time, cost, energy and CO₂ per run" if s.training else "Cost, energy and CO₂"
        pdf.heading(heading if pdf.unicode else heading.replace("CO₂", "CO2"), 11)
        half = (len(s.figures) + 1) // 2
        left, right = s.figures[:half], s.figures[half:]
        rows = [[a[0], a[1], *(right[i] if i < len(right) else ("", ""))] for i, a in enumerate(left)]
        value = "per run / value" if s.training else "per month / value"
        pdf.grid(["measure", value, "measure", value], rows, size=8.5, widths=[1.3, 1.2, 1.3, 1.2])
    if s.tco:
        pdf.heading("Total cost of ownership of the recommendation", 11)
        pdf.grid(*_dict_rows(s.tco), size=7.5, widths=[2, 1.2, 1.2])
    for label, value in s.cost_basis:
        stale = label == "Cloud price" and s.price_stale
        pdf.para(f"{label}: {value}", 7.5, bold=stale, colour=STALE if stale else (0, 0, 0))
    if s.targets:
        pdf.heading("Against the target", 11)
        pdf.grid(*_dict_rows(s.targets), size=8, widths=[1, 1.2, 1.2, 1.6, 2])
    if s.runners_up:
        pdf.heading("Runner-up options and why they lost" if s.feasible else "Nearest setups and what they break", 11)
        pdf.grid(*_dict_rows(s.runners_up), size=7.5, widths=[1.6, 0.9, 0.9, 3.6])  # setup, two figures, why
    if s.risks:
        pdf.heading("Main risks and assumptions", 11)
        bullet = "•" if pdf.unicode else "-"
        for r in s.risks:
            pdf.para(f"{bullet} {r}", 7.8)
        if s.assumptions:
            pdf.para("Assumptions: " + "; ".join(f"{k} {v}" for k, v in s.assumptions) + ". Sources and detail follow.", 7.8)


def _charts(pdf: _Doc, snap: Snapshot, image_fn: ImageFn | None) -> str:
    """Draw the saved charts; returns why they were left out, or ''."""
    if not snap.charts:
        return ""
    try:
        images = (image_fn or chart_images)(snap.charts)
    except Exception as exc:
        reason = f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'}"[:300]
        pdf.para(f"Charts left out: {reason}. The tables below hold every number the charts would show.", 9, colour=GREY)
        return reason
    for i, (chart, png) in enumerate(zip(snap.charts, images)):
        if i and i % 2 == 0:
            pdf.add_page()
        pdf.para(chart.title, 10, bold=True)
        pdf.image(io.BytesIO(png), w=pdf.epw)
        pdf.ln(3)
    return ""


def render_pdf(snap: Snapshot, image_fn: ImageFn | None = None, charts: bool = True) -> bytes:
    """The report as PDF bytes. `image_fn` turns charts into PNGs (default: kaleido)."""
    s = build_summary(snap)
    pdf = _Doc(snap.title, find_font())
    pdf.set_title(pdf.tx(snap.title))
    pdf.set_author(pdf.tx(snap.author))
    pdf.set_creator("hwplan report")
    pdf.alias_nb_pages()
    _summary_page(pdf, s)
    pdf.add_page()
    pdf.heading("Detail", 15)
    if charts:
        _charts(pdf, snap, image_fn)
    elif snap.charts:
        pdf.para("Charts left out: not requested. The tables below hold every number the charts would show.", 9, colour=GREY)
    pdf.add_page(orientation="L")  # the tables are wide: the rest of the report is landscape
    for t in detail_tables(snap):
        _detail_table(pdf, t)
    return bytes(pdf.output())


def _detail_table(pdf: _Doc, t: Table) -> None:
    if pdf.will_page_break(20):
        pdf.add_page(orientation=pdf.cur_orientation)
    pdf.heading(t.title, 11)
    size = 6.2 if t.wide else 7.5
    pdf.grid(t.columns, t.rows, size=size, widths=t.widths or None)
    if t.note:
        pdf.para(t.note, 7, colour=GREY)
    pdf.ln(2)
