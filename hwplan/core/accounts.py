"""Accounts of a team store: roles, who may do what, and how passwords are kept.

Three roles. A viewer reads what is shared (and what has no owner, such as reports saved before accounts
existed); a planner also creates reports, uploads and assumption sets, and deletes or overwrites only their own;
an admin may do everything, manage users and import published rows. `allowed` is the one rule; the store asks it
before every change, whatever the dashboard shows.

Passwords are kept as scrypt hashes (N=2**15, r=8, p=1, a 16-byte random salt), in one string that names its
parameters, and compared in constant time. No password is ever stored or logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from hwplan.core.errors import HwplanError, UnknownIdError, short

VIEWER, PLANNER, ADMIN = "viewer", "planner", "admin"
ROLES = (VIEWER, PLANNER, ADMIN)

# What can be asked of `allowed`
READ = "read"                       # see a report / assumption set / upload
CREATE = "create"                   # save a report, upload rows, save an assumption set
MODIFY = "modify"                   # delete or overwrite an existing object
MANAGE_USERS = "manage-users"       # add, delete users, change roles
IMPORT_PUBLISHED = "import-published"  # store rows as source=published
READ_AUDIT = "read-audit"
ACTIONS = (READ, CREATE, MODIFY, MANAGE_USERS, IMPORT_PUBLISHED, READ_AUDIT)

# Kinds and actions of audit rows
AUDIT_KINDS = ("report", "assumptions", "upload", "user")
AUDIT_ACTIONS = ("create", "update", "delete", "login", "login-failed")

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SALT_BYTES, KEY_BYTES = 16, 32
_MAXMEM = 128 * SCRYPT_N * SCRYPT_R * 2  # scrypt needs 128·N·r bytes; hashlib's default cap (32 MiB) is just short
MAX_NAME_CHARS = 200
MIN_PASSWORD_CHARS = 8
LOGIN_FAILURES_ALLOWED = 5  # failed sign-ins for one name within LOGIN_WINDOW_S before its sign-in is refused
LOGIN_WINDOW_S = 15 * 60
_NAME = re.compile(r"^[^\x00-\x1f\x7f]+$")


@dataclass(frozen=True)
class User:
    """Who is acting: a name and a role."""

    name: str
    role: str


LOCAL = User("local", ADMIN)  # the one user of a single-user store, and of the CLI (who holds the store's URL)


class PermissionDenied(HwplanError):
    """The acting user's role does not allow this change."""


class TooManyTries(HwplanError):
    """Too many failed sign-ins for one name lately: refused without looking at the password."""


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UnknownIdError("role", role, ROLES)
    return role


def check_name(name: str) -> str:
    """A user name as stored: stripped, 1 to 200 characters, no control characters."""
    clean = (name or "").strip()
    if not clean or len(clean) > MAX_NAME_CHARS or not _NAME.match(clean):
        raise HwplanError(f"user name '{short(name)}' is not usable: give 1 to {MAX_NAME_CHARS} characters, no "
                          "control characters (e.g. ana or ana@example.com)")
    return clean


