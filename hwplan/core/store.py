"""The results store: Measurement rows, saved reports and assumption sets, users and the audit log, through
SQLAlchemy.

Every change a person makes names its `actor` (`hwplan.core.accounts.User`; the CLI and a single-user dashboard are
`LOCAL`, the local admin): the store refuses what the actor's role does not allow, and writes the change's audit
row in the change's own transaction.

SQLite file by default, any SQLAlchemy URL (PostgreSQL for a team). Writes are all-or-nothing per call,
and a measurement already stored (same `KEY_COLUMNS`) is not stored twice, even when several processes
write at once. Opening a store brings its schema to `SCHEMA_REVISION` with Alembic (a store written by an
earlier release is upgraded in place, under a lock, so concurrent openers wait for one migration).

A SQLite store already at the current revision is opened without SQLAlchemy: its small reads (`get_meta`,
`data_version`) go through the standard library's sqlite3, read-only, and the engine is made the first time
anything else is asked. That keeps `hwplan plan` quick; every read and write still goes through this class.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import pandas as pd

from hwplan.core import accounts, paths
from hwplan.core.accounts import LOCAL, User
from hwplan.core.errors import HwplanError, StoreError, ValidationError
from hwplan.core.schema import COLUMN_NAMES, COLUMNS_BY_NAME, KEY_COLUMNS, KEY_COLUMNS_ADDED, utc_now_iso, validate_measurements

if TYPE_CHECKING:
    import sqlalchemy as sa

T = TypeVar("T")

SCHEMA_REVISION = "0004"  # the newest migration in hwplan/core/migrations/versions (a test checks they agree)
BASELINE_REVISION = "0001"  # the schema hwplan 0.1.0 wrote, without Alembic's version table
DATA_VERSION_KEY = "data_version"
_MIGRATION_LOCK = 0x687770_6C616E  # PostgreSQL advisory lock key ("hwplan")


@dataclass(frozen=True)
class AddResult:
    inserted: int
    duplicates: int


def row_keys(df: pd.DataFrame) -> list[str]:
    """A stable hash of each row's key columns (NULL and empty agree)."""
    parts = []
    for c in KEY_COLUMNS:
        s = df[c].astype("string").fillna("").str.strip().str.lower()
        parts.append(s)
    joined = parts[0].str.cat(parts[1:], sep="\x1f")
    for c in KEY_COLUMNS_ADDED:  # only where set: a row without them keeps the key it had before they existed
        if c in df:
            v = df[c].astype("string").fillna("").str.strip().str.lower()
            joined = joined.where(v == "", joined + f"\x1f{c}=" + v)
    return [hashlib.sha256(k.encode()).hexdigest()[:40] for k in joined]


def sqlite_readonly_uri(path: str | Path) -> str:
    """The `file:` URI that opens the SQLite file `path` read-only, never creating it. Every character of the
    absolute path but '/' is percent-quoted, so a name with spaces, '?', '#' or '%' names that file, not a query
    or a fragment. Every read-only opening of a SQLite store goes through here."""
    return "file://" + quote(str(Path(path).absolute()), safe="/") + "?mode=ro"


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0][:300] if text else exc.__class__.__name__


def _retrying(method: Callable[..., T]) -> Callable[..., T]:
    """Run a store operation; when the connection was lost, once more on a fresh one (every write is one
    transaction, so a retried write stores its rows once), then a StoreError that says so. Any other database
    error becomes a StoreError naming the store, never a traceback."""

    @functools.wraps(method)
    def run(self: Store, *args: Any, **kwargs: Any) -> T:
        from sqlalchemy.exc import SQLAlchemyError

        for attempt in (1, 2):
            try:
                return method(self, *args, **kwargs)
            except SQLAlchemyError as exc:
                if not self._is_disconnect(exc):
                    raise StoreError(f"the store at {self.describe()} failed: {_first_line(exc)}") from exc
                if attempt == 2:
                    raise self._lost(exc) from exc
                if self.engine is not None:
                    self.engine.dispose()  # drop every pooled connection: they all went with the server
        raise AssertionError("unreachable")

    return run


