"""Cost arithmetic checked against numbers worked by hand."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hwplan.costmodel.assumptions import DEFAULT_SOURCES, Assumptions
from hwplan.costmodel.cost import costs, prices


def test_hand_worked_costs():
    a = Assumptions(electricity_usd_per_kwh=0.10, pue=1.5, utilisation=0.5, carbon_kg_per_kwh=0.4, life_years=4,
                    hours_per_month=730)
    # 8 devices, 1,000 samples/s, 4,000 W at load, 800 W idle, $20,000 each, $2/device-hour
    c = costs(8, 1000.0, 4000.0, 800.0, 20000.0, 2.0, a)
    assert c["usd_per_hour_cloud"] == pytest.approx(16.0)
    # capex per busy hour: 8 x 20000 / (4 x 8760 x 0.5) = 9.1324; energy: 4 kW x 1.5 x 0.10 = 0.60
    assert c["usd_per_hour_owned"] == pytest.approx(160000 / 17520 + 0.6)
    # per million samples: 16 / 3.6e6 x 1e6 = 4.444
    assert c["usd_per_million_cloud"] == pytest.approx(16 / 3.6)
    assert c["usd_per_month_cloud"] == pytest.approx(16 * 730)
    # month energy: (0.5 x 4 + 0.5 x 0.8) kW x 730 h x 1.5 = 2628 kWh
    assert c["energy_kwh_per_month"] == pytest.approx(2628.0)
    assert c["usd_per_month_owned"] == pytest.approx(160000 / 48 + 262.8)
    assert c["co2_kg_per_month"] == pytest.approx(2628 * 0.4)
    assert c["energy_per_unit_j"] == pytest.approx(4.0)
    # CO2 per million: 4 kW x 1.5 = 6 kWh per hour for 3.6M samples -> 6/3.6 kWh per million x 0.4
    assert c["co2_kg_per_million_units"] == pytest.approx(6 / 3.6 * 0.4)


def test_unknown_price_gives_nan_not_zero():
    import math

    c = costs(1, 100.0, 300.0, 50.0, float("nan"), float("nan"), Assumptions())
    assert math.isnan(c["usd_per_hour_cloud"]) and math.isnan(c["usd_per_month_owned"])


def test_price_overrides_apply_without_touching_the_catalog():
    a = Assumptions(price_overrides={"b": {"cloud_usd_per_hour": 3.5}})
    price, cloud = prices(["a", "b"], [1.0, 2.0], [float("nan"), 1.0], a)
    assert list(cloud)[1] == 3.5 and list(price) == [1.0, 2.0]


def test_every_default_has_a_source():
    a = Assumptions()
    rows = a.defaults_table()
    for r in rows:
        assert r["source"], r["field"]
    assert a.hours_per_month == 730
    assert set(DEFAULT_SOURCES) >= {r["field"] for r in rows}


def test_assumptions_reject_nonsense():
    with pytest.raises(ValidationError):
        Assumptions(pue=0.5)
    with pytest.raises(ValidationError):
        Assumptions(price_overrides={"x": {"colour": 1.0}})


def test_estimate_costs_match_the_arithmetic(model):
    from hwplan.costmodel.api import predict

    a = Assumptions()
    e = predict(model, "resnet50", "nvidia-h100-sxm", count=8, assumptions=a)
    assert e.usd_per_hour_cloud == pytest.approx(8 * 4.20076)
    assert e.usd_per_million_units_cloud == pytest.approx(e.usd_per_hour_cloud / (e.throughput * 3600) * 1e6)
    a2 = Assumptions(price_overrides={"nvidia-h100-sxm": {"price_usd": 30000}})
    e2 = predict(model, "resnet50", "nvidia-h100-sxm", count=8, assumptions=a2)
    assert e2.usd_per_hour_owned == pytest.approx(8 * 30000 / (4 * 8760 * 0.6) + e2.power_w / 1000 * 1.56 * 0.13)
