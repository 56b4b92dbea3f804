"""Device facts for the model: the catalog as arrays in SI units (missing facts imputed and flagged), and
measured hosts that are not in the catalog as pseudo-devices whose "specs" are their own micro-benchmarks."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from hwplan.core.vocab import DEVICE_KINDS, PEAK_COLUMN, PRECISIONS, TOPOLOGIES

PCIE_FALLBACK_BPS = 32e9        # PCIe Gen4 x16, one direction, when the catalog has no interconnect
SCALEOUT_FALLBACK_BPS = 50e9    # 400 Gb/s per device, one direction, when the catalog gives no scale-out figure
CPU_MEMORY_FALLBACK_B = 512e9   # host memory of a CPU socket when the catalog leaves it blank
DEFAULT_IDLE_FRACTION = 0.2     # idle power as a fraction of board power when the catalog leaves it blank (assumption)
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
    info: dict = {}
    if meas is None or not len(meas) or "device" not in meas:
        return meas, catalog, info
    known = set(map(str, catalog.index))
    dev = meas["device"].astype("string").fillna("").astype(str)
    unknown = ~dev.isin(known)
    if not unknown.any():
        return meas, catalog, info
    col = lambda c: (meas[c].astype("string").fillna("").astype(str) if c in meas
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
        if not g.any() or kind not in DEVICE_KINDS:
            info.setdefault("skipped", {})[hid] = ("no ok gemm row (no measured peak)" if not g.any()
                                                   else f"device_kind '{kind}' is not one of {', '.join(DEVICE_KINDS)}")
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
        r: dict[str, Any] = dict.fromkeys(catalog.columns, np.nan)
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
        catalog = pd.concat([cat, extra[list(cat.columns)]])
        catalog["pseudo"] = catalog["pseudo"].fillna(False).astype(bool)
    return meas, catalog, info


def _price_basis(r) -> str:
    """Where a device's cloud price comes from: 'aws p5.48xlarge, us-east-1, 2026-01-21 (data/prices.csv)'."""
    v = r.get("cloud_usd_per_hour")
    try:
        ok = np.isfinite(float(v))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        return ""
    when = str(r.get("cloud_price_date") or "") or "undated"
    stale = " (stale)" if bool(r.get("cloud_price_stale")) is True else ""
    return (f"{r.get('cloud_provider', '')} {r.get('cloud_instance', '')}, {r.get('cloud_region', '')}, {when}{stale} "
            "(data/prices.csv, median-provider rule)")


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
    # one direction: the catalog's link_gbs_per_direction, else half the interconnect_gbs total (vendors quote
    # both directions together, e.g. NVLink4 900 GB/s = 450 GB/s each way)
    col = lambda c: (cat[c].astype(float).to_numpy() if c in cat else np.full(D, np.nan))
    link = col("link_gbs_per_direction") * 1e9
    link = np.where(np.isfinite(link) & (link > 0), link, col("interconnect_gbs") * 1e9 / 2)
    pcie = col("pcie_gbs_per_direction") * 1e9
    pcie = np.where(np.isfinite(pcie) & (pcie > 0), pcie, PCIE_FALLBACK_BPS)
    ic_imputed = ~np.isfinite(link) | (link <= 0)
    ic = np.where(ic_imputed, pcie, link)
    topo_raw = (cat["topology"].astype("string").fillna("").astype(str).tolist() if "topology" in cat else [""] * D)
    topology = np.array([TOPOLOGIES.index(t) if t in TOPOLOGIES else
                         (TOPOLOGIES.index("pcie") if imp else TOPOLOGIES.index("switch"))
                         for t, imp in zip(topo_raw, ic_imputed)], dtype=float)
    per_node = col("devices_per_node")
    per_node = np.where(np.isfinite(per_node) & (per_node >= 1), per_node, np.where(np.array(kind) == "cpu", 2, 8))
    scaleup = col("scaleup_domain")
    scaleup = np.where(np.isfinite(scaleup) & (scaleup >= 1), scaleup, per_node)
    scaleout = col("scaleout_gbs_per_direction") * 1e9
    scaleout = np.where(np.isfinite(scaleout) & (scaleout > 0), scaleout, SCALEOUT_FALLBACK_BPS)
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
        "price_usd": cat["price_usd"].astype(float).tolist(),
        "cloud_usd_per_hour": cat["cloud_usd_per_hour"].astype(float).tolist(),
        "price_basis": [_price_basis(r) for _, r in cat.iterrows()],
        "price_stale": [float(r.get("cloud_price_stale") is True or r.get("cloud_price_stale") == True)  # noqa: E712
                        for _, r in cat.iterrows()],
        "kind": kind, "vendor": cat["vendor"].astype(str).str.lower().tolist(),
        "board_imputed": board_imputed.astype(float).tolist(), "idle_imputed": idle_imputed.astype(float).tolist(),
        "ic_imputed": ic_imputed.astype(float).tolist(), "mem_imputed": mem_imputed.astype(float).tolist(),
        "pseudo": pseudo.astype(float).tolist(),
        "link": ic.tolist(), "pcie": pcie.tolist(), "topology": topology.tolist(), "per_node": per_node.tolist(),
        "scaleup": scaleup.tolist(), "scaleout": scaleout.tolist(),
    }
