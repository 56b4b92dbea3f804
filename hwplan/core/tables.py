"""The results store's tables as SQLAlchemy sees them, at the newest schema revision (`store.SCHEMA_REVISION`).

Alembic migrations (`hwplan/core/migrations/versions/`) build exactly this; a test compares the two.
Imported only when a store actually needs its engine (SQLAlchemy's import costs start-up).
"""

from __future__ import annotations

import sqlalchemy as sa

from hwplan.core.errors import StoreError
from hwplan.core.schema import COLUMNS_BY_NAME

_SA_TYPES = {"str": sa.Text, "datetime": sa.Text, "int": sa.BigInteger, "float": sa.Float}

metadata = sa.MetaData()
measurements = sa.Table(
    "measurements",
    metadata,
    sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("row_key", sa.String(64), nullable=False, unique=True),
    *[sa.Column(c.name, _SA_TYPES[c.kind], nullable=True) for c in COLUMNS_BY_NAME.values()],
    sa.Column("uploaded_by", sa.Text, nullable=True),  # the user who uploaded the row (none: seeded, profiled, CLI)
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
    sa.Column("owner", sa.Text, nullable=True),  # the user who saved it; none: saved before accounts existed
    sa.Column("shared", sa.Boolean, nullable=False, server_default=sa.false()),
)
assumption_sets = sa.Table(
    "assumption_sets",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("owner", sa.Text, nullable=True),
)
users = sa.Table(
    "users",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=True),  # none: signs in through OIDC only
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)
audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("object_id", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
)
meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


# Alembic's own bookkeeping table, for stamping a store created at the current revision (not part of `metadata`,
# which is what the migrations must build).
alembic_version = sa.Table("alembic_version", sa.MetaData(),
                           sa.Column("version_num", sa.String(32), primary_key=True))


def dialect_insert(engine: sa.Engine):
    """The dialect's INSERT, which knows ON CONFLICT (both dialects load with SQLAlchemy; no driver needed)."""
    from sqlalchemy.dialects import postgresql, sqlite

    inserts = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
    if engine.dialect.name not in inserts:
        raise StoreError(f"the store supports SQLite and PostgreSQL, not '{engine.dialect.name}'")
    return inserts[engine.dialect.name]


def insert_ignoring_duplicates(engine: sa.Engine):
    return dialect_insert(engine)(measurements).on_conflict_do_nothing(index_elements=["row_key"])


def upsert_meta(engine: sa.Engine, key: str, value: str):
    """Insert or replace one key/value row in a single statement (two writers never collide on the key)."""
    stmt = dialect_insert(engine)(meta).values(key=key, value=value)
    return stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value})
