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
    p.add_argument("--max-mb", type=float, default=None,
                   help="refuse files larger than this on disk (default 50, or $HWPLAN_MAX_MB)")
    p.add_argument("--max-decompressed-mb", type=float, default=None,
                   help="refuse files whose data, decompressed, is larger (default 50, or $HWPLAN_MAX_DECOMPRESSED_MB)")
    p.add_argument("--max-rows", type=int, default=None, help="refuse files with more rows (default 200000, or $HWPLAN_MAX_ROWS)")
    p.add_argument("--max-columns", type=int, default=None,
                   help="refuse files with more columns (default 200, or $HWPLAN_MAX_COLUMNS)")
    p.add_argument("--max-cell-chars", type=int, default=None,
                   help="refuse files with a longer cell (default 4096, or $HWPLAN_MAX_CELL_CHARS)")
    p.add_argument("--as-published", action="store_true",
                   help="store the rows as published results (source=published) rather than source=upload, whatever "
                        "the file says; needs --citation. This is an administrator's act: whoever holds the store's "
                        "credentials (--db / HWPLAN_DB) can run it, so keep those to the people who curate the data")
    p.add_argument("--citation", metavar="TEXT_OR_URL",
                   help="with --as-published: the source_ref of every row that has none (a URL or a reference)")
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
    from hwplan.core.accounts import LOCAL
    from hwplan.core.ingest import import_paths
    from hwplan.core.tableio import ImportLimits

    if args.citation and not args.as_published:
        raise HwplanError("--citation goes with --as-published (a plain import stores source=upload); add "
                          "--as-published, or leave out --citation")
    mb = 1024 * 1024
    limits = ImportLimits.from_env(
        max_bytes=None if args.max_mb is None else int(args.max_mb * mb),
        max_decompressed_bytes=None if args.max_decompressed_mb is None else int(args.max_decompressed_mb * mb),
        max_rows=args.max_rows, max_columns=args.max_columns, max_cell_chars=args.max_cell_chars)
    store = options.open_store(args, writes=True)
    try:
        report = import_paths(store, args.files, limits=limits,
                              source_override="published" if args.as_published else "upload", citation=args.citation,
                              actor=LOCAL)  # whoever holds the store's URL acts as its admin, recorded in the audit
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

    store = options.open_store(args, writes=True)
    res = seed_store(store, force=args.force)
    out = {"inserted": res.inserted if res else 0, "duplicates": res.duplicates if res else 0,
           "already_seeded": res is None, "rows_in_store": store.count()}
    if args.json:
        output.emit_json(out)
    else:
        print("already seeded with this data version" if res is None else
              f"seeded: {res.inserted} new row(s), {res.duplicates} already stored", f"({out['rows_in_store']} rows in store)")
    return 0
