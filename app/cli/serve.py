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
from pathlib import Path

from hwplan.app.cli import options, output


def register(sub) -> None:
    p = sub.add_parser("app", help="start the dashboard (Streamlit)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--auth", choices=("auto", "none", "local", "oidc"), default="auto",
                   help="sign-in: none (single user, only for a SQLite file on 127.0.0.1/localhost), local (accounts "
                        "in the store: hwplan users add), oidc (Streamlit's st.login, [auth] in .streamlit/secrets.toml);"
                        " auto (default): none where allowed and the store has no users, else oidc if configured, "
                        "else local")
    options.db(p)
    p.set_defaults(handler=cmd_app)


def streamlit_flags(port: int, address: str) -> dict:
    """Streamlit's config options for the dashboard, as `streamlit run` flags name them."""
    return {"server_port": port, "server_address": address, "server_headless": True,
            "browser_gatherUsageStats": False, "client_toolbarMode": "viewer", "server_maxUploadSize": 50,
            "server_fileWatcherType": "none", "server_runOnSave": False,
            "client_showErrorDetails": "none"}  # a failure the pages do not catch shows no traceback either


def oidc_configured(folder: Path | None = None) -> bool:
    """Whether Streamlit's secrets (./.streamlit/secrets.toml, then ~/.streamlit/secrets.toml, as Streamlit reads
    them) have an [auth] section, which `st.login()` needs."""
    import tomllib

    for path in ((folder or Path.cwd()) / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"):
        try:
            if "auth" in tomllib.loads(path.read_text(encoding="utf-8")):
                return True
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
    return False


def check_address(address: str, port: int) -> None:
    """Refuse (HwplanError, exit 2) an address or port the server could not listen on, before anything starts."""
    import socket

    from hwplan.core.errors import HwplanError

    if not 0 < port < 65536:
        raise HwplanError(f"--port {port}: give a port from 1 to 65535 (e.g. 8501)")
    try:
        socket.getaddrinfo(address or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise HwplanError(f"--address {address!r} is not an address this machine can listen on ({exc}); give an IP "
                          "address or host name without brackets, e.g. 127.0.0.1, ::1, localhost or 0.0.0.0") from exc


def auth_mode(requested: str, url: str, address: str) -> tuple[str, str]:
    """The sign-in mode `hwplan app` serves with (HwplanError, exit 2, where the requested one is not allowed), and
    the store's URL as shown to people (password hidden)."""
    from hwplan.core.accounts import choose_auth, file_has_users, is_local_file_store

    # a SQLite file is asked with sqlite3 alone: pandas and SQLAlchemy load in the warm-up thread, beside the server
    has_users = file_has_users(url) if is_local_file_store(url) else None
    shown = url
    if has_users is None:
        from hwplan.core.store import Store

        shown = Store(url).describe()
        if requested == "none":  # refused before any connection is tried
            choose_auth(requested, url, address, False, False, shown_url=shown)
        store = Store.open(url)
        try:
            has_users = store.has_users()
        finally:
            store.close()
    mode = choose_auth(requested, url, address, has_users, oidc_configured(), shown_url=shown)
    if mode == "local" and not has_users:
        output.error("note: the store has no users yet, so no one can sign in; add one: hwplan users add NAME --role "
                     "admin --db STORE")
    return mode, shown


def cmd_app(args: argparse.Namespace) -> int:
    from importlib.resources import files

    from hwplan.core.paths import as_db_url, default_db_url

    entry = files("hwplan.app.dashboard") / "main.py"  # a file for Streamlit to run, not an import
    url = as_db_url(args.db) if args.db else default_db_url()
    check_address(args.address, args.port)
    mode, shown = auth_mode(args.auth, url, args.address)
    os.environ["HWPLAN_DB"] = url  # the dashboard reads its store from here, in this process
    os.environ["HWPLAN_AUTH"] = mode  # and how it signs people in
    host = f"[{args.address}]" if ":" in args.address else args.address  # an IPv6 address in a URL
    output.error(f"hwplan dashboard on http://{host}:{args.port}  (store: {shown}; sign-in: {mode})")

    from streamlit.web import bootstrap

    from hwplan.app.dashboard import warmup

    threading.Thread(target=warmup.warm, args=(url,), name="hwplan-warm-up", daemon=True).start()
    flags = streamlit_flags(args.port, args.address)
    bootstrap.load_config_options(flag_options=flags)
    bootstrap.run(str(entry), False, [], flags)
    return 0
