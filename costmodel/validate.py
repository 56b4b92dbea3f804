"""`hwplan validate`: fit on one part of the data, predict the rest, report errors honestly.

Splits: MLPerf Inference v3.0 -> v3.1 (time split), leave one device out (every device with
published rows), and the CPU rows the profiler measured: leave one workload out per measured host
(its other workloads' rows, its micro-benchmarks and every published row stay in training). A host
that is not in the catalog is a pseudo-device whose specs come from its own micro-benchmarks
(hwplan.costmodel.specs.add_host_devices), for the fitted model and for the spec roofline alike. Each held-out
prediction is compared with the fitted model and with a plain spec-sheet roofline (catalog peaks
and bandwidth at fixed efficiencies, nothing fitted). Nothing here tunes on the held-out rows.
"""

from __future__ import annotations

import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hwplan.core.catalog import load_catalog, load_workloads
from hwplan.core.vocab import BASES, MICRO_BENCHMARKS
from hwplan.costmodel import CODE_VERSION
from hwplan.costmodel.evaluate import Evaluation, evaluate
from hwplan.costmodel.performance import PerformanceModel, spec_roofline
from hwplan.costmodel.rows import row_scales, training_rows
from hwplan.costmodel.specs import add_host_devices

TARGETS = {"median_ape": 0.20, "p90_ape": 0.50, "coverage_low": 0.70, "coverage_high": 0.90}


def _round(run_id: pd.Series) -> pd.Series:
    return run_id.astype(str).str.extract(r"mlperf-inference-(v\d+\.\d+)", expand=False).fillna("")


def _predict_rows(model, rows: pd.DataFrame, eta_on: bool = True) -> Evaluation:
    """Predictions at each row's setup, with the row's own FLOP count where it gives one."""
    ws, wm = row_scales(model, rows)
    return evaluate(model, rows["wi"], rows["di"], rows["pi"], rows["b"], rows["n"], rows["si"], rows["phi"],
                    eta_on=eta_on, work_scale=ws, bytes_scale=wm)


def _held_out(split: str, train: pd.DataFrame, test: pd.DataFrame, catalog, workloads, spec) -> pd.DataFrame:
    model = PerformanceModel(catalog=catalog, workloads=workloads).fit(train)
    rows = training_rows(test, model.devices_, model.wl_)
    if len(rows) == 0:
        return pd.DataFrame()
    ev = _predict_rows(model, rows)
    ev0 = _predict_rows(spec, rows, eta_on=False)
    out = pd.DataFrame({
        "split": split, "workload": rows["workload"], "device": rows["device"], "device_kind": rows["device_kind"].astype(str),
        "scenario": np.where(rows["si"] == 1, "server", np.where(rows["si"] == 2, "training", "offline")),
        "source": rows["source"], "actual": rows["y_tp"], "pred": ev.throughput, "low": ev.low, "high": ev.high,
        "basis": [BASES[i] for i in ev.basis], "spec": ev0.throughput, "precision": rows["precision"],
        "batch_size": rows["batch_size"], "phase": rows["phase"], "backend": rows.get("backend", ""),
    })
    out["why_dropped"] = np.where(~np.isfinite(np.asarray(model.arrays_["peak"])[rows["di"], rows["pi"]]),
                                  "no peak for the precision", np.where(ev.fits, "", "does not fit memory"))
    out["predicted"] = (out["pred"] > 0) & np.isfinite(out["pred"])
    out["ape"] = np.abs(out["pred"] / out["actual"] - 1)
    out["spec_ape"] = np.abs(out["spec"] / out["actual"] - 1)
    out["covered"] = (out["actual"] >= out["low"]) & (out["actual"] <= out["high"])
    return out


