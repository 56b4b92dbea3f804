"""LLM serving, step by step: continuous batching over a paged KV cache, on any parallel layout.

A replica (tp x pp devices holding one copy of the model) serves B sequences at once. In the steady
state of continuous batching every step ("round": one token for every sequence in flight) carries B
decode tokens plus the prefill of the requests admitted meanwhile: B / O requests finish per round, so
B / O new ones enter and B I / O prompt tokens are prefilled per round on average (I prompt, O output
tokens per request). Each round costs

    t = max(FLOPs / (peak e_c), bytes / (bandwidth e_m)) + communication / e_x + overhead

per device, where
  FLOPs  = 2 x active params per token + attention (4 x layers x heads x head dim x context per token);
  bytes  = the weights read once per round (MoE: every expert a token of the round was routed to,
           1 - (1 - k/E)^T of them for T tokens: at serving batch that is all of them) + the KV cache
           of every decoding sequence (2 x layers x KV heads x head dim x KV bytes per token of context);
  comm   = tensor parallel: two all-reduces of the tokens' activations per layer; expert parallel:
           a dispatch and a combine all-to-all per MoE layer; pipeline: activations between stages;
           each over the link the group really has (NVSwitch, a full mesh, bridged pairs, PCIe,
           or the scale-out fabric once the group leaves a node or a scale-up domain), one direction;
  overhead = fixed host time per micro-batch plus a per-layer launch cost.

Pipeline parallel runs pp micro-batches per round, so each device still reads its stage's weights pp
times per round (W / tp per round): pipelines add memory for KV cache, not decode speed. The batch B is
limited by the memory left after weights and activations, with each sequence holding I + O / 2 tokens
of KV cache on average (paged; a scheduler that reserves whole requests holds I + O), and by a scheduler cap.

Serving metrics, from the round times: TPOT p50 is the mean round; TPOT p99 a round that carries a
p99 burst of prefill (Poisson arrivals), capped at the chunked-prefill budget; TTFT p50 is half a round
of waiting plus the rounds the prompt needs at the chunk budget; TTFT p99 a full p99 round of waiting
plus the rounds a p99 burst of prompts needs. Output tokens/s = B / t per replica.

Everything here is numpy on arrays that broadcast together; efficiencies come in from outside (fitted
in hwplan.costmodel.llmfit), so `parts` (efficiency 1) is computed once and `combine` is cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from hwplan.core.vocab import TOPOLOGIES

# Assumptions (labelled wherever they are shown).
CHUNK_TOKENS = 2048          # prefill tokens a round may carry (chunked-prefill budget; vLLM's max_num_batched_tokens
                             # default for chunked prefill is 2048); the budget grows to the mean load when that is larger
MAX_SEQS = 2048              # sequences in flight per replica (scheduler cap; tuned TensorRT-LLM runs use up to 2048)
KV_FREE_FRACTION = 0.9       # share of the memory left after weights, activations and the runtime that the KV cache
                             # takes (TensorRT-LLM's kv_cache_free_gpu_mem_fraction default 0.9)
# Accelerator memory sizes are binary: the catalog's vendor figure in "GB" is GiB of HBM/GDDR (nvidia-smi totals:
# H100 80GB 81559 MiB = 85.5e9 B, A100 80GB 81920 MiB, L40S 46068 MiB, L4 23034 MiB; modal-labs/modal-client
# pull request #2797, 2025-01-23). The serving model reads it as GiB; for 70B at fp8 on one H100 that is 15 GB
# of KV cache instead of 9.
MEM_BYTES_PER_CATALOG_GB = 2 ** 30
RUNTIME_RESERVE_B = 1.5e9    # runtime, CUDA context and workspace per device (estimate)
ACT_VALUES_PER_TOKEN = 16.0  # live activation values per token in a step, in units of d_model (workspace; estimate)
COMM_BYTES = 2.0             # activations exchanged in 16-bit
COLLECTIVE_LATENCY_S = 8e-6  # per collective: launch + synchronisation (custom all-reduce kernels, small messages)
EP_IMBALANCE = 1.2           # the busiest expert-parallel device gets 20% more expert tokens than the mean (estimate)
Z99 = 2.326                  # standard normal 99th percentile (Poisson p99 ~ mean + Z99 sqrt(mean))
# overhead per micro-batch round by device kind: (fixed, per layer) in s (estimates; CUDA graphs or compiled
# programs make the per-layer launch cost small in serving engines)
STEP_OVERHEAD_S = {"cpu": (50e-6, 5e-6), "gpu": (100e-6, 4e-6), "tpu": (150e-6, 1e-6), "fpga": (100e-6, 2e-6),
                   "asic": (150e-6, 2e-6)}


@dataclass(frozen=True)
class Arch:
    """A decoder LLM's architecture (arrays broadcast together). kv_values: KV values cached per token per
    layer (2 x KV heads x head dim; MLA models cache a latent instead). n_experts 0 = dense."""

    params: np.ndarray
    active: np.ndarray
    layers: np.ndarray
    d_model: np.ndarray
    n_heads: np.ndarray
    kv_heads: np.ndarray
    head_dim: np.ndarray
    kv_values: np.ndarray
    n_experts: np.ndarray
    experts_per_token: np.ndarray
    vocab: np.ndarray

    def expert_params(self) -> np.ndarray:
        """Parameters in routed experts: total - active = (E - k) experts' worth."""
        E, k = self.n_experts, self.experts_per_token
        with np.errstate(divide="ignore", invalid="ignore"):
            per = np.where(k < E, (self.params - self.active) / np.maximum(E - k, 1), 0.0)
        return per * E

    def kv_bytes_per_token(self, kv_bytes) -> np.ndarray:
        """KV cache bytes per token of context: layers x values per layer (2 x KV heads x head dim) x bytes."""
        return self.layers * self.kv_values * kv_bytes

    def at(self, index) -> Arch:
        return replace(self, **{f.name: np.asarray(getattr(self, f.name))[index] for f in fields(self)})


