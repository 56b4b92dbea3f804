"""Runs planned cases on a device and turns each into a Measurement row, written as soon as its backend
group is done. A case that fails (out of memory, unsupported operator, time limit) becomes a failed row with
its reason, and the suite goes on."""

from __future__ import annotations

import os
import platform
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version

from hwplan.core.schema import utc_now_iso
from hwplan.profiler.energy import make_meter
from hwplan.profiler.errors import TimeLimitExceeded, Unsupported
from hwplan.profiler.sinks import row_key
from hwplan.profiler.suite import Case, suite_config
from hwplan.profiler.timing import Budget, Timing, measure


@dataclass
class RunSummary:
    run_id: str
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    resumed_skips: int = 0
    rows: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "ok": self.ok, "failed": self.failed, "skipped": self.skipped,
                "already_measured": self.resumed_skips, "rows": len(self.rows)}


def software_string(device) -> str:
    parts = [f"python {platform.python_version()}"]
    try:
        import torch

        parts.append(f"torch {torch.__version__}")
    except Exception:
        pass
    if device.details.get("runtime"):
        parts.append(str(device.details["runtime"]))
    if device.details.get("driver"):
        parts.append(f"driver {device.details['driver']}")
    try:
        parts.append(f"onnxruntime {version('onnxruntime')}")
    except Exception:
        pass
    return "; ".join(parts)


def _load_note() -> str:
    """The host's 1-minute load average against its cores: a shared machine's timings should say so."""
    try:
        load, cores = os.getloadavg()[0], os.cpu_count() or 1
    except (OSError, AttributeError):
        return ""
    return f"host load average {load:.1f} on {cores} cores" + (" (shared: other work was running)" if load > 0.75 * cores else "")


def expected_device_count(case: Case, device) -> int:
    if case.workload == "allreduce" and device.backend == "cuda":
        try:
            import torch

            return max(1, torch.cuda.device_count())
        except Exception:
            return 1
    return 1


def classify(exc: BaseException) -> tuple[str, str]:
    """(status, reason) for an exception raised while building or timing a case."""
    text = f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:400]
    if isinstance(exc, Unsupported):
        return "skipped", str(exc)
    if isinstance(exc, TimeLimitExceeded):
        return "failed", f"time limit: {exc}"
    if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower() or exc.__class__.__name__ == "OutOfMemoryError":
        return "failed", f"out of memory: {text}"
    if isinstance(exc, NotImplementedError) or "not implemented for" in str(exc) or "unsupported" in str(exc).lower():
        return "failed", f"unsupported operator: {text}"
    return "failed", text


