"""One self-contained HTML file: summary first, detail after, interactive charts, no network use.
Rendered from templates/report.html.j2 by Jinja2 with autoescape on.

plotly.js is inlined verbatim. Its source holds web addresses of its own (map tiles, fonts, docs)
that only map and geo traces use; reports draw none. A Content-Security-Policy of
`default-src 'none'` makes the browser refuse any request the page might still attempt. The
report's own markup holds no URL: citation addresses are printed as plain text without their
scheme (`https://`), never as links.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from hwplan.app import palette
from hwplan.app.reports.detail import detail_tables
from hwplan.app.reports.model import Snapshot
from hwplan.app.reports.summary import build_summary

CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "img-src data: blob:; font-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'")
PLOTLYJS_BEGIN = "<!-- plotly.js (verbatim) -->"
PLOTLYJS_END = "<!-- /plotly.js -->"
_SCHEME = re.compile(r"(?i)\b[a-z][a-z0-9+.\-]{1,15}://")
_PROTOCOL_RELATIVE = re.compile(r"(?<![\w/])//(?=[\w.-]+\.[a-z]{2,})", re.I)

CSS = """
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;color:#1a1a1a;max-width:1150px;margin:24px auto;padding:0 16px}
body{line-height:1.4}
h1{font-size:1.7em;margin:0 0 4px}h2{font-size:1.25em;border-bottom:2px solid ACCENT;padding-bottom:2px;margin-top:28px}
h3{font-size:1.05em;margin:18px 0 6px}.sub{color:#555;margin:0 0 12px}
.headline{font-size:1.15em;background:#eef4fb;border-left:5px solid ACCENT;padding:10px 14px;margin:12px 0}
.headline.bad{background:#fdf0ef;border-left-color:WARNING}
.figs{display:grid;grid-template-columns:repeat(3,1fr);gap:8px;margin:10px 0}
.fig{border:1px solid #d0d7de;border-radius:4px;padding:8px}.fig .l{color:#555;font-size:.85em}
.fig .v{font-size:1.2em;font-weight:bold}
table{border-collapse:collapse;margin:6px 0 4px;font-size:.88em;width:100%}
th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f5f8}table.wide{font-size:.76em}.note{color:#555;font-size:.82em;margin:2px 0 10px}
td{overflow-wrap:break-word}.chart{min-height:420px;border:1px solid #eee;margin:8px 0}
.stale{color:WARNING;font-weight:bold}ul.basis{font-size:.9em;margin:4px 0 10px}
footer{color:#777;font-size:.8em;margin-top:30px;border-top:1px solid #ddd;padding-top:6px}
@media print{.chart{page-break-inside:avoid}h2{page-break-after:avoid}.detail{page-break-before:always}}
""".replace("ACCENT", palette.ACCENT).replace("WARNING", palette.WARNING)


def plain(value: object) -> str:
    """A value as text with any web address printed without its scheme (escaping is the template's job)."""
    text = "" if value is None else str(value)
    text = _SCHEME.sub("", text)
    return _PROTOCOL_RELATIVE.sub("", text)


def _json_for_script(obj: object) -> str:
    """JSON safe inside <script>: no '<', '>' or '&' survives, so no text can close the element."""
    return (json.dumps(obj, separators=(",", ":"), allow_nan=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


@lru_cache(maxsize=1)
def plotly_js() -> str:
    return get_plotlyjs()


@lru_cache(maxsize=1)
def _template():
    env = Environment(loader=PackageLoader("hwplan.app.reports", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True), keep_trailing_newline=True)
    env.filters["plain"] = plain
    env.filters["to_script_json"] = lambda obj: Markup(_json_for_script(obj))
    return env.get_template("report.html.j2")


def render_html(snap: Snapshot) -> str:
    """The whole report as one HTML document that needs nothing else."""
    s = build_summary(snap)
    return _template().render(snap=snap, s=s, tables=detail_tables(snap), csp=CSP, css=CSS,
                              plotly_js=plotly_js() if snap.charts else "", plotly_begin=PLOTLYJS_BEGIN,
                              plotly_end=PLOTLYJS_END)
