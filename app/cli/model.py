"""`hwplan predict`, `hwplan plan`, `hwplan validate`: the cost model from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from hwplan.app.cli import options, output
from hwplan.core import fmt
from hwplan.core.errors import HwplanError, Problem, UnknownIdError, ValidationError
from hwplan.core.vocab import MODES, PRECISIONS

BATCH_REQUIRED = ("workload", "device", "device_count", "scenario")
TRAINING_BATCH_FIELDS = ("precision", "throughput", "throughput_unit", "time_to_train_s", "time_to_train_low_s",
                         "time_to_train_high_s", "device_hours", "usd_per_run_cloud", "usd_per_run_owned",
                         "energy_kwh_per_run", "co2_kg_per_run", "mfu", "data_parallel", "tensor_parallel",
                         "pipeline_parallel", "zero_stage", "recompute", "global_batch", "memory_gb_required", "basis",
                         "fits", "note")


def register(sub) -> None:
    p = sub.add_parser("predict", help="predict throughput, power and cost of a setup")
    p.add_argument("--workload")
    p.add_argument("--device")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--precision", default="auto", help=", ".join(PRECISIONS) + " or auto (default)")
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--scenario", choices=["offline", "server"], default="offline")
    p.add_argument("--mode", choices=MODES, default="inference")
    options.llm_request(p)
    options.training_run(p)
    options.assumptions(p)
    p.add_argument("--queries", metavar="IN.csv",
                   help="batch form: columns workload, device, device_count, scenario[, precision, batch_size, mode, "
                        "input_len, output_len, kv_precision, tokens, samples, epochs]")
    p.add_argument("--out", metavar="OUT.csv", help="batch form output" + options.OUT_FOLDER_HELP)
    options.db(p)
    options.as_json(p)
    p.set_defaults(handler=cmd_predict)

    p = sub.add_parser("plan", help="rank hardware setups that meet a demand")
    options.plan_demand(p)
    options.db(p)
    options.as_json(p)
    p.set_defaults(handler=cmd_plan)

    p = sub.add_parser("validate", help="measure prediction accuracy on held-out data; writes docs/accuracy.md")
    p.add_argument("--out", default="docs/accuracy.md", help="the Markdown report (default: %(default)s)"
                   + options.OUT_FOLDER_HELP)
    options.db(p)
    options.as_json(p)
    p.set_defaults(handler=cmd_validate)


def fitted_model(args: argparse.Namespace):
    """The model fitted on the store the command names (seeded first), from the cost model's one cache."""
    from hwplan.costmodel.cache import model_for_db

    return model_for_db(getattr(args, "db", None))


def _n(x, unit: str = "", digits: int = 4) -> str:
    text = fmt.number(x, digits)
    return text + (f" {unit}" if unit and text != fmt.MISSING else "")


