"""Regenerate data/published_results.csv (Measurement rows) from the raw published table in data/raw/.

Run: .venv/bin/python scripts/build_published.py [RAW_CSV]
Rows that cannot be mapped are left out and counted by reason (also printed by `hwplan import`).
"""

import sys
from pathlib import Path

from hwplan.core import paths
from hwplan.core.catalog import load_catalog, load_workloads
from hwplan.core.errors import ValidationError
from hwplan.core.tableio import load_file, write_table

src = Path(sys.argv[1]) if len(sys.argv) > 1 else paths.RAW_MLPERF_CSV
table = load_file(src.name, path=src, max_bytes=1 << 30, known_workloads=set(load_workloads().index),
                  known_devices=set(load_catalog().index))
if table.problems:
    raise ValidationError(table.problems)
write_table(table.rows, "csv", paths.PUBLISHED_CSV)
print(f"{src}: {table.mapped} rows mapped -> {paths.PUBLISHED_CSV}; {sum(table.skipped.values())} left out:")
for reason, n in sorted(table.skipped.items(), key=lambda kv: -kv[1]):
    print(f"  {n:5d}  {reason}")
