"""Physical limits and the fixes that keep predictions inside them: the compute roofline caps every
estimate, single-device group effects shrink, fixed overhead per batch, tensor-parallel choice, KV cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwplan.core.vocab import PHASES, PRECISIONS
from hwplan.costmodel.api import Demand, plan, predict
from hwplan.costmodel.evaluate import SCENARIOS, evaluate, overhead_per_pass


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_no_estimate_beats_the_compute_peak(model, data):
    """Over all devices x workloads x precisions x counts (and batches, scenarios, phases): the whole-setup
    throughput per device never exceeds peak(precision) / FLOPs per unit, and the interval's high end
    stays within HIGH_MARGIN (1.0) of it."""
    devices, workloads = model.devices_, model.workloads_
    w = data.draw(st.integers(0, len(workloads) - 1))
    s = data.draw(st.sampled_from([0, 1] + ([2] if "training" in model.wl_["modes"][w] else [])))
    ph = data.draw(st.sampled_from(range(len(PHASES)))) if model.wl_["is_llm"][w] and s < 2 else 0
    counts = np.array(data.draw(st.lists(st.integers(1, 1024), min_size=1, max_size=8)), dtype=float)
    b = data.draw(st.sampled_from([0, 1, 8, 64, 512]))
    D, P = len(devices), len(PRECISIONS)
    dd, pp, nn = np.meshgrid(np.arange(D), np.arange(P), counts, indexing="ij")
    ev = evaluate(model, w, dd.ravel(), pp.ravel(), b, nn.ravel(), s, ph)
    peak = model.arrays_["peak"][dd.ravel(), pp.ravel()]
    ok = ev.supported & ev.fits & (ev.throughput > 0)
    per_dev = ev.throughput[ok] / nn.ravel()[ok]
    limit = peak[ok] / ev.flops_per_unit[ok]
    assert np.all(np.isfinite(ev.flops_per_unit[ok]))
    assert np.all(per_dev <= limit * (1 + 1e-9)), (workloads[w], SCENARIOS[s], b)
    assert np.all(ev.high[ok] / nn.ravel()[ok] <= limit * (1 + 1e-9))
    assert np.all(ev.low[ok] <= ev.throughput[ok] * (1 + 1e-12))
    assert np.all(ev.throughput[ok] <= ev.high[ok] * (1 + 1e-12))
    # the work model never counts less than the plain figure: 2 x active params per token, or the sample's FLOPs
    floor = np.where(model.wl_["is_llm"][w], 2 * model.wl_["active_params"][w], model.wl_["flops"][w])
    assert np.all(ev.flops_per_unit[ok] >= floor * (1 - 1e-9))


@pytest.mark.parametrize("device", ["aws-inferentia2", "google-tpu-v5e"])
def test_resnet50_on_asics_and_tpus_stays_below_peak(model, device):
    e = predict(model, "resnet50", device)
    peak = model.arrays_["peak"][model.device_index(device), PRECISIONS.index(e.precision)]
    assert e.throughput <= peak / 8.2e9 * 1.001  # 380 TOP/s / 8.2 GFLOP = 46,300 images/s for Inferentia2
    assert e.high <= peak / 8.2e9 * 1.001


def test_single_device_group_effect_shrinks_by_devices_not_rows():
    """A kind effect backed by one device (many rows) keeps 1/4 of its prior scale; by ten devices 10/13."""
    from hwplan.costmodel.efficiency import GROUP_SUPPORT_N0, KINDS, SCALES, Design

    dev = {"kind": ["gpu"] * 10 + ["asic"], "vendor": [f"v{i}" for i in range(10)] + ["q"],
           "peak": np.full((11, len(PRECISIONS)), 1e14).tolist(), "bw": [1e12] * 11, "year": list(range(2014, 2025))}
    design = Design(["a", "b"], [f"d{i}" for i in range(11)], dev)
    wi = np.array([0] * 50 + list(range(2)) * 10)
    di = np.array([10] * 50 + [i % 10 for i in range(20)])
    design.set_support(wi, di)
    k = design.offsets["kind"]
    asic, gpu = k + KINDS.index("asic"), k + KINDS.index("gpu")
    assert design.scales[asic] == pytest.approx(SCALES["kind"] * 1 / (1 + GROUP_SUPPORT_N0))
    assert design.scales[gpu] == pytest.approx(SCALES["kind"] * 10 / (10 + GROUP_SUPPORT_N0))
    # rows do not count: 50 rows of one device shrink as much as one row
    design.set_support(wi[:1], di[:1])
    assert design.scales[asic] == pytest.approx(SCALES["kind"] / (1 + GROUP_SUPPORT_N0))


def test_two_skus_of_one_chip_count_as_one_device(model):
    info = model.meta_["group_support"]["kind_devices"]
    assert info.get("asic") == 1  # Qualcomm AI 100 Pro and Standard: one vendor, kind and launch year


def test_small_batch_pays_the_fixed_overhead(model):
    e = predict(model, "resnet50", "aws-inferentia2", count=2, batch=1)
    o = float(overhead_per_pass(model, model.workload_index("resnet50"), model.device_index("aws-inferentia2")))
    assert o >= 50e-6 and e.overhead_s == pytest.approx(o)
    # one batch of one image on each of 2 replicas cannot beat 2 / overhead
    assert e.throughput <= 2 / o
    assert e.latency_p99_s >= e.latency_p50_s >= o
    big = predict(model, "resnet50", "aws-inferentia2", count=2, batch=256)
    assert big.throughput > 3 * e.throughput


@settings(max_examples=40, deadline=None)
@given(workload=st.sampled_from(["resnet50", "bert-large", "retinanet", "llama2-70b", "gpt-j", "mixtral-8x7b"]),
       device=st.sampled_from(["nvidia-h100-sxm", "nvidia-l4", "aws-inferentia2", "google-tpu-v5e", "intel-gaudi2",
                               "amd-mi300x"]),
       count=st.integers(1, 64), batch=st.sampled_from([None, 1, 4, 32, 256]),
       scenario=st.sampled_from(["offline", "server"]))
def test_p99_latency_never_below_one_batch_on_one_replica(model, workload, device, count, batch, scenario):
    e = predict(model, workload, device, count=count, batch=batch, scenario=scenario)
    if not e.fits:
        return
    w = model.workload_index(workload)
    if model.wl_["is_llm"][w]:  # a request: its first token, then one round per output token
        assert e.latency_p50_s == pytest.approx(e.ttft_p50_s + e.output_len * e.tpot_p50_s, rel=1e-6)
        assert e.ttft_p99_s >= e.ttft_p50_s > 0 and e.tpot_p99_s >= e.tpot_p50_s > 0
        # continuous batching: the batch per replica over the throughput per replica is one round
        assert e.tpot_p50_s == pytest.approx(e.replicas * e.batch_size / e.throughput, rel=1e-6)
    else:
        one_batch = e.replicas * e.batch_size / e.throughput
        assert e.latency_p50_s == pytest.approx(one_batch, rel=1e-6)
    assert e.latency_p99_s >= e.latency_p50_s * (1 - 1e-12)
    assert e.latency_p50_s >= e.overhead_s


def test_overhead_is_fitted_from_batch_sweeps(model):
    """Synthetic profiler rows on a catalog CPU: latency = 3 ms + b x 1 ms -> the fitted overhead ~3 ms."""
    from hwplan.costmodel.efficiency import fit_overhead
    from hwplan.costmodel.rows import training_rows

    dev = "intel-xeon-8480"
    rows = []
    for b in (1, 2, 4, 8, 16):
        lat = 3e-3 + b * 1e-3
        rows.append(dict(run_id="r1", measured_at="2026-01-01T00:00:00Z", source="profiler", workload="resnet50",
                         mode="inference", phase="", scenario="offline", precision="fp32", batch_size=b, device=dev,
                         device_kind="cpu", device_count=1, throughput=b / lat, throughput_unit="samples/s",
                         latency_p50_s=lat, status="ok", backend="torch-eager"))
    tr = training_rows(pd.DataFrame(rows), model.devices_, model.wl_)
    out = fit_overhead(tr, model)
    d = model.devices_.index(dev)
    prior = float(overhead_per_pass(model, model.workload_index("resnet50"), d)) / model.arrays_["oh_mult"][d]
    assert out["mult"][d] * prior == pytest.approx(3e-3, rel=0.01)
    assert dev in out["fitted"] and "fitted" in out["basis"]
    assert all(m == 1.0 for i, m in enumerate(out["mult"]) if i != d)


def test_kv_cache_and_batch_cap_by_hand_for_llama2_70b(model):
    from hwplan.costmodel import serving as sv

    # the benchmark's requests: 222.33 prompt + 294.45 output tokens on average (OpenOrca, data/workloads.csv);
    # paged KV cache holds the prompt and half the output per sequence on average, 1 B per value at fp8
    w, d = model.workload_index("llama2-70b"), model.device_index("nvidia-h100-sxm")
    kv_seq = 80 * 2 * 8 * 128 * (222.33 + 294.45 / 2) * 1
    weights = 68_976_648_192
    act = (sv.MAX_SEQS + sv.CHUNK_TOKENS) * (sv.ACT_VALUES_PER_TOKEN * 8192 + 32000) * sv.COMM_BYTES
    budget = sv.KV_FREE_FRACTION * (80 * 2 ** 30 - weights - act - sv.RUNTIME_RESERVE_B)
    b_max = np.floor(budget / kv_seq)
    fp8 = PRECISIONS.index("fp8")
    ev = evaluate(model, w, d, fp8, 0, 1, 0, layout=(np.array(1), np.array(1), np.array(0)))
    assert int(ev.batch) == b_max  # 200 sequences: the memory binds, not the scheduler cap
    assert float(ev.weights_b) == pytest.approx(weights) and float(ev.kv_cache_b) == pytest.approx(b_max * kv_seq)
    # at a batch given, the KV cache is that many sequences
    ev7 = evaluate(model, w, d, fp8, 7, 8, 0, layout=(np.array(1), np.array(1), np.array(0)))
    assert float(ev7.mem_required_b) == pytest.approx(weights + 7 * kv_seq + act)
    # eight H100 as one TP-8 group: each holds 1/8 of the weights and of every sequence's KV heads (8 of them)
    act8 = (sv.MAX_SEQS + sv.CHUNK_TOKENS) * (sv.ACT_VALUES_PER_TOKEN * 8192 + 32000 / 8) * sv.COMM_BYTES
    budget8 = sv.KV_FREE_FRACTION * (80 * 2 ** 30 - weights / 8 - act8 - sv.RUNTIME_RESERVE_B)
    ev8 = evaluate(model, w, d, fp8, 0, 8, 0, layout=(np.array(8), np.array(1), np.array(0)))
    assert int(ev8.batch) == min(sv.MAX_SEQS, np.floor(budget8 * 8 / kv_seq))  # 2,048: the scheduler cap binds


def test_llm_uses_parallel_groups_to_grow_the_batch(model):
    e = predict(model, "llama2-70b", "nvidia-h100-sxm", count=8, precision="fp8")
    one = predict(model, "llama2-70b", "nvidia-h100-sxm", count=1, precision="fp8")
    assert e.fits and e.devices_per_replica >= 2 and e.replicas * e.devices_per_replica <= 8
    assert e.devices_per_replica == e.tensor_parallel * e.pipeline_parallel
    assert e.batch_size > one.batch_size and "tensor parallel" in e.basis_detail
    # the choice is at least as good as 8 / g copies of the best setup on g devices
    for g in (1, 2, 4, 8):
        best_g = predict(model, "llama2-70b", "nvidia-h100-sxm", count=g, precision="fp8").throughput
        assert e.throughput >= 8 / g * best_g * (1 - 1e-9)


def test_pipeline_across_nodes_when_a_node_is_not_enough(model):
    e = predict(model, "llama3.1-405b", "nvidia-l4", count=64, precision="fp8")  # 405 GB over 24 GB cards
    assert e.fits and e.pipeline_parallel > 1 and e.tensor_parallel == 8
    assert e.devices_per_replica == 8 * e.pipeline_parallel


def test_plan_reports_parallelism_and_respects_latency_with_another_group(model):
    res = plan(model, Demand("llama2-70b", throughput=20_000))
    assert {"tensor_parallel", "pipeline_parallel", "replicas"} <= set(res.ranked.columns)
    r = res.ranked.iloc[0]
    assert r["devices_per_replica"] == r["tensor_parallel"] * r["pipeline_parallel"]
    assert r["replicas"] * r["devices_per_replica"] <= r["count"]
