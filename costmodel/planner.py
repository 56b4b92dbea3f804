"""The planner: enumerate device x count x precision x batch, drop what breaks a limit, rank, Pareto."""

from __future__ import annotations

from hwplan.core.fmt import number
import numpy as np
import pandas as pd

from hwplan.costmodel.assumptions import Assumptions
from hwplan.costmodel.cost import costs, prices
from hwplan.costmodel.model import PerformanceModel, evaluate, precision_allowed
from hwplan.core.vocab import BASES, DEVICE_KINDS, PRECISIONS
from hwplan.core.errors import HwplanError, UnknownIdError

BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
COUNTS = tuple(range(1, 9)) + tuple(range(16, 1025, 8))


def candidate_grid(model: PerformanceModel, w: int, kinds=None, batches=BATCHES, counts=COUNTS,
                   include_hosts: bool = False) -> dict:
    """Index arrays of every candidate setup for workload w (devices that support an allowed precision).
    Measured hosts outside the catalog (pseudo-devices `host:...`, no power or price) only when asked."""
    allowed = precision_allowed(model, w)
    peak = model.a["peak"]
    ok = np.isfinite(peak) & (peak > 0) & allowed[None, :]
    if not include_hosts and "pseudo" in model.dev:
        ok &= ~(np.asarray(model.dev["pseudo"], dtype=float) > 0)[:, None]
    if kinds:
        kmask = np.isin(np.array(model.dev["kind"]), list(kinds))
        ok &= kmask[:, None]
    dd, pp = np.nonzero(ok)
    nb, nc = len(batches), len(counts)
    d = np.repeat(dd, nb * nc)
    p = np.repeat(pp, nb * nc)
    b = np.tile(np.repeat(np.asarray(batches, dtype=float), nc), len(dd))
    n = np.tile(np.asarray(counts, dtype=float), len(dd) * nb)
    return {"d": d, "p": p, "b": b, "n": n, "nc": nc}


def evaluate_grid(model, w, grid, s, a: Assumptions, pricing: str, latency_limit_s: float | None = None) -> dict:
    nc = grid.get("nc")
    if nc and len(grid["d"]):
        # the per-replica work depends on (device, precision, batch) only: evaluate it once per row of
        # the (setups x counts) grid and broadcast the replica count over the counts
        k = len(grid["d"]) // nc
        ev = evaluate(model, w, grid["d"].reshape(k, nc)[:, :1], grid["p"].reshape(k, nc)[:, :1],
                      grid["b"].reshape(k, nc)[:, :1], grid["n"][:nc][None, :], s, latency_limit_s=latency_limit_s)
        ev = {key: np.ravel(v) for key, v in ev.items()}
    else:
        ev = evaluate(model, w, grid["d"], grid["p"], grid["b"], grid["n"], s, latency_limit_s=latency_limit_s)
    price, cloud = prices(model.devices, model.dev["price_usd"], model.dev["cloud_usd_per_hour"], a)
    c = costs(grid["n"], ev["throughput"], ev["power_w"], ev["idle_w"], price[grid["d"]], cloud[grid["d"]], a)
    ev.update(c)
    ev["usd_per_month"] = c["usd_per_month_" + pricing]
    ev["usd_per_million_units"] = c["usd_per_million_" + pricing]
    return ev


