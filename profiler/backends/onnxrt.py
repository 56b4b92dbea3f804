"""ONNX Runtime execution providers: a second backend on CPUs and GPUs, and the only path here to FPGAs and ASICs."""

from __future__ import annotations

import importlib.util

from hwplan.profiler.backends.base import DeviceInfo, catalog_match, missing
from hwplan.profiler.backends.cpu import read_cpuinfo

# provider -> (device kind, backend label in rows, the torch backend it runs beside or None if it is its own device)
PROVIDERS = {
    "CPUExecutionProvider": ("cpu", "onnxruntime-cpu", "cpu"),
    "CUDAExecutionProvider": ("gpu", "onnxruntime-cuda", "cuda"),
    "TensorrtExecutionProvider": ("gpu", "onnxruntime-tensorrt", "cuda"),
    "ROCMExecutionProvider": ("gpu", "onnxruntime-rocm", "rocm"),
    "MIGraphXExecutionProvider": ("gpu", "onnxruntime-migraphx", "rocm"),
    "OpenVINOExecutionProvider": ("cpu", "onnxruntime-openvino", None),
    "VitisAIExecutionProvider": ("fpga", "onnxruntime-vitisai", None),
    "QNNExecutionProvider": ("asic", "onnxruntime-qnn", None),
    "CANNExecutionProvider": ("asic", "onnxruntime-cann", None),
    "CoreMLExecutionProvider": ("asic", "onnxruntime-coreml", None),
    "DmlExecutionProvider": ("gpu", "onnxruntime-dml", None),
}
NOT_DEVICES = {"AzureExecutionProvider": "calls a remote Azure endpoint; not a local device"}


def describe(providers: list[str], host_cpu_name: str = "", version: str = "") -> list[DeviceInfo]:
    """One DeviceInfo per available provider (pure, so recorded provider lists test it)."""
    out = []
    for ep in providers:
        if ep in NOT_DEVICES:
            out.append(missing(f"onnxrt:{ep}", ep, "asic", "onnxrt", NOT_DEVICES[ep]))
            continue
        kind, label, beside = PROVIDERS.get(ep, ("asic", "onnxruntime-" + ep.replace("ExecutionProvider", "").lower(), None))
        name = host_cpu_name if ep == "CPUExecutionProvider" and host_cpu_name else f"{ep} device"
        cat, note = (catalog_match(name) if ep == "CPUExecutionProvider"
                     else (None, "device name not exposed by the provider; rows say 'unknown'"))
        out.append(DeviceInfo(id=f"onnxrt:{ep}", name=name, kind=kind, backend="onnxrt", reason=note, catalog_id=cat,
                              torch_device=None, precisions=("fp32", "int8") if kind == "cpu" else ("fp32", "fp16", "int8"),
                              details={"execution_provider": ep, "row_backend": label, "beside": beside,
                                       "onnxruntime": version}))
    return out


def probe(include_missing: bool = False) -> list[DeviceInfo]:
    if importlib.util.find_spec("onnxruntime") is None:
        return [missing("onnxrt", "ONNX Runtime", "asic", "onnxrt",
                        "onnxruntime is not installed (path to FPGA/ASIC providers)")] \
            if include_missing else []
    try:
        import onnxruntime as ort

        found = describe(list(ort.get_available_providers()), " ".join((read_cpuinfo().get("model name") or "").split()),
                         ort.__version__)
        if include_missing:
            have = {d.details.get("execution_provider") for d in found} | {d.name for d in found}
            for ep, (kind, _label, _beside) in PROVIDERS.items():
                if ep not in have:
                    found.append(missing(f"onnxrt:{ep}", ep, kind, "onnxrt", "not in this onnxruntime build"))
        return found
    except Exception as exc:
        return ([missing("onnxrt", "ONNX Runtime", "asic", "onnxrt", f"onnxruntime probe failed: {exc}")]
                if include_missing else [])
