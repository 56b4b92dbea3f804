"""Training runs on setups: what is trained (`net_of`), which layouts a setup can use (`layouts`), the fastest
that fits (`search`), and a run's length from its volume (`run_seconds`).

A run processes a volume of units (tokens for LLMs, samples otherwise) in steps of a global batch; the time
to train is volume / throughput plus, for a benchmark's reference run, the fitted time the benchmark spends
outside training steps (evaluations, start-up). Called by `hwplan.costmodel.api.predict_training` and the
training planner; numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from hwplan.core.vocab import PRECISIONS
from hwplan.costmodel import llmserve
from hwplan.costmodel import serving as sv
from hwplan.costmodel import training as tr

TP_CHOICES = (1, 2, 4, 8)
PP_CHOICES = (1, 2, 4, 8, 16, 32)
MB_CHOICES = (1, 2, 4)
# Formats a training run's math uses: mixed precision (bf16 / fp16 with fp32 masters), fp8 with per-tensor
# scaling for transformer layers on devices with an fp8 peak (Transformer Engine-style), tf32 and fp32.
# Never int8 or fp4: published training runs do not use them.
TRAIN_PRECISIONS = ("fp32", "tf32", "bf16", "fp16", "fp8")
FP8_WORKLOADS_NON_LLM = ("bert-large",)   # transformer encoders train in fp8 too; CNNs and the rest do not
DEFAULT_GB_TOKENS = 4 * 1024 * 1024       # LLM pre-training global batch when none is given: 4M tokens (Llama 2:
                                          # 4M tokens per batch, Touvron et al. 2023 arXiv:2307.09288 section 2.2)
DEFAULT_TRAIN_SEQ = 4096
# efficiencies before any training row is fitted (assumptions; hwplan.costmodel.trainfit replaces them)
PRIOR_EC = 0.55   # hardware FLOPs / peak of a large training step
PRIOR_EM = 0.75
PRIOR_EX = 0.7


# Accelerators their vendors sell for inference only (no training software stack): never a training setup.
# AWS Inferentia2 (AWS Neuron docs: Inf2 for inference, Trn for training), Qualcomm Cloud AI 100 (an inference
# accelerator), Groq LPU (inference), AMD Alveo / Versal cards (inference acceleration).
INFERENCE_ONLY_PREFIXES = ("aws-inferentia", "qualcomm-cloud-ai100", "groq-", "amd-alveo-", "amd-versal-")


def trains(device_id: str) -> bool:
    return not str(device_id).startswith(INFERENCE_ONLY_PREFIXES)


def train_precisions(A: dict, w: int, d: int, workload_id: str, auto: bool = False) -> list[int]:
    """Precision indices a training run of workload w can use on device d: those with a peak in the catalog.
    auto: the ones worth trying when none is asked for (fp8 where allowed, bf16, else fp16, else tf32 / fp32)."""
    peak = A["peak"][d]
    out = []
    has = lambda p: np.isfinite(peak[PRECISIONS.index(p)]) and peak[PRECISIONS.index(p)] > 0
    for p in TRAIN_PRECISIONS:
        if auto and ((p == "fp16" and has("bf16")) or (p in ("fp32", "tf32") and (has("bf16") or has("fp16")))):
            continue  # one 16-bit format when the device has both (bf16, the usual choice), 32-bit only without one
        j = PRECISIONS.index(p)
        if not (np.isfinite(peak[j]) and peak[j] > 0):
            continue
        if p == "fp8" and not (A["wl_is_llm"][w] > 0 or workload_id in FP8_WORKLOADS_NON_LLM):
            continue
        out.append(j)
    return out


def net_of(A: dict, w, seq, lora) -> tr.Net:
    g = lambda k: np.asarray(A["wl_" + k][w], dtype=float)
    heads, hd = g("n_heads"), g("head_dim")
    act = g("train_act_values") * 2.0
    return tr.Net(params=g("params"), active=np.where(g("active_params") > 0, g("active_params"), g("params")),
                  layers=np.maximum(g("layers"), 1.0), d_model=g("d_model"), attn_dim=heads * hd, n_heads=heads,
                  seq=np.asarray(seq, dtype=float), vocab=g("vocab"), n_experts=g("n_experts"),
                  top_k=g("experts_per_token"), is_llm=g("is_llm"),
                  flops_fwd=g("train_flops"), act_bytes=act, lora=np.asarray(lora, dtype=float))


def hardware_of(A: dict, d, p) -> sv.Hardware:
    hw = llmserve.hardware_of(A, d, p)
    # a device without a scale-out figure in the catalog: 100 Gb/s Ethernet per node, shared (estimate; flagged)
    so = np.where(np.isfinite(hw.scaleout) & (hw.scaleout > 0), hw.scaleout, 12.5 / np.maximum(hw.per_node, 1))
    return sv.Hardware(**{f.name: (so if f.name == "scaleout" else getattr(hw, f.name)) for f in fields(sv.Hardware)})


@dataclass(frozen=True)
class Grid:
    tp: np.ndarray
    pp: np.ndarray
    mb: np.ndarray
    vp: np.ndarray
    zero: np.ndarray
    recompute: np.ndarray
    ep: np.ndarray


def layouts(is_llm: bool, moe: bool) -> Grid:
    """Candidate layouts (broadcast against setups on the last axis). LLMs: tp x pp x micro-batch x ZeRO-1 or
    ZeRO-3 x selective or full recomputation (x expert parallel 8 for MoE); other models: data parallel with the
    local batch as one micro-batch or split in 2, 4, 8."""
    rows = []
    if is_llm:
        for tp_ in TP_CHOICES:
            for pp_ in PP_CHOICES:
                for mb in MB_CHOICES:
                    for zero in (1, 3):
                        for rc in (1, 2):
                            for ep in ((1, 8) if moe else (1,)):
                                rows.append((tp_, pp_, mb, 2 if pp_ > 1 else 1, zero, rc, ep))
    else:
        for split in (1, 2, 4, 8):
            rows.append((1, 1, -split, 1, 0, 0, 1))   # mb < 0: the local batch / split
        for mb in (1, 4, 16):
            rows.append((1, 1, mb, 1, 0, 0, 1))       # a micro-batch of mb samples (large activations: 3D U-Net)
    a = np.asarray(rows, dtype=float)
    return Grid(*(a[:, i] for i in range(a.shape[1])))


@dataclass(frozen=True)
class Chosen:
    """The best layout per setup, with its step figures (whole setup where it says so)."""

    fits: np.ndarray
    valid: np.ndarray           # some layout can split this global batch over these devices at all
    throughput: np.ndarray      # units/s, whole setup
    step_s: np.ndarray
    mfu: np.ndarray
    dp: np.ndarray
    tp: np.ndarray
    pp: np.ndarray
    ep: np.ndarray
    mb: np.ndarray
    vp: np.ndarray
    zero: np.ndarray
    recompute: np.ndarray
    micro_batches: np.ndarray
    mem_total: np.ndarray       # per device
    mem_weights: np.ndarray
    mem_grads: np.ndarray
    mem_optimizer: np.ndarray
    mem_activations: np.ndarray
    busy: np.ndarray            # device utilisation (compute or memory share of the step)
    bound: np.ndarray
    exposed_comm_s: np.ndarray
    peak_throughput: np.ndarray  # units/s at 100% of peak, whole setup (the physical ceiling)
    min_devices: np.ndarray


def efficiencies(A: dict, w, d, p, eta_on: bool = True):
    """(compute, memory, communication efficiency, overhead multiplier) of training setups."""
    T = A.get("train") if eta_on else None
    if T:
        cls = np.asarray(A["wl_train_class"], dtype=int)[w]
        return (T["ec"][cls, d, p], T["em"][cls, d], T["ex"][d], T["om"][d])
    f = lambda v: np.full(np.shape(np.broadcast_arrays(w, d, p)[0]), v)
    return f(PRIOR_EC), f(PRIOR_EM), f(PRIOR_EX), f(1.0)


def search(A: dict, w, d, p, n, gb, seq, lora, eff=None, fixed: dict | None = None, eta_on: bool = True,
           net: tr.Net | None = None) -> Chosen:
    """The fastest layout that fits, per setup (w, d, p, n devices, gb global batch in sequences / samples, seq
    tokens per sequence, lora 0/1; arrays broadcast). `fixed` pins layout fields (dp, tp, pp, mb, zero, recompute,
    vp) a published row states; missing fields are searched. eff: (ec, em, ex, om) per setup, else fitted.
    `net`: what is trained per setup (1-D, the setups' shape) instead of workload w's facts (published rows of
    models that are not reference workloads)."""
    w, d, p, n, gb, seq, lora = np.broadcast_arrays(*(np.asarray(v) for v in (w, d, p, n, gb, seq, lora)))
    shape = w.shape
    if net is None:
        net = net_of(A, w, seq, lora)
    net = tr.Net(**{f.name: np.broadcast_to(getattr(net, f.name), shape) for f in fields(tr.Net)})
    is_llm = net.is_llm > 0
    moe = net.n_experts > 0
    ec, em, ex, om = eff if eff is not None else efficiencies(A, w, d, p, eta_on)
    out = None
    for llm_kind in (True, False):
        sel = is_llm == llm_kind
        if not sel.any():
            continue
        g = layouts(llm_kind, bool((moe & sel).any()))
        sub = tr.Net(**{f.name: getattr(net, f.name)[sel] for f in fields(tr.Net)})
        best = _search_kind(A, sub, d[sel], p[sel], n[sel].astype(float), gb[sel].astype(float), g,
                            tuple(np.broadcast_to(e, shape)[sel] for e in (ec, em, ex, om)),
                            {k: np.broadcast_to(v, shape)[sel] for k, v in (fixed or {}).items()})
        if out is None:
            out = {k: np.zeros(shape) for k in best}
        for k, v in best.items():
            out[k][sel] = v
    return Chosen(**out)  # type: ignore[arg-type]


def _search_kind(A, net: tr.Net, d, p, n, gb, g: Grid, eff, fixed) -> dict:
    S = len(d)
    col = lambda v: np.asarray(v, dtype=float)[:, None]
    tp, pp, mb, vp, zero, rc, ep = (np.broadcast_to(getattr(g, k)[None, :], (S, len(g.tp))).copy()
                                     for k in ("tp", "pp", "mb", "vp", "zero", "recompute", "ep"))
    N, GB = col(n), col(gb)
    for k, arr in (("tp", tp), ("pp", pp), ("vp", vp), ("zero", zero), ("recompute", rc)):
        if k in fixed:
            v = col(fixed[k])
            arr[:] = np.where(np.isfinite(v) & (v > 0) | ((k in ("zero", "recompute")) & np.isfinite(v)), v, arr)
    dp = N / (tp * pp)
    if "dp" in fixed:
        v = col(fixed["dp"])
        dp = np.where(np.isfinite(v) & (v > 0), v, dp)
    local = GB / np.maximum(dp, 1.0)
    mb = np.where(mb < 0, np.maximum(np.floor(local / -mb), 1.0), mb)
    if "mb" in fixed:
        v = col(fixed["mb"])
        mb = np.where(np.isfinite(v) & (v > 0), v, mb)
    net = tr.Net(**{f.name: col(getattr(net, f.name)) for f in fields(tr.Net)})
    hw = hardware_of(A, col(d).astype(int), col(p).astype(int))
    layers = net.layers
    experts = net.n_experts
    heads = net.n_heads
    valid = ((np.abs(dp - np.round(dp)) < 1e-9) & (dp >= 1) & (pp <= layers) & (dp * mb - 1e-9 <= GB)
             & ((heads <= 0) | (np.mod(heads, tp) == 0)) & (tp <= np.maximum(hw.per_node, 1))
             & ((ep <= 1) | ((np.mod(dp, ep) == 0) & (experts > 0) & (np.mod(experts, ep) == 0))))
    lay = tr.Layout(dp=np.round(dp), tp=tp, pp=pp, ep=ep, mb=mb, vp=vp, zero=zero, recompute=rc)
    mem = tr.memory(net, lay)
    cap = hw.mem * 0.95
    fits = valid & (mem.total <= cap) & np.isfinite(hw.peak) & (hw.peak > 0)
    parts = tr.step_parts(net, hw, lay, GB)
    peak_total = N * hw.peak
    ec, em, ex, om = (col(e) for e in eff)
    st = tr.combine(parts, peak_total, ec, em, ex, om)
    score = np.where(fits, st.throughput, -1.0)
    # where nothing fits, the layout that needs the least memory (what the answer's note reports)
    smallest = np.argmin(np.where(valid, mem.total, np.inf), axis=1)
    j = np.where(fits.any(axis=1), np.argmax(score, axis=1), smallest)
    r = np.arange(S)
    pick = lambda a: np.broadcast_to(a, score.shape)[r, j]
    ok = pick(fits)
    tput = np.where(ok, pick(st.throughput), 0.0)
    # the devices' busy share of a step: the pipeline bubble is idle time (it is in the step time, not in this)
    busy = np.maximum(parts.compute / ec, parts.memory_bound / em) / st.seconds
    # the physical ceiling: the model FLOPs at 100% of the setup's peak
    with np.errstate(divide="ignore", invalid="ignore"):
        ceiling = np.where(ok, N[:, 0] * hw.peak[:, 0] / pick(parts.model_flops / parts.units), 0.0)
    # the smallest model-parallel group that holds the model at all (0: none of the layouts tried)
    need = np.where(valid & (mem.total <= cap), tp * pp, np.inf).min(axis=1)
    return dict(fits=ok, valid=valid.any(axis=1), throughput=tput, step_s=np.where(ok, pick(st.seconds), np.nan),
                mfu=np.where(ok, pick(st.mfu), np.nan), dp=pick(lay.dp), tp=pick(tp), pp=pick(pp), ep=pick(ep),
                mb=pick(mb), vp=pick(vp), zero=pick(zero), recompute=pick(rc), micro_batches=pick(parts.micro_batches),
                mem_total=pick(mem.total), mem_weights=pick(mem.weights), mem_grads=pick(mem.grads),
                mem_optimizer=pick(mem.optimizer), mem_activations=pick(mem.activations),
                busy=np.where(ok, pick(busy), 0.0), bound=pick(st.bound), exposed_comm_s=pick(st.exposed_comm),
                peak_throughput=ceiling, min_devices=np.where(np.isfinite(need), need, 0.0))


def run_seconds(volume, throughput, overhead_frac=0.0, overhead_s=0.0):
    """Time to train: volume / throughput, plus the share and the fixed time a run spends outside steps."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.asarray(volume, dtype=float) / np.asarray(throughput, dtype=float)
    return np.where(np.asarray(throughput) > 0, t * (1.0 + overhead_frac) + overhead_s, np.inf)


# ---- a run: volume, global batch, time to train ------------------------------------------------------------

VOLUME_UNITS = ("tokens", "samples", "epochs")


@dataclass(frozen=True)
class Volume:
    """What a run processes. `units`: tokens (LLM) or samples, fixed; or None with `by_batch` (a reference run: the
    samples to reach the quality target depend on the global batch, from the benchmark's reference convergence
    points). `gbs`: the global batches to try (sequences / samples)."""

    units: float | None
    gbs: tuple[float, ...]
    by_batch: tuple[tuple[float, float], ...] = ()   # (global batch, samples to converge), sorted by batch
    label: str = ""
    reference: str = ""                              # the benchmark whose run this is, or ""
    gb_given: bool = False                           # the user chose the global batch

    def units_at(self, gb, per_sample: float) -> np.ndarray:
        """Units (tokens or samples) to process at global batch gb."""
        gb = np.asarray(gb, dtype=float)
        if self.units is not None:
            return np.full(gb.shape, float(self.units))
        b = np.array([x for x, _ in self.by_batch])
        v = np.array([y for _, y in self.by_batch])
        # between reference points: log-log interpolation; outside: the nearest point's samples per batch trend
        return np.exp(np.interp(np.log(gb), np.log(b), np.log(v))) * per_sample


def reference_runs():
    """data/training_runs.csv: per reference workload and global batch, the samples a run needs to reach the
    benchmark's quality target (reference convergence points), with the dataset and source."""
    import pandas as pd

    from hwplan.core import paths

    return pd.read_csv(paths.TRAINING_RUNS_CSV)
