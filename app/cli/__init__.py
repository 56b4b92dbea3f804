"""The `hwplan` command: argparse, one module per command group, every command registered here.

Each group module adds its subcommands with `register(sub)` and points each at its handler; a handler
imports the layer it needs when it runs, so `hwplan plan` never pays for the profiler's torch import.
"""

from __future__ import annotations

import argparse
import sys

from hwplan import __version__
from hwplan.app.cli import catalog, data, measure, model, prices, report, serve, users
from hwplan.app.cli.output import error
from hwplan.core.errors import HwplanError

GROUPS = (data, catalog, measure, model, prices, report, serve, users)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hwplan", description="Capacity planner for AI hardware: profile devices, "
                                     "predict any setup, plan what to buy or rent, report it.")
    parser.add_argument("--version", action="version", version=f"hwplan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except HwplanError as err:
        error(f"hwplan {args.command}: {err}")
        return err.exit_code
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
