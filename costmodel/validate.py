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
# LLM serving (issue 10): held-out output tokens/s of published serving rows
LLM_TARGETS = {"median_ape": 0.15, "p90_ape": 0.35, "coverage_low": 0.70, "coverage_high": 0.90}
LLM_SPLITS = ("LLM: leave one device out", "LLM: leave one source out")
# system wall power (issue 12): held-out MLPerf Power rows, leave one system out
POWER_TARGETS = {"median_ape": 0.10}
POWER_SPLIT = "power: leave one system out"
NO_TRAINING_ROWS = pd.DataFrame()  # the inference splits' fits skip the training model (it has splits of its own)


def _round(run_id: pd.Series) -> pd.Series:
    return run_id.astype(str).str.extract(r"mlperf-inference-(v\d+\.\d+)", expand=False).fillna("")


def _predict_rows(model, rows: pd.DataFrame, eta_on: bool = True) -> Evaluation:
    """Predictions at each row's setup, with the row's own FLOP count where it gives one."""
    ws, wm = row_scales(model, rows)
    return evaluate(model, rows["wi"], rows["di"], rows["pi"], rows["b"], rows["n"], rows["si"], rows["phi"],
                    eta_on=eta_on, work_scale=ws, bytes_scale=wm)


def _held_out(split: str, train: pd.DataFrame, test: pd.DataFrame, catalog, workloads, spec) -> pd.DataFrame:
    # the LLM serving intervals are not needed here (LLM serving rows have their own splits, llm_held_out)
    model = PerformanceModel(catalog=catalog, workloads=workloads, llm_intervals=False,
                             training_rows=NO_TRAINING_ROWS).fit(train)
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


def _llm_source(rows: pd.DataFrame) -> np.ndarray:
    """The publication a serving row comes from: its table and software version (run_id), an MLPerf round."""
    run = rows["run_id"].astype(str)
    return np.where(run.str.startswith("mlperf-inference"), "MLPerf " + _round(run), run).astype(str)


def llm_held_out(meas: pd.DataFrame, catalog, workloads, max_folds: int | None = None) -> pd.DataFrame:
    """LLM serving splits: the serving efficiencies are refitted without one device's (one source's) serving rows,
    intervals included, and those rows are predicted at their own shape, layout and concurrency. The rest of the
    model (non-LLM efficiencies, power) is fitted once: it never reads serving rows."""
    import copy

    from hwplan.costmodel.llmfit import fit_llm, predict_rows, serving_rows

    base = PerformanceModel(catalog=catalog, workloads=workloads, llm_intervals=False,
                             training_rows=NO_TRAINING_ROWS).fit(meas)
    rows = training_rows(meas, base.devices_, base.wl_)
    if not len(rows):
        return pd.DataFrame()
    rows = rows[serving_rows(rows, base.wl_)].reset_index(drop=True)
    if not len(rows):
        return pd.DataFrame()
    spec = copy.copy(base)
    spec.llm_ = {}
    spec._arrays = None
    spec.llm_ = fit_llm(spec, rows.iloc[:0])  # priors only: the serving model at its prior efficiencies
    spec._arrays = None
    spec_pred = predict_rows(spec, rows)["pred"].to_numpy()
    out = []
    for split, key in zip(LLM_SPLITS, (rows["device"].astype(str).to_numpy(), _llm_source(rows))):
        for k in sorted(set(key))[:max_folds]:
            hold = key == k
            m = copy.copy(base)
            m.llm_ = {}  # nothing of the full fit (which saw the held-out rows) may choose the training layouts
            m._arrays = None
            m.llm_ = fit_llm(m, rows[~hold])
            m._arrays = None
            test = rows[hold].reset_index(drop=True)
            pr = predict_rows(m, test)
            f = pd.DataFrame({
                "split": split, "workload": test["workload"], "device": test["device"],
                "device_kind": test["device_kind"].astype(str),
                "scenario": np.where(test["si"] == 1, "server", "offline"), "source": _llm_source(test),
                "actual": test["y_tp"], "pred": pr["pred"], "low": pr["low"], "high": pr["high"],
                "basis": [BASES[i] for i in pr["basis"]], "spec": spec_pred[hold], "precision": test["precision"],
                "batch_size": test["conc"], "phase": "", "backend": test.get("backend", ""),
                "ceiling": pr["ceiling"], "capacity": pr["capacity"], "in_len": test["in_len"], "out_len": test["out_len"],
                "ttft_actual": test["ttft50"], "ttft_pred": pr["ttft50"], "tpot_actual": test["tpot50"],
                "tpot_pred": pr["tpot50"]})
            f["why_dropped"] = np.where(pr["fits"], "", "does not fit memory by the serving model")
            out.append(f)
    res = pd.concat(out, ignore_index=True)
    res["predicted"] = (res["pred"] > 0) & np.isfinite(res["pred"])
    res["ape"] = np.abs(res["pred"] / res["actual"] - 1)
    res["spec_ape"] = np.abs(res["spec"] / res["actual"] - 1)
    res["covered"] = (res["actual"] >= res["low"]) & (res["actual"] <= res["high"])
    res["above_ceiling"] = res["actual"] > res["ceiling"] * (1 + 1e-9)
    return res


