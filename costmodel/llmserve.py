"""LLM inference setups through the serving step model (hwplan.costmodel.serving): every parallel layout a
setup can use (tensor parallel within a node, pipeline stages across nodes, expert parallel for MoE) and
every concurrency up to what memory holds are tried; the best that meets the TTFT / TPOT limits is kept.

Called by `evaluate.evaluate` for LLM workloads in inference (whole requests); numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwplan.core.vocab import BYTES_PER_VALUE, KV_PRECISION, PRECISIONS
from hwplan.costmodel import serving as sv

TP_CHOICES = (1, 2, 4, 8)
PP_CHOICES = (1, 2, 4, 8, 16)
# 1, 2, 3, 4, 6, 8, 12 ... 2048 requests per replica (powers of two and 1.5x between), plus the most that fit
BATCH_GRID = tuple(sorted({2 ** i for i in range(12)} | {3 * 2 ** i for i in range(10)}))
_WB = np.asarray([BYTES_PER_VALUE[p] for p in PRECISIONS])
_KVB = np.asarray([BYTES_PER_VALUE[KV_PRECISION[p]] for p in PRECISIONS])
# default efficiencies before any LLM row is fitted (assumptions, replaced by hwplan.costmodel.llmfit)
PRIOR_EC, PRIOR_EM, PRIOR_EX = 0.5, 0.75, 0.7


MEETS_FIRST = 1e15   # added to a candidate's tokens/s when it meets the limits: lexicographic (meets, throughput)
MAX_REQUEST_TOKENS = 1 << 20   # a prompt or an output longer than this is refused as a typo
KV_FORMATS = ("fp32", "bf16", "fp16", "fp8", "int8", "fp4")


def tokens(flag: str, v) -> float:
    """A request length as given by a user: a whole number of tokens, 1 to MAX_REQUEST_TOKENS."""
    from hwplan.core.errors import HwplanError

    why = f"{flag} must be a whole number of tokens, 1 to {MAX_REQUEST_TOKENS:,}; got {str(v)[:40]!r}"
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        raise HwplanError(why) from None
    if isinstance(v, bool) or not np.isfinite(f) or f != int(f) or not 1 <= f <= MAX_REQUEST_TOKENS:
        raise HwplanError(why)
    return f


def request_shape(m, w: int, in_len=None, out_len=None, kv_precision=None) -> tuple[float, float, int | None]:
    """(prompt tokens, output tokens, KV-cache precision index or None) of a request for workload w: the user's
    where given (checked), else the workload's benchmark means. Lengths only mean something for LLM workloads."""
    from hwplan.core.errors import HwplanError, UnknownIdError

    A = m.arrays_
    is_llm = A["wl_is_llm"][w] > 0
    given = {"--input-len": in_len, "--output-len": out_len}
    if not is_llm:
        named = [k for k, v in given.items() if v is not None] + (["--kv-precision"] if kv_precision else [])
        if named:
            raise HwplanError(f"{', '.join(named)} {'applies' if len(named) == 1 else 'apply'} only to LLM workloads; "
                              f"{m.workloads_[w]} is not one")
        return float("nan"), float("nan"), None
    out = [None if v is None else tokens(flag, v) for flag, v in given.items()]
    I = out[0] if out[0] is not None else float(A["wl_in_len"][w])
    O = out[1] if out[1] is not None else float(A["wl_out_len"][w])
    kv = None
    if kv_precision not in (None, "", "auto"):
        if kv_precision not in KV_FORMATS:
            raise UnknownIdError("KV-cache precision", str(kv_precision), list(KV_FORMATS) + ["auto"])
        kv = PRECISIONS.index(kv_precision)
    return I, O, kv


def layouts(moe_any: bool):
    """(tp, pp, ep) candidates: ep only matters for MoE workloads."""
    out = [(t, p, False) for p in PP_CHOICES for t in TP_CHOICES]
    if moe_any:
        out += [(t, p, True) for p in PP_CHOICES for t in TP_CHOICES if t > 1]
    return out


def arch_of(A: dict, w) -> sv.Arch:
    g = lambda k: A["wl_" + k][w]
    return sv.Arch(params=g("params"), active=g("active_params"), layers=g("layers"), d_model=g("d_model"),
                   n_heads=g("n_heads"), kv_heads=g("n_kv_heads"), head_dim=g("head_dim"), kv_values=g("kv_values"),
                   n_experts=g("n_experts"), experts_per_token=g("experts_per_token"), vocab=g("vocab"))


