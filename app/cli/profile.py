"""`hwplan profile`: plan the suite for each chosen device, measure, and write each row at once."""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
from datetime import datetime, timezone

from hwplan.profiler.errors import ProfileError


def new_run_id(host: str | None = None) -> str:
    host = (host or socket.gethostname()).split(".")[0][:24] or "host"
    return f"{host}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


def open_sinks(args) -> list:
    """The CSV (--out) and the store (--db, HWPLAN_DB, or the default store when SQLAlchemy is installed)."""
    from hwplan.profiler.sinks import CsvSink, StoreSink, sqlalchemy_available

    sinks = []
    if getattr(args, "out", None):
        sinks.append(CsvSink(args.out).open())
    db = getattr(args, "db", None) or os.environ.get("HWPLAN_DB", "").strip() or None
    if db:
        sinks.append(StoreSink(db).open())  # asked for explicitly: a failure to open is an error
    elif sqlalchemy_available():
        sinks.append(StoreSink(None).open())
    if not sinks:
        raise ProfileError("nowhere to write: SQLAlchemy is not installed, so give --out FILE.csv "
                           "(or install SQLAlchemy and use --db URL)")
    return sinks


def reconcile(sinks: list, run_id: str) -> set:
    """Keys already measured in this run, after copying rows one sink has and another lacks (a kill can land
    between the CSV write and the store write)."""
    import pandas as pd

    from hwplan.core.schema import COLUMN_NAMES
    from hwplan.profiler.sinks import row_key

    rows_by_sink = []
    for s in sinks:
        df = s.rows(run_id)
        rows_by_sink.append({row_key(r): r for r in df.to_dict("records")})
    everything: dict = {}
    for rows in rows_by_sink:
        for k, r in rows.items():
            everything.setdefault(k, r)
    for s, rows in zip(sinks, rows_by_sink):
        missing = [everything[k] for k in everything if k not in rows]
        if missing:
            clean = pd.DataFrame(missing, columns=list(COLUMN_NAMES)).astype(object)
            s.write([{c: (None if pd.isna(v) else v) for c, v in r.items()} for r in clean.to_dict("records")])
    return set(everything)


def source_ref(args) -> str:
    parts = ["hwplan profile", f"--suite {args.suite}"]
    for d in args.device or []:
        parts.append(f"--device {d}")
    if args.workload:
        parts.append("--workload " + " ".join(args.workload))
    return " ".join(parts)


def cmd_profile(args) -> int:
    from hwplan.profiler.devices import detect_devices, select_devices
    from hwplan.profiler.energy import detect_sensors
    from hwplan.profiler.progress import Progress
    from hwplan.profiler.runner import Runner, RunSummary
    from hwplan.profiler.suite import plan_cases, suite_config

    all_devices = detect_devices()
    devices = select_devices(args.device, all_devices)
    if not args.device:  # identical devices measure the same thing: one of each name
        seen, unique = set(), []
        for d in devices:
            if (d.backend, d.name) not in seen:
                seen.add((d.backend, d.name))
                unique.append(d)
        devices = unique
    plans = [(d, plan_cases(args.suite, d, args.workload)) for d in devices]
    sinks = open_sinks(args)
    run_id = args.resume or new_run_id()
    done = reconcile(sinks, run_id) if args.resume else set()
    if args.resume and not done:
        where = ", ".join(s.describe() for s in sinks)
        raise ProfileError(f"run '{args.resume}' has no rows in {where}; check the id, or start a new run without --resume")
    total = sum(len(c) for _, c in plans)
    progress = Progress(total, enabled=not getattr(args, "quiet", False))
    print(f"hwplan profile: run {run_id}, {total} case(s) on {', '.join(d.id for d, _ in plans)}; writing to "
          + ", ".join(s.describe() for s in sinks), file=sys.stderr)
    runner = Runner(run_id, sinks, source_ref=source_ref(args), time_limit_s=args.time_limit_s, progress=progress,
                    done_keys=done, sensors=detect_sensors())
    summary = RunSummary(run_id)
    try:
        for device, cases in plans:
            runner.run(cases, device, summary, budget=suite_config(args.suite, device).budget)
    finally:
        progress.close()
    if getattr(args, "json", False):
        json.dump(summary.as_dict(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(f"run {run_id}: {summary.ok} ok, {summary.failed} failed, {summary.skipped} skipped"
              + (f", {summary.resumed_skips} already measured" if summary.resumed_skips else ""))
        for r in summary.rows:
            if r["status"] != "ok":
                print(f"  {r['status']}: {r['workload']} {r['mode']} {r['phase']} {r['precision']} b{r['batch_size']} "
                      f"{r['backend']}: {r['error']}")
    return 0
