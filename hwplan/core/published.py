"""Map published results (MLPerf Inference tables, matmul tables) onto the Measurement row.

Whole-system throughput is kept with its `device_count`; MLPerf power is the system's wall power
(`power_scope=system`). Rows that cannot be mapped are left out and counted with the reason.
"""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd

from hwplan.core.catalog import alias_map, load_catalog, load_workloads
from hwplan.core.vocab import PEAK_COLUMN, PRECISIONS

PUBLISHED_COLUMNS = {"benchmark", "round", "model", "scenario", "system", "accelerator", "accelerator_count", "value",
                     "unit", "source"}
# MLPerf round publication dates (mlcommons.org results pages): rows carry no timestamp of their own.
ROUND_DATES = {"v3.0": "2023-04-05T00:00:00Z", "v3.1": "2023-09-11T00:00:00Z"}
MODEL_TO_WORKLOAD = {"resnet50": "resnet50", "retinanet": "retinanet", "bert": "bert-large", "dlrm-v2": "dlrm-v2",
                     "3d-unet": "3d-unet", "gptj": "gpt-j"}
UNMAPPED_MODELS = {
    "dlrm": "DLRM v1 (Criteo Terabyte) is not the dlrm-v2 reference workload (DCNv2, Criteo 1TB)",
    "rnnt": "speech recognition (RNN-T) has no reference workload",
}
# Precision order to try, fastest first; MLPerf tables do not state the numeric format.
_PRECISION_ORDER = ("int8", "fp8", "fp16", "bf16", "fp32")


def is_published_table(df: pd.DataFrame) -> bool:
    return PUBLISHED_COLUMNS.issubset(set(map(str, df.columns)))


def assumed_precision(workload_lowest: str, accuracy_target: str, device_row: pd.Series) -> str:
    """The lowest precision the device has that usually meets the target (an assumption, labelled)."""
    floor = "fp16" if accuracy_target == "99.9" and workload_lowest in ("int8", "fp8") else workload_lowest
    start = _PRECISION_ORDER.index(floor) if floor in _PRECISION_ORDER else 0
    for p in _PRECISION_ORDER[start:]:
        if pd.notna(device_row.get(PEAK_COLUMN[p])):
            return p
    return floor


