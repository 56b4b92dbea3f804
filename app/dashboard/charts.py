"""Pure chart functions: a DataFrame in, a plotly Figure out. No Streamlit here, so every chart
is tested without a server. Values arrive in SI units; axis titles carry the display unit."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hwplan.app import palette
from hwplan.core import fmt


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 420) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0.0, xanchor="left"), height=height, template="plotly_white",
                      margin=dict(l=10, r=10, t=60, b=10), legend=dict(orientation="h", yanchor="top", y=-0.2, x=0),
                      hoverlabel=dict(namelength=-1))
    fig.update_xaxes(title_text=x)
    fig.update_yaxes(title_text=y)
    return fig


def log_axes(fig: go.Figure, x: bool = False, y: bool = False, money: bool = False) -> go.Figure:
    """Log axes labelled at 1-2-5 steps with SI suffixes (money: plain dollars, never 'm' for milli)."""
    for on, upd in ((x, fig.update_xaxes), (y, fig.update_yaxes)):
        if on:
            upd(type="log", dtick="D2", minor=dict(showgrid=False),
                **({"tickformat": ",.3~r", "tickprefix": "$"} if money else {"tickformat": "~s"}))
    return fig


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font=dict(size=14))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, "", "", height=300)


def setup_label(df: pd.DataFrame) -> pd.Series:
    """'4 × nvidia-h100-sxm · fp8 · b64'."""
    label = df["count"].astype(int).astype(str) + " × " + df["device"].astype(str)
    if "precision" in df:
        label = label + " · " + df["precision"].astype(str)
    if "batch_size" in df:
        b = pd.to_numeric(df["batch_size"], errors="coerce")
        label = label + np.where(b.notna(), " · b" + b.fillna(0).astype(int).astype(str), "")
    return label


def layout_label(df: pd.DataFrame) -> pd.Series:
    """An LLM setup's parallel layout: 'TP 2 × PP 1 × 4 replicas', with '× EP 2' for expert-parallel MoE layouts;
    '–' where the setup has none (a non-LLM workload)."""
    def one(r) -> str:
        tp, pp, reps = (fmt.num(r.get(k)) for k in ("tensor_parallel", "pipeline_parallel", "replicas"))
        if tp is None or pp is None or reps is None:
            return fmt.MISSING
        ep = fmt.num(r.get("expert_parallel"))
        text = f"TP {fmt.count(tp)} × PP {fmt.count(pp)}" + (f" × EP {fmt.count(ep)}" if ep and ep > 1 else "")
        return text + f" × {fmt.count(reps)} replica{'' if round(reps) == 1 else 's'}"

    return pd.Series([one(r) for r in df.to_dict("records")], index=df.index, dtype=object)


MEMORY_PARTS = (("weights_gb", "weights"), ("kv_cache_gb", "KV cache"), ("activations_gb", "activations"))


def memory_split_chart(row, capacity_gb: float | None = None, title: str = "Memory per replica") -> go.Figure:
    """One LLM setup's memory per replica (weights, KV cache, activations, GB) stacked, against the memory of the
    replica's devices. `row` is one row of a plan's ranked table (a mapping or Series)."""
    parts = [(label, fmt.num(row.get(key))) for key, label in MEMORY_PARTS]
    if all(v is None for _, v in parts):
        return _empty(title, "No memory split for this setup")
    fig = go.Figure()
    for i, (label, v) in enumerate(parts):
        fig.add_trace(go.Bar(x=[v or 0.0], y=["replica"], orientation="h", name=f"{label} {fmt.number(v)} GB",
                             marker_color=palette.series(i),
                             hovertemplate=f"{label}: %{{x:,.3~f}} GB<extra></extra>"))
    fig.update_layout(barmode="stack")
    cap = fmt.num(capacity_gb)
    if cap:
        fig.add_vline(x=cap, line=dict(color=palette.REFERENCE, dash="dash"),
                      annotation_text=f"device memory {fmt.number(cap)} GB", annotation_position="top left")
    fig.update_yaxes(visible=False)
    fig.update_xaxes(rangemode="tozero")
    fig = _layout(fig, title, "GB per replica", "", height=190 if not title else 230)
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0, traceorder="normal"),
                      margin=dict(t=70 if title else 30, b=10))
    return fig


def pareto_chart(ranked: pd.DataFrame, pareto: pd.DataFrame | None = None, demand: float | None = None,
                 unit: str = "samples/s") -> go.Figure:
    """Monthly cost against throughput for each ranked setup; colour = energy per month; the Pareto
    front (cheapest for its throughput) drawn as a line."""
    title = "Cost against throughput (colour: energy per month)"
    if ranked is None or ranked.empty:
        return _empty(title, "No setup meets the demand and constraints")
    df = ranked.copy()
    df["label"] = setup_label(df)
    energy = pd.to_numeric(df.get("energy_kwh_per_month"), errors="coerce")
    on_front = pd.Series(False, index=df.index)
    if pareto is not None and not pareto.empty and {"device", "count", "precision"} <= set(pareto.columns):
        keys = set(zip(pareto["device"], pareto["count"].astype(int), pareto["precision"]))
        on_front = pd.Series([k in keys for k in zip(df["device"], df["count"].astype(int), df["precision"])], index=df.index)
        extra = pareto[[k not in set(zip(df["device"], df["count"].astype(int), df["precision"]))
                        for k in zip(pareto["device"], pareto["count"].astype(int), pareto["precision"])]]
        if not extra.empty:
            extra = extra.assign(label=setup_label(extra))
            df = pd.concat([df, extra], ignore_index=True)
            on_front = pd.concat([on_front.reset_index(drop=True), pd.Series([True] * len(extra))], ignore_index=True)
            energy = pd.to_numeric(df.get("energy_kwh_per_month"), errors="coerce")
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=df["throughput"], y=df["usd_per_month"], mode="markers", name="setups",
        marker=dict(size=np.where(on_front, 17, 13), symbol=np.where(on_front, "diamond", "circle"), color=energy,
                    colorscale=palette.ENERGY_SCALE, showscale=True, line=dict(width=1, color="#333"),
                    colorbar=dict(title=dict(text="kWh / month"), thickness=12)),
        customdata=np.stack([df["label"], energy.fillna(np.nan),
                             np.where(on_front, "Pareto-optimal (cost, latency, energy)", "")], axis=1),
        hovertemplate="%{customdata[0]}<br>%{x:,.4~s} " + unit
                      + "<br>$%{y:,.0f} / month<br>%{customdata[1]:,.0f} kWh / month<br>%{customdata[2]}<extra></extra>",
    ))
    log_x = _spread(df["throughput"]) > 10
    log_y = _spread(df["usd_per_month"]) > 10
    top = df.iloc[0]
    fig.add_annotation(x=_axis_pos(top["throughput"], log_x), y=_axis_pos(top["usd_per_month"], log_y),
                       text="#1", showarrow=True, arrowhead=2, ax=-26, ay=-30)
    if demand:
        fig.add_vline(x=demand, line=dict(color=palette.DEMAND, dash="dash"), annotation_text="demand",
                      annotation_position="top left")
    log_axes(fig, x=log_x, y=False)
    if log_y:
        log_axes(fig, y=True, money=True)
    else:
        fig.update_yaxes(tickprefix="$", rangemode="tozero")
    fig.update_layout(showlegend=False)
    fig.add_annotation(text="◆ Pareto-optimal (cost, latency, energy)   ● ranked", showarrow=False, x=0, y=1.06,
                       xref="paper", yref="paper", xanchor="left", font=dict(size=11, color="#555"))
    return _layout(fig, title, f"throughput ({unit}{', log' if log_x else ''})",
                   f"cost (USD / month{', log' if log_y else ''})")


def _spread(values) -> float:
    v = pd.to_numeric(pd.Series(values), errors="coerce")
    v = v[v > 0]
    return float(v.max() / v.min()) if len(v) else 1.0


def _axis_pos(v, log: bool) -> float:
    return math.log10(v) if log and v > 0 else float(v)


def nice_ticks(lo: float, hi: float, log: bool, n: int = 5) -> list[float]:
    """Round axis ticks inside [lo, hi]: 1-2-5 steps on a linear axis, powers of ten (with 2 and 5 between them
    when the axis spans under three decades) on a log axis."""
    if hi <= lo:
        return [lo]
    if log:
        a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        mults = (1, 2, 5) if b - a < 3 else (1,)
        return [m * 10.0 ** e for e in range(a, b + 1) for m in mults if lo <= m * 10.0 ** e <= hi * (1 + 1e-9)]
    step = nice_step(hi - lo, n)
    first = math.ceil(lo / step) * step
    return [first + k * step for k in range(int((hi - first) / step + 1e-9) + 1)]


def nice_step(span: float, n: int = 5) -> float:
    """The 1-2-5 step that cuts a span into at most about n parts."""
    raw = span / max(1, n)
    mag = 10.0 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)


@dataclass(frozen=True)
class IntervalAxis:
    """Where a value sits across an interval chart's track, in percent of its width."""
    lo: float
    hi: float
    log: bool

    def pct(self, v: float) -> float:
        if self.log:
            v = math.log10(max(v, self.lo))
            a, b = math.log10(self.lo), math.log10(self.hi)
        else:
            a, b = self.lo, self.hi
        return round(min(100.0, max(0.0, 100.0 * (v - a) / (b - a))), 2)


