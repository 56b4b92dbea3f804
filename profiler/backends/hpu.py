"""Intel Gaudi accelerators through habana_frameworks.torch (the HPU backend)."""

from __future__ import annotations

import importlib.util

from hwplan.profiler.backends.base import DeviceInfo, catalog_match, missing


def _sync() -> None:
    import habana_frameworks.torch.core as htcore  # noqa: F401 - registers the backend
    import torch

    torch.hpu.synchronize()


def probe(include_missing: bool = False) -> list[DeviceInfo]:
    stand_in = lambda why: [missing("hpu", "Intel Gaudi", "asic", "hpu", why)] if include_missing else []
    if importlib.util.find_spec("habana_frameworks") is None:
        return stand_in("habana_frameworks (Gaudi software) is not installed")
    try:
        import habana_frameworks.torch.core  # noqa: F401
        import habana_frameworks.torch.hpu as hthpu

        if not hthpu.is_available():
            return stand_in("no Gaudi device visible")
        out = []
        for i in range(hthpu.device_count()):
            name = hthpu.get_device_name(i)  # e.g. GAUDI2
            cat, note = catalog_match(f"Intel {name.title()}")
            if cat is None:
                cat, note = catalog_match(name)
            out.append(DeviceInfo(id=f"hpu:{i}", name=name, kind="asic", backend="hpu", reason=note, catalog_id=cat,
                                  torch_device=f"hpu:{i}", precisions=("fp32", "bf16", "fp16"), synchronize=_sync))
        return out
    except Exception as exc:
        return stand_in(f"HPU probe failed: {exc.__class__.__name__}: {exc}")
