"""Intel GPUs (Data Center GPU Max, Arc) through torch's XPU backend."""

from __future__ import annotations

import functools

from hwplan.profiler.backends.base import Absent, DeviceInfo, catalog_match, torch_probe


def _sync(index: int) -> None:
    import torch

    torch.xpu.synchronize(index)


def probe(include_missing: bool = False) -> list[DeviceInfo]:
    return torch_probe("xpu", "Intel GPU", "gpu", "XPU", include_missing, _find)


def _find(torch) -> list[DeviceInfo]:
    if not hasattr(torch, "xpu") or not torch.xpu.is_available():
        raise Absent("torch reports no XPU device (needs an XPU build of torch and Intel's driver)")
    out = []
    for i in range(torch.xpu.device_count()):
        name = torch.xpu.get_device_name(i)
        cat, note = catalog_match(name)
        mem = getattr(torch.xpu.get_device_properties(i), "total_memory", None)
        out.append(DeviceInfo(id=f"xpu:{i}", name=name, kind="gpu", backend="xpu", reason=note, catalog_id=cat,
                              torch_device=f"xpu:{i}", precisions=("fp32", "bf16", "fp16"), memory_bytes=mem,
                              synchronize=functools.partial(_sync, i)))
    return out
