"""LLM serving columns on the Measurement row: request shape, parallel layout, KV-cache format, load, serving
latencies and the software's release date (all nullable: rows stored before keep them empty).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_COLUMNS = [
    ("input_len", sa.BigInteger), ("output_len", sa.BigInteger), ("tensor_parallel", sa.BigInteger),
    ("pipeline_parallel", sa.BigInteger), ("expert_parallel", sa.BigInteger), ("kv_precision", sa.Text),
    ("concurrency", sa.BigInteger), ("request_rate_per_s", sa.Float), ("ttft_p50_s", sa.Float), ("ttft_p99_s", sa.Float), ("tpot_p50_s", sa.Float),
    ("tpot_p99_s", sa.Float), ("software_date", sa.Text),
]


def upgrade() -> None:
    with op.batch_alter_table("measurements") as batch:
        for name, kind in _COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
