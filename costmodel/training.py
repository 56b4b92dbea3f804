"""Training, step by step: the work, memory and time of one optimizer step on any parallel layout.

A step processes a global batch of `gb` sequences (samples for non-LLM models) on n = dp x tp x pp devices:
tp devices split every layer (tensor parallel, with sequence parallelism), pp stages split the layers
(pipeline parallel, 1F1B schedule, `vp` interleaved chunks per stage), dp replicas split the batch (data
parallel, optionally with ZeRO / FSDP sharding of the optimizer state, gradients and weights). Expert
parallel (MoE) spreads the experts over the data-parallel ranks of a stage. Each replica runs
m = gb / (dp x mb) micro-batches of `mb` sequences.

Per device, the step costs

    t = compute x (1 + bubble) + tensor-parallel comm + pipeline sends + exposed gradient sync
        + optimizer update + fixed overhead

  compute  = hardware FLOPs / (peak x e_c). Model FLOPs per token: 6 x active params (forward 2, backward 4)
             + attention 12 x layers x heads x head dim x seq (PaLM's convention, no causal halving);
             activation recomputation adds a forward: full +2 x params per token, selective the attention part.
             LoRA: the frozen base needs no weight gradients, 4 x params per token (+ the adapters' 6 x).
             Non-LLM models: 3 x the forward FLOPs per sample.
  bubble   = (pp - 1) / (vp x m): the 1F1B pipeline's idle share.
  TP comm  = per micro-batch and layer, 4 all-reduce-equivalents of mb x seq x d_model 16-bit values (2
             forward, 2 backward; +2 with full recomputation), each 2(tp-1)/tp x bytes / link + a latency.
  EP all-to-all = per MoE layer and micro-batch, dispatch + combine forward and backward of the routed tokens.
  PP sends = per micro-batch, the stage's activations forward and their gradient back over the link between
             stages.
  gradient sync = ring all-reduce of the 16-bit gradients over the dp ranks, 2(dp-1)/dp x bytes / bandwidth
             (across nodes: the k ranks of a group in one node each drive their own NIC, k x the scale-out link),
             once per step with ZeRO-0/1 (overlapping the last micro-batch's backward); ZeRO-2 reduce-scatters every
             micro-batch, ZeRO-3 / FSDP also all-gathers the weights twice per micro-batch (1.5x an all-reduce each;
             overlapping the whole step); in buckets that each pay a latency growing with log2(dp). MoE: expert
             gradients reduce over the dp / ep ranks that replicate an expert, shared ones over dp.
  optimizer = Adam reads and writes ~OPT_BYTES_TOUCHED bytes per parameter of the device's shard at memory
             bandwidth.
  overhead = a host round trip per micro-batch plus a per-layer launch cost (by kind, as serving).

Memory per device: weights (16-bit), gradients (16-bit), optimizer state (fp32 master + Adam m, v: 12 B
per parameter; ZeRO paper), divided by tp x pp, with ZeRO-1 sharding the optimizer state, ZeRO-2 also the
gradients, ZeRO-3 / FSDP also the weights over dp; activations per micro-batch per layer 34 x seq x mb x d
bytes with selective recomputation, 2 x seq x mb x d with full checkpointing (Korthikanti et al. 2022,
arXiv:2205.05198), divided by tp (sequence parallel); the first pipeline stage keeps pp micro-batches in
flight, so every stage holds about `layers` layers' worth.

Everything here is numpy on arrays that broadcast together; efficiencies come in from outside (fitted in
hwplan.costmodel.trainfit), so the parts at efficiency 1 are computed once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwplan.costmodel import serving as sv

# Facts and assumptions (labelled wherever they are shown).
WEIGHT_BYTES = 2.0            # 16-bit weights the math reads (bf16 / fp16 mixed precision; fp8 keeps 16-bit masters)
GRAD_BYTES = 2.0              # 16-bit gradients (what the data-parallel all-reduce moves)
OPTIMIZER_BYTES = 12.0        # fp32 master weights + Adam m and v per parameter (Rajbhandari et al., ZeRO, arXiv:1910.02054)
OPT_BYTES_TOUCHED = 36.0      # Adam update: read fp32 master, m, v, fp32 grad (16) + write master, m, v (12) + 16-bit copy
                              # and grad (4 + 4): bytes per parameter of the shard (estimate from the update's operands)
ACT_BYTES_SELECTIVE = 34.0    # activation bytes per token per layer per d_model, sequence parallel + selective
                              # recomputation (Korthikanti et al. 2022, 34 s b h / t)
ACT_BYTES_FULL = 2.0          # full checkpointing: each layer's 16-bit input only (2 s b h)
ACT_BYTES_NONE = 34.0         # no recomputation: 34 s b h + 5 a s^2 b (attention scores) per layer; the scores term is
                              # added where it applies
LORA_RANK = 16                # LoRA rank (MLPerf llama2_70b_lora reference: r = 16 on the attention projections)
COLLECTIVE_LATENCY_S = 10e-6  # per collective inside a node (NCCL small-message order)
SCALEOUT_LATENCY_S = 20e-6    # per step of a collective across nodes (network round trip + NCCL protocol; estimate)
BUCKET_BYTES = 100e6          # gradient bucket per all-reduce call (PyTorch DDP 25 MB, Megatron ~40M params; estimate)
BUFFER_BYTES = 2e9            # framework buffers, communication buffers, fragmentation per device (estimate)
RECOMPUTE = ("none", "selective", "full")
ZERO = (0, 1, 2, 3)


@dataclass(frozen=True)
class Net:
    """What is trained (arrays broadcast). LLM: decoder transformer facts, seq = tokens per sequence.
    Non-LLM: flops_fwd and act_bytes per sample, layers. lora: 1 = a LoRA fine-tune of a frozen base."""

    params: np.ndarray
    active: np.ndarray
    layers: np.ndarray
    d_model: np.ndarray
    attn_dim: np.ndarray          # heads x head dim
    n_heads: np.ndarray           # attention heads (tensor parallel splits them: tp must divide it)
    seq: np.ndarray
    vocab: np.ndarray
    n_experts: np.ndarray
    top_k: np.ndarray             # experts each token is routed to (MoE)
    is_llm: np.ndarray
    flops_fwd: np.ndarray         # non-LLM: forward FLOPs per sample
    act_bytes: np.ndarray         # non-LLM: activation bytes per sample kept for backward (16-bit)
    lora: np.ndarray

    def split_params(self) -> tuple[np.ndarray, np.ndarray]:
        """(shared, routed-expert) parameters: the experts hold (total - active) / (E - k) x E of them (every expert
        the same size; k of E are active per token), the rest is shared (attention, embeddings, norms)."""
        E, k = self.n_experts, np.maximum(self.top_k, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            expert = np.where((E > 0) & (k < E), (self.params - self.active) / np.maximum(E - k, 1.0) * E, 0.0)
        expert = np.clip(expert, 0.0, self.params)
        return self.params - expert, expert

    def lora_params(self) -> np.ndarray:
        """LoRA adapters on the four attention projections: 2 x rank x d_model each, per layer."""
        return np.where(self.lora > 0, 4.0 * 2.0 * LORA_RANK * self.d_model * self.layers, 0.0)

    def model_flops_per_unit(self) -> np.ndarray:
        """Model FLOPs per token (LLM) or per sample, forward + backward, no recomputation (what MFU counts)."""
        attn = 12.0 * self.layers * self.attn_dim * self.seq
        # LoRA: the frozen base needs no weight gradients (4N, not 6N), but attention has no weights to skip: its
        # backward (activation gradients) is still needed for the adapters upstream
        llm = np.where(self.lora > 0, 4.0 * self.active + 6.0 * self.lora_params() + attn, 6.0 * self.active + attn)
        return np.where(self.is_llm > 0, llm, 3.0 * self.flops_fwd)

    def hardware_flops_per_unit(self, recompute) -> np.ndarray:
        """What the devices execute: the model FLOPs plus a recomputed forward (full) or attention (selective)."""
        attn_fwd = 4.0 * self.layers * self.attn_dim * self.seq
        extra = np.select([recompute == 2, recompute == 1], [2.0 * self.active + attn_fwd, attn_fwd], 0.0)
        return self.model_flops_per_unit() + np.where(self.is_llm > 0, extra,
                                                      np.where(recompute == 2, self.flops_fwd, 0.0))


@dataclass(frozen=True)
class Layout:
    """dp x tp x pp devices; ep experts spread over ep of the dp ranks (MoE); mb sequences per micro-batch;
    vp interleaved chunks per pipeline stage; zero 0-3 (3 = FSDP); recompute index into RECOMPUTE."""

    dp: np.ndarray
    tp: np.ndarray
    pp: np.ndarray
    ep: np.ndarray
    mb: np.ndarray
    vp: np.ndarray
    zero: np.ndarray
    recompute: np.ndarray

    @property
    def n(self) -> np.ndarray:
        return self.dp * self.tp * self.pp


@dataclass(frozen=True)
class Memory:
    """Bytes per device."""

    weights: np.ndarray
    grads: np.ndarray
    optimizer: np.ndarray
    activations: np.ndarray
    total: np.ndarray


def memory(net: Net, lay: Layout) -> Memory:
    """Per-device memory of a layout: weights, gradients and optimizer state sharded by tp x pp (and by dp as
    ZeRO says), activations of the micro-batches in flight, framework buffers."""
    mp = lay.tp * lay.pp
    dp = np.maximum(lay.dp, 1)
    shared, expert = net.split_params()
    ep = np.maximum(lay.ep, 1)
    dp_e = np.maximum(dp / ep, 1.0)           # an expert's replicas: the dp ranks that do not split the experts
    sh_dev, ex_dev = shared / mp, expert / ep / mp
    lora = net.lora > 0
    z = lay.zero
    shard = lambda level, a, b: a / np.where(z >= level, dp, 1) + b / np.where(z >= level, dp_e, 1)
    weights = shard(3, sh_dev, ex_dev) * WEIGHT_BYTES
    # the trainable parameters: all of them, or a LoRA run's adapters (replicated over dp like shared weights)
    t_sh, t_ex = np.where(lora, net.lora_params() / mp, sh_dev), np.where(lora, 0.0, ex_dev)
    grads = shard(2, t_sh, t_ex) * GRAD_BYTES
    opt = shard(1, t_sh, t_ex) * OPTIMIZER_BYTES
    r = lay.recompute
    per_tok = np.select([r == 2, r == 1], [ACT_BYTES_FULL, ACT_BYTES_SELECTIVE], ACT_BYTES_NONE)
    tokens = lay.mb * net.seq
    llm_act = per_tok * tokens * net.d_model * net.layers / lay.tp
    # no recomputation also keeps the attention scores (5 a s^2 b per layer); flash attention avoids it: not counted
    # full checkpointing keeps one layer's whole activations for the backward in progress
    llm_act = llm_act + np.where(r == 2, ACT_BYTES_SELECTIVE * tokens * net.d_model / lay.tp, 0.0)
    llm_act = llm_act + tokens * net.vocab * 4.0 / lay.tp  # fp32 logits of the last stage (output layer)
    other_act = net.act_bytes * lay.mb * np.where(r == 2, 0.25, 1.0)
    act = np.where(net.is_llm > 0, llm_act, other_act)
    total = weights + grads + opt + act + BUFFER_BYTES
    return Memory(weights=weights, grads=grads, optimizer=opt, activations=act, total=total)


@dataclass(frozen=True)
class StepParts:
    """Seconds per step at efficiency 1, per device, by part (what the efficiencies divide)."""

    compute: np.ndarray           # hardware FLOPs / peak
    bubble: np.ndarray            # the pipeline's idle share of compute (a fraction)
    tp_comm: np.ndarray
    pp_comm: np.ndarray
    dp_comm: np.ndarray           # gradient sync, whole
    dp_window: np.ndarray         # the compute it can hide behind, at efficiency 1 (backward of the last micro-batch)
    dp_latency: np.ndarray        # the latency part of the sync (never hidden: buckets wait on one another)
    optimizer: np.ndarray         # Adam update at full bandwidth
    memory_bound: np.ndarray      # non-LLM: the step's memory traffic at full bandwidth
    overhead: np.ndarray
    micro_batches: np.ndarray
    units: np.ndarray             # tokens (LLM) or samples per step
    model_flops: np.ndarray       # per step, whole setup
    hw_flops: np.ndarray


def ring_allreduce_s(n, nbytes, bw, latency_s=0.0):
    """Ring all-reduce of nbytes over n ranks: 2(n-1)/n x bytes / one-direction bandwidth, plus 2(n-1) latency
    steps; 0 for one rank."""
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = 2.0 * (n - 1.0) / n * nbytes / bw + 2.0 * (n - 1.0) * latency_s
    return np.where(n > 1, t, 0.0)


def step_parts(net: Net, hw: sv.Hardware, lay: Layout, gb) -> StepParts:
    """The parts of one step of a global batch of gb sequences (samples) at efficiency 1."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _step_parts(net, hw, lay, np.asarray(gb, dtype=float))