def map_published(raw: pd.DataFrame, source_name: str = "published") -> tuple[pd.DataFrame, dict[str, int]]:
    """Measurement rows for every mappable published row; reasons and counts for the others."""
    catalog = load_catalog()
    workloads = load_workloads()
    aliases = alias_map(catalog)
    skipped: Counter[str] = Counter()
    out = []
    for i, r in raw.reset_index(drop=True).iterrows():
        line = int(i) + 2
        bench, model = str(r["benchmark"]).strip(), str(r["model"]).strip()
        accel = " ".join(str(r["accelerator"]).split())
        device = aliases.get(accel.lower())
        try:
            value = float(r["value"])
            count = int(float(r["accelerator_count"]))
        except ValueError:
            skipped["value or accelerator_count is not a number"] += 1
            continue
        if value <= 0 or count < 1:
            skipped["value or accelerator_count is not positive"] += 1
            continue
        if bench.startswith("MAMF matmul"):
            m = re.match(r"(bf16|fp8|fp16) GEMM \(best shape ([0-9x]+)\)", model)
            if not m:
                skipped[f"unrecognised matmul row '{model[:40]}'"] += 1
                continue
            if device is None:
                skipped[f"accelerator '{accel}' is not in the catalog"] += 1
                continue
            out.append(_row(r, line, device, catalog, workload="gemm", precision=m.group(1), count=count,
                            throughput=value * 1e12, unit="flop/s", run=f"mamf-finder:{device}:{m.group(2)}",
                            measured_at="2026-08-22T00:00:00Z", scenario="", target="",
                            notes=f"best shape {m.group(2)} (MxNxK); {r.get('notes', '')}; "
                                  "measured_at = source repository HEAD date"))
            continue
        if not bench.startswith("MLPerf Inference"):
            skipped[f"benchmark '{bench}' is not supported"] += 1
            continue
        base, _, target = model.rpartition("-")
        if target not in ("99", "99.9"):
            base, target = model, ""
        if base in UNMAPPED_MODELS:
            skipped[UNMAPPED_MODELS[base]] += 1
            continue
        workload = MODEL_TO_WORKLOAD.get(base)
        if workload is None:
            skipped[f"model '{base}' has no reference workload"] += 1
            continue
        if "mig" in accel.lower():
            skipped["a MIG slice is a fraction of a device, not a catalog device"] += 1
            continue
        if device is None:
            skipped[f"accelerator '{accel}' is not in the catalog"] += 1
            continue
        rnd = str(r["round"]).strip()
        if rnd not in ROUND_DATES:
            skipped[f"round '{rnd}' is not an MLPerf Inference round this project uses (v3.0, v3.1 only)"] += 1
            continue
        scenario = str(r["scenario"]).strip().lower()
        if scenario not in ("offline", "server"):
            skipped[f"scenario '{scenario}' is not offline or server"] += 1
            continue
        unit = str(r["unit"]).strip()
        note = str(r.get("notes", "") or "")
        if unit == "queries/s":
            unit = "samples/s"
            note += "; Server queries/s recorded as samples/s (one sample per query)"
        if unit not in ("samples/s", "tokens/s"):
            skipped[f"unit '{unit}' is not samples/s or tokens/s"] += 1
            continue
        dev_row = catalog.loc[device]
        precision = assumed_precision(str(workloads.loc[workload, "lowest_precision"]), target, dev_row)
        note += (f"; precision assumed ({precision}): MLPerf does not publish the numeric format; hwplan takes the lowest"
                 " precision the device supports that usually meets this accuracy target")
        system = str(r["system"])
        sys_id = re.search(r"\[([^\]]+)\]\s*$", system)
        submitter = system.split(":", 1)[0].strip() if ":" in system else ""
        run = f"mlperf-inference-{rnd}:{submitter}/{sys_id.group(1) if sys_id else system[:80]}"
        out.append(_row(r, line, device, catalog, workload=workload, precision=precision, count=count,
                        throughput=value, unit=unit, run=run, measured_at=ROUND_DATES[rnd], scenario=scenario,
                        target=target, notes=f"{system}; {note}".strip("; ")))
    df = pd.DataFrame(out)
    if not df.empty:
        df = _drop_implausible(df, skipped)
        df = _same_engine_for_both_targets(df)
    if df.empty:
        df = pd.DataFrame(columns=["_line"])
    return df, dict(skipped)


def _same_engine_for_both_targets(df: pd.DataFrame) -> pd.DataFrame:
    """A system whose 99.9 % result equals its 99 % result (within 1 %) ran one engine for both, so the
    99.9 % row gets the 99 % row's precision instead of the fp16 default (3d-unet: every v3.0 pair is equal;
    bert-large: the 99.9 % results are about half, so fp16 stays)."""
    keys = ["run_id", "workload", "scenario", "device", "device_count"]
    base = df[df["accuracy_target"] == "99"].set_index(keys)[["precision", "throughput"]]
    base = base[~base.index.duplicated()]
    for i in df.index[df["accuracy_target"] == "99.9"]:
        k = tuple(df.loc[i, keys])
        if k not in base.index:
            continue
        ref = base.loc[k]
        if ref["precision"] != df.at[i, "precision"] and abs(df.at[i, "throughput"] / ref["throughput"] - 1) <= 0.01:
            old = df.at[i, "precision"]
            df.at[i, "precision"] = ref["precision"]
            df.at[i, "notes"] = df.at[i, "notes"].replace(
                f"precision assumed ({old})",
                f"precision assumed ({ref['precision']}: this system's 99% result is the same within 1%, so one engine ran both)")
    return df


