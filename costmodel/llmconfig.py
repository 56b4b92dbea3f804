"""Your own model: a Hugging Face `config.json` (read from a local file, never from a hub) or a short form
(parameters, layers, hidden size, heads, KV heads, experts) turned into the architecture facts the serving
model reads.

Supported: dense and MoE decoder models of these `model_type`s: llama, mistral, mixtral, qwen2, qwen2_moe, qwen3,
qwen3_moe, deepseek_v2 / deepseek_v3 (multi-head latent attention, routed + shared experts), gpt_neox, gptj.
Parameters are counted from the shapes (embeddings, attention, MLP or experts, norms, router); the KV cache per
token per layer is 2 x KV heads x head dim (MLA: the compressed latent plus the rotary key). A config whose
architecture equals a reference workload's is that workload (same prediction).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hwplan.core.errors import HwplanError

SUPPORTED = ("llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "deepseek_v2", "deepseek_v3",
             "gpt_neox", "gptj")
MAX_CONFIG_BYTES = 1 << 20
MAX_FIELD = 1 << 30      # no dimension, layer or expert count of a real model comes near this
# the fields that define an architecture for the serving model (two models that agree on these are the same)
FINGERPRINT = ("layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "kv_values", "n_experts", "experts_per_token",
               "vocab")


class ConfigError(HwplanError):
    """A model config that cannot be read: names the field and what was expected."""

    def __init__(self, source: str, field: str, message: str, expected: str = ""):
        self.source, self.field = source, field
        tail = f" (expected {expected})" if expected else ""
        super().__init__(f"{source}: {field}: {message}{tail}")


def read_config(path: str | Path) -> dict[str, Any]:
    """The architecture facts of a local config.json file."""
    p = Path(path)
    name = str(p)
    if not p.is_file():
        raise ConfigError(name, "file", "does not exist or is not a file", "a path to a Hugging Face config.json")
    if p.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(name, "file", f"is {p.stat().st_size:,} bytes", f"a config.json under {MAX_CONFIG_BYTES:,} bytes")
    try:
        cfg = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(name, "file", f"is not JSON ({err})", "a Hugging Face config.json") from None
    return from_config(cfg, name)


def from_config(cfg: Any, source: str = "config.json") -> dict[str, Any]:
    """Architecture facts from a parsed config.json (a dict)."""
    if not isinstance(cfg, dict):
        raise ConfigError(source, "file", f"holds a {type(cfg).__name__}", "a JSON object")
    mt = cfg.get("model_type")
    if not isinstance(mt, str) or not mt:
        raise ConfigError(source, "model_type", "is missing", "one of " + ", ".join(SUPPORTED))
    if mt not in SUPPORTED:
        raise ConfigError(source, "model_type", f"'{mt}' is not supported", "one of " + ", ".join(SUPPORTED))
    g = _Getter(cfg, source)
    if mt == "gptj":
        d, L, nh = g.whole("n_embd"), g.whole("n_layer"), g.whole("n_head")
        vocab = g.whole("vocab_size")
        ff = g.whole("n_inner", 4 * d) if cfg.get("n_inner") is not None else 4 * d
        hd = g.div(d, nh, "n_head")
        layer = 4 * d * d + 2 * d * ff + ff + d + 2 * d       # q k v o (no bias), fc_in/out with bias, one LayerNorm
        params = vocab * d + L * layer + 2 * d + vocab * d + vocab  # + final LayerNorm, lm_head with bias
        return _facts(mt, cfg, L, d, nh, nh, hd, ff, 0, 0, vocab, params, params)
    if mt == "gpt_neox":
        d, L, nh = g.whole("hidden_size"), g.whole("num_hidden_layers"), g.whole("num_attention_heads")
        vocab, ff = g.whole("vocab_size"), g.whole("intermediate_size")
        hd = g.div(d, nh, "num_attention_heads")
        layer = (3 * d * d + 3 * d) + (d * d + d) + (2 * d * ff + ff + d) + 4 * d  # qkv, dense, mlp (biases), 2 LayerNorms
        tied = _flag(cfg, "tie_word_embeddings", source)
        params = vocab * d + L * layer + 2 * d + (0 if tied else vocab * d)
        return _facts(mt, cfg, L, d, nh, nh, hd, ff, 0, 0, vocab, params, params)
    d, L, nh = g.whole("hidden_size"), g.whole("num_hidden_layers"), g.whole("num_attention_heads")
    vocab = g.whole("vocab_size")
    kvh = g.whole("num_key_value_heads", nh) if cfg.get("num_key_value_heads") is not None else nh
    if kvh > nh or nh % kvh:
        raise ConfigError(source, "num_key_value_heads", f"{kvh} does not divide num_attention_heads {nh}",
                          "a divisor of num_attention_heads")
    tied = _flag(cfg, "tie_word_embeddings", source)
    emb = vocab * d * (1 if tied else 2)
    if mt.startswith("deepseek"):
        return _deepseek(mt, cfg, g, d, L, nh, vocab, emb)
    hd = g.whole("head_dim") if cfg.get("head_dim") is not None else g.div(d, nh, "num_attention_heads")
    bias = mt in ("qwen2", "qwen2_moe") or bool(cfg.get("attention_bias", False))
    attn = d * nh * hd + 2 * d * kvh * hd + nh * hd * d + (nh * hd + 2 * kvh * hd if bias else 0)
    if mt in ("qwen3", "qwen3_moe"):
        attn += 2 * hd  # q_norm, k_norm
    norms = 2 * d
    if mt in ("mixtral", "qwen2_moe", "qwen3_moe"):
        E = g.whole("num_local_experts") if mt == "mixtral" else g.whole("num_experts")
        k = g.whole("num_experts_per_tok")
        if k > E:
            raise ConfigError(source, "num_experts_per_tok", f"{k} is more than the {E} experts", f"at most {E}")
        eff = g.whole("intermediate_size") if mt == "mixtral" else g.whole("moe_intermediate_size")
        expert = 3 * d * eff
        shared = 0
        if mt == "qwen2_moe" and cfg.get("shared_expert_intermediate_size"):
            shared = 3 * d * g.whole("shared_expert_intermediate_size") + d  # + the shared expert's gate
        moe_layers = _moe_layers(cfg, g, L, mt)
        dense_ff = g.whole("intermediate_size") if mt != "mixtral" and cfg.get("intermediate_size") else eff
        dense_mlp = 3 * d * dense_ff
        total = emb + d + L * (attn + norms) + moe_layers * (E * expert + d * E + shared) + (L - moe_layers) * dense_mlp
        active = emb + d + L * (attn + norms) + moe_layers * (k * expert + d * E + shared) + (L - moe_layers) * dense_mlp
        return _facts(mt, cfg, L, d, nh, kvh, hd, eff, E, k, vocab, total, active)
    ff = g.whole("intermediate_size")
    params = emb + d + L * (attn + norms + 3 * d * ff)
    return _facts(mt, cfg, L, d, nh, kvh, hd, ff, 0, 0, vocab, params, params)


def _deepseek(mt, cfg, g, d, L, nh, vocab, emb) -> dict[str, Any]:
    nope, rope, vhd = g.whole("qk_nope_head_dim"), g.whole("qk_rope_head_dim"), g.whole("v_head_dim")
    kv_lora = g.whole("kv_lora_rank")
    q_lora = g.whole("q_lora_rank") if cfg.get("q_lora_rank") is not None else 0
    qk = nope + rope
    q = (d * q_lora + q_lora + q_lora * nh * qk) if q_lora else d * nh * qk
    attn = q + d * (kv_lora + rope) + kv_lora + kv_lora * nh * (nope + vhd) + nh * vhd * d
    E, k = g.whole("n_routed_experts"), g.whole("num_experts_per_tok")
    if k > E:
        raise ConfigError(g.source, "num_experts_per_tok", f"{k} is more than the {E} routed experts", f"at most {E}")
    eff = g.whole("moe_intermediate_size")
    shared = g.whole("n_shared_experts", 0) if cfg.get("n_shared_experts") is not None else 0
    dense_ff = g.whole("intermediate_size")
    first_dense = g.whole("first_k_dense_replace", 0) if cfg.get("first_k_dense_replace") is not None else 0
    if first_dense > L:
        raise ConfigError(g.source, "first_k_dense_replace", f"{first_dense} is more than the {L} layers", f"at most {L}")
    moe_layers = L - first_dense
    expert = 3 * d * eff
    router = d * E + (E if mt == "deepseek_v3" else 0)  # V3 adds a routing bias per expert
    base = emb + d + L * (attn + 2 * d) + first_dense * 3 * d * dense_ff
    total = base + moe_layers * (E * expert + shared * expert + router)
    active = base + moe_layers * (k * expert + shared * expert + router)
    # MLA caches the compressed KV latent and the rotary key once per token per layer (not per head)
    # MLA's latent is one per token, the same on every tensor-parallel device: one "KV head" (not split by TP)
    facts = _facts(mt, cfg, L, d, nh, 1, (qk + vhd) / 2, eff, E, k, vocab, total, active)
    facts["kv_values"] = float(kv_lora + rope)
    return facts


def _moe_layers(cfg, g, L, mt) -> int:
    if mt == "mixtral":
        return L
    step = g.whole("decoder_sparse_step", 1) if cfg.get("decoder_sparse_step") is not None else 1
    only = cfg.get("mlp_only_layers") or []
    if not isinstance(only, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in only):
        raise ConfigError(g.source, "mlp_only_layers", f"is {only!r}", "a list of layer indices")
    return sum(1 for i in range(L) if i not in only and step > 0 and (i + 1) % step == 0)


def _facts(mt, cfg, L, d, nh, kvh, hd, ff, E, k, vocab, params, active) -> dict[str, Any]:
    name = cfg.get("_name_or_path") or (cfg.get("architectures") or [mt])[0]
    return {"model_type": mt, "name": str(name), "params": float(params), "active_params": float(active),
            "layers": float(L), "d_model": float(d), "n_heads": float(nh), "n_kv_heads": float(kvh),
            "head_dim": float(hd), "kv_values": float(2 * kvh * hd), "d_ff": float(ff), "n_experts": float(E),
            "experts_per_token": float(k), "vocab": float(vocab)}


def _flag(cfg: dict, key: str, source: str) -> bool:
    v = cfg.get(key, False)
    if not isinstance(v, bool):
        raise ConfigError(source, key, f"is {v!r}", "true or false")
    return v


class _Getter:
    def __init__(self, cfg: dict, source: str):
        self.cfg, self.source = cfg, source

    def whole(self, key: str, default: int | None = None) -> int:
        v = self.cfg.get(key, default)
        if v is None:
            raise ConfigError(self.source, key, "is missing", "a whole number > 0")
        try:
            ok = not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v) and v == int(v)
        except OverflowError:  # an int too large for a float
            ok = False
        if not ok or abs(v) > MAX_FIELD:
            raise ConfigError(self.source, key, f"is {str(v)[:40]!r}", f"a whole number > 0 (at most {MAX_FIELD:,})")
        if int(v) < (0 if default == 0 else 1):
            raise ConfigError(self.source, key, f"is {int(v)}", "a whole number > 0")
        return int(v)

    def div(self, a: int, b: int, key: str) -> int:
        if a % b:
            raise ConfigError(self.source, key, f"{b} does not divide the hidden size {a}", "a divisor of the hidden size")
        return a // b


SHORT_FORM = ("params", "layers", "d_model", "n_heads", "n_kv_heads")


def from_short_form(params: float, layers: int, d_model: int, n_heads: int, n_kv_heads: int | None = None,
                    n_experts: int = 0, experts_per_token: int = 0, active_params: float | None = None,
                    vocab: int = 32000, head_dim: int | None = None) -> dict[str, Any]:
    """Architecture facts from the few numbers a model card gives (the dashboard's short form)."""
    src = "short form"

    def number(k, v, whole=False, low=0.0, optional=False):
        if v is None and optional:
            return None
        try:
            ok = (not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v) and v > low
                  and abs(v) <= 1e16 and (not whole or v == int(v)))
        except OverflowError:
            ok = False
        if not ok:
            raise ConfigError(src, k, f"is {str(v)[:40]!r}", ("a whole number" if whole else "a number")
                              + (" >= 0" if low < 0 else " > 0"))
        return float(v)

    params = number("params", params)
    layers, d_model, n_heads = (number(k, v, whole=True) for k, v in
                                (("layers", layers), ("d_model", d_model), ("n_heads", n_heads)))
    n_kv_heads = number("n_kv_heads", n_kv_heads, whole=True, optional=True)
    n_experts = number("n_experts", 0 if n_experts is None else n_experts, whole=True, low=-0.5)
    experts_per_token = number("experts_per_token", 0 if experts_per_token is None else experts_per_token, whole=True,
                               low=-0.5)
    active_params = number("active_params", active_params, optional=True)
    vocab = number("vocab", vocab, whole=True)
    head_dim = number("head_dim", head_dim, optional=True)
    kvh = n_kv_heads or n_heads
    if kvh > n_heads or n_heads % kvh:
        raise ConfigError(src, "n_kv_heads", f"{kvh:g} does not divide n_heads {n_heads:g}", "a divisor of n_heads")
    if n_experts and (not experts_per_token or experts_per_token > n_experts):
        raise ConfigError(src, "experts_per_token", f"is {experts_per_token!r}", f"1 to {n_experts:g} for an MoE model")
    if n_experts and active_params is None:
        raise ConfigError(src, "active_params", "is missing", "the parameters active per token of the MoE model")
    if active_params is not None and not (0 < active_params <= params):
        raise ConfigError(src, "active_params", f"is {active_params!r}", f"a number > 0 and at most params ({params:g})")
    hd = head_dim or d_model / n_heads
    return {"model_type": "short-form", "name": "custom model", "params": float(params),
            "active_params": float(active_params or params), "layers": float(layers), "d_model": float(d_model),
            "n_heads": float(n_heads), "n_kv_heads": float(kvh), "head_dim": float(hd), "kv_values": float(2 * kvh * hd),
            "d_ff": float("nan"), "n_experts": float(n_experts or 0), "experts_per_token": float(experts_per_token or 0),
            "vocab": float(vocab)}


def fingerprint(facts: dict[str, Any]) -> tuple:
    return tuple(round(float(facts.get(k) or 0.0), 3) for k in FINGERPRINT)