def cmd_predict(args: argparse.Namespace) -> int:
    if args.queries:
        return _predict_batch(args)
    if not (args.workload or args.model_config) or not args.device:
        raise HwplanError("give --workload (or --model-config config.json) and --device (or --queries IN.csv --out "
                          "OUT.csv for many setups)")
    from hwplan.costmodel.api import predict

    model, workload = options.model_workload(args, fitted_model(args))
    volume = options.training_volume(args)
    if args.mode == "training":
        return _predict_training(args, model, workload)
    given = [f"--{k.replace('_', '-')}" for k, v in volume.items() if v is not None]
    if given:
        raise HwplanError(f"{', '.join(given)} describe a training run: add --mode training")
    est = predict(model, workload, args.device, count=args.count, precision=args.precision, batch=args.batch,
                  scenario=args.scenario, mode=args.mode, input_len=args.input_len, output_len=args.output_len,
                  kv_precision=args.kv_precision, assumptions=options.assumptions_of(args))
    if args.json:
        output.emit_json(est.as_dict())
        return 0
    u = est.throughput_unit
    print(f"{est.workload} on {est.device_count} x {est.device} ({est.device_kind}), {est.precision}, batch {est.batch_size}, "
          f"{est.scenario} {est.mode}")
    lines = []
    if not est.fits:
        lines.append(("note", est.note))
    lines += [
        ("throughput", f"{_n(est.throughput, u)}  (80% interval {_n(est.low)} - {_n(est.high)})"),
        ("basis", f"{est.basis}: {est.basis_detail}"),
        ("bound", f"{est.bound}; {est.devices_per_replica} device(s) per replica x {est.replicas} replica(s); "
                  f"parallel efficiency {_n(est.parallel_efficiency, digits=3)}"),
        ("memory", f"{_n(est.memory_gb_required, 'GB')} per replica; min devices {est.min_devices}"),
        *_serving_lines(est),
        ("latency p99", fmt.ms(est.latency_p99_s) + (" (a whole request: first token to last)"
                                                      if est.tpot_p50_s is not None else "")),
        ("power", f"{fmt.watts(est.power_w)} at the wall ({fmt.watts(est.device_power_w)} of devices); energy "
                  f"{_n(est.energy_per_unit_j, 'J')} per {fmt.per_unit(u)} (80% interval {_n(est.energy_per_unit_low_j)} - "
                  f"{_n(est.energy_per_unit_high_j)})"),
        ("cost (cloud)", f"{fmt.usd(est.usd_per_month_cloud)}/month held ({fmt.usd(est.usd_per_hour_cloud, 'h')} rented); "
                         f"{fmt.usd(est.usd_per_million_units_cloud)} per million at the utilisation"),
        ("cost (owned)", f"{fmt.usd(est.usd_per_month_owned)}/month (TCO; {fmt.usd(est.usd_per_hour_owned, 'h')} per busy "
                         f"hour); {fmt.usd(est.usd_per_million_units_owned)} per million at the utilisation"),
        ("CO2", f"{fmt.co2(est.co2_kg_per_million_units)} per million "
                f"({est.carbon_kg_per_kwh:g} kg per kWh of the grid region)"),
        *tco_lines(est),
    ]
    if est.note and est.fits:
        lines.append(("note", est.note))
    output.fields(lines)
    return 0


def tco_lines(est) -> list[tuple[str, str]]:
    """Where the cloud price comes from (and whether it is stale), the owned TCO by term, the break-even."""
    out = []
    if est.price_basis:
        out.append(("cloud price", est.price_basis + ("  STALE: older than a year or undated" if est.price_stale else "")))
    t = est.tco or {}
    if t.get("owned_usd_per_month") and t.get("owned_total_usd_per_month") is not None:
        m = t["owned_usd_per_month"]
        terms = ", ".join(f"{k} {fmt.usd(v)}" for k, v in m.items() if v is not None)
        capex = sum(v or 0 for v in t["capex_usd"].values())
        out.append(("TCO (owned)", f"{fmt.usd(t['owned_total_usd_per_month'])}/month = {terms}; capex {fmt.usd(capex)} "
                                   f"over {fmt.count(t.get('nodes'))} node(s)"))
    if est.breakeven_months is not None:
        out.append(("rent vs buy", f"buying breaks even after {fmt.number(est.breakeven_months)} months of use"))
    elif t.get("cloud_usd_per_month") is not None and t.get("owned_total_usd_per_month") is not None:
        out.append(("rent vs buy", "renting stays cheaper (buying never breaks even at these prices)"))
    return out


def _predict_training(args, model, workload) -> int:
    from hwplan.costmodel.api import predict_training

    est = predict_training(model, workload, args.device, count=args.count, precision=args.precision,
                           assumptions=options.assumptions_of(args), **options.training_volume(args))
    if args.json:
        output.emit_json(est.as_dict())
        return 0
    print(f"{est.workload} training on {est.device_count} x {est.device} ({est.device_kind}), {est.precision}")
    output.fields(training_lines(est))
    return 0


