"""hwplan's vocabulary, defined once: precisions, device kinds, bases, energy methods, units and the other
closed sets the Measurement row, the catalog, the cost model and the presentation layer share.

Units: every numeric column or field carries its unit in its name and is SI (`_s` seconds, `_w` watts,
`_j` joules, `_b` bytes, `_gb` 1e9 bytes, `_usd` US dollars, `_per_hour`, `_kwh`, `_kg`); only
`hwplan.core.fmt` converts, and only for a person to read.
"""

from __future__ import annotations

# ---- numeric formats ------------------------------------------------------------------------------------
PRECISIONS = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8")
BYTES_PER_VALUE = {"fp32": 4.0, "tf32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0}
# Numeric quality, higher is more accurate: a workload allows every precision at or above its
# `lowest_precision` (data/workloads.csv).
QUALITY = {"int8": 0, "fp8": 1, "fp16": 2, "bf16": 2, "tf32": 3, "fp32": 4}
# The catalog column holding a device's dense peak for each precision (TFLOP/s, or TOP/s for int8).
PEAK_COLUMN = {
    "fp32": "fp32_tflops", "tf32": "tf32_tflops", "bf16": "bf16_tflops",
    "fp16": "fp16_tflops", "fp8": "fp8_tflops", "int8": "int8_tops",
}

# ---- devices --------------------------------------------------------------------------------------------
DEVICE_KINDS = ("cpu", "gpu", "tpu", "fpga", "asic")

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
