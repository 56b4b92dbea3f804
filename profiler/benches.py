"""Turn a `Case` into a timed `Bench` on a device: build the model once per workload and precision, then a step
for each backend (torch eager, torch.compile, ONNX Runtime) and phase (LLM prefill / decode)."""

from __future__ import annotations

import gc
import io
import logging
import os
import tempfile
import warnings

import torch

from hwplan.profiler.errors import Unsupported
from hwplan.profiler.flops import param_bytes, tensor_bytes
from hwplan.profiler.suite import LLM_ARCH, LLM_WORKLOADS, Case, layers_that_fit, time_scale_note
from hwplan.profiler.workloads import micro, recsys, transformer, unet3d, vision
from hwplan.profiler.workloads.common import DTYPES, Bench, build, make_step, quantize_int8


class ModelCache:
    """Keeps what one workload built (models, compiled models, ONNX sessions) and frees it on the next workload."""

    def __init__(self):
        self.workload: str | None = None
        self.items: dict = {}
        self.context: dict = {}  # run-wide facts (e.g. every all-reduce size), kept across workloads

    def get(self, case: Case, key: tuple, factory):
        if case.workload != self.workload:
            self.clear()
            self.workload = case.workload
        if key not in self.items:
            self.items[key] = factory()
        return self.items[key]

    def drop(self, prefix: tuple) -> None:
        for k in [k for k in self.items if k[: len(prefix)] == prefix]:
            del self.items[k]
        gc.collect()

    def clear(self) -> None:
        self.items.clear()
        self.workload = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


# ---- conventional models ----------------------------------------------------------------------------


def _model_spec(case: Case):
    """(factory, inputs(batch, device, dtype) -> tuple, time scale, notes, optimizer) for a non-LLM model."""
    wl = case.workload
    if wl == "resnet50":
        return vision.resnet50, lambda b, d, t: (torch.randn(b, 3, 224, 224, device=d, dtype=t),), 1.0, [], "sgd"
    if wl == "retinanet":
        r = case.knob("res", 800)
        scale = (800 / r) ** 2
        notes = [] if r == 800 else [f"measured at {r}x{r} instead of 800x800; time scaled by pixel count ({scale:.2f}x)"]
        notes.append("network only: anchor decoding and NMS not included")
        return vision.RetinaNet, lambda b, d, t: (torch.randn(b, 3, r, r, device=d, dtype=t),), scale, notes, "sgd"
    if wl == "3d-unet":
        v = case.knob("vox", 128)
        scale = (128 / v) ** 3
        notes = ["a sample is one 128^3 sub-volume (MLPerf's sliding window over a KiTS19 volume)"]
        if v != 128:
            notes.append(f"measured at {v}^3 instead of 128^3; time scaled by voxel count ({scale:.0f}x)")
        return unet3d.UNet3D, lambda b, d, t: (torch.randn(b, 1, v, v, v, device=d, dtype=t),), scale, notes, "sgd"
    if wl == "bert-large":
        k = case.knob("layers", 24)
        notes = ["BERT-Large, sequence 384, SQuAD span head"]
        if k != 24:
            notes.append(time_scale_note(k, 24, "encoder layers at true width", "embeddings and head counted once"))
        return (lambda: transformer.Bert(layers=k)), \
            (lambda b, d, t: (torch.randint(0, 30522, (b, 384), device=d),)), 24 / k, notes, "adamw"
    if wl == "dlrm-v2":
        rows = case.knob("rows", 40_000_000)
        notes = ["DLRM-v2 DCNv2, 26 multi-hot embedding bags (MLPerf pooling factors), dim 128"]
        if rows < 40_000_000:
            notes.append(f"embedding tables capped at {rows} rows (Criteo 1TB: up to 40M rows, 204M total); "
                         "lookups per sample unchanged, cache hit rate higher than at true size")
        def factory():
            return recsys.DLRMv2(max_rows=rows, sparse=case.mode == "training")

        def inputs(b, d, t):
            dense, idx, off = recsys.DLRMv2.example(_RowsOnly(rows), b, d)
            return dense.to(t), idx, off
        return factory, inputs, 1.0, notes, "sgd-sparse"
    if wl == "fraud-mlp":
        return recsys.FraudMLP, lambda b, d, t: (torch.randn(b, 100, device=d, dtype=t),), 1.0, \
            ["tabular MLP 100-512-256-128-1"], "sgd"
    raise Unsupported(f"no model for '{wl}'")


