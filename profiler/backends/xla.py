"""Google TPUs (and other XLA devices) through torch_xla, when it is installed."""

from __future__ import annotations

import importlib.util

from hwplan.profiler.backends.base import DeviceInfo, catalog_match, missing


def _sync() -> None:
    import torch_xla.core.xla_model as xm

    xm.mark_step()
    xm.wait_device_ops()


def probe(include_missing: bool = False) -> list[DeviceInfo]:
    stand_in = lambda why: [missing("xla", "TPU", "tpu", "xla", why)] if include_missing else []
    if importlib.util.find_spec("torch_xla") is None:
        return stand_in("torch_xla is not installed")
    try:
        import torch_xla.core.xla_model as xm
        import torch_xla.runtime as xr

        hw = str(xr.device_type() or "")
        devices = xm.get_xla_supported_devices() or []
        if not devices:
            return stand_in("torch_xla found no device")
        kind = "tpu" if hw.upper().startswith("TPU") else ("cpu" if hw.upper() == "CPU" else "gpu")
        name = hw
        try:
            import torch_xla

            name = str(torch_xla.tpu.get_tpu_env().get("TYPE") or hw)  # e.g. v5litepod-8
        except Exception:
            pass
        cat, note = catalog_match(name)
        return [DeviceInfo(id=f"xla:{i}", name=name, kind=kind, backend="xla", reason=note, catalog_id=cat,
                           torch_device=str(d), precisions=("fp32", "bf16"), details={"xla_device": str(d)},
                           synchronize=_sync) for i, d in enumerate(devices)]
    except Exception as exc:
        return stand_in(f"torch_xla probe failed: {exc.__class__.__name__}: {exc}")
