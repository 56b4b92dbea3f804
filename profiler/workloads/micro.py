"""Micro-benchmarks: `gemm` (compute roofline), `membw` (copy bandwidth), `allreduce` (bus bandwidth per
message size, torch.distributed with several processes: gloo on CPU, nccl on GPU)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

import hwplan
from hwplan.profiler.timing import Timing
from hwplan.profiler.workloads.common import DTYPES, Bench


def gemm(n: int, device, precision: str) -> Bench:
    dtype = DTYPES[precision]
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=g).to(device.torch_device, dtype)
    b = torch.randn(n, n, generator=g).to(device.torch_device, dtype)
    c = torch.empty(n, n, device=device.torch_device, dtype=dtype)
    flops = 2.0 * n ** 3
    return Bench(step=lambda: torch.mm(a, b, out=c), units_per_step=flops, unit="flop/s", flops_per_unit=1.0,
                 bytes_per_unit=3 * n * n * a.element_size() / flops, count_flops=False, seq_len=n,
                 notes=[f"gemm M=N=K={n} (seq_len holds the matrix size)"])


def membw(nbytes: int, device) -> Bench:
    n = nbytes // 4
    src = torch.ones(n, device=device.torch_device, dtype=torch.float32)
    dst = torch.empty_like(src)
    moved = 2.0 * n * 4  # read + write
    return Bench(step=lambda: dst.copy_(src), units_per_step=moved, unit="bytes/s", flops_per_unit=0.0, bytes_per_unit=1.0,
                 count_flops=False, seq_len=n * 4,
                 notes=[f"copy of {n * 4 / 2**20:.0f} MiB fp32, counted as read + write (seq_len holds the buffer bytes)"])


def bus_bandwidth(nbytes: int, seconds: float, world: int) -> float:
    """nccl-tests' bus bandwidth for all-reduce: (bytes / time) * 2(n-1)/n."""
    return nbytes / seconds * 2 * (world - 1) / world


def _worker(rank: int, world: int, init_file: str, out_file: str, sizes: list[int], backend: str, device_type: str,
            reps: int, warmup: int) -> None:
    import torch.distributed as dist

    if device_type == "cpu":
        torch.set_num_threads(1)
    dist.init_process_group(backend, init_method=f"file://{init_file}", rank=rank, world_size=world)
    dev = torch.device(f"cuda:{rank}") if device_type == "cuda" else torch.device("cpu")
    if device_type == "cuda":
        torch.cuda.set_device(dev)
    sync = (lambda: torch.cuda.synchronize(dev)) if device_type == "cuda" else (lambda: None)
    results = {}
    for nbytes in sizes:
        t = torch.ones(max(1, nbytes // 4), dtype=torch.float32, device=dev)
        for _ in range(warmup):
            dist.all_reduce(t)
        sync()
        dist.barrier()
        samples = []
        for _ in range(reps):
            t0 = time.perf_counter()
            dist.all_reduce(t)
            sync()
            samples.append(time.perf_counter() - t0)
        results[str(nbytes)] = samples
    if rank == 0:
        with open(out_file, "w") as fh:
            json.dump(results, fh)
    dist.barrier()
    dist.destroy_process_group()


def run_allreduce(sizes: list[int], world: int, device_type: str = "cpu", reps: int = 20, warmup: int = 3,
                  timeout_s: float = 300.0) -> dict[int, Timing]:
    """All-reduce in `world` spawned processes; rank 0's per-call times per message size."""
    backend = "nccl" if device_type == "cuda" else "gloo"
    # Children import this module by name from the parent's sys.path: put the folder holding the `hwplan`
    # package first (a checkout run with PYTHONPATH, as on an accelerator box, has it nowhere else).
    root = str(Path(hwplan.__file__).resolve().parents[1])
    saved = list(sys.path)
    sys.path.insert(0, root)
    try:
        return _spawn(sizes, world, device_type, reps, warmup, timeout_s, backend)
    finally:
        sys.path[:] = saved


def _spawn(sizes, world, device_type, reps, warmup, timeout_s, backend) -> dict[int, Timing]:
    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory() as tmp:
        init_file, out_file = os.path.join(tmp, "init"), os.path.join(tmp, "out.json")
        ctx = mp.spawn(_worker, args=(world, init_file, out_file, sizes, backend, device_type, reps, warmup),
                       nprocs=world, join=False)
        deadline = time.monotonic() + timeout_s
        while not ctx.join(timeout=1.0):
            if time.monotonic() > deadline:
                for p in ctx.processes:
                    p.kill()
                raise TimeoutError(f"all-reduce processes did not finish within {timeout_s:.0f} s")
        with open(out_file) as fh:
            raw = json.load(fh)
    return {int(k): Timing(tuple(v), warmup=warmup, stopped_by="fixed") for k, v in raw.items()}


def allreduce_bench(nbytes: int, timing: Timing, world: int, backend: str, device_count: int) -> Bench:
    """A Bench whose timing is already measured; throughput is bus bandwidth."""
    per_call_bus_bytes = nbytes * 2 * (world - 1) / world
    return Bench(step=lambda: None, units_per_step=per_call_bus_bytes, unit="bytes/s", flops_per_unit=0.0,
                 bytes_per_unit=1.0, count_flops=False, seq_len=nbytes, timing=timing, device_count=device_count,
                 notes=[f"all-reduce of {nbytes} bytes fp32 over {world} {backend} processes; throughput is bus bandwidth "
                        "(bytes x 2(n-1)/n per second, as nccl-tests); seq_len holds the message bytes"])
