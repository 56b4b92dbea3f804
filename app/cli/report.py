"""`hwplan report`: the same reports as the dashboard, from plan arguments or from a saved report id."""

from __future__ import annotations

import argparse
import os
import sys

from hwplan.app.cli import options, output
from hwplan.app.reports import FORMATS
from hwplan.core.errors import HwplanError

NOT_FOUND = "report not found"


def register(sub) -> None:
    p = sub.add_parser("report", help="make a planning report (HTML, PDF, Markdown, CSV)")
    options.plan_demand(p)
    p.add_argument("--id", help="a saved report's id instead of plan arguments")
    p.add_argument("--title", default="Hardware plan")
    p.add_argument("--author", default=os.environ.get("USER", ""))
    p.add_argument("--format", choices=FORMATS, required=True)
    p.add_argument("--out", required=True, metavar="FILE", help="the report file, or - for standard output"
                   + options.OUT_FOLDER_HELP)
    p.add_argument("--save", action="store_true", help="also save the report in the store and print its id")
    options.db(p)
    p.set_defaults(handler=cmd_report)


def plan_inputs(args: argparse.Namespace) -> dict:
    return {"workload": args.workload, "throughput": args.throughput, "mode": args.mode,
            "latency_p99_ms": args.latency_p99_ms, "budget_usd_month": args.budget_usd_month,
            "power_cap_kw": args.power_cap_kw, "kinds": options.kinds(args.kinds), "pricing": args.pricing, "top": args.top,
            **{k: getattr(args, k) for k in SERVING_INPUTS if getattr(args, k, None) is not None},
            **({k: v for k, v in {"token_volume": args.tokens, "samples": args.samples, "epochs": args.epochs,
                                  "global_batch": args.global_batch, "deadline_hours": args.deadline_hours,
                                  "budget_usd": args.budget_usd}.items() if v is not None}
               if args.mode == "training" else {})}


# LLM serving plan inputs a report keeps (the user's own model by its architecture facts, not a file path)
SERVING_INPUTS = ("ttft_p99_ms", "tpot_p99_ms", "request_rate", "input_len", "output_len", "kv_precision")


def cmd_report(args: argparse.Namespace) -> int:
    from hwplan.app.cli.model import fitted_model
    from hwplan.app.reports.export import render
    from hwplan.app.reports.snapshot import is_valid_id, load_report, plan_snapshot

    out = options.out_file(args.out, stdout_ok=True)
    store = options.open_store(args, writes=bool(getattr(args, "save", False)))
    try:
        if args.id is not None:
            if args.workload or args.throughput is not None:
                raise HwplanError("give either --id or plan arguments (--workload, --throughput, ...), not both")
            snap = load_report(store, args.id) if is_valid_id(args.id) else None
            if snap is None:
                raise HwplanError(NOT_FOUND)
        else:
            inputs = plan_inputs(args)
            if args.model_config:
                from hwplan.costmodel.llmconfig import read_config

                if args.workload:
                    raise HwplanError("give either --workload or --model-config, not both")
                inputs["model_facts"] = read_config(args.model_config)
                inputs["model_name"] = options.config_name(args.model_config)
                inputs["workload"] = "custom"
            if args.mode == "training" and args.deadline_hours is None and args.budget_usd is None:
                raise HwplanError("a training report needs --deadline-hours H (and/or --budget-usd USD per run)")
            ready = inputs.get("workload") and (inputs.get("throughput") is not None or inputs.get("request_rate")
                                                or args.mode == "training")
            model = fitted_model(args) if ready else None
            if args.assumptions or args.region:
                inputs["assumptions"] = options.assumptions_of(args).model_dump()
            snap = plan_snapshot(store, model, inputs, args.title, args.author or "")
            if args.save:
                store.put_report(snap.id, snap.title, snap.author, snap.created_at, snap.model_dump(mode="json"))
        data = render(snap, args.format)
    finally:
        store.close()
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        try:
            out.write_bytes(data)
        except OSError as exc:
            raise options.write_failed(out, exc) from exc
        output.error(f"wrote {args.format} report to {out} ({len(data):,} bytes)")
    if args.id is None and args.save:
        print(snap.id)
    return 0
