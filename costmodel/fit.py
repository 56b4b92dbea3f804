"""Fit the performance model from Measurement rows and the catalog (sklearn used here only)."""

from __future__ import annotations

from hwplan.core.fmt import number
import math
import re

import numpy as np
import pandas as pd

from hwplan.costmodel import CODE_VERSION
from hwplan.costmodel.model import (CPU_MEMORY_FALLBACK_B, KINDS, PCIE_FALLBACK_BPS, PHASES, SCENARIOS,
                             PerformanceModel, evaluate)
from hwplan.costmodel.work import workload_table
from hwplan.core.vocab import ESTIMATED_ENERGY_METHODS, MICRO_BENCHMARKS, PEAK_COLUMN, PRECISIONS

DEFAULT_EC0 = 0.7        # matmul efficiency prior when no gemm row exists for the device or its kind (assumption)
DEFAULT_EM0 = 0.8        # achievable fraction of spec memory bandwidth (assumption; STREAM-like copies reach 80-90%)
DEFAULT_COMM = 0.7       # achievable fraction of spec interconnect bandwidth (assumption; nccl-tests bus bw)
DEFAULT_IDLE_FRACTION = 0.2   # idle power as a fraction of board power when the catalog leaves it blank (assumption)
DEFAULT_HOST = 0.3       # host/system power share when no wall-power row exists (assumption)
DEFAULT_INTERVAL = {"measured": [-0.25, 0.25], "calibrated": [-0.6, 0.6], "roofline": [-1.2, 1.2]}
MIN_ROWS_FOR_INTERVAL = 8
# A result above 30x the spec roofline (at the efficiency priors) or below 1/1000 of it is a data error.
IMPLAUSIBLE_RATIO = (1e-3, 30.0)

# Prior scales of the hierarchical efficiency regression (bigger = weaker shrinkage).
SCALES = {"workload": 3.0, "server": 1.0, "training": 1.0, "kind": 1.0, "vendor": 0.5, "workload_kind": 0.5,
          "precision": 0.5, "numeric": 0.3, "device": 0.5, "workload_device": 0.3}
ALPHA = 1.0
# A group effect (kind, vendor, workload x kind) backed by n distinct devices keeps n / (n + N0) of
# its prior scale: one device -> 1/4 (its deviation stays mostly with the device), ten -> 0.77.
GROUP_SUPPORT_N0 = 3.0
# Per-batch overhead from rows with batch sweeps: at least this many distinct batch sizes per group.
OVERHEAD_MIN_BATCHES = 3
# Measured hosts not in the catalog become pseudo-devices with this id prefix (see add_host_devices).
HOST_PREFIX = "host:"


def _slug(x: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(x).lower()).strip("-")


def host_device_id(host: str, device_name: str) -> str:
    """Id of the pseudo-device for a measured host that is not in the catalog: host:<host>:<device name>."""
    return f"{HOST_PREFIX}{_slug(host) or 'host'}:{_slug(device_name) or 'device'}"