def allowed(user: User | None, action: str, owner: str | None = None, shared: bool = False) -> bool:
    """May `user` do `action` on an object owned by `owner` (None: owned by no one) that is `shared` or not?
    For CREATE, MANAGE_USERS, IMPORT_PUBLISHED and READ_AUDIT the owner does not matter. No user: nothing."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    if user is None or user.role not in ROLES:
        return False
    if user.role == ADMIN:
        return True
    own = owner is not None and owner == user.name
    if action == READ:
        return own or shared or owner is None
    if user.role == VIEWER:
        return False
    if action == CREATE:
        return True
    if action == MODIFY:
        return own
    return False  # managing users, importing published rows, reading the audit: admins only


def require(user: User | None, action: str, what: str, owner: str | None = None, shared: bool = False) -> None:
    """Raise PermissionDenied, saying who may, unless `allowed`."""
    if allowed(user, action, owner, shared):
        return
    who = "no one signed in" if user is None else f"{user.name} ({user.role})"
    if action == MODIFY:
        whose = f"owned by {owner}" if owner else "owned by no one"
        rule = f"it is {whose}; only its owner (a planner) or an admin may change it"
    elif action == CREATE:
        rule = "viewers only read; ask an admin for the planner role (hwplan users set-role NAME planner)"
    elif action == READ:
        rule = "it is not shared with you"
    else:
        rule = "only an admin may"
    raise PermissionDenied(f"{who} may not {what}: {rule}")


def hash_password(password: str) -> str:
    """scrypt$N$r$p$salt$key (salt and key in URL-safe base64): every parameter needed to check it again."""
    if len(password.strip()) < MIN_PASSWORD_CHARS:
        n = len(password.strip())
        raise HwplanError(f"the password is {n} character{'' if n == 1 else 's'} long (not counting spaces at its ends); "
                          f"give at least {MIN_PASSWORD_CHARS}")
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, encoded: str | None) -> bool:
    """True when `password` hashes to `encoded` (compared in constant time); False for anything malformed."""
    if not encoded:
        return False
    try:
        scheme, n, r, p, salt, key = encoded.split("$")
        if scheme != "scrypt":
            return False
        want = base64.urlsafe_b64decode(key.encode())
        got = _scrypt(password, base64.urlsafe_b64decode(salt.encode()), int(n), int(r), int(p), len(want))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


def dummy_verify(password: str) -> None:
    """Spend the time a real check takes, so an unknown name answers no faster than a wrong password."""
    _scrypt(password, b"\0" * SALT_BYTES, SCRYPT_N, SCRYPT_R, SCRYPT_P)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int = KEY_BYTES) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM * 2, dklen=length)


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode("ascii")


# ---- how the dashboard signs people in --------------------------------------------------------------------------

AUTH_MODES = ("auto", "none", "local", "oidc")
_LOOPBACK_NAMES = ("localhost", "localhost.", "ip6-localhost")


def is_loopback(address: str | None) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost); an empty address means every
    interface, which is not."""
    import ipaddress

    if not address:
        return False
    if address.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def is_local_file_store(url: str) -> bool:
    """A SQLite file on this machine (not a database server, not an in-memory database)."""
    from hwplan.core.paths import sqlite_file

    return sqlite_file(url) is not None and "mode=memory" not in url


def choose_auth(requested: str, url: str, address: str | None, has_users: bool, oidc_configured: bool,
                shown_url: str | None = None) -> str:
    """The sign-in mode the dashboard runs with: none, local or oidc.

    none (no sign-in, every visitor is the local admin) only for a SQLite file store served on a loopback address;
    `auto` picks it there unless the store already has users, and otherwise oidc where Streamlit's [auth] secrets
    are configured, else local accounts. Raises HwplanError when the requested mode cannot be used, saying why."""
    if requested not in AUTH_MODES:
        raise UnknownIdError("--auth mode", requested, AUTH_MODES)
    single_ok = is_local_file_store(url) and is_loopback(address)
    if requested == "auto":
        if single_ok and not has_users:
            return "none"
        return "oidc" if oidc_configured else "local"
    if requested == "none" and not single_ok:
        why = []
        if not is_local_file_store(url):
            why.append(f"the store {shown_url or url} is a shared database, not a SQLite file on this machine")
        if not is_loopback(address):
            why.append(f"the address {address or '(all interfaces)'} can be reached from other machines")
        raise HwplanError("--auth none (no sign-in; every visitor may change everything) is only for a SQLite file "
                          "store served on 127.0.0.1 or localhost, and " + " and ".join(why) + "; use --auth local "
                          "(create accounts first: hwplan users add NAME --role admin), or --auth oidc with an [auth] "
                          "section in .streamlit/secrets.toml")
    if requested == "oidc" and not oidc_configured:
        raise HwplanError("--auth oidc needs Streamlit's OIDC settings: an [auth] section (redirect_uri, cookie_secret, "
                          "client_id, client_secret, server_metadata_url) in .streamlit/secrets.toml; add it, or use "
                          "--auth local")
    return requested


def file_has_users(path) -> bool | None:
    """Whether a SQLite store file holds any account, asked with the standard library only (`hwplan app` asks before
    its server starts, without loading pandas or SQLAlchemy): False for a file not there yet or from before
    accounts, None when the file cannot be read this way (the store itself then says what is wrong)."""
    import sqlite3
    from pathlib import Path

    from hwplan.core.paths import sqlite_file

    file = sqlite_file(path) if isinstance(path, str) and ":/" in path else Path(path)  # a URL, or a file's path
    if file is None:
        return None
    if not file.exists():
        return False
    try:
        con = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
        try:
            return con.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None
        finally:
            con.close()
    except sqlite3.Error as exc:
        return False if "no such table" in str(exc) else None