def interval_geometry(ranked: pd.DataFrame, demand: float | None = None) -> tuple[pd.DataFrame, IntervalAxis]:
    """Each setup's row of the interval chart: label, basis, the 80 % interval as left / width and the prediction
    as a dot, in percent of the track. A linear axis from zero unless the values span more than ten times (then
    log, where the intervals are even: high / estimate = estimate / low)."""
    df = ranked[pd.to_numeric(ranked["throughput"], errors="coerce") > 0].head(12)
    if df.empty:
        return pd.DataFrame(columns=["label", "basis", "left", "right", "dot"]), IntervalAxis(0.0, 1.0, False)
    tp, lo, hi = (pd.to_numeric(df[c], errors="coerce") for c in ("throughput", "low", "high"))
    lo, hi = lo.fillna(tp), hi.fillna(tp)
    values = pd.concat([lo, hi, tp, pd.Series([demand or np.nan])])
    values = values[values > 0]
    log = _spread(values) > 10
    top = float(values.max()) if len(values) else 1.0
    if log:
        axis = IntervalAxis(10.0 ** math.floor(math.log10(float(values.min()))), 10.0 ** math.ceil(math.log10(top)), True)
    else:
        step = nice_step(top * 1.05)
        axis = IntervalAxis(0.0, math.ceil(top * 1.05 / step) * step, False)
    rows = pd.DataFrame({
        "label": (("#" + df["rank"].astype(int).astype(str) + "  ") if "rank" in df else "") + setup_label(df),
        "basis": df["basis"].astype(str) if "basis" in df else "",
        "left": [axis.pct(v) for v in lo], "right": [axis.pct(v) for v in hi], "dot": [axis.pct(v) for v in tp],
        "throughput": tp, "low": lo, "high": hi}, index=df.index)
    return rows, axis


