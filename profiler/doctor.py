"""`hwplan doctor`: what this machine has and what is missing, and why. Never raises."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from hwplan.profiler.devices import detect_devices
from hwplan.profiler.energy import EstimatedMeter, NoMeter, detect_sensors, make_meter

PACKAGES = ("torch", "numpy", "pandas", "scikit-learn", "SQLAlchemy", "alembic", "pandera", "streamlit", "plotly", "nvidia-ml-py",
            "amdsmi", "onnxruntime", "psycopg", "fpdf2", "kaleido", "playwright")


def package_versions() -> dict[str, str | None]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def doctor_report() -> dict:
    devices = detect_devices(include_missing=True)
    sensors = detect_sensors()
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "devices": [d.as_dict() for d in devices],
        "sensors": [s.as_dict() for s in sensors],
        "energy": [energy_plan(d, sensors) for d in devices if d.available],
    }


def energy_plan(device, sensors) -> dict:
    """How `hwplan profile` would get energy on this device: a sensor, an estimate (and from what), or none."""
    name = f"{device.backend}:{device.name}"
    try:
        meter = make_meter(device, sensors)
        if isinstance(meter, EstimatedMeter):
            return {"device": name, "method": "estimated-tdp",
                    "note": f"estimated (not measured): {meter.board_w:.1f} W x the measured utilisation, from {meter.source}"}
        if isinstance(meter, NoMeter):
            return {"device": name, "method": "none", "note": meter.note}
        meter.start()
        reading = meter.stop()
        return {"device": name, "method": reading.method, "note": "measured by a sensor"}
    except Exception as exc:
        return {"device": name, "method": "none", "note": f"{exc.__class__.__name__}: {exc}"}
