"""`hwplan profile` and `hwplan doctor`: what this machine has, and measuring it."""

from __future__ import annotations

import argparse

from hwplan.app.cli import options, output


def register(sub) -> None:
    p = sub.add_parser("profile", help="measure the reference workloads on this machine's devices")
    p.add_argument("--suite", choices=["quick", "full"], default="quick")
    p.add_argument("--device", action="append", help="device to profile (cpu, cuda:0, ...); repeatable; default all found")
    p.add_argument("--workload", nargs="+", help="only these workloads")
    p.add_argument("--out", metavar="FILE", help="also append rows to this CSV file")
    p.add_argument("--resume", metavar="RUN", help="continue the run with this id, skipping what it already measured")
    p.add_argument("--time-limit-s", type=float, default=None, help="per-workload time limit")
    options.db(p)
    options.as_json(p)
    p.set_defaults(handler=cmd_profile)

    p = sub.add_parser("doctor", help="what this machine has: Python, packages, devices, energy sensors")
    options.as_json(p)
    p.set_defaults(handler=cmd_doctor)


def request(args: argparse.Namespace):
    from hwplan.profiler.session import ProfileRequest

    return ProfileRequest(suite=args.suite, devices=tuple(args.device or ()), workloads=tuple(args.workload or ()),
                          out=args.out, db=args.db, resume=args.resume, time_limit_s=args.time_limit_s,
                          progress=not getattr(args, "quiet", False))


def cmd_profile(args: argparse.Namespace) -> int:
    from hwplan.profiler.session import run_profile

    summary = run_profile(request(args), announce=output.error)
    if getattr(args, "json", False):
        output.emit_json(summary.as_dict())
        return 0
    print(f"run {summary.run_id}: {summary.ok} ok, {summary.failed} failed, {summary.skipped} skipped"
          + (f", {summary.resumed_skips} already measured" if summary.resumed_skips else ""))
    for r in summary.rows:
        if r["status"] != "ok":
            print(f"  {r['status']}: {r['workload']} {r['mode']} {r['phase']} {r['precision']} b{r['batch_size']} "
                  f"{r['backend']}: {r['error']}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from hwplan.profiler.doctor import doctor_report

    report = doctor_report()
    if args.json:
        output.emit_json(report)
        return 0
    print(f"Python {report['python']} on {report['platform']}")
    print("Packages:")
    output.fields((name, ver or "not installed") for name, ver in report["packages"].items())
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
