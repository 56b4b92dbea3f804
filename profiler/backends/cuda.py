"""NVIDIA GPUs through torch's CUDA build. `describe()` is pure so recorded listings test it here."""

from __future__ import annotations

import functools

from hwplan.profiler.backends.base import Absent, DeviceInfo, catalog_match, torch_probe


def nvidia_precisions(major: int, minor: int) -> tuple[str, ...]:
    """What torch eager runs natively by compute capability (fp8/int8 need TensorRT or Transformer Engine)."""
    out = ["fp32"]
    if (major, minor) >= (8, 0):
        out += ["tf32", "bf16"]
    if (major, minor) >= (6, 0):
        out.append("fp16")
    return tuple(out)


def listing_from_torch(torch) -> list[dict]:
    """What torch says about each visible CUDA/HIP device, as plain data (the recorded boundary)."""
    out = []
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        out.append({"index": i, "name": p.name, "total_memory": int(p.total_memory), "major": int(p.major),
                    "minor": int(p.minor), "multi_processor_count": int(p.multi_processor_count),
                    "gcnArchName": getattr(p, "gcnArchName", "")})
    return out


def describe(listing: list[dict], runtime: str, driver: str = "", backend: str = "cuda") -> list[DeviceInfo]:
    out = []
    for d in listing:
        i = int(d["index"])
        cat, note = catalog_match(d["name"])
        if backend == "cuda":
            precisions = nvidia_precisions(int(d.get("major", 0)), int(d.get("minor", 0)))
            extra = {"compute_capability": f"{d.get('major')}.{d.get('minor')}"}
        else:
            precisions = ("fp32", "bf16", "fp16")
            extra = {"gcn_arch": d.get("gcnArchName", "")}
        out.append(DeviceInfo(
            id=f"cuda:{i}", name=d["name"], kind="gpu", backend=backend, available=True, reason=note,
            catalog_id=cat, torch_device=f"cuda:{i}", precisions=precisions, memory_bytes=int(d.get("total_memory") or 0) or None,
            details={"runtime": runtime, "driver": driver, "sm_count": d.get("multi_processor_count"), **extra},
            synchronize=functools.partial(_sync, i)))
    return out


def _sync(index: int) -> None:
    import torch

    torch.cuda.synchronize(index)


def nvidia_driver() -> str:
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            v = pynvml.nvmlSystemGetDriverVersion()
            return v.decode() if isinstance(v, bytes) else str(v)
        finally:
            pynvml.nvmlShutdown()
    except Exception:
        return ""


def probe(include_missing: bool = False) -> list[DeviceInfo]:
    return torch_probe("cuda", "NVIDIA GPU", "gpu", "CUDA", include_missing, _find)


def _find(torch) -> list[DeviceInfo]:
    if getattr(torch.version, "hip", None):
        raise Absent("this torch is a ROCm build (see rocm)")
    if not torch.version.cuda:
        raise Absent("torch is built without CUDA")
    if not torch.cuda.is_available():
        raise Absent("no CUDA device visible (driver or CUDA_VISIBLE_DEVICES)")
    return describe(listing_from_torch(torch), f"cuda {torch.version.cuda}", nvidia_driver())