def _power_prediction(model, rows: pd.DataFrame) -> pd.DataFrame:
    """Wall power of power rows (power_rows output) by `model`: at each row's own operating point (MaxQ cap),
    nodes and host CPUs (from its notes), the utilisation the throughput model gives."""
    from hwplan.costmodel import power
    from hwplan.costmodel.performance import power_design

    ev = _predict_rows(model, rows)
    X, good = power_design(model, rows, ev.util)
    st = model.power_
    kinds = [model.dev_["kind"][i] for i in rows["di"]]
    devices = [model.devices_[i] for i in rows["di"]]
    host = power.node_host_w(st, devices, kinds, cores=X[:, 8])
    cap = power.cap_fraction(st, kinds, X[:, 5] > 0)
    wall, dev, _idle = power.system_power(st["gamma"], st["host_idle_frac"], X[:, 1], X[:, 0], X[:, 2], X[:, 3],
                                          X[:, 4], host, cap)
    return pd.DataFrame({"pred": np.where(good, wall, np.nan), "device_pred": np.where(good, dev, np.nan),
                         "util": X[:, 2], "capped": X[:, 5] > 0, "nodes": X[:, 4], "host_w": host, "cap_frac": cap})


def _old_power(train: pd.DataFrame, test: pd.DataFrame, model) -> np.ndarray:
    """The previous model's wall power (n (idle + (board - idle) u^gamma) (1 + host share by kind), fitted on the
    offline power rows of the training part), at the held-out rows: the comparison for the power split."""
    from hwplan.core.vocab import DEVICE_KINDS
    from hwplan.costmodel.estimators import HostSharePowerCurve

    def design(rows):
        ev = _predict_rows(model, rows)
        dev = model.dev_
        return np.column_stack([np.asarray(dev["idle_w"])[rows["di"]], np.asarray(dev["board_w"])[rows["di"]],
                                ev.util, rows["n"].to_numpy(dtype=float)])

    tr = train[train["si"] == 0].reset_index(drop=True)
    Xt, yt = design(tr), tr["power_avg_w"].astype(float).to_numpy()
    ok = np.isfinite(Xt).all(axis=1) & (yt > 0)
    pc = HostSharePowerCurve().fit(Xt[ok], yt[ok])
    kinds_tr = np.array([model.dev_["kind"][i] for i in tr["di"]])
    host = {}
    for k in DEVICE_KINDS:
        kk = ok & (kinds_tr == k)
        if kk.sum() >= 3:
            host[k] = float(HostSharePowerCurve(gammas=(pc.gamma_,)).fit(Xt[kk], yt[kk]).host_)
    Xs = design(test)
    h = np.array([host.get(model.dev_["kind"][i], float(pc.host_)) for i in test["di"]])
    idle, board, u, n = Xs[:, 0], Xs[:, 1], np.clip(Xs[:, 2], 0, 1), np.maximum(Xs[:, 3], 1)
    return n * (idle + (board - idle) * u ** pc.gamma_) * (1 + h)


