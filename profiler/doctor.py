"""`hwplan doctor`: what this machine has and what is missing, and why. Never raises."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

PACKAGES = ("torch", "numpy", "pandas", "scikit-learn", "SQLAlchemy", "streamlit", "plotly", "zeus", "nvidia-ml-py",
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
    from profiler.devices import detect_devices
    from profiler.energy import detect_sensors

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "devices": [d.as_dict() for d in detect_devices(include_missing=True)],
        "sensors": [s.as_dict() for s in detect_sensors()],
    }
