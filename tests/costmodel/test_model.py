"""Memory fit, scaling and parallel efficiency, precision choice, basis and intervals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwplan.core.errors import HwplanError, UnknownIdError
from hwplan.costmodel.api import predict, predict_curve, scaling_curve, supported_precisions


def test_llama2_70b_bf16_does_not_fit_one_80gb_device(model):
    one = predict(model, "llama2-70b", "nvidia-h100-sxm", count=1, precision="bf16")
    assert not one.fits and one.throughput == 0
    assert one.min_devices == 2  # 69B x 2 bytes = 138 GB > 0.9 x 80 GB
    assert one.memory_gb_required > 138
    two = predict(model, "llama2-70b", "nvidia-h100-sxm", count=2, precision="bf16")
    assert two.fits and two.throughput > 0 and two.devices_per_replica >= 2


def test_llama2_70b_fits_one_141gb_device_at_fp8(model):
    e = predict(model, "llama2-70b", "nvidia-h200-sxm", count=1, precision="fp8")
    # HBM sizes are binary: the H200's "141 GB" is 141 GiB = 151.4e9 bytes (hwplan.costmodel.serving)
    assert e.fits and e.min_devices == 1 and e.memory_gb_required <= 141 * 2 ** 30 / 1e9
    assert e.weights_gb == pytest.approx(68.976648192) and e.kv_cache_gb > 0


def test_mixtral_memory_follows_total_params_and_flops_active(model):
    e = predict(model, "mixtral-8x7b", "nvidia-h100-sxm", count=1, precision="bf16")
    assert e.min_devices == 2  # 46.7B x 2 bytes = 93 GB: by total parameters
    wl = model.wl_
    i = model.workload_index("mixtral-8x7b")
    assert wl["flops"][i] == pytest.approx(2 * 12_879_925_248)


def test_data_parallel_offline_scales_linearly(model):
    sc = scaling_curve(model, "resnet50", "nvidia-h100-sxm", [1, 2, 8, 64], precision="int8")
    assert np.allclose(sc["parallel_efficiency"], 1.0)
    assert sc["throughput"].iloc[3] == pytest.approx(64 * sc["throughput"].iloc[0])


def test_llm_scaling_grows_with_count_and_efficiency_needs_a_one_device_baseline(model):
    # 70B at bf16 (138 GB) does not fit one 80 GB H100: no one-device baseline, so no parallel efficiency
    sc = scaling_curve(model, "llama2-70b", "nvidia-h100-sxm", [2, 4, 8, 16], precision="bf16")
    assert sc["parallel_efficiency"].isna().all() and (np.diff(sc["throughput"]) > 0).all()
    # at fp8 it fits one: more devices hold more KV cache, so a device can do better in a group than alone
    # (memory-bound batches), but never better than its share of the physical ceiling
    sc8 = scaling_curve(model, "llama2-70b", "nvidia-h100-sxm", [1, 2, 8], precision="fp8")
    assert (sc8["parallel_efficiency"] > 0.5).all() and (np.diff(sc8["throughput"]) > 0).all()


def test_decode_is_memory_bound_at_small_batch_and_compute_bound_at_large(model):
    small = predict(model, "llama3.1-8b", "nvidia-h100-sxm", precision="bf16", batch=1, phase="decode")
    large = predict(model, "llama3.1-8b", "nvidia-h100-sxm", precision="bf16", batch=128, phase="decode")
    prefill = predict(model, "llama3.1-8b", "nvidia-h100-sxm", precision="bf16", batch=1, phase="prefill")
    assert small.bound == "memory"
    assert prefill.bound == "compute"
    # batch 1 streams all 16 GB of weights per token: at most bandwidth / weights, and not far below it
    assert 0.2 * 3350e9 / 16.06e9 < small.throughput <= 3350e9 / 16.06e9
    assert large.throughput > 20 * small.throughput
    assert large.fits and large.memory_gb_required > 16.06 + 128 * 0.2  # KV cache grows with the batch


def test_auto_picks_fastest_allowed_precision(model):
    e = predict(model, "gpt-j", "nvidia-a100-sxm-80gb")  # A100: no fp8; gpt-j's floor is fp8, so int8 is not allowed
    assert e.precision in ("bf16", "fp16")
    assert "int8" not in supported_precisions(model, "gpt-j", "nvidia-a100-sxm-80gb")
    e = predict(model, "resnet50", "nvidia-h100-sxm")
    curve = predict_curve(model, "resnet50", "nvidia-h100-sxm", batches=[e.batch_size])
    assert e.throughput == pytest.approx(curve["throughput"].max())


def test_unsupported_precision_says_what_is_supported(model):
    with pytest.raises(HwplanError, match="supported"):
        predict(model, "resnet50", "nvidia-a100-sxm-80gb", precision="fp8")


def test_unknown_ids_suggest_the_closest(model):
    with pytest.raises(UnknownIdError) as err:
        predict(model, "resnet50", "h100")
    assert "nvidia-h100-sxm" in err.value.suggestions or "nvidia-h100-pcie" in err.value.suggestions


def test_basis_measured_calibrated_roofline(model):
    assert predict(model, "resnet50", "nvidia-h100-sxm").basis == "measured"
    assert predict(model, "resnet50", "amd-mi300x").basis == "calibrated"
    # LLM serving: a device with LLM serving rows (gpt-j in MLPerf v3.1) is calibrated for other LLMs; a vendor
    # and kind with none is on the roofline basis
    assert predict(model, "llama3.1-8b", "nvidia-h100-sxm").basis == "calibrated"
    assert predict(model, "llama3.1-8b", "amd-mi300x").basis == "roofline"


def test_interval_brackets_the_estimate_and_widens_with_less_basis(model):
    m = predict(model, "resnet50", "nvidia-h100-sxm")
    r = predict(model, "llama3.1-8b", "nvidia-h100-sxm")
    for e in (m, r):
        assert e.low <= e.throughput <= e.high
    assert (r.high / r.low) >= (m.high / m.low)


def test_measured_prediction_is_close_to_the_rows(model, measurements):
    rows = measurements[(measurements["workload"] == "resnet50") & (measurements["device"] == "nvidia-h100-sxm")
                        & (measurements["scenario"] == "offline")]
    per_dev = (rows["throughput"].astype(float) / rows["device_count"].astype(float)).median()
    e = predict(model, "resnet50", "nvidia-h100-sxm", count=1)
    assert e.throughput == pytest.approx(per_dev, rel=0.35)


def test_energy_per_unit_is_power_over_throughput(model):
    e = predict(model, "bert-large", "nvidia-l4", count=4)
    assert e.energy_per_unit_j == pytest.approx(e.power_w / e.throughput)
    assert e.power_w > 0


@settings(max_examples=40, deadline=None)
@given(workload=st.sampled_from(["resnet50", "bert-large", "llama2-70b", "gpt-j", "mixtral-8x7b"]),
       device=st.sampled_from(["nvidia-h100-sxm", "nvidia-l4", "amd-mi300x", "google-tpu-v6e", "intel-gaudi2"]),
       counts=st.lists(st.integers(1, 1024), min_size=2, max_size=6))
def test_throughput_monotone_in_count_and_costs_non_negative(model, workload, device, counts):
    counts = sorted(counts)
    sc = scaling_curve(model, workload, device, counts)
    assert (np.diff(sc["throughput"]) >= -1e-9 * sc["throughput"].max()).all()
    e = predict(model, workload, device, count=counts[-1])
    for v in (e.power_w, e.usd_per_hour_cloud, e.usd_per_hour_owned, e.energy_per_unit_j, e.co2_kg_per_million_units):
        assert v is None or v >= 0