def run_plan(model: PerformanceModel, demand, a: Assumptions, top: int = 10):
    from hwplan.costmodel.api import PlanResult, _scenario_index, _wi

    if demand.pricing not in ("cloud", "owned"):
        raise HwplanError(f"pricing '{demand.pricing}' is not known; use cloud or owned")
    w = _wi(model, demand.workload)
    kinds = None
    if demand.kinds:
        kinds = [k.strip() for k in demand.kinds if k and k.strip()]
        for k in kinds:
            if k not in DEVICE_KINDS:
                raise UnknownIdError("device kind", k, DEVICE_KINDS)
    s = _scenario_index(demand.scenario, demand.mode)
    X = demand.required_throughput()
    L = demand.latency_p99_ms / 1000.0 if demand.latency_p99_ms else None
    B = demand.budget_usd_month
    Pcap = demand.power_cap_kw
    grid = candidate_grid(model, w, kinds, include_hosts=bool(getattr(demand, "include_measured_hosts", False)))
    notes: list[str] = []
    if len(grid["d"]) == 0:
        raise HwplanError(f"no device{' of kind ' + ','.join(kinds) if kinds else ''} in the catalog has a peak for a "
                          f"precision that meets {demand.workload}'s accuracy target")
    ev = evaluate_grid(model, w, grid, s, a, demand.pricing, latency_limit_s=L)
    n = grid["n"]
    tp = ev["throughput"]
    priced = np.isfinite(ev["usd_per_month"])
    valid = ev["supported"] & ev["fits"] & (tp > 0) & priced
    unpriced = sorted({model.devices[i] for i in np.unique(grid["d"][ev["supported"] & ~priced])})
    if unpriced:
        notes.append(f"left out for want of a {demand.pricing} price ({len(unpriced)} device(s)): {', '.join(unpriced)}; "
                     "set Assumptions.price_overrides to include them")
    meets_tp = valid & (tp >= X)
    # the smallest count meeting the throughput, per (device, precision, batch)
    setup_key = (grid["d"] * len(PRECISIONS) + grid["p"]) * 10_000 + grid["b"]
    rep = _first_per_key(setup_key, np.where(meets_tp, n, np.inf))
    # setups that never meet it: keep the best throughput one, for the nearest answer
    best_tp = _first_per_key(setup_key, np.where(valid, -tp, np.inf))
    lat = ev["latency_s"]
    pkw = ev["power_w"] / 1000.0
    cost = ev["usd_per_month"]
    ok_lat = np.ones_like(valid) if L is None else lat <= L
    ok_bud = np.ones_like(valid) if B is None else cost <= B
    ok_pow = np.ones_like(valid) if Pcap is None else pkw <= Pcap
    meets = np.zeros(len(n), dtype=bool)
    meets[rep] = (ok_lat & ok_bud & ok_pow)[rep]
    feasible_idx = rep[meets[rep]]
    # rank: cost per month, then energy
    order = feasible_idx[np.lexsort((ev["latency_s"][feasible_idx], ev["energy_kwh_per_month"][feasible_idx],
                                     cost[feasible_idx]))]
    # one row per (device, precision): its best batch; other batches differ only in latency and energy
    dp = grid["d"][order] * len(PRECISIONS) + grid["p"][order]
    _, first = np.unique(dp, return_index=True)
    order = order[np.sort(first)]
    ranked = _frame(model, grid, ev, order[:max(top, 1)], X, demand)
    if len(order):
        ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    else:
        ranked.insert(0, "rank", pd.Series(dtype=int))
    pareto = _pareto(model, grid, ev, feasible_idx, X, demand)
    feasible = len(order) > 0
    nearest = pd.DataFrame()
    if feasible:
        why, binding = _why(model, grid, ev, order, rep, X, L, B, Pcap, demand)
    else:
        cand = np.unique(np.concatenate([rep, best_tp[~np.isin(best_tp, rep)]]))
        cand = cand[valid[cand]]
        nearest, why, binding = _nearest(model, grid, ev, cand, X, L, B, Pcap, demand, top)
    res = PlanResult(ranked=ranked, pareto=pareto, why=why, binding=binding, feasible=feasible, nearest=nearest,
                     assumptions=a, demand=demand, candidates_evaluated=int(len(n)), notes=notes)
    return res


