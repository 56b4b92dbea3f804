"""Benchmark: wall time of `hwplan plan` over the whole catalog (counts 1-1024, all precisions and
batch sizes), start-up included, with the fitted model already cached (the usual case).

Run: python bench/bench_plan.py [--runs 7]. Prints a Markdown table and merges its figures into
bench/results/costmodel.json. Target: <= 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.bench_costmodel import merge_results

CASES = [
    ("resnet50", ["--throughput", "100000"]),
    ("llama2-70b", ["--throughput", "20000", "--latency-p99-ms", "20000"]),
    # LLM serving with TTFT / TPOT targets at a request shape: the serving model's layout x batch search
    ("llama3.1-70b", ["--throughput", "20000", "--input-len", "2000", "--output-len", "300", "--ttft-p99-ms", "500",
                      "--tpot-p99-ms", "40"]),
    ("bert-large", ["--throughput", "1e9", "--budget-usd-month", "1000"]),  # infeasible: nearest setups
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hwplan-bench-plan-"))
    env = dict(os.environ, HWPLAN_DB=f"sqlite:///{tmp / 'cm.db'}", HWPLAN_CACHE_DIR=str(tmp / "cache"))
    exe = shutil.which("hwplan")
    cmd0 = [exe] if exe else [sys.executable, "-m", "hwplan"]
    t = time.perf_counter()
    first = subprocess.run(cmd0 + ["plan", "--workload", "resnet50", "--throughput", "1000", "--json"], env=env,
                           capture_output=True, text=True)
    cold = time.perf_counter() - t
    if first.returncode != 0:
        raise SystemExit(first.stderr)
    rows = []
    for workload, extra in CASES:
        cmd = cmd0 + ["plan", "--workload", workload, "--json"] + extra
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            r = subprocess.run(cmd, env=env, capture_output=True, text=True)
            times.append(time.perf_counter() - t)
            if r.returncode != 0:
                raise SystemExit(r.stderr)
        out = json.loads(r.stdout)
        rows.append({"workload": workload, "args": " ".join(extra), "median_s": statistics.median(times), "max_s": max(times),
                     "candidates": out["candidates_evaluated"], "feasible": out["feasible"]})
    print(f"`hwplan plan` ({' '.join(cmd0)}), model cached; first call (seed store + fit + cache): {cold:.1f} s\n")
    print("| workload | demand | candidates | median wall (s) | max wall (s) |")
    print("|---|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['workload']} | {r['args']} | {r['candidates']:,} | {r['median_s']:.2f} | {r['max_s']:.2f} |")
    worst = max(r["median_s"] for r in rows)
    print(f"\ntarget <= 1 s including start-up: {'met' if worst <= 1.0 else 'MISSED'} (worst median {worst:.2f} s)")
    merge_results("plan_cli", {"rows": rows, "first_call_s": cold, "worst_median_s": worst, "target_s": 1.0,
                               "met": worst <= 1.0, "cpus": os.cpu_count(), "python": platform.python_version(),
                               "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