@dataclass(frozen=True)
class Hardware:
    """One device of a replica: peak FLOP/s at the compute precision, bandwidth and memory in SI units, and
    how devices connect: one-direction link bandwidth per device, topology code (TOPOLOGIES), devices per
    node, scale-up domain size (devices one fabric joins at link speed), scale-out and PCIe bandwidth."""

    peak: np.ndarray
    bw: np.ndarray
    mem: np.ndarray
    link: np.ndarray
    topology: np.ndarray
    per_node: np.ndarray
    scaleup: np.ndarray
    scaleout: np.ndarray
    pcie: np.ndarray
    oh_fixed: np.ndarray
    oh_layer: np.ndarray


@dataclass(frozen=True)
class Layout:
    """tp devices per stage, pp stages; ep True = experts spread over the tp devices of a stage (attention
    data parallel), False = experts tensor-parallel like the rest."""

    tp: np.ndarray
    pp: np.ndarray
    ep: np.ndarray

    @property
    def g(self) -> np.ndarray:
        return self.tp * self.pp


def group_bandwidth(hw: Hardware, k) -> np.ndarray:
    """One-direction bandwidth each device has toward the others of a group of k devices (inside one stage or
    between stages): the link at full speed over a switch (NVSwitch, ICI torus, a switched fabric); a full mesh
    gives each peer 1 / (node - 1) of the links, so k devices get (k - 1) / (node - 1) of them; bridges join
    pairs only (more than 2 fall back to PCIe); a group larger than a node or a scale-up domain runs at the
    scale-out fabric's speed."""
    k = np.asarray(k, dtype=float)
    topo = hw.topology
    node = np.maximum(hw.per_node, 1)
    mesh_share = np.clip((k - 1) / np.maximum(node - 1, 1), 0, 1)
    inside = np.select([topo == TOPOLOGIES.index("mesh"), topo == TOPOLOGIES.index("bridge"),
                        topo == TOPOLOGIES.index("pcie")],
                       [hw.link * mesh_share, np.where(k <= 2, hw.link, hw.pcie), hw.pcie], hw.link)
    beyond = k > np.maximum(hw.scaleup, node)
    return np.where(k <= 1, np.inf, np.where(beyond, hw.scaleout, inside))


