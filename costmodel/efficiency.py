"""What the efficiency fit is made of: the regression design (per workload, device, kind, vendor, precision
and generation, with prior scales that shrink sparse effects), efficiency priors from micro-benchmarks,
and the fixed per-batch overhead fitted from batch sweeps."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from hwplan.core.vocab import DEVICE_KINDS, PRECISIONS
from hwplan.costmodel.evaluate import OVERHEAD_PRIOR_BASIS, overhead_per_pass

DEFAULT_EC0 = 0.7        # matmul efficiency prior when no gemm row exists for the device or its kind (assumption)
DEFAULT_EM0 = 0.8        # achievable fraction of spec memory bandwidth (assumption; STREAM-like copies reach 80-90%)
DEFAULT_COMM = 0.7       # achievable fraction of spec interconnect bandwidth (assumption; nccl-tests bus bw)
# Prior scales of the hierarchical efficiency regression (bigger = weaker shrinkage).
SCALES = {"workload": 3.0, "server": 1.0, "training": 1.0, "kind": 1.0, "vendor": 0.5, "workload_kind": 0.5,
          "precision": 0.5, "numeric": 0.3, "device": 0.5, "workload_device": 0.3}
# A group effect (kind, vendor, workload x kind) backed by n distinct devices keeps n / (n + N0) of
# its prior scale: one device -> 1/4 (its deviation stays mostly with the device), ten -> 0.77.
GROUP_SUPPORT_N0 = 3.0
# Per-batch overhead from rows with batch sweeps: at least this many distinct batch sizes per group.
OVERHEAD_MIN_BATCHES = 3
KINDS = DEVICE_KINDS


def priors(meas: pd.DataFrame | None, devices: list[str], dev: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Compute, memory and communication efficiency priors from gemm / membw / allreduce rows."""
    D = len(devices)
    peak = np.asarray(dev["peak"], dtype=float)
    kinds = np.array(dev["kind"])
    info: dict[str, Any] = {"gemm_rows": 0, "membw_rows": 0, "allreduce_rows": 0}
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


def fit_overhead(rows: pd.DataFrame, model, min_batches: int = OVERHEAD_MIN_BATCHES) -> dict:
    """Per-device factor on the kind's fixed-overhead prior, from rows that sweep the batch and record
    latency (today: the profiler's rows). For each (run, workload, device, precision, phase) with at
    least OVERHEAD_MIN_BATCHES batch sizes, latency_p50 = o + b x tau is fitted by least squares; the
    device's factor is the median of o / prior over its groups (clipped to 0.05-20). Other devices keep
    the prior (factor 1)."""
    D = len(model.devices_)
    mult = np.ones(D)
    out = {"mult": mult.tolist(), "basis": "prior by kind (" + OVERHEAD_PRIOR_BASIS + ")", "fitted": {}}
    if not len(rows) or "latency_p50_s" not in rows:
        return out
    r = rows.copy()
    r["lat"] = pd.to_numeric(r["latency_p50_s"], errors="coerce")
    r = r[(r["lat"] > 0) & (r["b"] > 0) & (r["si"] != 2)
          & ~((np.asarray(model.wl_["is_llm"])[r["wi"].to_numpy()] > 0) & (r["phi"].to_numpy() == 0))]
    ratios: dict[int, list[float]] = {}
    if "backend" not in r:
        r["backend"] = ""
    r["backend"] = r["backend"].astype("string").fillna("").astype(str)
    for (_, _, wi, di, _, _), grp in r.groupby(["run_id", "backend", "wi", "di", "pi", "phi"]):
        if grp["b"].nunique() < min_batches:
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
        fitted[model.devices_[di]] = {"factor": float(mult[di]), "groups": len(v)}
    if fitted:
        names = ", ".join("{} x{:.2f}".format(k, v["factor"]) for k, v in fitted.items())
        out["basis"] = (f"fitted from batch sweeps with latency on {len(fitted)} device(s) ({names}); "
                        "others: prior by kind (" + OVERHEAD_PRIOR_BASIS + ")")
    out["mult"] = mult.tolist()
    out["fitted"] = fitted
    return out


class Design:
    """Feature columns of the efficiency regression for (workload, device, precision, scenario)."""

    def __init__(self, workloads: list[str], devices: list[str], dev: dict, scales: dict | None = None,
                 support_n0: float = GROUP_SUPPORT_N0):
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
        prior = SCALES if scales is None else scales
        self.support_n0 = support_n0
        self.scales = np.concatenate([np.full(k, prior[name]) for name, k in self.blocks])
        self.base_scales = self.scales.copy()
        self.years = np.asarray(dev["year"], dtype=float)
        self.pseudo = np.asarray(dev.get("pseudo", [0.0] * self.D), dtype=float) > 0
        self.support_info: dict = {}

    def set_support(self, wi: np.ndarray, di: np.ndarray) -> None:
        """Shrink group effects (kind, vendor, workload x kind) by how many distinct devices stand behind
        them: scale x n / (n + support_n0). SKUs of one vendor, kind and launch year count as one
        device (Qualcomm AI 100 Pro and Standard are one chip). An effect no row supports keeps its prior
        scale (its coefficient is 0 anyway)."""
        chip: dict[tuple, int] = {}

        def chip_key(d: int) -> tuple:
            return ("pseudo", d) if self.pseudo[d] else (self.vendor_idx[d], self.kind_idx[d], self.years[d])

        for d in range(self.D):
            chip.setdefault(chip_key(d), len(chip))
        chip_of = np.array([chip[chip_key(d)] for d in range(self.D)])
        scales = self.base_scales.copy()
        o = self.offsets
        K = len(self.kinds)
        info: dict[str, dict] = {}
        groups = [("kind", lambda d, w: self.kind_idx[d], len(self.kinds)),
                  ("vendor", lambda d, w: self.vendor_idx[d], len(self.vendors)),
                  ("workload_kind", lambda d, w: w * K + self.kind_idx[d], self.W * K)]
        for name, group_of, size in groups:
            chips: dict[int, set] = {}
            for w, d in set(zip(np.asarray(wi).tolist(), np.asarray(di).tolist())):
                chips.setdefault(int(group_of(d, w)), set()).add(int(chip_of[d]))
            for j in range(size):
                nd = len(chips.get(j, ()))
                if nd:
                    scales[o[name] + j] *= nd / (nd + self.support_n0)
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
