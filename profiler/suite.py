"""The reference suite: which cases run (`plan_cases`) and how each becomes a timed `Bench` (`make_bench`).

Shapes follow docs (DESIGN.md, MLPerf); where the true shape does not fit this device's memory or time, the
case measures k layers at true width or a reduced resolution, and `Bench.scale` and the notes say how.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

from hwplan.core.errors import UnknownIdError
from hwplan.profiler.errors import ProfileError
from hwplan.profiler.timing import Budget

MODEL_WORKLOADS = ("resnet50", "retinanet", "bert-large", "dlrm-v2", "3d-unet", "fraud-mlp")
LLM_WORKLOADS = ("gpt-j", "llama2-70b", "llama3.1-8b", "mixtral-8x7b")
MICRO_WORKLOADS = ("gemm", "membw", "allreduce")
SUITE_WORKLOADS = MODEL_WORKLOADS + LLM_WORKLOADS + MICRO_WORKLOADS

# Architectures: GPT-J 6B (EleutherAI model card: 28 layers, d 4096, 16 heads, rotary 64, ffn 16384, vocab 50400);
# Llama 2 70B (Touvron et al. 2023: 80 layers, d 8192, 64 heads, 8 KV heads, ffn 28672, vocab 32000);
# Llama 3.1 8B (Meta model card: 32 layers, d 4096, 32 heads, 8 KV heads, ffn 14336, vocab 128256);
# Mixtral 8x7B (Jiang et al. 2024: 32 layers, d 4096, 32 heads, 8 KV heads, 8 experts of ffn 14336, top-2).
LLM_ARCH = {
    "gpt-j": dict(d_model=4096, n_heads=16, n_kv_heads=16, ffn=16384, layers=28, vocab=50400, style="gptj", rotary_dim=64),
    "llama2-70b": dict(d_model=8192, n_heads=64, n_kv_heads=8, ffn=28672, layers=80, vocab=32000),
    "llama3.1-8b": dict(d_model=4096, n_heads=32, n_kv_heads=8, ffn=14336, layers=32, vocab=128256),
    "mixtral-8x7b": dict(d_model=4096, n_heads=32, n_kv_heads=8, ffn=14336, layers=32, vocab=32000, style="mixtral",
                         experts=8, top_k=2),
}
LLM_TRAINING = ("llama3.1-8b", "llama2-70b", "mixtral-8x7b")  # workloads.csv lists training for these
TRAINING = ("resnet50", "retinanet", "bert-large", "dlrm-v2", "3d-unet", "fraud-mlp")
COMPILE = ("fraud-mlp", "resnet50", "bert-large", "llama3.1-8b")  # torch.compile on accelerators
CPU_COMPILE = ("fraud-mlp",)  # inductor needs minutes per model on 2 cores; one shows the backend
CPU_TRAIN_BF16 = ("fraud-mlp", "dlrm-v2", "resnet50")  # bf16 training steps that fit the CPU time budget
ONNX = ("fraud-mlp", "resnet50", "dlrm-v2")
INT8_TORCH = ("bert-large", "dlrm-v2", "fraud-mlp")  # Linear-heavy: torch dynamic int8 applies


@dataclass(frozen=True)
class Case:
    """One row to measure. `shape` holds the workload's size knobs (layers, resolution, table rows...)."""

    workload: str
    mode: str
    phase: str
    precision: str
    batch_size: int
    seq_len: int | None
    backend: str
    shape: tuple = ()

    @property
    def group(self) -> tuple:
        """Cases that differ only in backend; the fastest of a group is marked."""
        return (self.workload, self.mode, self.phase, self.precision, self.batch_size, self.seq_len, self.shape)

    def knob(self, name: str, default=None):
        return dict(self.shape).get(name, default)


@dataclass(frozen=True)
class SuiteConfig:
    name: str
    budget: Budget
    accelerator: bool = False
    sweep: bool = True
    backends: bool = True
    training: bool = True
    precisions: tuple[str, ...] | None = None  # None: all the device supports
    extra: dict = field(default_factory=dict)


