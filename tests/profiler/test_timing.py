"""The timed loop with a fake clock: what is kept, what is derived, when it stops."""

from __future__ import annotations

import pytest

from hwplan.profiler.errors import TimeLimitExceeded
from hwplan.profiler.progress import Progress
from hwplan.profiler.timing import Budget, Timing, cov, measure, percentile


class FakeClock:
    """Time moves only when the workload 'runs': each call of `work` advances it by the next duration."""

    def __init__(self, durations):
        self.now = 100.0
        self.durations = list(durations)
        self.calls = 0

    def __call__(self) -> float:
        return self.now

    def work(self) -> None:
        self.now += self.durations[min(self.calls, len(self.durations) - 1)]
        self.calls += 1


def test_warmup_is_not_timed_and_samples_are_kept_raw():
    clock = FakeClock([9.0, 9.0] + [0.1] * 50)
    t = measure(clock.work, Budget(warmup=2, min_reps=5, max_reps=50, min_time_s=0.3, max_time_s=10), clock=clock)
    assert t.samples_s[:5] == pytest.approx((0.1,) * 5)
    assert t.warmup == 2 and t.stopped_by == "settled"
    assert t.repetitions == 5  # 5 reps cover min_time 0.3 s and the spread is 0
    assert t.p50_s == pytest.approx(0.1) and t.cov == pytest.approx(0.0, abs=1e-9)


def test_keeps_going_while_spread_is_high_then_stops_at_max_time():
    durations = [0.0] + [0.1, 0.3] * 100
    clock = FakeClock(durations)
    t = measure(clock.work, Budget(warmup=1, min_reps=3, max_reps=1000, min_time_s=0.1, max_time_s=2.0, target_cov=0.03),
                clock=clock)
    assert t.stopped_by == "max_time"
    assert 2.0 <= t.total_s < 2.4
    assert t.noisy and t.cov == pytest.approx(cov(t.samples_s))


def test_max_reps_caps_the_loop():
    clock = FakeClock([0.0] + [0.01, 0.02] * 100)
    t = measure(clock.work, Budget(warmup=1, min_reps=2, max_reps=7, min_time_s=0, max_time_s=100, target_cov=0.0), clock=clock)
    assert t.repetitions == 7 and t.stopped_by == "max_reps"


def test_min_reps_are_honoured_even_past_max_time_unless_far_past():
    clock = FakeClock([0.0] + [1.0] * 10)
    t = measure(clock.work, Budget(warmup=1, min_reps=3, max_reps=10, min_time_s=0, max_time_s=1.5, target_cov=0.0), clock=clock)
    assert t.repetitions == 3  # 2 s > 1.5 s after 2 reps, but min_reps 3 wins until 2 x max_time


def test_deadline_stops_with_samples_or_raises_without():
    clock = FakeClock([0.0] + [1.0] * 10)
    t = measure(clock.work, Budget(warmup=1, min_reps=10, max_reps=10, min_time_s=100, max_time_s=100),
                clock=clock, deadline=clock.now + 3.5)
    assert t.stopped_by == "deadline" and t.repetitions == 4
    slow = FakeClock([5.0])
    with pytest.raises(TimeLimitExceeded):
        measure(slow.work, Budget(warmup=1), clock=slow, deadline=slow.now + 1.0)


def test_sync_runs_after_every_call_and_after_warmup_hook_once():
    clock = FakeClock([0.05])
    syncs, hooks = [], []
    measure(clock.work, Budget(warmup=2, min_reps=3, max_reps=3, min_time_s=0, max_time_s=10), clock=clock,
            sync=lambda: syncs.append(clock.now), after_warmup=lambda: hooks.append(clock.calls))
    assert len(syncs) == 5 and hooks == [2]


def test_percentiles_and_cov_by_hand():
    xs = [1.0, 2.0, 3.0, 4.0, 100.0]
    assert percentile(xs, 50) == 3.0
    assert percentile(xs, 99) == pytest.approx(4.0 + 0.96 * 96.0)
    assert cov([2.0, 2.0]) == 0.0 and cov([1.0]) == 0.0
    assert cov([1.0, 3.0]) == pytest.approx(2 ** 0.5 / 2)
    assert Timing((1.0, 3.0)).mean_s == 2.0


def test_progress_eta_from_a_fake_clock():
    import io

    now = [0.0]
    out = io.StringIO()
    p = Progress(4, stream=out, clock=lambda: now[0])
    assert p.eta_s() is None
    now[0] = 10.0
    p.update(1, "gemm")
    assert p.eta_s() == pytest.approx(30.0)
    assert "1/4" in out.getvalue() and "ETA 00:30" in out.getvalue()
