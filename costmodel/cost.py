"""Cost, energy and CO2 arithmetic: whole-system TCO (vectorised; every input is an argument or an Assumptions field).

Definitions (per setup of n devices in k = ceil(n / devices per node) nodes, throughput X units/s, wall power P W at
load, P_idle W idle, utilisation u = the share of its hours the setup is busy, for owned and rented alike):
- hardware capex          = n x device price + k x host server (per node, scaled by node size / 8)
                            + k x scale-out network per node (only when k > 1)
- facility capex          = P / 1000 kW x facility cost per kW of IT load
- owned USD/month         = hardware capex / (12 x life) + facility capex / (12 x facility life)
                            + maintenance fraction x hardware capex / 12 + month energy x electricity price
- month energy (kWh)      = (u P + (1 - u) P_idle) / 1000 x hours_per_month x PUE
- cloud USD/month         = n x cloud price per device-hour x hours_per_month (capacity held all month)
- USD per busy hour       = USD/month / (hours_per_month x u)   (cloud and owned)
- USD per million units   = USD per busy hour / (X x 3600) x 1e6
- energy per unit (J)     = P / X (device + host; PUE not included)
- CO2                     = energy x PUE x the region's carbon intensity (or the one given)
- break-even months       = (hardware + facility capex) / (cloud USD/month - owned running cost per month), where
                            owned running cost = maintenance + energy; none when renting is the cheaper to run
"""

from __future__ import annotations

import numpy as np

from hwplan.costmodel.assumptions import Assumptions

HOURS_PER_YEAR = 8760.0
TCO_TERMS = ("devices", "hosts", "network", "facility", "maintenance", "energy")


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


def price_basis(devices: list[str], basis: list[str], stale, a: Assumptions, pricing: str = "cloud"):
    """Per device: (where its price comes from, whether that price is stale). An override says so."""
    out_b, out_s = [], []
    for i, dev in enumerate(devices):
        o = (a.price_overrides or {}).get(dev, {})
        if pricing == "cloud" and "cloud_usd_per_hour" in o:
            out_b.append("your price (assumption override)")
            out_s.append(False)
        elif pricing == "owned":
            out_b.append("your purchase price (assumption override)" if "price_usd" in o else
                         "catalog purchase price (data/catalog.csv)")
            out_s.append(False)
        else:
            out_b.append(basis[i])
            out_s.append(bool(stale[i]))
    return out_b, out_s


def nodes_of(n, per_node) -> tuple[np.ndarray, np.ndarray]:
    """(servers a setup of n devices fills, devices per server): from the catalog (a device without one: one node)."""
    n = np.asarray(n, dtype=float)
    per = np.asarray(per_node, dtype=float)
    per = np.where(np.isfinite(per) & (per >= 1), per, np.maximum(n, 1))
    return np.ceil(n / per), per


