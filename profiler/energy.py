"""Energy: one measured path and one labelled estimate.

Measured: a `CounterMeter` reads a device's cumulative energy counter before and after the timed loop: NVML's
total energy (NVIDIA, Volta and later), AMD SMI's energy accumulator, or RAPL's package counters (CPUs, from
sysfs). Estimated, where no counter is readable: the catalog's board and idle power times the measured
utilisation (`estimated-tdp`, the formula in the row's note). Otherwise `none`, with the reason.

zeus is not used: the accelerator boxes hwplan profiles on have nvidia-ml-py and no package registry, so a zeus
path would not run where it matters, and reading the three counters directly is what zeus does underneath.
Every reading carries its `method`; an estimate is always `estimated-tdp`, never a sensor name.
"""

from __future__ import annotations

import ctypes.util
import glob
import importlib.util
import os
import resource
import time
from dataclasses import dataclass

from hwplan.core.catalog import load_catalog
from hwplan.profiler.backends.base import catalog_row

RAPL_GLOB = "/sys/class/powercap/intel-rapl:[0-9]*"


@dataclass(frozen=True)
class Sensor:
    name: str
    available: bool
    reason: str = ""

    def as_dict(self) -> dict:
        return {"name": self.name, "available": self.available, "reason": self.reason}


@dataclass(frozen=True)
class EnergyReading:
    """Energy over one timed window. `energy_j` None means not known (method 'none')."""

    method: str
    energy_j: float | None = None
    power_avg_w: float | None = None
    note: str = ""


def _nvml_sensor() -> Sensor:
    if importlib.util.find_spec("pynvml") is None:
        return Sensor("nvml", False, "nvidia-ml-py is not installed")
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            n = pynvml.nvmlDeviceGetCount()
        finally:
            pynvml.nvmlShutdown()
        return Sensor("nvml", n > 0, f"{n} NVIDIA GPU(s)" if n else "NVML found no GPU")
    except Exception as exc:
        return Sensor("nvml", False, f"NVML not usable: {exc.__class__.__name__}: {str(exc)[:120]}")


def _amdsmi_sensor() -> Sensor:
    if importlib.util.find_spec("amdsmi") is None:
        return Sensor("amdsmi", False, "amdsmi is not installed")
    if not _amd_library_present():
        return Sensor("amdsmi", False, "amdsmi is installed but libamd_smi.so (ROCm's amd-smi-lib) is not")
    try:
        import amdsmi

        amdsmi.amdsmi_init()
        try:
            n = len(amdsmi.amdsmi_get_processor_handles())
        finally:
            amdsmi.amdsmi_shut_down()
        return Sensor("amdsmi", n > 0, f"{n} AMD GPU(s)" if n else "AMD SMI found no GPU")
    except Exception as exc:
        return Sensor("amdsmi", False, f"AMD SMI not usable: {exc.__class__.__name__}: {str(exc)[:120]}")


def _amd_library_present() -> bool:
    """amdsmi prints to stdout when its C library is missing; look for the library first to keep `doctor` clean."""
    rocm = os.environ.get("ROCM_PATH", "/opt/rocm")
    return bool(ctypes.util.find_library("amd_smi")) or any(
        os.path.exists(os.path.join(rocm, d, "libamd_smi.so")) for d in ("lib", "lib64"))


def rapl_domains() -> list[str]:
    """Readable package-level RAPL counters (Intel, and AMD since Zen through the same powercap files)."""
    out = []
    for d in sorted(glob.glob(RAPL_GLOB)):
        if os.access(os.path.join(d, "energy_uj"), os.R_OK):
            out.append(d)
    return out


def _rapl_sensor() -> Sensor:
    if not glob.glob(RAPL_GLOB):
        return Sensor("rapl", False, "no /sys/class/powercap/intel-rapl (virtual machine or driver not loaded)")
    if not rapl_domains():
        return Sensor("rapl", False, "RAPL counters exist but are not readable (root only since CVE-2020-8694)")
    return Sensor("rapl", True, f"{len(rapl_domains())} package domain(s)")


