"""Published training results (data/raw/training_*.csv) mapped onto the rows the training model is fitted on
(data/published_training.csv), and the reference runs (data/training_runs.csv): samples to a benchmark's
quality target by global batch. Built by scripts/build_published.py; a test checks the shipped files are what
this makes of the raw tables. Rows that cannot be mapped are left out and counted by reason.

MLPerf Training rounds after v3.1 are never read (their results are the independent check of the model).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

ROUNDS_ALLOWED = ("v1.0", "v1.1", "v2.0", "v2.1", "v3.0", "v3.1")
MLPERF_WORKLOAD = {"resnet": "resnet50", "bert": "bert-large", "gpt3": "gpt3-175b"}
TRANSFORMER_BENCHMARKS = ("bert", "gpt3")
VENDOR_PRECISION = {"bf16": "bf16", "fp16": "fp16", "fp8": "fp8", "mxfp8": "fp8", "fp32": "fp32", "tf32": "tf32",
                    "amp-fp16": "fp16"}
RECOMPUTE = {"none": 0.0, "selective": 1.0, "full": 2.0}
COLUMNS = ("source_kind", "source_table", "software", "software_date", "round", "submitter", "system", "system_key",
           "workload", "model", "task", "params", "active_params", "layers", "d_model", "n_heads", "head_dim", "vocab",
           "n_experts", "experts_per_token", "seq_len", "device", "device_count", "precision", "global_batch", "mb",
           "tp", "pp", "dp", "vp", "ep", "zero", "recompute", "throughput", "throughput_unit", "time_to_train_s",
           "train_samples", "benchmark", "source", "notes")
RUN_COLUMNS = ("workload", "benchmark", "round", "quality_target", "dataset", "dataset_size", "seq_len",
               "global_batch_size", "converge_samples", "source", "notes")


def _num(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v


def raw_minutes(r) -> float:
    """The runs' wall-clock time without MLPerf's convergence scaling: drop the fastest and the slowest run and
    average the rest (the median of 3); the samples in the row are the same runs' mean."""
    runs = sorted(_num(x) for x in str(r.get("run_minutes") or "").split(";") if _num(x) > 0)
    if not runs:
        return float("nan")
    kept = runs[1:-1] if len(runs) >= 3 else runs
    return float(np.mean(kept))


def map_mlperf(raw: pd.DataFrame, catalog: pd.DataFrame, skipped: Counter) -> list[dict]:
    out = []
    for _, r in raw.iterrows():
        rnd, bench, dev = str(r["round"]), str(r["benchmark"]), str(r.get("device") or "")
        if rnd not in ROUNDS_ALLOWED:
            skipped[f"MLPerf Training {rnd}: after v3.1, kept out (the independent check)"] += 1
            continue
        if bench not in MLPERF_WORKLOAD:
            skipped[f"MLPerf {bench}: no training work model for it"] += 1
            continue
        if dev in ("", "nan") or dev not in catalog.index:
            skipped["MLPerf: accelerator not in the catalog"] += 1
            continue
        if "identical logs" in str(r.get("notes") or ""):
            skipped["MLPerf: the same logs as an earlier round (carried over)"] += 1
            continue
        minutes = raw_minutes(r)
        if not (_num(r["train_samples_mean"]) > 0 and minutes > 0 and _num(r["global_batch_size"]) > 0):
            skipped["MLPerf: no samples, time or global batch in the logs"] += 1
            continue
        has_fp8 = np.isfinite(_num(catalog.loc[dev, "fp8_tflops"]))
        if bench in TRANSFORMER_BENCHMARKS:
            prec = "fp8" if has_fp8 and rnd >= "v3.0" else "bf16"
        else:
            prec = "fp16" if str(catalog.loc[dev, "vendor"]) == "NVIDIA" else "bf16"
        out.append(dict(
            source_kind="mlperf", source_table=f"MLPerf Training {rnd} closed", software=str(r.get("framework") or ""),
            software_date="", round=rnd, submitter=r["submitter"], system=r["system"],
            system_key=f"{rnd}|{r['submitter']}|{r['system']}", workload=MLPERF_WORKLOAD[bench], model=bench,
            task="pretrain", device=dev, device_count=int(r["device_count"]), precision=prec,
            global_batch=float(r["global_batch_size"]), time_to_train_s=minutes * 60.0,
            train_samples=float(r["train_samples_mean"]), benchmark=bench, source=r["source"],
            notes=(f"{r['availability']}; {int(r['runs'])} runs; time = olympic mean of the runs' wall-clock minutes "
                   f"(MLPerf's score {float(r['time_to_train_min']):.3f} min may include a convergence scaling factor); "
                   f"precision {prec} is an assumption (MLPerf does not "
                   "publish it: fp8 for transformer benchmarks from v3.0 on devices with fp8, else 16-bit)")))
    return out


