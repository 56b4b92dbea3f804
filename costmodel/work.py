"""Work per workload: FLOPs and bytes per sample or token, weights, activations, KV cache.

Analytic facts for LLMs come from data/workloads.csv (2 x active params per token, KV cache from
layers x KV heads x head size). For the non-LLM models that table has no FLOP count yet, so the
counts below are kept here with their basis. The profiler's `flops_per_unit` replaces a workload's
count (for every device) only where the profiler ran the workload's true shape
(`profiler_flops_true_shape`); otherwise a row's own count is used for that row only (the fit's
`work_scale`), because the profiler measured a reduced shape (retinanet 512x512, a 3d-unet 128^3
sub-volume, k LLM layers) or a different unit. Errors in these counts only shift a workload's fitted
efficiency, not calibrated predictions; they do shape the spec-only `roofline` basis.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hwplan.core.fmt import number
from hwplan.core.vocab import QUALITY

# Non-LLM work facts (per sample). flops = 2 x multiply-accumulates. basis says how each was got.
NON_LLM_WORK: dict[str, dict] = {
    "resnet50": dict(flops=8.2e9, params=25_557_032, act_values=2.3e7, default_batch=64, layers=50,
                     basis="2 x 4.1 GMAC per 224x224 image (ResNet-50 v1.5, commonly cited MAC count); "
                           "activation traffic ~2 x 11.5M feature-map values (estimate)",
                     profiler_flops_true_shape=True),  # profiler: ResNet-50 v1.5 at 224x224, as MLPerf
    "retinanet": dict(flops=3.0e11, params=3.8e7, act_values=4.0e8, default_batch=16, layers=80,
                      basis="estimate: RetinaNet R50-FPN ~239 GMAC at 800x1333 scaled to 800x800, ResNeXt50 backbone "
                            "slightly heavier, x2 FLOP/MAC; params ~38M (estimate); ~80 layers incl. FPN and heads (estimate)"),
    "bert-large": dict(flops=1.12e11, params=335_141_888, act_values=1.5e8, default_batch=64, layers=24,
                       train_flops=3.35e11, train_act_values=4.0e8,
                       basis="2 x 302M encoder params x ~180 effective tokens + attention 4 x 24 x 180^2 x 1024. "
                             "MLPerf pads SQuAD v1.1 to 384 tokens, but tuned submissions skip the padding "
                             "(variable-length kernels); at the padded count (2.46e11) published v3.0 GPU rows "
                             "run at up to 2x the dense peak, which is impossible. ~180 tokens is an estimate of "
                             "the mean SQuAD v1.1 question + context length (not measured here). The profiler's padded "
                             "384-token count is not used for this workload",
                       keep_analytic_flops=True),
    "dlrm-v2": dict(flops=1.2e7, params=2.43e10, act_values=2.8e4, default_batch=2048, layers=12,
                    basis="estimate: ~6M dense MAC per sample (bottom/top MLP, DCNv2 cross layers); embedding tables "
                          "~97 GB at fp32 (24.3B values); ~214 multi-hot lookups x 128 dims read per sample; "
                          "~12 layers (estimate)",
                    # profiler: DCNv2 dense part at true size; only the embedding tables are capped (200k rows),
                    # which changes memory and cache behaviour, not FLOPs (lookups per sample unchanged)
                    profiler_flops_true_shape=True),
    "3d-unet": dict(flops=5.0e13, params=1.9e7, act_values=3.0e10, default_batch=1, layers=30,
                    basis="estimate: ~0.3 TMAC per 128^3 patch x ~80 overlapping sliding-window patches per KiTS19 "
                          "volume; order of magnitude only; ~30 conv layers per patch pass (estimate)"),
    "fraud-mlp": dict(flops=3.2e5, params=1.6e5, act_values=2.0e3, default_batch=1024, layers=4,
                      basis="hwplan reference MLP: ~100 features, 4 layers of width 256 (~160k MAC)",
                      profiler_flops_true_shape=True),  # profiler: the reference MLP 100-512-256-128-1 itself
}
# Training: the work per sample where training runs another shape than inference. bert-large pre-trains on
# 512-token sequences (MLPerf phase 2, packed: little padding): 2 x 302M encoder params x 512 + attention
# 4 x 24 x 512^2 x 1024 = 3.35e11 FLOPs forward (counted); activations kept for backward ~ 34 x 512 x 1024 x 24 / 2
# values (Korthikanti et al.'s 34 bytes per token per layer per d_model, in 16-bit values; estimate).
TRAIN_CLASSES = ("vision", "encoder", "llm", "moe")   # efficiency classes of the training fit
# LLM benchmark facts beyond data/workloads.csv.
LLM_EXTRA: dict[str, dict] = {
    "gpt-j": dict(beams=4, basis="MLPerf Inference GPT-J reference (mlcommons/inference language/gpt-j): beam search "
                                 "with num_beams=4, max_new_tokens 128, so each request decodes 4 sequences"),
}
# Architecture facts of a decoder LLM the serving model reads (data/workloads.csv, or a config.json).
LLM_ARCH_FIELDS = ("n_heads", "n_kv_heads", "head_dim", "kv_values", "n_experts", "experts_per_token", "vocab")


def workload_table(workloads: pd.DataFrame, measurements: pd.DataFrame | None = None) -> dict:
    """Per-workload numeric arrays (index order = `ids`) for the vectorised evaluator."""
    ids = [w for w in workloads.index if str(workloads.loc[w, "kind"]) in ("model", "llm")]
    n = len(ids)
    t = {k: np.zeros(n) for k in ("flops", "params", "active_params", "act_values", "default_batch", "is_llm",
                                   "layers", "d_model", "kv_dim", "seq_len", "out_len", "lowest_quality", "beams",
                                   *LLM_ARCH_FIELDS, "in_len", "in_len_std", "out_len_std", "counts_total",
                                   "server_ttft_p99_s", "server_tpot_p99_s", "server_latency_p99_s",
                                   "train_seq", "train_gb", "train_lora", "train_class", "train_flops",
                                   "train_act_values")}
    basis: list[str] = []
    measured_flops = {}
    if measurements is not None and len(measurements) and "flops_per_unit" in measurements:
        m = measurements[(measurements["source"] == "profiler") & measurements["flops_per_unit"].notna()
                         & (measurements["phase"].fillna("") == "")]
        if len(m):
            measured_flops = m.groupby("workload")["flops_per_unit"].median().astype(float).to_dict()
    for i, w in enumerate(ids):
        row = workloads.loc[w]
        low = str(row.get("lowest_precision") or "fp32")
        t["lowest_quality"][i] = QUALITY.get(low, 4)
        if str(row["kind"]) == "llm":
            P = _num(row.get("params"))
            A = _num(row.get("active_params")) or P
            L, d = _num(row.get("layers")), _num(row.get("d_model"))
            heads, kvh = _num(row.get("n_heads")), _num(row.get("n_kv_heads")) or _num(row.get("n_heads"))
            t["is_llm"][i] = 1
            t["params"][i], t["active_params"][i] = P, A
            t["layers"][i], t["d_model"][i] = L, d
            t["kv_dim"][i] = kvh * (d / heads) if heads else d
            hd = _num(row.get("head_dim")) or (d / heads if heads else d)
            t["n_heads"][i], t["n_kv_heads"][i], t["head_dim"][i] = heads, kvh, hd
            t["kv_values"][i] = _num(row.get("kv_values")) or 2 * kvh * hd
            t["n_experts"][i] = _num(row.get("n_experts"))
            t["experts_per_token"][i] = _num(row.get("experts_per_token"))
            t["vocab"][i] = _num(row.get("vocab"))
            # the benchmark dataset's request lengths (mean and spread), else the old planning defaults
            t["in_len"][i] = _num(row.get("input_len_mean")) or _num(row.get("seq_len")) or 1024
            t["out_len"][i] = _num(row.get("output_len_mean")) or _num(row.get("out_len")) or 128
            t["in_len_std"][i] = _num(row.get("input_len_std"))
            t["out_len_std"][i] = _num(row.get("output_len_std"))
            t["seq_len"][i] = _num(row.get("seq_len")) or t["in_len"][i]
            t["counts_total"][i] = float(str(row.get("throughput_counts") or "output") == "total")
            for k in ("server_ttft_p99_s", "server_tpot_p99_s", "server_latency_p99_s"):
                t[k][i] = _num(row.get(k)) or np.nan
            t["flops"][i] = 2 * A  # per token, plus attention (added in the evaluator)
            t["train_seq"][i] = _num(row.get("train_seq_len")) or 4096
            t["train_gb"][i] = _num(row.get("train_global_batch")) or max(1.0, round(4 * 1024 * 1024 / t["train_seq"][i]))
            t["train_lora"][i] = float(str(row.get("train_task") or "") == "lora")
            t["train_class"][i] = TRAIN_CLASSES.index("moe" if t["n_experts"][i] else "llm")
            t["default_batch"][i] = 0  # 0 = largest that fits, capped
            extra = LLM_EXTRA.get(w, {})
            t["beams"][i] = extra.get("beams", 1)
            basis.append((extra["basis"] + "; " if extra else "")
                         + f"2 x {A / 1e9:.2f}B active params per token + attention; KV cache {int(L)} layers x "
                         f"{int(t['kv_values'][i])} KV values per token per layer"
                         + (f"; {int(t['n_experts'][i])} experts, {int(t['experts_per_token'][i])} per token"
                            if t["n_experts"][i] else "")
                         + f"; requests of {number(t['in_len'][i])} prompt + {number(t['out_len'][i])} output tokens "
                         f"on average ({row.get('length_source') or 'planning default'}) (data/workloads.csv)")
        else:
            facts = NON_LLM_WORK.get(w, dict(flops=1e9, params=_num(row.get("params")) or 1e7, act_values=1e7,
                                             default_batch=32, layers=20,
                                             basis="no work facts: placeholder 1 GFLOP per sample, 20 layers"))
            t["layers"][i] = _num(row.get("layers")) or facts.get("layers", 20)
            t["beams"][i] = 1
            t["flops"][i] = facts["flops"]
            t["params"][i] = _num(row.get("params")) or facts["params"]
            t["active_params"][i] = t["params"][i]
            t["act_values"][i] = facts["act_values"]
            t["default_batch"][i] = facts["default_batch"]
            t["train_flops"][i] = facts.get("train_flops", facts["flops"])
            t["train_act_values"][i] = facts.get("train_act_values", facts["act_values"])
            t["train_seq"][i] = _num(row.get("train_seq_len")) or 1
            t["train_gb"][i] = _num(row.get("train_global_batch"))
            t["train_class"][i] = TRAIN_CLASSES.index("encoder" if w == "bert-large" else "vision")
            b = facts["basis"]
            if (w in measured_flops and measured_flops[w] > 0 and facts.get("profiler_flops_true_shape")
                    and not facts.get("keep_analytic_flops")):
                t["flops"][i] = measured_flops[w]
                b = (f"profiler rows' flops_per_unit (median {number(measured_flops[w])}; the profiler ran this "
                     f"workload's true shape); else: {b}")
            elif w in measured_flops and measured_flops[w] > 0:
                b += (f"; the profiler's rows count {number(measured_flops[w])} per unit of the shape they ran (reduced "
                      "or padded): used for those rows only")
            basis.append(b)
    return {"ids": ids, "basis": basis, **{k: v.tolist() for k, v in t.items()},
            "unit": [str(workloads.loc[w, "throughput_unit"]) for w in ids],
            "modes": [str(workloads.loc[w, "modes"]) for w in ids]}


def _num(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(v) else v
