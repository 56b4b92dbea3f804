"""The runner on real (tiny) torch workloads into a real SQLite store and CSV: rows validate, failures are rows."""

from __future__ import annotations

import pandas as pd
import pytest

from hwplan.core.schema import validate_measurements
from hwplan.profiler.backends.base import DeviceInfo
from hwplan.profiler.devices import detect_devices
from hwplan.profiler.runner import Runner, RunSummary
from hwplan.profiler.sinks import CsvSink, StoreSink, row_key
from hwplan.profiler.suite import Case, plan_cases
from hwplan.profiler.timing import Budget

TINY = Budget(warmup=1, min_reps=3, max_reps=5, min_time_s=0.0, max_time_s=0.2, target_cov=0.5)


@pytest.fixture(scope="module")
def cpu():
    return detect_devices()[0]


def _run(cases, device, tmp_path, **kw):
    csv_sink = CsvSink(tmp_path / "rows.csv").open()
    store_sink = StoreSink(f"sqlite:///{tmp_path / 'p.db'}").open()
    runner = Runner("run-t", [csv_sink, store_sink], source_ref="test", budget=TINY, **kw)
    summary = runner.run(cases, device, RunSummary("run-t"), budget=TINY)
    return summary, csv_sink, store_sink


def test_rows_validate_and_reach_both_sinks(cpu, tmp_path):
    cases = [
        Case("fraud-mlp", "inference", "", "fp32", 4, None, "torch-eager"),
        Case("fraud-mlp", "inference", "", "fp32", 4, None, "onnxruntime-cpu"),
        Case("fraud-mlp", "training", "step", "fp32", 4, None, "torch-eager"),
        Case("gemm", "inference", "", "fp32", 1, 64, "torch-eager"),
        Case("llama3.1-8b", "inference", "decode", "fp32", 1, 8, "torch-eager", (("layers", 1),)),
    ]
    cases = [c for c in cases if c.workload != "llama3.1-8b"]  # a true-width layer is too big for a unit test
    summary, csv_sink, store_sink = _run(cases, cpu, tmp_path)
    assert summary.ok == len(cases) and summary.failed == 0
    df = csv_sink.rows()
    clean, problems = validate_measurements(df)
    assert problems == []
    assert len(store_sink.store.measurements(run_id="run-t")) == len(cases)
    ok = clean[clean["status"] == "ok"]
    assert ok["throughput"].notna().all() and ok["cov"].notna().all() and ok["repetitions"].ge(1).all()
    assert set(ok["energy_method"]) <= {"none", "estimated-tdp"}  # no sensor here: never claims a measurement
    mlp = clean[(clean["workload"] == "fraud-mlp") & (clean["mode"] == "inference")]
    assert mlp["notes"].str.startswith("fastest-backend").sum() == 1
    assert mlp["flops_per_unit"].dropna().iloc[0] == 2 * (100 * 512 + 512 * 256 + 256 * 128 + 128)
    train = clean[clean["mode"] == "training"].iloc[0]
    # forward F, backward 2F, less the input gradient of the first layer (the data needs none)
    assert train["phase"] == "step" and train["flops_per_unit"] == 3 * mlp["flops_per_unit"].iloc[0] - 2 * 100 * 512
    gemm = clean[clean["workload"] == "gemm"].iloc[0]
    assert gemm["throughput_unit"] == "flop/s" and gemm["seq_len"] == 64
    assert (clean["host"] != "").all() and (clean["device"] == (cpu.catalog_id or "unknown")).all()