def hardware_of(A: dict, d, p) -> sv.Hardware:
    kind = A["kind_code"][d]
    mem = A["mem"][d] / 1e9 * sv.MEM_BYTES_PER_CATALOG_GB
    return sv.Hardware(peak=A["peak"][d, p], bw=A["bw"][d], mem=mem, link=A["link"][d], topology=A["topology"][d],
                       per_node=A["per_node"][d], scaleup=A["scaleup"][d], scaleout=A["scaleout"][d], pcie=A["pcie"][d],
                       oh_fixed=A["step_oh_fixed"][kind], oh_layer=A["step_oh_layer"][kind])


@dataclass(frozen=True)
class Served:
    """The chosen layout and batch per setup x count, with its figures (whole setup where it says so)."""

    throughput: np.ndarray      # output tokens/s, whole setup
    total_throughput: np.ndarray
    ttft_p50: np.ndarray
    ttft_p99: np.ndarray
    tpot_p50: np.ndarray
    tpot_p99: np.ndarray
    tp: np.ndarray
    pp: np.ndarray
    ep: np.ndarray
    g: np.ndarray
    reps: np.ndarray
    batch: np.ndarray
    weights_b: np.ndarray       # per replica
    kv_b: np.ndarray
    act_b: np.ndarray
    fits: np.ndarray
    meets: np.ndarray           # meets the latency limits given
    busy: np.ndarray
    bound: np.ndarray
    overhead_s: np.ndarray
    ceiling: np.ndarray         # whole setup
    single: np.ndarray          # one device alone (tp 1), output tokens/s; 0 where one device cannot hold it
    min_g: np.ndarray           # the smallest group that holds the model
    flops_per_token: np.ndarray
    bytes_per_token: np.ndarray


def efficiencies(A: dict, w, d, p, eta_on: bool):
    """(decode compute, memory, communication efficiency, overhead multiplier, prefill compute efficiency) for LLM
    serving setups."""
    if eta_on and "llm_ec" in A:
        moe = A["wl_n_experts"][w] > 0
        ec = np.where(moe, A["llm_ec_moe"][d, p], A["llm_ec"][d, p])
        ecp = np.where(moe, A["llm_ecp_moe"][d, p], A["llm_ecp"][d, p])
        return ec, A["llm_em"][d], A["llm_ex"][d], A["llm_om"][d], ecp
    prior = lambda v: np.full(np.shape(d), v)
    return prior(PRIOR_EC), prior(PRIOR_EM), prior(PRIOR_EX), prior(1.0), prior(PRIOR_EC)