def training_lines(est) -> list[tuple[str, str]]:
    """A training run's figures, one (label, text) per line."""
    if not est.fits:
        return [("note", est.note), ("basis", f"{est.basis}: {est.basis_detail}")]
    u = est.throughput_unit
    lines = [
        ("volume", f"{est.train_volume_label}" + ("" if str(est.train_volume_label).endswith(str(est.train_volume_unit))
                                                   else f" ({_n(est.train_volume, est.train_volume_unit)})") + "; global batch "
                   f"{fmt.count(est.global_batch)}, {fmt.count(est.steps)} steps"),
        ("time to train", f"{fmt.duration(est.time_to_train_s)}  (80% interval {fmt.duration(est.time_to_train_low_s)} - "
                          f"{fmt.duration(est.time_to_train_high_s)})"),
        ("throughput", f"{_n(est.throughput, u)}; MFU {fmt.percent(est.mfu)}; step {fmt.seconds(est.latency_p50_s)}"),
        ("layout", f"DP {est.data_parallel} x TP {est.tensor_parallel} x PP {est.pipeline_parallel}"
                   + (f" x EP {est.expert_parallel}" if (est.expert_parallel or 1) > 1 else "")
                   + f", ZeRO-{est.zero_stage}, {est.recompute} recomputation, micro-batch {est.micro_batch}"),
        ("memory/device", f"{_n(est.memory_gb_required, 'GB')}: weights {_n(est.weights_gb, 'GB')}, gradients "
                          f"{_n(est.grads_gb, 'GB')}, optimizer {_n(est.optimizer_gb, 'GB')}, activations "
                          f"{_n(est.activations_gb, 'GB')}"),
        ("device-hours", fmt.count(est.device_hours)),
        ("cost per run", f"cloud {fmt.usd(est.usd_per_run_cloud)}; owned {fmt.usd(est.usd_per_run_owned)}"),
        ("energy per run", f"{fmt.kwh(est.energy_kwh_per_run)} (80% interval {fmt.kwh(est.energy_kwh_per_run_low)} - "
                           f"{fmt.kwh(est.energy_kwh_per_run_high)}; facility, PUE included); CO2 "
                           f"{fmt.co2(est.co2_kg_per_run)}"),
        ("power", f"{fmt.watts(est.power_w)} ({est.power_scope})"),
        *tco_lines(est)[:1],
        ("basis", f"{est.basis}: {est.basis_detail}"),
    ]
    if est.note:
        lines.append(("note", est.note))
    return lines


def _serving_lines(est) -> list[tuple[str, str]]:
    """LLM serving: the request shape, TTFT / TPOT, layout and memory split of an estimate."""
    if est.input_len is None:
        return []
    if not est.fits:
        return [("request", f"{fmt.count(est.input_len)} prompt + {fmt.count(est.output_len)} output tokens")]
    ep = f" x EP {est.expert_parallel}" if (est.expert_parallel or 1) > 1 else ""
    return [
        ("request", f"{fmt.count(est.input_len)} prompt + {fmt.count(est.output_len)} output tokens; KV cache "
                    f"{est.kv_precision}; {fmt.count(est.concurrency)} requests in flight"),
        ("TTFT", f"p50 {fmt.ms(est.ttft_p50_s)}, p99 {fmt.ms(est.ttft_p99_s)}"),
        ("TPOT", f"p50 {fmt.ms(est.tpot_p50_s)}, p99 {fmt.ms(est.tpot_p99_s)}"),
        ("tokens/s", f"{_n(est.throughput)} output, {_n(est.total_tokens_per_s)} prompt + output"),
        ("layout", f"{est.replicas} replica(s) of TP {est.tensor_parallel} x PP {est.pipeline_parallel}{ep}; "
                   f"{est.devices_per_node} devices per node"),
        ("memory/replica", f"weights {_n(est.weights_gb, 'GB')}, KV cache {_n(est.kv_cache_gb, 'GB')}, activations "
                           f"{_n(est.activations_gb, 'GB')}"),
    ]


