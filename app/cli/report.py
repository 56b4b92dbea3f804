"""`hwplan report`: the same reports as the dashboard, from plan arguments or from a saved report id."""

from __future__ import annotations

import sys
from pathlib import Path

from hwplan.core.errors import HwplanError

FORMATS = ("html", "pdf", "md", "csv")
NOT_FOUND = "report not found"


def render(snap, fmt: str) -> bytes:
    """The snapshot in one export format, as bytes ready to write."""
    if fmt == "html":
        from hwplan.app.reports.html import render_html

        return render_html(snap).encode("utf-8")
    if fmt == "pdf":
        from hwplan.app.reports.pdf import render_pdf

        return render_pdf(snap)
    if fmt == "md":
        from hwplan.app.reports.markdown import render_markdown

        return render_markdown(snap).encode("utf-8")
    if fmt == "csv":
        from hwplan.app.reports.csvout import render_csv

        return render_csv(snap).encode("utf-8")
    raise HwplanError(f"format '{fmt}' is not known; use one of {', '.join(FORMATS)}")


def plan_inputs(args) -> dict:
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()] if getattr(args, "kinds", None) else None
    return {"workload": args.workload, "throughput": args.throughput, "mode": args.mode,
            "latency_p99_ms": args.latency_p99_ms, "budget_usd_month": args.budget_usd_month,
            "power_cap_kw": args.power_cap_kw, "kinds": kinds, "pricing": args.pricing, "top": args.top}


def snapshot_from_plan(store, inputs: dict, title: str, author: str):
    """Run the plan for these inputs and freeze it (not stored)."""
    from hwplan.app.reports.snapshot import build_snapshot
    from hwplan.costmodel.api import Demand, fit_models, plan
    from hwplan.costmodel.assumptions import Assumptions
    from hwplan.core.ingest import seed_store

    if not inputs.get("workload") or inputs.get("throughput") is None:
        raise HwplanError("give --workload and --throughput (and any plan option), or --id of a saved report")
    if inputs.get("kinds"):
        bad = sorted(set(inputs["kinds"]) - {"cpu", "gpu", "tpu", "fpga", "asic"})
        if bad:
            raise HwplanError(f"device kind '{bad[0]}' is not known; use cpu, gpu, tpu, fpga or asic")
    if inputs.get("top") is not None and int(inputs["top"]) < 1:
        raise HwplanError("--top must be a whole number >= 1")
    seed_store(store)
    model = fit_models(measurements=store.measurements())
    demand = Demand(workload=inputs["workload"], throughput=inputs["throughput"], mode=inputs["mode"],
                    latency_p99_ms=inputs.get("latency_p99_ms"), budget_usd_month=inputs.get("budget_usd_month"),
                    power_cap_kw=inputs.get("power_cap_kw"), kinds=inputs.get("kinds"), pricing=inputs["pricing"])
    assumptions = Assumptions()
    result = plan(model, demand, assumptions, top=int(inputs.get("top") or 10))
    return build_snapshot(title=title, author=author, kind="plan", inputs=inputs, plan_result=result,
                          assumptions=assumptions, store=store)


def cmd_report(args) -> int:
    from hwplan.app.reports.snapshot import is_valid_id, load_report
    from hwplan.core.store import Store

    out = Path(args.out)
    store = Store.open(getattr(args, "db", None))
    try:
        if args.id is not None:
            if args.workload or args.throughput is not None:
                raise HwplanError("give either --id or plan arguments (--workload, --throughput, ...), not both")
            snap = load_report(store, args.id) if is_valid_id(args.id) else None
            if snap is None:
                raise HwplanError(NOT_FOUND)
        else:
            snap = snapshot_from_plan(store, plan_inputs(args), args.title, args.author or "")
            if args.save:
                store.put_report(snap.id, snap.title, snap.author, snap.created_at, snap.model_dump(mode="json"))
        data = render(snap, args.format)
    finally:
        store.close()
    if str(out) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        except OSError as exc:
            raise HwplanError(f"cannot write {out}: {exc.strerror or exc}; choose another --out") from exc
        print(f"wrote {args.format} report to {out} ({len(data):,} bytes)", file=sys.stderr)
    if args.id is None and args.save:
        print(snap.id)
    return 0
