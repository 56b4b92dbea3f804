"""The results store: Measurement rows, saved reports and assumption sets, through SQLAlchemy.

SQLite file by default, any SQLAlchemy URL (PostgreSQL for a team). Writes are all-or-nothing
per call, and a measurement already stored (same `KEY_COLUMNS`) is not stored twice, even when
several processes write at once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from hwplan.core import paths
from hwplan.core.errors import StoreError, ValidationError
from hwplan.core.schema import COLUMN_NAMES, COLUMNS_BY_NAME, KEY_COLUMNS, validate_measurements

DATA_VERSION_KEY = "data_version"
_SA_TYPES = {"str": sa.Text, "datetime": sa.Text, "int": sa.BigInteger, "float": sa.Float}

metadata = sa.MetaData()
measurements = sa.Table(
    "measurements",
    metadata,
    sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("row_key", sa.String(64), nullable=False, unique=True),
    *[sa.Column(c.name, _SA_TYPES[c.kind], nullable=True) for c in COLUMNS_BY_NAME.values()],
)
sa.Index("ix_measurements_workload_device", measurements.c.workload, measurements.c.device)
reports = sa.Table(
    "reports",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False, default=""),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
)
assumption_sets = sa.Table(
    "assumption_sets",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
)
meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


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
    return [hashlib.sha256(k.encode()).hexdigest()[:40] for k in joined]


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class Store:
    """A handle on one results store. `Store.open(url)` connects and creates missing tables."""

    def __init__(self, url: str):
        self.url = url
        self.engine: sa.Engine | None = None

    @classmethod
    def open(cls, url: str | None = None) -> "Store":
        store = cls(paths.as_db_url(url) if url else paths.default_db_url())
        store.connect()
        return store

    def connect(self) -> "Store":
        try:
            kwargs = {}
            if self.url.startswith("sqlite"):
                db_file = self.url.split("///", 1)[-1]
                if db_file and db_file != ":memory:":
                    Path(db_file).parent.mkdir(parents=True, exist_ok=True)
                kwargs["connect_args"] = {"timeout": 60}
            self.engine = sa.create_engine(self.url, future=True, **kwargs)
            if self.engine.dialect.name == "sqlite":
                sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self._create_tables()
        except (SQLAlchemyError, ImportError, OSError) as exc:
            raise StoreError(f"cannot open the results store {self._safe_url()}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
                             " (check --db / HWPLAN_DB; a plain path means a SQLite file)") from exc
        return self

    def _create_tables(self) -> None:
        """Create missing tables. Two processes opening a new store at once can both see a table
        missing; the loser's CREATE fails with 'already exists', and a second look finds it there."""
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    metadata.create_all(conn, checkfirst=True)
                return
            except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError) as exc:
                if "already exists" not in str(exc) and "duplicate key" not in str(exc) or attempt == 2:
                    raise

    def _safe_url(self) -> str:
        try:
            return sa.engine.make_url(self.url).render_as_string(hide_password=True)
        except Exception:  # noqa: BLE001 - only for a message
            return "<url>"

    @property
    def dialect(self) -> str:
        return self._engine().dialect.name

    def _engine(self) -> sa.Engine:
        if self.engine is None:
            raise StoreError("the store is not connected; use Store.open(url)")
        return self.engine

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    # ---- measurements -------------------------------------------------------------------

    def add_measurements(self, df: pd.DataFrame, validated: bool = False, file: str = "<rows>") -> AddResult:
        """Store rows all-or-nothing; rows already stored are counted, not stored again."""
        if not validated:
            df, problems = validate_measurements(df, file)
            if problems:
                raise ValidationError(problems)
        if df.empty:
            return AddResult(0, 0)
        df = df.reset_index(drop=True)
        keys = row_keys(df)
        records = _records(df, keys)
        # Duplicates inside the same batch count as duplicates too.
        unique: dict[str, dict] = {}
        for r in records:
            unique.setdefault(r["row_key"], r)
        batch = list(unique.values())
        engine = self._engine()
        insert = _insert_ignoring_duplicates(engine)
        inserted = 0
        try:
            with engine.begin() as conn:
                for start in range(0, len(batch), 500):
                    chunk = batch[start : start + 500]
                    res = conn.execute(insert.returning(measurements.c.row_key), chunk)
                    inserted += len(res.fetchall())
                if inserted:
                    self._new_data_version(conn)
        except SQLAlchemyError as exc:
            raise StoreError(f"writing to {self._safe_url()} failed, nothing was stored: {str(exc).splitlines()[0]}") from exc
        return AddResult(inserted, len(records) - inserted)

    def measurements(self, **filters: str | Iterable[str]) -> pd.DataFrame:
        """All stored rows, optionally filtered by column values (a value or a list of values)."""
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

    def count(self) -> int:
        with self._engine().connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(measurements)).scalar_one())

    def delete_run(self, run_id: str) -> int:
        with self._engine().begin() as conn:
            n = conn.execute(measurements.delete().where(measurements.c.run_id == run_id)).rowcount
            if n:
                self._new_data_version(conn)
            return n

    def data_version(self) -> str:
        """Changes whenever a write adds or removes measurement rows (any process, any client of this store):
        what a fitted model of the store's rows is keyed by. One indexed lookup."""
        v = self.get_meta(DATA_VERSION_KEY)
        if v:
            return v
        with self._engine().connect() as conn:  # a store no write of this release has touched yet
            n, last = conn.execute(sa.select(sa.func.count(), sa.func.max(measurements.c.row_id))).one()
        return f"rows-{n}-{last or 0}"

    def _new_data_version(self, conn) -> None:
        """A fresh random token, in the writer's transaction (concurrent writers each leave a new one)."""
        conn.execute(_upsert_meta(conn.engine, DATA_VERSION_KEY, secrets.token_hex(12)))

    # ---- key/value, reports, assumption sets ---------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._engine().connect() as conn:
            return conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none()

    def set_meta(self, key: str, value: str) -> None:
        with self._engine().begin() as conn:
            conn.execute(_upsert_meta(conn.engine, key, value))

    def put_report(self, report_id: str, title: str, author: str, created_at: str, payload: dict) -> None:
        with self._engine().begin() as conn:
            conn.execute(reports.insert().values(id=report_id, title=title, author=author, created_at=created_at,
                                                 payload=json.dumps(payload, default=str)))

    def get_report(self, report_id: str) -> dict | None:
        with self._engine().connect() as conn:
            row = conn.execute(sa.select(reports).where(reports.c.id == str(report_id))).mappings().first()
        if row is None:
            return None
        out = dict(row)
        out["payload"] = json.loads(out["payload"])
        return out

    def list_reports(self) -> pd.DataFrame:
        with self._engine().connect() as conn:
            rows = conn.execute(sa.select(reports.c.id, reports.c.title, reports.c.author, reports.c.created_at)
                                .order_by(reports.c.created_at.desc())).mappings().all()
        return pd.DataFrame(rows, columns=["id", "title", "author", "created_at"])

    def delete_report(self, report_id: str) -> bool:
        with self._engine().begin() as conn:
            return conn.execute(reports.delete().where(reports.c.id == str(report_id))).rowcount > 0

    def put_assumptions(self, name: str, created_at: str, payload: dict) -> None:
        with self._engine().begin() as conn:
            conn.execute(assumption_sets.delete().where(assumption_sets.c.name == name))
            conn.execute(assumption_sets.insert().values(name=name, created_at=created_at, payload=json.dumps(payload)))

    def get_assumptions(self, name: str) -> dict | None:
        with self._engine().connect() as conn:
            raw = conn.execute(sa.select(assumption_sets.c.payload).where(assumption_sets.c.name == name)).scalar_one_or_none()
        return None if raw is None else json.loads(raw)

    def list_assumptions(self) -> list[str]:
        with self._engine().connect() as conn:
            return [r[0] for r in conn.execute(sa.select(assumption_sets.c.name).order_by(assumption_sets.c.name))]


def _dialect_insert(engine: sa.Engine):
    name = engine.dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        raise StoreError(f"the store supports SQLite and PostgreSQL, not '{name}'")
    return insert


def _insert_ignoring_duplicates(engine: sa.Engine):
    return _dialect_insert(engine)(measurements).on_conflict_do_nothing(index_elements=["row_key"])


def _upsert_meta(engine: sa.Engine, key: str, value: str):
    """Insert or replace one key/value row in a single statement (two writers never collide on the key)."""
    stmt = _dialect_insert(engine)(meta).values(key=key, value=value)
    return stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value})


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
