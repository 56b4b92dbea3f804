"""AMD GPUs through torch's ROCm (HIP) build, which answers through the torch.cuda API."""

from __future__ import annotations

from hwplan.profiler.backends import cuda
from hwplan.profiler.backends.base import Absent, DeviceInfo, torch_probe


def probe(include_missing: bool = False) -> list[DeviceInfo]:
    return torch_probe("rocm", "AMD GPU", "gpu", "ROCm", include_missing, _find)


def _find(torch) -> list[DeviceInfo]:
    hip = getattr(torch.version, "hip", None)
    if not hip:
        raise Absent("torch is built without ROCm")
    if not torch.cuda.is_available():
        raise Absent("no ROCm device visible (driver or HIP_VISIBLE_DEVICES)")
    return cuda.describe(cuda.listing_from_torch(torch), f"rocm {hip}", backend="rocm")