def map_vendor(raw: pd.DataFrame, catalog: pd.DataFrame, workloads: pd.DataFrame, skipped: Counter) -> list[dict]:
    out = []
    for _, r in raw.iterrows():
        dev, notes = str(r.get("device") or ""), str(r.get("notes") or "")
        if dev in ("", "nan") or dev not in catalog.index:
            skipped["vendor: accelerator not in the catalog"] += 1
            continue
        if "CHECK" in notes or ("MLPerf" in notes and "not MLPerf" not in notes):
            skipped["vendor: may be an MLPerf result (kept out)"] += 1
            continue
        prec = VENDOR_PRECISION.get(str(r["precision"]))
        if prec is None:
            skipped[f"vendor: precision {r['precision']} not a training format modelled"] += 1
            continue
        if _num(r.get("cp")) > 1:
            skipped["vendor: context parallel (not modelled)"] += 1
            continue
        n = _num(r["device_count"])
        metric, value = str(r["metric"]), _num(r["value"])
        if metric == "tokens_per_s_per_device":
            tput = value * n
        elif metric == "tokens_per_s_total":
            tput = value
        else:
            skipped[f"vendor: {metric} only (no tokens/s)"] += 1
            continue
        wl = str(r.get("workload") or "")
        wl = wl if wl in workloads.index and wl not in ("", "nan") else ""
        if not wl and not all(_num(r.get(c)) > 0 for c in ("params", "layers", "d_model", "n_heads")):
            skipped["vendor: architecture not given"] += 1
            continue
        if not (_num(r["seq_len"]) > 0 and _num(r["global_batch"]) > 0 and tput > 0):
            skipped["vendor: no sequence length, global batch or throughput"] += 1
            continue
        heads, d = _num(r.get("n_heads")), _num(r.get("d_model"))
        out.append(dict(
            source_kind="vendor", source_table=r["source_table"], software=r["software"],
            software_date=str(r.get("software_date") or ""), system_key=f"{r['source_table']}|{r['software']}|{dev}",
            workload=wl, model=r["model"], task=str(r["task"]), params=_num(r.get("params")),
            active_params=_num(r.get("active_params")), layers=_num(r.get("layers")), d_model=d, n_heads=heads,
            head_dim=d / heads if heads > 0 else float("nan"),
            vocab=_num(r.get("vocab")) if _num(r.get("vocab")) > 0 else 32000.0,
            n_experts=_num(r.get("n_experts")), experts_per_token=_num(r.get("experts_per_token")),
            seq_len=_num(r["seq_len"]), device=dev, device_count=int(n),
            precision=prec, global_batch=_num(r["global_batch"]), mb=_num(r.get("micro_batch")), tp=_num(r.get("tp")),
            pp=_num(r.get("pp")), dp=_num(r.get("dp")), vp=_num(r.get("vp")), ep=_num(r.get("ep")),
            recompute=RECOMPUTE.get(str(r.get("activation_checkpointing")), float("nan")), throughput=tput,
            throughput_unit="tokens/s", source=r["source"],
            notes=(notes + ("; vocab not given: 32,000 assumed" if not _num(r.get("vocab")) > 0 else ""))[:2000]))
    return out


def map_vendor_nonllm(raw: pd.DataFrame, catalog: pd.DataFrame, skipped: Counter) -> list[dict]:
    out = []
    for _, r in raw.iterrows():
        dev = str(r.get("device") or "")
        if dev in ("", "nan") or dev not in catalog.index:
            skipped["vendor (non-LLM): accelerator not in the catalog"] += 1
            continue
        wl = str(r["workload"])
        if wl == "bert-large" and _num(r.get("seq_len")) != 512:
            skipped["vendor (non-LLM): BERT at another sequence length than pre-training phase 2 (512)"] += 1
            continue
        if wl not in ("resnet50", "bert-large"):
            skipped["vendor (non-LLM): workload not modelled"] += 1
            continue
        n, b = _num(r["device_count"]), _num(r["batch_per_device"])
        tput = _num(r["value"]) * (n if r["metric"] == "samples_per_s_per_device" else 1.0)
        if not (n >= 1 and b >= 1 and tput > 0):
            skipped["vendor (non-LLM): no count, batch or throughput"] += 1
            continue
        out.append(dict(
            source_kind="vendor", source_table=r["source_table"], software=r["software"],
            software_date=str(r.get("software_date") or ""), system_key=f"{r['source_table']}|{r['software']}|{dev}",
            workload=wl, model=r["model"], task="pretrain", seq_len=512.0 if wl == "bert-large" else float("nan"),
            device=dev, device_count=int(n), precision=VENDOR_PRECISION.get(str(r["precision"]), "fp32"),
            global_batch=b * n, mb=b, tp=1.0, pp=1.0, dp=n, throughput=tput, throughput_unit="samples/s",
            source=r["source"], notes=str(r.get("notes") or "")[:2000]))
    return out


def map_training(mlperf: pd.DataFrame, vendor: pd.DataFrame, nonllm: pd.DataFrame, catalog: pd.DataFrame,
                 workloads: pd.DataFrame) -> tuple[pd.DataFrame, Counter]:
    skipped: Counter = Counter()
    rows = map_mlperf(mlperf, catalog, skipped) + map_vendor(vendor, catalog, workloads, skipped) \
        + map_vendor_nonllm(nonllm, catalog, skipped)
    df = pd.DataFrame(rows)
    for c in COLUMNS:
        if c not in df:
            df[c] = np.nan
    return df[list(COLUMNS)], skipped


def map_runs(volumes: pd.DataFrame) -> pd.DataFrame:
    """Reference convergence points as samples to the target per global batch (epochs x dataset size; tokens /
    sequence length). Benchmarks without a work model here (stable diffusion: no FLOP count found) are left out."""
    out = []
    for _, r in volumes.iterrows():
        unit, v = str(r["converge_unit"]), _num(r["converge_value"])
        if str(r["workload"]) not in ("resnet50", "bert-large", "gpt3-175b", "llama2-70b-lora"):
            continue
        if unit == "epochs":
            samples = v * _num(r["dataset_size"])
        elif unit == "tokens":
            samples = v / _num(r["seq_len"])
        else:
            samples = v
        out.append({k: r.get(k) for k in RUN_COLUMNS if k in r} | {"converge_samples": round(samples, 1),
                                                                   "notes": f"{r['converge_value']} {unit} (RCP mean); "
                                                                            + str(r.get("notes") or "")[:600]})
    return pd.DataFrame(out, columns=list(RUN_COLUMNS))