def _drop_implausible(df: pd.DataFrame, skipped: Counter) -> pd.DataFrame:
    """Leave out a result off by more than 100x from the same device's other results for the workload
    (e.g. a 3d-unet row of 1.8e9 samples/s on one L4, where its peers report ~8)."""
    per_device = df["throughput"].astype(float) / df["device_count"].astype(float)
    groups = df["workload"] + "|" + df["device"] + "|" + df["throughput_unit"]
    keep = pd.Series(True, index=df.index)
    for _, idx in groups.groupby(groups).groups.items():
        if len(idx) < 3:
            continue
        vals = per_device.loc[idx]
        for i in idx:
            peers = vals.drop(i)
            ratio = vals[i] / peers.median()
            if ratio > 100 or ratio < 0.01:
                keep[i] = False
    n = int((~keep).sum())
    if n:
        skipped["implausible: over 100x away from the same device's other results for the workload"] += n
    return df[keep].reset_index(drop=True)


def _row(r, line, device, catalog, *, workload, precision, count, throughput, unit, run, measured_at, scenario, target, notes):
    power = pd.to_numeric(pd.Series([r.get("power_w")]), errors="coerce").iloc[0]
    has_power = pd.notna(power) and power > 0
    return {
        "_line": line,
        "run_id": run,
        "measured_at": measured_at,
        "source": "published",
        "source_ref": str(r["source"]),
        "host": "",
        "workload": workload,
        "mode": "inference",
        "phase": "",
        "scenario": scenario,
        "accuracy_target": target,
        "precision": precision,
        "batch_size": "",
        "seq_len": "",
        "device": device,
        "device_name": str(r["accelerator"]),
        "device_kind": catalog.loc[device, "kind"],
        "device_count": count,
        "backend": "vendor",
        "software": "",
        "throughput": throughput,
        "throughput_unit": unit,
        "power_avg_w": power if has_power else "",
        "power_scope": "system" if has_power else "",
        "energy_per_unit_j": power / throughput if has_power and scenario == "offline" else "",
        "energy_method": "published" if has_power else "none",
        "status": "ok",
        "error": "",
        "notes": notes,
    }


# ---- LLM serving tables (vendor performance tables: TensorRT-LLM perf overview, ROCm, Gaudi, TPU) ----------------

SERVING_COLUMNS = {"benchmark", "software", "software_date", "model", "workload", "accelerator", "device", "device_count",
                   "tensor_parallel", "pipeline_parallel", "expert_parallel", "precision", "kv_precision", "input_len",
                   "output_len", "concurrency", "request_rate", "metric", "value", "ttft_ms", "tpot_ms", "source", "notes"}
# metric -> (counts output tokens only, per device)
SERVING_METRICS = {"output_tokens_per_s_total": (True, False), "output_tokens_per_s_per_gpu": (True, True),
                   "output_tokens_per_s_per_device": (True, True), "total_tokens_per_s_total": (False, False),
                   "total_tokens_per_s_per_gpu": (False, True), "total_tokens_per_s_per_device": (False, True)}


SERVING_READ_DATE = "2026-12-01"  # when the serving tables in data/raw/ were read (for rows that state no date)


def is_serving_table(df: pd.DataFrame) -> bool:
    return SERVING_COLUMNS.issubset(set(map(str, df.columns)))