def run_validation(meas: pd.DataFrame, catalog: pd.DataFrame | None = None, workloads: pd.DataFrame | None = None,
                   max_devices: int | None = None) -> dict:
    t0 = time.perf_counter()
    cat = load_catalog() if catalog is None else catalog
    wls = load_workloads() if workloads is None else workloads
    # measured hosts outside the catalog become pseudo-devices (specs from their micro-benchmarks, which
    # are never held out), so that every split, and the spec roofline, sees the same device list
    meas, cat, host_info = add_host_devices(meas, cat)
    spec = spec_roofline(cat, wls)
    meas = meas.copy()
    meas["_round"] = _round(meas["run_id"])
    results = []
    # 1. MLPerf v3.0 -> v3.1
    v31 = (meas["source"].astype(str) == "published") & (meas["_round"] == "v3.1")
    if v31.any():
        results.append(_held_out("MLPerf v3.0 -> v3.1", meas[~v31], meas[v31], cat, wls, spec))
    # 2. leave one device out (published MLPerf rows of that device held out, everything else kept)
    pub = (meas["source"].astype(str) == "published") & (meas["_round"] != "")
    devices = sorted(meas.loc[pub, "device"].astype(str).unique())
    if max_devices:
        devices = devices[:max_devices]
    for dev in devices:
        hold = meas["device"].astype(str) == dev
        results.append(_held_out("leave one device out", meas[~hold], meas[hold & pub], cat, wls, spec))
    # 3. CPU rows the profiler measured
    # (leave one workload out per host: each model workload's rows on that host held out in turn)
    prof_cpu = (meas["source"].astype(str) == "profiler") & (meas["device_kind"].astype(str) == "cpu")
    n_prof = int(prof_cpu.sum())
    prof_model = prof_cpu & (meas["status"].astype(str) == "ok") & ~meas["workload"].astype(str).isin(MICRO_BENCHMARKS)
    prof_note = ""
    prof_res = []
    for (dev, wl), _ in meas[prof_model].groupby([meas["device"].astype(str), meas["workload"].astype(str)]):
        hold = prof_model & (meas["device"].astype(str) == dev) & (meas["workload"].astype(str) == wl)
        prof_res.append(_held_out("profiler CPU rows", meas[~hold], meas[hold], cat, wls, spec))
    results += prof_res
    pr = pd.concat([r for r in prof_res if len(r)], ignore_index=True) if any(len(r) for r in prof_res) else pd.DataFrame()
    n_pred = int(pr["predicted"].sum()) if len(pr) else 0
    dropped = pr[~pr["predicted"]] if len(pr) else pr
    n_model = int(prof_model.sum())
    if n_prof and not n_pred:
        devs = sorted(meas.loc[prof_cpu, "device"].astype(str).unique())
        prof_note = (f"profiler CPU rows: {n_prof} in the store, none usable (device {', '.join(devs)} is not a "
                     "catalog id and has no gemm row for a measured peak, or the rows failed); split skipped")
    elif n_prof:
        why = (dropped.groupby(["why_dropped", "precision"]).size().to_dict() if len(dropped) else {})
        left = n_model - n_pred
        prof_note = (f"profiler CPU rows: {n_prof} in the store ({n_prof - n_model} micro-benchmark or failed rows "
                     f"used for specs only), {n_model} model-workload rows held out one workload at a time, {n_pred} "
                     "predicted" + (f"; {left} not predicted (" + ", ".join(f"{k[0]} {k[1]}: {v}" for k, v in why.items())
                                    + (f", other: {left - sum(why.values())}" if left - sum(why.values()) else "")
                                    + ")" if left else ""))
    allres = pd.concat([r for r in results if len(r)], ignore_index=True) if any(len(r) for r in results) else pd.DataFrame()
    if len(allres):
        allres = allres[allres["predicted"]].reset_index(drop=True)
    report: dict[str, Any] = {"generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "code_version": CODE_VERSION,
              "rows_in_store": len(meas), "profiler_cpu_rows": n_prof, "targets": TARGETS,
              "seconds": None, "splits": {}, "python": platform.python_version()}
    lines = []
    if len(allres):
        for split, grp in allres.groupby("split", sort=False):
            report["splits"][split] = {
                "overall": _metrics(grp),
                "by_workload": {k: _metrics(g) for k, g in grp.groupby("workload")},
                "by_kind": {k: _metrics(g) for k, g in grp.groupby("device_kind")},
                "by_basis": {k: _metrics(g) for k, g in grp.groupby("basis")},
            }
            o = report["splits"][split]["overall"]
            lines.append(f"{split}: n={o['n']}, median APE {o['median_ape']:.1%} (spec roofline {o['spec_median_ape']:.1%}), "
                         f"p90 {o['p90_ape']:.1%} (spec {o['spec_p90_ape']:.1%}), 80% interval coverage {o['coverage']:.1%}"
                         f" -> {'meets' if o['meets_targets'] else 'MISSES'} targets")
    if not n_prof:
        lines.append("profiler CPU rows: none in the store yet (data/measured/*.csv); split skipped")
    elif prof_note:
        lines.append(prof_note)
    report["host_devices"] = host_info.get("devices", {})
    report["summary_lines"] = lines
    report["seconds"] = round(time.perf_counter() - t0, 1)
    report["_rows"] = allres
    return report