def detect_sensors() -> list[Sensor]:
    """Which energy sensors this machine has, and why not where missing. Never raises."""
    out = []
    for probe in (_nvml_sensor, _amdsmi_sensor, _rapl_sensor):
        try:
            out.append(probe())
        except Exception as exc:
            out.append(Sensor(probe.__name__.strip("_").replace("_sensor", ""), False, f"probe failed: {exc}"))
    return out


# ---- meters: start() before the timed loop, stop() after it ---------------------------------------------


class NoMeter:
    """No sensor and no catalog power: energy is not known, and the row says 'none'."""

    def __init__(self, note: str):
        self.note = note

    def start(self) -> None:
        pass

    def stop(self) -> EnergyReading:
        return EnergyReading("none", note=self.note)


class EstimatedMeter:
    """P = P_idle + (P_board - P_idle) * utilisation, over the window; utilisation from the process's CPU time
    (CPU devices) or taken as 1 while the accelerator runs the timed loop back to back."""

    def __init__(self, board_w: float, idle_w: float | None, kind: str, cores: int = 1, source: str = "",
                 clock=time.perf_counter, cpu_clock=None):
        self.board_w, self.idle_w, self.kind, self.cores, self.source = board_w, idle_w, kind, max(1, cores), source
        self.clock = clock
        self.cpu_clock = cpu_clock or _process_cpu_s

    def start(self) -> None:
        self._t0, self._c0 = self.clock(), self.cpu_clock()

    def utilisation(self) -> float:
        wall = self.clock() - self._t0
        if self.kind != "cpu":
            return 1.0
        if wall <= 0:
            return 0.0
        return min(1.0, max(0.0, (self.cpu_clock() - self._c0) / (wall * self.cores)))

    def stop(self) -> EnergyReading:
        wall = self.clock() - self._t0
        util = self.utilisation()
        idle = self.idle_w if self.idle_w is not None else 0.0
        power = idle + (self.board_w - idle) * util
        idle_note = "" if self.idle_w is not None else "; idle power not in catalog, taken as 0 W"
        how = "process CPU time" if self.kind == "cpu" else "assumed busy for the whole timed loop"
        return EnergyReading("estimated-tdp", power * wall, power,
                             f"energy estimated (not measured): {idle:.0f} W idle + ({self.board_w:.0f} W board - idle) x "
                             f"utilisation {util:.2f} ({how}) from {self.source}{idle_note}")


def _process_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


class CounterMeter:
    """Energy from cumulative counters, read before and after the window: `read_j()` gives each counter's value
    in joules, `wrap_j()` where each rolls over (RAPL), None when they do not."""

    def __init__(self, read_j, method: str, note: str, wrap_j=None, clock=time.perf_counter):
        self.read_j, self.method, self.note, self.wrap_j, self.clock = read_j, method, note, wrap_j, clock

    def start(self) -> None:
        self._t0, self._e0 = self.clock(), list(self.read_j())

    def stop(self) -> EnergyReading:
        e1, wall = list(self.read_j()), self.clock() - self._t0
        tops = list(self.wrap_j()) if self.wrap_j is not None else [0.0] * len(e1)
        j = sum(b - a + (top if b < a else 0.0) for a, b, top in zip(self._e0, e1, tops))
        return EnergyReading(self.method, j, j / wall if wall > 0 else None, self.note)


def nvml_meter(index: int, clock=time.perf_counter) -> CounterMeter:
    """GPU energy from NVML's total-energy counter (mJ since the driver loaded)."""
    import pynvml

    pynvml.nvmlInit()
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    return CounterMeter(lambda: [pynvml.nvmlDeviceGetTotalEnergyConsumption(handle) / 1000.0], "nvml",
                        "NVML total energy counter", clock=clock)


def amdsmi_meter(index: int, clock=time.perf_counter) -> CounterMeter:
    """GPU energy from AMD SMI's energy accumulator (counts of `counter_resolution` microjoules)."""
    import amdsmi

    amdsmi.amdsmi_init()
    handle = amdsmi.amdsmi_get_processor_handles()[index]

    def read() -> list[float]:
        e = amdsmi.amdsmi_get_energy_count(handle)
        return [float(e["energy_accumulator"]) * float(e["counter_resolution"]) / 1e6]

    return CounterMeter(read, "amdsmi", "AMD SMI energy accumulator", clock=clock)


