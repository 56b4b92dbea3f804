"""The vectorised evaluator: a fitted performance model and setups (index arrays) in, an `Evaluation` out.

Time of one replica (g devices holding one copy of the model) for a batch b:
  non-LLM:  max(b F / (g peak e_c), (W + b A) / (g bw e_m)) + comm
  LLM:      prefill + out_len x decode step, each max(compute, memory) + tensor-parallel all-reduce
plus a fixed overhead per forward pass (host round trip + per-layer launches, by kind), and the
whole setup runs floor(n / g) replicas. The fitted correction exp(eta) scales the roofline part
(never the overhead), and the result is capped at 100% of the compute peak for the FLOPs counted.

The steps, in order: the setups' facts (`_gather`), memory per replica (`_memory`), fixed overhead
(`_overhead`), one candidate layout per group size with its roofline time (`_candidate`,
`_replica_time`), the chosen layout (`_choose`), throughput and latency (`_throughput`), the
interval (`_interval`), the bound, power (`_power`) and the work per unit. Nothing here prints,
fits or reads a file; numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Protocol

import numpy as np

from hwplan.core.errors import HwplanError
from hwplan.core.vocab import BYTES_PER_VALUE, MODES, PRECISIONS, QUALITY
from hwplan.costmodel import llmserve
from hwplan.costmodel.power import device_and_host_power

SCENARIOS = ("offline", "server", "training")  # the model's regimes: index 2 is a training step

# Physical assumptions (labelled as such wherever they are shown).
ALLREDUCE_LATENCY_S = 10e-6     # per collective: launch + synchronisation (NCCL small-message order)
NODE_SIZE = 8                   # devices per node for tensor parallel; beyond it, pipeline stages
SERVER_P99_FACTOR = 2.0         # p99 of a loaded server queue vs one batch time (assumption)
GRAD_ALLREDUCE_EXPOSED = 0.5    # share of the gradient all-reduce not hidden behind backward
OPTIMIZER_BYTES_PER_PARAM = 12  # fp32 master weights + Adam m and v
KV_BYTES_DEFAULT = 2.0          # KV cache bytes per value: fp16/bf16, or 1 (fp8 KV cache) when the precision is fp8
TP_SIZES = (1, 2, 4, 8)         # tensor-parallel group sizes tried for LLMs (within a node)
MEMORY_USABLE_FRACTION = 0.9    # the runtime, fragmentation and workspace take the rest (assumption)
LLM_DEFAULT_BATCH_CAP = 256     # largest default LLM batch (sequences in flight per replica; assumption)
NON_LLM_DEFAULT_BATCH_MAX = 1024
PEAK_CAP = 1.0                  # no estimate runs the workload's FLOPs faster than 100% of the dense peak
HIGH_MARGIN = 1.0               # nor does the interval's high end (the FLOP counts are the work model's)
OVERHEAD_SHARE = 0.1            # default non-LLM batch: large enough that fixed overhead is <= 10% of a batch
# Fixed time per forward pass, by kind: (host / framework round trip per batch, per layer), seconds.
# Estimates, not measured here; a device's rows with batch sweeps and latency rescale them (efficiency.py).
OVERHEAD_PRIOR_S = {
    "cpu": (20e-6, 5e-6),
    "gpu": (50e-6, 10e-6),
    "tpu": (100e-6, 1e-6),
    "fpga": (50e-6, 1e-6),
    "asic": (100e-6, 2e-6),
}
OVERHEAD_PRIOR_BASIS = (
    "estimate: per batch a host round trip (tens of us: dispatch, synchronisation, copy of results) plus a "
    "per-layer cost; GPUs ~10 us per layer (kernel launches ~5 us each, a few per layer in eager frameworks, "
    "fewer with CUDA graphs or TensorRT), CPUs ~5 us (oneDNN primitive dispatch), TPUs and other compiled-graph "
    "accelerators ~1-2 us (one compiled program per batch) but ~100 us host round trip")
LLM_TRAIN_ACT_BYTES = 34.0      # activation bytes per token per layer per d_model (Korthikanti et al. 2022)
_BPV = np.asarray([BYTES_PER_VALUE[x] for x in PRECISIONS])
_FP8 = PRECISIONS.index("fp8")


class Fitted(Protocol):
    """What the evaluator reads from a fitted model (`PerformanceModel.arrays_`)."""

    @property
    def arrays_(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Evaluation:
    """Predicted figures for each setup (arrays broadcast to the setups' shape). Throughput is for the whole
    setup in the workload's unit; times in s; memory in bytes; power in W; `basis` and `bound` index
    vocab.BASES and vocab.BOUNDS. `t_core_s` and `units_per_batch` are what the fit compares rows with."""

    throughput: np.ndarray
    low: np.ndarray
    high: np.ndarray
    basis: np.ndarray
    bound: np.ndarray
    latency_s: np.ndarray          # p99
    latency_p50_s: np.ndarray      # one batch
    power_w: np.ndarray            # wall power of the whole setup: hosts (per node) + devices; PUE not included
    idle_w: np.ndarray
    mem_required_b: np.ndarray
    min_devices: np.ndarray
    group: np.ndarray              # devices per replica
    tensor_parallel: np.ndarray
    pipeline_parallel: np.ndarray
    replicas: np.ndarray
    used: np.ndarray
    batch: np.ndarray
    parallel_eff: np.ndarray
    supported: np.ndarray
    fits: np.ndarray
    util: np.ndarray
    overhead_s: np.ndarray
    flops_per_unit: np.ndarray
    bytes_per_unit: np.ndarray
    peak_throughput: np.ndarray    # whole-setup compute bound at 100% of peak
    t_core_s: np.ndarray           # uncorrected roofline time of one replica's batch
    units_per_batch: np.ndarray
    # LLM serving (NaN for other workloads): time to first token and per output token, s; total (prompt +
    # output) tokens/s; expert parallel; memory per replica, bytes; the physical ceiling (output tokens/s at 100%
    # of peak and bandwidth, the largest batch that fits, no communication or overhead)
    ttft_p50_s: np.ndarray
    ttft_p99_s: np.ndarray
    tpot_p50_s: np.ndarray
    tpot_p99_s: np.ndarray
    total_throughput: np.ndarray
    expert_parallel: np.ndarray
    weights_b: np.ndarray
    kv_cache_b: np.ndarray
    activations_b: np.ndarray
    ceiling: np.ndarray
    meets_latency: np.ndarray      # meets the TTFT / TPOT / latency limits given (True where none was given)
    device_power_w: np.ndarray     # the devices' own power (no host), W

    def at(self, index) -> Evaluation:
        """The figures of one setup (or a slice of them)."""
        return replace(self, **{f.name: np.asarray(getattr(self, f.name))[index] for f in fields(self)})

    def ravel(self) -> Evaluation:
        return replace(self, **{f.name: np.ravel(getattr(self, f.name)) for f in fields(self)})


def overhead_per_pass(m: Fitted, w, d) -> np.ndarray:
    """Fixed time per forward pass (s): host round trip + per-layer launch, times the device's fitted factor."""
    A = m.arrays_
    fixed, per_layer = A["oh_fixed"][A["kind_code"][d]], A["oh_layer"][A["kind_code"][d]]
    return A["oh_mult"][d] * (fixed + A["wl_layers"][w] * per_layer)


def precision_allowed(m: Fitted, w: int) -> np.ndarray:
    """Which precisions meet workload w's accuracy target (by its lowest_precision)."""
    low = m.arrays_["wl_lowest_quality"][w]
    return np.array([QUALITY[x] >= low for x in PRECISIONS])


def scenario_index(scenario: str, mode: str) -> int:
    """The model's regime for a request: 0 offline, 1 server (inference), 2 a training step."""
    if mode not in MODES:
        raise HwplanError(f"mode '{mode}' is not known; use {' or '.join(MODES)}")
    if mode == "training":
        return 2
    if scenario not in ("offline", "server"):
        raise HwplanError(f"scenario '{scenario}' is not known; use offline or server")
    return SCENARIOS.index(scenario)


def evaluate(m: Fitted, w, d, p, b, n, s, phase=0, eta_on=True, comm_bw=None, latency_limit_s=None,
             work_scale=None, bytes_scale=None, in_len=None, out_len=None, kv=None, layout=None,
             ttft_limit_s=None, tpot_limit_s=None) -> Evaluation:
    """Vectorised prediction for setups given as index arrays (broadcast together).

    w workload index, d device index, p precision index (PRECISIONS), b batch per replica
    (0 = default), n device count, s scenario index (SCENARIOS; 2 = training), phase (vocab.PHASES).
    Everything but n may have one shape and n another (e.g. (K, 1) and (1, C)): the per-replica
    work is then done once per setup and only the replica count is broadcast over n.
    LLMs: every tensor-parallel group size from the memory minimum up to a node (powers of two) is
    tried, with pipeline stages across nodes where a node is not enough; the one with the highest
    throughput is kept (among those within `latency_limit_s` when given).
    work_scale / bytes_scale (optional, broadcast with the setups): a measured row's own FLOPs (bytes)
    per unit over the work model's count; scale the compute (memory traffic) of that setup only.
    LLM inference of whole requests (phase "") goes through the serving step model (hwplan.costmodel.llmserve):
    in_len / out_len (prompt and output tokens; None = the workload's benchmark means), kv (KV-cache precision
    index; None = the format's own), layout ((tp, pp, ep) arrays; 0 or -1 = search), and TTFT / TPOT p99 limits.
    """
    A = m.arrays_
    w_, s_, ph_ = (np.asarray(v) for v in (w, s, phase))
    serving = (A["wl_is_llm"][w_] > 0) & (s_ != 2) & (ph_ == 0)
    if serving.all():
        return _served(m, w, d, p, b, n, s, eta_on, latency_limit_s, in_len, out_len, kv, layout, ttft_limit_s,
                       tpot_limit_s)
    old = _evaluate_roofline(m, w, d, p, b, n, s, phase, eta_on, comm_bw, latency_limit_s, work_scale, bytes_scale)
    if not serving.any():
        return old
    new = _served(m, w, d, p, b, n, s, eta_on, latency_limit_s, in_len, out_len, kv, layout, ttft_limit_s, tpot_limit_s)
    pick = np.broadcast_to(serving, old.throughput.shape) if np.ndim(serving) else serving
    return replace(old, **{f.name: np.where(pick, getattr(new, f.name), getattr(old, f.name)) for f in fields(old)})


def _served(m: Fitted, w, d, p, b, n, s, eta_on=True, latency_limit_s=None, in_len=None, out_len=None, kv=None, layout=None,
           ttft_limit_s=None, tpot_limit_s=None) -> Evaluation:
    """An `evaluate.Evaluation` for LLM inference setups (throughput = output tokens/s of the whole setup)."""
    A = m.arrays_
    w, d, p, s = (np.asarray(v, dtype=np.int64) for v in (w, d, p, s))
    I = A["wl_in_len"][w] if in_len is None else np.asarray(in_len, dtype=float)
    O = A["wl_out_len"][w] if out_len is None else np.asarray(out_len, dtype=float)
    # the server scenario of a benchmark has its own latency limits (data/workloads.csv) unless some are given
    server = s == 1
    no_limits = ttft_limit_s is None and tpot_limit_s is None and latency_limit_s is None
    if no_limits and np.any(server):
        ttft_limit_s = np.where(server & np.isfinite(A["wl_server_ttft_p99_s"][w]), A["wl_server_ttft_p99_s"][w], np.inf)
        tpot_limit_s = np.where(server & np.isfinite(A["wl_server_tpot_p99_s"][w]), A["wl_server_tpot_p99_s"][w], np.inf)
        latency_limit_s = np.where(server & np.isfinite(A["wl_server_latency_p99_s"][w]),
                                   A["wl_server_latency_p99_s"][w], np.inf)
    sv_ = llmserve.serve(A, w, d, p, b, n, I, O, kv=kv, layout=layout, ttft_limit=ttft_limit_s, tpot_limit=tpot_limit_s,
                e2e_limit=latency_limit_s, eta_on=eta_on)
    full = sv_.throughput.shape
    bc = lambda v: np.broadcast_to(np.asarray(v, dtype=float), full)
    O_f = bc(O)
    lat99 = sv_.ttft_p99 + O_f * sv_.tpot_p50
    lat50 = sv_.ttft_p50 + O_f * sv_.tpot_p50
    basis = np.broadcast_to(A["llm_basis"][w, d] if "llm_basis" in A else np.full(np.shape(w), 2), full).astype(np.int64)
    q = A["llm_q"][basis] if "llm_q" in A else A["q"][basis]
    tput = sv_.throughput
    low = tput * np.exp(q[..., 0])
    high = np.maximum(np.minimum(tput * np.exp(q[..., 1]), sv_.ceiling), tput)
    peak = np.broadcast_to(A["peak"][d, p], full)
    supported = np.isfinite(peak) & (peak > 0)
    util = np.clip(sv_.busy, 0.05, 1.0)
    n_f = bc(n)
    wall, dev_w, idle_setup = device_and_host_power(A, bc(d).astype(int), n_f, util)
    power = np.where(supported, wall, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        par_eff = np.where(sv_.fits & (sv_.single > 0), tput / (n_f * sv_.single), np.nan)
    mem_req = sv_.weights_b + sv_.kv_b + sv_.act_b
    nan = np.full(full, np.nan)
    return Evaluation(
        throughput=tput, low=np.minimum(low, tput), high=high, basis=basis, bound=sv_.bound.astype(np.int64),
        latency_s=np.where(sv_.fits, lat99, nan), latency_p50_s=np.where(sv_.fits, lat50, nan), power_w=power,
        idle_w=idle_setup, mem_required_b=mem_req, min_devices=np.where(np.isfinite(sv_.min_g), sv_.min_g, 0),
        group=np.where(sv_.fits | ~np.isfinite(sv_.min_g), sv_.g, sv_.min_g), tensor_parallel=sv_.tp,
        pipeline_parallel=sv_.pp, replicas=sv_.reps,
        used=np.where(sv_.fits, sv_.reps * sv_.g, np.minimum(n_f, 1)), batch=sv_.batch, parallel_eff=par_eff,
        supported=supported, fits=sv_.fits, util=util, overhead_s=sv_.overhead_s, flops_per_unit=sv_.flops_per_token,
        bytes_per_unit=sv_.bytes_per_token, peak_throughput=sv_.ceiling, t_core_s=sv_.tpot_p50,
        units_per_batch=sv_.batch, ttft_p50_s=sv_.ttft_p50, ttft_p99_s=sv_.ttft_p99, tpot_p50_s=sv_.tpot_p50,
        tpot_p99_s=sv_.tpot_p99, total_throughput=sv_.total_throughput,
        expert_parallel=np.where(sv_.ep, sv_.tp, 1.0), weights_b=sv_.weights_b, kv_cache_b=sv_.kv_b,
        activations_b=sv_.act_b, ceiling=sv_.ceiling, meets_latency=sv_.meets,
        device_power_w=np.where(supported, dev_w, np.nan))


def _evaluate_roofline(m: Fitted, w, d, p, b, n, s, phase, eta_on, comm_bw, latency_limit_s, work_scale,
                       bytes_scale) -> Evaluation:
    """The roofline evaluator: non-LLM workloads, LLM training steps and single LLM phases (prefill, decode)."""
    x = _gather(m.arrays_, w, d, p, b, n, s, phase, eta_on, comm_bw, work_scale, bytes_scale)
    mem = _memory(x)
    o_pass, overhead, mult = _overhead(m, x)
    groups = ([mem.g_need] + [np.where(x.is_llm, np.maximum(mem.g_need, float(k)), mem.g_need) for k in TP_SIZES if k > 1]
              if x.is_llm.any() else [mem.g_need])
    cands = [_candidate(x, mem, g, o_pass, overhead, mult, latency_limit_s, ranked=len(groups) > 1) for g in groups]
    c = _choose(cands, x.full, x.w.shape)
    t = _throughput(x, c, overhead)
    low, high = _interval(x, t)
    bound = np.argmax(np.stack([np.maximum(c.tc / t.corr, c.t_peak), c.tm / t.corr, (c.tx + t.grad_ar) / t.corr,
                                t.overhead]), axis=0)
    util, power_w, idle_setup_w, device_w = _power(m, x, c, t)
    fpu, bpu = _work_per_unit(x, c)
    bc = lambda v: np.broadcast_to(v, x.full)
    return Evaluation(
        throughput=t.throughput, low=low, high=high, basis=t.basis, bound=bound, latency_s=t.lat,
        latency_p50_s=t.t_batch, power_w=power_w, idle_w=bc(idle_setup_w), mem_required_b=c.mem,
        min_devices=bc(mem.min_dev), group=c.g, tensor_parallel=c.tp, pipeline_parallel=c.pp, replicas=t.reps,
        used=t.used, batch=c.b, parallel_eff=t.par_eff, supported=t.supported, fits=t.fits, util=util,
        overhead_s=t.overhead, flops_per_unit=fpu, bytes_per_unit=bpu,
        peak_throughput=np.where(t.fits & t.supported, t.peak_tp, 0.0), t_core_s=t.t_core_uncorrected,
        units_per_batch=c.units, device_power_w=device_w, **_no_serving(x.full, t.lat, latency_limit_s))


def _no_serving(full: tuple, lat, latency_limit_s) -> dict:
    nan = np.full(full, np.nan)
    meets = np.ones(full, dtype=bool) if latency_limit_s is None else np.broadcast_to(lat <= latency_limit_s, full)
    return {"ttft_p50_s": nan, "ttft_p99_s": nan, "tpot_p50_s": nan, "tpot_p99_s": nan, "total_throughput": nan,
            "expert_parallel": np.ones(full), "weights_b": nan, "kv_cache_b": nan, "activations_b": nan,
            "ceiling": nan, "meets_latency": meets}


# ---- step 1: the setups' facts -------------------------------------------------------------------------

@dataclass(frozen=True)
class _Setups:
    A: dict
    w: np.ndarray
    d: np.ndarray
    p: np.ndarray
    b: np.ndarray
    s: np.ndarray
    phase: np.ndarray
    n: np.ndarray
    full: tuple
    ws: Any
    wm: Any
    bpv: np.ndarray
    peak: np.ndarray
    supported: np.ndarray
    bw: np.ndarray
    has_bw: np.ndarray
    mem: np.ndarray
    ic: np.ndarray
    ec: np.ndarray
    em: np.ndarray
    ce: np.ndarray
    training: np.ndarray
    is_llm: np.ndarray
    params: np.ndarray
    active: np.ndarray
    L: np.ndarray
    dm: np.ndarray
    kvd: np.ndarray
    seq: np.ndarray
    out: np.ndarray
    flops_unit: np.ndarray
    act_values: np.ndarray
    kvb: np.ndarray
    beams: np.ndarray
    corr: np.ndarray


def _gather(A, w, d, p, b, n, s, phase, eta_on, comm_bw, work_scale, bytes_scale) -> _Setups:
    w, d, p, s, phase = (np.asarray(v, dtype=np.int64) for v in (w, d, p, s, phase))
    b = np.asarray(b, dtype=float)
    n = np.asarray(n, dtype=float)
    if work_scale is not None or bytes_scale is not None:
        ws = np.asarray(1.0 if work_scale is None else work_scale, dtype=float)
        wm = np.asarray(1.0 if bytes_scale is None else bytes_scale, dtype=float)
        w, d, p, b, s, phase, ws, wm = np.broadcast_arrays(w, d, p, b, s, phase, ws, wm)
    else:
        w, d, p, b, s, phase = np.broadcast_arrays(w, d, p, b, s, phase)
        ws = wm = 1.0  # type: ignore[assignment]  # a plain 1.0: _replica_time skips the scaling
    peak = A["peak"][d, p]
    supported = np.isfinite(peak) & (peak > 0)
    bw = A["bw"][d]
    eta = A["eta"][w, d, p, s] if eta_on else np.zeros(w.shape)
    return _Setups(
        A=A, w=w, d=d, p=p, b=b, s=s, phase=phase, n=n, full=np.broadcast_shapes(w.shape, n.shape), ws=ws, wm=wm,
        bpv=_BPV[p], peak=np.where(supported, peak, np.nan), supported=supported, bw=bw,
        has_bw=np.isfinite(bw) & (bw > 0), mem=A["mem"][d],
        ic=A["ic"][d] if comm_bw is None else np.broadcast_to(comm_bw, d.shape),
        ec=A["ec0"][d, p], em=A["em0"][d], ce=A["comm_eff"][d], training=s == 2, is_llm=A["wl_is_llm"][w] > 0,
        params=A["wl_params"][w], active=A["wl_active_params"][w], L=A["wl_layers"][w], dm=A["wl_d_model"][w],
        kvd=A["wl_kv_dim"][w], seq=A["wl_seq_len"][w], out=A["wl_out_len"][w], flops_unit=A["wl_flops"][w],
        act_values=A["wl_act_values"][w], kvb=np.where(p == _FP8, 1.0, KV_BYTES_DEFAULT), beams=A["wl_beams"][w],
        corr=np.exp(eta))


# ---- step 2: memory per replica -------------------------------------------------------------------------

@dataclass(frozen=True)
class _Memory:
    weights: np.ndarray
    static: np.ndarray       # weights (+ gradients and optimizer state when training)
    per_sample: np.ndarray   # KV cache (LLM inference), activations (training, other models)
    usable: np.ndarray
    min_dev: np.ndarray
    explicit: np.ndarray     # the batch was given
    g_need: np.ndarray       # devices the memory asks for (a power of two within a node)


def _memory(x: _Setups) -> _Memory:
    weights = x.params * x.bpv
    static = np.where(x.training, x.params * (2 * x.bpv + OPTIMIZER_BYTES_PER_PARAM), weights)
    kv_seq = 2 * x.L * x.kvd * x.kvb * (x.seq + x.out) * x.beams
    per_sample = np.where(x.is_llm, np.where(x.training, LLM_TRAIN_ACT_BYTES * x.L * x.dm * x.seq * x.bpv / 2, kv_seq),
                          x.act_values * x.bpv * np.where(x.training, 1.0, 0.25))
    usable = MEMORY_USABLE_FRACTION * x.mem
    min_dev = np.maximum(1, np.ceil(static / usable))
    explicit = x.b > 0
    g_need = _group_size(np.where(explicit, np.maximum(1, np.ceil((static + x.b * per_sample) / usable)), min_dev))
    return _Memory(weights, static, per_sample, usable, min_dev, explicit, g_need)


# ---- step 3: fixed overhead per batch ---------------------------------------------------------------------

def _overhead(m: Fitted, x: _Setups):
    """One forward pass (non-LLM), prefill + out decode steps (LLM), three passes for a training step."""
    o_pass = overhead_per_pass(m, x.w, x.d)
    passes = np.where(x.training, 3.0, np.where(x.is_llm & (x.phase == 0), 1 + x.out, 1.0))
    return o_pass, o_pass * passes, np.where(x.training, 3.0, 1.0)


# ---- step 4: one candidate layout per group size -----------------------------------------------------------

@dataclass(frozen=True)
class _Candidate:
    g: Any
    tp: Any
    pp: Any
    b: Any
    mem: Any
    t: Any
    tc: Any
    tm: Any
    tx: Any
    t1: Any
    t_peak: Any
    t_peak1: Any
    units: Any
    valid: Any
    score: Any


def _candidate(x: _Setups, mem: _Memory, g, o_pass, overhead, mult, latency_limit_s, ranked: bool) -> _Candidate:
    """Group size g: its default batch (LLM: the largest that fits, capped; other models: the workload's,
    raised until the fixed overhead is <= OVERHEAD_SHARE of the batch time, capped by memory), memory,
    roofline time, and (when several sizes compete) a score over the device counts."""
    A, corr = x.A, x.corr
    room = np.floor((g * mem.usable - mem.static) / mem.per_sample)
    tau = np.maximum(x.ws * mult * x.flops_unit / (g * x.peak * x.ec),
                     np.where(x.has_bw, x.wm * mult * x.act_values * x.bpv / (g * x.bw * x.em), 0.0)) / corr
    with np.errstate(divide="ignore", invalid="ignore"):
        b_amort = 2.0 ** np.ceil(np.log2(np.maximum(o_pass * mult / (OVERHEAD_SHARE * tau), 1.0)))
    b_amort = np.where(np.isfinite(b_amort), b_amort, 1.0)
    b_nl = np.maximum(1, np.minimum(np.clip(b_amort, A["wl_default_batch"][x.w], NON_LLM_DEFAULT_BATCH_MAX), room))
    b_nl = np.where(np.isfinite(b_nl), b_nl, 1.0)
    b_def = np.where(x.is_llm, np.clip(room, 1, LLM_DEFAULT_BATCH_CAP), np.maximum(1, b_nl))
    bg = np.where(mem.explicit, x.b, b_def)
    mem_req = mem.static + bg * mem.per_sample
    g = np.maximum(g, _group_size(np.maximum(1, np.ceil(mem_req / mem.usable))))  # batch 1 may still need more
    tp = np.where(x.is_llm, np.minimum(g, NODE_SIZE), g)
    pp = g / tp
    valid = mem_req <= g * mem.usable * (1 + 1e-9)
    t, tc, tm, tx = _replica_time(x, tp, pp, bg, mem)
    one = np.ones_like(g)
    t1, tc1, _, _ = _replica_time(x, one, one, bg, mem)
    t_peak = tc * x.ec / PEAK_CAP      # the batch's FLOPs at 100% of the group's peak
    t_peak1 = tc1 * x.ec / PEAK_CAP
    units = np.where(x.is_llm, np.where(x.training | (x.phase == 1), bg * x.seq,
                                        np.where(x.phase == 2, bg * x.beams, bg * x.out)), bg)
    score = None
    if ranked:  # rank the group sizes over the device counts
        per_rep = units / (np.maximum(t / corr, t_peak) + overhead)  # inference; training adds the all-reduce
        lat_factor = np.where(x.s == 1, SERVER_P99_FACTOR, 1.0)
        reps = np.floor(x.n / g)
        ok = (reps >= 1) & valid & x.supported
        if bool(x.training.any()):
            ga = _grad_allreduce(x.training, reps, x.params, x.bpv, g, x.ic, x.ce)
            tb = np.maximum((t + ga) / corr, t_peak) + overhead
            tput, lat = np.where(ok, reps * units / tb, 0.0), tb * lat_factor
        else:
            tput, lat = np.where(ok, reps * per_rep, 0.0), (units / per_rep) * lat_factor
        score = tput / (tput + 1.0)
        if latency_limit_s is not None:
            score = score + np.where(lat <= latency_limit_s, 2.0, 0.0)
    return _Candidate(g=g, tp=tp, pp=pp, b=bg, mem=mem_req, t=t, tc=tc, tm=tm, tx=tx, t1=t1, t_peak=t_peak,
                      t_peak1=t_peak1, units=units, valid=valid, score=score)


def _replica_time(x: _Setups, tp, pp, b, mem: _Memory):
    """(time per batch, compute part, memory part, communication part) for a replica of tp x pp devices.

    Tensor parallel: two all-reduces of the activations per layer over tp devices. Pipeline (LLMs
    across nodes): pp stages, activations sent between stages, and a bubble of (pp - 1) / m with m
    micro-batches (at most the sequences in flight, at most 4 per stage).
    """
    peak, ec, bw, em, has_bw, ic, ce, ws, wm = x.peak, x.ec, x.bw, x.em, x.has_bw, x.ic, x.ce, x.ws, x.wm
    training, phase, is_llm, bpv, L, dm, kvb, kvd, seq, out = (x.training, x.phase, x.is_llm, x.bpv, x.L, x.dm, x.kvb,
                                                               x.kvd, x.seq, x.out)
    weights, static, flops_unit, act_values = mem.weights, mem.static, x.flops_unit, x.act_values
    g = tp * pp
    comp_rate = g * peak * ec
    mem_rate = np.where(has_bw, g * bw * em, np.inf)
    if not (np.isscalar(ws) and ws == 1.0):  # a row's own FLOP count (work_scale): more or less work per unit
        comp_rate = comp_rate / ws
    if not (np.isscalar(wm) and wm == 1.0):  # a row's own byte count (bytes_scale)
        mem_rate = mem_rate / wm
    tpar = tp > 1
    ar = lambda nbytes: np.where(tpar, 2 * (tp - 1) / tp * nbytes / (ic * ce) + ALLREDUCE_LATENCY_S, 0.0)
    p2p = lambda nbytes: np.where(pp > 1, (pp - 1) * (nbytes / (ic * ce) + ALLREDUCE_LATENCY_S), 0.0)
    # non-LLM: weights read once per batch, activations per sample
    mult = np.where(training, 3.0, 1.0)
    nl_c = mult * b * flops_unit / comp_rate
    nl_m = mult * (weights + b * act_values * bpv) / mem_rate
    nl_x = np.where(tpar, b * act_values * bpv * mult / (ic * ce), 0.0)  # embedding / activation exchange
    # LLM inference: prefill (compute) + out_len decode steps (memory at small batch)
    f_tok = 2 * x.active
    seqs = b * x.beams  # sequences decoded per step (beam search decodes several per request)
    bubble = 1 + (pp - 1) / np.maximum(1.0, np.minimum(seqs, 4 * pp))
    pf_c = b * seq * (f_tok + 2 * L * dm * seq) / comp_rate * bubble
    pf_m = weights / mem_rate * bubble
    pf_x = 2 * L * ar(b * seq * dm * 2) + p2p(b * seq * dm * 2)
    ctx = seq + out / 2
    st_c = seqs * (f_tok + 4 * L * dm * ctx) / comp_rate * bubble
    st_m = (weights + seqs * 2 * L * kvd * kvb * ctx) / mem_rate * bubble
    st_x = 2 * L * ar(seqs * dm * 2) + p2p(seqs * dm * 2)
    llm_pf = np.maximum(pf_c, pf_m)
    llm_st = np.maximum(st_c, st_m)
    # LLM training step: 6 x active params per token, weights + optimizer touched ~3 times
    tr_c = b * seq * 3 * (f_tok + 2 * L * dm * seq) / comp_rate * bubble
    tr_m = 3 * static / mem_rate * bubble
    tr_x = 3 * 2 * L * ar(b * seq * dm * 2) + 3 * p2p(b * seq * dm * 2)
    e2e = llm_pf + pf_x + out * (llm_st + st_x)
    llm_t = np.where(training, np.maximum(tr_c, tr_m) + tr_x,
                     np.where(phase == 1, llm_pf + pf_x, np.where(phase == 2, llm_st + st_x, e2e)))
    llm_c = np.where(training, tr_c, np.where(phase == 1, pf_c, np.where(phase == 2, st_c, pf_c + out * st_c)))
    llm_m = np.where(training, tr_m, np.where(phase == 1, pf_m, np.where(phase == 2, st_m, pf_m + out * st_m)))
    llm_x = np.where(training, tr_x, np.where(phase == 1, pf_x, np.where(phase == 2, st_x, pf_x + out * st_x)))
    nl_t = np.maximum(nl_c, nl_m) + nl_x
    t = np.where(is_llm, llm_t, nl_t)
    c = np.where(is_llm, llm_c, nl_c)
    mm = np.where(is_llm, llm_m, np.where(np.isfinite(nl_m), nl_m, 0.0))
    mm = np.where(np.isfinite(mm), mm, 0.0)
    xx = np.where(is_llm, llm_x, nl_x)
    return t, c, mm, xx


# ---- step 5: the chosen layout --------------------------------------------------------------------------

def _choose(cands: list[_Candidate], full: tuple, setup_shape: tuple) -> _Candidate:
    """The best-scoring candidate per setup x count (the only one when a single group size was tried)."""
    if len(cands) == 1:
        c = cands[0]
        return _Candidate(**{f.name: (None if f.name == "score" else np.broadcast_to(getattr(c, f.name), full))
                             for f in fields(_Candidate)})
    best = np.broadcast_to(np.argmax(np.stack([np.broadcast_to(c.score, full) for c in cands]), axis=0), full)
    lead = (1,) * (len(full) - len(setup_shape))

    def pick(name: str):  # the chosen group's value, gathered once per setup x count
        stacked = np.stack([np.broadcast_to(getattr(c, name), setup_shape) for c in cands])
        return np.take_along_axis(stacked.reshape((len(cands),) + lead + setup_shape), best[None], axis=0)[0]

    return _Candidate(**{f.name: (None if f.name == "score" else pick(f.name)) for f in fields(_Candidate)})


# ---- step 6: throughput, latency, parallel efficiency ----------------------------------------------------

@dataclass(frozen=True)
class _Throughput:
    reps: np.ndarray
    fits: np.ndarray
    supported: np.ndarray
    corr: np.ndarray
    overhead: np.ndarray
    grad_ar: np.ndarray
    t_core: np.ndarray
    t_core_uncorrected: np.ndarray
    t_batch: np.ndarray
    throughput: np.ndarray
    lat: np.ndarray
    par_eff: np.ndarray
    peak_tp: np.ndarray
    used: np.ndarray
    basis: np.ndarray


def _throughput(x: _Setups, c: _Candidate, overhead) -> _Throughput:
    full = x.full
    n_f = np.broadcast_to(x.n, full)
    sup_f = np.broadcast_to(x.supported, full)
    corr_f = np.broadcast_to(x.corr, full)
    ov_f = np.broadcast_to(overhead, full)
    reps = np.floor(n_f / c.g)
    fits = (reps >= 1) & c.valid.astype(bool)
    grad_ar = (_grad_allreduce(x.training, reps, x.params, x.bpv, c.g, x.ic, x.ce) if bool(x.training.any())
               else np.zeros(full))
    t_core = np.maximum((c.t + grad_ar) / corr_f, c.t_peak)
    t_batch = t_core + ov_f
    throughput = np.where(fits & sup_f, reps * c.units / t_batch, 0.0)
    lat = t_batch * np.broadcast_to(np.where(x.s == 1, SERVER_P99_FACTOR, 1.0), full)
    single = c.units / (np.maximum(c.t1 / corr_f, c.t_peak1) + ov_f)
    par_eff = np.where(fits & sup_f, throughput / (n_f * single), np.nan)
    # the compute roofline at 100% of peak bounds the estimate and its interval's high end
    peak_tp = np.where(c.t_peak > 0, reps * c.units / c.t_peak, np.inf)
    return _Throughput(reps=reps, fits=fits, supported=sup_f, corr=corr_f, overhead=ov_f, grad_ar=grad_ar,
                       t_core=t_core, t_core_uncorrected=c.t + grad_ar, t_batch=t_batch, throughput=throughput, lat=lat,
                       par_eff=par_eff, peak_tp=peak_tp, used=np.where(fits, reps * c.g, np.minimum(n_f, 1)),
                       basis=np.broadcast_to(x.A["basis"][x.w, x.d, x.s], full))


# ---- step 7: the interval ---------------------------------------------------------------------------------

def _interval(x: _Setups, t: _Throughput):
    """Conformal log-residual quantiles of the basis; the high end never above the compute peak."""
    q = x.A["q"][t.basis]
    low = t.throughput * np.exp(q[..., 0])
    high = np.minimum(t.throughput * np.exp(q[..., 1]), HIGH_MARGIN * t.peak_tp)
    return low, np.maximum(high, t.throughput)


# ---- step 8: power: hosts (per node) + devices (P_idle + (P_max - P_idle) u^gamma each), hwplan.costmodel.power ---

def _power(m: Fitted, x: _Setups, c: _Candidate, t: _Throughput):
    busy = np.maximum(c.tc, c.tm) / np.maximum(c.t + t.grad_ar, 1e-30) * t.t_core / np.maximum(t.t_batch, 1e-30)
    util = np.clip(busy, 0.05, 1.0)
    d = np.broadcast_to(x.d, x.full).astype(int)
    n_f = np.broadcast_to(x.n, x.full)
    wall, dev_w, idle_w = device_and_host_power(x.A, d, n_f, util)
    return (util, np.where(t.supported, wall, np.nan), idle_w, np.where(t.supported, dev_w, np.nan))


# ---- step 9: the work the model counts per unit ---------------------------------------------------------------

def _work_per_unit(x: _Setups, c: _Candidate):
    with np.errstate(divide="ignore", invalid="ignore"):
        fpu = np.where(c.units > 0, c.tc * x.ec * c.g * x.peak / c.units, np.nan)  # FLOPs per unit
        bpu = np.where((c.units > 0) & np.broadcast_to(x.has_bw, x.full),
                       c.tm * c.g * np.broadcast_to(x.bw * x.em, x.full) / c.units, np.nan)
    return fpu, bpu


def _grad_allreduce(training, reps, params, bpv, g, ic, ce):
    """Exposed part of the data-parallel gradient all-reduce per training step (ring over replicas)."""
    return np.where(training & (reps > 1),
                    GRAD_ALLREDUCE_EXPOSED * 2 * (reps - 1) / np.maximum(reps, 1) * (params * bpv / g) / (ic * ce), 0.0)


def _group_size(k):
    """Devices per replica: a power of two within a node, whole nodes beyond it."""
    k = np.asarray(k, dtype=float)
    pow2 = 2.0 ** np.ceil(np.log2(np.maximum(k, 1)))
    return np.where(k <= NODE_SIZE, pow2, np.ceil(k / NODE_SIZE) * NODE_SIZE)
