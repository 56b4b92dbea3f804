"""Transformer blocks in plain torch.nn: BERT encoder, and decoder layers for Llama (RMSNorm, RoPE, GQA, SwiGLU),
GPT-J (parallel attention and MLP, partial rotary, GELU) and Mixtral (8 experts, top-2 routing), with a KV cache."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# ---- BERT ------------------------------------------------------------------------------------------


class EncoderLayer(nn.Module):
    """Post-LN BERT layer: self-attention, add & norm, GELU FFN, add & norm."""

    def __init__(self, d: int, heads: int, ffn: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.norm1 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, ffn)
        self.fc2 = nn.Linear(ffn, d)
        self.norm2 = nn.LayerNorm(d)

    def forward(self, x):
        b, s, d = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, s, d)
        x = self.norm1(x + self.proj(a))
        return self.norm2(x + self.fc2(F.gelu(self.fc1(x))))


class Bert(nn.Module):
    """BERT with a SQuAD span head; `layers` may be fewer than 24 (k of L at true width)."""

    def __init__(self, layers: int = 24, d: int = 1024, heads: int = 16, ffn: int = 4096, vocab: int = 30522,
                 max_pos: int = 512):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_pos, d)
        self.typ = nn.Embedding(2, d)
        self.norm = nn.LayerNorm(d)
        self.layers = nn.ModuleList(EncoderLayer(d, heads, ffn) for _ in range(layers))
        self.qa = nn.Linear(d, 2)

    def forward(self, ids):
        pos = torch.arange(ids.shape[1], device=ids.device)
        x = self.norm(self.tok(ids) + self.pos(pos)[None] + self.typ(torch.zeros_like(ids)))
        for layer in self.layers:
            x = layer(x)
        return self.qa(x)


# ---- decoder LLMs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LLMConfig:
    """Architecture of one decoder LLM (sources in profiler/suite.py)."""

    d_model: int
    n_heads: int
    n_kv_heads: int
    ffn: int
    layers: int
    vocab: int
    style: str = "llama"  # llama | gptj | mixtral
    experts: int = 1
    top_k: int = 1
    rotary_dim: int | None = None  # None: the whole head

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        h = x.float()
        return (h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype) * self.weight


def rotary(x: torch.Tensor, start: int, dims: int) -> torch.Tensor:
    """Rotary position embedding on the first `dims` of each head, positions start..start+len."""
    _b, _h, s, _hd = x.shape
    half = dims // 2
    inv = 1.0 / (10000 ** (torch.arange(half, device=x.device, dtype=torch.float32) / half))
    ang = torch.arange(start, start + s, device=x.device, dtype=torch.float32)[:, None] * inv[None]
    cos, sin = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
    x1, x2, rest = x[..., :half], x[..., half:dims], x[..., dims:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos, rest], -1)


class SwiGLU(nn.Module):
    def __init__(self, d: int, ffn: int):
        super().__init__()
        self.gate = nn.Linear(d, ffn, bias=False)
        self.up = nn.Linear(d, ffn, bias=False)
        self.down = nn.Linear(ffn, d, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))


class GeluMLP(nn.Module):
    def __init__(self, d: int, ffn: int):
        super().__init__()
        self.fc_in = nn.Linear(d, ffn)
        self.fc_out = nn.Linear(ffn, d)

    def forward(self, x):
        return self.fc_out(F.gelu(self.fc_in(x), approximate="tanh"))


class MoE(nn.Module):
    """Sparse mixture of SwiGLU experts: each token goes to its top-k experts, weighted by the router."""

    def __init__(self, d: int, ffn: int, experts: int, top_k: int):
        super().__init__()
        self.router = nn.Linear(d, experts, bias=False)
        self.experts = nn.ModuleList(SwiGLU(d, ffn) for _ in range(experts))
        self.top_k = top_k

    def forward(self, x):
        shape = x.shape
        h = x.reshape(-1, shape[-1])
        weights, chosen = torch.topk(torch.softmax(self.router(h).float(), -1), self.top_k, dim=-1)
        weights = (weights / weights.sum(-1, keepdim=True)).to(h.dtype)
        out = torch.zeros_like(h)
        for e, expert in enumerate(self.experts):
            tok, slot = torch.nonzero(chosen == e, as_tuple=True)
            if tok.numel():
                out.index_add_(0, tok, expert(h[tok]) * weights[tok, slot, None])
        return out.reshape(shape)


class DecoderLayer(nn.Module):
    def __init__(self, cfg: LLMConfig):
        super().__init__()
        self.cfg = cfg
        d, hd = cfg.d_model, cfg.head_dim
        norm = (lambda: nn.LayerNorm(d)) if cfg.style == "gptj" else (lambda: RMSNorm(d))
        bias = False
        self.norm1 = norm()
        self.q = nn.Linear(d, cfg.n_heads * hd, bias=bias)
        self.k = nn.Linear(d, cfg.n_kv_heads * hd, bias=bias)
        self.v = nn.Linear(d, cfg.n_kv_heads * hd, bias=bias)
        self.o = nn.Linear(cfg.n_heads * hd, d, bias=bias)
        if cfg.style == "gptj":
            self.mlp = GeluMLP(d, cfg.ffn)
        else:
            self.norm2 = norm()
            self.mlp = MoE(d, cfg.ffn, cfg.experts, cfg.top_k) if cfg.experts > 1 else SwiGLU(d, cfg.ffn)

    def attention(self, h, cache, pos: int):
        cfg = self.cfg
        b, s, _ = h.shape
        q = self.q(h).view(b, s, cfg.n_heads, cfg.head_dim).transpose(1, 2)
        k = self.k(h).view(b, s, cfg.n_kv_heads, cfg.head_dim).transpose(1, 2)
        v = self.v(h).view(b, s, cfg.n_kv_heads, cfg.head_dim).transpose(1, 2)
        rd = cfg.rotary_dim or cfg.head_dim
        q, k = rotary(q, pos, rd), rotary(k, pos, rd)
        if cache is not None:
            kc, vc = cache
            kc[:, :, pos:pos + s] = k
            vc[:, :, pos:pos + s] = v
            k, v = kc[:, :, :pos + s], vc[:, :, :pos + s]
        gqa = cfg.n_kv_heads != cfg.n_heads
        a = F.scaled_dot_product_attention(q, k, v, is_causal=s > 1, enable_gqa=gqa)
        return self.o(a.transpose(1, 2).reshape(b, s, -1))

    def forward(self, x, cache=None, pos: int = 0):
        h = self.norm1(x)
        if self.cfg.style == "gptj":
            return x + self.attention(h, cache, pos) + self.mlp(h)
        x = x + self.attention(h, cache, pos)
        return x + self.mlp(self.norm2(x))


class DecoderStack(nn.Module):
    """k decoder layers at true width, fed hidden states (embedding lookup and LM head are not included)."""

    def __init__(self, cfg: LLMConfig, layers: int):
        super().__init__()
        self.cfg = cfg
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(layers))

    def forward(self, x, caches=None, pos: int = 0):
        for i, layer in enumerate(self.layers):
            x = layer(x, None if caches is None else caches[i], pos)
        return x

    def new_cache(self, batch: int, max_len: int, device, dtype):
        cfg = self.cfg
        shape = (batch, cfg.n_kv_heads, max_len, cfg.head_dim)
        return [(torch.zeros(shape, device=device, dtype=dtype), torch.zeros(shape, device=device, dtype=dtype))
                for _ in self.layers]

    def layer_param_count(self) -> int:
        return sum(p.numel() for p in self.layers[0].parameters())
