"""The serving step model's physics, pinned by hand-computed cases (hwplan.costmodel.serving)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwplan.core.vocab import TOPOLOGIES
from hwplan.costmodel import serving as sv

# Llama 2 70B (tests/costmodel/configs/llama2-70b.json): 80 layers, d 8192, 64 heads, 8 KV heads of 128
LLAMA2_70B = dict(params=68_976_648_192.0, active=68_976_648_192.0, layers=80.0, d_model=8192.0, n_heads=64.0,
                  kv_heads=8.0, head_dim=128.0, kv_values=2 * 8 * 128.0, n_experts=0.0, experts_per_token=0.0,
                  vocab=32000.0)
# Mixtral 8x7B: 46.7B total, 12.9B active, 8 experts, 2 per token
MIXTRAL = dict(params=46_702_792_704.0, active=12_879_925_248.0, layers=32.0, d_model=4096.0, n_heads=32.0,
               kv_heads=8.0, head_dim=128.0, kv_values=2 * 8 * 128.0, n_experts=8.0, experts_per_token=2.0,
               vocab=32000.0)


def arch(**kw) -> sv.Arch:
    return sv.Arch(**{k: np.asarray(v, dtype=float) for k, v in kw.items()})


def hardware(peak=1e15, bw=3.35e12, mem=80 * 2 ** 30, link=450e9, topology="nvswitch", per_node=8, scaleup=8,
             scaleout=50e9, pcie=64e9) -> sv.Hardware:
    f = lambda v: np.asarray(v, dtype=float)
    return sv.Hardware(peak=f(peak), bw=f(bw), mem=f(mem), link=f(link), topology=f(TOPOLOGIES.index(topology)),
                       per_node=f(per_node), scaleup=f(scaleup), scaleout=f(scaleout), pcie=f(pcie), oh_fixed=f(0.0),
                       oh_layer=f(0.0))


def layout(tp=1, pp=1, ep=False) -> sv.Layout:
    return sv.Layout(tp=np.asarray(float(tp)), pp=np.asarray(float(pp)), ep=np.asarray(ep))


def test_a_70b_decode_step_at_batch_1_reads_the_weights_once():
    a, hw = arch(**LLAMA2_70B), hardware()
    c, cp, m, x, _o = sv.round_parts(a, hw, layout(), dec=1.0, pf=0.0, ctx_dec=0.0, ctx_pf=0.0, wb=1.0)
    assert float(m) == pytest.approx(68_976_648_192 / 3.35e12)   # 20.6 ms at fp8 on 3.35 TB/s
    assert float(c) == pytest.approx(2 * 68_976_648_192 / 1e15)  # 2 FLOPs per parameter for one token
    assert float(cp) == 0.0 and float(x) == 0.0
    # tensor parallel 8 splits the weights: each device reads 1/8 of them per step
    _, _, m8, x8, _ = sv.round_parts(a, hw, layout(tp=8), dec=1.0, pf=0.0, ctx_dec=0.0, ctx_pf=0.0, wb=1.0)
    assert float(m8) == pytest.approx(float(m) / 8)
    assert float(x8) > 0  # two all-reduces per layer over the link


def test_kv_cache_per_token_is_two_x_layers_x_kv_heads_x_head_dim_x_bytes():
    a = arch(**LLAMA2_70B)
    assert float(a.kv_bytes_per_token(2.0)) == 2 * 80 * 8 * 128 * 2  # 327,680 B per token at fp16
    assert float(a.kv_bytes_per_token(1.0)) == 2 * 80 * 8 * 128      # fp8 halves it


def test_moe_reads_every_expert_at_serving_batch_and_computes_only_the_active_ones():
    a, hw = arch(**MIXTRAL), hardware()
    _, _, m1, _, _ = sv.round_parts(a, hw, layout(), dec=1.0, pf=0.0, ctx_dec=0.0, ctx_pf=0.0, wb=2.0)
    c256, _, m256, _, _ = sv.round_parts(a, hw, layout(), dec=256.0, pf=0.0, ctx_dec=0.0, ctx_pf=0.0, wb=2.0)
    experts = float(a.expert_params())
    dense = MIXTRAL["params"] - experts
    # one token touches 2 of 8 experts; 256 tokens touch all of them (1 - (6/8)^256 = 1)
    assert float(m1) == pytest.approx((dense + experts * 2 / 8) * 2.0 / 3.35e12)
    assert float(m256) == pytest.approx(MIXTRAL["params"] * 2.0 / 3.35e12)
    assert float(c256) == pytest.approx(2 * MIXTRAL["active"] * 256 / 1e15)


def test_the_batch_is_what_the_memory_left_after_weights_holds_in_paged_kv_cache():
    a, hw = arch(**LLAMA2_70B), hardware(mem=80 * 2 ** 30)
    w_dev, act, budget, _shards, per_seq, b_max = sv.memory(a, hw, layout(tp=2), 1.0, 1.0, 1000.0, 200.0)
    assert float(w_dev) == pytest.approx(68_976_648_192 / 2)
    assert float(budget) == pytest.approx(sv.KV_FREE_FRACTION * (80 * 2 ** 30 - float(w_dev) - float(act)
                                                                 - sv.RUNTIME_RESERVE_B))
    # paged: a sequence holds its prompt and half its output on average; the KV heads split over tp 2
    assert float(per_seq) == 2 * 80 * 8 * 128 * (1000 + 100)
    assert float(b_max) == np.floor(float(budget) * 2 / float(per_seq))
    # a scheduler that reserves whole requests (TensorRT-LLM's default) holds prompt + whole output
    *_, per_full, b_full = sv.memory(a, hw, layout(tp=2), 1.0, 1.0, 1000.0, 200.0, reserve=1.0)
    assert float(per_full) == 2 * 80 * 8 * 128 * 1200 and float(b_full) < float(b_max)


def test_links_count_one_direction_and_follow_the_topology():
    k = np.array([2.0, 4.0, 8.0, 16.0])
    assert list(sv.group_bandwidth(hardware(topology="nvswitch"), k)) == [450e9, 450e9, 450e9, 50e9]
    # bridges join pairs only; four devices fall back to PCIe
    assert list(sv.group_bandwidth(hardware(topology="bridge", link=56e9), k)) == [56e9, 64e9, 64e9, 50e9]
    # a full mesh of 8: each peer gets one of the 7 links' share
    mesh = sv.group_bandwidth(hardware(topology="mesh", link=448e9), k)
    assert mesh[0] == pytest.approx(448e9 / 7) and mesh[2] == pytest.approx(448e9)
    # a 72-device scale-up domain (NVL72) keeps link speed past the 4-device tray
    nvl = sv.group_bandwidth(hardware(per_node=4, scaleup=72, link=900e9), np.array([8.0, 64.0, 128.0]))
    assert list(nvl) == [900e9, 900e9, 50e9]


@settings(max_examples=60, deadline=None)
@given(batch=st.sampled_from([0, 1, 8, 64, 512]), in_len=st.integers(1, 32_000), out_len=st.integers(1, 8_000),
       tp=st.sampled_from([1, 2, 4, 8]), ec=st.floats(0.05, 1.0), em=st.floats(0.05, 1.0))
def test_no_prediction_exceeds_the_physical_ceiling(batch, in_len, out_len, tp, ec, em):
    a, hw = arch(**LLAMA2_70B), hardware()
    p = sv.parts(a, hw, layout(tp=tp), 1.0, 1.0, float(in_len), float(out_len), batch=float(batch))
    m = sv.combine(p, ec, em)
    if bool(p.fits):
        assert float(m.throughput) <= float(p.ceiling) * (1 + 1e-9)
        assert float(m.ttft_p99) >= float(m.ttft_p50) > 0 and float(m.tpot_p99) >= float(m.tpot_p50) > 0
    else:
        assert float(m.throughput) == 0.0
