"""What a workload hands the runner (`Bench`), and helpers shared by the models: fast weight init on the
target device, precision casts, one training step."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from hwplan.profiler.errors import Unsupported

DTYPES = {"fp32": torch.float32, "tf32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass
class Bench:
    """One thing to time. `step()` is a single timed call doing `units_per_step` samples or tokens.

    `scale` turns measured time into the true workload's time (k of L layers measured: L/k; reduced
    resolution: pixel or voxel ratio); FLOPs counted on the measured call are scaled the same way.
    """

    step: Callable[[], object]
    units_per_step: float
    unit: str  # samples/s tokens/s flop/s bytes/s
    scale: float = 1.0
    bytes_per_unit: float | None = None
    flops_per_unit: float | None = None  # set for micro-benchmarks; models are counted by FlopCounterMode
    count_flops: bool = True
    notes: list[str] = field(default_factory=list)
    seq_len: int | None = None
    device_count: int = 1
    timing: object | None = None  # a precomputed Timing (allreduce measures in its own processes)
    extra_sync: Callable[[], None] | None = None


def seed_block(device, dtype, n: int = 1 << 20) -> torch.Tensor:
    g = torch.Generator().manual_seed(1234)
    return torch.randn(n, generator=g).to(device=device, dtype=dtype)


@torch.no_grad()
def fast_init_(module: nn.Module, device) -> nn.Module:
    """Give every parameter values on `device` quickly: norms 1, biases 0, small tensors random with std
    1/sqrt(fan_in), large tensors tiled from one random block (values do not change the timing, and
    drawing billions of normals would take longer than the benchmark)."""
    blocks: dict = {}
    tiled = 0
    for name, p in list(module.named_parameters()) + list(module.named_buffers()):
        if not p.is_floating_point():
            p.zero_()
            continue
        low = name.lower()
        if p.dim() <= 1:
            # 1-D floating tensors are norm scales/shifts, biases and BN statistics.
            p.fill_(1.0 if (low.endswith("weight") or "running_var" in low) else 0.0)
            continue
        fan_in = max(1, p[0].numel())
        std = 1.0 / math.sqrt(fan_in)
        if p.numel() <= (1 << 20):
            p.normal_(0, std)
            continue
        key = p.dtype
        if key not in blocks:
            blocks[key] = seed_block(p.device, p.dtype)
        # A different rotation per tensor: identical weights would be merged by ONNX export and break quantisation.
        tiled += 1
        blk = blocks[key].roll(tiled * 7919)
        flat = p.view(-1)
        for start in range(0, flat.numel(), blk.numel()):
            end = min(flat.numel(), start + blk.numel())
            flat[start:end].copy_(blk[: end - start])
        flat.mul_(std)
    return module


def build(factory: Callable[[], nn.Module], device: str, precision: str, mode: str) -> nn.Module:
    """Construct on the meta device (no memory, no init), then materialise at the target dtype on `device`."""
    with torch.device("meta"):
        model = factory()
    dtype = DTYPES.get(precision, torch.float32) if mode == "inference" else torch.float32
    model = model.to(dtype=dtype)
    model = model.to_empty(device=device)
    fast_init_(model, device)
    return model.train(mode == "training")


def check_precision(device, precision: str) -> None:
    if precision not in device.precisions:
        raise Unsupported(f"{precision} is not supported on {device.name} (supported: {', '.join(device.precisions)})")


def quantize_int8(model: nn.Module, device) -> nn.Module:
    """Dynamic int8 quantisation of Linear layers (torch's CPU int8 path)."""
    if device.torch_device != "cpu":
        raise Unsupported("torch int8 (dynamic quantisation) runs on CPU only; "
                          "use onnxruntime or TensorRT for int8 on accelerators")
    try:
        from torch.ao.quantization import quantize_dynamic
    except Exception as exc:
        raise Unsupported(f"torch has no dynamic quantisation here: {exc}") from exc
    return quantize_dynamic(model.float().eval(), {nn.Linear}, dtype=torch.qint8)


def autocast(device, precision: str, mode: str):
    """Mixed precision for training steps (fp32 master weights); a no-op context otherwise."""
    if mode == "training" and precision in ("bf16", "fp16"):
        dev_type = (device.torch_device or "cpu").split(":")[0]
        return torch.autocast(device_type=dev_type, dtype=DTYPES[precision])
    return contextlib.nullcontext()


def make_step(model: nn.Module, inputs: tuple, device, precision: str, mode: str,
              loss_fn: Callable | None = None, optimizer: str = "sgd") -> Callable[[], object]:
    """Inference: a no-grad forward. Training: forward, loss, backward, optimizer step."""
    if mode == "inference":
        def infer():
            with torch.inference_mode():
                return model(*inputs)
        return infer
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "adamw":
        opt = torch.optim.AdamW(params, lr=1e-5)
    elif optimizer == "sgd-sparse":  # sparse embedding gradients: plain SGD, as DLRM's reference training
        opt = torch.optim.SGD(params, lr=1e-5)
    else:
        opt = torch.optim.SGD(params, lr=1e-5, momentum=0.9)
    scaler = torch.amp.GradScaler(enabled=precision == "fp16" and (device.torch_device or "cpu") != "cpu")
    lf = loss_fn or (lambda out: _first(out).float().pow(2).mean())

    def train_step():
        opt.zero_grad(set_to_none=True)
        with autocast(device, precision, mode):
            loss = lf(model(*inputs))
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return loss
    return train_step


def _first(out):
    if isinstance(out, (tuple, list)):
        return torch.cat([o.reshape(-1).float() for o in out])
    return out
