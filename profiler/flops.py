"""FLOPs from torch's own counter, plus the analytic bytes a call must move at least.

FlopCounterMode counts matmul, convolution and attention kernels (2 FLOPs per multiply-add) and ignores
element-wise work, the usual convention for roofline and MLPerf-style comparisons.
"""

from __future__ import annotations

from collections.abc import Callable


def _cpu_attention_formulas() -> dict:
    """torch's counter knows the CUDA attention kernels but not the CPU flash kernel; count it the same way."""
    import torch
    from torch.utils.flop_counter import sdpa_backward_flop_count, sdpa_flop_count

    aten = torch.ops.aten
    out = {}
    if hasattr(aten, "_scaled_dot_product_flash_attention_for_cpu"):
        def fwd(query, key, value, *args, out_shape=None, **kwargs) -> int:
            return sdpa_flop_count(query, key, value)

        def bwd(grad_out, query, key, value, *args, out_shape=None, **kwargs) -> int:
            return sdpa_backward_flop_count(grad_out, query, key, value)
        out[aten._scaled_dot_product_flash_attention_for_cpu] = fwd
        out[aten._scaled_dot_product_flash_attention_for_cpu_backward] = bwd
    return out


def count_flops(fn: Callable[[], object]) -> float:
    """FLOPs of one call of `fn`, counted while it runs (so the call doubles as a warm-up)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False, custom_mapping=_cpu_attention_formulas()) as counter:
        fn()
    return float(counter.get_total_flops())


def tensor_bytes(*tensors) -> int:
    """Bytes held by tensors (nested lists/tuples/dicts allowed)."""
    import torch

    total = 0
    stack = list(tensors)
    while stack:
        t = stack.pop()
        if isinstance(t, torch.Tensor):
            total += t.numel() * t.element_size()
        elif isinstance(t, (list, tuple)):
            stack.extend(t)
        elif isinstance(t, dict):
            stack.extend(t.values())
    return total


def param_bytes(module) -> int:
    """Bytes of a module's parameters and buffers: what one pass must read at least once."""
    return sum(p.numel() * p.element_size() for p in module.parameters()) + \
        sum(b.numel() * b.element_size() for b in module.buffers())
