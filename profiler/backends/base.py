"""The small Device contract every backend fills in, and the catalog lookup they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hwplan.core.catalog import load_catalog, match_device


@dataclass
class DeviceInfo:
    """One device as found (or not found) on this machine.

    `id` is what `--device` takes (cpu, cuda:0, onnxrt:VitisAIExecutionProvider, ...); `name` is the raw
    name the driver reports; `catalog_id` is the catalog row it matched, or None (rows then say 'unknown').
    """

    id: str
    name: str
    kind: str  # cpu gpu tpu fpga asic
    backend: str  # cpu cuda rocm xla mps xpu hpu onnxrt
    available: bool = True
    reason: str = ""
    catalog_id: str | None = None
    torch_device: str | None = None  # None: not reachable through torch (ONNX Runtime only)
    count: int = 1
    precisions: tuple[str, ...] = ("fp32",)
    memory_bytes: int | None = None
    details: dict = field(default_factory=dict)
    synchronize: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    def sync(self) -> None:
        if self.synchronize is not None:
            self.synchronize()

    def as_dict(self) -> dict:
        return {
            "id": self.id, "name": self.name, "kind": self.kind, "backend": self.backend,
            "catalog_id": self.catalog_id, "available": self.available, "reason": self.reason,
            "torch_device": self.torch_device, "precisions": list(self.precisions),
            "memory_bytes": self.memory_bytes, **self.details,
        }


def missing(id_: str, name: str, kind: str, backend: str, reason: str) -> DeviceInfo:
    """A stand-in for a device family that is not here, so `doctor` can say why."""
    return DeviceInfo(id=id_, name=name, kind=kind, backend=backend, available=False, reason=reason, torch_device=None)


def catalog_match(raw_name: str) -> tuple[str | None, str]:
    """(catalog id or None, note). Never raises: a broken or missing catalog only means 'no match'. The catalog
    is read as shipped (CI validates it), so a box with only torch, numpy and pandas matches without pandera."""
    try:
        found = match_device(raw_name, load_catalog(validated=False))
    except Exception as exc:
        return None, f"catalog unavailable ({exc.__class__.__name__})"
    if found:
        return found, ""
    return None, f"'{raw_name}' is not in the catalog"


def catalog_row(catalog_id: str | None) -> dict | None:
    """The catalog row as a plain dict, or None."""
    if not catalog_id:
        return None
    try:
        cat = load_catalog(validated=False)  # read as shipped: this box may have no pandera
        if catalog_id not in cat.index:
            return None
        return dict(cat.loc[catalog_id].items())
    except Exception:
        return None


class Absent(Exception):
    """Raised inside a probe: this device family is not here; the message says why."""


def torch_probe(family: str, name: str, kind: str, label: str, include_missing: bool, find) -> list[DeviceInfo]:
    """Run `find(torch)` for a torch-backed device family and never raise: no torch, `Absent`, or any
    failure gives a stand-in (when `include_missing`) that says why, so `doctor` can report it."""
    def stand_in(why: str) -> list[DeviceInfo]:
        return [missing(family, name, kind, family, why)] if include_missing else []

    torch = import_torch()
    if torch is None:
        return stand_in("torch is not installed")
    try:
        return find(torch)
    except Absent as why:
        return stand_in(str(why))
    except Exception as exc:
        return stand_in(f"{label} probe failed: {exc.__class__.__name__}: {exc}")


def import_torch():
    """torch, or None when it is not installed (the doctor still works without it)."""
    try:
        import torch

        return torch
    except Exception:
        return None