def power_held_out(meas: pd.DataFrame, catalog, workloads, max_folds: int | None = None) -> pd.DataFrame:
    """Leave one system out on the system wall-power rows: the whole model refitted without that system's rows
    (both MLPerf rounds of it), its rows predicted at their own operating point; the previous power model too."""
    from hwplan.costmodel.performance import power_rows, power_system

    base = PerformanceModel(catalog=catalog, workloads=workloads, llm_intervals=False, training_rows=NO_TRAINING_ROWS)
    probe = base.fit(meas) if len(meas) else base
    allrows = power_rows(training_rows(meas, probe.devices_, probe.wl_)) if len(meas) else pd.DataFrame()
    if not len(allrows):
        return pd.DataFrame()
    systems = power_system(allrows)
    mrun = meas["run_id"].astype(str)
    msys = np.where(mrun.str.contains(":"), mrun.str.split(":", n=1).str[1], mrun + "|" + meas["device"].astype(str))
    out = []
    for sysid in sorted(set(systems))[:max_folds]:
        m = PerformanceModel(catalog=catalog, workloads=workloads, llm_intervals=False,
                             training_rows=NO_TRAINING_ROWS).fit(meas[msys != sysid])
        rows = power_rows(training_rows(meas[msys == sysid], m.devices_, m.wl_))
        if not len(rows):
            continue
        train = power_rows(training_rows(meas[msys != sysid], m.devices_, m.wl_))
        pred = _power_prediction(m, rows)
        f = pd.DataFrame({"split": POWER_SPLIT, "system": sysid, "workload": rows["workload"], "device": rows["device"],
                          "device_kind": rows["device_kind"].astype(str), "precision": rows["precision"],
                          "scenario": np.where(rows["si"] == 1, "server", "offline"),
                          "actual": rows["power_avg_w"].astype(float).to_numpy(), **pred})
        f["old"] = _old_power(train, rows, m)
        out.append(f)
    if not out:
        return pd.DataFrame()
    res = pd.concat(out, ignore_index=True)
    res["predicted"] = np.isfinite(res["pred"]) & (res["pred"] > 0)
    res["ape"] = np.abs(res["pred"] / res["actual"] - 1)
    res["old_ape"] = np.abs(res["old"] / res["actual"] - 1)
    res["ratio"], res["old_ratio"] = res["pred"] / res["actual"], res["old"] / res["actual"]
    return res


def _power_metrics(g: pd.DataFrame) -> dict:
    g = g[g["predicted"]]
    if not len(g):
        return {"n": 0}
    ape, old = g["ape"].to_numpy(), g["old_ape"].to_numpy()
    med = float(np.median(ape))
    return {"n": len(g), "systems": int(g["system"].nunique()), "median_ape": med, "p90_ape": float(np.quantile(ape, 0.9)),
            "median_ratio": float(np.median(g["ratio"])), "old_median_ape": float(np.nanmedian(old)),
            "old_p90_ape": float(np.nanquantile(old, 0.9)), "old_median_ratio": float(np.nanmedian(g["old_ratio"])),
            "meets_targets": bool(med <= POWER_TARGETS["median_ape"])}


def power_report(res: pd.DataFrame) -> dict:
    if not len(res):
        return {}
    return {"overall": _power_metrics(res),
            "by_device": {k: _power_metrics(g) for k, g in res.groupby("device")},
            "by_system": {k: _power_metrics(g) for k, g in res.groupby("system")},
            "by_operating_point": {("capped (MaxQ / EE)" if k else "board power"): _power_metrics(g)
                                   for k, g in res.groupby("capped")}}


