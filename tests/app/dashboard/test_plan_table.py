"""The Plan view's pure parts: number formatting, precision collapsing, the cost-gap phrase, the interval chart's
data, the ranked table's cells and the assumption set's deep link. No Streamlit server."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from hwplan.app.dashboard import charts, state
from hwplan.core import fmt
from hwplan.costmodel.planner import buyable, collapse_precisions

SCI = re.compile(r"\d[eE][+-]?\d")


def ranked() -> pd.DataFrame:
    return pd.DataFrame({
        "rank": [1, 2, 3, 4], "device": ["nvidia-gh200", "nvidia-gh200", "nvidia-a40", "nvidia-gh200"],
        "device_kind": "gpu", "count": [8, 8, 48, 8], "precision": ["fp8", "int8", "int8", "bf16"],
        "batch_size": [64, 64, 32, 64], "throughput": [24_408.4, 24_408.4, 21_390.9, 22_195.5],
        "low": [16_387.8, 16_387.8, 14_361.8, 14_902.0], "high": [35_875.0, 35_875.0, 31_440.0, 32_622.5],
        "basis": ["calibrated"] * 4, "usd_per_month": [503_758.0, 503_758.0, 514_016.0, 520_060.4],
        "usd_per_million_units": [7.9, 7.9, 9.3, 9.0], "power_kw": [9.1, 9.1, 15.6, 9.6],
        "energy_kwh_per_month": [15_530.0, 15_530.0, 25_303.7, 16_437.4],
        "co2_kg_per_month": [6_212.0, 6_212.0, 10_121.0, 6_575.0], "devices_per_node": [4, 4, 8, 4],
    })


def test_numbers_have_units_and_separators_never_e_notation():
    assert fmt.usd(503758) == "$503,758"
    assert fmt.number(15500) == "15,500" and fmt.kwh(15500) == "15.5 MWh"
    cells = charts.ranked_cells(ranked(), "tokens/s", demand=20_000)
    text = " ".join(cells.astype(str).to_numpy().ravel())
    assert not SCI.search(text)
    assert cells.loc[0, "usd_month"] == "$503,758" and cells.loc[0, "kwh"] == "15,500"
    assert cells.loc[0, "throughput"] == "24,400 tokens/s (16,400–35,900)"
    assert cells.loc[0, "layout"] == "batch 64 · 2 nodes"


@given(st.floats(min_value=1e-30, max_value=1e30, allow_nan=False))
def test_formatted_numbers_never_use_e_notation(v):
    for text in (fmt.number(v), fmt.usd(v), fmt.kwh(v), fmt.kw(v), fmt.co2(v), fmt.compact(v)):
        assert not SCI.search(text), text


def test_collapse_lists_the_precisions_that_change_nothing():
    out = collapse_precisions(ranked())
    assert list(out["precisions"]) == ["fp8 / int8", "int8", "bf16"]
    assert list(out["rank"]) == [1, 2, 3] and list(out["device"]) == ["nvidia-gh200", "nvidia-a40", "nvidia-gh200"]
    # the same device and count with a different cost stays its own row
    df = ranked()
    df.loc[1, "usd_per_month"] *= 1.02
    assert len(collapse_precisions(df)) == 4


def test_cost_gap_is_relative_to_the_next_setup():
    assert fmt.cost_gap(100, 125) == "20% below the next"
    assert fmt.cost_gap(100, 100.2) == "the same cost as the next"
    assert fmt.cost_gap(100, 261) == "62% below the next"  # not '161%': the gap over the next one's cost


@given(st.floats(min_value=0.0, max_value=1e9), st.floats(min_value=0.01, max_value=1e9))
def test_cost_gap_never_says_more_than_100_percent_below(a, b):
    cost, nxt = min(a, b), max(a, b)
    text = fmt.cost_gap(cost, nxt)
    m = re.match(r"(\d+)% below the next", text)
    assert m or text == "the same cost as the next"
    if m:
        assert 0 < int(m.group(1)) <= 100
        assert abs(int(m.group(1)) / 100 - (nxt - cost) / nxt) <= 0.005 + 1e-9


def test_interval_chart_places_each_prediction_and_its_interval_on_the_axis():
    df = ranked()
    rows, axis = charts.interval_geometry(df, demand=20_000)
    assert not axis.log and axis.lo == 0 and axis.hi >= df["high"].max()  # a spread under 10x: linear from zero
    # the dots are each setup's prediction, never the demand; the bar spans low..high, #1 on top
    assert list(rows["dot"]) == [axis.pct(v) for v in df["throughput"]]
    assert list(rows["left"]) == [axis.pct(v) for v in df["low"]] and list(rows["right"]) == [axis.pct(v) for v in df["high"]]
    assert (rows["left"] < rows["dot"]).all() and (rows["dot"] < rows["right"]).all()
    assert rows["label"].iloc[0].startswith("#1 ")
    page = charts.interval_html(df, "tokens/s", demand=20_000)
    assert f'class="dem" style="left:{axis.pct(20_000)}%"' in page
    assert page.count('class="row"') == len(df) and not SCI.search(page)
    assert "tokens/s" in page and "16,400–35,900 tokens/s" in page  # the hover text, formatted


@given(st.lists(st.tuples(st.floats(1e-3, 1e9), st.floats(1.0, 50.0)), min_size=1, max_size=15),
       st.one_of(st.none(), st.floats(1e-3, 1e9)))
def test_interval_chart_keeps_every_mark_on_its_track(points, demand):
    tp = [p for p, _ in points]
    df = pd.DataFrame({"rank": range(1, len(points) + 1), "device": "x", "count": 1, "precision": "fp8",
                       "throughput": tp, "low": [p / w for p, w in points], "high": [p * w for p, w in points],
                       "basis": "roofline"})
    rows, axis = charts.interval_geometry(df, demand)
    assert len(rows) == min(12, len(df))
    for col in ("left", "dot", "right"):
        assert rows[col].between(0, 100).all()
    assert (rows["left"] <= rows["dot"]).all() and (rows["dot"] <= rows["right"]).all()
    spread = max(max(tp) * 50, demand or 0) / min(min(p / w for p, w in points), demand or float("inf"))
    if spread <= 10:
        assert not axis.log
    page = charts.interval_html(df, "samples/s", demand)
    assert not SCI.search(page) and "nan" not in page


def test_axis_ticks_are_round_numbers_inside_the_axis():
    assert charts.nice_ticks(0, 25_000, False) == [0, 5_000, 10_000, 15_000, 20_000, 25_000]
    assert charts.nice_ticks(100, 10_000, True) == [100, 200, 500, 1_000, 2_000, 5_000, 10_000]
    assert charts.nice_ticks(1, 1e6, True) == [1, 10, 100, 1e3, 1e4, 1e5, 1e6]


def test_rack_scale_devices_are_bought_in_whole_trays():
    n = np.array([1, 2, 3, 4, 5, 8, 12, 16], dtype=float)
    gb200 = buyable(n, np.full(8, 4.0), np.full(8, 72.0))
    assert list(n[gb200]) == [4, 8, 12, 16]
    hgx = buyable(n, np.full(8, 8.0), np.full(8, 8.0))
    assert list(n[hgx]) == [1, 2, 4, 8, 16]


names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 _'.é&=?-]{0,24}", fullmatch=True)
values = st.dictionaries(st.sampled_from(["pue", "utilisation", "region", "life_years"]),
                         st.one_of(st.floats(0.1, 10), st.text(max_size=8)), max_size=4)


@given(names, values)
def test_assumption_link_round_trip(name, vals):
    q = state.assumption_query(name.strip(), vals)
    got_name, got_hash = state.read_assumption_link(q)
    assert got_name == name.strip() and got_hash == state.assumptions_hash(vals) and len(got_hash) == 12
    assert state.assumption_link_note(got_name, got_hash, dict(vals), True) is None


def test_assumption_link_says_what_differs():
    q = state.assumption_query("team", {"pue": 1.2})
    name, h = state.read_assumption_link(q)
    changed = state.assumption_link_note(name, h, {"pue": 1.5}, True)
    assert "changed since this link was made" in changed and h in changed
    assert state.assumptions_hash({"pue": 1.5}) in changed
    assert "not stored here" in state.assumption_link_note(name, h, None, False)
    assert state.assumption_query(None, {}) == {} and state.assumption_query(None, None) == {}
    # the key order of a set does not change its hash
    assert state.assumptions_hash({"a": 1, "b": 2}) == state.assumptions_hash({"b": 2, "a": 1})


@given(st.floats(1, 1e7), st.sampled_from(["cloud", "owned"]))
def test_plan_inputs_and_assumptions_survive_the_url(throughput, pricing):
    inputs = state.PlanInputs(workload="resnet50", throughput=throughput, pricing=pricing)
    q = {**state.to_query(inputs, serving=False), **state.assumption_query("team", {"pue": 1.3})}
    back, notes = state.from_query(q)
    # throughput is written with 6 significant digits
    assert not notes and back.pricing == pricing and abs(back.throughput - throughput) <= 1e-5 * throughput
    assert state.read_assumption_link(q) == ("team", state.assumptions_hash({"pue": 1.3}))


def test_a_training_run_reads_with_its_interval_and_its_runner_ups_gaps():
    from hwplan.app.dashboard.views import plan as view

    best = {"time_to_train_h": 1.0, "time_to_train_low_h": 0.5, "time_to_train_high_h": 2.5, "usd_per_run_cloud": 100.0}
    assert view.training_time_text(best) == "1 h (30 min–2.5 h)"
    assert view.training_time_text({"time_to_train_h": 30.0}) == "30 h"  # no interval: none is invented
    slower = {"time_to_train_h": 1.5, "usd_per_run_cloud": 162.0}
    assert view.training_runner_up_text(slower, best, "usd_per_run_cloud") == "+$62 / run (+62%), 30 min longer"
    same = {"time_to_train_h": 1.0, "usd_per_run_cloud": 100.2}
    assert view.training_runner_up_text(same, best, "usd_per_run_cloud") == "the same cost per run, the same time"