class Runner:
    """Measures cases and hands rows to sinks. `clock` and `budget` are injectable for tests."""

    def __init__(self, run_id: str, sinks: list, source_ref: str = "hwplan profile", time_limit_s: float | None = None,
                 progress=None, clock: Callable[[], float] = time.perf_counter, budget: Budget | None = None,
                 host: str | None = None, done_keys: set | None = None, sensors=None):
        self.run_id, self.sinks, self.source_ref = run_id, sinks, source_ref
        self.time_limit_s, self.progress, self.clock, self.budget = time_limit_s, progress, clock, budget
        self.host = host or socket.gethostname()
        self.done_keys = done_keys if done_keys is not None else set()
        self.sensors = sensors

    # -- rows ---------------------------------------------------------------------------------------------

    def base_row(self, case: Case, device, device_count: int = 1) -> dict:
        return {
            "run_id": self.run_id, "measured_at": utc_now_iso(), "source": "profiler", "source_ref": self.source_ref,
            "host": self.host, "workload": case.workload, "mode": case.mode, "phase": case.phase, "scenario": "",
            "accuracy_target": "", "precision": case.precision, "batch_size": case.batch_size, "seq_len": case.seq_len,
            "device": device.catalog_id or "unknown", "device_name": device.name, "device_kind": device.kind,
            "device_count": device_count, "backend": case.backend, "software": self._software(device),
            "throughput": None, "throughput_unit": None, "latency_p50_s": None, "latency_p99_s": None,
            "power_avg_w": None, "power_scope": "", "energy_per_unit_j": None, "energy_method": "none",
            "flops_per_unit": None, "bytes_per_unit": None, "repetitions": None, "cov": None,
            "status": "ok", "error": "", "notes": "",
        }

    def _software(self, device) -> str:
        if not hasattr(self, "_sw"):
            self._sw = {}
        if device.id not in self._sw:
            self._sw[device.id] = software_string(device)
        return self._sw[device.id]

    def key_of(self, case: Case, device) -> tuple:
        return row_key(self.base_row(case, device, expected_device_count(case, device)))

    # -- running ------------------------------------------------------------------------------------------

    def run(self, cases: list[Case], device, summary: RunSummary | None = None, budget: Budget | None = None) -> RunSummary:
        summary = summary or RunSummary(self.run_id)
        restore = self._prepare(device)
        try:
            return self._run(cases, device, summary, budget)
        finally:
            restore()

    def _run(self, cases: list[Case], device, summary: RunSummary, budget: Budget | None) -> RunSummary:
        from hwplan.profiler.benches import ModelCache

        cache = ModelCache()
        cache.context["allreduce_sizes"] = [c.seq_len for c in cases if c.workload == "allreduce"]
        meter = make_meter(device, self.sensors)
        budget = budget or self.budget or suite_config("full", device).budget
        started: dict[str, float] = {}
        group: list[dict] = []
        group_id = None
        flops_cache: dict = {}
        for case in cases:
            if case.group != group_id:
                self._flush(group, summary)
                group, group_id = [], case.group
            if self.key_of(case, device) in self.done_keys:
                summary.resumed_skips += 1
                self._tick(case, "already measured")
                continue
            t_start = started.setdefault(case.workload, self.clock())
            deadline = None if self.time_limit_s is None else t_start + self.time_limit_s
            row = self.measure_case(case, device, cache, meter, budget, deadline, flops_cache)
            group.append(row)
            self._tick(case, row["status"])
        self._flush(group, summary)
        cache.clear()
        return summary

    def measure_case(self, case, device, cache, meter, budget, deadline, flops_cache) -> dict:
        from hwplan.profiler.benches import make_bench
        from hwplan.profiler.flops import count_flops

        row = self.base_row(case, device, expected_device_count(case, device))
        try:
            if deadline is not None and self.clock() > deadline:
                raise TimeLimitExceeded(f"the workload's {self.time_limit_s:g} s were used up before this case")
            self._precision_flags(device, case.precision)
            bench = make_bench(case, device, cache, budget)
            row["device_count"] = bench.device_count
            fkey = (case.workload, case.mode, case.phase, case.seq_len, case.shape)
            if bench.flops_per_unit is not None:
                flops = bench.flops_per_unit
            elif bench.count_flops:
                counted = count_flops(lambda: (bench.step(), device.sync()))  # also the first warm-up call
                flops = counted * bench.scale / bench.units_per_step
                flops_cache[fkey] = flops
            else:
                flops = flops_cache.get(fkey)
            if bench.timing is not None:  # measured in its own processes (all-reduce)
                timing, energy = bench.timing, None
            else:
                timing = measure(bench.step, budget, sync=device.sync, clock=self.clock, deadline=deadline,
                                 after_warmup=meter.start)
                energy = meter.stop()
            self._fill(row, bench, timing, energy, flops)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            if isinstance(exc, SystemExit):
                raise
            status, reason = classify(exc)
            row["status"], row["error"] = status, reason
            row["measured_at"] = utc_now_iso()
            if "out of memory" in reason:
                cache.clear()
        return row

    def _fill(self, row: dict, bench, timing: Timing, energy, flops) -> None:
        s = bench.scale
        p50 = timing.p50_s * s
        row.update({
            "measured_at": utc_now_iso(),
            "throughput": bench.units_per_step / p50, "throughput_unit": bench.unit,
            "latency_p50_s": p50, "latency_p99_s": timing.p99_s * s,
            "repetitions": timing.repetitions, "cov": round(timing.cov, 6),
            "flops_per_unit": flops, "bytes_per_unit": bench.bytes_per_unit,
        })
        notes = list(bench.notes)
        if timing.noisy:
            notes.append(f"noisy: cov {timing.cov:.3f} > 0.05")
        notes.append(f"throughput from the median of {timing.repetitions} timed repetitions (stopped: {timing.stopped_by})")
        load = _load_note()
        if load:
            notes.append(load)
        if energy is None:
            row["energy_method"] = "none"
            if bench.timing is not None:
                notes.append("energy not measured for multi-process runs")
        else:
            row["energy_method"] = energy.method
            if energy.note and energy.method in ("none", "estimated-tdp"):
                notes.append(energy.note)
            if energy.energy_j is not None and energy.power_avg_w is not None:
                units = bench.units_per_step * timing.repetitions
                row["power_avg_w"] = energy.power_avg_w
                row["power_scope"] = "device"
                row["energy_per_unit_j"] = energy.energy_j * s / units
        row["notes"] = "; ".join(notes)

    def _flush(self, group: list[dict], summary: RunSummary) -> None:
        if not group:
            return
        ok = [r for r in group if r["status"] == "ok"]
        if len({r["backend"] for r in ok}) > 1:
            best = max(ok, key=lambda r: r["throughput"])
            best["notes"] = "fastest-backend; " + best["notes"]
        for sink in self.sinks:
            sink.write(group)
        for r in group:
            setattr(summary, r["status"], getattr(summary, r["status"]) + 1)
            summary.rows.append(r)

    def _tick(self, case: Case, status: str) -> None:
        if self.progress is not None:
            self.progress.update(1, f"{case.workload} {case.mode} {case.phase} {case.precision} b{case.batch_size} "
                                    f"{case.backend}: {status}")

    @staticmethod
    def _prepare(device):
        """Process-wide settings for timing on this device; returns what puts them back (a run must not leave
        the process flushing denormals to zero for whoever computes next)."""
        try:
            import torch

            if device.torch_device == "cpu" and torch.set_flush_denormal(True):  # denormals make CPU timings meaningless
                return lambda: torch.set_flush_denormal(False)
        except Exception:
            pass
        return lambda: None

    @staticmethod
    def _precision_flags(device, precision: str) -> None:
        if device.backend != "cuda":
            return
        import torch

        allow = precision == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = allow
        torch.backends.cudnn.allow_tf32 = allow