def _first_per_key(key: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Index of the lowest finite score for each key."""
    order = np.lexsort((score, key))
    k = key[order]
    first = np.ones(len(k), dtype=bool)
    first[1:] = k[1:] != k[:-1]
    idx = order[first]
    return idx[np.isfinite(score[idx])]


def _frame(model, grid, ev, idx, X, demand) -> pd.DataFrame:
    d, p = grid["d"][idx], grid["p"][idx]
    tp = ev["throughput"][idx]
    return pd.DataFrame({
        "device": [model.devices[i] for i in d], "device_kind": [model.dev["kind"][i] for i in d],
        "count": grid["n"][idx].astype(int), "precision": [PRECISIONS[i] for i in p],
        "batch_size": ev["batch"][idx].astype(int), "throughput": tp, "low": ev["low"][idx], "high": ev["high"][idx],
        "throughput_unit": model.wl["unit"][model.workload_index(demand.workload)],
        "basis": [BASES[i] for i in ev["basis"][idx]], "latency_p99_s": ev["latency_s"][idx],
        "power_kw": ev["power_w"][idx] / 1000.0, "usd_per_month": ev["usd_per_month"][idx],
        "usd_per_million_units": ev["usd_per_million_units"][idx],
        "usd_per_month_cloud": ev["usd_per_month_cloud"][idx], "usd_per_month_owned": ev["usd_per_month_owned"][idx],
        "energy_kwh_per_month": ev["energy_kwh_per_month"][idx], "co2_kg_per_month": ev["co2_kg_per_month"][idx],
        "energy_per_unit_j": ev["energy_per_unit_j"][idx], "parallel_efficiency": ev["parallel_eff"][idx],
        "devices_per_replica": ev["group"][idx].astype(int), "tensor_parallel": ev["tensor_parallel"][idx].astype(int),
        "pipeline_parallel": ev["pipeline_parallel"][idx].astype(int), "replicas": ev["replicas"][idx].astype(int),
        "meets_demand": tp >= X,
        "headroom": tp / X - 1.0,
    })


def _pareto(model, grid, ev, idx, X, demand) -> pd.DataFrame:
    """Non-dominated feasible setups on (cost per month, latency, energy per month)."""
    if len(idx) == 0:
        return _frame(model, grid, ev, idx, X, demand)
    pts = np.column_stack([ev["usd_per_month"][idx], ev["latency_s"][idx], ev["energy_kwh_per_month"][idx]])
    order = np.argsort(pts[:, 0], kind="stable")
    pts, idx = pts[order], idx[order]
    keep = np.ones(len(idx), dtype=bool)
    for i in range(len(idx)):
        if not keep[i]:
            continue
        dom = np.all(pts[i] <= pts, axis=1) & np.any(pts[i] < pts, axis=1)
        keep &= ~dom
    df = _frame(model, grid, ev, idx[keep], X, demand)
    return df.reset_index(drop=True)


def _money(x) -> str:
    return f"${x:,.0f}" if x >= 100 else f"${x:,.2f}"


def _describe(model, grid, ev, i) -> str:
    return (f"{int(grid['n'][i])} x {model.devices[grid['d'][i]]} at {PRECISIONS[grid['p'][i]]}, batch "
            f"{int(ev['batch'][i])}")


def _why(model, grid, ev, order, rep, X, L, B, Pcap, demand) -> tuple[str, str]:
    t = order[0]
    unit = model.wl["unit"][model.workload_index(demand.workload)]
    cost = ev["usd_per_month"]
    why = (f"{_describe(model, grid, ev, t)} meets {number(X)} {unit} ({number(ev['throughput'][t])} predicted, 80% interval "
           f"{number(ev['low'][t])}-{number(ev['high'][t])}, basis {BASES[ev['basis'][t]]}) at the lowest {demand.pricing} cost: "
           f"{_money(cost[t])}/month")
    if len(order) > 1:
        r = order[1]
        gap = cost[r] / cost[t] - 1 if cost[t] > 0 else 0
        why += f", {gap:.0%} below the next, {_describe(model, grid, ev, r)} ({_money(cost[r])}/month)"
    why += "."
    if ev["low"][t] < X:
        why += (f" Its 80% interval reaches below the demand ({number(ev['low'][t])} {unit}); add a device for headroom "
                "if the demand is hard.")
    # what binds: the limits the unconstrained cheapest setup would break, else the tightest slack
    uncon = rep[np.argsort(cost[rep], kind="stable")][:1]
    parts = []
    if len(uncon) and cost[uncon[0]] < cost[t] * (1 - 1e-9):
        u = uncon[0]
        broken = _breaks(ev, u, X, L, B, Pcap, unit)
        binding = (f"{', '.join(b.split(':')[0] for b in broken) or 'a limit'} binds: the cheapest setup meeting the "
                   f"throughput, {_describe(model, grid, ev, u)} ({_money(cost[u])}/month), breaks it ({'; '.join(broken)})")
        return why, binding
    slack = {"throughput": ev["throughput"][t] / X - 1}
    if L is not None:
        slack["latency"] = 1 - ev["latency_s"][t] / L
    if B is not None:
        slack["budget"] = 1 - cost[t] / B
    if Pcap is not None:
        slack["power cap"] = 1 - ev["power_w"][t] / 1000 / Pcap
    for k, v in slack.items():
        parts.append(f"{k} {v:.0%} slack")
    binding = ("throughput binds: the count is the smallest that meets the demand; no other limit excludes a cheaper "
               f"setup ({', '.join(parts)})")
    return why, binding


def _breaks(ev, i, X, L, B, Pcap, unit) -> list[str]:
    out = []
    tp = ev["throughput"][i]
    if tp < X:
        out.append(f"throughput: {number(tp)} {unit} is {1 - tp / X:.0%} short of {number(X)}")
    if L is not None and ev["latency_s"][i] > L:
        out.append(f"latency: p99 {number(ev['latency_s'][i] * 1000)} ms is over {number(L * 1000)} ms")
    if B is not None and ev["usd_per_month"][i] > B:
        out.append(f"budget: {_money(ev['usd_per_month'][i])}/month is over {_money(B)}")
    if Pcap is not None and ev["power_w"][i] / 1000 > Pcap:
        out.append(f"power cap: {number(ev['power_w'][i] / 1000)} kW is over {number(Pcap)} kW")
    return out


def _nearest(model, grid, ev, cand, X, L, B, Pcap, demand, top) -> tuple[pd.DataFrame, str, str]:
    unit = model.wl["unit"][model.workload_index(demand.workload)]
    if len(cand) == 0:
        return pd.DataFrame(), "no setup in the catalog can run this workload with prices known", "none: nothing to rank"
    tp = ev["throughput"][cand]
    excess = np.log(np.maximum(X / tp, 1.0))
    if L is not None:
        excess += np.log(np.maximum(ev["latency_s"][cand] / L, 1.0))
    if B is not None:
        excess += np.log(np.maximum(ev["usd_per_month"][cand] / B, 1.0))
    if Pcap is not None:
        excess += np.log(np.maximum(ev["power_w"][cand] / 1000 / Pcap, 1.0))
    order = cand[np.lexsort((ev["usd_per_month"][cand], excess))]
    dp = grid["d"][order] * len(PRECISIONS) + grid["p"][order]
    _, first = np.unique(dp, return_index=True)
    order = order[np.sort(first)][:max(top, 1)]
    df = _frame(model, grid, ev, order, X, demand)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    df["breaks"] = ["; ".join(_breaks(ev, i, X, L, B, Pcap, unit)) for i in order]
    counts = {}
    for i in cand:
        for b in _breaks(ev, i, X, L, B, Pcap, unit):
            k = b.split(":")[0]
            counts[k] = counts.get(k, 0) + 1
    worst = sorted(counts.items(), key=lambda kv: -kv[1])
    binding = ("no setup meets every limit; broken most often: " +
               ", ".join(f"{k} ({v} of {len(cand)} setups)" for k, v in worst))
    why = (f"infeasible: no setup meets {number(X)} {unit}" + (f" within p99 {L * 1000:g} ms" if L else "") +
           (f", {_money(B)}/month" if B else "") + (f", {Pcap:g} kW" if Pcap else "") +
           f". Nearest: {_describe(model, grid, ev, order[0])}, which breaks: {df['breaks'].iloc[0]}.")
    return df, why, binding
