"""Training runs: the step model's physics pinned by hand-computed cases, and runs on the fitted model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwplan.core import paths
from hwplan.core.errors import HwplanError
from hwplan.costmodel import training as tr
from hwplan.costmodel.api import Demand, plan, predict_training

P7 = 6.74e9


def net(params=P7, layers=32.0, d_model=4096.0, heads=32.0, seq=4096.0, lora=0.0, is_llm=1.0, flops_fwd=0.0,
        act_bytes=0.0) -> tr.Net:
    f = lambda v: np.asarray(v, dtype=float)
    return tr.Net(params=f(params), active=f(params), layers=f(layers), d_model=f(d_model), attn_dim=f(d_model),
                  n_heads=f(heads), seq=f(seq), vocab=f(32000), n_experts=f(0), top_k=f(0), is_llm=f(is_llm),
                  flops_fwd=f(flops_fwd), act_bytes=f(act_bytes), lora=f(lora))


def layout(dp=1, tp=1, pp=1, mb=1, zero=0, recompute=1) -> tr.Layout:
    f = lambda v: np.asarray(v, dtype=float)
    return tr.Layout(dp=f(dp), tp=f(tp), pp=f(pp), ep=f(1), mb=f(mb), vp=f(1), zero=f(zero), recompute=f(recompute))


def test_model_flops_are_6n_per_token_plus_attention():
    n = net(seq=1.0)
    # 6 x 6.74e9 = 4.044e10, attention 12 x 32 layers x 4096 x 1 token of context = 1,572,864
    assert float(n.model_flops_per_unit()) == pytest.approx(4.044e10 + 1_572_864)
    assert float(net(seq=2048.0).model_flops_per_unit()) == pytest.approx(4.044e10 + 12 * 32 * 4096 * 2048)
    # full recomputation runs the forward twice: 8N instead of 6N (+ the attention forward)
    full = float(n.hardware_flops_per_unit(np.asarray(2.0)))
    assert full == pytest.approx(8 * P7 + 1_572_864 + 4 * 32 * 4096)
    # LoRA: no weight gradients for the frozen base, 4N + 6 x the adapters; attention (no weights) unchanged
    lora = net(seq=1.0, lora=1.0)
    adapters = 4 * 2 * 16 * 4096 * 32
    assert float(lora.model_flops_per_unit()) == pytest.approx(4 * P7 + 6 * adapters + 1_572_864)
    # other models: 3 x the forward FLOPs per sample (ResNet-50: 3 x 8.2 GFLOP)
    assert float(net(is_llm=0.0, flops_fwd=8.2e9).model_flops_per_unit()) == pytest.approx(24.6e9)


def test_adam_state_is_16_bytes_per_parameter_without_sharding():
    m = tr.memory(net(), layout())
    assert float(m.weights) == pytest.approx(2 * P7)       # 16-bit weights
    assert float(m.grads) == pytest.approx(2 * P7)         # 16-bit gradients
    assert float(m.optimizer) == pytest.approx(12 * P7)    # fp32 master + Adam m and v (ZeRO paper's K = 12)


@given(st.sampled_from([2, 4, 8, 64, 512]), st.sampled_from([1, 2, 8]), st.sampled_from([1, 4]))
@settings(max_examples=30, deadline=None)
def test_zero_sharding_divides_state_by_the_data_parallel_size(dp, tp, pp):
    n = net()
    states = lambda z: tr.memory(n, layout(dp=dp, tp=tp, pp=pp, zero=z))
    z0, z1, z2, z3 = (states(z) for z in (0, 1, 2, 3))
    per = P7 / (tp * pp)
    assert float(z0.weights + z0.grads + z0.optimizer) == pytest.approx(16 * per)
    assert float(z1.optimizer) == pytest.approx(12 * per / dp) and float(z1.grads) == pytest.approx(2 * per)
    assert float(z2.grads) == pytest.approx(2 * per / dp) and float(z2.weights) == pytest.approx(2 * per)
    assert float(z3.weights + z3.grads + z3.optimizer) == pytest.approx(16 * per / dp)
    # activations do not shard over dp
    assert float(z3.activations) == pytest.approx(float(z0.activations))


def test_moe_experts_shard_over_the_ranks_that_replicate_them():
    """Mixtral 8x7B: 46.7B total, 12.9B active, 8 experts, 2 per token -> experts (46.7 - 12.9) / 6 x 8 = 45.1B,
    shared 1.6B. On 8 devices with EP 8, each holds 1/8 of the experts and no two ranks share an expert (dp / ep = 1),
    so ZeRO cannot shard the expert state: 16 B x 5.6B = 90 GB, more than an 80 GB device."""
    f = lambda v: np.asarray(v, dtype=float)
    mix = tr.Net(params=f(46.7e9), active=f(12.9e9), layers=f(32), d_model=f(4096), attn_dim=f(4096), n_heads=f(32),
                 seq=f(4096), vocab=f(32000), n_experts=f(8), top_k=f(2), is_llm=f(1), flops_fwd=f(0), act_bytes=f(0),
                 lora=f(0))
    shared, expert = mix.split_params()
    assert float(expert) == pytest.approx((46.7e9 - 12.9e9) / 6 * 8)
    assert float(shared + expert) == pytest.approx(46.7e9)
    lay = tr.Layout(dp=f(8), tp=f(1), pp=f(1), ep=f(8), mb=f(1), vp=f(1), zero=f(3), recompute=f(1))
    m = tr.memory(mix, lay)
    per_expert_dev = float(expert) / 8
    assert float(m.optimizer) == pytest.approx(12 * (float(shared) / 8 + per_expert_dev))
    assert float(m.weights + m.grads + m.optimizer) > 85e9
    # with 64 devices (dp / ep = 8 replicas of each expert) ZeRO-3 shards the experts 8 ways too
    m64 = tr.memory(mix, tr.Layout(dp=f(64), tp=f(1), pp=f(1), ep=f(8), mb=f(1), vp=f(1), zero=f(3), recompute=f(1)))
    assert float(m64.optimizer) == pytest.approx(12 * (float(shared) / 64 + per_expert_dev / 8))


def test_zero3_pays_its_gathers_every_micro_batch():
    from hwplan.costmodel import serving as sv

    f = lambda v: np.asarray(v, dtype=float)
    hw = sv.Hardware(peak=f(1e15), bw=f(3e12), mem=f(80e9), link=f(450e9), topology=f(0), per_node=f(8), scaleup=f(8),
                     scaleout=f(50e9), pcie=f(64e9), oh_fixed=f(0), oh_layer=f(0))
    n = net()
    one = tr.step_parts(n, hw, layout(dp=64, tp=1, mb=1, zero=3), 64)    # 1 micro-batch per step
    four = tr.step_parts(n, hw, layout(dp=64, tp=1, mb=1, zero=3), 256)  # 4 micro-batches per step
    z1 = tr.step_parts(n, hw, layout(dp=64, tp=1, mb=1, zero=1), 256)
    assert float(four.micro_batches) == 4
    bw_one = float(one.dp_comm - one.dp_latency)
    assert float(four.dp_comm - four.dp_latency) == pytest.approx(4 * bw_one)
    # ZeRO-1 all-reduces once per step: 1 / 1.5 of one ZeRO-3 micro-batch
    assert float(z1.dp_comm - z1.dp_latency) == pytest.approx(bw_one / 1.5)


def test_activation_memory_follows_korthikanti():
    n = net(seq=2048.0)
    sel = tr.memory(n, layout(tp=8, recompute=1)).activations
    full = tr.memory(n, layout(tp=8, recompute=2)).activations
    logits = 2048 * 32000 * 4.0 / 8
    assert float(sel) == pytest.approx(34 * 2048 * 4096 * 32 / 8 + logits)
    assert float(full) == pytest.approx(2 * 2048 * 4096 * 32 / 8 + 34 * 2048 * 4096 / 8 + logits)


@given(st.integers(2, 4096), st.floats(1e6, 1e11), st.floats(1e9, 1e12))
@settings(max_examples=50, deadline=None)
def test_ring_allreduce_moves_2_n_minus_1_over_n_of_the_bytes(n, nbytes, bw):
    assert float(tr.ring_allreduce_s(n, nbytes, bw)) == pytest.approx(2 * (n - 1) / n * nbytes / bw)
    assert float(tr.ring_allreduce_s(1, nbytes, bw)) == 0.0
    assert float(tr.ring_allreduce_s(n, nbytes, bw, 1e-5)) == pytest.approx(2 * (n - 1) / n * nbytes / bw
                                                                            + 2 * (n - 1) * 1e-5)


# ---- runs on the fitted model ----------------------------------------------------------------------------------

def test_a_70b_lora_fine_tune_fits_on_4_and_8_h100_but_full_training_does_not(model):
    for n in (4, 8):
        e = predict_training(model, "llama2-70b-lora", "nvidia-h100-sxm", n)
        assert e.fits and e.time_to_train_s > 0 and e.memory_gb_required < 80 * 1.074
        assert e.precision in ("bf16", "fp8")
    full = predict_training(model, "llama2-70b", "nvidia-h100-sxm", 8, tokens=1e9)
    assert not full.fits and "does not fit" in full.note


def test_a_run_reports_time_device_hours_cost_energy_and_layout(model):
    e = predict_training(model, "llama3.1-70b", "nvidia-h100-sxm", 1024, tokens=1e12)
    assert e.fits and e.mode == "training" and e.throughput_unit == "tokens/s"
    assert e.time_to_train_s == pytest.approx(1e12 / e.throughput, rel=1e-9)  # no benchmark overhead for a user run
    assert e.device_hours == pytest.approx(1024 * e.time_to_train_s / 3600)
    assert e.usd_per_run_cloud == pytest.approx(e.usd_per_hour_cloud * e.time_to_train_s / 3600)
    assert e.energy_kwh_per_run > 0 and e.co2_kg_per_run > 0 and 0.05 < e.mfu < 0.8
    assert e.data_parallel * e.tensor_parallel * e.pipeline_parallel == 1024
    assert e.time_to_train_low_s < e.time_to_train_s < e.time_to_train_high_s
    assert e.energy_kwh_per_run_low < e.energy_kwh_per_run < e.energy_kwh_per_run_high
    # never an inference format
    assert e.precision in ("bf16", "fp16", "fp8")
    with pytest.raises(HwplanError, match="int8"):
        predict_training(model, "resnet50", "nvidia-h100-sxm", 8, precision="int8")


def test_scaling_bends_the_way_real_systems_do(model):
    """MLPerf ResNet-50 runs speed up 50-75x from 8 to ~3,500 H100 (v3.0: 13.4 min -> 0.18 min); a model that
    scales linearly would say 448x."""
    small = predict_training(model, "resnet50", "nvidia-h100-sxm", 8)
    big = predict_training(model, "resnet50", "nvidia-h100-sxm", 3584)
    speedup = small.time_to_train_s / big.time_to_train_s
    assert 20 < speedup < 200
    assert big.global_batch > small.global_batch  # a larger global batch, which needs more epochs (RCPs)
    assert big.train_volume > small.train_volume


def test_a_reference_run_is_the_benchmark_and_an_llm_needs_a_volume(model):
    e = predict_training(model, "gpt3-175b", "nvidia-h100-sxm", 512)
    assert e.fits and "MLPerf Training gpt3" in e.train_volume_label
    with pytest.raises(HwplanError, match="--tokens"):
        predict_training(model, "llama3.1-8b", "nvidia-h100-sxm", 8)
    with pytest.raises(HwplanError, match="inference-only"):
        predict_training(model, "gpt-j", "nvidia-h100-sxm", 8, tokens=1e9)


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not (0 < x <= 1e16)),
                 st.sampled_from(["", "abc", "1e400", "-1", "0", None, True])))
@settings(max_examples=40, deadline=None)
def test_a_bad_volume_or_deadline_is_refused_naming_the_field(model, bad):
    if bad is None:
        return
    with pytest.raises(HwplanError, match="--tokens"):
        predict_training(model, "llama3.1-8b", "nvidia-h100-sxm", 8, tokens=bad)
    with pytest.raises(HwplanError, match="--deadline-hours"):
        plan(model, Demand(workload="resnet50", mode="training", deadline_hours=bad))


def test_a_training_plan_meets_the_deadline_at_the_lowest_cost(model):
    res = plan(model, Demand(workload="llama3.1-70b", mode="training", token_volume=1e12, deadline_hours=720))
    assert res.feasible and len(res.ranked)
    r = res.ranked
    assert (r["time_to_train_h"] <= 720).all() and r["usd_per_run_cloud"].is_monotonic_increasing
    assert {"device_hours", "energy_kwh_per_run", "co2_kg_per_run", "mfu", "data_parallel", "zero_stage"} <= set(r)
    # each run's time has an 80 % interval around it, the same as predict_training gives for that setup
    assert (r["time_to_train_low_h"] < r["time_to_train_h"]).all()
    assert (r["time_to_train_h"] < r["time_to_train_high_h"]).all()
    one = r.iloc[0]
    est = predict_training(model, "llama3.1-70b", one["device"], int(one["count"]), one["precision"], tokens=1e12)
    assert one["time_to_train_low_h"] * 3600 == pytest.approx(est.time_to_train_low_s, rel=0.02)
    assert one["time_to_train_high_h"] * 3600 == pytest.approx(est.time_to_train_high_s, rel=0.02)
    # a tighter deadline costs more per run (more devices at lower efficiency) or cannot be met
    tight = plan(model, Demand(workload="llama3.1-70b", mode="training", token_volume=1e12, deadline_hours=72))
    assert not tight.feasible or tight.ranked["usd_per_run_cloud"].iloc[0] >= r["usd_per_run_cloud"].iloc[0]


def shipped_rows_of(rows: pd.DataFrame, workload: str) -> int:
    return int((rows["workload"] == workload).sum())


def test_shipped_training_rows_are_what_the_raw_tables_map_to():
    from hwplan.core.catalog import load_catalog, load_workloads
    from hwplan.core.published_training import map_runs, map_training

    mlperf, vendor, nonllm, volumes = (pd.read_csv(p) for p in paths.RAW_TRAINING)
    rows, _ = map_training(mlperf, vendor, nonllm, load_catalog(), load_workloads())
    # byte for byte what scripts/build_published.py writes (nothing edited by hand)
    assert rows.to_csv(index=False, lineterminator="\n") == paths.PUBLISHED_TRAINING_CSV.read_text()
    assert len(rows) > 500
    assert rows["source"].astype(str).str.len().gt(10).all()
    runs = map_runs(volumes)
    assert runs.to_csv(index=False, lineterminator="\n") == paths.TRAINING_RUNS_CSV.read_text()
    assert runs["converge_samples"].gt(0).all() and set(runs["workload"]) == {"resnet50", "bert-large", "gpt3-175b",
                                                                               "llama2-70b-lora"}
    # MLPerf Training rounds after v3.1 are the independent check: no result of them in data/; the one v4.0 item is
    # the LoRA benchmark's definition and reference convergence points (no submission exists before v4.0)
    assert set(mlperf["round"]) <= {"v1.0", "v1.1", "v2.0", "v2.1", "v3.0", "v3.1"}
    assert set(runs.loc[runs["round"] != "v3.1", "workload"]) == {"llama2-70b-lora"}
    assert not shipped_rows_of(rows, "llama2-70b-lora")
    assert not vendor["notes"].astype(str).str.contains("CHECK").any()
