"""FLOPs from torch's counter against counts done by hand."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hwplan.profiler.flops import count_flops, param_bytes
from hwplan.profiler.workloads.recsys import FraudMLP
from hwplan.profiler.workloads.transformer import DecoderStack, LLMConfig


def test_linear_is_2_b_in_out():
    lin = nn.Linear(64, 32)
    x = torch.randn(8, 64)
    assert count_flops(lambda: lin(x)) == 2 * 8 * 64 * 32


def test_gemm_is_2_m_n_k():
    a, b = torch.randn(48, 40), torch.randn(40, 24)
    assert count_flops(lambda: a @ b) == 2 * 48 * 24 * 40


def test_fraud_mlp_by_layer():
    m = FraudMLP().eval()
    x = torch.randn(5, 100)
    hand = 2 * 5 * (100 * 512 + 512 * 256 + 256 * 128 + 128 * 1)
    with torch.inference_mode():
        assert count_flops(lambda: m(x)) == hand


def test_attention_is_4_b_h_s_s_d():
    b, h, s, d = 2, 4, 16, 8
    q, k, v = (torch.randn(b, h, s, d) for _ in range(3))
    assert count_flops(lambda: F.scaled_dot_product_attention(q, k, v)) == 4 * b * h * s * s * d


def test_conv2d_is_2_cout_hw_cin_kk():
    conv = nn.Conv2d(3, 16, 3, padding=1, bias=False)
    x = torch.randn(1, 3, 10, 10)
    assert count_flops(lambda: conv(x)) == 2 * 16 * 10 * 10 * 3 * 3 * 3


def test_decoder_prefill_is_projections_plus_attention():
    cfg = LLMConfig(d_model=64, n_heads=4, n_kv_heads=2, ffn=128, layers=2, vocab=100)
    m = DecoderStack(cfg, 2).eval()
    s = 12
    x = torch.randn(1, s, 64)
    hd = 16
    per_layer_matmul = 2 * s * (64 * 64 * 2 + 64 * 2 * hd * 2 + 3 * 64 * 128)
    attention = 4 * 4 * s * s * hd  # all heads, causal mask not discounted by the counter
    with torch.inference_mode():
        counted = count_flops(lambda: m(x))
    assert counted == pytest.approx(2 * (per_layer_matmul + attention), rel=1e-9)
    assert param_bytes(m) == 4 * sum(p.numel() for p in m.parameters())


def test_moe_counts_active_experts_only():
    cfg = LLMConfig(d_model=32, n_heads=2, n_kv_heads=2, ffn=64, layers=1, vocab=10, style="mixtral", experts=4, top_k=2)
    layer = DecoderStack(cfg, 1).eval()
    x = torch.randn(1, 6, 32)
    with torch.inference_mode():
        counted = count_flops(lambda: layer(x))
    tokens = 6
    attn_proj = 2 * tokens * (32 * 32 * 4)
    router = 2 * tokens * 32 * 4
    experts = 2 * tokens * 2 * (3 * 32 * 64)  # each token through top-2 experts
    attention = 4 * 2 * tokens * tokens * 16
    assert counted == attn_proj + router + experts + attention