def add_host_devices(meas: pd.DataFrame | None, catalog: pd.DataFrame) -> tuple[pd.DataFrame | None, pd.DataFrame, dict]:
    """Pseudo-devices for measured hosts that are not in the catalog.

    Rows whose `device` is not a catalog id (e.g. `unknown`: a VM that reports only "AMD EPYC") are
    grouped by (host, device_name). A group with at least one ok `gemm` row becomes a pseudo-device
    `host:<host>:<device name>`: its peak per precision is the best gemm flop/s measured there
    ("measured-peak", not a spec sheet), its memory bandwidth the copy bandwidth of its largest
    `membw` buffer (a buffer that fits in cache measures cache bandwidth), its kind the rows'
    `device_kind`. Board power, idle power, memory size, interconnect, prices and launch year stay
    blank: nothing is invented (power and cost of such a device are NaN). The rows' `device` is
    rewritten to the pseudo id. Idempotent: rows already carrying a host id and a catalog that
    already holds it are left as they are. Returns (rows, catalog + pseudo rows, info)."""
    from hwplan.costmodel.model import KINDS

    info: dict = {}
    if meas is None or not len(meas) or "device" not in meas:
        return meas, catalog, info
    known = set(map(str, catalog.index))
    dev = meas["device"].astype("string").fillna("").astype(str)
    unknown = ~dev.isin(known)
    if not unknown.any():
        return meas, catalog, info
    col = lambda c: (meas[c].astype("string").fillna("").astype(str) if c in meas  # noqa: E731
                     else pd.Series("", index=meas.index))
    host, name = col("host"), col("device_name")
    ids = pd.Series([d if d.startswith(HOST_PREFIX) else (host_device_id(h, n) if (h or n) else "")
                     for d, h, n in zip(dev, host, name)], index=meas.index)
    ids = ids.where(unknown, "")
    status, wl, prec = col("status"), col("workload"), col("precision")
    tp = pd.to_numeric(meas["throughput"], errors="coerce") / pd.to_numeric(
        meas.get("device_count", 1), errors="coerce").fillna(1).clip(lower=1)
    size = pd.to_numeric(meas["seq_len"], errors="coerce") if "seq_len" in meas else pd.Series(np.nan, index=meas.index)
    new_rows, mapped = [], pd.Series(False, index=meas.index)
    for hid in sorted(set(ids) - {""}):
        mine = ids == hid
        ok = mine & (status == "ok") & (tp > 0)
        g = ok & (wl == "gemm") & prec.isin(PRECISIONS)
        kinds = col("device_kind")[mine]
        kind = kinds.mode().iloc[0] if len(kinds.mode()) else ""
        if not g.any() or kind not in KINDS:
            info.setdefault("skipped", {})[hid] = ("no ok gemm row (no measured peak)" if not g.any()
                                                   else f"device_kind '{kind}' is not one of {', '.join(KINDS)}")
            continue
        mapped |= mine
        if hid in known:
            continue
        peaks = tp[g].groupby(prec[g]).max()
        m = ok & (wl == "membw")
        bw = float(tp[m & (size == size[m].max())].max()) if m.any() and size[m].notna().any() else (
            float(tp[m].max()) if m.any() else np.nan)
        dname = name[mine].mode().iloc[0] if len(name[mine].mode()) else ""
        hname = host[mine].mode().iloc[0] if len(host[mine].mode()) else ""
        runs = sorted(set(col("run_id")[mine]))
        r = {c: np.nan for c in catalog.columns}
        r.update({"id": hid, "vendor": (dname.split() or ["unknown"])[0], "model": dname or hid, "kind": kind,
                  "mem_bw_gbs": bw / 1e9,
                  "source": f"measured-peak: the profiler's micro-benchmarks on host '{hname}' (run {', '.join(runs[:3])})",
                  "notes": ("pseudo-device (not in the catalog): peak per precision = best measured gemm "
                            f"({', '.join(f'{p} {v / 1e9:.1f} GFLOP/s' for p, v in peaks.items())}); memory bandwidth = "
                            f"largest-buffer membw copy ({bw / 1e9:.1f} GB/s); no board power, price, memory size "
                            "or interconnect (not invented)"),
                  "pseudo": True})
        for p, v in peaks.items():
            r[PEAK_COLUMN[p]] = float(v) / 1e12
        new_rows.append(r)
        info.setdefault("devices", {})[hid] = {"device_name": dname, "host": hname, "kind": kind,
                                               "peak_flops": {p: float(v) for p, v in peaks.items()},
                                               "mem_bw_bps": bw, "rows": int(mine.sum())}
    if mapped.any():
        meas = meas.copy()
        meas.loc[mapped, "device"] = ids[mapped]
    if new_rows:
        cat = catalog.copy()
        if "pseudo" not in cat:
            cat["pseudo"] = False
        extra = pd.DataFrame(new_rows).set_index(pd.Index([r["id"] for r in new_rows], name=catalog.index.name))
        catalog = pd.concat([cat, extra[[c for c in cat.columns]]])
        catalog["pseudo"] = catalog["pseudo"].fillna(False).astype(bool)
    return meas, catalog, info