INTERVAL_CSS = """<style>
div.hw-chart{font-size:0.8rem;line-height:1.2;margin:0.2rem 0 0.6rem 0}
div.hw-chart .ttl{font-weight:600;font-size:0.95rem;margin-bottom:0.5rem}
div.hw-chart .row{display:flex;align-items:center;height:28px}
div.hw-chart .lbl{flex:0 0 40%;padding-right:8px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
div.hw-chart .trk{position:relative;flex:1 1 auto;height:100%;border-left:1px solid #bbb}
div.hw-chart .bar{position:absolute;top:9px;height:10px;border-radius:3px;opacity:0.35;min-width:2px}
div.hw-chart .dot{position:absolute;top:8px;width:12px;height:12px;margin-left:-6px;border-radius:50%}
div.hw-chart .dem{position:absolute;top:0;bottom:0;border-left:2px dashed DEMAND}
div.hw-chart .grid{position:absolute;top:0;bottom:0;border-left:1px solid #eee}
div.hw-chart .axis{display:flex;height:18px;color:#555}
div.hw-chart .tick{position:absolute;transform:translateX(-50%);white-space:nowrap}
div.hw-chart .key{display:flex;gap:14px;margin-top:4px;color:#444}
div.hw-chart .dk{display:inline-block;height:12px;border-left:2px dashed DEMAND;margin-right:4px;vertical-align:-2px}
div.hw-chart .sw{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:4px;vertical-align:-1px}
</style>""".replace("DEMAND", palette.DEMAND)


