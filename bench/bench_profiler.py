"""Benchmark of the profiler itself: quick-suite wall time, timing overhead against a bare loop, run-to-run
spread of `gemm`, and achieved `gemm` GFLOP/s against this machine's peak.

    python bench/bench_profiler.py [--quick-runs 1] [--skip-quick]

Prints a Markdown table and writes bench/results/profiler.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def quick_suite_wall_s(runs: int) -> list[float]:
    """Wall time of `python -m hwplan profile --suite quick --device cpu` (process start to exit, torch import
    included)."""
    out = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, HWPLAN_DB=f"sqlite:///{tmp}/b.db")
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "hwplan", "profile", "--suite", "quick", "--device", "cpu",
                                "--out", f"{tmp}/rows.csv"], cwd=REPO, env=env, capture_output=True, text=True)
            out.append(time.perf_counter() - t0)
            if r.returncode != 0:
                raise SystemExit(f"quick suite failed:\n{r.stderr[-2000:]}")
    return out


def overhead(trials: int = 15, reps: int = 400) -> dict:
    """measure() against a bare loop of the same torch call; ratio per trial, interleaved, median reported."""
    import torch

    from hwplan.profiler.timing import Budget, measure

    a, b = torch.randn(192, 192), torch.randn(192, 192)
    c = torch.empty(192, 192)

    def fn():
        torch.mm(a, b, out=c)

    budget = Budget(warmup=0, min_reps=reps, max_reps=reps, min_time_s=1e9, max_time_s=1e9, target_cov=0.0)
    for _ in range(200):
        fn()
    ratios, bare_s, timed_s = [], [], []
    for _ in range(trials):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        bare = time.perf_counter() - t0
        t0 = time.perf_counter()
        measure(fn, budget)
        timed = time.perf_counter() - t0
        ratios.append(timed / bare)
        bare_s.append(bare / reps)
        timed_s.append(timed / reps)
    return {"median_ratio": statistics.median(ratios), "overhead_pct": (statistics.median(ratios) - 1) * 100,
            "bare_call_s": statistics.median(bare_s), "timed_call_s": statistics.median(timed_s), "trials": trials,
            "reps": reps, "ratios": ratios}


def gemm_runs(n: int = 1024, runs: int = 5) -> dict:
    """Five independent profiler measurements of gemm; spread of their throughputs across runs."""
    from hwplan.profiler.devices import detect_devices
    from hwplan.profiler.suite import FULL_BUDGET
    from hwplan.profiler.timing import measure
    from hwplan.profiler.workloads.micro import gemm

    cpu = detect_devices()[0]
    bench = gemm(n, cpu, "fp32")
    values, within = [], []
    for _ in range(runs):
        t = measure(bench.step, FULL_BUDGET)
        values.append(bench.units_per_step / t.p50_s)
        within.append(t.cov)
    mean = statistics.mean(values)
    return {"n": n, "gflops": [v / 1e9 for v in values], "median_gflops": statistics.median(values) / 1e9,
            "cov_across_runs": statistics.stdev(values) / mean, "median_cov_within_run": statistics.median(within),
            "peak_gflops": (cpu.details.get("peak_fp32_flops") or float("nan")) / 1e9,
            "peak_note": cpu.details.get("peak_note", "")}


def best_gemm(sizes=(512, 1024, 2048)) -> dict:
    from hwplan.profiler.devices import detect_devices
    from hwplan.profiler.suite import FULL_BUDGET
    from hwplan.profiler.timing import measure
    from hwplan.profiler.workloads.micro import gemm

    cpu = detect_devices()[0]
    out = {}
    for n in sizes:
        bench = gemm(n, cpu, "fp32")
        out[n] = bench.units_per_step / measure(bench.step, FULL_BUDGET).p50_s / 1e9
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick-runs", type=int, default=1)
    ap.add_argument("--skip-quick", action="store_true")
    args = ap.parse_args(argv)
    import torch

    res = {"host_cores": os.cpu_count(), "torch": torch.__version__, "threads": torch.get_num_threads(),
           "load_avg_start": os.getloadavg()[0]}
    res["overhead"] = overhead()
    res["gemm"] = gemm_runs(1024)
    res["gemm_2048"] = gemm_runs(2048)
    res["gemm_by_size_gflops"] = best_gemm()
    if not args.skip_quick:
        walls = quick_suite_wall_s(args.quick_runs)
        res["quick_suite_wall_s"] = {"runs": walls, "median": statistics.median(walls)}
    res["load_avg_end"] = os.getloadavg()[0]
    best = max(res["gemm_by_size_gflops"].values())
    peak = res["gemm"]["peak_gflops"]
    rows = [("figure", "measured", "target"),
            ("quick suite wall time, 2 cores (s)",
             (f"{res['quick_suite_wall_s']['median']:.1f} (median of {args.quick_runs})"
              if "quick_suite_wall_s" in res else "skipped"),
             "<= 90"),
            ("timing overhead vs bare loop (%)", f"{res['overhead']['overhead_pct']:+.2f} (median of {res['overhead']['trials']} "
             f"ratios, {res['overhead']['bare_call_s'] * 1e3:.3f} ms call)", "<= 1"),
            *[(f"gemm fp32 {g['n']}^3 cov over 5 runs (%)", f"{g['cov_across_runs'] * 100:.2f} (within-run median "
               f"{g['median_cov_within_run'] * 100:.2f}; median {g['median_gflops']:.1f} GFLOP/s)", "<= 3")
              for g in (res["gemm"], res["gemm_2048"])],
            ("gemm fp32 achieved / peak (GFLOP/s)", f"{best:.1f} / {peak:.1f} = {best / peak * 100:.0f}%", "report")]
    print("| " + " | ".join(rows[0]) + " |\n|---|---|---|")
    for r in rows[1:]:
        print("| " + " | ".join(r) + " |")
    print(f"\nload average {res['load_avg_start']:.1f} -> {res['load_avg_end']:.1f} on {res['host_cores']} cores; "
          f"peak: {res['gemm']['peak_note']}")
    out = REPO / "bench" / "results" / "profiler.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
