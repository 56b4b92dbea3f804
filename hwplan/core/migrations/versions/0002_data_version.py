"""A data version in `meta`: a random token every write of measurement rows replaces, so a fitted model of the
store's rows can be found again by it (the cost model's cache is keyed by it).

Revision ID: 0002
Revises: 0001
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    have = op.get_bind().execute(sa.select(meta.c.key).where(meta.c.key == "data_version")).first()
    if have is None:
        op.execute(meta.insert().values(key="data_version", value=secrets.token_hex(12)))