def _predict_batch(args: argparse.Namespace) -> int:
    import pandas as pd

    from hwplan.costmodel.api import predict

    if not args.out:
        raise HwplanError("the batch form needs --out OUT.csv")
    src = Path(args.queries)
    if not src.is_file():
        raise HwplanError(f"{src}: no such file (expected a CSV with columns {', '.join(BATCH_REQUIRED)}[, precision])")
    out_path = options.out_file(args.out)
    q = pd.read_csv(src, dtype=str, keep_default_na=False)
    missing = [c for c in BATCH_REQUIRED if c not in q.columns]
    if missing:
        raise ValidationError([Problem(src.name, 0, c, "required column is missing") for c in missing])
    model = fitted_model(args)
    problems, rows = [], []
    for i, r in q.iterrows():
        line = int(i) + 2
        try:
            count = int(float(r["device_count"] or 1))
            batch = r.get("batch_size", "") or None
            lens = {k: (str(r.get(k, "") or "").strip() or None) for k in ("input_len", "output_len")}
            mode = (r.get("mode", "") or "inference").strip()
            if mode == "training":
                from hwplan.costmodel.api import predict_training

                vol = {k: (str(r.get(k, "") or "").strip() or None) for k in ("tokens", "samples", "epochs")}
                est = predict_training(model, r["workload"].strip(), r["device"].strip(), count=count,
                                       precision=(r.get("precision", "") or "auto").strip(), **vol)
                rows.append({**dict(r), **{k: getattr(est, k) for k in TRAINING_BATCH_FIELDS}})
                continue
            est = predict(model, r["workload"].strip(), r["device"].strip(), count=count,
                          precision=(r.get("precision", "") or "auto").strip(), batch=int(float(batch)) if batch else None,
                          scenario=(r["scenario"] or "offline").strip().lower(), mode=(r.get("mode", "") or "inference").strip(),
                          input_len=lens["input_len"], output_len=lens["output_len"],
                          kv_precision=(str(r.get("kv_precision", "") or "").strip() or None))
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
        if est.input_len is not None:
            out.update(input_len=est.input_len, output_len=est.output_len, ttft_p50_s=est.ttft_p50_s,
                       ttft_p99_s=est.ttft_p99_s, tpot_p50_s=est.tpot_p50_s, tpot_p99_s=est.tpot_p99_s,
                       tensor_parallel=est.tensor_parallel, pipeline_parallel=est.pipeline_parallel,
                       replicas=est.replicas, weights_gb=est.weights_gb, kv_cache_gb=est.kv_cache_gb)
        rows.append(out)
    if problems:
        raise ValidationError(problems, f"{len(problems)} query row(s) cannot be predicted; nothing was written")
    try:
        from hwplan.core.tableio import write_table

        write_table(pd.DataFrame(rows), "csv", out_path)
    except OSError as exc:
        raise options.write_failed(out_path, exc) from exc
    if args.json:
        output.emit_json({"rows": len(rows), "out": str(args.out)})
    else:
        output.error(f"wrote {len(rows)} prediction(s) to {args.out}")
    return 0


SETUP_COLUMNS: list[output.Column] = [
    ("device", "device", output.text), ("count", "count", fmt.count), ("precision", "precision", output.text),
    ("batch_size", "batch", fmt.count),
]


def cmd_plan(args: argparse.Namespace) -> int:
    from hwplan.costmodel.api import Demand, plan

    if not args.workload and not args.model_config:
        raise HwplanError("give --workload (see `hwplan catalog workloads`) or --model-config config.json")
    if args.mode == "training":
        return _plan_training(args)
    if args.request_rate is None and (args.throughput is None or args.throughput <= 0):
        raise HwplanError("give --throughput > 0: whole-setup samples/s (tokens/s for LLMs), or --request-rate for an LLM")
    model, workload = options.model_workload(args, fitted_model(args))
    demand = Demand(workload=workload, throughput=args.throughput, mode=args.mode, latency_p99_ms=args.latency_p99_ms,
                    budget_usd_month=args.budget_usd_month, power_cap_kw=args.power_cap_kw, kinds=options.kinds(args.kinds),
                    pricing=args.pricing, ttft_p99_ms=args.ttft_p99_ms, tpot_p99_ms=args.tpot_p99_ms,
                    request_rate=args.request_rate, input_len=args.input_len, output_len=args.output_len,
                    kv_precision=args.kv_precision)
    res = plan(model, demand, assumptions=options.assumptions_of(args), top=args.top)
    if args.json:
        output.emit_json(res.as_dict())
        return 0
    print(res.why)
    print(f"binding: {res.binding}")
    table = res.ranked if res.feasible else res.nearest
    if len(table):
        unit = str(table["throughput_unit"].iloc[0])
        llm = table["tpot_p99_s"].notna().any() if "tpot_p99_s" in table else False
        setup = SETUP_COLUMNS if not llm else [c for c in SETUP_COLUMNS if c[0] != "batch_size"] + [
            ("tensor_parallel", "TP", fmt.count), ("pipeline_parallel", "PP", fmt.count),
            ("replicas", "replicas", fmt.count), ("concurrency", "in flight", fmt.count)]
        lat = [("latency_p99_s", "p99", fmt.seconds)] if not llm else [
            ("ttft_p99_s", "TTFT p99", fmt.seconds), ("tpot_p99_s", "TPOT p99", fmt.seconds)]
        cols = [("rank", "#", fmt.count), *setup, ("throughput", unit, fmt.number), ("basis", "basis", output.text),
                *lat, ("power_kw", "power", fmt.kw), ("usd_per_month", "$/month", fmt.usd),
                ("usd_per_million_units", "$/million", fmt.usd), ("energy_kwh_per_month", "energy/month", fmt.kwh)]
        if not res.feasible:
            cols.append(("breaks", "breaks", output.text))
        print()
        output.table(table.to_dict("records"), cols,
                     title="ranked setups:" if res.feasible else "nearest setups (none meets every limit):")
    if res.feasible and len(res.pareto):
        print()
        output.table(res.pareto.to_dict("records"),
                     [*SETUP_COLUMNS, ("usd_per_month", "$/month", fmt.usd), ("latency_p99_s", "p99", fmt.seconds),
                      ("energy_kwh_per_month", "energy/month", fmt.kwh)],
                     title=f"Pareto front (cost, latency, energy): {len(res.pareto)} setup(s)")
    _price_notes(res)
    for n in res.notes:
        print(f"\nnote: {n}")
    print(f"\n{res.candidates_evaluated:,} candidate setups evaluated")
    return 0


