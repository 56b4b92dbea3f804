"""Benchmark: candidate setups the cost model evaluates per second (vectorised numpy path).

Run: python bench/bench_costmodel.py [--db sqlite:////tmp/cm.db]. Prints a Markdown table and
merges its figures into bench/results/costmodel.json. Target: >= 1,000,000 setups/s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RESULTS = Path(__file__).resolve().parent / "results" / "costmodel.json"


def merge_results(section: str, data: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    old[section] = data
    RESULTS.write_text(json.dumps(old, indent=1) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=None, help="store URL (default: a temporary SQLite store)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    os.environ.setdefault("HWPLAN_CACHE_DIR", tempfile.mkdtemp(prefix="hwplan-bench-cache-"))
    db = args.db or f"sqlite:///{tempfile.mkdtemp(prefix='hwplan-bench-')}/cm.db"

    import numpy as np

    from hwplan.costmodel.assumptions import Assumptions
    from hwplan.costmodel.cache import model_for_db
    from hwplan.costmodel.planner import BATCHES, COUNTS, candidate_grid, evaluate_grid

    model = model_for_db(db)
    a = Assumptions()
    rows = []
    for workload in ("resnet50", "bert-large", "llama2-70b", "mixtral-8x7b"):
        w = model.workload_index(workload)
        grid = candidate_grid(model, w)
        n = len(grid["d"])
        evaluate_grid(model, w, grid, 0, a, "cloud")  # warm-up
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            evaluate_grid(model, w, grid, 0, a, "cloud")
            times.append(time.perf_counter() - t)
        best, med = min(times), float(np.median(times))
        rows.append({"workload": workload, "setups": n, "median_s": med, "best_s": best, "setups_per_s": n / med})
    total = sum(r["setups"] for r in rows) / sum(r["median_s"] for r in rows)
    print(f"Candidate grid: {len(model.devices_)} catalog devices x allowed precisions x {len(BATCHES)} batch sizes x "
          f"{len(COUNTS)} counts (1-1024); performance + power + cost per setup.\n")
    print("| workload | setups | median time (s) | setups/s |")
    print("|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['workload']} | {r['setups']:,} | {r['median_s']:.3f} | {r['setups_per_s']:,.0f} |")
    print(f"| **all** | {sum(r['setups'] for r in rows):,} | {sum(r['median_s'] for r in rows):.3f} | **{total:,.0f}** |")
    print(f"\ntarget >= 1,000,000 setups/s: {'met' if total >= 1e6 else 'MISSED'}")
    merge_results("evaluate", {"rows": rows, "setups_per_s": total, "target_setups_per_s": 1_000_000,
                               "met": total >= 1e6, "python": platform.python_version(), "cpus": os.cpu_count(),
                               "machine": platform.machine(), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})


if __name__ == "__main__":
    main()
