"""A measured host outside the catalog (the profiler's CPU rows, data/measured/cpu-amd-epyc-2core.csv):
pseudo-device specs from its micro-benchmarks, fit and predict on it, per-row FLOPs, overhead fit from its
batch sweeps, the planner leaving it out unless asked, and the leave-one-workload-out validation split."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hwplan.core import paths

CSV = paths.MEASURED_DIR / "cpu-amd-epyc-2core.csv"
HOST = "host:vm:amd-epyc"


@pytest.fixture(scope="session")
def host_rows():
    from hwplan.core.tableio import load_file

    if not CSV.exists():
        pytest.skip("data/measured/cpu-amd-epyc-2core.csv is not there")
    table = load_file(CSV.name, path=CSV, max_bytes=1 << 28)
    assert not table.problems
    return table.rows


@pytest.fixture(scope="session")
def all_rows(measurements, host_rows):
    return pd.concat([measurements, host_rows], ignore_index=True)


@pytest.fixture(scope="session")
def host_model(all_rows, cache_dir):
    from hwplan.costmodel.api import fit_models

    return fit_models(all_rows)


def test_host_becomes_a_pseudo_device_with_measured_specs(host_rows):
    from hwplan.core.catalog import load_catalog
    from hwplan.costmodel.specs import add_host_devices, device_table

    cat0 = load_catalog()
    rows, cat, info = add_host_devices(host_rows, cat0)
    assert HOST in cat.index and HOST not in cat0.index
    assert set(rows["device"]) == {HOST}
    ok = host_rows[host_rows["status"] == "ok"]
    g = ok[ok["workload"] == "gemm"]
    for p, col in (("fp32", "fp32_tflops"), ("bf16", "bf16_tflops")):
        assert cat.loc[HOST, col] * 1e12 == pytest.approx(g.loc[g["precision"] == p, "throughput"].max())
    assert not np.isfinite(cat.loc[HOST, "int8_tops"])  # no int8 gemm measured: no int8 peak invented
    m = ok[ok["workload"] == "membw"]
    largest = m.loc[m["seq_len"].astype(float).idxmax(), "throughput"]
    assert cat.loc[HOST, "mem_bw_gbs"] * 1e9 == pytest.approx(largest)  # DRAM-sized buffer, not the cache one
    assert cat.loc[HOST, "kind"] == "cpu"
    dev = device_table(cat)
    i = list(cat.index).index(HOST)
    assert math.isnan(dev["board_w"][i]) and math.isnan(dev["idle_w"][i]) and not dev["board_imputed"][i]
    assert dev["pseudo"][i] == 1.0 and sum(dev["pseudo"]) == 1.0
    # idempotent: mapped rows and the extended catalog stay as they are
    rows2, cat2, _ = add_host_devices(rows, cat)
    assert len(cat2) == len(cat) and (rows2["device"] == HOST).all()
    assert info["devices"][HOST]["device_name"] == "AMD EPYC"


def test_fit_and_predict_on_the_host(host_model):
    from hwplan.costmodel.api import predict

    m = host_model
    assert HOST in m.devices_
    e = predict(m, "resnet50", HOST, precision="fp32", batch=1)
    assert e.basis == "measured" and e.device_kind == "cpu" and e.throughput > 0
    assert e.power_w is None or math.isnan(e.power_w)
    assert e.usd_per_hour_owned is None and e.energy_per_unit_j is None
    assert "measured host" in e.note
    # measured resnet50 fp32 batch 1 on this host: 12.6 (eager) and 21.5 (onnx) samples/s
    assert 5 < e.throughput < 60
    # a workload never measured on it: calibrated (its specs are measured), never roofline
    assert predict(m, "llama3.1-405b", HOST, precision="bf16", phase="decode").basis == "calibrated"
    # LLM serving of whole requests has its own efficiencies, fitted on serving rows: none on any CPU, so a
    # host's serving estimate stands on its measured specs and the priors (roofline basis), and says so
    serve = predict(m, "llama3.1-8b", HOST, precision="bf16")
    assert serve.basis == "roofline" and "serving step model" in serve.basis_detail
    # the host's rows do not move the catalog CPUs' kind prior (its efficiency is 1 by construction)
    assert m.meta_["priors"]["ec0_kind"]["cpu"] < 1.0
    assert HOST in m.meta_["host_stage2"]


def test_planner_ignores_hosts_unless_asked(host_model):
    from hwplan.costmodel.api import Demand, plan

    r = plan(host_model, Demand(workload="resnet50", throughput=100, pricing="owned"))
    assert HOST not in set(r.ranked["device"]) and not any(HOST in n for n in r.notes)
    asked = plan(host_model, Demand(workload="resnet50", throughput=100, pricing="owned", include_measured_hosts=True))
    # asked for, it is evaluated; it has no price, so it is named among the unpriced devices
    assert any(HOST in n for n in asked.notes)


def test_per_row_flops_for_reduced_shapes(host_model, host_rows):
    from hwplan.core.catalog import load_catalog
    from hwplan.costmodel.rows import row_scales, training_rows
    from hwplan.costmodel.specs import add_host_devices
    from hwplan.costmodel.work import NON_LLM_WORK

    m = host_model
    wl = dict(zip(m.workloads_, m.wl_["flops"]))
    # true shape on the profiler: its count is the workload's; reduced shapes keep the analytic count
    assert wl["resnet50"] == pytest.approx(8.178e9, rel=1e-3)
    assert wl["fraud-mlp"] == pytest.approx(4.303e5, rel=1e-3)
    assert wl["retinanet"] == NON_LLM_WORK["retinanet"]["flops"]
    assert wl["3d-unet"] == NON_LLM_WORK["3d-unet"]["flops"]
    assert wl["bert-large"] == NON_LLM_WORK["bert-large"]["flops"]
    rows, _, _ = add_host_devices(host_rows, load_catalog())
    tr = training_rows(rows, m.devices_, m.wl_)
    tr = tr[np.isfinite(np.asarray(m.dev_["peak"])[tr["di"], tr["pi"]])].reset_index(drop=True)
    ws, wm = row_scales(m, tr)
    unet = (tr["workload"] == "3d-unet") & (tr["si"] == 0)
    assert np.allclose(ws[unet], 9.546e11 / 5.0e13, rtol=1e-2)  # a 128^3 sub-volume, not a whole volume
    bert = (tr["workload"] == "bert-large") & (tr["si"] == 0)
    assert np.allclose(ws[bert], 2.464e11 / 1.12e11, rtol=1e-2)  # the profiler ran the padded 384 tokens
    res = (tr["workload"] == "resnet50") & (tr["si"] == 0)
    assert np.allclose(ws[res], 1.0, atol=1e-6)
    dlrm = (tr["workload"] == "dlrm-v2") & (tr["si"] == 0)
    assert (wm[dlrm] < 0.05).all()  # capped tables: far fewer bytes than the 97 GB of true tables
    from hwplan.costmodel.evaluate import evaluate

    ev = evaluate(m, tr["wi"], tr["di"], tr["pi"], tr["b"], tr["n"], tr["si"], tr["phi"], work_scale=ws, bytes_scale=wm)
    assert np.allclose(ev.flops_per_unit[unet], tr.loc[unet, "fpu_row"], rtol=1e-6)


def test_overhead_fit_uses_the_hosts_batch_sweeps(host_model, host_rows):
    from hwplan.core.catalog import load_catalog
    from hwplan.costmodel.efficiency import fit_overhead
    from hwplan.costmodel.evaluate import overhead_per_pass
    from hwplan.costmodel.rows import training_rows
    from hwplan.costmodel.specs import add_host_devices

    m = host_model
    fitted = m.overhead_["fitted"]
    assert list(fitted) == [HOST]
    # fraud-mlp fp32 swept batch 1 / 256 / 4096 on two backends (torch-eager, onnxruntime-cpu)
    assert fitted[HOST]["groups"] == 2
    assert 0.1 < fitted[HOST]["factor"] < 10
    d = m.devices_.index(HOST)
    o = float(overhead_per_pass(m, m.workloads_.index("fraud-mlp"), d))
    # the measured batch-1 latencies are 17 us (onnx) and 57 us (eager): the fitted overhead sits between
    assert 15e-6 < o < 60e-6
    rows, _, _ = add_host_devices(host_rows, load_catalog())
    tr = training_rows(rows, m.devices_, m.wl_)
    again = fit_overhead(tr, m)  # against a model that already carries the factor: a fixed point
    assert again["fitted"][HOST]["factor"] == pytest.approx(1.0, rel=1e-6)


def test_profiler_split_leaves_one_workload_out(measurements, host_rows):
    from hwplan.costmodel.validate import run_validation

    keep = host_rows["workload"].isin(["gemm", "membw", "allreduce", "resnet50", "fraud-mlp"])
    rep = run_validation(pd.concat([measurements, host_rows[keep]], ignore_index=True), max_devices=1, llm=False,
                         training=False, power=False)  # the CPU split only: the others have their own tests
    assert "profiler CPU rows" in rep["splits"]
    s = rep["splits"]["profiler CPU rows"]
    assert set(s["by_workload"]) == {"resnet50", "fraud-mlp"}
    assert s["by_kind"].keys() == {"cpu"}
    rows = rep["_rows"]
    pr = rows[rows["split"] == "profiler CPU rows"]
    assert (pr["device"] == HOST).all() and np.isfinite(pr["spec"]).all()
    # int8 rows have no measured int8 peak: counted as not predicted, not silently dropped
    assert any("int8" in line for line in rep["summary_lines"])
