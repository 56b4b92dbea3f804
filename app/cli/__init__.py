"""The `hwplan` command. Argument definitions live here (cheap); handlers are imported lazily,
so `hwplan plan` never pays for the profiler's torch import."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

from hwplan.core.errors import HwplanError

HANDLERS = {
    "import": "hwplan.app.cli.commands:cmd_import",
    "export": "hwplan.app.cli.commands:cmd_export",
    "catalog": "hwplan.app.cli.commands:cmd_catalog",
    "doctor": "hwplan.app.cli.commands:cmd_doctor",
    "app": "hwplan.app.cli.commands:cmd_app",
    "seed": "hwplan.app.cli.commands:cmd_seed",
    "profile": "hwplan.app.cli.profile:cmd_profile",
    "predict": "hwplan.app.cli.model:cmd_predict",
    "plan": "hwplan.app.cli.model:cmd_plan",
    "validate": "hwplan.app.cli.model:cmd_validate",
    "report": "hwplan.app.cli.report:cmd_report",
}


def _db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL", default=None,
                   help="results store: SQLAlchemy URL or SQLite file path (default: $HWPLAN_DB or a SQLite file in your data folder)")


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hwplan", description="Capacity planner for AI hardware: profile devices, "
                                     "predict any setup, plan what to buy or rent, report it.")
    parser.add_argument("--version", action="version", version="hwplan 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("import", help="import Measurement files (CSV, JSON, Parquet) or an MLPerf results table",
                       description="Import files in the Measurement schema (see data/README.md), or a published MLPerf "
                       "results table, which is mapped onto it. Any invalid row: nothing is imported, every problem is "
                       "printed as FILE:ROW: column: what is wrong (expected ...), exit code 2.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--max-mb", type=float, default=50.0, help="refuse files larger than this (default 50)")
    _db(p)
    _json(p)

    p = sub.add_parser("export", help="export stored measurements")
    p.add_argument("--format", choices=["csv", "json", "parquet"], default="csv")
    p.add_argument("--out", metavar="FILE", help="write here (default: standard output; parquet needs --out)")
    p.add_argument("--source", choices=["profiler", "upload", "published"], help="only rows from this source")
    p.add_argument("--workload", help="only this workload")
    p.add_argument("--device", help="only this device id")
    _db(p)

    p = sub.add_parser("catalog", help="the hardware catalog and the reference workloads")
    csub = p.add_subparsers(dest="catalog_command", metavar="ACTION")
    c = csub.add_parser("list", help="list devices")
    c.add_argument("--kind", help="only this kind: cpu, gpu, tpu, fpga, asic")
    _json(c)
    c = csub.add_parser("show", help="one device, every field with its source")
    c.add_argument("id")
    _json(c)
    c = csub.add_parser("workloads", help="list the reference workloads")
    _json(c)

    p = sub.add_parser("doctor", help="what this machine has: Python, packages, devices, energy sensors")
    _json(p)

    p = sub.add_parser("app", help="start the dashboard (Streamlit)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1")
    _db(p)

    p = sub.add_parser("seed", help="load the shipped published and measured results into the store (done on first start)")
    p.add_argument("--force", action="store_true", help="reload even if this data version was loaded")
    _db(p)
    _json(p)

    p = sub.add_parser("profile", help="measure the reference workloads on this machine's devices")
    p.add_argument("--suite", choices=["quick", "full"], default="quick")
    p.add_argument("--device", action="append", help="device to profile (cpu, cuda:0, ...); repeatable; default all found")
    p.add_argument("--workload", nargs="+", help="only these workloads")
    p.add_argument("--out", metavar="FILE", help="also append rows to this CSV file")
    p.add_argument("--resume", metavar="RUN", help="continue the run with this id, skipping what it already measured")
    p.add_argument("--time-limit-s", type=float, default=None, help="per-workload time limit")
    _db(p)
    _json(p)

    p = sub.add_parser("predict", help="predict throughput, power and cost of a setup")
    p.add_argument("--workload")
    p.add_argument("--device")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--precision", default="auto", help="fp32, tf32, bf16, fp16, fp8, int8 or auto (default)")
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--scenario", choices=["offline", "server"], default="offline")
    p.add_argument("--mode", choices=["inference", "training"], default="inference")
    p.add_argument("--queries", metavar="IN.csv", help="batch form: columns workload, device, device_count, scenario[, precision]")
    p.add_argument("--out", metavar="OUT.csv", help="batch form output")
    _db(p)
    _json(p)

    p = sub.add_parser("plan", help="rank hardware setups that meet a demand")
    _plan_args(p)
    _db(p)
    _json(p)

    p = sub.add_parser("validate", help="measure prediction accuracy on held-out data; writes docs/accuracy.md")
    p.add_argument("--out", default="docs/accuracy.md")
    _db(p)
    _json(p)

    p = sub.add_parser("report", help="make a planning report (HTML, PDF, Markdown, CSV)")
    _plan_args(p, required=False)
    p.add_argument("--id", help="a saved report's id instead of plan arguments")
    p.add_argument("--title", default="Hardware plan")
    p.add_argument("--author", default=os.environ.get("USER", ""))
    p.add_argument("--format", choices=["html", "pdf", "md", "csv"], required=True)
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--save", action="store_true", help="also save the report in the store and print its id")
    _db(p)
    return parser


def _plan_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--workload", required=False)
    p.add_argument("--throughput", type=float, help="demand: samples/s (tokens/s for LLMs) for the whole setup")
    p.add_argument("--mode", choices=["inference", "training"], default="inference")
    p.add_argument("--latency-p99-ms", type=float)
    p.add_argument("--budget-usd-month", type=float)
    p.add_argument("--power-cap-kw", type=float)
    p.add_argument("--kinds", help="comma-separated device kinds to allow: cpu,gpu,tpu,fpga,asic")
    p.add_argument("--pricing", choices=["cloud", "owned"], default="cloud")
    p.add_argument("--top", type=int, default=10)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    module, func = HANDLERS[args.command].split(":")
    try:
        handler = getattr(importlib.import_module(module), func)
        return int(handler(args) or 0)
    except HwplanError as err:
        print(f"hwplan {args.command}: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def emit_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=1, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    sys.exit(main())