QUICK_BUDGET = Budget(warmup=1, min_reps=3, max_reps=20, min_time_s=0.2, max_time_s=1.0, target_cov=0.05)
FULL_BUDGET = Budget(warmup=1, min_reps=3, max_reps=100, min_time_s=0.5, max_time_s=2.5, target_cov=0.03)


def suite_config(name: str, device) -> SuiteConfig:
    accel = device.kind != "cpu"
    if name == "quick":
        return SuiteConfig("quick", QUICK_BUDGET, accel, sweep=False, backends=False, training=False, precisions=("fp32",))
    if name == "full":
        return SuiteConfig("full", FULL_BUDGET, accel)
    raise ProfileError(f"unknown suite '{name}'; use quick or full")


def _shapes(wl: str, cfg: SuiteConfig) -> tuple:
    """Size knobs per workload, by suite and device class."""
    q, acc = cfg.name == "quick", cfg.accelerator
    if wl == "retinanet":
        return (("res", 800 if acc else (256 if q else 512)),)
    if wl == "3d-unet":
        return (("vox", 128 if acc else 64),)  # 64^3 is the smallest the 5 down-samplings allow
    if wl == "bert-large":
        return (("layers", 24 if (acc or not q) else 2),)
    if wl == "dlrm-v2":
        return (("rows", 40_000_000 if acc else (20_000 if q else 200_000)),)
    if wl in LLM_WORKLOADS:
        return (("layers", cfg.extra.get("llm_layers") or (0 if acc else 1)),)  # 0: as many as fit
    return ()


def _batches(wl: str, cfg: SuiteConfig, mode: str) -> list[int]:
    acc = cfg.accelerator
    table = {
        "resnet50": ([1, 16, 64, 256] if acc else [1, 16]), "retinanet": ([1, 8] if acc else [1]),
        "bert-large": ([1, 8, 32] if acc else [1]), "dlrm-v2": ([2048, 32768] if acc else [256, 2048]),
        "3d-unet": ([1, 2] if acc else [1]), "fraud-mlp": [1, 256, 4096],
    }
    if mode == "training":
        table = {"resnet50": [64 if acc else 8], "retinanet": [8 if acc else 1], "bert-large": [8 if acc else 1],
                 "dlrm-v2": [32768 if acc else 1024], "3d-unet": [2 if acc else 1], "fraud-mlp": [4096]}
    b = table[wl]
    return b if cfg.sweep else [b[0] if wl not in ("dlrm-v2", "fraud-mlp") else min(b[-1], 256)]


