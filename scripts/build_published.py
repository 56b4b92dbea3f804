"""Regenerate the shipped published rows (Measurement rows) from the raw published tables in data/raw/:
data/published_results.csv from the MLPerf table, data/published_serving.csv from the LLM serving tables.

Run: .venv/bin/python scripts/build_published.py
Rows that cannot be mapped are left out and counted by reason (also printed by `hwplan import`).
"""

import pandas as pd

from hwplan.core import paths
from hwplan.core.catalog import load_catalog, load_workloads
from hwplan.core.errors import ValidationError
from hwplan.core.tableio import load_file, write_table


def build(sources, out):
    tables = [load_file(src.name, path=src, max_bytes=1 << 30, known_workloads=set(load_workloads().index),
                        known_devices=set(load_catalog().index)) for src in sources]
    problems = [p for t in tables for p in t.problems]
    if problems:
        raise ValidationError(problems)
    write_table(pd.concat([t.rows for t in tables], ignore_index=True), "csv", out)
    for src, t in zip(sources, tables):
        print(f"{src}: {t.mapped} rows mapped -> {out}; {sum(t.skipped.values())} left out:")
        for reason, n in sorted(t.skipped.items(), key=lambda kv: -kv[1]):
            print(f"  {n:5d}  {reason}")


def build_training():
    """data/published_training.csv and data/training_runs.csv from the raw training tables."""
    from hwplan.core.published_training import map_runs, map_training

    mlperf, vendor, nonllm, volumes = (pd.read_csv(p) for p in paths.RAW_TRAINING)
    rows, skipped = map_training(mlperf, vendor, nonllm, load_catalog(), load_workloads())
    rows.to_csv(paths.PUBLISHED_TRAINING_CSV, index=False, lineterminator="\n")
    map_runs(volumes).to_csv(paths.TRAINING_RUNS_CSV, index=False, lineterminator="\n")
    print(f"training: {len(rows)} rows -> {paths.PUBLISHED_TRAINING_CSV}; {sum(skipped.values())} left out:")
    for reason, n in sorted(skipped.items(), key=lambda kv: -kv[1]):
        print(f"  {n:5d}  {reason}")


if __name__ == "__main__":
    build([paths.RAW_MLPERF_CSV], paths.PUBLISHED_CSV)
    build(list(paths.RAW_SERVING), paths.PUBLISHED_SERVING_CSV)
    build_training()
