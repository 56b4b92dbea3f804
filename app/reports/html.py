"""One self-contained HTML file: summary first, detail after, interactive charts, no network use.

plotly.js is inlined verbatim. Its source holds web addresses of its own (map tiles, fonts, docs)
that only map and geo traces use; reports draw none. A Content-Security-Policy of
`default-src 'none'` makes the browser refuse any request the page might still attempt. The
report's own markup holds no URL: citation addresses are printed as plain text without their
scheme (`https://`), never as links.
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache

from hwplan.app.reports.detail import Table, detail_tables
from hwplan.app.reports.snapshot import Snapshot
from hwplan.app.reports.summary import Summary, build_summary

CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data: blob:; font-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'")
PLOTLYJS_BEGIN = "<!-- plotly.js (verbatim) -->"
PLOTLYJS_END = "<!-- /plotly.js -->"
_SCHEME = re.compile(r"(?i)\b[a-z][a-z0-9+.\-]{1,15}://")
_PROTOCOL_RELATIVE = re.compile(r"(?<![\w/])//(?=[\w.-]+\.[a-z]{2,})", re.I)

CSS = """
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;color:#1a1a1a;max-width:1150px;margin:24px auto;padding:0 16px;line-height:1.4}
h1{font-size:1.7em;margin:0 0 4px}h2{font-size:1.25em;border-bottom:2px solid #2166ac;padding-bottom:2px;margin-top:28px}
h3{font-size:1.05em;margin:18px 0 6px}.sub{color:#555;margin:0 0 12px}
.headline{font-size:1.15em;background:#eef4fb;border-left:5px solid #2166ac;padding:10px 14px;margin:12px 0}
.headline.bad{background:#fdf0ef;border-left-color:#b2182b}
.figs{display:grid;grid-template-columns:repeat(3,1fr);gap:8px;margin:10px 0}
.fig{border:1px solid #d0d7de;border-radius:4px;padding:8px}.fig .l{color:#555;font-size:.85em}.fig .v{font-size:1.2em;font-weight:bold}
table{border-collapse:collapse;margin:6px 0 4px;font-size:.88em;width:100%}th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f5f8}table.wide{font-size:.76em}.note{color:#555;font-size:.82em;margin:2px 0 10px}
td{overflow-wrap:break-word}.chart{min-height:420px;border:1px solid #eee;margin:8px 0}
footer{color:#777;font-size:.8em;margin-top:30px;border-top:1px solid #ddd;padding-top:6px}
@media print{.chart{page-break-inside:avoid}h2{page-break-after:avoid}.detail{page-break-before:always}}
"""


def esc(value: object) -> str:
    """Escape text for HTML and print any web address as plain text without its scheme."""
    text = "" if value is None else str(value)
    text = _SCHEME.sub("", text)
    text = _PROTOCOL_RELATIVE.sub("", text)
    return html.escape(text, quote=True)


def _json_for_script(obj: object) -> str:
    """JSON safe inside <script>: no '<', '>' or '&' survives, so no text can close the element."""
    return (json.dumps(obj, separators=(",", ":"), allow_nan=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


@lru_cache(maxsize=1)
def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _table(t: Table) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in t.columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in t.rows)
    note = f'<p class="note">{esc(t.note)}</p>' if t.note else ""
    cls = ' class="wide"' if t.wide else ""
    return f"<h3>{esc(t.title)}</h3><table{cls}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"


def _dict_table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    return _table(Table("", cols, [[r.get(c, "") for c in cols] for r in rows])).replace("<h3></h3>", "", 1)


def summary_html(s: Summary) -> str:
    parts = [f'<div class="headline{"" if s.feasible else " bad"}">{esc(s.headline)}</div>']
    if s.why:
        parts.append(f'<p class="why">{esc(s.why)}</p>')
    if s.bom:
        parts.append("<h3>Bill of materials</h3>" + _dict_table(s.bom))
    if s.figures:
        parts.append('<div class="figs">' + "".join(
            f'<div class="fig"><div class="l">{esc(label)}</div><div class="v">{esc(v)}</div></div>' for label, v in s.figures) + "</div>")
    if s.targets:
        parts.append("<h3>Against the target</h3>" + _dict_table(s.targets))
    if s.runners_up:
        parts.append(("<h3>Runner-up options and why they lost</h3>" if s.feasible else
                      "<h3>Nearest setups and what they break</h3>") + _dict_table(s.runners_up))
    if s.risks:
        parts.append("<h3>Main risks</h3><ul>" + "".join(f"<li>{esc(r)}</li>" for r in s.risks) + "</ul>")
    if s.assumptions:
        parts.append("<h3>Main assumptions</h3><p>" + "; ".join(f"{esc(k)}: <b>{esc(v)}</b>" for k, v in s.assumptions)
                     + " (sources in the detail).</p>")
    return "\n".join(parts)


def render_html(snap: Snapshot) -> str:
    """The whole report as one HTML document that needs nothing else."""
    s = build_summary(snap)
    charts = []
    for i, c in enumerate(snap.charts):
        charts.append(f'<h3>{esc(c.title)}</h3><div class="chart" id="chart-{i}"></div>'
                      f'<script type="application/json" id="chart-{i}-data">{_json_for_script(c.figure)}</script>')
    tables = "\n".join(_table(t) for t in detail_tables(snap))
    draw = ""
    if snap.charts:
        draw = ("<script>(function(){var cfg={displaylogo:false,responsive:true,showLink:false,showSendToCloud:false,"
                "showEditInChartStudio:false,modeBarButtonsToRemove:['sendDataToCloud']};"
                f"for(var i=0;i<{len(snap.charts)};i++){{var f=JSON.parse(document.getElementById('chart-'+i+'-data').textContent);"
                "Plotly.newPlot('chart-'+i,f.data||[],f.layout||{},cfg);}})();</script>")
    plotly = f"{PLOTLYJS_BEGIN}<script>{plotly_js()}</script>{PLOTLYJS_END}" if snap.charts else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(snap.title)}</title>
<style>{CSS}</style>
{plotly}
</head><body>
<header><h1>{esc(snap.title)}</h1><p class="sub">{esc(s.subtitle)}</p></header>
<section class="summary"><h2>Summary</h2>
{summary_html(s)}
</section>
<section class="detail"><h2>Detail</h2>
{"".join(charts) if charts else '<p class="note">No charts in this report.</p>'}
{tables}
</section>
<footer>hwplan report, a snapshot saved {esc(snap.created_at)}; catalog sha256 {esc(str(snap.versions.get("catalog_sha256", ""))[:16])},
data version {esc(snap.versions.get("data_version", ""))}. Web addresses in citations are printed as plain text without
their scheme; this file loads nothing from the network.</footer>
{draw}
</body></html>
"""