@dataclass(frozen=True)
class Parts:
    """Seconds per round at efficiency 1 (compute, memory, communication, overhead) on the last axis for the
    round kinds ROUNDS, plus what the metrics need."""

    c: np.ndarray               # decode compute
    cp: np.ndarray              # prefill compute
    m: np.ndarray
    x: np.ndarray
    o: np.ndarray
    pf_rounds: np.ndarray       # rounds a prompt needs at p50
    pf_rounds99: np.ndarray     # rounds a p99 burst of prompts needs
    batch: np.ndarray           # sequences in flight per replica
    b_max: np.ndarray           # the most that fit
    weights_b: np.ndarray       # per replica
    kv_b: np.ndarray            # per replica, at this batch
    act_b: np.ndarray           # per replica
    fits: np.ndarray
    ceiling: np.ndarray         # output tokens/s per replica at 100% of peak and bandwidth, largest batch, no comm/overhead


ROUNDS = ("mean", "p99", "prefill", "prefill_p99")


def _poisson_q99(lam):
    return lam + Z99 * np.sqrt(lam) + 1.0


def memory(arch: Arch, hw: Hardware, lay: Layout, wb, kvb, in_len, out_len, chunk=CHUNK_TOKENS, beams=1.0,
           reserve=0.5):
    """(weights, activations, KV budget) per device and the largest batch (requests of `beams` sequences each)
    that fits, per replica."""
    tp, pp = lay.tp, lay.pp
    exp = arch.expert_params()
    dense = arch.params - exp
    ep = lay.ep & (arch.n_experts > 0)
    w_dev = np.where(ep, dense + exp / tp, arch.params / tp) * wb / pp
    tokens_max = np.minimum(MAX_SEQS, 1e9) + chunk
    act_dev = tokens_max * (ACT_VALUES_PER_TOKEN * arch.d_model + arch.vocab / tp) * COMM_BYTES / np.where(ep, tp, 1)
    budget = KV_FREE_FRACTION * (hw.mem - w_dev - act_dev - RUNTIME_RESERVE_B)
    kv_shards = np.where(ep, tp, np.minimum(tp, np.maximum(arch.kv_heads, 1))) * pp
    per_seq = arch.kv_bytes_per_token(kvb) * (in_len + out_len * reserve) * beams
    b_max = np.floor(np.maximum(budget, 0) * kv_shards / np.maximum(per_seq, 1e-30))
    return w_dev, act_dev, budget, kv_shards, per_seq, b_max


