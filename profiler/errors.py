"""Errors the profiler raises on purpose; all under hwplan's one root, `HwplanError`."""

from __future__ import annotations

from hwplan.core.errors import HwplanError


class ProfileError(HwplanError):
    """A profiling request that cannot be carried out as asked (bad device, bad workload, bad run id)."""


class TimeLimitExceeded(ProfileError):
    """A workload ran past its time limit; the runner records it as failed and goes on."""


class Unsupported(ProfileError):
    """This workload, precision or backend cannot run on this device; recorded as skipped with the reason."""
