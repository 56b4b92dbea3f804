"""`hwplan users` and `hwplan audit`: the accounts of a team store and the log of what changed.

Whoever runs these holds the store's URL (--db / HWPLAN_DB), and with it every right: the commands act as the
store's local admin, and what they change is in the audit log like any other change.
"""

from __future__ import annotations

import argparse
import sys

from hwplan.app.cli import options, output
from hwplan.core.accounts import ROLES
from hwplan.core.errors import HwplanError


def register(sub) -> None:
    p = sub.add_parser("users", help="accounts of a team store: add, list, change roles, delete",
                       description="Accounts for the dashboard's sign-in (hwplan app --auth local). Roles: viewer "
                                   "(reads shared reports and the data), planner (also saves reports, uploads, "
                                   "assumption sets; changes only their own), admin (everything, and users).")
    usub = p.add_subparsers(dest="users_command", title="actions", metavar="{add,list,set-role,set-password,delete}",
                            required=True)
    c = usub.add_parser("add", help="add a user (the password is asked for, or read from standard input)")
    c.add_argument("name")
    c.add_argument("--role", required=True, help=f"one of {', '.join(ROLES)}")
    _password_source(c)
    c.add_argument("--no-password", action="store_true",
                   help="a user who signs in only through OIDC (by this email address)")
    options.db(c)
    c = usub.add_parser("list", help="every user and their role")
    options.db(c)
    options.as_json(c)
    c = usub.add_parser("set-role", help="change a user's role")
    c.add_argument("name")
    c.add_argument("role", help=f"one of {', '.join(ROLES)}")
    options.db(c)
    c = usub.add_parser("set-password", help="give a user a new password")
    c.add_argument("name")
    _password_source(c)
    options.db(c)
    c = usub.add_parser("delete", help="delete a user (what they saved stays)")
    c.add_argument("name")
    options.db(c)
    p.set_defaults(handler=cmd_users)

    p = sub.add_parser("audit", help="the audit log: who created, changed, deleted or signed in, newest first")
    p.add_argument("--limit", type=int, default=50, help="at most this many rows (default 50)")
    options.db(p)
    options.as_json(p)
    p.set_defaults(handler=cmd_audit)


def _password_source(c: argparse.ArgumentParser) -> None:
    c.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of standard input (for scripts) instead of asking")


def read_password(args: argparse.Namespace) -> str:
    """The password from standard input's first line, or asked twice at the terminal."""
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise HwplanError("--password-stdin: standard input was empty; pipe the password in, e.g. "
                              "`printf '%s\\n' \"$PASSWORD\" | hwplan users add ...`")
        return password
    import getpass

    if not sys.stdin.isatty():
        raise HwplanError("no terminal to ask for the password; give it on standard input with --password-stdin")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise HwplanError("the two passwords differ; nothing was changed")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    action = args.users_command
    if action == "add":
        if args.no_password and args.password_stdin:
            raise HwplanError("give either --no-password or --password-stdin, not both")
        from hwplan.core.accounts import check_name, check_role

        check_name(args.name)  # before a password is asked for
        check_role(args.role)
        password = None if args.no_password else read_password(args)
    elif action == "set-password":
        password = read_password(args)
    store = options.open_store(args, writes=action != "list")
    try:
        if action == "add":
            user = store.add_user(args.name, password, args.role)
            output.error(f"added {user.name} ({user.role})")
        elif action == "set-role":
            store.set_role(args.name, args.role)
            output.error(f"{args.name} is now {args.role}")
        elif action == "set-password":
            store.set_password(args.name, password)
            output.error(f"changed the password of {args.name}")
        elif action == "delete":
            store.delete_user(args.name)
            output.error(f"deleted {args.name}")
        else:
            users = store.list_users()
            rows = [{"name": r.name, "role": r.role, "created_at": r.created_at,
                     "sign_in": "password" if r.has_password else "oidc"} for r in users.itertuples(index=False)]
            if args.json:
                output.emit_json(rows)
            elif not rows:
                output.error("no users yet: the dashboard has no accounts (add one: hwplan users add NAME --role admin)")
            else:
                output.table(rows, [("name", "name", output.text), ("role", "role", output.text),
                                    ("sign_in", "sign-in", output.text), ("created_at", "created", output.text)])
    finally:
        store.close()
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise HwplanError(f"--limit {args.limit}: give a number of rows, 1 or more")
    store = options.open_store(args)
    try:
        log = store.audit_log(limit=args.limit)
    finally:
        store.close()
    rows = log.to_dict("records")
    if args.json:
        output.emit_json(rows)
        return 0
    if not rows:
        output.error("the audit log is empty")
        return 0
    output.table(rows, [(c, c.replace("_", " "), output.text) for c in ("at", "actor", "action", "kind", "object_id",
                                                                         "detail")])
    return 0
