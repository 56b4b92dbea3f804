"""Measurement rows as the model reads them: index columns (workload, device, precision, scenario, phase),
the target in the workload's unit, and each row's own work counts where the profiler recorded them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hwplan.core.vocab import MODEL_THROUGHPUT_UNITS, PHASES, PRECISIONS
from hwplan.costmodel.evaluate import evaluate


def training_rows(meas: pd.DataFrame, devices: list[str], wl: dict) -> pd.DataFrame:
    """Measurement rows the efficiency fit can use, with index columns and the target unit."""
    if meas is None or len(meas) == 0:
        return pd.DataFrame(columns=["wi", "di", "pi", "si", "phi", "b", "n", "y_tp", "fpu_row", "bpu_row"])
    df = meas.copy()
    for c in ("status", "throughput_unit", "scenario", "phase", "mode", "source", "run_id", "precision", "device", "workload"):
        df[c] = df[c].astype("string").fillna("").astype(str)
    df = df[(df["status"] == "ok") & df["throughput"].notna() & df["throughput_unit"].isin(MODEL_THROUGHPUT_UNITS)]
    # a training row's phase (`step`) is the whole step: the model's training scenario
    df.loc[(df["mode"] == "training") & (df["phase"] == "step"), "phase"] = ""
    dix = {d: i for i, d in enumerate(devices)}
    wix = {w: i for i, w in enumerate(wl["ids"])}
    df = df[df["device"].isin(dix) & df["workload"].isin(wix) & df["precision"].isin(PRECISIONS)
            & df["phase"].isin(PHASES)].copy()
    df["wi"] = df["workload"].map(wix).astype(int)
    df["di"] = df["device"].map(dix).astype(int)
    df["pi"] = df["precision"].map({p: i for i, p in enumerate(PRECISIONS)}).astype(int)
    df["si"] = np.where(df["mode"] == "training", 2, np.where(df["scenario"] == "server", 1, 0))
    df["phi"] = df["phase"].map({p: i for i, p in enumerate(PHASES)}).astype(int)
    df["b"] = pd.to_numeric(df["batch_size"], errors="coerce").fillna(0).astype(float)
    # a decode row's batch counts sequences; the model's LLM batch counts requests of `beams` sequences each
    beams = np.maximum(np.asarray(wl["beams"], dtype=float)[df["wi"].to_numpy()], 1.0)
    df["b"] = np.where(df["phi"].to_numpy() == 2, df["b"].to_numpy() / beams, df["b"].to_numpy())
    # the row's own FLOPs per unit (the profiler's count for the shape it ran), else NaN
    fpu = pd.to_numeric(df["flops_per_unit"], errors="coerce") if "flops_per_unit" in df else pd.Series(np.nan, index=df.index)
    df["fpu_row"] = fpu.where(fpu > 0).astype(float)
    bpu = pd.to_numeric(df["bytes_per_unit"], errors="coerce") if "bytes_per_unit" in df else pd.Series(np.nan, index=df.index)
    df["bpu_row"] = bpu.where(bpu > 0).astype(float)
    df["n"] = pd.to_numeric(df["device_count"], errors="coerce").fillna(1).astype(float)
    tp = pd.to_numeric(df["throughput"], errors="coerce").astype(float)
    is_llm = np.asarray(wl["is_llm"])[df["wi"].to_numpy()] > 0
    out_len = np.asarray(wl["out_len"])[df["wi"].to_numpy()]
    # An LLM result in samples/s is a whole request: out_len generated tokens each.
    conv = is_llm & (df["throughput_unit"].to_numpy() == "samples/s") & (df["phi"].to_numpy() == 0)
    df["y_tp"] = np.where(conv, tp * out_len, tp)
    _serving_columns(df, wl)
    df = df[is_llm | (df["throughput_unit"].to_numpy() == "samples/s")]
    return df.reset_index(drop=True)


SERVING_ROW_COLUMNS = ("in_len", "out_len", "tp", "pp", "ep", "kv", "conc", "sw_year", "row_beams", "ttft50", "tpot50")


def _serving_columns(df: pd.DataFrame, wl: dict) -> None:
    """What the serving model reads from an LLM row: its request shape (else the workload's benchmark means), its
    layout and concurrency (0 = not stated), KV-cache format (-1 = the format's own), the software's release year,
    beams per request (beam search is part of MLPerf's GPT-J definition, vendor tables decode greedily) and
    the serving latencies it reports."""
    num = lambda c: (pd.to_numeric(df[c], errors="coerce") if c in df else pd.Series(np.nan, index=df.index)).astype(float)
    wi = df["wi"].to_numpy()
    df["in_len"] = num("input_len").fillna(pd.Series(np.asarray(wl["in_len"])[wi], index=df.index))
    df["out_len"] = num("output_len").fillna(pd.Series(np.asarray(wl["out_len"])[wi], index=df.index))
    df["tp"], df["pp"], df["ep"] = num("tensor_parallel").fillna(0), num("pipeline_parallel").fillna(0), num(
        "expert_parallel").fillna(0)
    kv = df["kv_precision"].astype("string").fillna("") if "kv_precision" in df else pd.Series("", index=df.index)
    df["kv"] = kv.map({p: i for i, p in enumerate(PRECISIONS)}).fillna(-1).astype(int)
    df["conc"] = num("concurrency").fillna(0)
    date = pd.to_datetime(df["software_date"], errors="coerce", utc=True) if "software_date" in df else pd.Series(
        pd.NaT, index=df.index)
    mlperf = df["run_id"].str.startswith("mlperf-inference")
    # an MLPerf row states no software date: its round's publication date stands for it
    round_date = pd.to_datetime(df["measured_at"], errors="coerce", utc=True)
    date = date.where(date.notna() | ~mlperf, round_date)
    df["sw_year"] = (date.dt.year + (date.dt.day_of_year - 1) / 365.25).astype(float)
    df["row_beams"] = np.where(mlperf, np.asarray(wl["beams"])[wi], 1.0)
    df["ttft50"], df["tpot50"] = num("ttft_p50_s"), num("tpot_p50_s")


def row_scales(model, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(work_scale, bytes_scale) per row: its own FLOPs and bytes per unit over what the work model
    counts for the same setup; 1 where the row gives none. A row measured at a reduced or different
    shape (retinanet 512x512, a 3d-unet sub-volume, k LLM layers, DLRM with capped tables) is compared
    with the work it did, while the workload's own counts stay what published rows and other devices use."""
    ones = np.ones(len(rows))
    if not len(rows) or "fpu_row" not in rows:
        return ones, ones
    f = rows["fpu_row"].to_numpy(dtype=float)
    by = rows["bpu_row"].to_numpy(dtype=float) if "bpu_row" in rows else np.full(len(rows), np.nan)
    if not (np.isfinite(f).any() or np.isfinite(by).any()):
        return ones, ones
    base = evaluate(model, rows["wi"], rows["di"], rows["pi"], rows["b"], rows["n"], rows["si"], rows["phi"], eta_on=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        ws = f / base.flops_per_unit
        wm = by / base.bytes_per_unit
    return (np.where(np.isfinite(ws) & (ws > 0), ws, 1.0), np.where(np.isfinite(wm) & (wm > 0), wm, 1.0))


def row_work_scale(model, rows: pd.DataFrame) -> np.ndarray:
    """The work_scale half of row_scales: each row's own FLOPs per unit over the work model's count."""
    return row_scales(model, rows)[0]