def rapl_meter(domains: list[str], clock=time.perf_counter) -> CounterMeter:
    """Package energy from the powercap counters (uJ), with wrap-around."""
    def read_j(name: str) -> list[float]:
        out = []
        for d in domains:
            with open(os.path.join(d, name)) as fh:
                out.append(int(fh.read()) / 1e6)
        return out

    return CounterMeter(lambda: read_j("energy_uj"), "rapl", "RAPL package energy (whole socket)",
                        wrap_j=lambda: read_j("max_energy_range_uj"), clock=clock)


def make_meter(device, sensors: list[Sensor] | None = None):
    """The best meter for `device`: a sensor if one reads it, else a catalog-power estimate, else none."""
    sensors = sensors if sensors is not None else detect_sensors()
    have = {s.name for s in sensors if s.available}
    index = None
    if device.torch_device and ":" in device.torch_device:
        try:
            index = int(device.torch_device.split(":")[1])
        except ValueError:
            index = None
    # Each candidate in order of preference; one that fails to open falls through to the next, then to the estimate.
    candidates = []
    if device.backend == "cuda" and "nvml" in have and index is not None:
        candidates.append(lambda: nvml_meter(index))
    if device.backend == "rocm" and "amdsmi" in have and index is not None:
        candidates.append(lambda: amdsmi_meter(index))
    if device.kind == "cpu" and device.backend == "cpu" and "rapl" in have:
        candidates.append(lambda: rapl_meter(rapl_domains()))
    for make in candidates:
        try:
            return make()
        except Exception:
            continue
    if device.kind == "cpu":
        estimate = _cpu_estimate(device)
        if estimate is not None:
            return estimate

    row = catalog_row(device.catalog_id)
    board = _num(row.get("board_power_w")) if row else None
    if board:
        return EstimatedMeter(board, _num(row.get("idle_power_w")), device.kind,
                              cores=int(device.details.get("cores") or 1),
                              source=f"catalog {device.catalog_id} board_power_w")
    why = "no energy sensor here"
    if device.catalog_id is None:
        why += f" and '{device.name}' is not in the catalog, so no board power to estimate from"
    else:
        why += f" and catalog {device.catalog_id} has no board_power_w"
    return NoMeter(why + ": energy not estimated")


def _cpu_estimate(device) -> EstimatedMeter | None:
    """This process's share of a CPU package: catalog TDP per core x the cores it may use.

    A VM often hides the exact model ("AMD EPYC"): then the per-core TDP of the catalog's CPUs of the
    same family stands in, and the note says so. None when nothing in the catalog fits.
    """
    try:
        cat = load_catalog(validated=False)  # read as shipped: this box may have no pandera
    except Exception:
        return None
    cpus = cat[(cat["kind"] == "cpu") & cat["board_power_w"].notna() & cat["cores"].notna()]
    here = max(1, int(device.details.get("cores") or 1))
    if device.catalog_id in cpus.index:
        rows = cpus.loc[[device.catalog_id]]
        basis = f"catalog {device.catalog_id}"
    else:
        words = str(device.name).replace("(R)", "").replace("(TM)", "").split()[:2]
        family = " ".join(words).lower()
        rows = cpus[cpus["model"].str.lower().str.replace("(r)", "").str.startswith(family)] if family else cpus.iloc[:0]
        if rows.empty:
            return None
        basis = (f"the median per-core TDP of catalog {' '.join(words)} CPUs ({', '.join(rows.index)}), since this CPU's "
                 f"model '{device.name}' is not reported")
    per_core = float((rows["board_power_w"] / rows["cores"]).median())
    return EstimatedMeter(per_core * here, None, "cpu", cores=here,
                          source=f"{per_core:.2f} W per core x {here} usable core(s), from {basis}")


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if f == f and f > 0 else None
