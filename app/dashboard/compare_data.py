"""Tables the Compare page draws, built from estimates, curves, the catalog and stored rows.

No Streamlit here. Display arithmetic only (units, FLOP/s from throughput x work per unit);
every prediction comes from the cost model's api.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hwplan.core.vocab import BYTES_PER_VALUE, PEAK_COLUMN, PRECISIONS
from hwplan.costmodel import api

SCALING_COUNTS = (1, 2, 4, 8, 16, 32, 64)
DEFAULT_SETUPS = [
    {"device": "nvidia-h100-sxm", "count": 1, "precision": "auto"},
    {"device": "nvidia-a100-sxm-80gb", "count": 1, "precision": "auto"},
    {"device": "nvidia-l4", "count": 1, "precision": "auto"},
]
MAX_SETUPS = 6


def parse_setups(text: str | None, known_devices: set[str]) -> list[dict]:
    """'nvidia-h100-sxm:8:fp8,nvidia-l4:1' -> setups (unknown devices and bad counts dropped)."""
    out = []
    for part in (text or "").split(","):
        bits = [b.strip() for b in part.split(":")]
        if not bits or bits[0] not in known_devices:
            continue
        try:
            count = max(1, min(4096, int(bits[1]))) if len(bits) > 1 and bits[1] else 1
        except ValueError:
            count = 1
        prec = bits[2] if len(bits) > 2 and bits[2] in PRECISIONS else "auto"
        out.append({"device": bits[0], "count": count, "precision": prec})
    return out[:MAX_SETUPS]


def setups_to_text(setups: list[dict]) -> str:
    return ",".join(f"{s['device']}:{int(s['count'])}:{s['precision']}" for s in setups)


def label(s: dict) -> str:
    return f"{int(s['count'])} × {s['device']}" + ("" if s["precision"] == "auto" else f" · {s['precision']}")


def estimates(model, workload: str, setups: list[dict], mode: str, assumptions) -> tuple[list, list[str]]:
    """One Estimate per setup (None where the setup cannot run, with the reason)."""
    ests, errors = [], []
    for s in setups:
        try:
            ests.append(api.predict(model, workload, s["device"], count=int(s["count"]), precision=s["precision"],
                                       mode=mode, assumptions=assumptions))
            errors.append("")
        except Exception as exc:
            ests.append(None)
            errors.append(str(exc))
    return ests, errors


def curves(model, workload: str, setups: list[dict], assumptions, mode: str = "inference") -> pd.DataFrame:
    frames = []
    for s in setups:
        precs = None if s["precision"] == "auto" else [s["precision"]]
        try:
            df = api.predict_curve(model, workload, s["device"], count=int(s["count"]), precisions=precs,
                                            assumptions=assumptions, mode=mode)
        except Exception:
            continue
        df = df[df["fits"] & (df["throughput"] > 0)] if "fits" in df else df
        frames.append(df.assign(setup=label(s)))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def scaling(model, workload: str, setups: list[dict], mode: str = "inference") -> pd.DataFrame:
    frames = []
    for s in setups:
        try:
            df = api.scaling_curve(model, workload, s["device"], list(SCALING_COUNTS), precision=s["precision"],
                                            mode=mode)
        except Exception:
            continue
        frames.append(df.assign(setup=f"{s['device']} · {df['precision'].iloc[0] if len(df) else s['precision']}"))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if not out.empty:
        out = out[out["parallel_efficiency"].notna()]
    return out


def measured_rows(meas: pd.DataFrame, workload: str, devices: list[str], mode: str) -> pd.DataFrame:
    if meas is None or meas.empty:
        return pd.DataFrame()
    m = meas[(meas["workload"] == workload) & meas["device"].isin(devices) & (meas["mode"] == mode)
             & (meas["status"] == "ok") & meas["throughput"].notna()]
    return m[m["phase"].fillna("") == ""] if "phase" in m else m


def measured_vs_predicted(model, meas: pd.DataFrame, workload: str, devices: list[str], mode: str,
                          limit: int = 60) -> pd.DataFrame:
    """Each stored measurement of these devices next to the model's prediction for the same setup."""
    m = measured_rows(meas, workload, devices, mode).head(limit)
    rows = []
    for r in m.itertuples(index=False):
        batch = None if pd.isna(r.batch_size) else int(r.batch_size)
        scenario = r.scenario if r.scenario in ("offline", "server") else "offline"
        try:
            e = api.predict(model, workload, r.device, count=int(r.device_count), precision=r.precision,
                                     batch=batch, scenario=scenario, mode=mode)
        except Exception:
            continue
        rows.append({"setup": r.device, "measured": float(r.throughput), "predicted": e.throughput, "low": e.low,
                     "high": e.high, "label": f"{int(r.device_count)} × {r.device} · {r.precision} · {r.source}"
                     + (f" · b{batch}" if batch else "") + (f" · {r.scenario}" if r.scenario else "")})
    return pd.DataFrame(rows)


def roofline_devices(cat: pd.DataFrame, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """(device, precision) -> the catalog's peak FLOP/s at that precision and memory bandwidth."""
    rows = []
    for dev, prec in dict.fromkeys(pairs):
        if dev not in cat.index:
            continue
        c = cat.loc[dev]
        rows.append({"device": dev, "precision": prec,
                     "peak_flops": float(c[PEAK_COLUMN.get(prec, "bf16_tflops")]) * 1e12,
                     "mem_bw_bytes_s": float(c["mem_bw_gbs"]) * 1e9})
    return pd.DataFrame(rows, columns=["device", "precision", "peak_flops", "mem_bw_bytes_s"])


def roofline_points(model, meas: pd.DataFrame, workload: str, devices: list[str], mode: str) -> pd.DataFrame:
    """Measured rows as (intensity, achieved FLOP/s per device).

    FLOPs per unit: the row's own `flops_per_unit`, else the cost model's work facts for the workload.
    Bytes per unit: the row's `bytes_per_unit`, else weights read once per batch (the model's
    default batch) plus activations, at the row's precision; such points are labelled 'estimated'.
    """
    m = measured_rows(meas, workload, devices, mode)
    if m.empty or workload not in getattr(model, "workloads_", []):
        return pd.DataFrame()
    w = model.workloads_.index(workload)
    wl = model.wl_
    flops_w = float(wl["flops"][w])
    params = float(wl["params"][w])
    acts = float(wl["act_values"][w])
    is_llm = bool(wl["is_llm"][w])
    default_b = float(wl["default_batch"][w]) or (64.0 if is_llm else 32.0)
    out = []
    for r in m.itertuples(index=False):
        bpv = BYTES_PER_VALUE.get(r.precision, 2.0)
        flops = float(r.flops_per_unit) if pd.notna(r.flops_per_unit) and r.flops_per_unit > 0 else flops_w
        estimated = not (pd.notna(r.bytes_per_unit) and r.bytes_per_unit > 0)
        if not estimated:
            nbytes = float(r.bytes_per_unit)
        else:
            b = float(r.batch_size) if pd.notna(r.batch_size) else default_b
            nbytes = params * bpv / b + (0.0 if is_llm else acts * bpv)
        if not (flops > 0 and nbytes > 0):
            continue
        achieved = float(r.throughput) / max(1, int(r.device_count)) * flops
        out.append({"device": r.device, "intensity": flops / nbytes, "achieved_flops": achieved,
                    "label": f"{int(r.device_count)} × {r.device} · {r.precision} · {r.source}"
                    + (" · intensity estimated" if estimated else "")})
    df = pd.DataFrame(out)
    return df[np.isfinite(df["intensity"]) & np.isfinite(df["achieved_flops"])] if not df.empty else df