def test_a_failing_workload_is_recorded_and_the_suite_goes_on(cpu, tmp_path):
    onnx_only = DeviceInfo(id="onnxrt:X", name="X device", kind="asic", backend="onnxrt", torch_device=None,
                           details={"row_backend": "onnxruntime-x"})
    cases = [
        Case("3d-unet", "inference", "", "fp32", 1, None, "torch-eager", (("vox", 16),)),  # too small for 5 poolings
        Case("gemm", "inference", "", "fp32", 1, 32, "torch-eager"),
    ]
    _summary, csv_sink, _ = _run(cases, cpu, tmp_path)
    rows = csv_sink.rows()
    assert list(rows["status"]) == ["failed", "ok"]
    assert "spatial element" in rows["error"].iloc[0]
    skipped, _, _ = _run([Case("llama3.1-8b", "inference", "decode", "fp32", 1, 8, "torch-eager")], onnx_only,
                         tmp_path / "s")
    assert skipped.skipped == 1 and "ONNX Runtime" in skipped.rows[0]["error"]
    assert validate_measurements(pd.DataFrame(skipped.rows))[1] == []


def test_time_limit_fails_the_rest_of_the_workload(cpu, tmp_path):
    cases = [Case("gemm", "inference", "", "fp32", 1, n, "torch-eager") for n in (32, 48)]
    summary, csv_sink, _ = _run(cases, cpu, tmp_path, time_limit_s=0.0)
    rows = csv_sink.rows()
    assert summary.failed == 2 and rows["error"].str.startswith("time limit").all()


def test_resume_keys_skip_what_is_done(cpu, tmp_path):
    cases = [Case("gemm", "inference", "", "fp32", 1, n, "torch-eager") for n in (32, 48)]
    _, csv_sink, store_sink = _run(cases[:1], cpu, tmp_path)
    done = csv_sink.done_keys("run-t")
    assert done == store_sink.done_keys("run-t") and len(done) == 1
    runner = Runner("run-t", [csv_sink, store_sink], budget=TINY, done_keys=done)
    summary = runner.run(cases, cpu, budget=TINY)
    assert summary.resumed_skips == 1 and summary.ok == 1
    assert len(csv_sink.rows()) == 2 and len(store_sink.store.measurements(run_id="run-t")) == 2
    assert {row_key(r) for r in csv_sink.rows().to_dict("records")} == csv_sink.done_keys("run-t")


def test_suites_cover_every_workload(cpu):
    for suite in ("quick", "full"):
        cases = plan_cases(suite, cpu)
        assert {c.workload for c in cases} == {"resnet50", "retinanet", "bert-large", "dlrm-v2", "3d-unet", "fraud-mlp",
                                               "gpt-j", "llama2-70b", "llama3.1-8b", "mixtral-8x7b", "gemm", "membw",
                                               "allreduce"}
    quick = plan_cases("quick", cpu)
    assert {c.precision for c in quick} == {"fp32"} and {c.backend for c in quick} <= {"torch-eager", "torch-distributed"}
    llm = [c for c in quick if c.workload == "llama2-70b"]
    assert {c.phase for c in llm} == {"prefill", "decode"}
    full = plan_cases("full", cpu)
    assert len({c.batch_size for c in full if c.workload == "resnet50"}) > 1
    assert any(c.mode == "training" for c in full)


def test_allreduce_workers_find_this_package_after_onnx_quantisation(monkeypatch):
    """Spawned ranks import hwplan from where the parent found it, with the repository taken off sys.path and
    onnxruntime.quantization's folders put on it (as when started from the `hwplan` console script)."""
    import sys

    pytest.importorskip("onnxruntime.quantization")
    from pathlib import Path

    from hwplan.profiler.workloads.micro import bus_bandwidth, run_allreduce

    repo = str(Path(__file__).resolve().parents[2])
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", repo, ".")])
    timings = run_allreduce([4096], world=2, reps=3, warmup=1, timeout_s=60)
    assert timings[4096].repetitions == 3
    assert bus_bandwidth(1000, 1.0, 2) == 1000.0


def test_a_cpu_run_leaves_denormals_as_they_were(cpu, tmp_path):
    """The runner flushes denormals to zero while it times (they make CPU timings meaningless) and puts the
    process back afterwards: hypothesis, numpy and anything else computing later see IEEE-754 floats."""
    import numpy as np

    _run([Case("gemm", "inference", "", "fp32", 1, 64, "torch-eager")], cpu, tmp_path)
    assert (np.array([5e-324]) * 1.0)[0] > 0
