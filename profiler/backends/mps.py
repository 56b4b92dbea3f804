"""Apple-silicon GPUs through torch's MPS backend."""

from __future__ import annotations

import platform
import subprocess

from hwplan.profiler.backends.base import Absent, DeviceInfo, catalog_match, torch_probe


def _sync() -> None:
    import torch

    torch.mps.synchronize()


def _chip_name() -> str:
    try:
        out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or platform.processor()
    except Exception:
        return platform.processor() or "Apple GPU"


def probe(include_missing: bool = False) -> list[DeviceInfo]:
    return torch_probe("mps", "Apple GPU", "gpu", "MPS", include_missing, _find)


def _find(torch) -> list[DeviceInfo]:
    if platform.system() != "Darwin":
        raise Absent("MPS exists only on macOS")
    if not torch.backends.mps.is_available():
        raise Absent("torch.backends.mps reports no device")
    name = f"{_chip_name()} GPU"
    cat, note = catalog_match(name)
    return [DeviceInfo(id="mps", name=name, kind="gpu", backend="mps", reason=note, catalog_id=cat,
                       torch_device="mps", precisions=("fp32", "bf16", "fp16"), synchronize=_sync)]
