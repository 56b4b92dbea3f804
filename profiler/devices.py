"""Device discovery across every backend. Never raises; always returns at least the CPU."""

from __future__ import annotations

from hwplan.profiler.backends import cpu, cuda, hpu, mps, onnxrt, rocm, xla, xpu
from hwplan.profiler.backends.base import DeviceInfo
from hwplan.profiler.errors import ProfileError

BACKENDS = (cpu, cuda, rocm, xla, mps, xpu, hpu, onnxrt)


def detect_devices(include_missing: bool = False) -> list[DeviceInfo]:
    """Every device found; with `include_missing`, also a stand-in (with the reason) per family not found."""
    out: list[DeviceInfo] = []
    for mod in BACKENDS:
        try:
            out += mod.probe(include_missing=include_missing)
        except Exception as exc:
            if include_missing:
                name = mod.__name__.rsplit(".", 1)[-1]
                out.append(DeviceInfo(id=name, name="", kind="cpu", backend=name,
                                      available=False, reason=f"probe raised {exc.__class__.__name__}: {exc}"))
    if not any(d.id == "cpu" for d in out):
        out.insert(0, cpu.probe()[0])
    return out


def profile_targets(devices: list[DeviceInfo]) -> list[DeviceInfo]:
    """Devices the suite runs on: torch devices, plus ONNX Runtime providers that are a device of their own."""
    return [d for d in devices if d.available and (d.torch_device is not None or d.details.get("beside") is None)]


def select_devices(wanted: list[str] | None, devices: list[DeviceInfo] | None = None) -> list[DeviceInfo]:
    """Resolve `--device` values (cpu, cuda, cuda:1, a catalog id, onnxrt:VitisAIExecutionProvider) to devices."""
    targets = profile_targets(devices if devices is not None else detect_devices())
    if not wanted:
        return targets
    chosen: list[DeviceInfo] = []
    for w in wanted:
        w = w.strip()
        hits = [d for d in targets if w in (d.id, d.catalog_id, d.backend) or d.id.split(":")[0] == w]
        if not hits:
            known = ", ".join(d.id for d in targets)
            raise ProfileError(f"device '{w}' was not found on this machine (found: {known}); run `hwplan doctor` to see why")
        chosen += [h for h in hits if h not in chosen]
    return chosen