def interval_html(ranked: pd.DataFrame, unit: str = "samples/s", demand: float | None = None) -> str:
    """The interval chart as plain HTML and CSS (no chart library to load, so it paints with the page's text):
    each setup's predicted throughput (dot) and its 80 % interval (a low–high bar), coloured by basis, against
    the demand (a dashed line). Hovering a row gives its numbers."""
    import html

    title = "Predicted throughput and 80% interval, against the demand"
    rows, axis = interval_geometry(ranked, demand) if ranked is not None and "throughput" in ranked else (None, None)
    if rows is None or axis is None or rows.empty:
        return f'{INTERVAL_CSS}<div class="hw-chart"><div class="ttl">{title}</div>No setups to show</div>'
    ticks = nice_ticks(axis.lo, axis.hi, axis.log)
    grid = "".join(f'<div class="grid" style="left:{axis.pct(t)}%"></div>' for t in ticks)
    dem = f'<div class="dem" style="left:{axis.pct(demand)}%"></div>' if demand and demand > 0 else ""
    body = []
    for r in rows.itertuples():
        colour = palette.BASIS.get(r.basis, palette.OTHER)
        tip = html.escape(f"{r.label}: predicted {fmt.rate(r.throughput, unit)}, 80% interval "
                          f"{fmt.interval(r.low, r.high, unit)} ({r.basis})", quote=True)
        body.append(f'<div class="row" title="{tip}"><div class="lbl">{html.escape(r.label)}</div><div class="trk">{grid}{dem}'
                    f'<div class="bar" style="left:{r.left}%;width:{max(0.0, r.right - r.left)}%;background:{colour}"></div>'
                    f'<div class="dot" style="left:{r.dot}%;background:{colour}"></div></div></div>')
    tick_text = "".join(f'<span class="tick" style="left:{axis.pct(t)}%">{html.escape(fmt.compact(t))}</span>' for t in ticks)
    axis_row = (f'<div class="axis"><div class="lbl"></div><div class="trk" style="border-left:none">{tick_text}</div></div>'
                f'<div class="axis"><div class="lbl"></div><div>throughput ({html.escape(unit)}'
                f'{", log scale" if axis.log else ""})</div></div>')
    shown = [b for b in palette.BASIS if (rows["basis"] == b).any()]
    key = "".join(f'<span><span class="sw" style="background:{palette.BASIS[b]}"></span>{b}</span>' for b in shown)
    if dem:
        key += '<span><span class="dk"></span>demand</span>'
    return (f'{INTERVAL_CSS}<div class="hw-chart" role="img" aria-label="{html.escape(title)}"><div class="ttl">{title}</div>'
            + "".join(body) + axis_row + f'<div class="key">{key}</div></div>')


