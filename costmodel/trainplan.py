"""Training runs as answers: one setup's run (`predict_training`) and the setups that finish a run by a deadline
within a budget (`plan_training`). Public names are re-exported by hwplan.costmodel.api."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from hwplan.core import fmt
from hwplan.core.errors import HwplanError, UnknownIdError
from hwplan.core.vocab import BASES, PRECISIONS
from hwplan.costmodel import trainrun
from hwplan.costmodel.assumptions import Assumptions
from hwplan.costmodel.cost import costs, device_price_basis, power_band, prices, tco_dict
from hwplan.costmodel.power import describe as power_describe
from hwplan.costmodel.power import device_and_host_power
from hwplan.costmodel.results import Demand, Estimate, PlanResult, clean

RECOMPUTE_NAMES = ("no", "selective", "full")
# device counts a training plan tries: 1-8, then whole 8-device nodes in steps that grow ~1.5x, to 16,384
TRAIN_COUNTS = tuple(sorted({1, 2, 4, 8} | {int(8 * round(x)) for x in np.geomspace(2, 2048, 28)}))
MAX_VOLUME = 1e16   # more tokens or samples than any run has processed: refused as a typo


def _positive(flag: str, v, whole: bool = False) -> float:
    why = f"{flag} must be a {'whole ' if whole else ''}number > 0 (at most {MAX_VOLUME:.0e}); got {str(v)[:40]!r}"
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        raise HwplanError(why) from None
    if isinstance(v, bool) or not np.isfinite(f) or f <= 0 or f > MAX_VOLUME or (whole and f != int(f)):
        raise HwplanError(why)
    return f


# Training workloads hwplan cannot model honestly, and why (the answer names it instead of a wrong run)
NOT_MODELLED = {"dlrm-v2": "its 97 GB of embedding tables are sharded across devices in real runs (model parallel "
                           "embeddings), which the training model does not represent; it would replicate them on every "
                           "device"}


def _check_training(model, workload: str) -> int:
    w = model.workload_index(workload)
    if workload in NOT_MODELLED:
        raise HwplanError(f"--workload {workload}: training is not modelled: {NOT_MODELLED[workload]}")
    if "training" not in str(model.wl_["modes"][w]).split(";") and not str(workload).startswith("custom:"):
        raise HwplanError(f"--workload {workload} is inference-only (modes: {model.wl_['modes'][w]}); training "
                          f"workloads: {', '.join(training_workloads(model))}")
    return w


def training_workloads(model) -> list[str]:
    return [w for i, w in enumerate(model.workloads_) if "training" in str(model.wl_["modes"][i]).split(";")
            and w not in NOT_MODELLED]


def volume_for(model, w: int, tokens=None, samples=None, epochs=None, global_batch=None) -> trainrun.Volume:
    """What a run processes: the user's tokens, samples or epochs, or the workload's reference run (the benchmark's
    samples to its quality target at each global batch it lists)."""
    A = model.arrays_
    wid = model.workloads_[w]
    is_llm = A["wl_is_llm"][w] > 0
    given = [(k, v) for k, v in (("--tokens", tokens), ("--samples", samples), ("--epochs", epochs)) if v is not None]
    if len(given) > 1:
        raise HwplanError(f"give one of --tokens, --samples, --epochs, not {' and '.join(k for k, _ in given)}")
    gb = None if global_batch is None else _positive("--global-batch", global_batch, whole=True)
    runs = trainrun.reference_runs()
    ref = runs[runs["workload"] == wid].sort_values("global_batch_size")
    seq = float(A["wl_train_seq"][w]) if is_llm else 1.0
    if not given:
        if not len(ref):
            what = "--tokens T (tokens to train on)" if is_llm else "--samples S or --epochs E"
            raise HwplanError(f"{wid} has no reference training run (benchmark); give the run's volume: {what}")
        pts = tuple((float(b), float(s)) for b, s in zip(ref["global_batch_size"], ref["converge_samples"]))
        gbs = (gb,) if gb else tuple(b for b, _ in pts)
        bench = str(ref["benchmark"].iloc[0])
        return trainrun.Volume(units=None, gbs=gbs, by_batch=pts, reference=bench, gb_given=bool(gb),
                               label=f"the MLPerf Training {bench} reference run to {ref['quality_target'].iloc[0]} "
                                     f"(samples to converge by global batch: reference convergence points, "
                                     f"{ref['round'].iloc[0]})")
    flag, v = given[0]
    v = _positive(flag, v)
    default_gb = float(A["wl_train_gb"][w]) or (float(ref["global_batch_size"].iloc[0]) if len(ref) else 256.0)
    gbs = (gb or default_gb,)
    if flag == "--tokens":
        if not is_llm:
            raise HwplanError(f"--tokens applies to LLM workloads; {wid} counts samples: give --samples or --epochs")
        return trainrun.Volume(units=v, gbs=gbs, label=f"{v:,.0f} tokens")
    if flag == "--samples":
        units = v * seq
        return trainrun.Volume(units=units, gbs=gbs, label=f"{v:,.0f} {'sequences' if is_llm else 'samples'}")
    size = ref["dataset_size"].dropna()
    if not len(size):
        raise HwplanError(f"--epochs needs the dataset size, which {wid} does not have; give --samples or --tokens")
    units = v * float(size.iloc[0]) * seq
    return trainrun.Volume(units=units, gbs=gbs, label=f"{v:g} epochs of {ref['dataset'].iloc[0]}")


def _precisions(model, w, d, precision) -> list[int]:
    if not trainrun.trains(model.devices_[d]):
        raise HwplanError(f"{model.devices_[d]} is an inference accelerator (no training software stack); choose a "
                          "device that trains (GPUs, TPUs, Gaudi, Trainium, CPUs)")
    ps = trainrun.train_precisions(model.arrays_, w, d, model.workloads_[w])
    if precision in (None, "", "auto"):
        ps = trainrun.train_precisions(model.arrays_, w, d, model.workloads_[w], auto=True)
        if not ps:
            raise HwplanError(f"{model.devices_[d]} has no training precision in the catalog (fp32, tf32, bf16, fp16 "
                              "or fp8 peaks)")
        return ps
    if precision not in PRECISIONS:
        raise UnknownIdError("precision", precision, list(trainrun.TRAIN_PRECISIONS) + ["auto"])
    j = PRECISIONS.index(precision)
    if j not in ps:
        why = ("training does not use it (int8 and fp4 are inference formats)" if precision not in
               trainrun.TRAIN_PRECISIONS else "the device has no peak for it or the workload does not train in it")
        raise HwplanError(f"--precision {precision}: {why}; training precisions here: "
                          f"{', '.join(PRECISIONS[i] for i in ps) or 'none'}")
    return [j]


def runs(model, w: int, d, p, n, vol: trainrun.Volume, eta_on: bool = True) -> dict:
    """The best run per setup (d, p, n arrays broadcast): for each global batch the volume allows, the fastest
    layout that fits; the shortest time to train is kept."""
    A = model.arrays_
    d, p, n = np.broadcast_arrays(np.asarray(d), np.asarray(p), np.asarray(n, dtype=float))
    seq = float(A["wl_train_seq"][w]) if A["wl_is_llm"][w] > 0 else 1.0
    per_sample = seq
    lora = float(A["wl_train_lora"][w])
    T = A.get("train") or {}
    if vol.reference and T:
        frac, secs = float(T["run_frac"][w]), float(T["run_s"][w])
    else:
        frac, secs = 0.0, 0.0
    best = None
    for gb in _batches(A, w, n, vol):
        c = trainrun.search(A, w, d, p, n, gb, seq, lora, eta_on=eta_on)
        units = vol.units_at(gb, per_sample)
        t = np.where(np.isfinite(gb), trainrun.run_seconds(units, c.throughput, frac, secs), np.inf)
        cur = {"chosen": c, "time": t, "units": units, "gb": gb}
        if best is None:
            best = cur
        else:
            better = t < best["time"]
            best = {k: _where(better, cur[k], best[k]) for k in cur}
    assert best is not None
    best["frac"], best["secs"] = frac, secs
    return best


LOCAL_BATCHES = tuple(2 ** k for k in range(11))   # samples per device per step a reference run of a non-LLM model tries


def _batches(A, w, n, vol: trainrun.Volume):
    """Global batches to try per setup: the volume's own; for a non-LLM reference run, whole local batches (1, 2,
    4 ... 1,024 samples per device, and each listed batch rounded to one) up to the largest global batch the
    benchmark's convergence points cover (a
    batch that does not divide over the devices would run a partial micro-batch). LLM runs keep the benchmark's
    listed batches (their layouts split the batch themselves)."""
    n = np.asarray(n, dtype=float)
    if not vol.by_batch or A["wl_is_llm"][w] > 0 or vol.gb_given:
        return [np.full(n.shape, float(g)) for g in vol.gbs]
    top = max(b for b, _ in vol.by_batch)
    out = [np.where(n * k <= top, n * k, np.nan) for k in LOCAL_BATCHES]
    # and each batch the benchmark lists, rounded to a whole local batch
    out += [np.where((n <= b) & (np.round(b / n) * n <= top), np.round(b / n) * n, np.nan) for b, _ in vol.by_batch]
    # the largest whole local batch under the top, where even one sample per device is over it: nothing
    out.append(np.where(n <= top, np.floor(top / n) * n, np.nan))
    return out


def _where(mask, a, b):
    if isinstance(a, trainrun.Chosen):
        from dataclasses import fields

        return trainrun.Chosen(**{f.name: np.where(mask, getattr(a, f.name), getattr(b, f.name)) for f in fields(a)})
    return np.where(mask, a, b)


def _power(A, d, n, busy):
    """(wall W, idle wall W, devices' W): the inference power model (hosts per node + devices), at the step's busy share."""
    wall, dev_w, idle = device_and_host_power(A, d, n, np.clip(busy, 0.05, 1.0))
    return wall, idle, dev_w


def _money(model, d, n, tput, power_w, idle_w, seconds, a: Assumptions) -> dict:
    price, cloud = prices(model.devices_, model.dev_["price_usd"], model.dev_["cloud_usd_per_hour"], a)
    c = costs(n, tput, power_w, idle_w, price[d], cloud[d], a, per_node=np.asarray(model.dev_["per_node"])[d],
              kind=np.asarray(model.dev_["kind"])[d])
    hours = np.where(np.isfinite(seconds), seconds / 3600.0, np.nan)
    kwh = power_w / 1000.0 * hours * a.pue
    return {"usd_per_run_cloud": c["usd_per_hour_cloud"] * hours, "usd_per_run_owned": c["usd_per_hour_owned"] * hours,
            "energy_kwh_per_run": kwh, "co2_kg_per_run": kwh * a.carbon_intensity(), "device_hours": n * hours, **c}


def predict_training(model, workload: str, device: str, count: int = 1, precision: str = "auto", tokens=None,
                     samples=None, epochs=None, global_batch=None, assumptions: Assumptions | None = None) -> Estimate:
    """One training run on count x device: time to train, device-hours, cost, energy and CO2 per run, MFU, the
    parallel layout and memory per device."""
    a = assumptions or Assumptions()
    w = _check_training(model, workload)
    d = model.device_index(device)
    if count is None or isinstance(count, bool) or int(count) != count or int(count) < 1:
        raise HwplanError(f"--count must be a whole number >= 1, not {count}")
    vol = volume_for(model, w, tokens, samples, epochs, global_batch)
    ps = _precisions(model, w, d, precision)
    r = runs(model, w, np.full(len(ps), d), np.array(ps), np.full(len(ps), int(count)), vol)
    j = int(np.argmin(np.where(np.isfinite(r["time"]), r["time"], np.inf))) if len(ps) > 1 else 0
    return _estimate(model, w, d, ps[j], int(count), r, j, vol, a, auto=len(ps) > 1)


def _estimate(model, w, d, p, n, r, j, vol, a, auto=False) -> Estimate:
    A = model.arrays_
    c: trainrun.Chosen = r["chosen"]
    pick = lambda x: float(np.ravel(x)[j])
    fits = bool(np.ravel(c.fits)[j])
    tput = pick(c.throughput)
    seconds = pick(r["time"]) if fits else float("inf")
    power, idle, device_w = _power(A, d, n, pick(c.busy))
    money = _money(model, d, n, tput, power, idle, seconds, a)
    is_llm = A["wl_is_llm"][w] > 0
    unit = "tokens/s" if is_llm else "samples/s"
    T = A.get("train") or {}
    basis = BASES[int(T["basis"][w][d])] if T else "roofline"
    q = (T.get("q") or {}).get(basis, [-0.8, 0.8]) if T else [-0.8, 0.8]
    ceiling = pick(c.peak_throughput)
    high = min(tput * np.exp(q[1]), ceiling) if fits else 0.0
    low = tput * np.exp(q[0]) if fits else 0.0
    units = pick(r["units"])
    gb = pick(r["gb"])
    seq = float(A["wl_train_seq"][w]) if is_llm else 1.0
    steps = units / (gb * seq) if fits else None
    rc = RECOMPUTE_NAMES[int(pick(c.recompute))]
    lay = (f"data parallel {int(pick(c.dp))} x tensor parallel {int(pick(c.tp))} x pipeline {int(pick(c.pp))}"
           + (f" (interleaved {int(pick(c.vp))})" if pick(c.vp) > 1 else "")
           + (f", experts over {int(pick(c.ep))}" if pick(c.ep) > 1 else "")
           + f", ZeRO-{int(pick(c.zero))}" + (" (FSDP)" if pick(c.zero) >= 3 else "")
           + f", {rc} recomputation, micro-batch {int(pick(c.mb))}, {int(pick(c.micro_batches))} micro-batch(es) per step")
    detail = (f"training step model (hwplan.costmodel.training: 6 x params per token + attention for LLMs, 3 x forward "
              f"for other models; data / tensor / pipeline parallel with ZeRO sharding; gradient all-reduce over the "
              f"{'scale-out network' if n > max(A['per_node'][d], A['scaleup'][d], 1) else 'node fabric'}); "
              f"efficiencies fitted on published training results (basis {basis}); volume: {vol.label}; global batch "
              f"{gb:,.0f}; layout: {lay}")
    if vol.reference and T:
        detail += (f"; the benchmark's time outside steps (evaluations, start-up) is fitted: "
                   f"+{float(T['run_frac'][w]) * 100:.0f}% and {float(T['run_s'][w]):,.0f} s per run")
    if auto:
        detail += f"; precision auto: fastest to train ({PRECISIONS[p]})"
    note = ""
    if not fits and not bool(np.ravel(c.valid)[j]):
        note = (f"does not run: the global batch ({gb:,.0f}) cannot be split over {n} x {model.devices_[d]} by any "
                "layout tried (each data-parallel rank needs at least one sample); use fewer devices or --global-batch")
    elif not fits:
        need = int(pick(c.min_devices))
        cap = float(A["mem"][d]) / 1e9 * 2 ** 30 / 1e9
        note = (f"does not fit: the smallest layout tried needs {pick(c.mem_total) / 1e9:,.1f} GB per device (weights "
                f"{pick(c.mem_weights) / 1e9:,.1f}, gradients {pick(c.mem_grads) / 1e9:,.1f}, optimizer "
                f"{pick(c.mem_optimizer) / 1e9:,.1f}, activations {pick(c.mem_activations) / 1e9:,.1f} at micro-batch "
                f"{int(pick(c.mb))}) of {cap:,.0f} GB on {n} x {model.devices_[d]}"
                + (f"; the smallest model-parallel group that holds it: {need} devices" if need else ""))
    if model.dev_["ic_imputed"][d] or not (np.isfinite(A["scaleout"][d]) and A["scaleout"][d] > 0):
        note = (note + "; " if note else "") + "estimated (not in the catalog): scale-out bandwidth (100 Gb/s per node)"
    gbv = lambda x: clean(pick(x) / 1e9) if fits else None
    mfu = pick(c.mfu) if fits else None
    base = Estimate(
        workload=model.workloads_[w], device=model.devices_[d], device_count=n, precision=PRECISIONS[p],
        batch_size=int(pick(c.mb)), scenario="offline", mode="training", throughput=tput, throughput_unit=unit,
        low=float(low), high=float(max(high, tput)), basis=basis, basis_detail=detail,
        latency_p99_s=pick(c.step_s) if fits else None, power_w=float(power),
        energy_per_unit_j=clean(power / tput) if tput > 0 else None,
        usd_per_hour_cloud=clean(money["usd_per_hour_cloud"]), usd_per_hour_owned=clean(money["usd_per_hour_owned"]),
        usd_per_million_units_cloud=clean(money["usd_per_million_cloud"]),
        usd_per_million_units_owned=clean(money["usd_per_million_owned"]),
        co2_kg_per_million_units=clean(money["co2_kg_per_million_units"]),
        parallel_efficiency=None, memory_gb_required=pick(c.mem_total) / 1e9, min_devices=int(pick(c.min_devices)),
        bound=("compute", "memory", "communication", "overhead")[int(pick(c.bound))], device_kind=model.dev_["kind"][d],
        replicas=int(pick(c.dp)), devices_per_replica=int(pick(c.tp) * pick(c.pp)), fits=fits, note=note,
        tensor_parallel=int(pick(c.tp)), pipeline_parallel=int(pick(c.pp)), latency_p50_s=pick(c.step_s) if fits else None,
        peak_throughput=clean(ceiling), flops_per_unit=None, expert_parallel=int(pick(c.ep)),
        device_power_w=clean(float(device_w)), power_basis=power_describe(model.power_),
        devices_per_node=int(A["per_node"][d]) if np.isfinite(A["per_node"][d]) else None,
        weights_gb=gbv(c.mem_weights), activations_gb=gbv(c.mem_activations))
    pb, ps = device_price_basis(model, d, a)
    return replace(base, tco=tco_dict(money), breakeven_months=clean(float(np.ravel(money["breakeven_months"])[0])),
                   price_basis=pb, price_stale=ps,
                   carbon_kg_per_kwh=a.carbon_intensity(), time_to_train_s=clean(seconds) if fits else None,
                   device_hours=clean(money["device_hours"]) if fits else None,
                   usd_per_run_cloud=clean(money["usd_per_run_cloud"]) if fits else None,
                   usd_per_run_owned=clean(money["usd_per_run_owned"]) if fits else None,
                   energy_kwh_per_run=clean(money["energy_kwh_per_run"]) if fits else None,
                   co2_kg_per_run=clean(money["co2_kg_per_run"]) if fits else None,
                   mfu=clean(mfu), data_parallel=int(pick(c.dp)), zero_stage=int(pick(c.zero)), recompute=rc,
                   micro_batch=int(pick(c.mb)), global_batch=int(gb), steps=clean(steps), train_volume=clean(units),
                   train_volume_unit="tokens" if is_llm else "samples", train_volume_label=vol.label,
                   grads_gb=gbv(c.mem_grads), optimizer_gb=gbv(c.mem_optimizer),
                   energy_kwh_per_run_low=clean(money["energy_kwh_per_run"] * np.exp(-q[1]) / power_band(model.power_))
                   if fits else None,
                   energy_kwh_per_run_high=clean(money["energy_kwh_per_run"] * np.exp(-q[0]) * power_band(model.power_))
                   if fits else None,
                   time_to_train_low_s=clean(max(seconds * np.exp(-q[1]), units / ceiling if ceiling > 0 else 0.0))
                   if fits else None,
                   time_to_train_high_s=clean(seconds * np.exp(-q[0])) if fits else None)


# ---- plan ---------------------------------------------------------------------------------------------------

def plan_training(model, demand: Demand, a: Assumptions, top: int = 10) -> PlanResult:
    """Setups (device x precision x count) that finish the run by the deadline (and within the budget per run),
    ranked by cost per run (cloud or owned), then time."""
    w = _check_training(model, demand.workload)
    deadline_h = None if demand.deadline_hours is None else _positive("--deadline-hours", demand.deadline_hours)
    budget = None if demand.budget_usd is None else _positive("--budget-usd", demand.budget_usd)
    vol = volume_for(model, w, demand.token_volume, demand.samples, demand.epochs, demand.global_batch)
    A = model.arrays_
    devs, precs = [], []
    kinds = set(demand.kinds) if demand.kinds else None
    if kinds:
        from hwplan.core.vocab import DEVICE_KINDS

        bad = sorted(kinds - set(DEVICE_KINDS))
        if bad:
            raise HwplanError(f"--kinds: '{bad[0]}' is not a device kind (expected some of {', '.join(DEVICE_KINDS)})")
    for d, dev in enumerate(model.devices_):
        if (kinds and model.dev_["kind"][d] not in kinds) or str(dev).startswith("host:") or not trainrun.trains(dev):
            continue
        for p in trainrun.train_precisions(A, w, d, model.workloads_[w], auto=True):
            devs.append(d)
            precs.append(p)
    if not devs:
        raise HwplanError("no device in the catalog can train this workload with the kinds asked for")
    D = np.repeat(np.array(devs), len(TRAIN_COUNTS))
    P = np.repeat(np.array(precs), len(TRAIN_COUNTS))
    N = np.tile(np.array(TRAIN_COUNTS, dtype=float), len(devs))
    per_node = np.nan_to_num(A["per_node"][D], nan=1.0)
    N = np.where(N > 8, np.ceil(N / np.maximum(per_node, 1)) * np.maximum(per_node, 1), N)
    scaleup = np.nan_to_num(A["scaleup"][D], nan=1.0) if "scaleup" in A else per_node
    whole = (scaleup <= per_node) | (N % np.maximum(per_node, 1) == 0)  # rack-scale devices: whole trays only
    D, P, N = D[whole], P[whole], N[whole]
    r = runs(model, w, D, P, N, vol)
    c = r["chosen"]
    fits = c.fits.astype(bool)
    T = r["time"]
    power, idle, _device_w = _power(A, D, N, c.busy)
    money = _money(model, D, N, c.throughput, power, idle, T, a)
    cost_key = "usd_per_run_cloud" if demand.pricing == "cloud" else "usd_per_run_owned"
    cost = money[cost_key]
    deadline_s = deadline_h * 3600.0 if deadline_h else np.inf
    meets_time = fits & (deadline_s >= T)
    priced = np.isfinite(cost)
    meets_budget = (cost <= budget) if budget else np.ones_like(meets_time)
    power_ok = (power / 1000.0 <= demand.power_cap_kw) if demand.power_cap_kw else np.ones_like(meets_time)
    ok = meets_time & priced & meets_budget & power_ok
    from hwplan.costmodel.cost import price_basis

    pb_all, ps_all = price_basis(model.devices_, model.dev_["price_basis"], model.dev_["price_stale"], a, demand.pricing)
    pbasis, pstale = [pb_all[i] for i in D], [ps_all[i] for i in D]
    frame = pd.DataFrame({
        "device": [model.devices_[i] for i in D], "kind": [model.dev_["kind"][i] for i in D],
        "precision": [PRECISIONS[i] for i in P], "count": N.astype(int),
        "time_to_train_h": T / 3600.0, "device_hours": money["device_hours"],
        "usd_per_run_cloud": money["usd_per_run_cloud"], "usd_per_run_owned": money["usd_per_run_owned"],
        "energy_kwh_per_run": money["energy_kwh_per_run"], "co2_kg_per_run": money["co2_kg_per_run"],
        "mfu": c.mfu, "throughput": c.throughput, "power_kw": power / 1000.0,
        "data_parallel": c.dp.astype(int), "tensor_parallel": c.tp.astype(int), "pipeline_parallel": c.pp.astype(int),
        "zero_stage": c.zero.astype(int), "recompute": [RECOMPUTE_NAMES[int(x)] for x in c.recompute],
        "global_batch": r["gb"].astype(int), "memory_gb_per_device": c.mem_total / 1e9,
        "basis": [BASES[int(A["train"]["basis"][w][i])] if A.get("train") else "roofline" for i in D],
        "fits": fits, "meets_deadline": meets_time, "priced": priced,
        "price_basis": pbasis, "price_stale": pstale,
    })
    # the time's 80 % interval from the throughput's (per basis); never faster than the peak throughput allows
    q = (A.get("train") or {}).get("q") or {}
    qlo, qhi = (np.array([(q.get(b) or [-0.8, 0.8])[k] for b in frame["basis"]]) for k in (0, 1))
    ceiling = np.asarray(c.peak_throughput, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        fastest_s = np.where(ceiling > 0, r["units"] / ceiling, 0.0)
    frame["time_to_train_low_h"] = np.where(fits, np.maximum(T * np.exp(-qhi), fastest_s), np.nan) / 3600.0
    frame["time_to_train_high_h"] = np.where(fits, T * np.exp(-qlo), np.nan) / 3600.0
    frame["_cost"] = np.where(priced, cost, np.inf)
    feasible = frame[ok].sort_values(["_cost", "time_to_train_h"])
    # one row per device and precision: its cheapest count that meets the demand
    ranked = feasible.drop_duplicates(["device", "precision"]).head(top).drop(columns="_cost").reset_index(drop=True)
    notes = []
    unpriced = sorted({model.devices_[i] for i in D[meets_time & ~priced]})
    if unpriced:
        notes.append(f"meet the deadline but have no {demand.pricing} price (left out; add one with a price override): "
                     + ", ".join(unpriced))
    if len(ranked):
        best = ranked.iloc[0]
        why = (f"{best['count']} x {best['device']} ({best['precision']}) trains {vol.label} in "
               f"{fmt.duration(best['time_to_train_h'] * 3600)} for {fmt.usd(best[cost_key])} per run ({demand.pricing}), "
               f"the cheapest "
               f"setup that meets the deadline; layout DP {best['data_parallel']} x TP {best['tensor_parallel']} x PP "
               f"{best['pipeline_parallel']}, MFU {best['mfu'] * 100:.0f}%")
        binding = "deadline" if deadline_h else "cost"
    else:
        limits = [x for x, on in (("the deadline", deadline_h), ("the budget", budget),
                                  ("the power cap", demand.power_cap_kw)) if on]
        in_time = frame["meets_deadline"]
        why = "no setup meets " + " and ".join(limits) if limits else "no setup fits"
        if demand.power_cap_kw and in_time.any() and not (in_time & power_ok).any():
            why += f" (some finish in time, but each draws more than {demand.power_cap_kw:g} kW)"
        elif budget and in_time.any() and not (in_time & meets_budget).any():
            why += f" (some finish in time, but each costs more than ${budget:,.0f} per run)"
        binding = ("power cap" if demand.power_cap_kw and in_time.any() and not (in_time & power_ok).any() else
                   "budget" if budget and in_time.any() and not (in_time & meets_budget).any() else "deadline")
    fastest = frame[fits].sort_values("time_to_train_h").drop_duplicates(["device", "precision"]).head(top)
    nearest = fastest.drop(columns="_cost").reset_index(drop=True) if not len(ranked) else ranked.head(0)
    pareto = _pareto(frame[fits & priced])
    return PlanResult(ranked=ranked, pareto=pareto, why=why, binding=binding, feasible=bool(len(ranked)),
                      nearest=nearest, assumptions=a, demand=demand, candidates_evaluated=len(frame), notes=notes)


def _pareto(df: pd.DataFrame) -> pd.DataFrame:
    """Setups no other setup beats on both time to train and cost per run."""
    if not len(df):
        return df.drop(columns="_cost", errors="ignore")
    s = df.sort_values(["time_to_train_h", "_cost"])
    keep = s["_cost"].cummin()
    mask = s["_cost"] <= keep.shift(fill_value=np.inf) - 1e-9
    return s[mask].drop(columns="_cost").reset_index(drop=True)