class _RowsOnly:
    """Lets DLRMv2.example build inputs without a built model (it needs only the table sizes)."""

    def __init__(self, rows: int):
        self.rows = tuple(min(r, rows) for r in recsys.CRITEO_ROWS)


def _model_bench(case: Case, device, cache: ModelCache) -> Bench:
    factory, inputs_fn, scale, notes, opt = _model_spec(case)
    dev = device.torch_device or "cpu"
    prec = case.precision
    dtype = DTYPES.get(prec, torch.float32) if case.mode == "inference" and prec != "int8" else torch.float32
    inputs = inputs_fn(case.batch_size, dev, dtype)
    build_prec = "fp32" if prec == "int8" else prec
    notes = list(notes)
    if case.backend.startswith("onnxruntime"):
        step = _onnx_step(case, device, cache, factory, inputs)
        model_bytes = cache.items.get(("onnx-bytes", prec), 0)
    else:
        model = cache.get(case, ("model", case.mode, build_prec), lambda: build(factory, dev, build_prec, case.mode))
        if prec == "int8":
            model = cache.get(case, ("model-int8",), lambda: quantize_int8(model, device))
            notes.append("int8: torch dynamic quantisation of Linear layers (convolutions stay fp32)")
        if case.backend == "torch-compile":
            model = cache.get(case, ("compiled", case.mode, prec), lambda: torch.compile(model))
        step = make_step(model, inputs, device, prec, case.mode, optimizer=opt)
        model_bytes = param_bytes(model)
    if case.mode == "training":
        per_param = 10 if opt == "adamw" else 8
        model_bytes = model_bytes * per_param
        optimiser = dict(adamw="AdamW", sgd="SGD momentum").get(opt, "SGD on sparse embedding gradients")
        notes.append(f"training step: forward, backward, {optimiser}"
                     + (f"; {prec} autocast with fp32 weights" if prec in ("bf16", "fp16") else ""))
    b = case.batch_size
    return Bench(step=step, units_per_step=b, unit="samples/s", scale=scale,
                 bytes_per_unit=(model_bytes * scale + tensor_bytes(inputs) * scale) / b if model_bytes else None,
                 notes=notes, seq_len=case.seq_len, count_flops=not case.backend.startswith("onnxruntime") and prec != "int8"
                 and case.backend != "torch-compile")