def round_parts(arch: Arch, hw: Hardware, lay: Layout, dec, pf, ctx_dec, ctx_pf, wb):
    """Seconds of one round per device at efficiency 1: (decode compute, prefill compute, memory, comm, overhead),
    for `dec` decode
    tokens at mean context `ctx_dec` and `pf` prefill tokens at mean causal context `ctx_pf` across the
    replica. (KV bytes are added by the caller: they depend on the KV format and the shards.)"""
    tp, pp = lay.tp, lay.pp
    g = tp * pp
    L, d = arch.layers, arch.d_model
    T = dec + pf
    moe = arch.n_experts > 0
    ep = lay.ep & moe
    exp = arch.expert_params()
    dense = arch.params - exp
    attn_dim = arch.n_heads * arch.head_dim
    active_exp = np.where(moe, arch.active - dense, 0.0)
    flops_dense = 2.0 * (arch.active - active_exp) * T
    flops_exp = 2.0 * active_exp * T * np.where(ep, EP_IMBALANCE, 1.0)
    # compute split by token kind: prefill runs large matrix products (its own efficiency), decode small ones
    share_dec = dec / np.maximum(T, 1e-30)
    c_lin = (flops_dense + flops_exp) / (g * hw.peak)
    c = c_lin * share_dec + 4.0 * L * attn_dim * dec * ctx_dec / (g * hw.peak)
    cp = c_lin * (1.0 - share_dec) + 4.0 * L * attn_dim * pf * ctx_pf / (g * hw.peak)
    with np.errstate(divide="ignore", invalid="ignore"):
        touched = np.where(moe, 1.0 - (1.0 - arch.experts_per_token / np.maximum(arch.n_experts, 1)) ** T, 0.0)
    # weights read per device per round: each device reads its stage's shard once per micro-batch, pp of them
    w_read = np.where(ep, dense + exp * touched / tp, (dense + exp * touched) / tp) * wb
    m = w_read / hw.bw
    # communication: L layer-passes per device per round, each of T / pp tokens
    bw_tp = group_bandwidth(hw, tp)
    x_tok = (T / pp) * d * COMM_BYTES
    tp_ar = np.where(tp > 1, 2.0 * (2.0 * (tp - 1) / tp * x_tok / bw_tp + COLLECTIVE_LATENCY_S), 0.0)
    # expert parallel: each device routes its own T / tp tokens to k experts; (tp - 1) / tp of the copies leave
    # the device, once to dispatch and once to combine
    ep_a2a = np.where(tp > 1, 2.0 * (x_tok / tp * arch.experts_per_token * (tp - 1) / tp / bw_tp + COLLECTIVE_LATENCY_S),
                      0.0)
    per_layer = np.where(ep, ep_a2a, tp_ar)
    # stage to stage is one point-to-point send: inside a node over the link a pair has (one peer link on a mesh),
    # past a node or scale-up domain over the fabric
    bw_pp = np.where(g > np.maximum(hw.scaleup, np.maximum(hw.per_node, 1)), hw.scaleout, group_bandwidth(hw, 2))
    p2p = np.where(pp > 1, T * d * COMM_BYTES / tp / bw_pp + pp * COLLECTIVE_LATENCY_S, 0.0)
    x = L * per_layer + p2p
    o = pp * hw.oh_fixed + L * hw.oh_layer
    return c, cp, m, x, o


