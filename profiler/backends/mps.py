"""Apple-silicon GPUs through torch's MPS backend."""

from __future__ import annotations

import platform
import subprocess

from profiler.backends.base import DeviceInfo, catalog_match, import_torch, missing


def _sync() -> None:
    import torch

    torch.mps.synchronize()


def _chip_name() -> str:
    try:
        out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or platform.processor()
    except Exception:  # noqa: BLE001
        return platform.processor() or "Apple GPU"


def probe(include_missing: bool = False) -> list[DeviceInfo]:
    stand_in = lambda why: [missing("mps", "Apple GPU", "gpu", "mps", why)] if include_missing else []  # noqa: E731
    torch = import_torch()
    if torch is None:
        return stand_in("torch is not installed")
    try:
        if platform.system() != "Darwin":
            return stand_in("MPS exists only on macOS")
        if not torch.backends.mps.is_available():
            return stand_in("torch.backends.mps reports no device")
        name = f"{_chip_name()} GPU"
        cat, note = catalog_match(name)
        return [DeviceInfo(id="mps", name=name, kind="gpu", backend="mps", reason=note, catalog_id=cat,
                           torch_device="mps", precisions=("fp32", "bf16", "fp16"), synchronize=_sync)]
    except Exception as exc:  # noqa: BLE001
        return stand_in(f"MPS probe failed: {exc.__class__.__name__}: {exc}")
