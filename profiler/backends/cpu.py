"""The host CPU: model, cores this process may use, ISA extensions, an fp32/bf16 peak estimate. Always present."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import platform

from hwplan.profiler.backends.base import DeviceInfo, catalog_match

ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16",
             "amx_tile", "amx_bf16", "amx_int8", "amx_fp16", "asimd", "sve", "sve2", "bf16", "i8mm")


def read_cpuinfo(text: str | None = None) -> dict:
    """The fields of /proc/cpuinfo that matter, from its first processor block (or from `text`)."""
    if text is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError:
            text = ""
    out: dict = {}
    for line in text.splitlines():
        if not line.strip():
            if out.get("model name") or out.get("flags"):
                break
            continue
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "vendor_id", "cpu family", "model", "cpu mhz", "flags", "features", "cpu max mhz"):
            out.setdefault(key, value.strip())
    return out


def fp32_flops_per_cycle(flags: set[str], vendor: str = "", family: str = "") -> tuple[int, str]:
    """Peak fp32 FLOPs per cycle per core from the vector ISA, and how it was derived.

    Two FMA pipes are assumed (Intel server cores since Skylake-SP, AMD Zen 2-5). AMD Zen 4 (family 25
    with AVX-512) executes 512-bit FMAs on 256-bit datapaths, so its AVX-512 rate equals its AVX2 rate."""
    if "avx512f" in flags:
        if vendor == "AuthenticAMD" and family == "25":
            return 32, "Zen 4 AVX-512 on 2x256-bit FMA pipes: 2 x 8 lanes x 2"
        return 64, "AVX-512: 2 FMA pipes x 16 fp32 lanes x 2"
    if "avx2" in flags and "fma" in flags:
        return 32, "AVX2+FMA: 2 FMA pipes x 8 fp32 lanes x 2"
    if "avx" in flags:
        return 16, "AVX without FMA: 8-lane add + 8-lane multiply"
    if "asimd" in flags:
        return 16, "NEON: 2 pipes x 4 fp32 lanes x 2 (typical; varies by core)"
    return 8, "SSE: 4-lane add + 4-lane multiply"


def cpu_precisions(flags: set[str], int8: bool) -> tuple[str, ...]:
    """Precisions this CPU runs natively; fp16 only with native fp16 arithmetic (emulated fp16 is ~1000x slower)."""
    out = ["fp32"]
    if flags & {"avx512_bf16", "amx_bf16", "bf16"}:
        out.append("bf16")
    if flags & {"avx512_fp16", "amx_fp16"}:
        out.append("fp16")
    if int8:
        out.append("int8")
    return tuple(out)


def _int8_path() -> bool:
    """True when torch has a quantized CPU engine (dynamic int8 Linear) or ONNX Runtime is installed."""
    try:
        if importlib.util.find_spec("onnxruntime") is not None:
            return True
        import torch

        return any(e in torch.backends.quantized.supported_engines for e in ("x86", "fbgemm", "qnnpack"))
    except Exception:
        return False


def describe(cpuinfo: dict, cores: int) -> DeviceInfo:
    """Turn parsed cpuinfo into a DeviceInfo (pure: tests feed recorded cpuinfo text)."""
    name = cpuinfo.get("model name") or platform.processor() or platform.machine() or "unknown CPU"
    name = " ".join(name.split())
    flags = set((cpuinfo.get("flags") or cpuinfo.get("features") or "").split())
    isa = [f for f in ISA_FLAGS if f in flags]
    mhz_text = cpuinfo.get("cpu max mhz") or cpuinfo.get("cpu mhz") or ""
    try:
        ghz = float(mhz_text) / 1000.0
    except ValueError:
        ghz = None
    per_cycle, how = fp32_flops_per_cycle(flags, cpuinfo.get("vendor_id", ""), cpuinfo.get("cpu family", ""))
    details = {"cores": cores, "isa": isa, "ghz": ghz, "fp32_flops_per_cycle_per_core": per_cycle, "peak_method": how,
               "vendor": cpuinfo.get("vendor_id", ""), "family": cpuinfo.get("cpu family", ""), "model": cpuinfo.get("model", "")}
    if ghz:
        details["peak_fp32_flops"] = cores * ghz * 1e9 * per_cycle
        details["peak_note"] = (f"{cores} cores x {ghz:.3f} GHz x {per_cycle} FLOP/cycle ({how}); clock as reported, "
                                "boost not visible")
    catalog_id, note = catalog_match(name)
    mem = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return DeviceInfo(id="cpu", name=name, kind="cpu", backend="cpu", available=True,
                      reason=note, catalog_id=catalog_id, torch_device="cpu", count=1,
                      precisions=cpu_precisions(flags, _int8_path()), memory_bytes=mem, details=details)


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def probe(include_missing: bool = False) -> list[DeviceInfo]:
    try:
        return [describe(read_cpuinfo(), usable_cores())]
    except Exception as exc:
        return [DeviceInfo(id="cpu", name=platform.processor() or "unknown CPU", kind="cpu", backend="cpu",
                           reason=f"could not read CPU details: {exc}", torch_device="cpu")]