def _metrics(g: pd.DataFrame) -> dict:
    ape, sape = g["ape"].to_numpy(), g["spec_ape"].to_numpy()
    med, p90 = float(np.median(ape)), float(np.quantile(ape, 0.9))
    cov = float(g["covered"].mean())
    return {"n": len(g), "median_ape": med, "p90_ape": p90, "coverage": cov,
            "spec_median_ape": float(np.median(sape)), "spec_p90_ape": float(np.quantile(sape, 0.9)),
            "meets_targets": bool(med <= TARGETS["median_ape"] and p90 <= TARGETS["p90_ape"]
                                  and TARGETS["coverage_low"] <= cov <= TARGETS["coverage_high"])}


def _table(d: dict, key: str) -> list[str]:
    out = [f"| {key} | n | median APE | p90 APE | 80% coverage | spec-roofline median | spec-roofline p90 | targets |",
           "|---|---:|---:|---:|---:|---:|---:|---|"]
    for k, m in d.items():
        out.append(f"| {k} | {m['n']} | {m['median_ape']:.1%} | {m['p90_ape']:.1%} | {m['coverage']:.0%} | "
                   f"{m['spec_median_ape']:.0%} | {m['spec_p90_ape']:.0%} | {'met' if m['meets_targets'] else 'missed'} |")
    return out


def write_markdown(report: dict, path: str | Path) -> None:
    t = report["targets"]
    L = ["# Prediction accuracy", "",
         f"Generated by `hwplan validate` ({report['code_version']}) at {report['generated_at']} from "
         f"{report['rows_in_store']} rows in the store, in {report['seconds']} s. Do not edit by hand.", "",
         f"Targets: median absolute percentage error (APE) <= {t['median_ape']:.0%}, p90 APE <= {t['p90_ape']:.0%}, "
         f"80% intervals covering {t['coverage_low']:.0%}-{t['coverage_high']:.0%} of held-out results.", "",
         "Each split fits the model on the training part only and predicts the held-out rows (whole-setup throughput, "
         "at the row's device count and scenario). *spec-roofline* is the same roofline from catalog peaks and "
         "bandwidth at fixed efficiencies (70% compute, 80% memory) with nothing fitted: the gap shows what fitting buys.",
         "", "## Summary", ""]
    for line in report["summary_lines"]:
        L.append(f"- {line}")
    for split, s in report["splits"].items():
        o = s["overall"]
        gain = o["spec_median_ape"] / o["median_ape"] if o["median_ape"] > 0 else float("inf")
        L += ["", f"## {split}", "",
              f"Overall: n={o['n']}, median APE {o['median_ape']:.1%}, p90 APE {o['p90_ape']:.1%}, coverage "
              f"{o['coverage']:.0%}; the plain spec-sheet roofline has median {o['spec_median_ape']:.0%} and p90 "
              f"{o['spec_p90_ape']:.0%}: fitting cuts the median error {gain:.1f}x.", "",
              "### By workload", ""] + _table(s["by_workload"], "workload") + \
             ["", "### By device kind", ""] + _table(s["by_kind"], "kind") + \
             ["", "### By basis of the prediction", ""] + _table(s["by_basis"], "basis")
    L += ["", "## Notes", "",
          "- MLPerf results are whole-system throughput; precision is assumed (MLPerf does not publish it), see "
          "hwplan/published.py. GPT-J v3.1 rows are samples/s and are compared as out_len x samples/s tokens/s.",
          "- Workloads absent from the training part (dlrm-v2 and gpt-j appear only in v3.1) are predicted on the "
          "`roofline` basis, from catalog specs and efficiencies learnt on other workloads.",
          "- MLPerf rounds after v3.1 are not used anywhere.",
          f"- Profiler CPU rows in the store: {report['profiler_cpu_rows']}" +
          ("" if report["profiler_cpu_rows"] else " (split skipped until data/measured/*.csv has CPU rows).")]
    for hid, h in report.get("host_devices", {}).items():
        pk = ", ".join(f"{p} {v / 1e9:.0f} GFLOP/s" for p, v in h["peak_flops"].items())
        L.append(f"- `{hid}` ({h['device_name']} on host '{h['host']}', not in the catalog) is a pseudo-device: its "
                 f"peak is the best gemm it measured ({pk}; *measured-peak*, no other precision), its memory "
                 f"bandwidth its largest-buffer membw copy ({h['mem_bw_bps'] / 1e9:.1f} GB/s). The spec roofline "
                 "for its rows uses these figures at the same fixed efficiencies (70% / 80%). Its rows are predicted at "
                 "their own batch size, precision and FLOPs per unit (the profiler's count for the reduced shape it ran).")
    L.append("")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(L))