def _step_parts(net: Net, hw: sv.Hardware, lay: Layout, gb: np.ndarray) -> StepParts:
    n = lay.n
    m = np.maximum(np.ceil(gb / (lay.dp * lay.mb)), 1.0)
    units = np.where(net.is_llm > 0, gb * net.seq, gb)
    hw_unit = net.hardware_flops_per_unit(lay.recompute)
    mf_unit = net.model_flops_per_unit()
    # the batch each replica really runs (micro-batches are whole): gb rounded up to dp x mb x m
    units_run = units * (m * lay.dp * lay.mb) / np.maximum(gb, 1.0)
    compute = hw_unit * units_run / n / hw.peak
    bubble = np.where(lay.pp > 1, (lay.pp - 1.0) / (lay.vp * m), 0.0)
    L, d = net.layers, net.d_model
    act = lay.mb * net.seq * d * 2.0  # one micro-batch's 16-bit activations at a layer boundary
    bw_tp = sv.group_bandwidth(hw, lay.tp)
    n_ar = 4.0 + np.where(lay.recompute == 2, 2.0, 0.0)
    tp_one = np.where(lay.tp > 1, 2.0 * (lay.tp - 1.0) / lay.tp * act / bw_tp + COLLECTIVE_LATENCY_S, 0.0)
    tp_comm = np.where(net.is_llm > 0, m * (L / lay.pp) * n_ar * tp_one, 0.0)
    g = lay.tp * lay.pp
    node = np.maximum(np.maximum(hw.per_node, 1), hw.scaleup)
    bw_pp = np.where(g > node, hw.scaleout, sv.group_bandwidth(hw, 2))
    pp_comm = np.where(lay.pp > 1, m * 2.0 * (act / lay.tp / bw_pp + COLLECTIVE_LATENCY_S) * lay.vp, 0.0)
    # expert parallel: per MoE layer and micro-batch a dispatch and a combine all-to-all forward and again backward;
    # (ep - 1) / ep of each device's routed tokens (top_k copies) leave it, over the fabric the ep ranks span
    ep_span = lay.ep * g
    bw_ep = np.where(ep_span > node, np.minimum(np.maximum(np.floor(np.maximum(hw.per_node, 1) / g), 1.0) * hw.scaleout,
                                                sv.group_bandwidth(hw, np.minimum(ep_span, node))),
                     sv.group_bandwidth(hw, np.minimum(ep_span, node)))
    a2a = (lay.ep - 1.0) / lay.ep * act * np.maximum(net.top_k, 1.0) / lay.tp / bw_ep + COLLECTIVE_LATENCY_S
    ep_comm = np.where((net.n_experts > 0) & (lay.ep > 1), m * (L / lay.pp) * 4.0 * a2a, 0.0)
    tp_comm = tp_comm + ep_comm
    # gradient sync over dp, hierarchical: inside a node over its fabric, across nodes over the NICs. The k ranks a
    # dp group has in one node share the reduction, each driving its own NIC (NCCL runs one ring per NIC), so the
    # group crosses nodes at k x the per-device scale-out bandwidth (capped by the node fabric)
    span = n
    intra = sv.group_bandwidth(hw, np.minimum(span, node))
    k = np.maximum(np.floor(np.maximum(hw.per_node, 1) / g), 1.0)
    bw_dp = np.where(span > node, np.minimum(k * hw.scaleout, intra), intra)
    shared, expert = net.split_params()
    ep = np.maximum(lay.ep, 1)
    dp_e = np.maximum(lay.dp / ep, 1.0)
    lora = net.lora > 0
    sh_b = np.where(lora, net.lora_params(), shared) / g * GRAD_BYTES
    ex_b = np.where(lora, 0.0, expert) / ep / g * GRAD_BYTES
    # ZeRO-1: one all-reduce (reduce-scatter + all-gather) of the accumulated gradients per step, overlapping the last
    # micro-batch's backward; ZeRO-2: a reduce-scatter per micro-batch and one all-gather of the updated weights;
    # ZeRO-3 / FSDP: per micro-batch a
    # reduce-scatter and two all-gathers of the weights (1.5x an all-reduce), overlapping forward and backward
    per_mb = lay.zero >= 2
    factor = np.select([lay.zero >= 3, lay.zero == 2], [1.5 * m, 0.5 * m + 0.5], 1.0)  # in all-reduce equivalents
    bw_part = (ring_allreduce_s(lay.dp, sh_b, bw_dp) + ring_allreduce_s(dp_e, ex_b, bw_dp)) * factor
    grad_b = sh_b + ex_b
    buckets = np.maximum(np.ceil(grad_b / BUCKET_BYTES), 1.0) * np.where(per_mb, m, 1.0)
    step_lat = np.where(span > node, SCALEOUT_LATENCY_S, COLLECTIVE_LATENCY_S)
    lat = np.where(lay.dp > 1, buckets * 2.0 * np.ceil(np.log2(np.maximum(lay.dp, 2.0))) * step_lat
                   * np.where(lay.zero >= 3, 1.5, 1.0), 0.0)
    dp_comm = bw_part + lat
    window = compute * np.select([lay.zero >= 3, lay.zero == 2], [1.0, 2.0 / 3.0], 2.0 / 3.0 / m)
    opt_params = np.where(lora, net.lora_params() / g, shared / g / np.where(lay.zero >= 1, lay.dp, 1)
                          + expert / ep / g / np.where(lay.zero >= 1, dp_e, 1))
    optimizer = opt_params * OPT_BYTES_TOUCHED / hw.bw
    # non-LLM models are often memory bound: weights, gradients and optimizer once, activations written and read
    # twice (forward, backward) per sample
    traffic = (net.params / g * (WEIGHT_BYTES * 3 + GRAD_BYTES * 2) + 3.0 * net.act_bytes * lay.mb) * m
    memory_bound = np.where(net.is_llm > 0, 0.0, traffic / hw.bw)
    overhead = m * (hw.oh_fixed + 3.0 * (L / lay.pp) * hw.oh_layer)
    return StepParts(compute=compute, bubble=bubble, tp_comm=tp_comm, pp_comm=pp_comm, dp_comm=dp_comm,
                     dp_window=window, dp_latency=lat, optimizer=optimizer, memory_bound=memory_bound,
                     overhead=overhead, micro_batches=m, units=units, model_flops=mf_unit * units,
                     hw_flops=hw_unit * units_run)


