"""Cost arithmetic checked against numbers worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hwplan.costmodel.assumptions import DEFAULT_SOURCES, Assumptions
from hwplan.costmodel.cost import costs, prices


def test_hand_worked_costs():
    """8 devices in one 8-device node (no network), no facility or maintenance: the device and host terms alone."""
    a = Assumptions(electricity_usd_per_kwh=0.10, pue=1.5, utilisation=0.5, carbon_kg_per_kwh=0.4, life_years=4,
                    hours_per_month=730, host_usd_per_node=40000, network_usd_per_node=30000, facility_usd_per_kw=0,
                    maintenance_fraction=0)
    # 8 devices, 1,000 samples/s, 4,000 W at load, 800 W idle, $20,000 each, $2/device-hour
    c = costs(8, 1000.0, 4000.0, 800.0, 20000.0, 2.0, a, per_node=8)
    assert c["usd_per_hour_cloud"] == pytest.approx(16.0)
    # month energy: (0.5 x 4 + 0.5 x 0.8) kW x 730 h x 1.5 = 2628 kWh, $262.80
    assert c["energy_kwh_per_month"] == pytest.approx(2628.0)
    # owned per month: (160,000 devices + 40,000 host) / 48 months + 262.8 energy
    assert c["usd_per_month_owned"] == pytest.approx(200000 / 48 + 262.8)
    assert c["capex_usd_network"] == 0.0 and c["nodes"] == 1
    # per busy hour: the month over its 365 busy hours (utilisation 0.5), for cloud and owned alike
    assert c["usd_per_hour_owned"] == pytest.approx((200000 / 48 + 262.8) / 365)
    assert c["usd_per_million_cloud"] == pytest.approx(16 * 730 / 365 / 3.6)
    assert c["usd_per_month_cloud"] == pytest.approx(16 * 730)
    assert c["co2_kg_per_month"] == pytest.approx(2628 * 0.4)
    assert c["energy_per_unit_j"] == pytest.approx(4.0)
    # CO2 per million: 4 kW x 1.5 = 6 kWh per hour for 3.6M samples -> 6/3.6 kWh per million x 0.4
    assert c["co2_kg_per_million_units"] == pytest.approx(6 / 3.6 * 0.4)


def test_whole_system_tco_terms_by_hand():
    """16 devices = 2 nodes of 8: hosts, the scale-out network, the facility and maintenance, each by hand."""
    a = Assumptions(electricity_usd_per_kwh=0.10, pue=1.25, utilisation=1.0, carbon_kg_per_kwh=0.5, life_years=5,
                    hours_per_month=730, host_usd_per_node=50000, network_usd_per_node=30000,
                    facility_usd_per_kw=10000, facility_life_years=10, maintenance_fraction=0.1)
    c = costs(16, 2000.0, 10000.0, 2000.0, 25000.0, 4.0, a, per_node=8)
    assert c["nodes"] == 2
    assert c["capex_usd_devices"] == pytest.approx(400000)
    assert c["capex_usd_hosts"] == pytest.approx(100000)          # 2 nodes x 50,000
    assert c["capex_usd_network"] == pytest.approx(60000)         # 2 nodes x 30,000 (more than one node)
    assert c["capex_usd_facility"] == pytest.approx(100000)       # 10 kW x 10,000 per kW
    assert c["owned_usd_month_devices"] == pytest.approx(400000 / 60)
    assert c["owned_usd_month_hosts"] == pytest.approx(100000 / 60)
    assert c["owned_usd_month_network"] == pytest.approx(60000 / 60)
    assert c["owned_usd_month_facility"] == pytest.approx(100000 / 120)
    assert c["owned_usd_month_maintenance"] == pytest.approx(0.1 * 560000 / 12)
    # energy at full use: 10 kW x 730 h x 1.25 = 9,125 kWh, $912.50
    assert c["owned_usd_month_energy"] == pytest.approx(912.5)
    total = 400000 / 60 + 100000 / 60 + 1000 + 100000 / 120 + 0.1 * 560000 / 12 + 912.5
    assert c["usd_per_month_owned"] == pytest.approx(total)
    # break-even: all capex (660,000) over the monthly gap between renting (16 x 4 x 730) and running owned
    assert c["breakeven_months"] == pytest.approx(660000 / (16 * 4 * 730 - (0.1 * 560000 / 12 + 912.5)))
    # a node of 4 pays half an 8-device host; one node needs no fabric
    c4 = costs(4, 1.0, 1000.0, 100.0, 1.0, 1.0, a, per_node=4)
    assert c4["capex_usd_hosts"] == pytest.approx(25000) and c4["capex_usd_network"] == 0
    # a CPU setup is its own server: no host on top
    cpu = costs(2, 1.0, 500.0, 100.0, 10000.0, 1.0, a, per_node=2, kind="cpu")
    assert cpu["capex_usd_hosts"] == 0


def test_renting_that_is_cheaper_to_run_never_breaks_even():
    a = Assumptions(carbon_kg_per_kwh=0.4)
    c = costs(1, 100.0, 1000.0, 100.0, 10000.0, 0.01, a, per_node=1)
    assert np.isnan(c["breakeven_months"])


def test_carbon_follows_the_region_unless_given():
    assert Assumptions(region="country:FR").carbon_intensity() == pytest.approx(0.04418)
    assert Assumptions(region="country:FR", carbon_kg_per_kwh=0.3).carbon_intensity() == 0.3
    with pytest.raises(ValidationError, match="did you mean"):
        Assumptions(region="gcp:us-centrl1")


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
    from hwplan.core.prices import device_prices
    from hwplan.costmodel.api import predict

    a = Assumptions()
    e = predict(model, "resnet50", "nvidia-h100-sxm", count=8, assumptions=a)
    rule = device_prices()["nvidia-h100-sxm"]
    assert e.usd_per_hour_cloud == pytest.approx(8 * rule.usd_per_device_hour)
    assert rule.instance_type in e.price_basis and e.price_stale is False
    busy = a.hours_per_month * a.utilisation
    assert e.usd_per_million_units_cloud == pytest.approx(e.usd_per_month_cloud / busy / (e.throughput * 3600) * 1e6)
    a2 = Assumptions(price_overrides={"nvidia-h100-sxm": {"price_usd": 30000}}, facility_usd_per_kw=0,
                     maintenance_fraction=0, host_usd_per_node=0)
    e2 = predict(model, "resnet50", "nvidia-h100-sxm", count=8, assumptions=a2)
    assert e2.tco["owned_usd_per_month"]["devices"] == pytest.approx(8 * 30000 / (12 * 5))
    assert e2.usd_per_month_owned == pytest.approx(sum(e2.tco["owned_usd_per_month"].values()))
    assert e2.tco["owned_usd_per_month"]["energy"] == pytest.approx(e2.energy_kwh_per_month * a2.electricity_usd_per_kwh)


@given(bad=st.one_of(st.floats(max_value=-1e-9, allow_nan=False), st.just(float("nan")), st.just(float("inf")),
                     st.sampled_from(["abc", "", "1,5", None, [1.0]])),
       field=st.sampled_from(["price_usd", "cloud_usd_per_hour"]))
@settings(max_examples=40, deadline=None)
def test_a_negative_or_non_numeric_override_is_refused_naming_it(bad, field):
    with pytest.raises(ValidationError) as err:
        Assumptions(price_overrides={"nvidia-h100-sxm": {field: bad}})
    text = str(err.value)
    assert "price_overrides" in text and ("nvidia-h100-sxm" in text or field in text)


def test_energy_has_an_interval_from_throughput_and_the_power_fit(model):
    from hwplan.costmodel.api import predict
    from hwplan.costmodel.cost import power_band

    e = predict(model, "resnet50", "nvidia-h100-sxm", count=8)
    band = power_band(model.power_)
    assert band > 1
    assert e.energy_per_unit_low_j == pytest.approx(e.power_w / band / e.high)
    assert e.energy_per_unit_high_j == pytest.approx(e.power_w * band / e.low)
    assert e.energy_per_unit_low_j < e.energy_per_unit_j < e.energy_per_unit_high_j
    assert e.device_power_w is not None and 0 < e.device_power_w < e.power_w