def map_serving(raw: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Measurement rows for a published LLM serving table: whole-setup output tokens/s at the table's request
    shape, layout and concurrency (blank: the table's maximum-throughput load), with TTFT / TPOT where given.
    A row that reports TTFT / TPOT at a request rate (no concurrency) is a `server` row: its throughput is the
    offered load, not a capacity."""
    catalog, workloads = load_catalog(), load_workloads()
    aliases = alias_map(catalog)
    skipped: Counter[str] = Counter()
    out = []
    num = lambda v: pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
    for i, r in raw.reset_index(drop=True).iterrows():
        line = int(i) + 2
        device = str(r["device"]).strip() or aliases.get(" ".join(str(r["accelerator"]).split()).lower(), "")
        workload, precision = str(r["workload"]).strip(), str(r["precision"]).strip().lower()
        metric = str(r["metric"]).strip()
        value, count = num(r["value"]), num(r["device_count"])
        I, O = num(r["input_len"]), num(r["output_len"])
        why = ("accelerator '{}' is not in the catalog".format(r["accelerator"]) if device not in catalog.index else
               f"model '{r['model']}' has no reference workload" if workload not in workloads.index else
               f"precision '{precision}' is not one of {', '.join(PRECISIONS)}" if precision not in PRECISIONS else
               f"metric '{metric}' is not one of {', '.join(SERVING_METRICS)}" if metric not in SERVING_METRICS else
               "value, device_count, input_len or output_len is not a positive number"
               if not all(pd.notna(v) and v > 0 for v in (value, count, I, O)) else "")
        if why:
            skipped[why] += 1
            continue
        output_only, per_device = SERVING_METRICS[metric]
        tput = value * (count if per_device else 1) * (1 if output_only else O / (I + O))
        ttft, tpot, conc = num(r["ttft_ms"]), num(r["tpot_ms"]), num(r["concurrency"])
        rate = num(r["request_rate"])  # offered requests/s of an online row
        online = pd.isna(conc) and (pd.notna(ttft) or pd.notna(tpot))
        software = str(r["software"]).strip()
        engine = re.sub(r"[^a-z0-9]+", "-", re.sub(r"\s*v?\d[\w.]*$", "", software).lower()).strip("-") or "vendor"
        date = str(r["software_date"]).strip()
        note = str(r["notes"]).strip()
        if not date:
            note += f"; no release date stated: measured_at is the day the table was read ({SERVING_READ_DATE})"
        if metric != "output_tokens_per_s_total":
            note += f"; throughput = {value:g} {metric}" + (f" x {int(count)} devices" if per_device else "") + (
                f" x output share {O:g}/({I:g}+{O:g})" if not output_only else "")
        if online:
            note += "; online serving at an offered request rate: throughput is the load, not a capacity"
        kv = str(r["kv_precision"]).strip().lower()
        cell = lambda v: "" if pd.isna(v) else int(v)
        tp, pp = num(r["tensor_parallel"]), num(r["pipeline_parallel"])
        if pd.notna(tp) and tp * (pp if pd.notna(pp) else 1) > count:
            note += (f"; the table's tensor parallel {tp:g} counts cores, not devices: the layout is over the "
                     f"{int(count)} devices")
            tp = count / (pp if pd.notna(pp) else 1)
        out.append({
            "_line": line, "run_id": f"{re.sub(r'[^a-z0-9]+', '-', str(r['benchmark']).lower()).strip('-')}:{software}",
            "measured_at": f"{date or SERVING_READ_DATE}T00:00:00Z", "source": "published", "source_ref": str(r["source"]),
            "host": "", "workload": workload, "mode": "inference", "phase": "",
            "scenario": "server" if online else "offline", "accuracy_target": "", "precision": precision,
            "batch_size": "", "seq_len": "", "device": device, "device_name": str(r["accelerator"]),
            "device_kind": catalog.loc[device, "kind"], "device_count": int(count), "backend": engine,
            "software": software, "throughput": tput, "throughput_unit": "tokens/s", "power_avg_w": "",
            "power_scope": "", "energy_per_unit_j": "", "energy_method": "none", "status": "ok", "error": "",
            "notes": note, "input_len": round(I), "output_len": round(O),
            "tensor_parallel": cell(tp), "pipeline_parallel": cell(pp),
            "expert_parallel": cell(num(r["expert_parallel"])), "kv_precision": kv if kv in PRECISIONS else "",
            "concurrency": cell(conc), "request_rate_per_s": "" if pd.isna(rate) else rate,
            "ttft_p50_s": "" if pd.isna(ttft) else ttft / 1000.0, "ttft_p99_s": "",
            "tpot_p50_s": "" if pd.isna(tpot) else tpot / 1000.0, "tpot_p99_s": "",
            "software_date": f"{date}T00:00:00Z" if date else "",
        })
    df = pd.DataFrame(out) if out else pd.DataFrame(columns=["_line"])
    return df, dict(skipped)
