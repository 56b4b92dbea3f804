"""`hwplan app`: the dashboard, served by Streamlit."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from hwplan.app.cli import options, output


def register(sub) -> None:
    p = sub.add_parser("app", help="start the dashboard (Streamlit)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1")
    options.db(p)
    p.set_defaults(handler=cmd_app)


def cmd_app(args: argparse.Namespace) -> int:
    from importlib.resources import files

    from hwplan.core.paths import as_db_url, default_db_url

    entry = files("hwplan.app.dashboard") / "main.py"  # a file for Streamlit to run, not an import
    env = dict(os.environ)
    env["HWPLAN_DB"] = as_db_url(args.db) if args.db else default_db_url()
    cmd = [sys.executable, "-m", "streamlit", "run", str(entry), "--server.port", str(args.port),
           "--server.address", args.address, "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--client.toolbarMode", "viewer", "--server.maxUploadSize", "50"]
    output.error(f"hwplan dashboard on http://{args.address}:{args.port}  (store: {env['HWPLAN_DB']})")
    return subprocess.call(cmd, env=env)