class Store:
    """A handle on one results store. `Store.open(url)` connects and brings the schema up to date."""

    def __init__(self, url: str):
        self.url = url
        self.engine: sa.Engine | None = None
        self._sqlite_file = paths.sqlite_file(url)
        self._light = False  # a current SQLite store read with sqlite3 until the engine is needed

    def _read_only(self) -> sqlite3.Connection:
        """A standard-library connection to this SQLite store, read-only (the light path)."""
        if self._sqlite_file is None:
            raise sqlite3.OperationalError(f"{self.describe()} is not a SQLite file")
        return sqlite3.connect(sqlite_readonly_uri(self._sqlite_file), uri=True, timeout=60)

    @classmethod
    def open(cls, url: str | None = None, writes: bool = False) -> Store:
        """Connect and bring the schema up to date. `writes`: the caller means to store something, so a store that
        keeps nothing once the process ends (an in-memory SQLite database) is refused."""
        store = cls(paths.as_db_url(url) if url else paths.default_db_url())
        if writes and store.is_transient():
            raise StoreError(f"--db {store.describe()} is an in-memory SQLite database: what this command stores would "
                             "be gone when it ends; give a file (--db results.db or sqlite:////abs/path/results.db) or a "
                             "PostgreSQL URL")
        store.connect()
        return store

    def is_transient(self) -> bool:
        """True for a SQLite URL without a file (sqlite://, sqlite:///, sqlite:///:memory:, mode=memory)."""
        if not self.url.startswith("sqlite"):
            return False
        return self._sqlite_file is None or "mode=memory" in self.url or str(self._sqlite_file).startswith(":memory:")

    def connect(self) -> Store:
        if self._sqlite_file is not None and self._sqlite_file.is_file():
            self._check_sqlite_file()
            if self._lite_revision() == SCHEMA_REVISION:
                self._light = True
                return self
        self._engine()
        return self

    def _check_sqlite_file(self) -> None:
        """Refuse a file that is not a SQLite database, or a SQLite database that is not an hwplan store, before
        anything is written to it."""
        assert self._sqlite_file is not None
        with open(self._sqlite_file, "rb") as f:
            head = f.read(16)
        if head and head != b"SQLite format 3\x00":
            raise StoreError(f"{self._sqlite_file} is not a SQLite database (is it the right file?); give an hwplan "
                             "store with --db, or a new file name to create one")
        if not head:
            return  # an empty file: SQLite makes a new database in it
        try:
            con = self._read_only()
            try:
                names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                con.close()
        except sqlite3.Error as exc:
            raise StoreError(f"{self._sqlite_file} could not be read as a SQLite database ({exc}); is it damaged? "
                             "Restore it from a backup, or give another --db") from None
        if names and not names & {"measurements", "alembic_version"}:
            shown = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
            raise StoreError(f"{self._sqlite_file} is a SQLite database of something else (tables: {shown}), not an "
                             "hwplan store; give another --db, or a new file name to create one")

    # ---- engine and schema ----------------------------------------------------------------

    def _engine(self) -> sa.Engine:
        if self.engine is not None:
            return self.engine
        import sqlalchemy as sa
        from sqlalchemy.exc import SQLAlchemyError

        try:
            kwargs: dict[str, Any] = {}
            if self._sqlite_file is not None:
                self._sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            if self.url.startswith("sqlite"):
                kwargs["connect_args"] = {"timeout": 60}
            else:
                kwargs["pool_pre_ping"] = True  # a connection the server dropped (restart, idle timeout) is replaced
            engine = sa.create_engine(self.url, future=True, **kwargs)
            if engine.dialect.name == "sqlite":
                sa.event.listen(engine, "connect", _sqlite_pragmas)
            if not self._light:
                self._migrate(engine)
        except StoreError:
            raise
        except SQLAlchemyError as exc:
            if self._is_disconnect(exc):
                raise StoreError(f"cannot reach the store at {self.describe()} (is PostgreSQL running, and "
                                 f"the URL right? check --db / HWPLAN_DB): {_first_line(exc)}") from exc
            raise StoreError(f"cannot open the results store {self.describe()}: {exc.__class__.__name__}: "
                             f"{str(exc).splitlines()[0]} (check --db / HWPLAN_DB; a plain path means a SQLite file)"
                             ) from exc
        except (ImportError, OSError) as exc:
            raise StoreError(f"cannot open the results store {self.describe()}: {exc.__class__.__name__}: "
                             f"{str(exc).splitlines()[0]} (check --db / HWPLAN_DB; a plain path means a SQLite file)"
                             ) from exc
        self.engine = engine
        return engine

    def _lite_revision(self) -> str | None:
        try:
            con = self._read_only()
            try:
                row = con.execute("SELECT version_num FROM alembic_version").fetchone()
            finally:
                con.close()
        except sqlite3.Error:
            return None  # no version table yet (new, or written by 0.1.0): the engine path migrates it
        return row[0] if row else None

    def _migrate(self, engine: sa.Engine) -> None:
        """Bring the schema to SCHEMA_REVISION in one transaction, one opener at a time: SQLite takes the write
        lock first (BEGIN IMMEDIATE), PostgreSQL an advisory lock. A new, empty store gets the current tables and
        is stamped at SCHEMA_REVISION (Alembic's advice for new databases; a test checks the migrations build the
        same tables); a store with tables is upgraded by the migrations, one of 0.1.0 (no version) stamped as the
        baseline first. Alembic is imported only when there is a migration to run."""
        import sqlalchemy as sa

        with engine.connect() as conn:
            if self._revision(conn) == SCHEMA_REVISION:
                return
        lock_engine = engine
        if engine.dialect.name == "sqlite":  # pysqlite would not begin a transaction before DDL: do it ourselves
            lock_engine = sa.create_engine(self.url, future=True, connect_args={"timeout": 60, "isolation_level": None})
            sa.event.listen(lock_engine, "begin", lambda c: c.exec_driver_sql("BEGIN IMMEDIATE"))
        try:
            with lock_engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
                current = self._revision(conn)
                if current == SCHEMA_REVISION:
                    return
                if current is None and not sa.inspect(conn).has_table("measurements"):
                    self._create_current(conn)
                    return
                from alembic import command
                from alembic.config import Config

                cfg = Config()
                cfg.set_main_option("script_location", str(files("hwplan.core") / "migrations"))
                cfg.attributes["connection"] = conn
                known = _revisions(cfg)
                if current is not None and current not in known:
                    from hwplan import __version__

                    raise StoreError(f"the results store {self.describe()} has schema revision {current}, which hwplan "
                                     f"{__version__} does not know (it knows {', '.join(sorted(known))}): it was written "
                                     "by a newer release; upgrade hwplan (pip install -U hwplan), or use another --db")
                if current is None and sa.inspect(conn).has_table("measurements"):
                    command.stamp(cfg, BASELINE_REVISION)
                command.upgrade(cfg, SCHEMA_REVISION)
        finally:
            if lock_engine is not engine:
                lock_engine.dispose()

    @staticmethod
    def _create_current(conn) -> None:
        """A new store at the current revision: the tables, Alembic's stamp, a first data version."""
        from hwplan.core import tables as t

        t.metadata.create_all(conn)
        t.alembic_version.create(conn)
        conn.execute(t.alembic_version.insert().values(version_num=SCHEMA_REVISION))
        conn.execute(t.meta.insert().values(key=DATA_VERSION_KEY, value=secrets.token_hex(12)))

    @staticmethod
    def _revision(conn) -> str | None:
        import sqlalchemy as sa

        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()

    @_retrying
    def revision(self) -> str | None:
        """The schema revision the store is at (SCHEMA_REVISION once opened)."""
        if self._light and self.engine is None:
            return self._lite_revision()
        with self._engine().connect() as conn:
            return self._revision(conn)

    def describe(self) -> str:
        """The store's URL with any password hidden, for messages."""
        try:
            import sqlalchemy as sa

            return sa.engine.make_url(self.url).render_as_string(hide_password=True)
        except Exception:
            return "<url>"

    @property
    def dialect(self) -> str:
        return "sqlite" if self.url.startswith("sqlite") else self._engine().dialect.name

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    def _is_disconnect(self, exc: BaseException) -> bool:
        """A connection the server dropped or refused (PostgreSQL restarted, network gone), not a bad query.
        SQLite's OperationalError (a busy or read-only file) is no disconnect."""
        from sqlalchemy.exc import DBAPIError, OperationalError

        if not isinstance(exc, DBAPIError):
            return False
        return bool(exc.connection_invalidated) or (isinstance(exc, OperationalError) and not self.url.startswith("sqlite"))

    def _lost(self, exc: BaseException) -> StoreError:
        return StoreError(f"lost the connection to the store at {self.describe()} (is PostgreSQL running?); tried "
                          f"twice: {_first_line(exc)}")

    # ---- measurements -------------------------------------------------------------------

    @_retrying
    def add_measurements(self, df: pd.DataFrame, validated: bool = False, file: str = "<rows>",
                         actor: User | None = None) -> AddResult:
        """Store rows all-or-nothing; rows already stored are counted, not stored again. `actor`: the user who
        uploads them (checked against their role, recorded on each row and in the audit, in the same transaction);
        None for the store's own seeding and profiling."""
        from sqlalchemy.exc import SQLAlchemyError

        from hwplan.core import tables as t

        if not validated:
            df, problems = validate_measurements(df, file)
            if problems:
                raise ValidationError(problems)
        if actor is not None:
            accounts.require(actor, accounts.CREATE, "upload results")
            if "source" in df and (df["source"].astype("string") == "published").any():
                accounts.require(actor, accounts.IMPORT_PUBLISHED, "store rows as published results")
        if df.empty:
            return AddResult(0, 0)
        df = df.reset_index(drop=True)
        keys = row_keys(df)
        records = _records(df, keys)
        for r in records:
            r["uploaded_by"] = None if actor is None else actor.name
        # Duplicates inside the same batch count as duplicates too.
        unique: dict[str, dict] = {}
        for r in records:
            unique.setdefault(r["row_key"], r)
        batch = list(unique.values())
        engine = self._engine()
        insert = t.insert_ignoring_duplicates(engine)
        inserted = 0
        try:
            with engine.begin() as conn:
                for start in range(0, len(batch), 500):
                    chunk = batch[start : start + 500]
                    res = conn.execute(insert.returning(t.measurements.c.row_key), chunk)
                    inserted += len(res.fetchall())
                if inserted:
                    self._new_data_version(conn)
                if actor is not None:
                    runs = ", ".join(sorted({str(r["run_id"]) for r in batch}))[:500]
                    _audit(conn, actor, "create", "upload", runs or file,
                           f"{inserted} new row(s), {len(records) - inserted} already stored, from {file}")
        except SQLAlchemyError as exc:
            if self._is_disconnect(exc):
                raise  # `_retrying` tries once more on a fresh connection
            raise StoreError(f"writing to {self.describe()} failed, nothing was stored: {str(exc).splitlines()[0]}") from exc
        return AddResult(inserted, len(records) - inserted)

    @_retrying
    def measurements(self, **filters: str | Iterable[str] | None) -> pd.DataFrame:
        """All stored rows, optionally filtered by column values (a value or a list of values)."""
        import sqlalchemy as sa

        from hwplan.core.tables import measurements

        stmt = sa.select(*[measurements.c[c] for c in COLUMN_NAMES]).order_by(measurements.c.row_id)
        for col, value in filters.items():
            if value is None:
                continue
            if col not in COLUMNS_BY_NAME:
                raise StoreError(f"cannot filter on unknown column '{col}'")
            values = [value] if isinstance(value, str) else list(value)
            stmt = stmt.where(measurements.c[col].in_(values))
        with self._engine().connect() as conn:
            rows = conn.execute(stmt).fetchall()
        return _frame(rows)

    @_retrying
    def count(self) -> int:
        import sqlalchemy as sa

        from hwplan.core.tables import measurements

        with self._engine().connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(measurements)).scalar_one())

    @_retrying
    def delete_run(self, run_id: str) -> int:
        from hwplan.core.tables import measurements

        with self._engine().begin() as conn:
            n = conn.execute(measurements.delete().where(measurements.c.run_id == run_id)).rowcount
            if n:
                self._new_data_version(conn)
            return n

    @_retrying
    def data_version(self) -> str:
        """Changes whenever a write adds or removes measurement rows (any process, any client of this store):
        what a fitted model of the store's rows is keyed by. One indexed lookup."""
        v = self.get_meta(DATA_VERSION_KEY)
        if v:
            return v
        import sqlalchemy as sa

        from hwplan.core.tables import measurements

        with self._engine().connect() as conn:  # the row was removed by hand: fall back to the rows themselves
            n, last = conn.execute(sa.select(sa.func.count(), sa.func.max(measurements.c.row_id))).one()
        return f"rows-{n}-{last or 0}"

    def _new_data_version(self, conn) -> None:
        """A fresh random token, in the writer's transaction (concurrent writers each leave a new one)."""
        from hwplan.core.tables import upsert_meta

        conn.execute(upsert_meta(conn.engine, DATA_VERSION_KEY, secrets.token_hex(12)))

    # ---- key/value, reports, assumption sets ---------------------------------------------

    @_retrying
    def get_meta(self, key: str) -> str | None:
        if self._light and self.engine is None:
            try:
                con = self._read_only()
                try:
                    row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
                finally:
                    con.close()
                return row[0] if row else None
            except sqlite3.Error:
                pass  # fall through to the engine, which reports what is wrong
        import sqlalchemy as sa

        from hwplan.core.tables import meta

        with self._engine().connect() as conn:
            return conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none()

    @_retrying
    def set_meta(self, key: str, value: str) -> None:
        from hwplan.core.tables import upsert_meta

        with self._engine().begin() as conn:
            conn.execute(upsert_meta(conn.engine, key, value))

    @_retrying
    def put_report(self, report_id: str, title: str, author: str, created_at: str, payload: dict,
                   actor: User = LOCAL, shared: bool = False) -> None:
        """Save a report owned by `actor` (who must be allowed to create), `shared` with the team or not."""
        from hwplan.core.tables import reports

        accounts.require(actor, accounts.CREATE, "save a report")
        with self._engine().begin() as conn:
            conn.execute(reports.insert().values(id=report_id, title=title, author=author, created_at=created_at,
                                                 payload=json.dumps(payload, default=str), owner=actor.name,
                                                 shared=bool(shared)))
            _audit(conn, actor, "create", "report", report_id, f"title {title!r}" + (", shared" if shared else ""))

    @_retrying
    def get_report(self, report_id: str) -> dict | None:
        import sqlalchemy as sa

        from hwplan.core.tables import reports

        with self._engine().connect() as conn:
            row = conn.execute(sa.select(reports).where(reports.c.id == str(report_id))).mappings().first()
        if row is None:
            return None
        out = dict(row)
        out["payload"] = json.loads(out["payload"])
        out["shared"] = bool(out["shared"])
        return out

    def may_read_report(self, report_id: str, user: User | None) -> bool:
        """Whether `user` may open this report (False for one that is not stored)."""
        row = self._report_owner(str(report_id))
        return row is not None and accounts.allowed(user, accounts.READ, row[0], row[1])

    @_retrying
    def _report_owner(self, report_id: str) -> tuple[str | None, bool] | None:
        import sqlalchemy as sa

        from hwplan.core.tables import reports

        with self._engine().connect() as conn:
            row = conn.execute(sa.select(reports.c.owner, reports.c.shared).where(reports.c.id == report_id)).first()
        return None if row is None else (row[0], bool(row[1]))

    @_retrying
    def list_reports(self, user: User | None = LOCAL) -> pd.DataFrame:
        """The reports `user` may read, newest first: their own, the shared ones and those owned by no one (an
        admin: all)."""
        import sqlalchemy as sa

        from hwplan.core.tables import reports

        columns = ["id", "title", "author", "created_at", "owner", "shared"]
        stmt = sa.select(*[reports.c[c] for c in columns]).order_by(reports.c.created_at.desc())
        if user is None:
            return pd.DataFrame([], columns=columns)
        if user.role != accounts.ADMIN:
            stmt = stmt.where(sa.or_(reports.c.owner == user.name, reports.c.owner.is_(None), reports.c.shared.is_(True)))
        with self._engine().connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        df = pd.DataFrame(rows, columns=columns)
        df["shared"] = df["shared"].astype(bool)
        return df

    @_retrying
    def delete_report(self, report_id: str, actor: User = LOCAL) -> bool:
        """Delete a report; only its owner or an admin may (PermissionDenied otherwise). False: not stored."""
        import sqlalchemy as sa

        from hwplan.core.tables import reports

        with self._engine().begin() as conn:
            row = conn.execute(sa.select(reports.c.owner, reports.c.title).where(reports.c.id == str(report_id))).first()
            if row is None:
                return False
            accounts.require(actor, accounts.MODIFY, f"delete the report '{row[1]}'", owner=row[0])
            conn.execute(reports.delete().where(reports.c.id == str(report_id)))
            _audit(conn, actor, "delete", "report", str(report_id), f"title {row[1]!r}")
            return True

    @_retrying
    def put_assumptions(self, name: str, created_at: str, payload: dict, actor: User = LOCAL) -> None:
        """Save an assumption set owned by `actor`; one of the same name is replaced only when `actor` may change
        it (its owner or an admin), else PermissionDenied and nothing changes."""
        import sqlalchemy as sa

        from hwplan.core.tables import assumption_sets

        accounts.require(actor, accounts.CREATE, "save an assumption set")
        with self._engine().begin() as conn:
            have = conn.execute(sa.select(assumption_sets.c.owner).where(assumption_sets.c.name == name)).first()
            if have is not None:
                accounts.require(actor, accounts.MODIFY, f"overwrite the assumption set '{name}' (save it under "
                                 "another name instead)", owner=have[0])
                conn.execute(assumption_sets.delete().where(assumption_sets.c.name == name))
            conn.execute(assumption_sets.insert().values(name=name, created_at=created_at, payload=json.dumps(payload),
                                                         owner=actor.name))
            _audit(conn, actor, "update" if have is not None else "create", "assumptions", name, "")

    @_retrying
    def get_assumptions(self, name: str) -> dict | None:
        import sqlalchemy as sa

        from hwplan.core.tables import assumption_sets

        with self._engine().connect() as conn:
            raw = conn.execute(sa.select(assumption_sets.c.payload).where(assumption_sets.c.name == name)).scalar_one_or_none()
        return None if raw is None else json.loads(raw)

    @_retrying
    def list_assumptions(self) -> list[str]:
        import sqlalchemy as sa

        from hwplan.core.tables import assumption_sets

        with self._engine().connect() as conn:
            return [r[0] for r in conn.execute(sa.select(assumption_sets.c.name).order_by(assumption_sets.c.name))]

    # ---- users and the audit log ---------------------------------------------------------

    @_retrying
    def add_user(self, name: str, password: str | None, role: str, actor: User = LOCAL) -> User:
        """A new user; `password` None: one who signs in only through OIDC. A name already taken is refused."""
        import sqlalchemy as sa

        from hwplan.core.tables import users

        accounts.require(actor, accounts.MANAGE_USERS, "add users")
        name, role = accounts.check_name(name), accounts.check_role(role)
        hashed = None if password is None else accounts.hash_password(password)
        with self._engine().begin() as conn:
            taken = conn.execute(sa.select(users.c.name).where(sa.func.lower(users.c.name) == name.lower())).first()
            if taken is not None:  # 'BEN' beside 'ben' would be a look-alike account
                same = taken[0] == name
                raise HwplanError(f"a user named '{taken[0]}' already exists{'' if same else ' (names ignore case)'}; "
                                  f"choose another name, or change their role with `hwplan users set-role {taken[0]} "
                                  "ROLE`")
            conn.execute(users.insert().values(name=name, password_hash=hashed, role=role, created_at=utc_now_iso()))
            _audit(conn, actor, "create", "user", name, f"role {role}")
        return User(name, role)

    @_retrying
    def set_role(self, name: str, role: str, actor: User = LOCAL) -> None:
        from hwplan.core.tables import users

        accounts.require(actor, accounts.MANAGE_USERS, "change roles")
        role = accounts.check_role(role)
        with self._engine().begin() as conn:
            old = self._user_row(conn, name)
            self._keep_an_admin(conn, old["name"], old["role"], role)
            conn.execute(users.update().where(users.c.name == old["name"]).values(role=role))
            _audit(conn, actor, "update", "user", old["name"], f"role {old['role']} -> {role}")

    @_retrying
    def set_password(self, name: str, password: str, actor: User = LOCAL) -> None:
        from hwplan.core.tables import users

        if actor.name != name:
            accounts.require(actor, accounts.MANAGE_USERS, "change another user's password")
        hashed = accounts.hash_password(password)
        with self._engine().begin() as conn:
            old = self._user_row(conn, name)
            conn.execute(users.update().where(users.c.name == old["name"]).values(password_hash=hashed))
            _audit(conn, actor, "update", "user", old["name"], "password changed")

    @_retrying
    def delete_user(self, name: str, actor: User = LOCAL) -> None:
        """Delete a user (what they own stays, owned by their name). The last admin is not deleted."""
        from hwplan.core.tables import users

        accounts.require(actor, accounts.MANAGE_USERS, "delete users")
        with self._engine().begin() as conn:
            old = self._user_row(conn, name)
            self._keep_an_admin(conn, old["name"], old["role"], None)
            conn.execute(users.delete().where(users.c.name == old["name"]))
            _audit(conn, actor, "delete", "user", old["name"], f"role {old['role']}")

    @staticmethod
    def _user_row(conn, name: str) -> dict:
        import sqlalchemy as sa

        from hwplan.core.tables import users

        row = conn.execute(sa.select(users.c.name, users.c.role).where(users.c.name == (name or "").strip())).mappings().first()
        if row is None:
            known = [r[0] for r in conn.execute(sa.select(users.c.name).order_by(users.c.name))]
            from hwplan.core.errors import UnknownIdError

            raise UnknownIdError("user", name, known, why="is not a user of this store (hwplan users list)")
        return dict(row)

    @staticmethod
    def _keep_an_admin(conn, name: str, role: str, new_role: str | None) -> None:
        """Refuse to leave a store that has users without any admin (no one could manage it from the dashboard)."""
        import sqlalchemy as sa

        from hwplan.core.tables import users

        if role != accounts.ADMIN or new_role == accounts.ADMIN:
            return
        admins = conn.execute(sa.select(sa.func.count()).select_from(users).where(users.c.role == accounts.ADMIN)).scalar_one()
        if admins <= 1:
            raise HwplanError(f"'{name}' is the store's last admin; make another user admin first "
                              "(hwplan users set-role NAME admin)")

    @_retrying
    def get_user(self, name: str) -> User | None:
        import sqlalchemy as sa

        from hwplan.core.tables import users

        with self._engine().connect() as conn:
            row = conn.execute(sa.select(users.c.name, users.c.role).where(users.c.name == name)).first()
        return None if row is None else User(row[0], row[1])

    @_retrying
    def list_users(self) -> pd.DataFrame:
        import sqlalchemy as sa

        from hwplan.core.tables import users

        with self._engine().connect() as conn:
            rows = conn.execute(sa.select(users.c.name, users.c.role, users.c.created_at,
                                          users.c.password_hash.is_not(None).label("has_password"))
                                .order_by(users.c.name)).mappings().all()
        return pd.DataFrame(rows, columns=["name", "role", "created_at", "has_password"])

    @_retrying
    def has_users(self) -> bool:
        """Whether any account exists. A SQLite file is asked through the standard library (no SQLAlchemy, no
        migration: `hwplan app` asks this before its server starts); one that does not exist yet has none."""
        if self._sqlite_file is not None and self.engine is None:
            known = accounts.file_has_users(self._sqlite_file)
            if known is not None:
                return known  # otherwise the engine reports what is wrong with the file
        import sqlalchemy as sa

        from hwplan.core.tables import users

        with self._engine().connect() as conn:
            return conn.execute(sa.select(users.c.name).limit(1)).first() is not None

    @_retrying
    def authenticate(self, name: str, password: str) -> User | None:
        """The user whose name and password these are, or None (same time spent for an unknown name). Every try is
        in the audit log: action login, or login-failed."""
        import sqlalchemy as sa

        from hwplan.core.tables import users

        name = (name or "").strip()
        with self._engine().begin() as conn:
            row = conn.execute(sa.select(users.c.name, users.c.role, users.c.password_hash)
                               .where(users.c.name == name)).first()
            if self._recent_failures(conn, name[:200] or "(empty)") >= accounts.LOGIN_FAILURES_ALLOWED:
                _audit(conn, User(name or "(empty)", ""), "login-failed", "user", name[:200] or "(empty)",
                       "refused: too many failed sign-ins")
                locked = True
            else:
                locked = False
        if locked:
            minutes = accounts.LOGIN_WINDOW_S // 60
            raise accounts.TooManyTries(f"too many failed sign-ins for '{name}' in the last {minutes} minutes; try "
                                        f"again in {minutes} minutes, or ask an admin to set a new password")
        with self._engine().begin() as conn:
            if row is None:
                accounts.dummy_verify(password)
                ok = False
            else:
                ok = accounts.verify_password(password, row[2])
            who = User(name or "(empty)", row[1] if row is not None else "")
            _audit(conn, who, "login" if ok else "login-failed", "user", name[:200] or "(empty)",
                   "password" if ok else ("unknown user" if row is None else "wrong password"))
        return User(row[0], row[1]) if ok and row is not None else None

    @staticmethod
    def _recent_failures(conn, name: str) -> int:
        """Failed sign-ins for this name within the last LOGIN_WINDOW_S (from the audit log, so every server
        process of the store counts the same tries)."""
        import sqlalchemy as sa

        from hwplan.core.tables import audit

        since = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(seconds=accounts.LOGIN_WINDOW_S)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return int(conn.execute(sa.select(sa.func.count()).select_from(audit).where(
            audit.c.action == "login-failed", audit.c.object_id == name, audit.c.at >= since)).scalar_one())

    @_retrying
    def oidc_user(self, email: str, issuer: str = "") -> User:
        """The user of an identity the OIDC provider vouched for, by email; one not known yet becomes a viewer (an
        admin raises their role). The sign-in is in the audit log."""
        import sqlalchemy as sa

        from hwplan.core.tables import users

        name = accounts.check_name(email).lower()
        with self._engine().begin() as conn:
            row = conn.execute(sa.select(users.c.name, users.c.role).where(users.c.name == name)).first()
            user = User(name, accounts.VIEWER) if row is None else User(row[0], row[1])
            if row is None:
                conn.execute(users.insert().values(name=name, password_hash=None, role=accounts.VIEWER,
                                                   created_at=utc_now_iso()))
                _audit(conn, user, "create", "user", name,
                       f"first OIDC sign-in{' via ' + issuer if issuer else ''}: role viewer")
            _audit(conn, user, "login", "user", name, "oidc")
        return user

    @_retrying
    def audit_log(self, limit: int | None = 100) -> pd.DataFrame:
        """The newest audit rows first: at, actor, action, kind, object_id, detail."""
        import sqlalchemy as sa

        from hwplan.core.tables import audit

        cols = ["at", "actor", "action", "kind", "object_id", "detail"]
        stmt = sa.select(*[audit.c[c] for c in cols]).order_by(audit.c.id.desc())
        if limit is not None:
            stmt = stmt.limit(int(limit))
        with self._engine().connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return pd.DataFrame(rows, columns=cols)


