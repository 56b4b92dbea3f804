"""Cost, energy and CO2 arithmetic (vectorised; every input is an argument or an Assumptions field).

Definitions (per setup of n devices at throughput X units/s, power P W at load, P_idle W idle):
- cloud USD/h            = n x cloud price per device-hour
- owned USD/h (busy hour) = n x price / (life_years x 8760 x utilisation) + P/1000 x PUE x electricity
- USD per million units  = USD/h / (X x 3600) x 1e6            (cloud and owned)
- energy per unit (J)    = P / X                                (device + host; PUE not included)
- month energy (kWh)     = (u P + (1 - u) P_idle) / 1000 x hours_per_month x PUE
- cloud USD/month        = cloud USD/h x hours_per_month
- owned USD/month        = n x price / (12 x life_years) + month energy x electricity
- CO2 per million units  = P x PUE / 1000 / (X x 3600) x 1e6 x carbon;  CO2/month = month energy x carbon
"""

from __future__ import annotations

import numpy as np

from hwplan.costmodel.assumptions import Assumptions

HOURS_PER_YEAR = 8760.0


def prices(devices: list[str], price_usd, cloud_usd_per_hour, assumptions: Assumptions) -> tuple[np.ndarray, np.ndarray]:
    """(purchase price, cloud price per device-hour) per device, overrides applied; NaN = unknown."""
    price = np.array(price_usd, dtype=float)
    cloud = np.array(cloud_usd_per_hour, dtype=float)
    if assumptions.price_overrides:
        index = {d: i for i, d in enumerate(devices)}
        for dev, fields in assumptions.price_overrides.items():
            if dev in index:
                if "price_usd" in fields:
                    price[index[dev]] = float(fields["price_usd"])
                if "cloud_usd_per_hour" in fields:
                    cloud[index[dev]] = float(fields["cloud_usd_per_hour"])
    return price, cloud


def costs(n, throughput, power_w, idle_w, price_usd, cloud_usd_per_hour, a: Assumptions) -> dict:
    """All cost, energy and CO2 figures for setups (arrays broadcast together)."""
    n = np.asarray(n, dtype=float)
    X = np.asarray(throughput, dtype=float)
    P = np.asarray(power_w, dtype=float)
    Pi = np.asarray(idle_w, dtype=float)
    price = np.asarray(price_usd, dtype=float)
    cloud = np.asarray(cloud_usd_per_hour, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        units_per_hour = np.where(X > 0, X * 3600.0, np.nan)
        cloud_h = n * cloud
        capex_h_busy = n * price / (a.life_years * HOURS_PER_YEAR * a.utilisation)
        energy_h = P / 1000.0 * a.pue * a.electricity_usd_per_kwh
        owned_h = capex_h_busy + energy_h
        month_kwh = (a.utilisation * P + (1 - a.utilisation) * Pi) / 1000.0 * a.hours_per_month * a.pue
        out = {
            "usd_per_hour_cloud": cloud_h,
            "usd_per_hour_owned": owned_h,
            "usd_per_million_cloud": cloud_h / units_per_hour * 1e6,
            "usd_per_million_owned": owned_h / units_per_hour * 1e6,
            "usd_per_month_cloud": cloud_h * a.hours_per_month,
            "usd_per_month_owned": n * price / (12.0 * a.life_years) + month_kwh * a.electricity_usd_per_kwh,
            "energy_per_unit_j": P / X,
            "energy_kwh_per_month": month_kwh,
            "co2_kg_per_month": month_kwh * a.carbon_kg_per_kwh,
            "co2_kg_per_million_units": P * a.pue / 1000.0 / units_per_hour * 1e6 * a.carbon_kg_per_kwh,
        }
    return out
