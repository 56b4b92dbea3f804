"""The fitted performance model as plain arrays, and its vectorised numpy evaluator.

`PerformanceModel` holds what fitting learned (efficiency corrections per workload x device x
precision x scenario, efficiency priors, conformal interval quantiles, power parameters) next to
the catalog and workload facts it was fitted with. It serialises to JSON, so `hwplan plan` can
evaluate millions of setups without importing sklearn.

Time of one replica (g devices holding one copy of the model) for a batch b:
  non-LLM:  max(b F / (g peak e_c), (W + b A) / (g bw e_m)) + comm
  LLM:      prefill + out_len x decode step, each max(compute, memory) + tensor-parallel all-reduce
plus a fixed overhead per forward pass (host round trip + per-layer launches, by kind), and the
whole setup runs floor(n / g) replicas. The fitted correction exp(eta) scales the roofline part
(never the overhead), and the result is capped at 100% of the compute peak for the FLOPs counted.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwplan.core.vocab import BASES, BOUNDS, BYTES_PER_VALUE, DEVICE_KINDS, PHASES, PRECISIONS, QUALITY

SCENARIOS = ("offline", "server", "training")
KINDS = DEVICE_KINDS

# Physical assumptions (labelled as such wherever they are shown).
PCIE_FALLBACK_BPS = 32e9        # PCIe Gen4 x16, one direction, when the catalog has no interconnect
CPU_MEMORY_FALLBACK_B = 512e9   # host memory of a CPU socket when the catalog leaves it blank
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
# Estimates, not measured here; a device's rows with batch sweeps and latency rescale them (fit.py).
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


@dataclass
class PerformanceModel:
    """Fitted model state. Build it with `hwplan.costmodel.api.fit_models`; evaluate with `evaluate`."""

    devices: list[str]
    dev: dict            # per-device arrays (lists) from the catalog, plus imputation flags
    workloads: list[str]
    wl: dict             # per-workload work facts (hwplan.costmodel.work.workload_table)
    eta: list            # [W][D][P][S] log throughput correction
    basis: list          # [W][D][S] index into BASES
    basis_detail: dict   # "w|d|s" -> text
    interval: dict       # basis -> [q_lo, q_hi] log-residual quantiles (80%)
    ec0: list            # [D][P] compute efficiency prior
    em0: list            # [D] memory efficiency prior
    comm_eff: list       # [D] collective bandwidth efficiency
    power: dict          # gamma, host overhead per kind, basis text
    meta: dict = field(default_factory=dict)
    overhead: dict = field(default_factory=dict)  # per-batch fixed overhead: "mult" [D] on the kind prior, basis text

    _arrays: dict | None = field(default=None, repr=False, compare=False)

    # ---- serialisation ---------------------------------------------------------------
    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("devices", "dev", "workloads", "wl", "eta", "basis", "basis_detail",
                                              "interval", "ec0", "em0", "comm_eff", "power", "meta", "overhead")}

    def save(self, path: str | Path) -> None:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(p.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), allow_nan=True))
        tmp.replace(p)

    @classmethod
    def load(cls, path: str | Path) -> "PerformanceModel":
        return cls(**json.loads(Path(path).read_text()))

    # ---- array views -----------------------------------------------------------------
    @property
    def a(self) -> dict:
        if self._arrays is None:
            A = {k: np.asarray(v, dtype=float) for k, v in self.dev.items() if k not in ("kind", "vendor", "notes")}
            A.update({"wl_" + k: np.asarray(v, dtype=float) for k, v in self.wl.items()
                      if k not in ("ids", "basis", "unit", "modes")})
            A["kind_code"] = np.array([KINDS.index(k) for k in self.dev["kind"]])
            A["eta"] = np.asarray(self.eta, dtype=float)
            A["basis"] = np.asarray(self.basis, dtype=np.int8)
            A["ec0"] = np.asarray(self.ec0, dtype=float)
            A["em0"] = np.asarray(self.em0, dtype=float)
            A["comm_eff"] = np.asarray(self.comm_eff, dtype=float)
            A["q"] = np.array([self.interval.get(b, [-0.7, 0.7]) for b in BASES], dtype=float)
            oh = self.overhead or {}
            A["oh_fixed"] = np.array([OVERHEAD_PRIOR_S[k][0] for k in KINDS])
            A["oh_layer"] = np.array([OVERHEAD_PRIOR_S[k][1] for k in KINDS])
            A["oh_mult"] = np.asarray(oh.get("mult", [1.0] * len(self.devices)), dtype=float)
            A["host"] = np.array([self.power["host"].get(k, self.power["host_default"]) for k in KINDS])
            A["dev_index"] = {d: i for i, d in enumerate(self.devices)}
            A["wl_index"] = {w: i for i, w in enumerate(self.workloads)}
            self._arrays = A
        return self._arrays

    def device_index(self, device: str) -> int:
        return self.a["dev_index"][device]

    def workload_index(self, workload: str) -> int:
        return self.a["wl_index"][workload]


def overhead_per_pass(m: PerformanceModel, w, d) -> np.ndarray:
    """Fixed time per forward pass (s): host round trip + per-layer launch, times the device's fitted factor."""
    A = m.a
    fixed, per_layer = A["oh_fixed"][A["kind_code"][d]], A["oh_layer"][A["kind_code"][d]]
    return A["oh_mult"][d] * (fixed + A["wl_layers"][w] * per_layer)