def plan_cases(suite: str, device, workloads: list[str] | None = None) -> list[Case]:
    """Every case of the suite for this device, grouped so a group's backends run back to back."""
    cfg = suite_config(suite, device)
    wanted = list(workloads) if workloads else list(SUITE_WORKLOADS)
    bad = [w for w in wanted if w not in SUITE_WORKLOADS]
    if bad:
        raise UnknownIdError("workload", bad[0], SUITE_WORKLOADS)
    onnx_only = device.torch_device is None
    precisions = [p for p in (cfg.precisions or device.precisions) if p in device.precisions or onnx_only]
    ort = _ort_backend(device)
    out: list[Case] = []
    for wl in wanted:
        shape = _shapes(wl, cfg)
        if onnx_only:
            if wl in ONNX:
                for b in _batches(wl, cfg, "inference"):
                    out.append(Case(wl, "inference", "", "fp32", b, None, ort, shape))
            else:
                out.append(Case(wl, "inference", "", "fp32", 1, None, ort or "onnxruntime", shape))
            continue
        if wl in MODEL_WORKLOADS:
            seq = 384 if wl == "bert-large" else None
            bs = _batches(wl, cfg, "inference")
            for prec in precisions:
                batches = bs if prec == "fp32" else ([bs[-1]] if prec == "int8" else sorted({bs[0], bs[-1]}))
                for b in batches:
                    backs = []
                    if prec != "int8" or (device.torch_device == "cpu" and wl in INT8_TORCH):
                        backs.append("torch-eager")
                    if cfg.backends and prec == "fp32" and wl in (COMPILE if cfg.accelerator else CPU_COMPILE) and b == bs[0]:
                        backs.append("torch-compile")
                    if cfg.backends and ort and wl in ONNX and prec in ("fp32", "int8"):
                        backs.append(ort)
                    for be in backs:
                        out.append(Case(wl, "inference", "", prec, b, seq, be, shape))
            if cfg.training and wl in TRAINING:
                for prec in [p for p in precisions if p in ("fp32", "bf16", "fp16")]:
                    if prec == "fp16" and "bf16" in precisions:
                        continue
                    if prec != "fp32" and not cfg.accelerator and wl not in CPU_TRAIN_BF16:
                        continue
                    for b in _batches(wl, cfg, "training"):
                        out.append(Case(wl, "training", "step", prec, b, seq, "torch-eager", shape))
        elif wl in LLM_WORKLOADS:
            q = cfg.name == "quick"
            ctx = 32 if q else (128 if not cfg.accelerator else 1024)
            llm_precs = [p for p in precisions if p in ("fp32", "bf16", "fp16")]
            if cfg.accelerator:
                llm_precs = [p for p in llm_precs if p != "fp32"] or llm_precs
            for prec in llm_precs:
                dec_batches = [1] if q else ([1, 8] if not cfg.accelerator else [1, 16, 64])
                out.append(Case(wl, "inference", "prefill", prec, 1, ctx, "torch-eager", shape))
                if cfg.backends and wl in (COMPILE if cfg.accelerator else CPU_COMPILE) and prec == llm_precs[0]:
                    out.append(Case(wl, "inference", "prefill", prec, 1, ctx, "torch-compile", shape))
                for b in dec_batches:
                    out.append(Case(wl, "inference", "decode", prec, b, ctx, "torch-eager", shape))
            if cfg.training and wl in LLM_TRAINING and (cfg.accelerator or wl == "llama3.1-8b"):
                prec = "bf16" if "bf16" in precisions else "fp32"
                out.append(Case(wl, "training", "step", prec, 1, 128 if not cfg.accelerator else 2048, "torch-eager", shape))
        elif wl == "gemm":
            sizes = [1024] if cfg.name == "quick" else ([2048, 4096, 8192] if cfg.accelerator else [512, 1024, 2048])
            for prec in [p for p in precisions if p != "int8"]:
                for n in sizes:
                    out.append(Case(wl, "inference", "", prec, 1, n, "torch-eager"))
        elif wl == "membw":
            sizes = [64 << 20] if cfg.name == "quick" else ([1 << 30] if cfg.accelerator else [8 << 20, 256 << 20])
            for s in sizes:
                out.append(Case(wl, "inference", "", "fp32", 1, s, "torch-eager"))
        elif wl == "allreduce":
            sizes = [1 << 16, 1 << 22] if cfg.name == "quick" else [1 << 12, 1 << 16, 1 << 20, 1 << 24, 1 << 26]
            for s in sizes:
                out.append(Case(wl, "inference", "", "fp32", 1, s, "torch-distributed"))
    return out


def _ort_backend(device) -> str | None:
    """The onnxruntime backend label for this device, if onnxruntime has a provider for it."""
    try:
        if importlib.util.find_spec("onnxruntime") is None:
            return None
        if device.torch_device is None:
            return device.details.get("row_backend")
        import onnxruntime as ort

        eps = ort.get_available_providers()
    except Exception:
        return None
    if device.backend == "cpu":
        return "onnxruntime-cpu" if "CPUExecutionProvider" in eps else None
    if device.backend == "cuda":
        return "onnxruntime-cuda" if "CUDAExecutionProvider" in eps else None
    if device.backend == "rocm":
        return "onnxruntime-rocm" if "ROCMExecutionProvider" in eps else None
    return None


def time_scale_note(measured: int, total: int, what: str, extra: str = "") -> str:
    return f"measured {measured} of {total} {what}; time scaled by {total}/{measured}" + (f"; {extra}" if extra else "")


def layers_that_fit(per_layer_bytes: float, total_layers: int, wanted: int, memory_bytes: int | None, factor: float) -> int:
    """How many layers to measure: the wanted cap, all if the whole model fits, and never more than memory allows."""
    k = min(wanted, total_layers)
    if memory_bytes:
        k = min(k, max(1, int(0.6 * memory_bytes // max(1.0, per_layer_bytes * factor))))
    return max(1, k)

