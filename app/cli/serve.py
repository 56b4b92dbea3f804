"""`hwplan app`: the dashboard, served by Streamlit inside this process.

The server runs in this process (no child): SIGINT and SIGTERM reach Streamlit's own handler, which stops the
server and frees the port, and `hwplan app` exits with it. While the server starts, a thread warms what the
first page needs (the dashboard's imports, the seeded store, the fitted model in memory), so the first
browser to connect does not wait for them one after the other.
"""

from __future__ import annotations

import argparse
import os
import threading

from hwplan.app.cli import options, output


def register(sub) -> None:
    p = sub.add_parser("app", help="start the dashboard (Streamlit)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1")
    options.db(p)
    p.set_defaults(handler=cmd_app)


def streamlit_flags(port: int, address: str) -> dict:
    """Streamlit's config options for the dashboard, as `streamlit run` flags name them."""
    return {"server_port": port, "server_address": address, "server_headless": True,
            "browser_gatherUsageStats": False, "client_toolbarMode": "viewer", "server_maxUploadSize": 50,
            "server_fileWatcherType": "none", "server_runOnSave": False,
            "client_showErrorDetails": "none"}  # a failure the pages do not catch shows no traceback either


def cmd_app(args: argparse.Namespace) -> int:
    from importlib.resources import files

    from hwplan.core.paths import as_db_url, default_db_url

    entry = files("hwplan.app.dashboard") / "main.py"  # a file for Streamlit to run, not an import
    url = as_db_url(args.db) if args.db else default_db_url()
    os.environ["HWPLAN_DB"] = url  # the dashboard reads its store from here, in this process
    output.error(f"hwplan dashboard on http://{args.address}:{args.port}  (store: {url})")

    from streamlit.web import bootstrap

    from hwplan.app.dashboard import warmup

    threading.Thread(target=warmup.warm, args=(url,), name="hwplan-warm-up", daemon=True).start()
    flags = streamlit_flags(args.port, args.address)
    bootstrap.load_config_options(flag_options=flags)
    bootstrap.run(str(entry), False, [], flags)
    return 0
