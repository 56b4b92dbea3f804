"""The store as hwplan 0.1.0 wrote it (frozen here: later revisions change it, never this one).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TEXT = ("run_id", "measured_at", "source", "source_ref", "host", "workload", "mode", "phase", "scenario",
         "accuracy_target", "precision")
_COLUMNS = [
    *[(c, sa.Text) for c in _TEXT],
    ("batch_size", sa.BigInteger), ("seq_len", sa.BigInteger), ("device", sa.Text), ("device_name", sa.Text),
    ("device_kind", sa.Text), ("device_count", sa.BigInteger), ("backend", sa.Text), ("software", sa.Text),
    ("throughput", sa.Float), ("throughput_unit", sa.Text), ("latency_p50_s", sa.Float), ("latency_p99_s", sa.Float),
    ("power_avg_w", sa.Float), ("power_scope", sa.Text), ("energy_per_unit_j", sa.Float), ("energy_method", sa.Text),
    ("flops_per_unit", sa.Float), ("bytes_per_unit", sa.Float), ("repetitions", sa.BigInteger), ("cov", sa.Float),
    ("status", sa.Text), ("error", sa.Text), ("notes", sa.Text),
]


def upgrade() -> None:
    op.create_table(
        "measurements",
        sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("row_key", sa.String(64), nullable=False, unique=True),
        *[sa.Column(name, kind, nullable=True) for name, kind in _COLUMNS],
    )
    op.create_index("ix_measurements_workload_device", "measurements", ["workload", "device"])
    op.create_table(
        "reports",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_table(
        "assumption_sets",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
