"""The wall-power model (hwplan.costmodel.power): the formula by hand, MaxQ rows, device vs wall power, JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hwplan.costmodel import power
from hwplan.costmodel.performance import PerformanceModel


def test_formula_by_hand():
    # 16 devices on 2 nodes of 8: host 1,000 W per node at full load, idle half; device idle 100, board 700, gamma 1
    wall, dev, idle = power.system_power(1.0, 0.5, 700.0, 100.0, 0.5, 16, 2, 1000.0)
    host = 2 * 1000 * (0.5 + 0.5 * 0.5)                     # 1,500 W
    devices = 16 * (100 + (700 - 100) * 0.5)                # 6,400 W
    assert dev == pytest.approx(devices)
    assert wall == pytest.approx(host + devices)            # 7,900 W
    assert idle == pytest.approx(16 * 100 + 2 * 1000 * 0.5)
    # a MaxQ operating point: cap 0.6 x board
    wall_c, dev_c, _ = power.system_power(1.0, 0.5, 700.0, 100.0, 1.0, 8, 1, 1000.0, cap_frac=0.6)
    assert dev_c == pytest.approx(8 * 420.0)
    assert wall_c == pytest.approx(8 * 420.0 + 1000.0)


def test_maxq_rows_are_recognised():
    runs = ["mlperf-inference-v3.1:NVIDIA/DGX-H100_H100-SXM-80GBx8_TRT_MaxQ", "mlperf-inference-v3.0:Dell/r7515_q4",
            "mlperf-inference-v3.0:Qualcomm/g292_z43_q16e", "x"]
    notes = ["", "Dell PowerEdge R7515 (4x QAIC100 Pro)", "GIGABYTE G292-Z43 (16x QAIC100 Pro, EE)", "MaxQ submission"]
    assert power.capped(runs, notes).tolist() == [True, False, True, True]
    assert power.host_cores(["host=AMD EPYC 7742 64-Core Processor x2; x", "none"])[0] == 128
    assert power.row_nodes(["nodes=1", ""], [18, 18], [16, 16]).tolist() == [1, 2]


@pytest.fixture(scope="module")
def fitted(measurements):
    return PerformanceModel(llm_intervals=False, training_rows=pd.DataFrame()).fit(measurements)


def test_maxq_rows_get_the_capped_operating_point(fitted):
    from hwplan.costmodel.performance import power_rows
    from hwplan.costmodel.rows import training_rows
    from hwplan.costmodel.validate import _power_prediction

    st = fitted.power_
    assert 0.3 < st["cap_frac"]["gpu"] < 1.0
    rows = power_rows(training_rows(fitted_measurements(fitted), fitted.devices_, fitted.wl_))
    pred = _power_prediction(fitted, rows)
    maxq = rows["run_id"].astype(str).str.contains("MaxQ").to_numpy()
    assert maxq.any()
    assert np.allclose(pred["cap_frac"][maxq], st["cap_frac"]["gpu"])
    assert (pred.loc[~maxq & ~pred["capped"], "cap_frac"] == 1.0).all()
    assert (pred["device_pred"] <= pred["pred"]).all()


def fitted_measurements(_model):
    from hwplan.core import paths
    from hwplan.core.tableio import load_file

    return load_file(paths.PUBLISHED_CSV.name, path=paths.PUBLISHED_CSV, max_bytes=1 << 30).rows


def test_device_power_at_most_wall_power(model):
    from hwplan.costmodel.api import predict

    e = predict(model, "resnet50", "nvidia-h100-sxm", count=16)
    assert e.power_scope == "system"
    assert 0 < e.device_power_w <= e.power_w
    assert "wall power" in e.power_basis
    # 16 H100 SXM on 2 nodes: the host share is the reference DGX host figure times the fitted fraction
    st = model.power_
    assert e.power_w - e.device_power_w <= 2 * st["host_ref_w"]["nvidia-h100-sxm"] * st["host_ref_frac"] + 1e-6


def test_power_state_json_round_trip(fitted):
    state = json.loads(json.dumps(fitted.to_dict()))
    m = PerformanceModel.from_dict(state)
    assert m.power_ == fitted.power_
    d, w = m.device_index("nvidia-a100-pcie-80gb"), m.workload_index("resnet50")
    from hwplan.core.vocab import PRECISIONS

    p = PRECISIONS.index("int8")
    a = fitted.evaluate(w, d, p, 64, 8, 0)
    b = m.evaluate(w, d, p, 64, 8, 0)
    assert float(a.power_w) == pytest.approx(float(b.power_w))
    assert float(b.device_power_w) < float(b.power_w)
