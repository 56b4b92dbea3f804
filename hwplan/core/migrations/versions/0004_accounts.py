"""Accounts and roles: a users table, an audit table, an owner (and `shared`) on reports, an owner on assumption
sets, the uploader on measurement rows. What was stored before keeps no owner: readable by everyone, changed only by
an admin.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("object_id", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("owner", sa.Text, nullable=True))
        batch.add_column(sa.Column("shared", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("assumption_sets") as batch:
        batch.add_column(sa.Column("owner", sa.Text, nullable=True))
    with op.batch_alter_table("measurements") as batch:
        batch.add_column(sa.Column("uploaded_by", sa.Text, nullable=True))
