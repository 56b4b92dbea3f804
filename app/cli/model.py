"""Handlers of `hwplan predict`, `hwplan plan` and `hwplan validate` (arguments live in app/cli.py)."""

from __future__ import annotations

from hwplan.core.units import human
import sys
from pathlib import Path

from hwplan.core.errors import HwplanError, Problem, UnknownIdError, ValidationError


def _emit_json(obj) -> None:
    from hwplan.app.cli import emit_json

    emit_json(obj)


def _model(args):
    from hwplan.costmodel.api import load_or_fit

    return load_or_fit(getattr(args, "db", None))


def _fmt(x, unit: str = "", digits: int = 4) -> str:
    if x is None:
        return "n/a"
    return f"{human(x, digits)}{(' ' + unit) if unit else ''}"


def cmd_predict(args) -> int:
    if args.queries:
        return _predict_batch(args)
    if not args.workload or not args.device:
        raise HwplanError("give --workload and --device (or --queries IN.csv --out OUT.csv for many setups)")
    from hwplan.costmodel.api import predict

    model = _model(args)
    est = predict(model, args.workload, args.device, count=args.count, precision=args.precision, batch=args.batch,
                  scenario=args.scenario, mode=getattr(args, "mode", "inference"))
    if args.json:
        _emit_json(est.as_dict())
        return 0
    u = est.throughput_unit
    print(f"{est.workload} on {est.device_count} x {est.device} ({est.device_kind}), {est.precision}, batch {est.batch_size}, "
          f"{est.scenario} {est.mode}")
    if not est.fits:
        print(f"  {est.note}")
    print(f"  throughput        {_fmt(est.throughput, u)}  (80% interval {_fmt(est.low)} - {_fmt(est.high)})")
    print(f"  basis             {est.basis}: {est.basis_detail}")
    print(f"  bound             {est.bound}; {est.devices_per_replica} device(s) per replica x {est.replicas} replica(s); "
          f"parallel efficiency {_fmt(est.parallel_efficiency, digits=3)}")
    print(f"  memory            {_fmt(est.memory_gb_required, 'GB')} per replica; min devices {est.min_devices}")
    print(f"  latency p99       {_fmt(None if est.latency_p99_s is None else est.latency_p99_s * 1000, 'ms')}")
    print(f"  power             {_fmt(est.power_w, 'W')} ({est.power_scope}); energy {_fmt(est.energy_per_unit_j, 'J')} per "
          f"{u.split('/')[0].rstrip('s')}")
    print(f"  cost (cloud)      {_fmt(est.usd_per_hour_cloud, 'USD/h')}; {_fmt(est.usd_per_million_units_cloud, 'USD')} per million")
    print(f"  cost (owned)      {_fmt(est.usd_per_hour_owned, 'USD/h')}; {_fmt(est.usd_per_million_units_owned, 'USD')} per million")
    print(f"  CO2               {_fmt(est.co2_kg_per_million_units, 'kg')} per million")
    if est.note and est.fits:
        print(f"  note              {est.note}")
    return 0


BATCH_REQUIRED = ("workload", "device", "device_count", "scenario")


