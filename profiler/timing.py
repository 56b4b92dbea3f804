"""Timing with an injectable clock: warm-up, repetitions until run time and spread settle, raw samples kept.

`measure()` is the only timed loop in the profiler. It keeps every sample; median, p99, coefficient of
variation and the "noisy" flag are derived from them, so tests drive it with a fake clock.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hwplan.profiler.errors import TimeLimitExceeded

NOISY_COV = 0.05


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Timing:
    """Raw per-repetition times (seconds) of one measurement, and what is derived from them."""

    samples_s: tuple[float, ...]
    warmup: int = 0
    stopped_by: str = ""  # "settled" | "max_reps" | "max_time" | "deadline"
    extra: dict = field(default_factory=dict)

    @property
    def repetitions(self) -> int:
        return len(self.samples_s)

    @property
    def total_s(self) -> float:
        return float(sum(self.samples_s))

    @property
    def mean_s(self) -> float:
        return self.total_s / len(self.samples_s)

    @property
    def p50_s(self) -> float:
        return percentile(self.samples_s, 50)

    @property
    def p99_s(self) -> float:
        return percentile(self.samples_s, 99)

    @property
    def cov(self) -> float:
        return cov(self.samples_s)

    @property
    def noisy(self) -> bool:
        return self.cov > NOISY_COV


def percentile(samples, q: float) -> float:
    """Linear-interpolated percentile (numpy's default), without importing numpy in the hot path."""
    xs = sorted(samples)
    if not xs:
        raise ValueError("no samples")
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def cov(samples) -> float:
    """Sample standard deviation over mean; 0 for fewer than two samples."""
    n = len(samples)
    if n < 2:
        return 0.0
    m = sum(samples) / n
    if m <= 0:
        return 0.0
    var = sum((x - m) ** 2 for x in samples) / (n - 1)
    return math.sqrt(var) / m


@dataclass(frozen=True)
class Budget:
    """How long to measure: warm-up calls, then at least `min_reps` and `min_time_s`; stop once the
    spread is below `target_cov`, or at `max_reps` / `max_time_s` whichever comes first."""

    warmup: int = 2
    min_reps: int = 5
    max_reps: int = 200
    min_time_s: float = 0.5
    max_time_s: float = 5.0
    target_cov: float = 0.03


def measure(fn: Callable[[], object], budget: Budget = Budget(), *, sync: Callable[[], None] = _nothing,
            clock: Callable[[], float] = time.perf_counter, deadline: float | None = None,
            after_warmup: Callable[[], None] | None = None) -> Timing:
    """Time `fn` per call: warm up, then repeat until settled. `sync` waits for the device, so each
    sample covers the work and not just its launch. `deadline` is an absolute `clock()` time: past it,
    the loop stops with what it has, or raises TimeLimitExceeded when that is under two samples."""
    for _ in range(budget.warmup):
        fn()
        sync()
        if deadline is not None and clock() > deadline:
            raise TimeLimitExceeded("time limit reached during warm-up")
    if after_warmup is not None:
        after_warmup()
    samples: list[float] = []
    append = samples.append
    # Welford's running mean/variance: O(1) per repetition, so the stopping rule costs nothing.
    n, mean, m2 = 0, 0.0, 0.0
    elapsed = 0.0
    stopped_by = "max_reps"
    while n < budget.max_reps:
        t0 = clock()
        fn()
        sync()
        dt = clock() - t0
        append(dt)
        n += 1
        delta = dt - mean
        mean += delta / n
        m2 += delta * (dt - mean)
        elapsed += dt
        if deadline is not None and t0 + dt > deadline:
            if n < 2:
                raise TimeLimitExceeded(f"time limit reached after {n} timed repetition(s)")
            stopped_by = "deadline"
            break
        if n >= budget.min_reps and elapsed >= budget.min_time_s:
            spread = math.sqrt(m2 / (n - 1)) / mean if n > 1 and mean > 0 else 0.0
            if spread <= budget.target_cov:
                stopped_by = "settled"
                break
        if (elapsed >= budget.max_time_s and n >= budget.min_reps) or (elapsed >= 2 * budget.max_time_s and n >= 2):
            stopped_by = "max_time"
            break
    return Timing(tuple(samples), warmup=budget.warmup, stopped_by=stopped_by)