TRAINING_COLUMNS: list[output.Column] = [
    ("rank", "#", fmt.count), ("device", "device", output.text), ("count", "count", fmt.count),
    ("precision", "precision", output.text), ("layout", "DP x TP x PP", output.text),
    ("time_to_train_h", "time to train", lambda h: fmt.duration(h * 3600.0)), ("device_hours", "device-h", fmt.count),
    ("usd_per_run_cloud", "$/run cloud", fmt.usd), ("usd_per_run_owned", "$/run owned", fmt.usd),
    ("energy_kwh_per_run", "energy/run", fmt.kwh), ("co2_kg_per_run", "CO2/run", fmt.co2), ("mfu", "MFU", fmt.percent),
    ("basis", "basis", output.text),
]


def _plan_training(args) -> int:
    from hwplan.costmodel.api import Demand, plan

    if args.deadline_hours is None and args.budget_usd is None:
        raise HwplanError("a training plan needs --deadline-hours H (and/or --budget-usd USD per run)")
    if args.throughput is not None or args.request_rate is not None:
        raise HwplanError("--throughput / --request-rate describe serving; a training plan takes the run's volume "
                          "(--tokens, --samples or --epochs; none: the benchmark's run) and --deadline-hours")
    model, workload = options.model_workload(args, fitted_model(args))
    vol = options.training_volume(args)
    demand = Demand(workload=workload, mode="training", token_volume=vol["tokens"], samples=vol["samples"],
                    epochs=vol["epochs"], global_batch=vol["global_batch"], deadline_hours=args.deadline_hours,
                    budget_usd=args.budget_usd, power_cap_kw=args.power_cap_kw, kinds=options.kinds(args.kinds),
                    pricing=args.pricing)
    res = plan(model, demand, assumptions=options.assumptions_of(args), top=args.top)
    if args.json:
        output.emit_json(res.as_dict())
        return 0
    print(res.why)
    table = res.ranked if res.feasible else res.nearest
    if len(table):
        rows = table.assign(rank=range(1, len(table) + 1),
                            layout=[f"{a} x {b} x {c}" for a, b, c in zip(table["data_parallel"], table["tensor_parallel"],
                                                                          table["pipeline_parallel"])])
        print()
        output.table(rows.to_dict("records"), TRAINING_COLUMNS,
                     title="ranked setups:" if res.feasible else "fastest setups (none meets the deadline and budget):")
    _price_notes(res)
    for n in res.notes:
        print(f"\nnote: {n}")
    print(f"\n{res.candidates_evaluated:,} candidate setups evaluated")
    return 0


def _price_notes(res) -> None:
    """The recommendation's price source, and which ranked prices are stale."""
    table = res.ranked if res.feasible else res.nearest
    if not len(table) or "price_basis" not in table:
        return
    print(f"\nprice of #1: {table['price_basis'].iloc[0]}")
    stale = sorted(set(table.loc[table["price_stale"].astype(bool), "device"]))
    if stale:
        print(f"STALE prices (older than a year or undated): {', '.join(stale)}")


def cmd_validate(args: argparse.Namespace) -> int:
    from hwplan.costmodel.cache import store_measurements
    from hwplan.costmodel.validate import run_validation, write_markdown

    out = options.out_file(args.out)
    meas = store_measurements(getattr(args, "db", None))
    report = run_validation(meas)
    try:
        write_markdown(report, out)
    except OSError as exc:
        raise options.write_failed(out, exc) from exc
    if args.json:
        report.pop("_rows", None)
        output.emit_json(report)
    else:
        for line in report["summary_lines"]:
            print(line)
        print(f"wrote {args.out}")
    return 0
