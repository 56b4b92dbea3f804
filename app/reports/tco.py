"""One setup's total cost of ownership, read from a plan's ranked row (a pandas row or a saved report's dict), for
the dashboard's Plan page and the report's first page alike.

The cost model's ranked table carries the owned cost per month by term, the total capex and the break-even months
(hwplan.costmodel.cost). Capex by term is in it when the cost model gives `capex_usd_<term>` columns; otherwise it is
the month's write-off times the months it is written off over (12 x life_years for devices, hosts and network,
12 x facility_life_years for the facility), the cost model's own arithmetic run backwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hwplan.core import fmt

CAPEX_TERMS = ("devices", "hosts", "network", "facility")
MONTH_TERMS = ("devices", "hosts", "network", "facility", "maintenance", "energy")
TERM_LABELS = {"devices": "Devices", "hosts": "Host servers", "network": "Scale-out network",
               "facility": "Facility (power, cooling)", "maintenance": "Maintenance", "energy": "Energy"}
HORIZON_MONTHS = 60


def _num(x: Any) -> float | None:
    v = fmt.num(x)
    return v if v is not None and math.isfinite(v) else None


@dataclass
class Tco:
    capex: dict[str, float | None] = field(default_factory=dict)      # term -> USD, up front
    monthly: dict[str, float | None] = field(default_factory=dict)    # term -> USD per month, owned
    cloud_month: float | None = None
    owned_month: float | None = None
    breakeven_months: float | None = None
    price_basis: str = ""
    price_stale: bool = False
    capex_usd: float | None = None  # the cost model's total capex (None: no purchase price)

    @property
    def capex_total(self) -> float | None:
        """All capex (devices, hosts, network, facility); None when any term is unknown (no purchase price)."""
        if self.capex_usd is not None:
            return self.capex_usd
        vals = [self.capex.get(t) for t in CAPEX_TERMS]
        return None if any(v is None for v in vals) else sum(vals)  # type: ignore[arg-type]

    @property
    def running_month(self) -> float | None:
        """What owning costs each month once bought: maintenance + energy."""
        m, e = self.monthly.get("maintenance"), self.monthly.get("energy")
        return None if m is None and e is None else (m or 0.0) + (e or 0.0)

    def has_owned(self) -> bool:
        return any(v is not None for v in self.monthly.values())

    def rows(self) -> list[dict[str, str]]:
        """The breakdown as table rows: term, capex, owned per month; a total last."""
        out = [{"term": TERM_LABELS[t], "capex": fmt.usd(self.capex.get(t)) if t in CAPEX_TERMS else "–",
                "owned / month": fmt.usd(self.monthly.get(t))} for t in MONTH_TERMS]
        out.append({"term": "Total", "capex": fmt.usd(self.capex_total), "owned / month": fmt.usd(self.owned_month)})
        return out

    def breakeven_text(self) -> str:
        be = self.breakeven_months
        if be is not None:
            return (f"{fmt.number(be)} months of use: buying costs {fmt.usd(self.capex_total)} up front and "
                    f"{fmt.usd(self.running_month)} a month to run (maintenance + energy), renting "
                    f"{fmt.usd(self.cloud_month)} a month")
        if self.cloud_month is None:
            return "none: no cloud price to compare with"
        if self.capex_total is None:
            return "none: no purchase price to compare with"
        return (f"never: renting ({fmt.usd(self.cloud_month)} a month) costs less than running owned hardware "
                f"({fmt.usd(self.running_month)} a month for maintenance + energy)")

    def cumulative(self, months: int = HORIZON_MONTHS) -> dict[str, list[float]]:
        """Cumulative cost of renting and of buying, month 0..months (buying: all capex at month 0)."""
        m = list(range(months + 1))
        rent = [(self.cloud_month or 0.0) * i for i in m] if self.cloud_month is not None else []
        buy = ([(self.capex_total or 0.0) + (self.running_month or 0.0) * i for i in m]
               if self.capex_total is not None else [])
        return {"months": [float(i) for i in m], "rent": rent, "buy": buy}


def tco_of(row: Any, life_years: float | None, facility_life_years: float | None) -> Tco:
    """The TCO of one ranked row (a pandas Series or a dict); terms it lacks are None."""
    get = row.get
    t = Tco()
    for term in MONTH_TERMS:
        t.monthly[term] = _num(get(f"owned_usd_month_{term}"))
    for term in CAPEX_TERMS:
        v = _num(get(f"capex_usd_{term}"))
        if v is None and t.monthly.get(term) is not None:
            life = facility_life_years if term == "facility" else life_years
            v = t.monthly[term] * 12.0 * life if life else None  # type: ignore[operator]
        t.capex[term] = v
    t.capex_usd = _num(get("capex_usd"))
    t.cloud_month = _num(get("usd_per_month_cloud"))
    t.owned_month = _num(get("usd_per_month_owned"))
    t.breakeven_months = _num(get("breakeven_months"))
    t.price_basis = str(get("price_basis") or "")
    stale = get("price_stale")
    t.price_stale = bool(stale) if stale is not None and not (isinstance(stale, float) and math.isnan(stale)) else False
    return t


def power_text(row: Any) -> str:
    """'0.20 kW at the wall (devices, host share, at this load)' and the devices' own power when the row has it."""
    get = row.get
    wall = _num(get("power_kw"))
    dev = _num(get("device_power_kw"))
    if dev is None and _num(get("device_power_w")) is not None:
        dev = _num(get("device_power_w")) / 1000.0  # type: ignore[operator]
    text = f"{fmt.kw(wall)} at the wall (accelerators plus their host share, at this load; PUE not included)"
    if dev is not None:
        text += f"; the devices alone {fmt.kw(dev)}"
    return text


def carbon_text(region: str | None, given: float | None = None, used: float | None = None) -> str:
    """The grid carbon intensity a plan used and where it comes from: the region's, or the figure given."""
    if given is not None:
        return f"{given:g} kg CO₂ per kWh (your figure; it overrides the region {region or '–'})"
    from hwplan.core.prices import carbon_regions

    regions = carbon_regions()
    if region and region in regions.index:
        r = regions.loc[region]
        kg = used if used is not None else float(r["kg_co2_per_kwh"])
        return f"{r['name']} ({region}): {kg:.3g} kg CO₂ per kWh, {int(r['year'])} grid average"
    return f"{region or 'unknown region'}" + (f": {used:.3g} kg CO₂ per kWh" if used is not None else "")
