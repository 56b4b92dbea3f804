"""Map published results (MLPerf Inference tables, matmul tables) onto the Measurement row.

Whole-system throughput is kept with its `device_count`; MLPerf power is the system's wall power
(`power_scope=system`). Rows that cannot be mapped are left out and counted with the reason.
"""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd

from hwplan.core.catalog import alias_map, load_catalog, load_workloads
from hwplan.core.vocab import PEAK_COLUMN

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