def evaluate(m: PerformanceModel, w, d, p, b, n, s, phase=0, eta_on=True, comm_bw=None, latency_limit_s=None,
             work_scale=None, bytes_scale=None) -> dict:
    """Vectorised prediction for setups given as index arrays (broadcast together).

    w workload index, d device index, p precision index (PRECISIONS), b batch per replica
    (0 = default), n device count, s scenario index (SCENARIOS; 2 = training), phase (PHASES).
    Everything but n may have one shape and n another (e.g. (K, 1) and (1, C)): the per-replica
    work is then done once per setup and only the replica count is broadcast over n.
    LLMs: every tensor-parallel group size from the memory minimum up to a node (powers of two) is
    tried, with pipeline stages across nodes where a node is not enough; the one with the highest
    throughput is kept (among those within `latency_limit_s` when given).
    Returns arrays: throughput (workload unit, whole setup), low, high, basis, bound, latency_s (p99),
    latency_p50_s, power_w, idle_w, mem_required_b, min_devices, group, tensor_parallel,
    pipeline_parallel, replicas, batch, parallel_eff, supported, fits, util, overhead_s,
    flops_per_unit, peak_throughput (whole-setup compute bound at 100% of peak), and the parts the
    fit needs (t_core_s: uncorrected roofline time of one replica's batch; units_per_batch).
    work_scale / bytes_scale (optional, broadcast with the setups): a measured row's own FLOPs (bytes)
    per unit over the work model's count; scale the compute (memory traffic) of that setup only.
    Also returned: bytes_per_unit (memory traffic the work model counts per unit).
    """
    A = m.a
    w, d, p, s, phase = (np.asarray(x, dtype=np.int64) for x in (w, d, p, s, phase))
    b = np.asarray(b, dtype=float)
    n = np.asarray(n, dtype=float)
    if work_scale is not None or bytes_scale is not None:
        ws = np.asarray(1.0 if work_scale is None else work_scale, dtype=float)
        wm = np.asarray(1.0 if bytes_scale is None else bytes_scale, dtype=float)
        w, d, p, b, s, phase, ws, wm = np.broadcast_arrays(w, d, p, b, s, phase, ws, wm)
    else:
        w, d, p, b, s, phase = np.broadcast_arrays(w, d, p, b, s, phase)
        ws = wm = 1.0
    full = np.broadcast_shapes(w.shape, n.shape)
    bpv = np.asarray([BYTES_PER_VALUE[x] for x in PRECISIONS])[p]
    peak = A["peak"][d, p]
    supported = np.isfinite(peak) & (peak > 0)
    peak = np.where(supported, peak, np.nan)
    bw = A["bw"][d]
    has_bw = np.isfinite(bw) & (bw > 0)
    mem = A["mem"][d]
    ic = A["ic"][d] if comm_bw is None else np.broadcast_to(comm_bw, d.shape)
    ec = A["ec0"][d, p]
    em = A["em0"][d]
    ce = A["comm_eff"][d]
    training = s == 2
    is_llm = A["wl_is_llm"][w] > 0

    params, active = A["wl_params"][w], A["wl_active_params"][w]
    L, dm, kvd = A["wl_layers"][w], A["wl_d_model"][w], A["wl_kv_dim"][w]
    seq, out = A["wl_seq_len"][w], A["wl_out_len"][w]
    flops_unit, act_values = A["wl_flops"][w], A["wl_act_values"][w]
    kvb = np.where(p == PRECISIONS.index("fp8"), 1.0, KV_BYTES_DEFAULT)
    eta = A["eta"][w, d, p, s] if eta_on else np.zeros(w.shape)
    corr = np.exp(eta)

    # ---- memory: weights (+ optimizer state), per-sample state ----------------------------
    weights = params * bpv
    static = np.where(training, params * (2 * bpv + OPTIMIZER_BYTES_PER_PARAM), weights)
    beams = A["wl_beams"][w]
    kv_seq = 2 * L * kvd * kvb * (seq + out) * beams
    per_sample = np.where(is_llm, np.where(training, LLM_TRAIN_ACT_BYTES * L * dm * seq * bpv / 2, kv_seq),
                          act_values * bpv * np.where(training, 1.0, 0.25))
    usable = MEMORY_USABLE_FRACTION * mem
    min_dev = np.maximum(1, np.ceil(static / usable))
    explicit = b > 0
    g_need = _group_size(np.where(explicit, np.maximum(1, np.ceil((static + b * per_sample) / usable)), min_dev))

    # ---- fixed overhead per batch: one forward pass (non-LLM), prefill + out decode steps (LLM)
    o_pass = overhead_per_pass(m, w, d)
    passes = np.where(training, 3.0, np.where(is_llm & (phase == 0), 1 + out, 1.0))
    overhead = o_pass * passes
    mult = np.where(training, 3.0, 1.0)

    if is_llm.any():
        cands = [g_need] + [np.where(is_llm, np.maximum(g_need, float(k)), g_need) for k in TP_SIZES if k > 1]
    else:
        cands = [g_need]
    lat_factor = np.where(s == 1, SERVER_P99_FACTOR, 1.0)
    train_any = bool(training.any())
    per = []
    for g in cands:
        tp = np.minimum(g, NODE_SIZE)
        pp = np.where(is_llm, g / tp, 1.0)
        tp = np.where(is_llm, tp, g)
        # default batch: LLM the largest that fits the group (capped); other models the workload's,
        # raised until the fixed overhead is <= OVERHEAD_SHARE of the batch time, capped by memory
        room = np.floor((g * usable - static) / per_sample)
        tau = np.maximum(ws * mult * flops_unit / (g * peak * ec),
                         np.where(has_bw, wm * mult * act_values * bpv / (g * bw * em), 0.0)) / corr
        with np.errstate(divide="ignore", invalid="ignore"):
            b_amort = 2.0 ** np.ceil(np.log2(np.maximum(o_pass * mult / (OVERHEAD_SHARE * tau), 1.0)))
        b_amort = np.where(np.isfinite(b_amort), b_amort, 1.0)
        b_nl = np.maximum(1, np.minimum(np.clip(b_amort, A["wl_default_batch"][w], NON_LLM_DEFAULT_BATCH_MAX), room))
        b_nl = np.where(np.isfinite(b_nl), b_nl, 1.0)
        b_def = np.where(is_llm, np.clip(room, 1, LLM_DEFAULT_BATCH_CAP), np.maximum(1, b_nl))
        bg = np.where(explicit, b, b_def)
        mem_req = static + bg * per_sample
        g = np.maximum(g, _group_size(np.maximum(1, np.ceil(mem_req / usable))))  # batch 1 may still need more
        tp = np.where(is_llm, np.minimum(g, NODE_SIZE), g)
        pp = g / tp
        valid = mem_req <= g * usable * (1 + 1e-9)
        t, tc, tm, tx = _replica_time(tp, pp, bg, is_llm, training, phase, peak, ec, bw, em, has_bw, ic, ce,
                                      flops_unit, weights, static, act_values, bpv, L, dm, kvb, kvd, seq, out, active,
                                      beams, ws, wm)
        t1, tc1, _, _ = _replica_time(np.ones_like(g), np.ones_like(g), bg, is_llm, training, phase, peak, ec, bw, em,
                                      has_bw, ic, ce, flops_unit, weights, static, act_values, bpv, L, dm, kvb, kvd,
                                      seq, out, active, beams, ws, wm)
        t_peak = tc * ec / PEAK_CAP      # the batch's FLOPs at 100% of the group's peak
        t_peak1 = tc1 * ec / PEAK_CAP
        units = np.where(is_llm, np.where(training | (phase == 1), bg * seq, np.where(phase == 2, bg * beams, bg * out)), bg)
        per_rep = units / (np.maximum(t / corr, t_peak) + overhead)  # inference; training adds the all-reduce
        score = None
        if len(cands) > 1:  # rank the group sizes over the device counts
            reps = np.floor(n / g)
            ok = (reps >= 1) & valid & supported
            if train_any:
                ga = _grad_allreduce(training, reps, params, bpv, g, ic, ce)
                tb = np.maximum((t + ga) / corr, t_peak) + overhead
                tput, lat = np.where(ok, reps * units / tb, 0.0), tb * lat_factor
            else:
                tput, lat = np.where(ok, reps * per_rep, 0.0), (units / per_rep) * lat_factor
            score = tput / (tput + 1.0)
            if latency_limit_s is not None:
                score = score + np.where(lat <= latency_limit_s, 2.0, 0.0)
        per.append(dict(g=g, tp=tp, pp=pp, b=bg, mem=mem_req, t=t, tc=tc, tm=tm, tx=tx, t1=t1, t_peak=t_peak,
                        t_peak1=t_peak1, units=units, valid=valid, score=score))
    setup_shape = w.shape
    if len(per) == 1:
        c = per[0]

        def pick(k):
            return np.broadcast_to(c[k], full)
    else:
        best = np.broadcast_to(np.argmax(np.stack([np.broadcast_to(c["score"], full) for c in per]), axis=0), full)
        lead = (1,) * (len(full) - len(setup_shape))

        def pick(k):  # the chosen group's value, gathered once per setup x count
            stacked = np.stack([np.broadcast_to(c[k], setup_shape) for c in per]).reshape((len(per),) + lead + setup_shape)
            return np.take_along_axis(stacked, best[None], axis=0)[0]
    g, tp, pp, bg, mem_req = pick("g"), pick("tp"), pick("pp"), pick("b"), pick("mem")
    t, tc, tm, tx, t1 = pick("t"), pick("tc"), pick("tm"), pick("tx"), pick("t1")
    t_peak, t_peak1, units, valid = pick("t_peak"), pick("t_peak1"), pick("units"), pick("valid")
    n_f = np.broadcast_to(n, full)
    sup_f = np.broadcast_to(supported, full)
    corr_f = np.broadcast_to(corr, full)
    ov_f = np.broadcast_to(overhead, full)
    reps = np.floor(n_f / g)
    fits = (reps >= 1) & valid.astype(bool)
    grad_ar = _grad_allreduce(training, reps, params, bpv, g, ic, ce) if train_any else np.zeros(full)
    t_core = np.maximum((t + grad_ar) / corr_f, t_peak)
    t_batch = t_core + ov_f
    throughput = np.where(fits & sup_f, reps * units / t_batch, 0.0)
    lat = t_batch * np.broadcast_to(lat_factor, full)
    single = units / (np.maximum(t1 / corr_f, t_peak1) + ov_f)
    par_eff = np.where(fits & sup_f, throughput / (n_f * single), np.nan)
    # the compute roofline at 100% of peak bounds the estimate and its interval's high end
    peak_tp = np.where(t_peak > 0, reps * units / t_peak, np.inf)

    basis = np.broadcast_to(A["basis"][w, d, s], full)
    q = A["q"][basis]
    low = throughput * np.exp(q[..., 0])
    high = np.minimum(throughput * np.exp(q[..., 1]), HIGH_MARGIN * peak_tp)
    high = np.maximum(high, throughput)
    bound = np.argmax(np.stack([np.maximum(tc / corr_f, t_peak), tm / corr_f, (tx + grad_ar) / corr_f, ov_f]), axis=0)

    # ---- power: P = P_idle + (P_max - P_idle) u^gamma per device, plus host share ------------
    board, idle = A["board_w"][d], A["idle_w"][d]
    busy = np.maximum(tc, tm) / np.maximum(t + grad_ar, 1e-30) * t_core / np.maximum(t_batch, 1e-30)
    util = np.clip(busy, 0.05, 1.0)
    gamma = m.power["gamma"]
    dev_w = idle + (board - idle) * util ** gamma
    host = A["host"][A["kind_code"][d]]
    used = np.where(fits, reps * g, np.minimum(n_f, 1))
    power_w = np.where(sup_f, n_f * dev_w * (1 + host), np.nan)
    idle_setup_w = n_f * idle * (1 + host)
    with np.errstate(divide="ignore", invalid="ignore"):
        fpu = np.where(units > 0, tc * ec * g * peak / units, np.nan)  # FLOPs per unit the work model counts
        bpu = np.where((units > 0) & np.broadcast_to(has_bw, full), tm * g * np.broadcast_to(bw * em, full) / units, np.nan)
    bc = lambda x: np.broadcast_to(x, full)  # noqa: E731
    return dict(throughput=throughput, low=low, high=high, basis=basis, bound=bound, latency_s=lat,
                latency_p50_s=t_batch, power_w=power_w, idle_w=bc(idle_setup_w), mem_required_b=mem_req,
                min_devices=bc(min_dev), group=g, tensor_parallel=tp, pipeline_parallel=pp, replicas=reps, used=used,
                batch=bg, parallel_eff=par_eff, supported=sup_f, fits=fits, util=util, overhead_s=ov_f,
                flops_per_unit=fpu, bytes_per_unit=bpu, peak_throughput=np.where(fits & sup_f, peak_tp, 0.0),
                t_core_s=t + grad_ar, units_per_batch=units)


