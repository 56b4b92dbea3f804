"""The planner: enumerate device x count x precision x batch, drop what breaks a limit, rank, Pareto."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hwplan.core.errors import HwplanError, UnknownIdError
from hwplan.core.fmt import cost_gap, number, usd
from hwplan.core.vocab import BASES, DEVICE_KINDS, PRECISIONS
from hwplan.costmodel.assumptions import Assumptions
from hwplan.costmodel.cost import TCO_TERMS, costs, price_basis, prices
from hwplan.costmodel.evaluate import Evaluation, evaluate, precision_allowed, scenario_index
from hwplan.costmodel.llmserve import request_shape
from hwplan.costmodel.performance import PerformanceModel
from hwplan.costmodel.results import Demand, PlanResult

BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
COUNTS = tuple(range(1, 9)) + tuple(range(16, 1025, 8))
# LLM serving: the serving model searches the batch itself (0); counts are what can be bought (buyable_counts)
LLM_BATCHES = (0,)
LLM_COUNTS = (1, 2, 3, 4, 5, 6, 7, 8) + tuple(range(12, 1025, 4))


def buyable(n: np.ndarray, per_node: np.ndarray, scaleup: np.ndarray | None = None) -> np.ndarray:
    """Device counts a team can buy or rent: 1, 2, 4 ... up to a server (and the whole server), then whole
    servers (multiples of devices per node: 4 or 8). Rack-scale devices (a scale-up domain larger than a node, as
    a GB200 NVL72 of 72 GPUs in trays of 4) come in whole trays only: 4, 8, 12 ..., never 1, 2, 3 or 5."""
    n, per_node = np.asarray(n, dtype=float), np.asarray(per_node, dtype=float)
    pow2 = (n >= 1) & (np.log2(np.maximum(n, 1)) % 1 == 0)
    whole = n % per_node == 0
    out = np.where(n <= per_node, pow2 | (n == per_node), whole)
    if scaleup is not None:
        rack = np.asarray(scaleup, dtype=float) > per_node
        out = np.where(rack, whole & (n >= per_node), out)
    return out


def buyable_setups(model, d: np.ndarray, n: np.ndarray) -> np.ndarray:
    """`buyable` for devices `d` (indices into the model's catalog) at counts `n`."""
    dev = model.dev_
    scaleup = np.asarray(dev["scaleup"])[d] if "scaleup" in dev else None
    return buyable(n, np.asarray(dev["per_node"])[d], scaleup)


def candidate_grid(model: PerformanceModel, w: int, kinds=None, batches=BATCHES, counts=COUNTS,
                   include_hosts: bool = False) -> dict:
    """Index arrays of every candidate setup for workload w (devices that support an allowed precision).
    Measured hosts outside the catalog (pseudo-devices `host:...`, no power or price) only when asked."""
    allowed = precision_allowed(model, w)
    peak = model.arrays_["peak"]
    ok = np.isfinite(peak) & (peak > 0) & allowed[None, :]
    if not include_hosts and "pseudo" in model.dev_:
        ok &= ~(np.asarray(model.dev_["pseudo"], dtype=float) > 0)[:, None]
    if kinds:
        kmask = np.isin(np.array(model.dev_["kind"]), list(kinds))
        ok &= kmask[:, None]
    dd, pp = np.nonzero(ok)
    nb, nc = len(batches), len(counts)
    d = np.repeat(dd, nb * nc)
    p = np.repeat(pp, nb * nc)
    b = np.tile(np.repeat(np.asarray(batches, dtype=float), nc), len(dd))
    n = np.tile(np.asarray(counts, dtype=float), len(dd) * nb)
    return {"d": d, "p": p, "b": b, "n": n, "nc": nc}


@dataclass(frozen=True)
class Candidates:
    """Every candidate setup of a plan: its index arrays (`grid`), predicted figures (`ev`) and costs
    (`cost`, plus `usd_per_month` and `usd_per_million_units` at the plan's pricing)."""

    grid: dict
    ev: Evaluation
    cost: dict
    assumptions: Assumptions


def evaluate_grid(model, w, grid, s, a: Assumptions, pricing: str, latency_limit_s: float | None = None,
                  **serving) -> Candidates:
    """Every candidate's figures and costs; `serving` (LLM inference): in_len, out_len, kv, ttft_limit_s,
    tpot_limit_s for hwplan.costmodel.evaluate."""
    nc = grid.get("nc")
    if nc and len(grid["d"]):
        # the per-replica work depends on (device, precision, batch) only: evaluate it once per row of
        # the (setups x counts) grid and broadcast the replica count over the counts
        rows = len(grid["d"]) // nc
        ev = evaluate(model, w, grid["d"].reshape(rows, nc)[:, :1], grid["p"].reshape(rows, nc)[:, :1],
                      grid["b"].reshape(rows, nc)[:, :1], grid["n"][:nc][None, :], s,
                      latency_limit_s=latency_limit_s, **serving).ravel()
    else:
        ev = evaluate(model, w, grid["d"], grid["p"], grid["b"], grid["n"], s, latency_limit_s=latency_limit_s, **serving)
    price, cloud = prices(model.devices_, model.dev_["price_usd"], model.dev_["cloud_usd_per_hour"], a)
    c = costs(grid["n"], ev.throughput, ev.power_w, ev.idle_w, price[grid["d"]], cloud[grid["d"]], a,
              per_node=np.asarray(model.dev_["per_node"])[grid["d"]], kind=np.asarray(model.dev_["kind"])[grid["d"]])
    c["usd_per_month"] = c["usd_per_month_" + pricing]
    c["usd_per_million_units"] = c["usd_per_million_" + pricing]
    return Candidates(grid, ev, c, a)


def run_plan(model: PerformanceModel, demand: Demand, a: Assumptions, top: int = 10) -> PlanResult:
    if demand.pricing not in ("cloud", "owned"):
        raise HwplanError(f"pricing '{demand.pricing}' is not known; use cloud or owned")
    w = model.workload_index(demand.workload)
    kinds = None
    if demand.kinds:
        kinds = [x.strip() for x in demand.kinds if x and x.strip()]
        for kind in kinds:
            if kind not in DEVICE_KINDS:
                raise UnknownIdError("device kind", kind, DEVICE_KINDS)
    s = scenario_index(demand.scenario, demand.mode)
    serving = bool(model.wl_["is_llm"][w]) and s != 2
    I, O, kv = request_shape(model, w, demand.input_len, demand.output_len, demand.kv_precision)
    ttft_l = _limit_s(demand.ttft_p99_ms, "--ttft-p99-ms")
    tpot_l = _limit_s(demand.tpot_p99_ms, "--tpot-p99-ms")
    if not serving and (ttft_l or tpot_l or demand.request_rate):
        raise HwplanError("--ttft-p99-ms, --tpot-p99-ms and --request-rate apply to LLM serving (an LLM workload in "
                          f"inference); {demand.workload} in {demand.mode} is not")
    if demand.request_rate is not None:
        if demand.throughput is not None:
            raise HwplanError("give either --throughput (tokens/s) or --request-rate (requests/s), not both")
        if not np.isfinite(demand.request_rate) or demand.request_rate <= 0:
            raise HwplanError(f"--request-rate must be a number of requests/s > 0, not {demand.request_rate}")
        X = float(demand.request_rate) * O
    else:
        X = demand.required_throughput()
    L = _limit_s(demand.latency_p99_ms, "--latency-p99-ms")
    B = demand.budget_usd_month
    Pcap = demand.power_cap_kw
    include_hosts = bool(getattr(demand, "include_measured_hosts", False))
    if serving:
        grid = candidate_grid(model, w, kinds, batches=LLM_BATCHES, counts=LLM_COUNTS, include_hosts=include_hosts)
    else:
        grid = candidate_grid(model, w, kinds, include_hosts=include_hosts)
    notes: list[str] = []
    if len(grid["d"]) == 0:
        raise HwplanError(f"no device{' of kind ' + ','.join(kinds) if kinds else ''} in the catalog has a peak for a "
                          f"precision that meets {demand.workload}'s accuracy target")
    extra = dict(in_len=I, out_len=O, kv=kv, ttft_limit_s=ttft_l, tpot_limit_s=tpot_l) if serving else {}
    grid["limits"] = {"ttft": ttft_l, "tpot": tpot_l}
    k = evaluate_grid(model, w, grid, s, a, demand.pricing, latency_limit_s=L, **extra)
    n = k.grid["n"]
    tp = k.ev.throughput
    priced = np.isfinite(k.cost["usd_per_month"])
    valid = k.ev.supported & k.ev.fits & (tp > 0) & priced
    valid &= buyable_setups(model, k.grid["d"], n)  # counts that cannot be bought are not offered
    runnable = valid.copy()  # the nearest answer may break the latency targets, and says so
    # serving: latency depends on the count (it decides the layouts that fit), so every count is checked; the
    # server scenario carries the benchmark's own TTFT / TPOT limits when none is given
    if serving and (ttft_l or tpot_l or L or s == 1):
        valid &= k.ev.meets_latency
    unpriced = sorted({model.devices_[i] for i in np.unique(k.grid["d"][k.ev.supported & ~priced])})
    if unpriced:
        notes.append(f"left out for want of {'a cloud' if demand.pricing == 'cloud' else 'an owned'} price "
                     f"({len(unpriced)} device(s)): {', '.join(unpriced)}; "
                     + ("add a price with an override (CLI: an assumption set with price_overrides {device: "
                        "{'cloud_usd_per_hour': ...}}; dashboard: Catalog -> overrides) or a row in data/prices.csv"
                        if demand.pricing == "cloud" else "add its purchase price with an override "
                        "({device: {'price_usd': ...}})"))
    meets_tp = valid & (tp >= X)
    # the smallest count meeting the throughput, per (device, precision, batch)
    setup_key = (k.grid["d"] * len(PRECISIONS) + k.grid["p"]) * 10_000 + k.grid["b"]
    rep = _first_per_key(setup_key, np.where(meets_tp, n, np.inf))
    # setups that never meet it: keep the best throughput one, for the nearest answer
    best_tp = _first_per_key(setup_key, np.where(valid, -tp, np.inf))
    lat = k.ev.latency_s
    pkw = k.ev.power_w / 1000.0
    cost = k.cost["usd_per_month"]
    ok_lat = np.ones_like(valid) if L is None else lat <= L
    ok_bud = np.ones_like(valid) if B is None else cost <= B
    ok_pow = np.ones_like(valid) if Pcap is None else pkw <= Pcap
    meets = np.zeros(len(n), dtype=bool)
    meets[rep] = (ok_lat & ok_bud & ok_pow)[rep]
    feasible_idx = rep[meets[rep]]
    # rank: cost per month, then energy
    order = feasible_idx[np.lexsort((k.ev.latency_s[feasible_idx], k.cost["energy_kwh_per_month"][feasible_idx],
                                     cost[feasible_idx]))]
    # one row per (device, precision): its best batch; other batches differ only in latency and energy
    dp = k.grid["d"][order] * len(PRECISIONS) + k.grid["p"][order]
    _, first = np.unique(dp, return_index=True)
    order = order[np.sort(first)]
    ranked = _frame(model, k, order[:max(top, 1)], X, demand)
    if len(order):
        ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    else:
        ranked.insert(0, "rank", pd.Series(dtype=int))
    pareto = _pareto(model, k, feasible_idx, X, demand)
    feasible = len(order) > 0
    nearest = pd.DataFrame()
    if feasible:
        why, binding = _why(model, k, order, rep, X, L, B, Pcap, demand)
        if serving and (L or ttft_l or tpot_l):
            binding = _latency_binding(model, w, grid, s, a, demand, X, k, order[0], extra) or binding
    else:
        cand = np.unique(np.concatenate([rep, best_tp[~np.isin(best_tp, rep)]]))
        cand = np.unique(np.concatenate([cand, _first_per_key(setup_key, np.where(runnable, -tp, np.inf))]))
        cand = cand[runnable[cand]]
        nearest, why, binding = _nearest(model, k, cand, X, L, B, Pcap, demand, top)
    return PlanResult(ranked=ranked, pareto=pareto, why=why, binding=binding, feasible=feasible, nearest=nearest,
                      assumptions=a, demand=demand, candidates_evaluated=len(n), notes=notes)


def _latency_binding(model, w, grid, s, a, demand, X, k, t, extra) -> str | None:
    """LLM serving: the serving model meets latency targets by running fewer requests at once, so the cheapest
    setup without the targets is found by a second pass; when it is cheaper, the targets bind."""
    free = dict(extra, ttft_limit_s=np.inf, tpot_limit_s=np.inf)  # explicit: no benchmark limits either
    k0 = evaluate_grid(model, w, grid, s, a, demand.pricing, latency_limit_s=np.inf, **free)
    cost0 = k0.cost["usd_per_month"]
    ok = (k0.ev.supported & k0.ev.fits & (k0.ev.throughput >= X) & np.isfinite(cost0)
          & buyable_setups(model, k0.grid["d"], k0.grid["n"]))
    if demand.power_cap_kw is not None:
        ok &= k0.ev.power_w / 1000.0 <= demand.power_cap_kw
    if demand.budget_usd_month is not None:
        ok &= cost0 <= demand.budget_usd_month
    if not ok.any():
        return None
    u = int(np.flatnonzero(ok)[np.argmin(cost0[ok])])
    cost = k.cost["usd_per_month"][t]
    if not cost0[u] < cost * (1 - 1e-9):
        return None
    names = [n for n, v in (("latency", demand.latency_p99_ms), ("TTFT", demand.ttft_p99_ms),
                            ("TPOT", demand.tpot_p99_ms)) if v]
    return (f"{' and '.join(names)} {'binds' if len(names) == 1 else 'bind'}: without {'it' if len(names) == 1 else 'them'}, "
            f"{_describe(model, k0, u)} ({usd(cost0[u])}/month) would carry the load; meeting "
            f"{'it' if len(names) == 1 else 'them'} costs {usd(cost - cost0[u])}/month more")


def _limit_s(ms: float | None, flag: str) -> float | None:
    if ms is None:
        return None
    if not np.isfinite(ms) or ms <= 0:
        raise HwplanError(f"{flag} must be a number of milliseconds > 0, not {ms}")
    return float(ms) / 1000.0


def _first_per_key(key: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Index of the lowest finite score for each key."""
    order = np.lexsort((score, key))
    ks = key[order]
    first = np.ones(len(ks), dtype=bool)
    first[1:] = ks[1:] != ks[:-1]
    idx = order[first]
    return idx[np.isfinite(score[idx])]


def _frame(model, k, idx, X, demand) -> pd.DataFrame:
    d, p = k.grid["d"][idx], k.grid["p"][idx]
    pb, ps = price_basis(model.devices_, model.dev_["price_basis"], model.dev_["price_stale"], k.assumptions,
                         demand.pricing)
    tp = k.ev.throughput[idx]
    return pd.DataFrame({
        "device": [model.devices_[i] for i in d], "device_kind": [model.dev_["kind"][i] for i in d],
        "count": k.grid["n"][idx].astype(int), "precision": [PRECISIONS[i] for i in p],
        "batch_size": k.ev.batch[idx].astype(int), "throughput": tp, "low": k.ev.low[idx], "high": k.ev.high[idx],
        "throughput_unit": model.wl_["unit"][model.workload_index(demand.workload)],
        "basis": [BASES[i] for i in k.ev.basis[idx]], "latency_p99_s": k.ev.latency_s[idx],
        "power_kw": k.ev.power_w[idx] / 1000.0, "usd_per_month": k.cost["usd_per_month"][idx],
        "usd_per_million_units": k.cost["usd_per_million_units"][idx],
        "usd_per_month_cloud": k.cost["usd_per_month_cloud"][idx], "usd_per_month_owned": k.cost["usd_per_month_owned"][idx],
        "energy_kwh_per_month": k.cost["energy_kwh_per_month"][idx], "co2_kg_per_month": k.cost["co2_kg_per_month"][idx],
        "energy_per_unit_j": k.cost["energy_per_unit_j"][idx], "parallel_efficiency": k.ev.parallel_eff[idx],
        "devices_per_replica": k.ev.group[idx].astype(int), "tensor_parallel": k.ev.tensor_parallel[idx].astype(int),
        "pipeline_parallel": k.ev.pipeline_parallel[idx].astype(int), "replicas": k.ev.replicas[idx].astype(int),
        "meets_demand": tp >= X,
        "headroom": tp / X - 1.0,
        # LLM serving (NaN for other workloads): latencies, concurrency, expert parallel, memory split per replica
        "ttft_p50_s": k.ev.ttft_p50_s[idx], "ttft_p99_s": k.ev.ttft_p99_s[idx], "tpot_p50_s": k.ev.tpot_p50_s[idx],
        "tpot_p99_s": k.ev.tpot_p99_s[idx], "total_tokens_per_s": k.ev.total_throughput[idx],
        "concurrency": k.ev.batch[idx] * k.ev.replicas[idx], "expert_parallel": k.ev.expert_parallel[idx],
        "devices_per_node": np.asarray(model.dev_["per_node"])[d], "weights_gb": k.ev.weights_b[idx] / 1e9,
        "kv_cache_gb": k.ev.kv_cache_b[idx] / 1e9, "activations_gb": k.ev.activations_b[idx] / 1e9,
        # whole-system TCO (owned, per month) and the cloud price's source
        "capex_usd": (k.cost["capex_usd_devices"] + k.cost["capex_usd_hosts"] + k.cost["capex_usd_network"]
                      + k.cost["capex_usd_facility"])[idx],
        **{f"capex_usd_{t}": k.cost[f"capex_usd_{t}"][idx] for t in ("devices", "hosts", "network", "facility")},
        "device_power_kw": k.ev.device_power_w[idx] / 1000.0,
        **{f"owned_usd_month_{t}": k.cost[f"owned_usd_month_{t}"][idx] for t in TCO_TERMS},
        "breakeven_months": k.cost["breakeven_months"][idx],
        "price_basis": [pb[i] for i in d], "price_stale": [ps[i] for i in d],
    })


def _pareto(model, k, idx, X, demand) -> pd.DataFrame:
    """Non-dominated feasible setups on (cost per month, latency, energy per month)."""
    if len(idx) == 0:
        return _frame(model, k, idx, X, demand)
    pts = np.column_stack([k.cost["usd_per_month"][idx], k.ev.latency_s[idx], k.cost["energy_kwh_per_month"][idx]])
    order = np.argsort(pts[:, 0], kind="stable")
    pts, idx = pts[order], idx[order]
    keep = np.ones(len(idx), dtype=bool)
    for i in range(len(idx)):
        if not keep[i]:
            continue
        dom = np.all(pts[i] <= pts, axis=1) & np.any(pts[i] < pts, axis=1)
        keep &= ~dom
    df = _frame(model, k, idx[keep], X, demand)
    return df.reset_index(drop=True)


def _describe(model, k, i) -> str:
    head = f"{int(k.grid['n'][i])} x {model.devices_[k.grid['d'][i]]} at {PRECISIONS[k.grid['p'][i]]}"
    if np.isfinite(k.ev.tpot_p50_s[i]):  # LLM serving: the layout and the latencies
        ep = int(k.ev.expert_parallel[i])
        return (f"{head}, {int(k.ev.replicas[i])} replica(s) of TP {int(k.ev.tensor_parallel[i])} x PP "
                f"{int(k.ev.pipeline_parallel[i])}" + (f" (EP {ep})" if ep > 1 else "")
                + f", {int(k.ev.batch[i])} sequences each, TTFT p99 {number(k.ev.ttft_p99_s[i] * 1000)} ms, "
                f"TPOT p99 {number(k.ev.tpot_p99_s[i] * 1000)} ms")
    return f"{head}, batch {int(k.ev.batch[i])}"


def _twin(k, i: int, j: int, rel: float = 0.005) -> bool:
    """Setups i and j are the same devices and count with throughput, cost and energy equal within `rel` (a
    precision that changes nothing)."""
    if k.grid["d"][i] != k.grid["d"][j] or k.grid["n"][i] != k.grid["n"][j]:
        return False
    pairs = ((k.ev.throughput[i], k.ev.throughput[j]), (k.cost["usd_per_month"][i], k.cost["usd_per_month"][j]),
             (k.cost["energy_kwh_per_month"][i], k.cost["energy_kwh_per_month"][j]))
    return all(abs(a - b) <= rel * max(abs(a), abs(b), 1e-12) for a, b in pairs)


def collapse_precisions(ranked: pd.DataFrame, rel: float = 0.005) -> pd.DataFrame:
    """One row for setups that differ only by a precision with no effect (same device and count, throughput, cost
    and energy within `rel`): the best-ranked row stays, its `precisions` lists them all ('fp16 / bf16'), and
    `rank` is renumbered. Rows keep their order."""
    if ranked is None or ranked.empty or not {"device", "count", "precision"} <= set(ranked.columns):
        return ranked
    cols = [c for c in ("throughput", "usd_per_month", "energy_kwh_per_month") if c in ranked]
    recs = ranked.reset_index(drop=True)
    vals = recs[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    keep: list[int] = []
    names: dict[int, list[str]] = {}
    for i in range(len(recs)):
        for j in keep:
            if (recs.at[i, "device"] == recs.at[j, "device"] and int(recs.at[i, "count"]) == int(recs.at[j, "count"])
                    and np.all(np.abs(vals[i] - vals[j]) <= rel * np.maximum(np.maximum(abs(vals[i]), abs(vals[j])),
                                                                             1e-12))):
                names[j].append(str(recs.at[i, "precision"]))
                break
        else:
            keep.append(i)
            names[i] = [str(recs.at[i, "precision"])]
    out = recs.loc[keep].copy()
    out["precisions"] = [" / ".join(names[i]) for i in keep]
    if "rank" in out:
        out["rank"] = np.arange(1, len(out) + 1)
    return out.reset_index(drop=True)


def _why(model, k, order, rep, X, L, B, Pcap, demand) -> tuple[str, str]:
    t = order[0]
    unit = model.wl_["unit"][model.workload_index(demand.workload)]
    cost = k.cost["usd_per_month"]
    why = (f"{_describe(model, k, t)} meets {number(X)} {unit} ({number(k.ev.throughput[t])} predicted, 80% interval "
           f"{number(k.ev.low[t])}-{number(k.ev.high[t])}, basis {BASES[k.ev.basis[t]]}) at the lowest {demand.pricing} cost: "
           f"{usd(cost[t])}/month")
    rest = [i for i in order[1:] if not _twin(k, t, i)]  # the same setup at a precision with no effect is no rival
    if rest:
        r = rest[0]
        gap = cost_gap(cost[t], cost[r])
        why += (f", {gap}, {_describe(model, k, r)} ({usd(cost[r])}/month" +
                ("; ranked on energy)" if gap.startswith("the same") else ")"))
    why += "."
    if k.ev.low[t] < X:
        why += (f" Its 80% interval reaches below the demand ({number(k.ev.low[t])} {unit}); add a device for headroom "
                "if the demand is hard.")
    # what binds: the limits the unconstrained cheapest setup would break, else the tightest slack
    uncon = rep[np.argsort(cost[rep], kind="stable")][:1]
    parts = []
    if len(uncon) and cost[uncon[0]] < cost[t] * (1 - 1e-9):
        u = uncon[0]
        broken = _breaks(k, u, X, L, B, Pcap, unit)
        binding = (f"{', '.join(b.split(':')[0] for b in broken) or 'a limit'} binds: the cheapest setup meeting the "
                   f"throughput, {_describe(model, k, u)} ({usd(cost[u])}/month), breaks it ({'; '.join(broken)})")
        return why, binding
    slack = {"throughput": k.ev.throughput[t] / X - 1}
    if L is not None:
        slack["latency"] = 1 - k.ev.latency_s[t] / L
    if B is not None:
        slack["budget"] = 1 - cost[t] / B
    if Pcap is not None:
        slack["power cap"] = 1 - k.ev.power_w[t] / 1000 / Pcap
    for name, v in slack.items():
        parts.append(f"{name} {v:.0%} slack")
    binding = ("throughput binds: the count is the smallest that meets the demand; no other limit excludes a cheaper "
               f"setup ({', '.join(parts)})")
    return why, binding


def _breaks(k, i, X, L, B, Pcap, unit) -> list[str]:
    out = []
    tp = k.ev.throughput[i]
    if tp < X:
        out.append(f"throughput: {number(tp)} {unit} is {1 - tp / X:.0%} short of {number(X)}")
    lim = k.grid.get("limits", {})
    for name, key, field in (("TTFT", "ttft", "ttft_p99_s"), ("TPOT", "tpot", "tpot_p99_s")):
        v = getattr(k.ev, field)[i]
        if lim.get(key) and np.isfinite(v) and v > lim[key]:
            out.append(f"{name}: p99 {number(v * 1000)} ms is over {number(lim[key] * 1000)} ms")
    if L is not None and k.ev.latency_s[i] > L:
        out.append(f"latency: p99 {number(k.ev.latency_s[i] * 1000)} ms is over {number(L * 1000)} ms")
    if B is not None and k.cost["usd_per_month"][i] > B:
        out.append(f"budget: {usd(k.cost['usd_per_month'][i])}/month is over {usd(B)}")
    if Pcap is not None and k.ev.power_w[i] / 1000 > Pcap:
        out.append(f"power cap: {number(k.ev.power_w[i] / 1000)} kW is over {number(Pcap)} kW")
    return out


def _nearest(model, k, cand, X, L, B, Pcap, demand, top) -> tuple[pd.DataFrame, str, str]:
    unit = model.wl_["unit"][model.workload_index(demand.workload)]
    if len(cand) == 0:
        return pd.DataFrame(), "no setup in the catalog can run this workload with prices known", "none: nothing to rank"
    tp = k.ev.throughput[cand]
    excess = np.log(np.maximum(X / tp, 1.0))
    if L is not None:
        excess += np.log(np.maximum(k.ev.latency_s[cand] / L, 1.0))
    if B is not None:
        excess += np.log(np.maximum(k.cost["usd_per_month"][cand] / B, 1.0))
    if Pcap is not None:
        excess += np.log(np.maximum(k.ev.power_w[cand] / 1000 / Pcap, 1.0))
    for key, field in (("ttft", "ttft_p99_s"), ("tpot", "tpot_p99_s")):
        lim = k.grid.get("limits", {}).get(key)
        if lim:
            with np.errstate(over="ignore"):
                excess += np.log(np.maximum(np.nan_to_num(getattr(k.ev, field)[cand], nan=np.inf) / lim, 1.0))
    order = cand[np.lexsort((k.cost["usd_per_month"][cand], excess))]
    dp = k.grid["d"][order] * len(PRECISIONS) + k.grid["p"][order]
    _, first = np.unique(dp, return_index=True)
    order = order[np.sort(first)][:max(top, 1)]
    df = _frame(model, k, order, X, demand)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    df["breaks"] = ["; ".join(_breaks(k, i, X, L, B, Pcap, unit)) for i in order]
    counts: dict[str, int] = {}
    for i in cand:
        for b in _breaks(k, i, X, L, B, Pcap, unit):
            limit = b.split(":")[0]
            counts[limit] = counts.get(limit, 0) + 1
    worst = sorted(counts.items(), key=lambda kv: -kv[1])
    binding = ("no setup meets every limit; broken most often: " +
               ", ".join(f"{limit} ({v} of {len(cand)} setups)" for limit, v in worst))
    lim = k.grid.get("limits", {})
    why = (f"infeasible: no setup meets {number(X)} {unit}" + (f" within p99 {L * 1000:g} ms" if L else "") +
           (f", TTFT p99 {lim['ttft'] * 1000:g} ms" if lim.get("ttft") else "") +
           (f", TPOT p99 {lim['tpot'] * 1000:g} ms" if lim.get("tpot") else "") +
           (f", {usd(B)}/month" if B else "") + (f", {Pcap:g} kW" if Pcap else "") +
           f". Nearest: {_describe(model, k, order[0])}, which breaks: {df['breaks'].iloc[0]}.")
    return df, why, binding