def curve_chart(curves: pd.DataFrame, y: str, title: str, y_title: str, log_y: bool = False, money: bool = False) -> go.Figure:
    """One line per setup × precision over batch size (setup = colour, precision = dash)."""
    if curves is None or curves.empty or y not in curves or curves[y].notna().sum() == 0:
        return _empty(title, "No curve for these setups")
    fig = go.Figure()
    dashes = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
    setups = list(dict.fromkeys(curves["setup"]))
    precs = list(dict.fromkeys(curves["precision"]))
    for i, s in enumerate(setups):
        for j, p in enumerate(precs):
            part = curves[(curves["setup"] == s) & (curves["precision"] == p)].sort_values("batch_size")
            part = part[part[y].notna()]
            if part.empty:
                continue
            fig.add_trace(go.Scatter(x=part["batch_size"], y=part[y], mode="lines+markers", name=f"{s} · {p}",
                                     line=dict(color=palette.series(i), dash=dashes[j % len(dashes)]),
                                     hovertemplate=f"{s} · {p}<br>batch %{{x}}<br>%{{y:,.4~s}}<extra></extra>"))
    fig.update_xaxes(type="log", tickvals=[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
    log_axes(fig, y=log_y, money=money)
    return _layout(fig, title, "batch size per device (log)", y_title)


def perf_per_watt_chart(curves: pd.DataFrame, unit: str = "samples/s") -> go.Figure:
    per = unit.replace("/s", "")
    return curve_chart(curves, "perf_per_watt", "Performance per watt over batch size and precision",
                       f"{per} per joule ({unit} per W)")


def cost_curve_chart(curves: pd.DataFrame, unit: str = "samples/s") -> go.Figure:
    per = unit.replace("/s", "")
    return curve_chart(curves, "usd_per_million_units", "Cost per million over batch size and precision",
                       f"USD per million {per} (log)", log_y=True, money=True)


def roofline_chart(devices: pd.DataFrame, points: pd.DataFrame | None = None, precision: str = "") -> go.Figure:
    """Roofline per device (peak FLOP/s and memory bandwidth from the catalog) with measured points.

    devices: device, peak_flops (FLOP/s), mem_bw_bytes_s; points: device, intensity (FLOP/byte),
    achieved_flops (FLOP/s per device), label."""
    title = "Roofline with measured points" + (f" ({precision} peak)" if precision else "")
    if devices is None or devices.empty:
        return _empty(title, "No devices selected")
    d = devices.dropna(subset=["peak_flops", "mem_bw_bytes_s"])
    if d.empty:
        return _empty(title, "The catalog has no peak or bandwidth for these devices")
    ridge = (d["peak_flops"] / d["mem_bw_bytes_s"]).to_numpy()
    lo = 0.1
    hi = max(1e4, float(np.nanmax(ridge)) * 20)
    if points is not None and not points.empty:
        lo = min(lo, float(points["intensity"].min()) / 2)
        hi = max(hi, float(points["intensity"].max()) * 2)
    xs = np.logspace(math.log10(lo), math.log10(hi), 60)
    fig = go.Figure()
    colour = {}
    for i, row in enumerate(d.itertuples(index=False)):
        c = palette.series(i)
        colour[row.device] = c
        name = row.device + (f" · {row.precision}" if "precision" in d.columns else "")
        fig.add_trace(go.Scatter(x=xs, y=np.minimum(row.peak_flops, row.mem_bw_bytes_s * xs), mode="lines",
                                 name=name, line=dict(color=c, width=2),
                                 hovertemplate=name + "<br>%{x:.3g} FLOP/byte<br>%{y:.3~s}FLOP/s<extra>roofline</extra>"))
    if points is not None and not points.empty:
        for dev, part in points.groupby("device", sort=False):
            fig.add_trace(go.Scatter(x=part["intensity"], y=part["achieved_flops"], mode="markers",
                                     name=f"{dev} measured", marker=dict(color=colour.get(dev, "#555"), size=9,
                                                                         symbol="circle-open", line=dict(width=2)),
                                     text=part.get("label"), hovertemplate="%{text}<br>%{x:.3g} FLOP/byte<br>"
                                     "%{y:.3~s}FLOP/s<extra>measured</extra>"))
    fig.update_xaxes(type="log", dtick=1, tickformat="~s")
    fig.update_yaxes(type="log", dtick=1, exponentformat="SI", tickformat="~s")
    return _layout(fig, title, "arithmetic intensity (FLOP / byte, log)", "achieved FLOP/s per device (log)")


def scaling_chart(df: pd.DataFrame) -> go.Figure:
    """Parallel efficiency E = P_total / (N · P_single) over device count, one line per setup."""
    title = "Parallel efficiency over device count"
    if df is None or df.empty:
        return _empty(title, "No scaling curve for these setups")
    fig = go.Figure()
    for i, (s, part) in enumerate(df.groupby("setup", sort=False)):
        part = part.sort_values("count")
        fig.add_trace(go.Scatter(x=part["count"], y=part["parallel_efficiency"] * 100, mode="lines+markers", name=s,
                                 line=dict(color=palette.series(i)),
                                 hovertemplate=s + "<br>%{x} devices<br>%{y:.0f}% efficient<extra></extra>"))
    fig.add_hline(y=100, line=dict(color=palette.REFERENCE, dash="dot"))
    fig.update_xaxes(type="log", dtick=math.log10(2))
    fig.update_yaxes(range=[0, 110], ticksuffix="%")
    return _layout(fig, title, "devices (log₂)", "parallel efficiency")


def measured_vs_predicted_chart(df: pd.DataFrame, unit: str = "samples/s") -> go.Figure:
    """Measured throughput against the model's prediction (with interval); the diagonal is perfect."""
    title = "Measured against predicted"
    if df is None or df.empty:
        return _empty(title, "No measurement exists for these setups yet")
    fig = go.Figure()
    for i, (s, part) in enumerate(df.groupby("setup", sort=False)):
        fig.add_trace(go.Scatter(
            x=part["predicted"], y=part["measured"], mode="markers", name=s,
            marker=dict(color=palette.series(i), size=10),
            error_x=dict(type="data", symmetric=False, array=part["high"] - part["predicted"],
                         arrayminus=part["predicted"] - part["low"], thickness=1.5),
            text=part.get("label"),
            hovertemplate="%{text}<br>predicted %{x:,.4~s}<br>measured %{y:,.4~s} " + unit + "<extra></extra>"))
    lo = float(min(df["measured"].min(), df["low"].min())) * 0.7
    hi = float(max(df["measured"].max(), df["high"].max())) * 1.4
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="measured = predicted",
                             line=dict(color=palette.REFERENCE, dash="dot"), hoverinfo="skip"))
    log_axes(fig, x=True, y=True)
    return _layout(fig, title, f"predicted ({unit}, log)", f"measured ({unit}, log)")


def catalog_bar_chart(cat: pd.DataFrame, column: str, title: str, unit: str) -> go.Figure:
    """One bar per device for one catalog column, coloured by kind."""
    if cat is None or cat.empty or column not in cat or cat[column].notna().sum() == 0:
        return _empty(title, "No values for these devices")
    df = cat[["id", "kind", column]].dropna().sort_values(column, ascending=True)
    kinds = list(dict.fromkeys(df["kind"]))
    fig = go.Figure()
    for i, k in enumerate(kinds):
        part = df[df["kind"] == k]
        fig.add_trace(go.Bar(x=part[column], y=part["id"], orientation="h", name=k,
                             marker_color=palette.series(i),
                             hovertemplate="%{y}<br>%{x:,.4~g} " + unit + "<extra>" + k + "</extra>"))
    fig.update_layout(barmode="overlay", yaxis=dict(categoryorder="total ascending"))
    return _layout(fig, title, unit, "", height=max(300, 80 + 22 * len(df)))