@dataclass(frozen=True)
class Step:
    """One step at given efficiencies: seconds, throughput (units/s, whole setup), MFU and what binds."""

    seconds: np.ndarray
    throughput: np.ndarray
    mfu: np.ndarray
    exposed_comm: np.ndarray
    bound: np.ndarray             # 0 compute, 1 memory, 2 communication, 3 overhead


def combine(p: StepParts, peak_total, ec, em=0.8, ex=0.7, om=1.0) -> Step:
    """Step time at efficiencies ec (compute), em (memory), ex (communication), om (overhead multiplier)."""
    ec, em, ex, om = (np.asarray(v, dtype=float) for v in (ec, em, ex, om))
    tc = p.compute / ec
    tm = p.memory_bound / em
    busy = np.maximum(tc, tm)
    dp = p.dp_comm / ex
    exposed_dp = np.maximum(dp - p.dp_window / ec, p.dp_latency / ex)
    comm = (p.tp_comm + p.pp_comm) / ex + exposed_dp
    other = p.optimizer / em + p.overhead * om
    t = busy * (1.0 + p.bubble) + comm + other
    tput = p.units / t
    mfu = p.model_flops / t / peak_total
    parts = np.stack(np.broadcast_arrays(tc * (1.0 + p.bubble), tm, comm, other), axis=0)
    return Step(seconds=t, throughput=tput, mfu=mfu, exposed_comm=comm, bound=np.argmax(parts, axis=0))
