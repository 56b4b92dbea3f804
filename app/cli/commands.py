"""Handlers of the foundation commands: import, export, catalog, doctor, app, seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from hwplan.app.cli import emit_json
from hwplan.core.errors import HwplanError, UnknownIdError, ValidationError


def open_store(args):
    from hwplan.core.store import Store

    return Store.open(getattr(args, "db", None))


def cmd_import(args) -> int:
    from hwplan.core.ingest import import_paths

    store = open_store(args)
    try:
        report = import_paths(store, args.files, max_bytes=int(args.max_mb * 1024 * 1024))
    except ValidationError as err:
        if args.json:
            emit_json({"imported": 0, "problems": [str(p) for p in err.problems]})
        else:
            for p in err.problems:
                print(p, file=sys.stderr)
            print(f"{len(err.problems)} problem(s); nothing was imported", file=sys.stderr)
        return 2
    if args.json:
        emit_json(report.as_dict())
        return 0
    for f in report.files:
        left = sum(f.skipped.values())
        line = f"{f.name}: {f.mapped} row(s) read"
        if f.kind == "published":
            line = f"{f.name}: published results table, {f.mapped} row(s) mapped, {left} left out"
        print(line)
        for reason, n in sorted(f.skipped.items(), key=lambda kv: -kv[1]):
            print(f"  {n:5d} left out: {reason}")
    print(f"stored {report.result.inserted} new row(s); {report.result.duplicates} already stored")
    return 0


def cmd_export(args) -> int:
    from hwplan.core.tableio import write_table

    store = open_store(args)
    df = store.measurements(source=args.source, workload=args.workload, device=args.device)
    if args.format == "parquet" and not args.out:
        raise HwplanError("parquet is binary: give --out FILE")
    data = write_table(df, args.format, args.out)
    if data is not None:
        sys.stdout.write(data.decode())
    else:
        print(f"wrote {len(df)} row(s) to {args.out}", file=sys.stderr)
    return 0


def cmd_catalog(args) -> int:
    from hwplan.core.catalog import device, load_catalog, load_workloads

    action = args.catalog_command or "list"
    if action == "workloads":
        wl = load_workloads()
        if getattr(args, "json", False):
            emit_json(wl.replace({float("nan"): None}).to_dict("records"))
        else:
            print(wl[["id", "field", "task", "throughput_unit", "description"]].to_string(index=False))
        return 0
    cat = load_catalog()
    if action == "show":
        row = device(args.id, cat)
        data = {k: (None if pd.isna(v) or v == "" else v) for k, v in row.items()}
        if args.json:
            emit_json(data)
        else:
            width = max(map(len, data))
            for k, v in data.items():
                print(f"{k:<{width}}  {'' if v is None else v}")
        return 0
    if getattr(args, "kind", None):
        kinds = {k.strip() for k in args.kind.split(",")}
        bad = kinds - {"cpu", "gpu", "tpu", "fpga", "asic"}
        if bad:
            raise UnknownIdError("device kind", sorted(bad)[0], ["cpu", "gpu", "tpu", "fpga", "asic"])
        cat = cat[cat["kind"].isin(kinds)]
    if args.json:
        emit_json([{k: (None if pd.isna(v) or v == "" else v) for k, v in r.items()} for r in cat.to_dict("records")])
        return 0
    cols = ["id", "kind", "bf16_tflops", "int8_tops", "mem_gb", "mem_bw_gbs", "board_power_w", "cloud_usd_per_hour"]
    print(cat[cols].fillna("").to_string(index=False))
    return 0


def cmd_doctor(args) -> int:
    from hwplan.profiler.doctor import doctor_report

    report = doctor_report()
    if args.json:
        emit_json(report)
        return 0
    print(f"Python {report['python']} on {report['platform']}")
    print("Packages:")
    for name, ver in report["packages"].items():
        print(f"  {name:<16} {ver or 'not installed'}")
    print("Devices:")
    for d in report["devices"]:
        state = "found" if d["available"] else "not found"
        cat = f" [{d['catalog_id']}]" if d.get("catalog_id") else ""
        print(f"  {d['backend']:<14} {state:<9} {d.get('name') or ''}{cat}  {d.get('reason') or ''}".rstrip())
    print("Energy sensors:")
    for s in report["sensors"]:
        state = "available" if s["available"] else "missing"
        print(f"  {s['name']:<10} {state:<9} {s.get('reason') or ''}".rstrip())
    print("Energy when profiling here:")
    for e in report.get("energy", []):
        print(f"  {e['device']}: {e['method']}  {e['note']}".rstrip())
    return 0


def cmd_seed(args) -> int:
    from hwplan.core.ingest import seed_store

    store = open_store(args)
    res = seed_store(store, force=args.force)
    out = {"inserted": res.inserted if res else 0, "duplicates": res.duplicates if res else 0,
           "already_seeded": res is None, "rows_in_store": store.count()}
    if args.json:
        emit_json(out)
    else:
        print("already seeded with this data version" if res is None else
              f"seeded: {res.inserted} new row(s), {res.duplicates} already stored", f"({out['rows_in_store']} rows in store)")
    return 0


def cmd_app(args) -> int:
    from hwplan.core.paths import as_db_url, default_db_url

    from importlib.resources import files

    entry = files("hwplan.app.dashboard") / "main.py"  # a file path for Streamlit, not an import
    env = dict(os.environ)
    env["HWPLAN_DB"] = as_db_url(args.db) if args.db else default_db_url()
    cmd = [sys.executable, "-m", "streamlit", "run", str(entry), "--server.port", str(args.port),
           "--server.address", args.address, "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--client.toolbarMode", "viewer", "--server.maxUploadSize", "50"]
    print(f"hwplan dashboard on http://{args.address}:{args.port}  (store: {env['HWPLAN_DB']})", file=sys.stderr)
    return subprocess.call(cmd, env=env)