def _grad_allreduce(training, reps, params, bpv, g, ic, ce):
    """Exposed part of the data-parallel gradient all-reduce per training step (ring over replicas)."""
    return np.where(training & (reps > 1),
                    GRAD_ALLREDUCE_EXPOSED * 2 * (reps - 1) / np.maximum(reps, 1) * (params * bpv / g) / (ic * ce), 0.0)


def _group_size(k):
    """Devices per replica: a power of two within a node, whole nodes beyond it."""
    k = np.asarray(k, dtype=float)
    pow2 = 2.0 ** np.ceil(np.log2(np.maximum(k, 1)))
    return np.where(k <= NODE_SIZE, pow2, np.ceil(k / NODE_SIZE) * NODE_SIZE)


def _replica_time(tp, pp, b, is_llm, training, phase, peak, ec, bw, em, has_bw, ic, ce, flops_unit, weights, static,
                  act_values, bpv, L, dm, kvb, kvd, seq, out, active, beams=1.0, ws=1.0, wm=1.0):
    """(time per batch, compute part, memory part, communication part) for a replica of tp x pp devices.

    Tensor parallel: two all-reduces of the activations per layer over tp devices. Pipeline (LLMs
    across nodes): pp stages, activations sent between stages, and a bubble of (pp - 1) / m with m
    micro-batches (at most the sequences in flight, at most 4 per stage).
    """
    g = tp * pp
    comp_rate = g * peak * ec
    mem_rate = np.where(has_bw, g * bw * em, np.inf)
    if not (np.isscalar(ws) and ws == 1.0):  # a row's own FLOP count (work_scale): more or less work per unit
        comp_rate = comp_rate / ws
    if not (np.isscalar(wm) and wm == 1.0):  # a row's own byte count (bytes_scale)
        mem_rate = mem_rate / wm
    tpar = tp > 1
    ar = lambda nbytes: np.where(tpar, 2 * (tp - 1) / tp * nbytes / (ic * ce) + ALLREDUCE_LATENCY_S, 0.0)  # noqa: E731
    p2p = lambda nbytes: np.where(pp > 1, (pp - 1) * (nbytes / (ic * ce) + ALLREDUCE_LATENCY_S), 0.0)  # noqa: E731
    # non-LLM: weights read once per batch, activations per sample
    mult = np.where(training, 3.0, 1.0)
    nl_c = mult * b * flops_unit / comp_rate
    nl_m = mult * (weights + b * act_values * bpv) / mem_rate
    nl_x = np.where(tpar, b * act_values * bpv * mult / (ic * ce), 0.0)  # embedding / activation exchange
    # LLM inference: prefill (compute) + out_len decode steps (memory at small batch)
    f_tok = 2 * active
    seqs = b * beams  # sequences decoded per step (beam search decodes several per request)
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
    x = np.where(is_llm, llm_x, nl_x)
    return t, c, mm, x


def precision_allowed(m: PerformanceModel, w: int) -> np.ndarray:
    """Which precisions meet workload w's accuracy target (by its lowest_precision)."""
    low = m.wl["lowest_quality"][w]
    return np.array([QUALITY[x] >= low for x in PRECISIONS])


def finite_or_none(x):
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x
