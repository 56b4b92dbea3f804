"""`hwplan catalog`: the hardware catalog and the reference workloads."""

from __future__ import annotations

import argparse

from hwplan.app.cli import options, output
from hwplan.core import fmt
from hwplan.core.errors import UnknownIdError
from hwplan.core.vocab import DEVICE_KINDS


def register(sub) -> None:
    p = sub.add_parser("catalog", help="the hardware catalog and the reference workloads")
    # required: `hwplan catalog` alone prints the usage and exits 2
    csub = p.add_subparsers(dest="catalog_command", title="actions", metavar="{list,show,workloads}", required=True)
    c = csub.add_parser("list", help="list devices")
    c.add_argument("--kind", help="only these kinds (comma-separated): " + ", ".join(DEVICE_KINDS))
    options.as_json(c)
    c = csub.add_parser("show", help="one device, every field with its source")
    c.add_argument("id")
    options.as_json(c)
    c = csub.add_parser("workloads", help="list the reference workloads")
    options.as_json(c)
    p.set_defaults(handler=cmd_catalog)


def _plain(v):
    import pandas as pd

    return None if v is None or (not isinstance(v, str) and pd.isna(v)) or v == "" else v


def cmd_catalog(args: argparse.Namespace) -> int:
    from hwplan.core.catalog import device, load_catalog, load_workloads

    action = args.catalog_command
    if action == "workloads":
        wl = load_workloads()
        if getattr(args, "json", False):
            output.emit_json([{k: _plain(v) for k, v in r.items()} for r in wl.to_dict("records")])
        else:
            output.table(wl.to_dict("records"), [(c, c, output.text) for c in
                                                 ("id", "field", "task", "throughput_unit", "description")])
        return 0
    cat = load_catalog()
    if action == "show":
        row = device(args.id, cat)
        data = {k: _plain(v) for k, v in row.items()}
        if args.json:
            output.emit_json(data)
        else:
            output.fields(((k, "" if v is None else str(v)) for k, v in data.items()), indent=0)
        return 0
    if getattr(args, "kind", None):
        kinds = {k.strip() for k in args.kind.split(",")}
        bad = kinds - set(DEVICE_KINDS)
        if bad:
            raise UnknownIdError("device kind", sorted(bad)[0], DEVICE_KINDS)
        cat = cat[cat["kind"].isin(kinds)]
    rows = [{k: _plain(v) for k, v in r.items()} for r in cat.to_dict("records")]
    if args.json:
        output.emit_json(rows)
        return 0
    output.table(rows, [("id", "id", output.text), ("kind", "kind", output.text),
                        ("bf16_tflops", "bf16 TFLOP/s", fmt.number), ("int8_tops", "int8 TOP/s", fmt.number),
                        ("mem_gb", "memory GB", fmt.number), ("mem_bw_gbs", "bandwidth GB/s", fmt.number),
                        ("board_power_w", "board W", fmt.number), ("cloud_usd_per_hour", "cloud $/h", fmt.usd)],
                 title=f"{len(rows)} device(s); sources: hwplan catalog show ID")
    return 0