def run_validation(meas: pd.DataFrame, catalog: pd.DataFrame | None = None, workloads: pd.DataFrame | None = None,
                   max_devices: int | None = None, llm: bool = True, training: bool = True,
                   power: bool = True) -> dict:
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
    # 4. LLM serving: leave one device out, leave one source out
    llm_res = llm_held_out(meas, cat, wls, max_folds=max_devices) if llm else pd.DataFrame()
    llm_lat = pd.DataFrame()
    if len(llm_res):
        llm_lat = llm_res[llm_res["predicted"]]
        results.append(llm_res[llm_res["capacity"].astype(bool)])
    # 5. training runs: leave one system out, 8 -> N devices (published training results)
    if training:
        from hwplan.costmodel.trainvalidate import training_held_out

        results.append(training_held_out(spec))
    # 6. system wall power: leave one system out on the MLPerf Power rows
    power_res = power_held_out(meas, cat, wls, max_folds=max_devices) if power else pd.DataFrame()
    allres = pd.concat([r for r in results if len(r)], ignore_index=True) if any(len(r) for r in results) else pd.DataFrame()
    if len(allres):
        allres = allres[allres["predicted"]].reset_index(drop=True)
    report: dict[str, Any] = {"generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "code_version": CODE_VERSION,
              "rows_in_store": len(meas), "profiler_cpu_rows": n_prof, "targets": TARGETS,
              "seconds": None, "splits": {}, "python": platform.python_version()}
    lines = []
    if len(allres):
        for split, grp in allres.groupby("split", sort=False):
            tg = LLM_TARGETS if split in LLM_SPLITS else TARGETS
            report["splits"][split] = {
                "overall": _metrics(grp, tg),
                "by_workload": {k: _metrics(g, tg) for k, g in grp.groupby("workload")},
                "by_kind": {k: _metrics(g, tg) for k, g in grp.groupby("device_kind")},
                "by_basis": {k: _metrics(g, tg) for k, g in grp.groupby("basis")},
            }
            if split.startswith("training"):
                report["splits"][split]["by_size"] = {k: _metrics(g, tg) for k, g in grp.groupby("size")}
            if split in LLM_SPLITS:
                s_ = report["splits"][split]
                s_["by_device"] = {k: _metrics(g, tg) for k, g in grp.groupby("device")}
                s_["by_source"] = {k: _metrics(g, tg) for k, g in grp.groupby("source")}
                s_["overall"]["above_ceiling"] = int(grp["above_ceiling"].sum())
                s_["latency"] = _latency_metrics(llm_lat[llm_lat["split"] == split])
            o = report["splits"][split]["overall"]
            extra = f", {o['above_ceiling']} above the physical ceiling" if "above_ceiling" in o else ""
            lines.append(f"{split}: n={o['n']}, median APE {o['median_ape']:.1%} (spec roofline {o['spec_median_ape']:.1%}), "
                         f"p90 {o['p90_ape']:.1%} (spec {o['spec_p90_ape']:.1%}), 80% interval coverage {o['coverage']:.1%}"
                         f"{extra} -> {'meets' if o['meets_targets'] else 'MISSES'} targets")
            lat = report["splits"][split].get("latency") or {}
            for name, m in lat.items():
                lines.append(f"{split}, {name}: n={m['n']}, median APE {m['median_ape']:.1%}, p90 {m['p90_ape']:.1%}")
    report["power"] = power_report(power_res)
    if report["power"]:
        o = report["power"]["overall"]
        lines.append(f"{POWER_SPLIT}: n={o['n']} wall-power rows of {o['systems']} systems, median APE {o['median_ape']:.1%} "
                     f"(previous model {o['old_median_ape']:.1%}), p90 {o['p90_ape']:.1%} (previous {o['old_p90_ape']:.1%}) "
                     f"-> {'meets' if o['meets_targets'] else 'MISSES'} the median target "
                     f"({POWER_TARGETS['median_ape']:.0%})")
    if not n_prof:
        lines.append("profiler CPU rows: none in the store yet (data/measured/*.csv); split skipped")
    elif prof_note:
        lines.append(prof_note)
    report["host_devices"] = host_info.get("devices", {})
    report["summary_lines"] = lines
    report["seconds"] = round(time.perf_counter() - t0, 1)
    report["_rows"] = allres
    report["_power_rows"] = power_res
    return report


def _metrics(g: pd.DataFrame, targets: dict | None = None) -> dict:
    tg = TARGETS if targets is None else targets
    ape, sape = g["ape"].to_numpy(), g["spec_ape"].to_numpy()
    med, p90 = float(np.median(ape)), float(np.quantile(ape, 0.9))
    cov = float(g["covered"].mean())
    return {"n": len(g), "median_ape": med, "p90_ape": p90, "coverage": cov,
            "spec_median_ape": float(np.median(sape)), "spec_p90_ape": float(np.quantile(sape, 0.9)),
            "meets_targets": bool(med <= tg["median_ape"] and p90 <= tg["p90_ape"]
                                  and tg["coverage_low"] <= cov <= tg["coverage_high"])}


def _latency_metrics(g: pd.DataFrame) -> dict:
    """TTFT and TPOT p50 where the held-out source reports them: at the row's concurrency, or for an offered
    load at the batch that carries it (rows whose load the model cannot carry are counted apart)."""
    out = {}
    for name, a, p in (("TTFT p50", "ttft_actual", "ttft_pred"), ("TPOT p50", "tpot_actual", "tpot_pred")):
        if a not in g:
            continue
        has = g[a].notna() & (g[a] > 0)
        ok = has & g[p].notna() & (g[p] > 0)
        if ok.sum():
            ape = np.abs(g.loc[ok, p] / g.loc[ok, a] - 1).to_numpy()
            out[name] = {"n": int(ok.sum()), "median_ape": float(np.median(ape)), "p90_ape": float(np.quantile(ape, 0.9)),
                         "load_above_capacity": int((has & ~ok).sum())}
    return out


def _table(d: dict, key: str) -> list[str]:
    out = [f"| {key} | n | median APE | p90 APE | 80% coverage | spec-roofline median | spec-roofline p90 | targets |",
           "|---|---:|---:|---:|---:|---:|---:|---|"]
    for k, m in d.items():
        out.append(f"| {k} | {m['n']} | {m['median_ape']:.1%} | {m['p90_ape']:.1%} | {m['coverage']:.0%} | "
                   f"{m['spec_median_ape']:.0%} | {m['spec_p90_ape']:.0%} | {'met' if m['meets_targets'] else 'missed'} |")
    return out