def _onnx_step(case: Case, device, cache: ModelCache, factory, inputs):
    """Export the fp32 model once (dynamic batch), quantise for int8, and run it in an ONNX Runtime session."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise Unsupported("onnxruntime is not installed") from exc
    if case.mode != "inference":
        raise Unsupported("ONNX Runtime is measured for inference only")
    ep = {"onnxruntime-cpu": "CPUExecutionProvider", "onnxruntime-cuda": "CUDAExecutionProvider",
          "onnxruntime-rocm": "ROCMExecutionProvider"}.get(case.backend) or device.details.get("execution_provider")
    flat = _flatten(inputs)
    names = [f"in{i}" for i in range(len(flat))]

    def export() -> bytes:
        key = ("model", "inference", "fp32") if (device.torch_device or "cpu") == "cpu" else ("model-export",)
        model = cache.get(case, key, lambda: build(factory, "cpu", "fp32", "inference"))
        cpu_inputs = tuple(_to_cpu(x) for x in inputs)
        buf = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(_Flat(model, inputs), tuple(_flatten(cpu_inputs)), buf, dynamo=False, input_names=names,
                              output_names=["out"], opset_version=17,
                              dynamic_axes={n: {0: "n"} for n in names})
        return buf.getvalue()

    onnx_bytes = cache.get(case, ("onnx", "fp32"), export)
    if case.precision == "int8":
        def quantise() -> bytes:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            with tempfile.TemporaryDirectory() as tmp:
                src, dst = os.path.join(tmp, "m.onnx"), os.path.join(tmp, "q.onnx")
                with open(src, "wb") as fh:
                    fh.write(onnx_bytes)
                quantize_dynamic(src, dst, weight_type=QuantType.QInt8)
                with open(dst, "rb") as fh:
                    return fh.read()

        logging.getLogger().setLevel(logging.ERROR)
        model_bytes = cache.get(case, ("onnx", "int8"), quantise)
    else:
        model_bytes = onnx_bytes
    cache.items[("onnx-bytes", case.precision)] = len(model_bytes)

    def session():
        so = ort.SessionOptions()
        so.log_severity_level = 3
        return ort.InferenceSession(model_bytes, sess_options=so, providers=[ep])
    sess = cache.get(case, ("session", case.precision, ep), session)
    feeds = {n: _to_cpu(x).numpy() for n, x in zip(names, flat)}
    return lambda: sess.run(None, feeds)


class _Flat(torch.nn.Module):
    """Wraps a model whose inputs include lists of tensors (DLRM) so ONNX export sees flat tensors."""

    def __init__(self, model, example):
        super().__init__()
        self.model = model
        self.layout = [len(x) if isinstance(x, (list, tuple)) else 0 for x in example]

    def forward(self, *flat):
        args, i = [], 0
        for n in self.layout:
            if n:
                args.append(list(flat[i:i + n]))
                i += n
            else:
                args.append(flat[i])
                i += 1
        return self.model(*args)


def _flatten(inputs) -> list:
    out = []
    for x in inputs:
        out += list(x) if isinstance(x, (list, tuple)) else [x]
    return out


def _to_cpu(x):
    return [t.cpu() for t in x] if isinstance(x, (list, tuple)) else x.cpu()


# ---- LLMs -------------------------------------------------------------------------------------------


def _llm_bench(case: Case, device, cache: ModelCache) -> Bench:
    cfg = transformer.LLMConfig(**LLM_ARCH[case.workload])
    dev = device.torch_device or "cpu"
    prec = case.precision
    dtype = DTYPES[prec]
    train = case.mode == "training"
    per_layer = _llm_layer_params(cfg) * (2 if dtype != torch.float32 else 4)
    cap = case.knob("layers", 1) or cfg.layers
    k = layers_that_fit(per_layer, cfg.layers, cap, device.memory_bytes, factor=5.0 if train else 1.3)
    model = cache.get(case, ("llm", case.mode, prec, k),
                      lambda: (cache.drop(("llm",)), build(lambda: transformer.DecoderStack(cfg, k), dev, prec, case.mode))[1])
    scale = cfg.layers / k
    notes = []
    if k < cfg.layers:
        notes.append(f"measured {k} of {cfg.layers} layers at true width (d_model {cfg.d_model}); "
                     f"time scaled by {cfg.layers}/{k}, throughput by {k}/{cfg.layers}")
    notes.append("decoder layers only: embedding lookup and LM head not included")
    b, s = case.batch_size, case.seq_len
    wbytes = param_bytes(model) * scale
    kv_per_token = 2 * cfg.n_kv_heads * cfg.head_dim * cfg.layers * torch.finfo(dtype).bits // 8
    if train:
        x = torch.randn(b, s, cfg.d_model, device=dev, dtype=torch.float32)
        step = make_step(model, (x,), device, prec, "training", optimizer="adamw")
        notes.append(f"training step on {s} tokens: forward, backward, AdamW" + (f"; {prec} autocast" if prec != "fp32" else ""))
        return Bench(step=step, units_per_step=b * s, unit="tokens/s", scale=scale, seq_len=s, notes=notes,
                     bytes_per_unit=wbytes * 10 / (b * s))
    if case.phase == "prefill":
        x = torch.randn(b, s, cfg.d_model, device=dev, dtype=dtype)
        caches = model.new_cache(b, s, dev, dtype)

        def prefill():
            with torch.inference_mode():
                return model(x, caches, 0)
        run = prefill
        if case.backend == "torch-compile":
            compiled = cache.get(case, ("compiled-prefill", prec, k), lambda: torch.compile(model))

            def run():
                with torch.inference_mode():
                    return compiled(x, caches, 0)
        notes.append(f"prefill of {s} tokens x batch {b} into the KV cache; latency is time to first token (layers only)")
        return Bench(step=run, units_per_step=b * s, unit="tokens/s", scale=scale, seq_len=s, notes=notes,
                     bytes_per_unit=(wbytes + kv_per_token * b * s) / (b * s), count_flops=case.backend == "torch-eager")
    # decode: one new token per sequence per step, attending to a KV cache that holds `s` context tokens and grows
    out_len = 128
    caches = model.new_cache(b, s + out_len, dev, dtype)
    x = torch.randn(b, 1, cfg.d_model, device=dev, dtype=dtype)
    state = {"pos": s}

    def decode():
        pos = state["pos"]
        with torch.inference_mode():
            y = model(x, caches, pos)
        state["pos"] = pos + 1 if pos + 1 < s + out_len else s
        return y
    notes.append(f"decode with a KV cache of {s} context tokens growing to {s + out_len}; "
                 f"latency is time per output token, throughput {b} sequence(s) x tokens/s")
    return Bench(step=decode, units_per_step=b, unit="tokens/s", scale=scale, seq_len=s, notes=notes,
                 bytes_per_unit=(wbytes + kv_per_token * b * (s + out_len / 2)) / b)


def _llm_layer_params(cfg) -> int:
    d, hd = cfg.d_model, cfg.head_dim
    attn = d * cfg.n_heads * hd * 2 + d * cfg.n_kv_heads * hd * 2
    mlp = (2 if cfg.style == "gptj" else 3) * d * cfg.ffn * max(1, cfg.experts)
    return attn + mlp


# ---- micro-benchmarks -------------------------------------------------------------------------------


def _micro_bench(case: Case, device, cache: ModelCache, budget) -> Bench:
    if case.workload == "gemm":
        return micro.gemm(case.seq_len, device, case.precision)
    if case.workload == "membw":
        return micro.membw(case.seq_len, device)
    if case.workload == "allreduce":
        if device.backend == "cuda":
            import torch as _t

            world = _t.cuda.device_count()
            if world < 2:
                raise Unsupported("all-reduce needs 2 or more GPUs; this machine has 1")
            dtype, count, label = "cuda", world, "nccl"
        elif device.kind == "cpu" and device.torch_device == "cpu":
            world, dtype, count, label = 2, "cpu", 1, "gloo"
        else:
            raise Unsupported(f"all-reduce is measured on CPU (gloo) and NVIDIA GPUs (nccl), not {device.backend}")
        sizes = sorted(cache.context.get("allreduce_sizes") or [case.seq_len])
        reps = max(budget.min_reps, min(20, budget.max_reps))
        results = cache.get(case, ("allreduce", tuple(sizes)),
                            lambda: micro.run_allreduce(sizes, world, dtype, reps=reps, warmup=budget.warmup + 1))
        if case.seq_len not in results:
            results = micro.run_allreduce([case.seq_len], world, dtype, reps=reps, warmup=budget.warmup + 1)
        bench = micro.allreduce_bench(case.seq_len, results[case.seq_len], world, label, count)
        if dtype == "cpu":
            bench.notes.append(f"{world} processes share this CPU (1 thread each); measures the gloo path, not a network")
        return bench
    raise Unsupported(f"no micro-benchmark '{case.workload}'")


def make_bench(case: Case, device, cache: ModelCache, budget) -> Bench:
    if device.torch_device is None and not case.backend.startswith("onnxruntime"):
        raise Unsupported(f"{device.id} is reachable only through ONNX Runtime")
    if case.workload in LLM_WORKLOADS:
        if device.torch_device is None:
            raise Unsupported("LLM prefill/decode with a KV cache is measured through torch only")
        return _llm_bench(case, device, cache)
    if case.workload in ("gemm", "membw", "allreduce"):
        if device.torch_device is None:
            raise Unsupported("micro-benchmarks are measured through torch only")
        return _micro_bench(case, device, cache, budget)
    return _model_bench(case, device, cache)
