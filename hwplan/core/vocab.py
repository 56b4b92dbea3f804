"""hwplan's vocabulary, defined once: precisions, device kinds, bases, energy methods, units and the other
closed sets the Measurement row, the catalog, the cost model and the presentation layer share.

Units: every numeric column or field carries its unit in its name and is SI (`_s` seconds, `_w` watts,
`_j` joules, `_b` bytes, `_gb` 1e9 bytes, `_usd` US dollars, `_per_hour`, `_kwh`, `_kg`); only
`hwplan.core.fmt` converts, and only for a person to read.
"""

from __future__ import annotations


# ---- numeric formats ------------------------------------------------------------------------------------
# The formats are data (data/formats.csv, with sources): bits per weight (scales included), the precision
# whose peak runs the matrix products, the default KV-cache format, and the numeric quality (higher is more
# accurate: a workload allows every format at or above its `lowest_precision` in data/workloads.csv).
def _formats() -> dict[str, dict[str, str]]:
    import csv
    import io
    from importlib.resources import files

    text = (files("hwplan.data") / "formats.csv").read_text(encoding="utf-8")
    return {r["precision"]: r for r in csv.DictReader(io.StringIO(text, newline=""))}


FORMATS = _formats()
PRECISIONS = tuple(FORMATS)
BYTES_PER_VALUE = {p: float(f["weight_bits"]) / 8 for p, f in FORMATS.items()}  # weights, per value
COMPUTE_PRECISION = {p: f["compute"] for p, f in FORMATS.items()}  # whose peak runs the matrix products
KV_PRECISION = {p: f["kv_cache"] for p, f in FORMATS.items()}      # default KV-cache format
QUALITY = {p: int(f["quality"]) for p, f in FORMATS.items()}
# The catalog column holding a device's dense peak for each precision's matrix products (TFLOP/s, or TOP/s
# for int8); a weight-only format (int4 = W4A16) runs at the peak of its compute precision.
_PEAK_OF = {"fp32": "fp32_tflops", "tf32": "tf32_tflops", "bf16": "bf16_tflops", "fp16": "fp16_tflops",
            "fp8": "fp8_tflops", "int8": "int8_tops", "fp4": "fp4_tflops"}
PEAK_COLUMN = {p: _PEAK_OF[COMPUTE_PRECISION[p]] for p in PRECISIONS}
PEAK_COLUMNS = tuple(dict.fromkeys(PEAK_COLUMN.values()))  # each catalog peak column once

# ---- devices --------------------------------------------------------------------------------------------
DEVICE_KINDS = ("cpu", "gpu", "tpu", "fpga", "asic")
# How the devices of a node (or a scale-up domain) connect, for collectives (hwplan.costmodel.serving):
# nvswitch / switch = every device reaches every other at full link speed; mesh = point-to-point links to each
# peer (a group of k gets (k - 1) / (node - 1) of them); bridge = pairs joined by a bridge, PCIe beyond;
# pcie = through the host; torus = a 2D/3D torus of chip-to-chip links (TPU ICI).
TOPOLOGIES = ("nvswitch", "mesh", "bridge", "pcie", "torus", "switch")

# ---- the Measurement row --------------------------------------------------------------------------------
SOURCES = ("profiler", "upload", "published")
MODES = ("inference", "training")
THROUGHPUT_UNITS = ("samples/s", "tokens/s", "flop/s", "bytes/s")
MODEL_THROUGHPUT_UNITS = ("samples/s", "tokens/s")  # what a model workload's throughput is counted in
STATUSES = ("ok", "failed", "skipped")
SCENARIOS = ("offline", "server", "single-stream", "")
POWER_SCOPES = ("device", "system", "")
ENERGY_METHODS = ("nvml", "amdsmi", "rapl", "wall-meter", "estimated-tdp", "published", "none")
MEASURED_ENERGY_METHODS = ("nvml", "amdsmi", "rapl", "wall-meter")  # a sensor read it
ESTIMATED_ENERGY_METHODS = ("estimated-tdp", "none")  # no sensor: never fits a power curve
MICRO_BENCHMARKS = ("gemm", "membw", "allreduce")

# ---- predictions ----------------------------------------------------------------------------------------
BASES = ("measured", "calibrated", "roofline")
BASIS_HELP = {
    "measured": "this device and workload were measured (profiler, upload or published run)",
    "calibrated": "fitted from measurements of other devices of the same kind and generation",
    "roofline": "from the device's specs only; no measurement informs it",
}
BOUNDS = ("compute", "memory", "communication", "overhead")
PHASES = ("", "prefill", "decode")  # LLM phases a prediction can be asked for; "" = the whole request
PRICING = ("cloud", "owned")
