"""A short Markdown summary to paste into chat or email: the recommendation, its figures, the
top setups and the assumptions. User text is escaped so it cannot add links, images or markup."""

from __future__ import annotations

import re

from hwplan.app.reports.model import Snapshot
from hwplan.app.reports.summary import build_summary, duration_h, month_cost, pricing, run_cost, training_layout
from hwplan.app.reports.text import cell, setup_label
from hwplan.core import fmt

# Enough to stop emphasis, code, links, images, HTML and table breaks; plain punctuation stays readable.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
TOP = 5


def md(text: object) -> str:
    """Markdown-escape one line of text (newlines become spaces)."""
    s = " ".join(str("" if text is None else text).split())
    return _MD_SPECIAL.sub(r"\\\1", s)


def _table(cols: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(md(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(md(c) for c in r) + " |" for r in rows]
    return out


def render_markdown(snap: Snapshot) -> str:
    s = build_summary(snap)
    lines = [f"## {md(s.title)}", "", f"_{md(s.subtitle)}_", "", f"**{md(s.headline)}**", ""]
    if s.why:
        lines += [md(s.why), ""]
    for label, value in s.figures:
        lines.append(f"- {md(label)}: **{md(value)}**")
    for t in s.targets:
        interval = f" (80% interval {md(t['80% interval'])})" if "80% interval" in t else ""
        lines.append(f"- {md(t['measure'])}: {md(t['estimate'])}{interval} "
                     f"against target {md(t['target'])}: {md(t['verdict'])}")
    lines.append("")
    if s.tco:
        lines.append("**Total cost of ownership of the recommendation**")
        lines.append("")
        lines += _table(list(s.tco[0]), [list(r.values()) for r in s.tco])
        lines.append("")
    for label, value in s.cost_basis:
        lines.append(f"- {md(label)}: " + (f"**{md(value)}**" if label == "Cloud price" and s.price_stale else md(value)))
    if s.cost_basis:
        lines.append("")
    rows = snap.plan.ranked if snap.plan else snap.estimates
    if rows and s.training:
        lines.append(f"**Top setups** ({pricing(snap)} pricing)")
        lines.append("")
        lines += _table(["#", "setup", "time to train", "device-hours", "$ / run", "kWh / run", "CO₂ / run", "layout"],
                        [[str(i + 1), setup_label(r), duration_h(r.get("time_to_train_h")), fmt.count(r.get("device_hours")),
                          fmt.usd(run_cost(r, snap)), fmt.kwh(r.get("energy_kwh_per_run")),
                          fmt.co2(r.get("co2_kg_per_run")), training_layout(r)] for i, r in enumerate(rows[:TOP])])
        lines.append("")
    elif rows:
        unit = s.unit
        lines.append(f"**Top setups** ({pricing(snap)} pricing)")
        lines.append("")
        lines += _table(["#", "setup", "throughput", "80% interval", "basis", "$ / month", "kWh / month", "CO₂ / month"],
                        [[cell(r.get("rank", i + 1)), setup_label(r), fmt.rate(r.get("throughput"), unit),
                          fmt.interval(r.get("low"), r.get("high")), str(r.get("basis") or ""),
                          fmt.usd(month_cost(r, snap)), fmt.kwh(r.get("energy_kwh_per_month")),
                          fmt.co2(r.get("co2_kg_per_month"))] for i, r in enumerate(rows[:TOP])])
        lines.append("")
    if s.runners_up:
        lines.append("**Why not the others**")
        lines += [f"- {md(r['setup'])}: {md(r['why it lost'])}" for r in s.runners_up]
        lines.append("")
    if s.risks:
        lines.append("**Risks**")
        lines += [f"- {md(r)}" for r in s.risks]
        lines.append("")
    if s.assumptions:
        lines.append("**Assumptions:** " + "; ".join(f"{md(k)} {md(v)}" for k, v in s.assumptions))
        lines.append("")
    lines.append(f"_hwplan report saved {md(snap.created_at)}; catalog "
                 f"{md(str(snap.versions.get('catalog_sha256', ''))[:12])}, data {md(snap.versions.get('data_version', ''))}_")
    return "\n".join(lines) + "\n"