def device_table(catalog: pd.DataFrame) -> dict:
    """Per-device arrays in SI units, with missing facts imputed and flagged."""
    cat = catalog
    D = len(cat)
    peak = np.full((D, len(PRECISIONS)), np.nan)
    for j, p in enumerate(PRECISIONS):
        peak[:, j] = cat[PEAK_COLUMN[p]].astype(float).to_numpy() * 1e12
    kind = cat["kind"].astype(str).tolist()
    bw = cat["mem_bw_gbs"].astype(float).to_numpy() * 1e9
    mem = cat["mem_gb"].astype(float).to_numpy() * 1e9
    mem_imputed = ~np.isfinite(mem) & (np.array(kind) == "cpu")
    mem = np.where(mem_imputed, CPU_MEMORY_FALLBACK_B, mem)
    ic = cat["interconnect_gbs"].astype(float).to_numpy() * 1e9
    ic_imputed = ~np.isfinite(ic) | (ic <= 0)
    ic = np.where(ic_imputed, PCIE_FALLBACK_BPS, ic)
    pseudo = (cat["pseudo"].fillna(False).astype(bool).to_numpy() if "pseudo" in cat else np.zeros(D, dtype=bool))
    board = cat["board_power_w"].astype(float).to_numpy().copy()
    maxpeak = np.nanmax(np.where(np.isfinite(peak), peak, -np.inf), axis=1) / 1e12
    maxpeak = np.where(np.isfinite(maxpeak) & (maxpeak > 0), maxpeak, np.nan)
    ratio = board / maxpeak
    board_imputed = ~np.isfinite(board) & ~pseudo
    glob = np.nanmedian(ratio) if np.isfinite(ratio).any() else 0.5
    for i in np.flatnonzero(board_imputed):
        same = np.array([k == kind[i] for k in kind]) & np.isfinite(ratio)
        r = np.nanmedian(ratio[same]) if same.any() else glob
        board[i] = float(np.clip(r * maxpeak[i], 50, 1500)) if np.isfinite(maxpeak[i]) else np.nan
    idle = cat["idle_power_w"].astype(float).to_numpy()
    idle_imputed = ~np.isfinite(idle) & ~pseudo
    idle = np.where(idle_imputed, DEFAULT_IDLE_FRACTION * board, idle)
    board = np.where(pseudo, np.nan, board)  # a measured host's power is never invented
    idle = np.where(pseudo, np.nan, idle)
    year = cat["launch_year"].astype(float).to_numpy()
    year = np.where(np.isfinite(year), year, np.nanmedian(year))
    return {
        "peak": np.where(np.isfinite(peak), peak, np.nan).tolist(), "bw": bw.tolist(), "mem": mem.tolist(), "ic": ic.tolist(),
        "board_w": board.tolist(), "idle_w": idle.tolist(), "year": year.tolist(),
        "price_usd": cat["price_usd"].astype(float).tolist(), "cloud_usd_per_hour": cat["cloud_usd_per_hour"].astype(float).tolist(),
        "kind": kind, "vendor": cat["vendor"].astype(str).str.lower().tolist(),
        "board_imputed": board_imputed.astype(float).tolist(), "idle_imputed": idle_imputed.astype(float).tolist(),
        "ic_imputed": ic_imputed.astype(float).tolist(), "mem_imputed": mem_imputed.astype(float).tolist(),
        "pseudo": pseudo.astype(float).tolist(),
    }


def training_rows(meas: pd.DataFrame, devices: list[str], wl: dict) -> pd.DataFrame:
    """Measurement rows the efficiency fit can use, with index columns and the target unit."""
    if meas is None or len(meas) == 0:
        return pd.DataFrame(columns=["wi", "di", "pi", "si", "phi", "b", "n", "y_tp", "fpu_row", "bpu_row"])
    df = meas.copy()
    for c in ("status", "throughput_unit", "scenario", "phase", "mode", "source", "run_id", "precision", "device", "workload"):
        df[c] = df[c].astype("string").fillna("").astype(str)
    df = df[(df["status"] == "ok") & df["throughput"].notna() & df["throughput_unit"].isin(["samples/s", "tokens/s"])]
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
    df = df[is_llm | (df["throughput_unit"].to_numpy() == "samples/s")]
    return df.reset_index(drop=True)