def source_counts_chart(df: pd.DataFrame) -> go.Figure:
    """Stored rows per workload, stacked by source."""
    title = "Stored results per workload and source"
    if df is None or df.empty:
        return _empty(title, "No results stored")
    counts = df.groupby(["workload", "source"]).size().unstack(fill_value=0)
    fig = go.Figure()
    for src in counts.columns:
        fig.add_trace(go.Bar(x=counts.index, y=counts[src], name=src, marker_color=palette.SOURCE.get(src, palette.OTHER)))
    fig.update_layout(barmode="stack")
    return _layout(fig, title, "workload", "rows", height=320)


# ---- training runs --------------------------------------------------------------------------------------------

RECOMPUTE_WORDS = {"none": "no recompute", "selective": "selective recompute", "full": "full recompute"}


def training_layout_label(df: pd.DataFrame) -> pd.Series:
    """A training setup's layout: 'DP 104 × TP 1 × PP 2, ZeRO-3, selective recompute' ('no ZeRO' at stage 0)."""
    def one(r) -> str:
        dp, tp, pp = (fmt.num(r.get(k)) for k in ("data_parallel", "tensor_parallel", "pipeline_parallel"))
        if dp is None or tp is None or pp is None:
            return fmt.MISSING
        zero = fmt.num(r.get("zero_stage"))
        text = f"DP {fmt.count(dp)} × TP {fmt.count(tp)} × PP {fmt.count(pp)}"
        text += f", ZeRO-{fmt.count(zero)}" if zero else ", no ZeRO"
        rec = str(r.get("recompute") or "")
        return text + (f", {RECOMPUTE_WORDS.get(rec, rec + ' recompute')}" if rec else "")

    return pd.Series([one(r) for r in df.to_dict("records")], index=df.index, dtype=object)


def run_cost_column(pricing: str) -> str:
    return "usd_per_run_owned" if pricing == "owned" else "usd_per_run_cloud"


def training_chart(ranked: pd.DataFrame, deadline_h: float | None = None, pricing: str = "cloud") -> go.Figure:
    """Cost per run against time to train for each ranked setup (colour: energy per run), and the deadline."""
    title = f"Cost per run ({pricing}) against time to train (colour: energy per run)"
    cost = run_cost_column(pricing)
    if ranked is None or ranked.empty or cost not in ranked:
        return _empty(title, "No setup to show")
    df = ranked[pd.to_numeric(ranked[cost], errors="coerce").notna()].copy()
    if df.empty:
        return _empty(title, f"No setup has a {pricing} price")
    hours = pd.to_numeric(df["time_to_train_h"], errors="coerce")
    days = bool(hours.max() > 72 or (deadline_h or 0) > 72)
    scale, unit = (24.0, "days") if days else (1.0, "h")
    df["x"] = hours / scale
    df["label"] = setup_label(df)
    energy = pd.to_numeric(df.get("energy_kwh_per_run"), errors="coerce")
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=df["x"], y=df[cost], mode="markers", name="ranked setups",
        marker=dict(size=13, color=energy, colorscale=palette.ENERGY_SCALE, showscale=True,
                    line=dict(width=1, color="#333"), colorbar=dict(title=dict(text="kWh / run"), thickness=12)),
        customdata=np.stack([df["label"], [fmt.kwh(v) for v in energy], [fmt.seconds(h * 3600) for h in hours]], axis=1),
        hovertemplate="%{customdata[0]}<br>%{customdata[2]} to train<br>$%{y:,.0f} per run<br>%{customdata[1]} per run"
                      "<extra></extra>",
    ))
    log_x, log_y = _spread(df["x"]) > 10, _spread(df[cost]) > 10
    top = df.iloc[0]
    fig.add_annotation(x=_axis_pos(top["x"], log_x), y=_axis_pos(top[cost], log_y), text="#1", showarrow=True,
                       arrowhead=2, ax=-26, ay=-30)
    if deadline_h:
        fig.add_vline(x=deadline_h / scale, line=dict(color=palette.DEMAND, dash="dash"), annotation_text="deadline",
                      annotation_position="top left")
    if log_x:
        log_axes(fig, x=True)
    else:
        fig.update_xaxes(tickformat=",~r")
    if log_y:
        log_axes(fig, y=True, money=True)
    else:
        fig.update_yaxes(tickprefix="$", tickformat=",.0f", rangemode="tozero")
    fig.update_layout(showlegend=False)
    return _layout(fig, title, f"time to train ({unit}{', log' if log_x else ''})",
                   f"cost per run (USD{', log' if log_y else ''})")


