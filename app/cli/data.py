"""`hwplan import`, `hwplan export`, `hwplan seed`: moving Measurement rows in and out of the store."""

from __future__ import annotations

import argparse
import sys

from hwplan.app.cli import options, output
from hwplan.core.errors import HwplanError, ValidationError
from hwplan.core.vocab import SOURCES


def register(sub) -> None:
    p = sub.add_parser("import", help="import Measurement files (CSV, JSON, Parquet) or an MLPerf results table",
                       description="Import files in the Measurement schema (see data/README.md), or a published MLPerf "
                       "results table, which is mapped onto it. Any invalid row: nothing is imported, every problem is "
                       "printed as FILE:ROW: column: what is wrong (expected ...), by row, FILE:file: for a problem of "
                       "the whole file, exit code 2.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--max-mb", type=float, default=50.0, help="refuse files larger than this (default 50)")
    options.db(p)
    options.as_json(p)
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("export", help="export stored measurements")
    p.add_argument("--format", choices=["csv", "json", "parquet"], default="csv")
    p.add_argument("--out", metavar="FILE", help="write here (default: standard output; parquet needs --out)"
                   + options.OUT_FOLDER_HELP)
    p.add_argument("--source", choices=SOURCES, help="only rows from this source")
    p.add_argument("--workload", help="only this workload")
    p.add_argument("--device", help="only this device id")
    options.db(p)
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("seed", help="load the shipped published and measured results into the store (done on first start)")
    p.add_argument("--force", action="store_true", help="reload even if this data version was loaded")
    options.db(p)
    options.as_json(p)
    p.set_defaults(handler=cmd_seed)


def cmd_import(args: argparse.Namespace) -> int:
    from hwplan.core.ingest import import_paths

    store = options.open_store(args)
    try:
        report = import_paths(store, args.files, max_bytes=int(args.max_mb * 1024 * 1024))
    except ValidationError as err:
        if args.json:
            output.emit_json({"imported": 0, "problems": [str(p) for p in err.problems]})
        else:
            for p in err.problems:
                output.error(str(p))
            output.error(f"{len(err.problems)} problem(s); nothing was imported")
        return 2
    if args.json:
        output.emit_json(report.as_dict())
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


def cmd_export(args: argparse.Namespace) -> int:
    from hwplan.core.tableio import write_table

    if args.format == "parquet" and not args.out:
        raise HwplanError("parquet is binary: give --out FILE")
    out = options.out_file(args.out)
    store = options.open_store(args)
    df = store.measurements(source=args.source, workload=args.workload, device=args.device)
    try:
        data = write_table(df, args.format, out)
    except OSError as exc:
        raise options.write_failed(out, exc) from exc
    if data is not None:
        sys.stdout.write(data.decode())
    else:
        output.error(f"wrote {len(df)} row(s) to {args.out}")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from hwplan.core.ingest import seed_store

    store = options.open_store(args)
    res = seed_store(store, force=args.force)
    out = {"inserted": res.inserted if res else 0, "duplicates": res.duplicates if res else 0,
           "already_seeded": res is None, "rows_in_store": store.count()}
    if args.json:
        output.emit_json(out)
    else:
        print("already seeded with this data version" if res is None else
              f"seeded: {res.inserted} new row(s), {res.duplicates} already stored", f"({out['rows_in_store']} rows in store)")
    return 0