def row_scales(model: PerformanceModel, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
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
        ws = f / base["flops_per_unit"]
        wm = by / base["bytes_per_unit"]
    return (np.where(np.isfinite(ws) & (ws > 0), ws, 1.0), np.where(np.isfinite(wm) & (wm > 0), wm, 1.0))


def row_work_scale(model: PerformanceModel, rows: pd.DataFrame) -> np.ndarray:
    """The work_scale half of row_scales: each row's own FLOPs per unit over the work model's count."""
    return row_scales(model, rows)[0]


def _priors(meas: pd.DataFrame | None, devices: list[str], dev: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Compute, memory and communication efficiency priors from gemm / membw / allreduce rows."""
    D = len(devices)
    peak = np.asarray(dev["peak"], dtype=float)
    kinds = np.array(dev["kind"])
    info = {"gemm_rows": 0, "membw_rows": 0, "allreduce_rows": 0}
    ec0 = np.full((D, len(PRECISIONS)), np.nan)
    em0 = np.full(D, np.nan)
    comm = np.full(D, np.nan)
    if meas is not None and len(meas):
        ok = meas[(meas["status"].astype(str) == "ok") & meas["throughput"].notna()]
        dix = {d: i for i, d in enumerate(devices)}
        g = ok[(ok["workload"] == "gemm") & ok["device"].isin(dix) & ok["precision"].isin(PRECISIONS)]
        info["gemm_rows"] = len(g)
        per_dev: dict[int, list[float]] = {}
        for _, r in g.iterrows():
            i, j = dix[r["device"]], PRECISIONS.index(r["precision"])
            if np.isfinite(peak[i, j]) and peak[i, j] > 0:
                e = float(r["throughput"]) / float(r["device_count"] or 1) / peak[i, j]
                ec0[i, j] = np.nanmax([ec0[i, j], min(e, 1.0)])
                per_dev.setdefault(i, []).append(math.log(min(e, 1.0)))
        m = ok[(ok["workload"] == "membw") & ok["device"].isin(dix)]
        info["membw_rows"] = len(m)
        bw = np.asarray(dev["bw"], dtype=float)
        for _, r in m.iterrows():
            i = dix[r["device"]]
            if np.isfinite(bw[i]) and bw[i] > 0:
                em0[i] = np.nanmax([em0[i], min(float(r["throughput"]) / bw[i], 1.0)])
        a = ok[(ok["workload"] == "allreduce") & ok["device"].isin(dix)]
        info["allreduce_rows"] = len(a)
        ic = np.asarray(dev["ic"], dtype=float)
        for _, r in a.iterrows():
            i = dix[r["device"]]
            comm[i] = np.nanmax([comm[i], min(float(r["throughput"]) / ic[i], 1.0)])
        dev_mean = {i: float(np.exp(np.mean(v))) for i, v in per_dev.items()}
    else:
        dev_mean = {}
    # fill: device mean over precisions -> kind mean -> default
    kind_mean = {}
    pseudo = np.asarray(dev.get("pseudo", [0.0] * D), dtype=float) > 0
    for k in KINDS:
        # a measured host's peak is its own best gemm (efficiency 1 by construction): not a kind prior
        vals = [math.log(v) for i, v in dev_mean.items() if kinds[i] == k and not pseudo[i]]
        kind_mean[k] = float(np.exp(np.mean(vals))) if vals else DEFAULT_EC0
    for i in range(D):
        fill = dev_mean.get(i, kind_mean[kinds[i]])
        ec0[i] = np.where(np.isfinite(ec0[i]), ec0[i], fill)
    em0 = np.where(np.isfinite(em0), em0, DEFAULT_EM0)
    comm = np.where(np.isfinite(comm), comm, DEFAULT_COMM)
    info["ec0_kind"] = kind_mean
    return ec0, em0, comm, info


def fit_overhead(rows: pd.DataFrame, model: PerformanceModel) -> dict:
    """Per-device factor on the kind's fixed-overhead prior, from rows that sweep the batch and record
    latency (today: the profiler's rows). For each (run, workload, device, precision, phase) with at
    least OVERHEAD_MIN_BATCHES batch sizes, latency_p50 = o + b x tau is fitted by least squares; the
    device's factor is the median of o / prior over its groups (clipped to 0.05-20). Other devices keep
    the prior (factor 1)."""
    from hwplan.costmodel.model import OVERHEAD_PRIOR_BASIS, overhead_per_pass

    D = len(model.devices)
    mult = np.ones(D)
    out = {"mult": mult.tolist(), "basis": "prior by kind (" + OVERHEAD_PRIOR_BASIS + ")", "fitted": {}}
    if not len(rows) or "latency_p50_s" not in rows:
        return out
    r = rows.copy()
    r["lat"] = pd.to_numeric(r["latency_p50_s"], errors="coerce")
    r = r[(r["lat"] > 0) & (r["b"] > 0) & (r["si"] != 2)
          & ~((np.asarray(model.wl["is_llm"])[r["wi"].to_numpy()] > 0) & (r["phi"].to_numpy() == 0))]
    ratios: dict[int, list[float]] = {}
    if "backend" not in r:
        r["backend"] = ""
    r["backend"] = r["backend"].astype("string").fillna("").astype(str)
    for (_, _, wi, di, _, _), grp in r.groupby(["run_id", "backend", "wi", "di", "pi", "phi"]):
        if grp["b"].nunique() < OVERHEAD_MIN_BATCHES:
            continue
        xb, yl = grp["b"].to_numpy(float), grp["lat"].to_numpy(float)
        # relative least squares (weights 1/latency): latencies span orders of magnitude over a sweep,
        # and plain least squares would let the largest batch decide the intercept
        slope, icpt = np.polyfit(xb, yl, 1, w=1.0 / yl)
        if not (np.isfinite(icpt) and slope > 0):
            continue
        prior = float(overhead_per_pass(model, int(wi), int(di)))
        ratios.setdefault(int(di), []).append(max(icpt, 0.0) / prior if prior > 0 else 1.0)
    fitted = {}
    for di, v in ratios.items():
        mult[di] = float(np.clip(np.median(v), 0.05, 20.0))
        fitted[model.devices[di]] = {"factor": float(mult[di]), "groups": len(v)}
    if fitted:
        names = ", ".join("%s x%.2f" % (k, v["factor"]) for k, v in fitted.items())
        out["basis"] = (f"fitted from batch sweeps with latency on {len(fitted)} device(s) ({names}); "
                        "others: prior by kind (" + OVERHEAD_PRIOR_BASIS + ")")
    out["mult"] = mult.tolist()
    out["fitted"] = fitted
    return out


class Design:
    """Feature columns of the efficiency regression for (workload, device, precision, scenario)."""

    def __init__(self, workloads: list[str], devices: list[str], dev: dict):
        self.W, self.D = len(workloads), len(devices)
        self.kinds = list(KINDS)
        self.vendors = sorted(set(dev["vendor"]))
        self.kind_idx = np.array([KINDS.index(k) for k in dev["kind"]])
        self.vendor_idx = np.array([self.vendors.index(v) for v in dev["vendor"]])
        peak = np.asarray(dev["peak"], dtype=float)
        bw = np.asarray(dev["bw"], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = np.log(peak)
            lb = np.log(bw)
        lb = np.where(np.isfinite(lb), lb, np.nanmedian(lb))
        lp = np.where(np.isfinite(lp), lp, np.nanmedian(lp))
        year = np.asarray(dev["year"], dtype=float)
        self.num = np.stack([lp - np.mean(lp), np.repeat((lb - lb.mean())[:, None], len(PRECISIONS), 1),
                             lp - lb[:, None] - np.mean(lp - lb[:, None]),
                             np.repeat(((year - year.mean()) / 3)[:, None], len(PRECISIONS), 1)], axis=-1)
        self.blocks = [("workload", self.W), ("server", self.W), ("training", self.W), ("kind", len(KINDS)),
                       ("vendor", len(self.vendors)), ("workload_kind", self.W * len(KINDS)),
                       ("precision", len(PRECISIONS)), ("numeric", 4), ("device", self.D), ("workload_device", self.W * self.D)]
        self.offsets = {}
        o = 0
        for name, k in self.blocks:
            self.offsets[name] = o
            o += k
        self.k = o
        self.scales = np.concatenate([np.full(k, SCALES[name]) for name, k in self.blocks])
        self.base_scales = self.scales.copy()
        self.years = np.asarray(dev["year"], dtype=float)
        self.pseudo = np.asarray(dev.get("pseudo", [0.0] * self.D), dtype=float) > 0
        self.support_info: dict = {}

    def set_support(self, wi: np.ndarray, di: np.ndarray) -> None:
        """Shrink group effects (kind, vendor, workload x kind) by how many distinct devices stand behind
        them: scale x n / (n + GROUP_SUPPORT_N0). SKUs of one vendor, kind and launch year count as one
        device (Qualcomm AI 100 Pro and Standard are one chip). An effect no row supports keeps its prior
        scale (its coefficient is 0 anyway)."""
        chip = {}
        key = lambda d: (("pseudo", d) if self.pseudo[d]  # noqa: E731
                         else (self.vendor_idx[d], self.kind_idx[d], self.years[d]))
        for d in range(self.D):
            chip.setdefault(key(d), len(chip))
        chip_of = np.array([chip[key(d)] for d in range(self.D)])
        scales = self.base_scales.copy()
        o = self.offsets
        K = len(self.kinds)
        info = {}
        groups = [("kind", lambda d, w: self.kind_idx[d], len(self.kinds)),
                  ("vendor", lambda d, w: self.vendor_idx[d], len(self.vendors)),
                  ("workload_kind", lambda d, w: w * K + self.kind_idx[d], self.W * K)]
        for name, key, size in groups:
            chips: dict[int, set] = {}
            for w, d in set(zip(np.asarray(wi).tolist(), np.asarray(di).tolist())):
                chips.setdefault(int(key(d, w)), set()).add(int(chip_of[d]))
            for j in range(size):
                nd = len(chips.get(j, ()))
                if nd:
                    scales[o[name] + j] *= nd / (nd + GROUP_SUPPORT_N0)
            if name == "kind":
                info["kind_devices"] = {self.kinds[j]: len(v) for j, v in chips.items()}
            elif name == "vendor":
                info["vendor_devices"] = {self.vendors[j]: len(v) for j, v in chips.items()}
        self.support_info = info
        self.scales = scales

    def matrix(self, w, d, p, s) -> np.ndarray:
        w, d, p, s = (np.asarray(x, dtype=int) for x in (w, d, p, s))
        n = len(w)
        X = np.zeros((n, self.k))
        r = np.arange(n)
        o = self.offsets
        X[r, o["workload"] + w] = 1
        X[r, o["server"] + w] = (s == 1)
        X[r, o["training"] + w] = (s == 2)
        X[r, o["kind"] + self.kind_idx[d]] = 1
        X[r, o["vendor"] + self.vendor_idx[d]] = 1
        X[r, o["workload_kind"] + w * len(KINDS) + self.kind_idx[d]] = 1
        X[r, o["precision"] + p] = 1
        X[:, o["numeric"]:o["numeric"] + 4] = self.num[d, p]
        X[r, o["device"] + d] = 1
        X[r, o["workload_device"] + w * self.D + d] = 1
        return X


def fit_performance_model(meas: pd.DataFrame | None, catalog: pd.DataFrame, workloads: pd.DataFrame,
                          data_hash: str = "") -> PerformanceModel:
    from hwplan.costmodel.estimators import ConformalRegressor, PowerCurve, ShrunkRidge

    meas, catalog, host_info = add_host_devices(meas, catalog)
    devices = list(catalog.index)
    dev = device_table(catalog)
    wl = workload_table(workloads, meas)
    W, D, P, S = len(wl["ids"]), len(devices), len(PRECISIONS), len(SCENARIOS)
    ec0, em0, comm, prior_info = _priors(meas, devices, dev)
    model = PerformanceModel(
        devices=devices, dev=dev, workloads=wl["ids"], wl=wl, eta=np.zeros((W, D, P, S)).tolist(),
        basis=np.full((W, D, S), 2, dtype=int).tolist(), basis_detail={}, interval=dict(DEFAULT_INTERVAL),
        ec0=ec0.tolist(), em0=em0.tolist(), comm_eff=comm.tolist(),
        power={"gamma": 1.0, "host": {}, "host_default": DEFAULT_HOST, "basis": "assumption: no power rows",
               "rows": 0},
        meta={"code_version": CODE_VERSION, "data_hash": data_hash, "priors": prior_info, "rows_used": 0,
              "scales": SCALES, "alpha": ALPHA, "host_devices": host_info},
    )
    rows = training_rows(meas, devices, wl)
    if len(rows):
        has_peak = np.isfinite(np.asarray(dev["peak"])[rows["di"], rows["pi"]])
        model.meta["rows_without_peak"] = rows.loc[~has_peak].groupby(["device", "precision"]).size().rename(
            "rows").reset_index().astype(str).to_dict("records")
        rows = rows[has_peak].reset_index(drop=True)
    design = Design(wl["ids"], devices, dev)
    eta = np.zeros((W, D, P, S))
    basis = np.full((W, D, S), 2, dtype=int)
    if len(rows):
        model.overhead = fit_overhead(rows, model)
        model._arrays = None
        ws, wm = row_scales(model, rows)
        rows["ws"], rows["wm"] = ws, wm
        base = evaluate(model, rows["wi"], rows["di"], rows["pi"], rows["b"], rows["n"], rows["si"], rows["phi"], eta_on=False,
                        work_scale=ws, bytes_scale=wm)
        ok = (base["throughput"] > 0) & np.isfinite(base["throughput"])
        ratio = rows["y_tp"].to_numpy() / np.where(ok, base["throughput"], 1.0)
        # the correction scales the roofline time only: measured batch time minus the fixed overhead
        t_meas = base["replicas"] * base["units_per_batch"] / np.maximum(rows["y_tp"].to_numpy(), 1e-30)
        t_meas_core = np.maximum(t_meas - base["overhead_s"], 0.2 * t_meas)
        with np.errstate(divide="ignore", invalid="ignore"):
            y_all = np.log(base["t_core_s"] / t_meas_core)
        plausible = (ratio < IMPLAUSIBLE_RATIO[1]) & (ratio > IMPLAUSIBLE_RATIO[0])
        model.meta["rows_left_out"] = {
            "setup does not fit device memory by the work model": int((~ok).sum()),
            f"implausible: outside {IMPLAUSIBLE_RATIO[0]:g}-{IMPLAUSIBLE_RATIO[1]:g} x the spec roofline": int((ok & ~plausible).sum()),
        }
        model.meta["implausible_rows"] = rows.loc[ok & ~plausible, ["run_id", "workload", "device", "throughput"]].astype(str).to_dict("records")[:20]
        ok = ok & plausible
        rows = rows[ok].reset_index(drop=True)
        y = y_all[ok]
        rows["y"] = y
        dup = rows.groupby(["run_id", "workload", "si", "phi", "b"])["y"].transform("size").to_numpy()
        sw = 1.0 / dup
        X = design.matrix(rows["wi"], rows["di"], rows["pi"], rows["si"])
        # Two stages. A measured host's peak is its own best gemm (not a spec sheet) and its rows ran
        # reduced shapes, so its rows must not move the workload, kind or vendor effects that catalog
        # devices share: stage 1 fits catalog-device rows only; stage 2 fits each pseudo-device's own
        # terms (device, workload x device, precision) on its rows, offset by what stage 1 predicts
        # for it (so it still inherits the workload and kind effects learnt elsewhere).
        is_ps = (np.asarray(dev["pseudo"]) > 0)[rows["di"].to_numpy()]
        real = ~is_ps if (~is_ps).any() else np.ones(len(rows), dtype=bool)
        design.set_support(rows["wi"].to_numpy()[real], rows["di"].to_numpy()[real])
        model.meta["group_support"] = design.support_info
        reg = ShrunkRidge(alpha=ALPHA, column_scales=design.scales).fit(X[real], y[real], sample_weight=sw[real])
        # eta for every combination
        gw, gd, gp, gs = np.meshgrid(np.arange(W), np.arange(D), np.arange(P), np.arange(S), indexing="ij")
        Xall = design.matrix(gw.ravel(), gd.ravel(), gp.ravel(), gs.ravel())
        eta = reg.predict(Xall).reshape(W, D, P, S)
        o = design.offsets
        stage2 = {}
        for di in (np.unique(rows["di"].to_numpy()[is_ps]) if real.sum() < len(rows) or not is_ps.any() else []):
            mine = is_ps & (rows["di"].to_numpy() == di)
            sc = np.zeros(design.k)
            sc[o["device"]:o["device"] + D] = SCALES["device"]
            sc[o["workload_device"]:o["workload_device"] + W * D] = SCALES["workload_device"]
            sc[o["precision"]:o["precision"] + P] = SCALES["precision"]
            r2 = ShrunkRidge(alpha=ALPHA, column_scales=sc, fit_intercept=False).fit(
                X[mine], y[mine] - reg.predict(X[mine]), sample_weight=sw[mine])
            sel = gd.ravel() == di
            eta[:, di] += r2.predict(Xall[sel]).reshape(W, P, S)
            stage2[devices[di]] = {"rows": int(mine.sum()), "device_effect": float(r2.coef_[o["device"] + di]),
                                   "rmse_log": float(np.sqrt(np.average((reg.predict(X[mine]) + r2.predict(X[mine])
                                                                          - y[mine]) ** 2, weights=sw[mine])))}
        model.meta["host_stage2"] = stage2
        # a workload never measured keeps only the effects learnt from other workloads (its own terms are 0)
        # basis
        seen_wds = set(zip(rows["wi"], rows["di"], rows["si"]))
        seen_ws = set(zip(rows["wi"], rows["si"]))
        seen_wd = set(zip(rows["wi"], rows["di"]))
        seen_w = set(rows["wi"])
        pseudo = np.asarray(dev["pseudo"]) > 0
        for wi in range(W):
            for si in range(S):
                for di in range(D):
                    if (wi, di, si) in seen_wds:
                        basis[wi, di, si] = 0
                    elif ((wi, si) in seen_ws or (wi, di) in seen_wd or (wi in seen_w and si < 2)
                          or pseudo[di]):
                        # a measured host's "specs" are its own micro-benchmarks, and its efficiency is
                        # learnt from its own rows: calibrated, never spec-sheet roofline
                        basis[wi, di, si] = 1
        for (wi, di, si), grp in rows.groupby(["wi", "di", "si"]):
            srcs = grp["source"].value_counts().to_dict()
            model.basis_detail[f"{wl['ids'][wi]}|{devices[di]}|{SCENARIOS[si]}"] = (
                f"{len(grp)} row(s) of this workload on this device ({', '.join(f'{v} {k}' for k, v in srcs.items())}), "
                f"median measured {number(np.median(grp['y_tp']))} at device_count {int(np.median(grp['n']))}")
        # conformal intervals: measured (folds by run), calibrated (leave devices out), roofline (leave workloads out)
        interval = dict(DEFAULT_INTERVAL)
        est = ShrunkRidge(alpha=ALPHA, column_scales=design.scales)
        for name, groups in (("measured", rows["run_id"].to_numpy()), ("calibrated", rows["di"].to_numpy()),
                             ("roofline", rows["wi"].to_numpy())):
            if real.sum() >= MIN_ROWS_FOR_INTERVAL and len(np.unique(groups[real])) >= 3:
                cr = ConformalRegressor(est, coverage=0.8, n_splits=5).fit(X[real], y[real], groups=groups[real],
                                                                            sample_weight=sw[real])
                interval[name] = [float(cr.quantiles_[0]), float(cr.quantiles_[1])]
        # never narrower than the basis below it claims to be better than
        interval["calibrated"] = [min(interval["calibrated"][0], interval["measured"][0]),
                                  max(interval["calibrated"][1], interval["measured"][1])]
        interval["roofline"] = [min(interval["roofline"][0], interval["calibrated"][0]),
                                max(interval["roofline"][1], interval["calibrated"][1])]
        model.interval = interval
        model.meta.update(rows_used=int(len(rows)),
                          train_rmse_log=float(np.sqrt(np.average((reg.predict(X[real]) - y[real]) ** 2, weights=sw[real]))),
                          intercept=float(reg.intercept_),
                          workload_effect={wl["ids"][i]: float(reg.coef_[design.offsets["workload"] + i]) for i in range(W)},
                          sources=rows["source"].value_counts().to_dict())
    model.eta = eta.tolist()
    model.basis = basis.tolist()
    model._arrays = None
    # ---- power ---------------------------------------------------------------------------
    if len(rows) and "power_avg_w" in rows:
        est = (rows["energy_method"].astype("string").fillna("").isin(ESTIMATED_ENERGY_METHODS).to_numpy()
               if "energy_method" in rows else np.zeros(len(rows), dtype=bool))
        pr = rows[rows["power_avg_w"].notna() & (rows["si"] == 0) & ~est].copy()
        if len(pr):
            ev = evaluate(model, pr["wi"], pr["di"], pr["pi"], pr["b"], pr["n"], pr["si"], pr["phi"])
            idle = np.asarray(dev["idle_w"])[pr["di"]]
            board = np.asarray(dev["board_w"])[pr["di"]]
            Xp = np.column_stack([idle, board, ev["util"], pr["n"].to_numpy()])
            yp = pr["power_avg_w"].astype(float).to_numpy()
            good = np.isfinite(Xp).all(axis=1) & (yp > 0)
            scope = pr["power_scope"].astype(str).to_numpy()
            sysrows = good & (scope == "system")
            if good.sum() >= 3:
                pc = PowerCurve().fit(Xp[good], yp[good])
                host = {}
                for k in KINDS:
                    kk = sysrows & (np.array([dev["kind"][i] for i in pr["di"]]) == k)
                    if kk.sum() >= 3:
                        host[k] = float(PowerCurve(gammas=(pc.gamma_,)).fit(Xp[kk], yp[kk]).host_)
                host_default = float(pc.host_) if sysrows.any() else 0.0
                model.power = {"gamma": float(pc.gamma_), "host": host, "host_default": host_default, "rows": int(good.sum()),
                               "rmse_log": float(np.sqrt(pc.mse_log_)),
                               "basis": f"fitted on {int(good.sum())} measured power row(s) "
                                        f"({int(sysrows.sum())} system wall power from MLPerf Power); "
                                        f"gamma {pc.gamma_:.2f}, host share {host_default:.2f}"}
    model._arrays = None
    return model