def _predict_batch(args) -> int:
    import pandas as pd

    from hwplan.costmodel.api import predict

    if not args.out:
        raise HwplanError("the batch form needs --out OUT.csv")
    src = Path(args.queries)
    if not src.is_file():
        raise HwplanError(f"{src}: no such file (expected a CSV with columns {', '.join(BATCH_REQUIRED)}[, precision])")
    q = pd.read_csv(src, dtype=str, keep_default_na=False)
    missing = [c for c in BATCH_REQUIRED if c not in q.columns]
    if missing:
        raise ValidationError([Problem(src.name, 0, c, "required column is missing") for c in missing])
    model = _model(args)
    problems, rows = [], []
    for i, r in q.iterrows():
        line = int(i) + 2
        try:
            count = int(float(r["device_count"] or 1))
            batch = r.get("batch_size", "") or None
            est = predict(model, r["workload"].strip(), r["device"].strip(), count=count,
                          precision=(r.get("precision", "") or "auto").strip(), batch=int(float(batch)) if batch else None,
                          scenario=(r["scenario"] or "offline").strip().lower(), mode=(r.get("mode", "") or "inference").strip())
        except UnknownIdError as err:
            problems.append(Problem(src.name, line, err.what.split()[-1] if err.what in ("workload", "device") else err.what,
                                    str(err)))
            continue
        except (HwplanError, ValueError) as err:
            problems.append(Problem(src.name, line, "row", str(err)))
            continue
        out = dict(r)
        out.update(precision=est.precision, batch_size=est.batch_size, throughput=est.throughput,
                   throughput_unit=est.throughput_unit, low=est.low, high=est.high, power_w=est.power_w,
                   energy_per_unit_j=est.energy_per_unit_j,
                   usd_per_hour=est.usd_per_hour_cloud if est.usd_per_hour_cloud is not None else est.usd_per_hour_owned,
                   usd_per_hour_owned=est.usd_per_hour_owned, basis=est.basis, bound=est.bound,
                   parallel_efficiency=est.parallel_efficiency, note=est.note)
        rows.append(out)
    if problems:
        raise ValidationError(problems, f"{len(problems)} query row(s) cannot be predicted; nothing was written")
    pd.DataFrame(rows).to_csv(args.out, index=False)
    if args.json:
        _emit_json({"rows": len(rows), "out": str(args.out)})
    else:
        print(f"wrote {len(rows)} prediction(s) to {args.out}", file=sys.stderr)
    return 0


def cmd_plan(args) -> int:
    from hwplan.costmodel.api import Demand, plan

    if not args.workload:
        raise HwplanError("give --workload (see `hwplan catalog workloads`)")
    if args.throughput is None or args.throughput <= 0:
        raise HwplanError("give --throughput > 0: whole-setup samples/s (tokens/s for LLMs)")
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()] if args.kinds else None
    demand = Demand(workload=args.workload, throughput=args.throughput, mode=args.mode, latency_p99_ms=args.latency_p99_ms,
                    budget_usd_month=args.budget_usd_month, power_cap_kw=args.power_cap_kw, kinds=kinds,
                    pricing=args.pricing)
    model = _model(args)
    res = plan(model, demand, top=args.top)
    if args.json:
        _emit_json(res.as_dict())
        return 0
    print(res.why)
    print(f"binding: {res.binding}")
    cols = ["rank", "device", "count", "precision", "batch_size", "throughput", "basis", "latency_p99_s", "power_kw",
            "usd_per_month", "usd_per_million_units", "energy_kwh_per_month"]
    table = res.ranked if res.feasible else res.nearest
    if len(table):
        print("\nranked setups:" if res.feasible else "\nnearest setups (none meets every limit):")
        show = table[[c for c in cols if c in table] + (["breaks"] if not res.feasible else [])]
        print(show.to_string(index=False, float_format=lambda v: f"{human(v)}"))
    if res.feasible and len(res.pareto):
        print(f"\nPareto front (cost, latency, energy): {len(res.pareto)} setup(s)")
        print(res.pareto[["device", "count", "precision", "batch_size", "usd_per_month", "latency_p99_s",
                          "energy_kwh_per_month"]].to_string(index=False, float_format=lambda v: f"{human(v)}"))
    for n in res.notes:
        print(f"\nnote: {n}")
    print(f"\n{res.candidates_evaluated:,} candidate setups evaluated")
    return 0


def cmd_validate(args) -> int:
    from hwplan.costmodel.api import load_store_measurements
    from hwplan.costmodel.validate import run_validation, write_markdown

    meas = load_store_measurements(getattr(args, "db", None))
    report = run_validation(meas)
    write_markdown(report, args.out)
    if args.json:
        _emit_json(report)
    else:
        for line in report["summary_lines"]:
            print(line)
        print(f"wrote {args.out}")
    return 0
