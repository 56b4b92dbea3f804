"""AMD GPUs through torch's ROCm (HIP) build, which answers through the torch.cuda API."""

from __future__ import annotations

from profiler.backends import cuda
from profiler.backends.base import DeviceInfo, import_torch, missing


def probe(include_missing: bool = False) -> list[DeviceInfo]:
    stand_in = lambda why: [missing("rocm", "AMD GPU", "gpu", "rocm", why)] if include_missing else []  # noqa: E731
    torch = import_torch()
    if torch is None:
        return stand_in("torch is not installed")
    try:
        hip = getattr(torch.version, "hip", None)
        if not hip:
            return stand_in("torch is built without ROCm")
        if not torch.cuda.is_available():
            return stand_in("no ROCm device visible (driver or HIP_VISIBLE_DEVICES)")
        return cuda.describe(cuda.listing_from_torch(torch), f"rocm {hip}", backend="rocm")
    except Exception as exc:  # noqa: BLE001
        return stand_in(f"ROCm probe failed: {exc.__class__.__name__}: {exc}")
