"""`hwplan prices`: the price catalog (data/prices.csv), the per-device price the planner uses, and your own quotes
saved as an assumption set."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from hwplan.app.cli import options, output
from hwplan.core import fmt
from hwplan.core.errors import HwplanError, Problem, ValidationError


def register(sub) -> None:
    p = sub.add_parser("prices", help="cloud prices: the catalog, the planning price per device, your own quotes")
    psub = p.add_subparsers(dest="prices_command", title="actions", metavar="{list,planning,import}", required=True)
    c = psub.add_parser("list", help="instance prices in data/prices.csv, filtered")
    c.add_argument("--device")
    c.add_argument("--provider")
    c.add_argument("--pricing", help="on-demand, spot, 1-year or 3-year")
    c.add_argument("--region")
    options.as_json(c)
    c = psub.add_parser("planning", help="the price per device-hour the planner uses for each device, and its rule")
    c.add_argument("--pricing", default="on-demand", help="on-demand (default), spot, 1-year or 3-year")
    options.as_json(c)
    c = psub.add_parser("import", help="your own price quotes (a CSV like data/prices.csv) saved as an assumption set "
                                       "(use it with --assumptions NAME); a file with any bad row saves nothing")
    c.add_argument("file")
    c.add_argument("--name", required=True, help="the assumption set to save them in (replaced if it exists)")
    options.db(c)
    options.as_json(c)
    p.set_defaults(handler=cmd_prices)


COLUMNS: list[output.Column] = [
    ("provider", "provider", output.text), ("instance_type", "instance", output.text), ("device", "device", output.text),
    ("devices_per_instance", "devices", fmt.count), ("region", "region", output.text), ("pricing", "pricing", output.text),
    ("usd_per_hour", "$/h", fmt.usd), ("usd_per_device_hour", "$/device-h", fmt.usd), ("scope", "scope", output.text),
    ("price_date", "date", output.text), ("stale", "stale", output.text),
]


def cmd_prices(args: argparse.Namespace) -> int:
    from hwplan.core import prices as pr

    action = args.prices_command
    if action == "import":
        return _import(args)
    if action == "planning":
        if args.pricing not in pr.PRICINGS:
            raise HwplanError(f"--pricing {args.pricing} is not known; use one of {', '.join(pr.PRICINGS)}")
        table = pr.device_prices(pricing=args.pricing)
        rows = [{"device": d, "usd_per_device_hour": v.usd_per_device_hour, "provider": v.provider,
                 "instance_type": v.instance_type, "region": v.region, "price_date": v.price_date or "undated",
                 "stale": "stale" if v.stale else "", "source": v.source} for d, v in sorted(table.items())]
        if args.json:
            output.emit_json({"rule": pr.PRICE_RULE, "max_age_days": pr.PRICE_MAX_AGE_DAYS, "prices": rows})
            return 0
        print(f"rule: {pr.PRICE_RULE}; a price older than {pr.PRICE_MAX_AGE_DAYS} days, or undated, is stale")
        output.table(rows, [("device", "device", output.text), ("usd_per_device_hour", "$/device-h", fmt.usd),
                            ("provider", "provider", output.text), ("instance_type", "instance", output.text),
                            ("region", "region", output.text), ("price_date", "date", output.text),
                            ("stale", "stale", output.text)])
        return 0
    df = pr.load_prices()
    for col in ("device", "provider", "pricing", "region"):
        v = getattr(args, col, None)
        if v:
            df = df[df[col].astype(str) == v]
    df = df.assign(stale=["stale" if pr.is_stale(x) else "" for x in df["price_date"]])
    if args.json:
        output.emit_json({"rows": df.drop(columns=["notes"]).to_dict("records"), "rule": pr.PRICE_RULE})
        return 0
    if not len(df):
        raise HwplanError("no price matches these filters (hwplan prices list alone shows them all)")
    output.table(df.to_dict("records"), COLUMNS, title=f"{len(df)} price(s) from data/prices.csv")
    return 0


def _import(args) -> int:
    from pathlib import Path

    from hwplan.core import prices as pr
    from hwplan.core.catalog import load_catalog
    from hwplan.costmodel.assumptions import Assumptions

    src = Path(args.file)
    if not src.is_file():
        raise HwplanError(f"{src}: no such file (expected a CSV with columns {', '.join(pr.PRICE_REQUIRED)})")
    df = pr.read_prices(src, known_devices=set(load_catalog().index))
    used = df[(df["device"].astype(str).str.strip() != "") & df["scope"].isin(pr.USED_SCOPES)]
    if not len(used):
        raise ValidationError([Problem(src.name, 0, "device", "no row names a catalog device with a whole-instance "
                                                               "price", "at least one row with device and scope instance")])
    table = pr.device_prices(df, pricing="on-demand") or pr.device_prices(df, pricing=str(used["pricing"].iloc[0]))
    overrides = {d: {"cloud_usd_per_hour": v.usd_per_device_hour} for d, v in table.items()}
    a = Assumptions(price_overrides=overrides)
    store = options.open_store(args, writes=True)
    try:
        store.put_assumptions(args.name, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), a.model_dump())
    finally:
        store.close()
    if args.json:
        output.emit_json({"name": args.name, "price_overrides": overrides})
    else:
        output.error(f"saved {len(overrides)} device price(s) from {src.name} as assumption set '{args.name}' "
                     f"(use: hwplan plan ... --assumptions {args.name})")
    return 0
