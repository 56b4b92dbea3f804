"""Device discovery: never raises, always the CPU; other backends from recorded listings at their boundary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hwplan.profiler.backends import cpu, cuda, onnxrt
from hwplan.profiler.devices import detect_devices, select_devices
from hwplan.profiler.errors import ProfileError

FIX = Path(__file__).parent / "fixtures"


def test_detect_always_has_the_cpu_and_never_raises():
    found = detect_devices()
    assert found[0].id == "cpu" and found[0].available and found[0].kind == "cpu"
    everything = detect_devices(include_missing=True)
    backends = {d.backend for d in everything}
    assert {"cpu", "cuda", "rocm", "xla", "mps", "xpu", "hpu", "onnxrt"} <= backends
    for d in everything:
        info = d.as_dict()
        assert {"name", "kind", "backend", "catalog_id", "available", "reason"} <= set(info)
        if not d.available:
            assert d.reason, f"{d.id} is missing without a reason"


def test_cpu_from_recorded_cpuinfo_of_this_vm():
    info = cpu.describe(cpu.read_cpuinfo((FIX / "cpuinfo-amd-epyc-2core.txt").read_text()), cores=2)
    assert info.name == "AMD EPYC" and info.catalog_id is None and "not in the catalog" in info.reason
    assert {"avx2", "avx512f", "avx512_bf16"} <= set(info.details["isa"])
    assert "bf16" in info.precisions and "fp16" not in info.precisions  # no native fp16 arithmetic on Zen 4
    # Zen 4: 2 cores x 2.596 GHz x 32 FLOP/cycle
    assert info.details["peak_fp32_flops"] == pytest.approx(2 * 2.59613e9 * 32, rel=1e-4)


def test_xeon_cpuinfo_matches_the_catalog_and_has_amx():
    info = cpu.describe(cpu.read_cpuinfo((FIX / "cpuinfo-xeon-8480.txt").read_text()), cores=56)
    assert info.catalog_id == "intel-xeon-8480"
    assert {"amx_bf16", "amx_int8"} <= set(info.details["isa"])
    assert {"bf16", "fp16"} <= set(info.precisions)
    assert info.details["fp32_flops_per_cycle_per_core"] == 64


def test_cuda_from_a_recorded_listing():
    rec = json.loads((FIX / "cuda-listing-h100x8.json").read_text())
    devs = cuda.describe(rec["devices"], rec["runtime"], rec["driver"])
    assert len(devs) == 8 and devs[3].id == "cuda:3" and devs[3].torch_device == "cuda:3"
    assert devs[0].catalog_id == "nvidia-h100-sxm" and devs[0].kind == "gpu"
    assert devs[0].precisions == ("fp32", "tf32", "bf16", "fp16")
    assert devs[0].details["compute_capability"] == "9.0" and devs[0].memory_bytes == 85045460992


def test_cuda_unknown_name_says_so():
    devs = cuda.describe([{"index": 0, "name": "NVIDIA Made-Up 9000", "total_memory": 1, "major": 7, "minor": 5}], "cuda 12")
    assert devs[0].catalog_id is None and "not in the catalog" in devs[0].reason
    assert devs[0].precisions == ("fp32", "fp16")


def test_onnxruntime_providers_are_the_path_to_fpgas():
    providers = json.loads((FIX / "ort-providers-vitis.json").read_text())
    devs = {d.details["execution_provider"]: d for d in onnxrt.describe(providers, host_cpu_name="AMD EPYC")}
    vitis = devs["VitisAIExecutionProvider"]
    assert vitis.kind == "fpga" and vitis.torch_device is None and vitis.details["row_backend"] == "onnxruntime-vitisai"
    assert devs["CPUExecutionProvider"].details["beside"] == "cpu"
    azure = onnxrt.describe(["AzureExecutionProvider"])[0]
    assert not azure.available and "remote" in azure.reason


def test_select_devices_points_to_doctor():
    assert select_devices(["cpu"])[0].id == "cpu"
    with pytest.raises(ProfileError, match="hwplan doctor"):
        select_devices(["cuda:7"])


def test_doctor_report_lists_devices_and_sensors():
    from hwplan.profiler.doctor import doctor_report

    rep = doctor_report()
    assert rep["devices"][0]["backend"] == "cpu"
    assert {s["name"] for s in rep["sensors"]} >= {"nvml", "amdsmi", "rapl"}