def _audit(conn, actor: User, action: str, kind: str, object_id: str, detail: str) -> None:
    """One audit row, in the caller's transaction: the change and its record are stored together or not at all."""
    from hwplan.core.tables import audit

    conn.execute(audit.insert().values(at=utc_now_iso(), actor=actor.name, action=action, kind=kind,
                                       object_id=str(object_id), detail=detail))


def _revisions(cfg) -> list[str]:
    from alembic.script import ScriptDirectory

    return [s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()]


def _records(df: pd.DataFrame, keys: list[str]) -> list[dict]:
    clean = df[list(COLUMN_NAMES)].astype(object).where(df[list(COLUMN_NAMES)].notna(), None)
    recs = clean.to_dict("records")
    for r, k in zip(recs, keys):
        r["row_key"] = k
        for c in COLUMN_NAMES:
            v = r[c]
            if v is not None and COLUMNS_BY_NAME[c].kind == "int":
                r[c] = int(v)
            elif v is not None and COLUMNS_BY_NAME[c].kind == "float":
                r[c] = float(v)
            elif v is not None:
                r[c] = str(v)
    return recs


def _frame(rows) -> pd.DataFrame:
    df = pd.DataFrame([tuple(r) for r in rows], columns=list(COLUMN_NAMES))
    for c in COLUMN_NAMES:
        kind = COLUMNS_BY_NAME[c].kind
        if kind == "int":
            df[c] = pd.to_numeric(df[c]).astype("Int64")
        elif kind == "float":
            df[c] = pd.to_numeric(df[c]).astype("Float64")
        else:
            df[c] = df[c].astype("string").fillna("")
    return df