def _power_table(d: dict, key: str) -> list[str]:
    out = [f"| {key} | n | median APE | p90 APE | median pred/actual | previous model median | previous p90 | "
           "previous pred/actual |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for k, m in d.items():
        if m.get("n"):
            out.append(f"| {k} | {m['n']} | {m['median_ape']:.1%} | {m['p90_ape']:.1%} | {m['median_ratio']:.2f} | "
                       f"{m['old_median_ape']:.1%} | {m['old_p90_ape']:.1%} | {m['old_median_ratio']:.2f} |")
    return out


def _power_markdown(p: dict) -> list[str]:
    o = p["overall"]
    return ["", f"## {POWER_SPLIT}", "",
            f"System wall power of the MLPerf Inference Power rows (power_scope=system, {o['n']} rows of "
            f"{o['systems']} systems; a system in two rounds is one system). Each system is predicted by the whole "
            "model refitted without its rows, at the row's own operating point (a MaxQ / EE submission: the devices "
            "at the fitted cap fraction of board power), node count and host CPUs (from the row's notes), at the "
            "utilisation the throughput model predicts. *previous model*: n (idle + (board - idle) u^gamma) (1 + host "
            "share by kind), refitted on the same training part. Target: median APE <= "
            f"{POWER_TARGETS['median_ape']:.0%}.", "",
            f"Overall: median APE {o['median_ape']:.1%}, p90 {o['p90_ape']:.1%} (previous model {o['old_median_ape']:.1%}, "
            f"p90 {o['old_p90_ape']:.1%}) -> {'meets' if o['meets_targets'] else 'misses'} the target.", "",
            "### By device", ""] + _power_table(p["by_device"], "device") + \
           ["", "### By system (held out)", ""] + _power_table(p["by_system"], "system") + \
           ["", "### By operating point", ""] + _power_table(p["by_operating_point"], "operating point")


def write_markdown(report: dict, path: str | Path) -> None:
    t = report["targets"]
    L = ["# Prediction accuracy", "",
         f"Generated by `hwplan validate` ({report['code_version']}) at {report['generated_at']} from "
         f"{report['rows_in_store']} rows in the store, in {report['seconds']} s. Do not edit by hand.", "",
         f"Targets: median absolute percentage error (APE) <= {t['median_ape']:.0%}, p90 APE <= {t['p90_ape']:.0%}, "
         f"80% intervals covering {t['coverage_low']:.0%}-{t['coverage_high']:.0%} of held-out results. LLM serving splits "
         f"(output tokens/s of published serving rows at their own request shape, layout and concurrency; the serving "
         f"efficiencies refitted without the held-out device or source): median <= {LLM_TARGETS['median_ape']:.0%}, p90 <= "
         f"{LLM_TARGETS['p90_ape']:.0%}, the same coverage, and no held-out result above the model's physical ceiling. "
         "TTFT / TPOT p50 are compared where the source reports them (at an offered load: at the batch that carries it).",
         "",
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
             ["", "### By basis of the prediction", ""] + _table(s["by_basis"], "basis") + \
             (["", "### By setup size", ""] + _table(s["by_size"], "devices") if "by_size" in s else [])
    if report.get("power"):
        L += _power_markdown(report["power"])
    L += ["", "## Notes", "",
          "- MLPerf results are whole-system throughput; precision is assumed (MLPerf does not publish it), see "
          "hwplan/core/published.py. GPT-J v3.1 rows are samples/s and are compared as out_len x samples/s tokens/s.",
          "- Workloads absent from the training part (dlrm-v2 and gpt-j appear only in v3.1) are predicted on the "
          "`roofline` basis, from catalog specs and efficiencies learnt on other workloads.",
          "- No result of an MLPerf round after v3.1 (Inference or Training) is used anywhere. The Llama 2 70B LoRA "
          "reference run is defined by the v4.0 benchmark rules and its reference convergence points (the MLCommons "
          "reference implementation's runs, not submissions); no time-to-train row of it is in the fit or here.",
          "- Training splits (hwplan.costmodel.trainvalidate): published training results (data/published_training.csv: "
          "MLPerf Training v1.0-v3.1 time to train with the samples each run processed, and vendor throughput tables at "
          "their stated layout). *leave one system out*: systems in 8 groups, each predicted by a fit on the others; "
          "*8 -> N devices*: a fit on setups of at most 8 devices predicts every larger one. Time-to-train rows are "
          "compared on minutes, throughput rows on tokens/s or samples/s; *spec-roofline* there is the training step "
          "model at its prior efficiencies.",
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
