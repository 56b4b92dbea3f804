"""Chart functions are pure: DataFrame in, Figure out, no Streamlit."""

import re

import pandas as pd
import plotly.graph_objects as go

from hwplan.app import palette
from hwplan.app.dashboard import charts


def ranked():
    return pd.DataFrame({
        "rank": [1, 2, 3], "device": ["nvidia-l4", "nvidia-a100-sxm-80gb", "nvidia-h100-sxm"], "device_kind": "gpu",
        "count": [2, 1, 1], "precision": ["int8", "int8", "fp8"], "batch_size": [8, 32, 64],
        "throughput": [10_500.0, 12_000.0, 30_000.0], "low": [8_000.0, 9_000.0, 24_000.0],
        "high": [13_000.0, 15_000.0, 38_000.0], "basis": ["measured", "calibrated", "roofline"],
        "usd_per_month": [800.0, 1350.0, 3000.0], "energy_kwh_per_month": [110.0, 290.0, 500.0],
        "power_kw": [0.15, 0.4, 0.7],
    })


def test_pareto_chart_has_setups_energy_colour_and_demand_line():
    fig = charts.pareto_chart(ranked(), ranked().iloc[[0, 2]], demand=10_000, unit="samples/s")
    assert isinstance(fig, go.Figure)
    pts = fig.data[0]
    assert list(pts.x) == [10_500.0, 12_000.0, 30_000.0]
    assert list(pts.marker.color) == [110.0, 290.0, 500.0]
    assert list(pts.marker.symbol) == ["diamond", "circle", "diamond"]
    assert "Cost against throughput" in fig.layout.title.text
    assert "samples/s" in fig.layout.xaxis.title.text and "USD / month" in fig.layout.yaxis.title.text
    assert any(s.x0 == 10_000 for s in fig.layout.shapes)


def test_empty_inputs_give_a_labelled_empty_chart():
    for fig in (charts.pareto_chart(pd.DataFrame()),
                charts.scaling_chart(pd.DataFrame()), charts.measured_vs_predicted_chart(pd.DataFrame()),
                charts.perf_per_watt_chart(pd.DataFrame()), charts.roofline_chart(pd.DataFrame())):
        assert len(fig.data) == 0 and fig.layout.annotations and fig.layout.title.text


def test_interval_chart_colours_each_setup_by_basis_and_says_when_empty():
    page = charts.interval_html(ranked(), "samples/s")
    colours = re.findall(r'class="dot" style="left:[\d.]+%;background:(#[0-9a-f]{6})', page)
    assert colours == [palette.BASIS[b] for b in ("measured", "calibrated", "roofline")]
    for empty in (pd.DataFrame(), pd.DataFrame({"throughput": [float("nan")], "low": [1.0], "high": [2.0]})):
        assert "No setups to show" in charts.interval_html(empty) and 'class="row"' not in charts.interval_html(empty)


def test_curve_charts_one_line_per_setup_and_precision():
    curves = pd.DataFrame({"setup": ["A"] * 4 + ["B"] * 2, "precision": ["fp8", "fp8", "int8", "int8", "bf16", "bf16"],
                           "batch_size": [1, 8, 1, 8, 1, 8], "perf_per_watt": [10, 20, 12, 25, 5, 9],
                           "usd_per_million_units": [1.0, 0.5, 0.9, 0.4, 2.0, 1.5]})
    fig = charts.perf_per_watt_chart(curves, "tokens/s")
    assert [t.name for t in fig.data] == ["A · fp8", "A · int8", "B · bf16"]
    assert "tokens per joule" in fig.layout.yaxis.title.text
    assert charts.cost_curve_chart(curves, "tokens/s").layout.yaxis.type == "log"


def test_roofline_lines_bend_at_the_ridge_and_points_are_drawn():
    dev = pd.DataFrame({"device": ["x"], "precision": ["bf16"], "peak_flops": [1e15], "mem_bw_bytes_s": [1e12]})
    pts = pd.DataFrame({"device": ["x"], "intensity": [50.0], "achieved_flops": [3e13], "label": ["1 × x"]})
    fig = charts.roofline_chart(dev, pts)
    line = fig.data[0]
    assert max(line.y) == 1e15 and min(line.y) < 1e15
    assert fig.data[1].x[0] == 50.0


def test_scaling_and_measured_vs_predicted():
    sc = pd.DataFrame({"setup": ["a"] * 3, "count": [1, 2, 4], "parallel_efficiency": [1.0, 0.9, 0.8]})
    fig = charts.scaling_chart(sc)
    assert list(fig.data[0].y) == [100.0, 90.0, 80.0]
    mvp = pd.DataFrame({"setup": ["a", "b"], "measured": [100.0, 200.0], "predicted": [110.0, 190.0],
                        "low": [90.0, 150.0], "high": [130.0, 240.0], "label": ["a", "b"]})
    fig = charts.measured_vs_predicted_chart(mvp)
    assert fig.data[-1].name == "measured = predicted" and len(fig.data) == 3


def test_catalog_bar_chart_and_source_counts():
    cat = pd.DataFrame({"id": ["a", "b", "c"], "kind": ["gpu", "gpu", "tpu"], "mem_gb": [80.0, 40.0, 16.0]})
    fig = charts.catalog_bar_chart(cat, "mem_gb", "Memory", "GB")
    assert sorted(t.name for t in fig.data) == ["gpu", "tpu"]
    rows = pd.DataFrame({"workload": ["r", "r", "b"], "source": ["published", "upload", "published"]})
    assert {t.name for t in charts.source_counts_chart(rows).data} == {"published", "upload"}


def llm_rows():
    return pd.DataFrame({"tensor_parallel": [1, 8, float("nan")], "pipeline_parallel": [1, 2, float("nan")],
                         "expert_parallel": [1.0, 8.0, float("nan")], "replicas": [1, 4, float("nan")],
                         "weights_gb": [8.19, 140.0, float("nan")], "kv_cache_gb": [43.5, 60.0, float("nan")],
                         "activations_gb": [1.78, 5.0, float("nan")]})


def test_layout_label_names_tp_pp_ep_and_replicas():
    assert charts.layout_label(llm_rows()).tolist() == ["TP 1 × PP 1 × 1 replica", "TP 8 × PP 2 × EP 8 × 4 replicas", "–"]


def test_memory_split_chart_stacks_weights_kv_and_activations_against_device_memory():
    fig = charts.memory_split_chart(llm_rows().iloc[0], capacity_gb=96.0)
    assert [t.name for t in fig.data] == ["weights 8.19 GB", "KV cache 43.5 GB", "activations 1.78 GB"]
    assert [t.x[0] for t in fig.data] == [8.19, 43.5, 1.78] and fig.layout.barmode == "stack"
    assert any(s.x0 == 96.0 for s in fig.layout.shapes)
    empty = charts.memory_split_chart(llm_rows().iloc[2])
    assert not empty.data and "No memory split" in empty.layout.annotations[0].text