def costs(n, throughput, power_w, idle_w, price_usd, cloud_usd_per_hour, a: Assumptions, per_node=np.nan,
          kind=None) -> dict:
    """All cost, energy and CO2 figures for setups (arrays broadcast together), with the TCO breakdown.
    per_node: devices per server (catalog); kind: device kind code ("cpu" setups are their own servers: no host)."""
    n = np.asarray(n, dtype=float)
    X = np.asarray(throughput, dtype=float)
    P = np.asarray(power_w, dtype=float)
    Pi = np.asarray(idle_w, dtype=float)
    price = np.asarray(price_usd, dtype=float)
    cloud = np.asarray(cloud_usd_per_hour, dtype=float)
    u, hpm = a.utilisation, a.hours_per_month
    k, per = nodes_of(n, per_node)
    is_cpu = np.asarray(kind == "cpu") if kind is not None else np.zeros(np.shape(n), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        units_per_busy_hour = np.where(X > 0, X * 3600.0, np.nan)
        capex_dev = n * price
        capex_host = np.where(is_cpu, 0.0, k * a.host_usd_per_node * per / 8.0)
        capex_net = np.where(k > 1, k * a.network_usd_per_node, 0.0)
        capex_hw = capex_dev + capex_host + capex_net
        capex_fac = P / 1000.0 * a.facility_usd_per_kw
        month_kwh = (u * P + (1 - u) * Pi) / 1000.0 * hpm * a.pue
        m_dev = capex_dev / (12.0 * a.life_years)
        m_host = capex_host / (12.0 * a.life_years)
        m_net = capex_net / (12.0 * a.life_years)
        m_fac = capex_fac / (12.0 * a.facility_life_years)
        m_maint = a.maintenance_fraction * capex_hw / 12.0
        m_energy = month_kwh * a.electricity_usd_per_kwh
        owned_month = m_dev + m_host + m_net + m_fac + m_maint + m_energy
        cloud_h = n * cloud
        cloud_month = cloud_h * hpm
        busy_hours = hpm * u
        owned_busy_h = owned_month / busy_hours
        cloud_busy_h = cloud_month / busy_hours
        running = m_maint + m_energy
        gap = cloud_month - running
        breakeven = np.where(gap > 0, (capex_hw + capex_fac) / gap, np.nan)
        carbon = a.carbon_intensity()
        out = {
            "usd_per_hour_cloud": cloud_h,
            "usd_per_hour_owned": owned_busy_h,
            "usd_per_busy_hour_cloud": cloud_busy_h,
            "usd_per_million_cloud": cloud_busy_h / units_per_busy_hour * 1e6,
            "usd_per_million_owned": owned_busy_h / units_per_busy_hour * 1e6,
            "usd_per_month_cloud": cloud_month,
            "usd_per_month_owned": owned_month,
            "energy_per_unit_j": P / X,
            "energy_kwh_per_month": month_kwh,
            "co2_kg_per_month": month_kwh * carbon,
            "co2_kg_per_million_units": P * a.pue / 1000.0 / units_per_busy_hour * 1e6 * carbon,
            "capex_usd_devices": capex_dev, "capex_usd_hosts": capex_host, "capex_usd_network": capex_net,
            "capex_usd_facility": capex_fac, "nodes": k,
            "owned_usd_month_devices": m_dev, "owned_usd_month_hosts": m_host, "owned_usd_month_network": m_net,
            "owned_usd_month_facility": m_fac, "owned_usd_month_maintenance": m_maint,
            "owned_usd_month_energy": m_energy, "breakeven_months": breakeven,
        }
    return out


def breakdown(c: dict, i=None) -> dict:
    """One setup's TCO breakdown as plain numbers (the `costs` output at index i, or scalars)."""
    pick = (lambda v: float(np.ravel(v)[i])) if i is not None else (lambda v: float(v))
    return {"capex_usd": {t: pick(c[f"capex_usd_{t}"]) for t in ("devices", "hosts", "network", "facility")},
            "owned_usd_per_month": {t: pick(c[f"owned_usd_month_{t}"]) for t in TCO_TERMS},
            "cloud_usd_per_month": pick(c["usd_per_month_cloud"]), "owned_total_usd_per_month": pick(c["usd_per_month_owned"]),
            "breakeven_months": pick(c["breakeven_months"]), "nodes": pick(c["nodes"])}


def tco_dict(c: dict) -> dict:
    """`breakdown` with every number JSON-clean (NaN and inf as None), for an Estimate."""
    def clean(x):
        return x if isinstance(x, float) and np.isfinite(x) else None

    return {k: ({t: clean(x) for t, x in v.items()} if isinstance(v, dict) else clean(v)) for k, v in breakdown(c).items()}


def device_price_basis(model, d: int, a: Assumptions) -> tuple[str | None, bool]:
    """The cloud price's source for device d of a fitted model (an override says so), and whether it is stale."""
    b, st = price_basis([model.devices_[d]], [model.dev_["price_basis"][d]], [model.dev_["price_stale"][d]], a)
    return (b[0] or None), bool(st[0])


Z80 = 1.2816  # standard normal 90th percentile: an 80% two-sided interval


def power_band(power_state: dict) -> float:
    """The power fit's spread as a factor for an 80% interval: exp(z80 x rms log error of the fit), 1.2 when the
    fit has none (no wall-power rows; an assumption)."""
    r = (power_state or {}).get("rmse_log")
    return float(np.exp(Z80 * r)) if r is not None and np.isfinite(r) and r > 0 else 1.2