def serve(A: dict, w, d, p, b, n, in_len, out_len, kv=None, layout=None, ttft_limit=None, tpot_limit=None,
          e2e_limit=None, eta_on: bool = True, eff=None, beams=None, concurrency=None, reserve=0.5) -> Served:
    """Serving figures for setups (index arrays w, d, p; batch b per replica, 0 = search; n devices; request
    shape in_len / out_len tokens; kv = KV-cache precision index or None for the format's default). `layout`
    (tp, pp, ep arrays, 0 = search) fixes the layout where a row states it. `eff` overrides (ec, em, ex, om)."""
    w, d, p, b, in_len, out_len = np.broadcast_arrays(*(np.asarray(v) for v in (w, d, p, b, in_len, out_len)))
    S = w.shape
    n = np.asarray(n, dtype=float)
    full = np.broadcast_shapes(S, n.shape)
    arch, hw = arch_of(A, w), hardware_of(A, d, p)
    wb = _WB[p]
    kvb = _KVB[p] if kv is None else np.where(np.asarray(kv) >= 0, _WB[np.maximum(np.asarray(kv), 0)], _KVB[p])
    ec, em, ex, om, ecp = efficiencies(A, w, d, p, eta_on) if eff is None else eff
    reserve = np.broadcast_to(np.asarray(reserve, dtype=float), S)
    moe = arch.n_experts > 0
    beams = np.broadcast_to(A["wl_beams"][w] if beams is None else np.asarray(beams, dtype=float), S)
    cands = layouts(bool(moe.any()))
    if layout is not None:  # a row's own layout may be one the search does not try (e.g. 12 or 16 devices)
        ft, fp, fe = (np.broadcast_to(np.asarray(v), S) for v in layout)
        given = {(int(t), int(max(q, 1)), bool(e > 1)) for t, q, e in zip(ft.ravel(), fp.ravel(), fe.ravel()) if t > 0}
        cands += sorted(c for c in given if c not in cands)
    Bgrid = np.asarray(BATCH_GRID, dtype=float)
    auto = np.asarray(b, dtype=float) <= 0
    best: dict | None = None
    single = np.zeros(S)
    min_g = np.full(S, np.inf)
    for (t, q, e) in cands:
        lay = sv.Layout(tp=np.full(S, float(t)), pp=np.full(S, float(q)), ep=np.full(S, e))
        ok_lay = (t <= np.maximum(hw.per_node, 1)) | (t == 1)
        # what serving engines accept: attention heads split evenly over tp, KV heads split or replicated evenly;
        # experts split evenly over the expert-parallel devices
        heads, kvh = np.maximum(arch.n_heads, 1), np.maximum(arch.kv_heads, 1)
        ok_lay = ok_lay & ((heads % t) == 0) & (((kvh % t) == 0) | ((t % kvh) == 0))
        if e:
            ok_lay = ok_lay & moe & ((arch.n_experts % t) == 0)
        if layout is not None:
            ft, fp, fe = (np.asarray(v) for v in layout)
            ok_lay = ((ok_lay & (ft <= 0)) | (ft == t)) & ((fp <= 0) | (fp == q)) & ((fe <= 0) | ((fe > 1) == e))
        # the batch: the row's, or every grid value (and the most that fit), keeping the best meeting the limits
        if auto.any():
            pt0 = sv.parts(arch, hw, lay, wb, kvb, in_len, out_len, batch=0, beams=beams, reserve=reserve)
            bb = np.concatenate([np.broadcast_to(Bgrid, S + (len(Bgrid),)),
                                 np.minimum(pt0.b_max, sv.MAX_SEQS)[..., None]], axis=-1)
            bb = np.where(auto[..., None], bb, np.asarray(b, dtype=float)[..., None])
        else:
            bb = np.asarray(b, dtype=float)[..., None]
        if concurrency is not None:  # requests in flight across the setup (a row's): split over its replicas
            conc = np.broadcast_to(np.asarray(concurrency, dtype=float), S)
            per_rep = conc / np.maximum(np.floor(np.broadcast_to(n, S) / (t * q)), 1.0)
            bb = np.where((conc > 0)[..., None], np.maximum(np.round(per_rep), 1.0)[..., None], bb)
        ex_ = lambda v: np.asarray(v)[..., None]
        arch_b = sv.Arch(**{f: ex_(getattr(arch, f)) for f in arch.__dataclass_fields__})
        hw_b = sv.Hardware(**{f: ex_(getattr(hw, f)) for f in hw.__dataclass_fields__})
        lay_b = sv.Layout(tp=ex_(lay.tp), pp=ex_(lay.pp), ep=ex_(lay.ep))
        pt = sv.parts(arch_b, hw_b, lay_b, ex_(wb), ex_(kvb), ex_(in_len), ex_(out_len), batch=bb, beams=ex_(beams),
                      reserve=ex_(reserve))
        mt = sv.combine(pt, ex_(ec), ex_(em), ex_(ex), ex_(om), ex_(ecp))
        meets = np.ones(mt.throughput.shape, dtype=bool)
        if ttft_limit is not None:
            meets &= mt.ttft_p99 <= ex_(ttft_limit)
        if tpot_limit is not None:
            meets &= mt.tpot_p99 <= ex_(tpot_limit)
        if e2e_limit is not None:  # a whole request at p99: the slowest first token, then typical rounds
            meets &= mt.ttft_p99 + ex_(out_len) * mt.tpot_p50 <= ex_(e2e_limit)
        valid = pt.fits & ex_(ok_lay)
        # meeting the limits first (whatever the throughput of one that breaks them), then throughput
        score = np.where(valid, mt.throughput + MEETS_FIRST * (meets & valid), -1.0)
        j = np.argmax(score, axis=-1)[..., None]
        pick = lambda v, score=score, j=j: np.take_along_axis(np.broadcast_to(v, score.shape), j, axis=-1)[..., 0]
        cand = {
            "tput": pick(mt.throughput), "valid": pick(valid), "meets": pick(meets & valid),
            "ttft50": pick(mt.ttft_p50), "ttft99": pick(mt.ttft_p99), "tpot50": pick(mt.tpot_p50),
            "tpot99": pick(mt.tpot_p99), "batch": pick(pt.batch), "w": pick(pt.weights_b), "kv": pick(pt.kv_b),
            "act": pick(pt.act_b), "busy": pick(mt.busy), "bound": pick(mt.bound), "oh": pick(pt.o[..., 0] * ex_(om)),
            "ceil": pick(pt.ceiling), "b_max": pick(pt.b_max),
            "fpt": pick(_flops_per_token(hw_b, lay_b, pt)), "bpt": pick(_bytes_per_token(hw_b, lay_b, pt)),
        }
        g = float(t * q)
        reps = np.floor(n / g)
        total = np.where(cand["valid"] & (reps >= 1), reps * cand["tput"], 0.0)
        key = np.broadcast_to(np.where(total > 0, total + MEETS_FIRST * cand["meets"], -1.0), full)
        entry = {"key": key, "reps": np.broadcast_to(reps, full), "tp_": np.full(full, float(t)),
                 "pp_": np.full(full, float(q)), "ep_": np.full(full, e), "g_": np.full(full, g), **cand}
        if t == 1 and q == 1 and not e:
            single = np.where(cand["valid"], cand["tput"], 0.0)
        min_g = np.minimum(min_g, np.where((cand["b_max"] >= 1) & ok_lay, g, np.inf))
        best = entry if best is None else _better(best, entry)
    assert best is not None
    bc = lambda v: np.broadcast_to(v, full)
    reps = best["reps"]
    fits = best["key"] > 0
    tput = np.where(fits, reps * bc(best["tput"]), 0.0)
    ratio = (in_len + out_len) / np.maximum(out_len, 1)
    return Served(
        throughput=tput, total_throughput=tput * bc(ratio), ttft_p50=bc(best["ttft50"]), ttft_p99=bc(best["ttft99"]),
        tpot_p50=bc(best["tpot50"]), tpot_p99=bc(best["tpot99"]), tp=bc(best["tp_"]), pp=bc(best["pp_"]),
        ep=bc(best["ep_"]), g=bc(best["g_"]), reps=reps, batch=bc(best["batch"]), weights_b=bc(best["w"]),
        kv_b=bc(best["kv"]), act_b=bc(best["act"]), fits=fits, meets=bc(best["meets"]) & fits, busy=bc(best["busy"]),
        bound=bc(best["bound"]), overhead_s=bc(best["oh"]), ceiling=np.where(fits, reps * bc(best["ceil"]), 0.0),
        single=bc(single), min_g=bc(min_g), flops_per_token=bc(best["fpt"]), bytes_per_token=bc(best["bpt"]))


def _better(a: dict, b: dict) -> dict:
    """Keep, per setup x count, the candidate with the higher key (a wins ties: it has fewer devices per replica)."""
    take = b["key"] > a["key"]
    out = {}
    for k in a:
        va, vb = a[k], b[k]
        shape = np.broadcast_shapes(np.shape(va), np.shape(vb), take.shape)
        out[k] = np.where(take, np.broadcast_to(vb, shape), np.broadcast_to(va, shape))
    return out


def _flops_per_token(hw: sv.Hardware, lay: sv.Layout, pt: sv.Parts) -> np.ndarray:
    """FLOPs per output token the mean round counts (the requests' prefill and attention included): the round's
    compute seconds at peak on each of the replica's devices, over the tokens it yields."""
    return (pt.c[..., 0] + pt.cp[..., 0]) * hw.peak * lay.tp * lay.pp / np.maximum(pt.batch, 1)


def _bytes_per_token(hw: sv.Hardware, lay: sv.Layout, pt: sv.Parts) -> np.ndarray:
    """Device-memory bytes read per output token (weights and KV cache, all of the replica's devices)."""
    return pt.m[..., 0] * hw.bw * lay.tp * lay.pp / np.maximum(pt.batch, 1)
