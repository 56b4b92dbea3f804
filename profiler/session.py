"""One profiling run: choose devices, plan the suite, open the sinks, measure, write each row at once.

`run_profile` is what `hwplan profile` calls; it needs only the standard library, torch, numpy and pandas
(the store's packages only when they are all installed), so an accelerator box without a registry runs it: where
the store cannot be used, rows go to a CSV file and a message says so and how to import them later.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from hwplan.core.schema import COLUMN_NAMES
from hwplan.profiler import sinks
from hwplan.profiler.devices import detect_devices, select_devices
from hwplan.profiler.energy import detect_sensors
from hwplan.profiler.errors import ProfileError
from hwplan.profiler.progress import Progress
from hwplan.profiler.runner import Runner, RunSummary
from hwplan.profiler.suite import plan_cases, suite_config


@dataclass(frozen=True)
class ProfileRequest:
    """What to measure and where the rows go. `db` None: $HWPLAN_DB, else the default store when SQLAlchemy
    is installed; `out` a CSV file that rows are appended to as they finish."""

    suite: str = "quick"
    devices: tuple[str, ...] = ()
    workloads: tuple[str, ...] = ()
    out: str | None = None
    db: str | None = None
    resume: str | None = None
    time_limit_s: float | None = None
    progress: bool = True

    def source_ref(self) -> str:
        parts = ["hwplan profile", f"--suite {self.suite}"]
        parts += [f"--device {d}" for d in self.devices]
        if self.workloads:
            parts.append("--workload " + " ".join(self.workloads))
        return " ".join(parts)


def new_run_id(host: str | None = None) -> str:
    host = (host or socket.gethostname()).split(".")[0][:24] or "host"
    return f"{host}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


def open_sinks(out: str | None, db: str | None, run_id: str | None = None,
               say: Callable[[str], None] | None = None) -> list:
    """The CSV (`out`) and the store (`db`, $HWPLAN_DB, or the default store). Where the store's packages are
    not all installed (a profiler-only install), the rows go to the CSV alone, `hwplan-profile-<run_id>.csv`
    in the current folder when no `out` is given, and `say` hears why and how to import them later."""
    opened: list = []
    db = db or os.environ.get("HWPLAN_DB", "").strip() or None
    missing = sinks.store_missing()
    if missing:
        if not out and not run_id:
            raise ProfileError(f"nowhere to write: the results store needs {', '.join(missing)}, not installed here; "
                               "give --out FILE.csv")
        out = out or f"hwplan-profile-{run_id}.csv"
        store = " " + re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", db) if db else ""  # no password in the message
        (say or _stderr)(f"hwplan profile: the results store{store} is not used: it needs {', '.join(missing)}, not "
                         f"installed here (a profiler-only install); writing rows to {out} only. Import them where "
                         f"hwplan is fully installed: hwplan import {out}")
        return [sinks.CsvSink(out).open()]
    if out:
        opened.append(sinks.CsvSink(out).open())
    opened.append(sinks.StoreSink(db).open())  # db None: the default store
    return opened


def _stderr(text: str) -> None:
    print(text, file=sys.stderr)


def reconcile(opened: list, run_id: str) -> set:
    """Keys already measured in this run, after copying rows one sink has and another lacks (a kill can land
    between the CSV write and the store write)."""
    rows_by_sink = []
    for s in opened:
        df = s.rows(run_id)
        rows_by_sink.append({sinks.row_key(r): r for r in df.to_dict("records")})
    everything: dict = {}
    for rows in rows_by_sink:
        for k, r in rows.items():
            everything.setdefault(k, r)
    for s, rows in zip(opened, rows_by_sink):
        missing = [everything[k] for k in everything if k not in rows]
        if missing:
            clean = pd.DataFrame(missing, columns=list(COLUMN_NAMES)).astype(object)
            s.write([{c: (None if pd.isna(v) else v) for c, v in r.items()} for r in clean.to_dict("records")])
    return set(everything)


def choose_devices(wanted: tuple[str, ...]) -> list:
    """The devices to profile: those asked for, else every one found, one of each (backend, name)."""
    devices = select_devices(list(wanted) or None, detect_devices())
    if wanted:
        return devices
    seen, unique = set(), []
    for d in devices:  # identical devices measure the same thing
        if (d.backend, d.name) not in seen:
            seen.add((d.backend, d.name))
            unique.append(d)
    return unique


def run_profile(req: ProfileRequest, announce=None):
    """Measure the suite on each chosen device; returns the RunSummary. `announce(text)` hears the plan."""
    devices = choose_devices(req.devices)
    plans = [(d, plan_cases(req.suite, d, list(req.workloads) or None)) for d in devices]
    run_id = req.resume or new_run_id()
    opened = open_sinks(req.out, req.db, run_id, say=announce)
    done = reconcile(opened, run_id) if req.resume else set()
    if req.resume and not done:
        where = ", ".join(s.describe() for s in opened)
        raise ProfileError(f"run '{req.resume}' has no rows in {where}; check the id, or start a new run without --resume")
    total = sum(len(c) for _, c in plans)
    progress = Progress(total, enabled=req.progress)
    if announce:
        announce(f"hwplan profile: run {run_id}, {total} case(s) on {', '.join(d.id for d, _ in plans)}; writing to "
                 + ", ".join(s.describe() for s in opened))
    runner = Runner(run_id, opened, source_ref=req.source_ref(), time_limit_s=req.time_limit_s, progress=progress,
                    done_keys=done, sensors=detect_sensors())
    summary = RunSummary(run_id)
    try:
        for device, cases in plans:
            runner.run(cases, device, summary, budget=suite_config(req.suite, device).budget)
    finally:
        progress.close()
    return summary