def breakeven_chart(tco, months: int = 60) -> go.Figure:
    """Cumulative cost of renting (cloud per month x months) against buying (all capex at month 0, then maintenance
    and energy each month) over 0..months of use, the break-even point marked."""
    title = "Break-even: cumulative cost of renting vs buying"
    c = tco.cumulative(months)
    if not c["rent"] and not c["buy"]:
        return _empty(title, "No cloud or purchase price for this setup")
    fig = go.Figure()
    if c["rent"]:
        fig.add_trace(go.Scatter(x=c["months"], y=c["rent"], mode="lines", name="rent (cloud)",
                                 line=dict(color=palette.series(0), width=3),
                                 hovertemplate="month %{x}: $%{y:,.0f} rented<extra></extra>"))
    if c["buy"]:
        fig.add_trace(go.Scatter(x=c["months"], y=c["buy"], mode="lines", name="buy (capex + maintenance + energy)",
                                 line=dict(color=palette.series(1), width=3),
                                 hovertemplate="month %{x}: $%{y:,.0f} owned<extra></extra>"))
    be = tco.breakeven_months
    if be is not None and be <= months:
        y = (tco.cloud_month or 0.0) * be
        fig.add_trace(go.Scatter(x=[be], y=[y], mode="markers", name=f"break-even: {fmt.number(be)} months",
                                 marker=dict(size=13, symbol="diamond", color=palette.WARNING,
                                             line=dict(width=1, color="#333")),
                                 hovertemplate=f"break-even after {fmt.number(be)} months: {fmt.usd(y)}<extra></extra>"))
        fig.add_vline(x=be, line_dash="dot", line_color=palette.WARNING)
        fig.add_annotation(x=be, y=y, text=f"break-even {fmt.number(be)} months", showarrow=True, ax=40, ay=-40)
    else:
        msg = (f"break-even after {fmt.number(be)} months, beyond this chart" if be is not None
               else "no break-even: renting costs less a month than running owned hardware"
               if c["rent"] and c["buy"] else "")
        if msg:
            fig.add_annotation(text=msg, showarrow=False, x=0.02, y=0.98, xref="paper", yref="paper",
                               xanchor="left", yanchor="top", font=dict(size=13))
    fig.update_yaxes(tickprefix="$", tickformat=",.0f", rangemode="tozero")
    fig.update_xaxes(range=[0, months], dtick=6)
    return _layout(fig, title, "months of use", "cumulative USD", height=360)


# ---- the ranked table: text cells a planner compares, narrow enough for a 1,400 px page ------------------------

def nodes(row) -> int | None:
    """Servers (nodes) a setup fills: its count over the devices per node, rounded up."""
    n, per = fmt.num(row.get("count")), fmt.num(row.get("devices_per_node"))
    if n is None:
        return None
    return max(1, math.ceil(n / per)) if per else None


def plan_layout(row) -> str:
    """'TP 2 × PP 1 × 4 replicas · 1 node' for an LLM setup; 'batch 64 · 1 node' otherwise."""
    k = nodes(row)
    where = f"{fmt.count(k)} node{'' if k == 1 else 's'}" if k else ""
    tpot = fmt.num(row.get("tpot_p99_s"))
    if tpot is not None:
        head = layout_label(pd.DataFrame([dict(row)])).iloc[0]
    else:
        b = fmt.num(row.get("batch_size"))
        head = f"batch {fmt.count(b)}" if b is not None else ""
    return " · ".join(t for t in (head, where) if t and t != fmt.MISSING) or fmt.MISSING


def targets_met(row, demand: float | None, limits: dict | None = None) -> str:
    """The targets a setup meets: 'demand · TTFT · TPOT · budget', with 'demand (est.)' when the interval's low end
    falls short of it; limits: {name: True} for the limits the plan was given (latency, TTFT, TPOT, budget, power)."""
    out = []
    tp, lo = fmt.num(row.get("throughput")), fmt.num(row.get("low"))
    if demand and tp is not None and tp >= demand:
        out.append("demand" if lo is None or lo >= demand else "demand (est.)")
    limits = limits or {}
    checks = (("latency", "latency_p99_s", "p99"), ("ttft", "ttft_p99_s", "TTFT"), ("tpot", "tpot_p99_s", "TPOT"),
              ("budget", "usd_per_month", "budget"), ("power", "power_kw", "power"))
    for key, col, label in checks:
        lim = fmt.num(limits.get(key))
        v = fmt.num(row.get(col))
        if lim is not None and v is not None and v <= lim:
            out.append(label)
    return " · ".join(out) or fmt.MISSING


