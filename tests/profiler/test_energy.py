"""Energy: sensors when present, catalog estimates labelled as such, 'none' otherwise."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from hwplan.profiler.backends.base import DeviceInfo
from hwplan.profiler.energy import (
    CounterMeter,
    EstimatedMeter,
    NoMeter,
    Sensor,
    amdsmi_meter,
    detect_sensors,
    make_meter,
    nvml_meter,
    rapl_meter,
)

FIX = Path(__file__).parent / "fixtures"


def test_detect_sensors_never_raises_and_explains():
    sensors = detect_sensors()
    assert {s.name for s in sensors} == {"nvml", "amdsmi", "rapl"}
    for s in sensors:
        assert set(s.as_dict()) == {"name", "available", "reason"} and s.reason


def test_unknown_cpu_without_sensor_records_none():
    dev = DeviceInfo(id="cpu", name="Acme RISC-V 9000", kind="cpu", backend="cpu", torch_device="cpu")
    meter = make_meter(dev, sensors=[Sensor("rapl", False, "no")])
    assert isinstance(meter, NoMeter)
    meter.start()
    r = meter.stop()
    assert r.method == "none" and r.energy_j is None and "not in the catalog" in r.note


def test_hidden_cpu_model_uses_its_familys_per_core_tdp_and_says_so():
    dev = DeviceInfo(id="cpu", name="AMD EPYC", kind="cpu", backend="cpu", torch_device="cpu", details={"cores": 2})
    meter = make_meter(dev, sensors=[Sensor("rapl", False, "no")])
    from hwplan.core.catalog import load_catalog

    row = load_catalog().loc["amd-epyc-9654"]
    assert isinstance(meter, EstimatedMeter)
    assert meter.board_w == pytest.approx(row["board_power_w"] / row["cores"] * 2)
    meter.start()
    r = meter.stop()
    assert r.method == "estimated-tdp" and "amd-epyc-9654" in r.note and "not reported" in r.note


def test_catalog_cpu_is_estimated_from_board_power_and_cpu_time():
    dev = DeviceInfo(id="cpu", name="Intel(R) Xeon(R) Platinum 8480+", kind="cpu", backend="cpu", torch_device="cpu",
                     catalog_id="intel-xeon-8480", details={"cores": 4})
    meter = make_meter(dev, sensors=[])
    from hwplan.core.catalog import load_catalog

    assert isinstance(meter, EstimatedMeter)
    row = load_catalog().loc["intel-xeon-8480"]
    assert meter.board_w == pytest.approx(row["board_power_w"] / row["cores"] * 4)  # this process's share of the package
    wall, cpu_s = [0.0], [0.0]
    m = EstimatedMeter(350, 50, "cpu", cores=4, source="catalog", clock=lambda: wall[0], cpu_clock=lambda: cpu_s[0])
    m.start()
    wall[0], cpu_s[0] = 2.0, 4.0  # 4 CPU-seconds over 2 s on 4 cores: utilisation 0.5
    r = m.stop()
    assert r.method == "estimated-tdp" and r.power_avg_w == pytest.approx(50 + 300 * 0.5)
    assert r.energy_j == pytest.approx(200 * 2.0) and "estimated (not measured)" in r.note


def test_nvml_meter_from_recorded_counter(monkeypatch):
    rec = json.loads((FIX / "nvml-energy-h100.json").read_text())
    readings = iter(rec["readings_mj"])
    fake = types.SimpleNamespace(nvmlInit=lambda: None, nvmlDeviceGetHandleByIndex=lambda i: ("gpu", i),
                                 nvmlDeviceGetTotalEnergyConsumption=lambda h: next(readings))
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    times = iter([10.0, 10.0 + rec["window_s"]])
    m = nvml_meter(rec["device_index"], clock=lambda: next(times))
    m.start()
    r = m.stop()
    assert r.method == "nvml" and r.energy_j == pytest.approx(1300.0) and r.power_avg_w == pytest.approx(650.0)


def test_cuda_device_prefers_nvml_when_the_sensor_is_there(monkeypatch):
    fake = types.SimpleNamespace(nvmlInit=lambda: None, nvmlDeviceGetHandleByIndex=lambda i: i,
                                 nvmlDeviceGetTotalEnergyConsumption=lambda h: 0)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    gpu = DeviceInfo(id="cuda:0", name="NVIDIA H100 80GB HBM3", kind="gpu", backend="cuda", torch_device="cuda:0",
                     catalog_id="nvidia-h100-sxm")
    meter = make_meter(gpu, sensors=[Sensor("nvml", True)])
    assert isinstance(meter, CounterMeter) and meter.method == "nvml"
    est = make_meter(gpu, sensors=[])
    assert isinstance(est, EstimatedMeter) and est.kind == "gpu"


def test_rapl_counter_wraps_around(tmp_path):
    """Two package domains laid out as /sys/class/powercap presents them; the second wraps during the window."""
    doms = []
    for i, (e0, top) in enumerate([(1_000_000, 10**12), (2**32 - 500_000, 2**32)]):
        d = tmp_path / f"intel-rapl:{i}"
        d.mkdir()
        (d / "energy_uj").write_text(str(e0))
        (d / "max_energy_range_uj").write_text(str(top))
        doms.append(str(d))
    times = iter([0.0, 2.0])
    m = rapl_meter(doms, clock=lambda: next(times))
    m.start()
    (tmp_path / "intel-rapl:0" / "energy_uj").write_text(str(1_000_000 + 30_000_000))  # +30 J
    (tmp_path / "intel-rapl:1" / "energy_uj").write_text(str(9_500_000))  # wrapped: +10 J
    r = m.stop()
    assert r.method == "rapl" and r.energy_j == pytest.approx(40.0) and r.power_avg_w == pytest.approx(20.0)


def test_amdsmi_accumulator_times_resolution(monkeypatch):
    """amdsmi_get_energy_count's fields as AMD SMI documents them (accumulator in units of counter_resolution uJ)."""
    counts = iter([{"energy_accumulator": 1_000_000, "counter_resolution": 15.3, "timestamp": 1},
                   {"energy_accumulator": 1_065_359, "counter_resolution": 15.3, "timestamp": 2}])
    fake = types.SimpleNamespace(amdsmi_init=lambda: None, amdsmi_get_processor_handles=lambda: ["gpu0", "gpu1"],
                                 amdsmi_get_energy_count=lambda h: next(counts))
    monkeypatch.setitem(sys.modules, "amdsmi", fake)
    times = iter([0.0, 1.0])
    m = amdsmi_meter(1, clock=lambda: next(times))
    m.start()
    r = m.stop()
    assert r.method == "amdsmi" and r.energy_j == pytest.approx(65_359 * 15.3 / 1e6)