def parts(arch: Arch, hw: Hardware, lay: Layout, wb, kvb, in_len, out_len, batch=0, chunk=CHUNK_TOKENS,
          beams=1.0, reserve=0.5) -> Parts:
    """Round parts for the four round kinds (ROUNDS) at `batch` requests per replica (0 = the most that fit,
    up to MAX_SEQS), request shape (in_len, out_len), weight and KV bytes per value. A request decodes `beams`
    sequences (beam search: MLPerf's GPT-J uses 4) and counts out_len output tokens. `reserve`: the share of
    the output a scheduler holds KV cache for per sequence (0.5 = paged, admitted by what is in use on average;
    1 = the whole request reserved at admission, TensorRT-LLM's default GUARANTEED_NO_EVICT policy)."""
    I, O = np.asarray(in_len, dtype=float), np.maximum(np.asarray(out_len, dtype=float), 1.0)
    beams = np.asarray(beams, dtype=float)
    w_dev, act_dev, budget, kv_shards, per_seq, b_max = memory(arch, hw, lay, wb, kvb, I, O, chunk, beams, reserve)
    batch = np.asarray(batch, dtype=float)
    B = np.where(batch > 0, batch, np.minimum(b_max, MAX_SEQS))
    B = np.maximum(B, 1.0)
    fits = (b_max >= B) & (budget > 0) & np.isfinite(hw.peak) & (hw.peak > 0)
    lam = B / O                                   # requests admitted per round
    pf_mean = lam * I
    budget_tok = np.maximum(chunk, pf_mean)       # chunked-prefill budget per round
    burst = np.minimum(_poisson_q99(lam) * I, budget_tok)
    pf_own = np.maximum(pf_mean, np.minimum(I, budget_tok))
    ctx_dec = I + O / 2.0
    ctx_pf = I / 2.0
    kv_tok = arch.kv_bytes_per_token(kvb)
    kv_read = B * beams * ctx_dec * kv_tok / kv_shards / hw.bw  # per device per round, all decoding sequences
    cs, cps, ms, xs, os_ = [], [], [], [], []
    for pf in (pf_mean, burst, pf_own, budget_tok):
        c, cp, m, x, o = round_parts(arch, hw, lay, B * beams, pf, ctx_dec, ctx_pf, wb)
        cs.append(c)
        cps.append(cp)
        ms.append(m + kv_read)
        xs.append(x)
        os_.append(o)
    st = lambda v: np.stack(np.broadcast_arrays(*v), axis=-1)
    pf_rounds = np.maximum(1.0, np.ceil(I / budget_tok))
    pf_rounds99 = np.maximum(pf_rounds, np.ceil(_poisson_q99(lam) * I / budget_tok))
    # the physical ceiling: the largest batch that fits, at 100% of peak and bandwidth, nothing else
    Bc = np.maximum(np.minimum(b_max, MAX_SEQS), 1.0)
    cc, ccp, mc, _, _ = round_parts(arch, hw, lay, Bc * beams, Bc / O * I, ctx_dec, ctx_pf, wb)
    mc = mc + Bc * beams * ctx_dec * kv_tok / kv_shards / hw.bw
    ceiling = np.where(fits | (b_max >= 1), Bc / np.maximum(cc + ccp, mc), 0.0)
    g = lay.tp * lay.pp
    return Parts(c=st(cs), cp=st(cps), m=st(ms), x=st(xs), o=st(os_), pf_rounds=pf_rounds, pf_rounds99=pf_rounds99, batch=B,
                 b_max=b_max, weights_b=w_dev * g, kv_b=B * per_seq, act_b=act_dev * g, fits=fits, ceiling=ceiling)


@dataclass(frozen=True)
class Metrics:
    """Per replica: output tokens/s, and TTFT / TPOT (s) at p50 and p99."""

    throughput: np.ndarray
    ttft_p50: np.ndarray
    ttft_p99: np.ndarray
    tpot_p50: np.ndarray
    tpot_p99: np.ndarray
    t_round: np.ndarray         # the mean round (= TPOT p50)
    bound: np.ndarray           # 0 compute, 1 memory, 2 communication, 3 overhead (of the mean round)
    busy: np.ndarray            # the larger of compute and memory time over the round: device utilisation


def combine(p: Parts, ec, em, ex=1.0, om=1.0, ecp=None) -> Metrics:
    """Round times at these efficiencies (decode compute, memory, communication; overhead multiplier; prefill
    compute, the decode one when not given) and the metrics."""
    ecp = ec if ecp is None else ecp
    ec, em, ex, om, ecp = (np.asarray(v, dtype=float)[..., None] for v in (ec, em, ex, om, ecp))
    tc, tm, tx, to = p.c / ec + p.cp / ecp, p.m / em, p.x / ex, p.o * om
    t = np.maximum(tc, tm) + tx + to
    t50, t99, tpf, tpf99 = (t[..., i] for i in range(4))
    B = p.batch
    ttft50 = 0.5 * t50 + p.pf_rounds * tpf
    ttft99 = t99 + p.pf_rounds99 * tpf99
    tput = np.where(p.fits, B / t50, 0.0)
    parts0 = np.stack(np.broadcast_arrays(tc[..., 0], tm[..., 0], tx[..., 0], to[..., 0]), axis=0)
    return Metrics(throughput=tput, ttft_p50=ttft50, ttft_p99=ttft99, tpot_p50=t50, tpot_p99=t99, t_round=t50,
                   bound=np.argmax(parts0, axis=0), busy=np.maximum(tc[..., 0], tm[..., 0]) / t50)