RANKED_HEADERS = {  # column -> (header, hover help)
    "rank": ("#", "rank: cheapest first, then energy"),
    "setup": ("setup", "devices × device; the precisions that give the same numbers"),
    "layout": ("layout", "tensor × pipeline parallel × replicas (LLM), or the batch; servers (nodes) it fills"),
    "throughput": ("throughput (80% interval)", "predicted for the whole setup; the interval below it"),
    "latency": ("TTFT / TPOT p99", "time to first token / per output token after it"),
    "meets": ("meets", "the targets it meets; 'est.': at the estimate, the interval's low end falls short"),
    "usd_month": ("$ / month", "at the plan's pricing"),
    "usd_million": ("$ / M", "dollars per million units of work"),
    "kw": ("kW", "power at this load, host share included"),
    "kwh": ("kWh / mo", "energy per month, with the facility's PUE"),
    "co2": ("CO₂ kg / mo", "carbon per month at the grid's intensity"),
}


def ranked_cells(ranked: pd.DataFrame, unit: str, demand: float | None = None, limits: dict | None = None) -> pd.DataFrame:
    """The ranked table as text a person reads: units in the headers, thousands separators, never e-notation.
    Rows carry `precisions` (from collapse_precisions) when the same setup at several precisions is one row."""
    if ranked is None or ranked.empty:
        return pd.DataFrame(columns=list(RANKED_HEADERS))
    recs = ranked.to_dict("records")
    llm = any(fmt.num(r.get("tpot_p99_s")) is not None for r in recs)
    per = fmt.per_unit(unit)
    rows = []
    for i, r in enumerate(recs):
        prec = r.get("precisions") or r.get("precision") or ""
        rows.append({
            "rank": fmt.count(r.get("rank", i + 1)),
            "setup": f"{fmt.count(r.get('count'))} × {r.get('device')} · {prec}",
            "layout": plan_layout(r),
            "throughput": f"{fmt.rate(r.get('throughput'), unit)} ({fmt.interval(r.get('low'), r.get('high'))})",
            "latency": f"{fmt.ms(r.get('ttft_p99_s'))} / {fmt.ms(r.get('tpot_p99_s'))}",
            "meets": targets_met(r, demand, limits),
            "usd_month": fmt.usd(r.get("usd_per_month")),
            "usd_million": fmt.usd(r.get("usd_per_million_units")),
            "kw": fmt.number(r.get("power_kw")),
            "kwh": fmt.number(r.get("energy_kwh_per_month")),
            "co2": fmt.number(r.get("co2_kg_per_month")),
        })
    df = pd.DataFrame(rows)
    if not llm:
        df = df.drop(columns=["latency"])
    if "breaks" in ranked:
        df.insert(2, "breaks", [str(b) for b in ranked["breaks"]])
    df.attrs["per"] = per
    return df


TABLE_CSS = """<style>
table.hw-ranked{width:100%;table-layout:auto;border-collapse:collapse;font-size:0.82rem;line-height:1.3}
table.hw-ranked th{text-align:left;font-weight:600;border-bottom:2px solid #ccc;padding:4px 6px;vertical-align:bottom}
table.hw-ranked td{border-bottom:1px solid #eee;padding:4px 6px;vertical-align:top;overflow-wrap:break-word}
table.hw-ranked td.num,table.hw-ranked th.num{text-align:right;white-space:nowrap}
table.hw-ranked tr:first-child td{background:#f3f8f1}
</style>"""
NUMERIC_CELLS = ("rank", "usd_month", "usd_million", "kw", "kwh", "co2")


def table_html(cells: pd.DataFrame, headers: dict | None = None) -> str:
    """A compact HTML table of text cells (escaped) that wraps to its container's width: no horizontal scroll."""
    import html

    headers = {**RANKED_HEADERS, "breaks": ("breaks", "the limits it breaks"), **(headers or {})}
    head = "".join(f'<th class="{"num" if c in NUMERIC_CELLS else ""}" title="{html.escape(headers.get(c, (c, ""))[1])}">'
                   f"{html.escape(headers.get(c, (c, ''))[0])}</th>" for c in cells.columns)
    body = "".join("<tr>" + "".join(f'<td class="{"num" if c in NUMERIC_CELLS else ""}">{html.escape(str(v))}</td>'
                                    for c, v in zip(cells.columns, row)) + "</tr>"
                   for row in cells.itertuples(index=False))
    return f'{TABLE_CSS}<table class="hw-ranked"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
