"""Arguments several commands share."""

from __future__ import annotations

import argparse

from hwplan.core.vocab import MODES, PRICING


def db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL", default=None,
                   help="results store: SQLAlchemy URL or SQLite file path (default: $HWPLAN_DB or a SQLite file in "
                        "your data folder)")


def as_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def plan_demand(p: argparse.ArgumentParser) -> None:
    """A demand and its constraints (`hwplan plan`, `hwplan report`)."""
    p.add_argument("--workload", required=False)
    p.add_argument("--throughput", type=float, help="demand: samples/s (tokens/s for LLMs) for the whole setup")
    p.add_argument("--mode", choices=MODES, default="inference")
    p.add_argument("--latency-p99-ms", type=float)
    p.add_argument("--budget-usd-month", type=float)
    p.add_argument("--power-cap-kw", type=float)
    p.add_argument("--kinds", help="comma-separated device kinds to allow: cpu,gpu,tpu,fpga,asic")
    p.add_argument("--pricing", choices=PRICING, default="cloud")
    p.add_argument("--top", type=int, default=10)


def kinds(value: str | None) -> list[str] | None:
    return [k.strip() for k in value.split(",") if k.strip()] if value else None


def open_store(args):
    from hwplan.core.store import Store

    return Store.open(getattr(args, "db", None))
