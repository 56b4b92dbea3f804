"""The fitted performance model as plain arrays, and its vectorised numpy evaluator.

`PerformanceModel` holds what fitting learned (efficiency corrections per workload x device x
precision x scenario, efficiency priors, conformal interval quantiles, power parameters) next to
the catalog and workload facts it was fitted with. It serialises to JSON, so `hwplan plan` can
evaluate millions of setups without importing sklearn.

Time of one replica (g devices holding one copy of the model) for a batch b:
  non-LLM:  max(b F / (g peak e_c), (W + b A) / (g bw e_m)) + comm
  LLM:      prefill + out_len x decode step, each max(compute, memory) + tensor-parallel all-reduce
and the whole setup runs floor(n / g) replicas. The fitted correction exp(eta) scales the result.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from costmodel.work import BYTES_PER_VALUE, PRECISIONS, QUALITY

SCENARIOS = ("offline", "server", "training")
BASES = ("measured", "calibrated", "roofline")
BOUNDS = ("compute", "memory", "communication")
KINDS = ("cpu", "gpu", "tpu", "fpga", "asic")
PHASES = ("", "prefill", "decode")

# Physical assumptions (labelled as such wherever they are shown).
PCIE_FALLBACK_BPS = 32e9        # PCIe Gen4 x16, one direction, when the catalog has no interconnect
CPU_MEMORY_FALLBACK_B = 512e9   # host memory of a CPU socket when the catalog leaves it blank
ALLREDUCE_LATENCY_S = 10e-6     # per collective: launch + synchronisation (NCCL small-message order)
NODE_SIZE = 8                   # devices per node for tensor parallel; beyond it, pipeline stages
SERVER_P99_FACTOR = 2.0         # p99 of a loaded server queue vs one batch time (assumption)
GRAD_ALLREDUCE_EXPOSED = 0.5    # share of the gradient all-reduce not hidden behind backward
OPTIMIZER_BYTES_PER_PARAM = 12  # fp32 master weights + Adam m and v
KV_BYTES_MAX = 2.0              # KV cache kept at <= 16 bit
LLM_TRAIN_ACT_BYTES = 34.0      # activation bytes per token per layer per d_model (Korthikanti et al. 2022)


@dataclass
class PerformanceModel:
    """Fitted model state. Build it with `costmodel.api.fit_models`; evaluate with `evaluate`."""

    devices: list[str]
    dev: dict            # per-device arrays (lists) from the catalog, plus imputation flags
    workloads: list[str]
    wl: dict             # per-workload work facts (costmodel.work.workload_table)
    eta: list            # [W][D][P][S] log throughput correction
    basis: list          # [W][D][S] index into BASES
    basis_detail: dict   # "w|d|s" -> text
    interval: dict       # basis -> [q_lo, q_hi] log-residual quantiles (80%)
    ec0: list            # [D][P] compute efficiency prior
    em0: list            # [D] memory efficiency prior
    comm_eff: list       # [D] collective bandwidth efficiency
    power: dict          # gamma, host overhead per kind, basis text
    meta: dict = field(default_factory=dict)

    _arrays: dict | None = field(default=None, repr=False, compare=False)

    # ---- serialisation ---------------------------------------------------------------
    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("devices", "dev", "workloads", "wl", "eta", "basis", "basis_detail",
                                              "interval", "ec0", "em0", "comm_eff", "power", "meta")}

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
            A["host"] = np.array([self.power["host"].get(k, self.power["host_default"]) for k in KINDS])
            A["dev_index"] = {d: i for i, d in enumerate(self.devices)}
            A["wl_index"] = {w: i for i, w in enumerate(self.workloads)}
            self._arrays = A
        return self._arrays

    def device_index(self, device: str) -> int:
        return self.a["dev_index"][device]

    def workload_index(self, workload: str) -> int:
        return self.a["wl_index"][workload]


def evaluate(m: PerformanceModel, w, d, p, b, n, s, phase=0, eta_on=True, comm_bw=None) -> dict:
    """Vectorised prediction for setups given as index arrays (broadcast together).

    w workload index, d device index, p precision index (PRECISIONS), b batch per replica
    (0 = default), n device count, s scenario index (SCENARIOS; 2 = training), phase (PHASES).
    Returns arrays: throughput (workload unit, whole setup), low, high, basis, bound, latency_s,
    power_w, idle_w, mem_required_b, min_devices, group, parallel_eff, supported.
    """
    A = m.a
    w, d, p, s, phase = (np.asarray(x, dtype=np.int64) for x in (w, d, p, s, phase))
    b = np.asarray(b, dtype=float)
    n = np.asarray(n, dtype=float)
    w, d, p, b, n, s, phase = np.broadcast_arrays(w, d, p, b, n, s, phase)
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
    kvb = np.minimum(bpv, KV_BYTES_MAX)

    # ---- memory: weights (+ optimizer state), per-sample state ----------------------------
    weights = params * bpv
    static = np.where(training, params * (2 * bpv + OPTIMIZER_BYTES_PER_PARAM), weights)
    beams = A["wl_beams"][w]
    kv_seq = 2 * L * kvd * kvb * (seq + out) * beams
    per_sample = np.where(is_llm, np.where(training, LLM_TRAIN_ACT_BYTES * L * dm * seq * bpv / 2, kv_seq),
                          act_values * bpv * np.where(training, 1.0, 0.25))
    usable = 0.9 * mem
    min_dev = np.maximum(1, np.ceil(static / usable))
    g0 = _group_size(min_dev)
    default_b = np.where(is_llm, np.clip(np.floor((g0 * usable - static) / per_sample), 1, 256),
                         np.maximum(1, A["wl_default_batch"][w]))
    # cap the non-LLM default batch by memory too
    default_b = np.where(is_llm, default_b, np.maximum(1, np.minimum(default_b, np.floor((g0 * usable - static) / per_sample))))
    b = np.where(b > 0, b, default_b)
    mem_required = static + b * per_sample
    group = _group_size(np.maximum(1, np.ceil(mem_required / usable)))

    # ---- time of one replica --------------------------------------------------------------
    t_single, tc_s, tm_s, _ = _replica_time(group * 0 + 1, b, is_llm, training, phase, peak, ec, bw, em, has_bw, ic, ce,
                                            flops_unit, weights, static, act_values, bpv, L, dm, kvb, kvd, seq, out, active, beams)
    t_group, tc, tm, tx = _replica_time(group, b, is_llm, training, phase, peak, ec, bw, em, has_bw, ic, ce,
                                        flops_unit, weights, static, act_values, bpv, L, dm, kvb, kvd, seq, out, active, beams)
    # LLM units: prompt tokens (prefill), one token per sequence per step (decode), generated tokens (end to end)
    units_per_batch = np.where(is_llm, np.where(training | (phase == 1), b * seq, np.where(phase == 2, b, b * out)), b)
    replicas = np.floor(n / group)
    fits = replicas >= 1
    # data-parallel gradient all-reduce in training (exposed part)
    grad_ar = np.where(training & (replicas > 1),
                       GRAD_ALLREDUCE_EXPOSED * 2 * (replicas - 1) / np.maximum(replicas, 1) * (params * bpv / group)
                       / (ic * ce), 0.0)
    t_total = t_group + grad_ar
    eta = A["eta"][w, d, p, s] if eta_on else 0.0
    corr = np.exp(eta)
    per_replica = units_per_batch / t_total * corr
    throughput = np.where(fits & supported, replicas * per_replica, 0.0)
    single = units_per_batch / t_single * corr
    par_eff = np.where(fits & supported, throughput / (n * single), np.nan)

    basis = A["basis"][w, d, s]
    q = A["q"][basis]
    low, high = throughput * np.exp(q[..., 0]), throughput * np.exp(q[..., 1])
    bound = np.argmax(np.stack([tc, tm, tx + grad_ar]), axis=0)
    latency = t_total / corr * np.where(s == 1, SERVER_P99_FACTOR, 1.0)

    # ---- power: P = P_idle + (P_max - P_idle) u^gamma per device, plus host share ------------
    board, idle = A["board_w"][d], A["idle_w"][d]
    util = np.clip(np.maximum(tc, tm) / np.maximum(t_total, 1e-30), 0.05, 1.0)
    gamma = m.power["gamma"]
    dev_w = idle + (board - idle) * util ** gamma
    host = A["host"][A["kind_code"][d]]
    used = np.where(fits, replicas * group, np.minimum(n, 1))
    power_w = np.where(supported, n * dev_w * (1 + host), np.nan)
    idle_setup_w = n * idle * (1 + host)
    return dict(throughput=throughput, low=low, high=high, basis=basis, bound=bound, latency_s=latency,
                power_w=power_w, idle_w=idle_setup_w, mem_required_b=mem_required, min_devices=min_dev,
                group=group, replicas=replicas, used=used, batch=b, parallel_eff=par_eff, supported=supported,
                fits=fits, util=util)


def _group_size(k):
    """Devices per replica: a power of two within a node, whole nodes beyond it."""
    k = np.asarray(k, dtype=float)
    pow2 = 2.0 ** np.ceil(np.log2(np.maximum(k, 1)))
    return np.where(k <= NODE_SIZE, pow2, np.ceil(k / NODE_SIZE) * NODE_SIZE)


def _replica_time(g, b, is_llm, training, phase, peak, ec, bw, em, has_bw, ic, ce, flops_unit, weights, static,
                  act_values, bpv, L, dm, kvb, kvd, seq, out, active, beams=1.0):
    """(time per batch, compute part, memory part, communication part) for a replica of g devices."""
    comp_rate = g * peak * ec
    mem_rate = np.where(has_bw, g * bw * em, np.inf)
    tp = g > 1
    ar = lambda nbytes: np.where(tp, 2 * (g - 1) / g * nbytes / (ic * ce) + ALLREDUCE_LATENCY_S, 0.0)  # noqa: E731
    # non-LLM: weights read once per batch, activations per sample
    mult = np.where(training, 3.0, 1.0)
    nl_c = mult * b * flops_unit / comp_rate
    nl_m = mult * (weights + b * act_values * bpv) / mem_rate
    nl_x = np.where(tp, b * act_values * bpv * mult / (ic * ce), 0.0)  # embedding / activation exchange
    # LLM inference: prefill (compute) + out_len decode steps (memory at small batch)
    f_tok = 2 * active
    pf_c = b * seq * (f_tok + 2 * L * dm * seq) / comp_rate
    pf_m = weights / mem_rate
    pf_x = 2 * L * ar(b * seq * dm * 2)
    ctx = seq + out / 2
    seqs = b * beams  # sequences decoded per step (beam search decodes several per request)
    st_c = seqs * (f_tok + 4 * L * dm * ctx) / comp_rate
    st_m = (weights + seqs * 2 * L * kvd * kvb * ctx) / mem_rate
    st_x = 2 * L * ar(seqs * dm * 2)
    llm_pf = np.maximum(pf_c, pf_m)
    llm_st = np.maximum(st_c, st_m)
    # LLM training step: 6 x active params per token, weights + optimizer touched ~3 times
    tr_c = b * seq * 3 * (f_tok + 2 * L * dm * seq) / comp_rate
    tr_m = 3 * static / mem_rate
    tr_x = 3 * 2 * L * ar(b * seq * dm * 2)
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
