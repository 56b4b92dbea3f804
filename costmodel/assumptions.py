"""Cost and environment assumptions: every one is an input with a shown default and its source."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_SOURCES: dict[str, str] = {
    "electricity_usd_per_kwh": "assumption: 0.13 USD/kWh, close to the US average retail price for commercial "
                               "customers (US EIA Electric Power Monthly, 2024, about 13 cents/kWh)",
    "pue": "Uptime Institute Global Data Center Survey 2024: industry-average annual PUE 1.56 "
           "(hyperscale sites report about 1.1; set yours)",
    "utilisation": "assumption: owned hardware is busy 60% of its hours (capacity headroom, maintenance, "
                   "diurnal load); cloud capacity is billed for every hour it is held",
    "carbon_kg_per_kwh": "empty: the region's grid intensity (data/carbon_intensity.csv); set a number to override",
    "region": "us-grid:average: US EPA eGRID2022 U.S. total output emission rate, 0.3734 kg CO2 per kWh "
              "(data/carbon_intensity.csv has 140 cloud regions, countries and grids, each with its source)",
    "life_years": "Epoch AI's cost model (epoch-research/training-cost-trends cost_analysis_standalone.py: 5 years for "
                  "servers from 2023); Amazon moved a subset of servers to 5 years from 2025 (10-K, Feb 2025); "
                  "Microsoft and Alphabet use 6 (data/raw/tco_terms.csv)",
    "host_usd_per_node": "HGX H100 8-GPU server price 296,644 USD (2024) minus 8 x the catalog's 30,000 USD GPU street "
                         "price = 56,644 USD per 8-device node (epoch-research/training-cost-trends data/Hardware "
                         "prices.csv; derived, low confidence: SemiAnalysis' bill of materials is 32,010); smaller nodes "
                         "pay node size / 8 of it (assumption)",
    "network_usd_per_node": "33,980 USD per node: non-blocking 2-tier 400G InfiniBand fat tree, switches, cables and "
                            "optics (NICs are in the node price); Eugene Cheah, 'H100 Freakonomics' spreadsheet (2024) "
                            "(data/raw/tco_terms.csv); charged only when a setup spans more than one node",
    "facility_usd_per_kw": "11,700 USD per kW of IT load: Cushman & Wakefield, Data Center Development Cost Guide 2025 "
                           "(US average of 19 markets, 9,300-15,000; land and soft costs excluded)",
    "facility_life_years": "assumption: data-centre power and cooling plant written off over 15 years",
    "maintenance_fraction": "0.20 of hardware capex per year: NVIDIA DGX H100 support contract, ~20% of list price a "
                            "year (supercluster.blog, 2024; second-hand, data/raw/tco_terms.csv)",
    "hours_per_month": "arithmetic: 8760 hours per year / 12",
    "price_overrides": "empty: list and cloud prices come from data/catalog.csv (see each device's source)",
    "host_overhead": "fitted from MLPerf Power wall-power rows where present (see the model's power fit); this "
                     "field overrides it when set",
}


OVERRIDE_MAX = {"price_usd": 1e8, "cloud_usd_per_hour": 10_000.0}  # larger is a typo (cents, a yearly price)


class Assumptions(BaseModel):
    """Inputs of the cost arithmetic. Overrides never edit the shipped catalog."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    electricity_usd_per_kwh: float = Field(0.13, ge=0, description="electricity price, USD per kWh")
    pue: float = Field(1.56, ge=1.0, le=5.0, description="power usage effectiveness of the facility")
    utilisation: float = Field(0.6, gt=0, le=1.0, description="fraction of hours owned hardware is busy")
    carbon_kg_per_kwh: float | None = Field(None, ge=0, le=5, description="grid carbon intensity, kg CO2 per kWh "
                                                                          "(empty: the region's)")
    region: str = Field("us-grid:average", description="grid region for carbon intensity (data/carbon_intensity.csv)")
    life_years: float = Field(5.0, gt=0, le=20, description="years over which hardware is written off")
    host_usd_per_node: float = Field(56644.0, ge=0, le=5e6, description="host server per 8-device node (CPUs, memory, "
                                                                        "NICs, chassis), USD")
    network_usd_per_node: float = Field(33980.0, ge=0, le=5e6, description="scale-out network per node, USD")
    facility_usd_per_kw: float = Field(11700.0, ge=0, le=1e6, description="data-centre build cost per kW of IT load, USD")
    facility_life_years: float = Field(15.0, gt=0, le=50, description="years over which the facility is written off")
    maintenance_fraction: float = Field(0.2, ge=0, le=1, description="maintenance per year, share of hardware capex")
    hours_per_month: float = Field(730.0, gt=0, le=744, description="hours in a month")
    price_overrides: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="device id -> {'price_usd': .., 'cloud_usd_per_hour': ..}",
    )
    host_overhead: float | None = Field(None, ge=0, le=5,
                                        description="host/system power as a fraction of accelerator power; None = fitted")

    @field_validator("price_overrides")
    @classmethod
    def _check_overrides(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        allowed = {"price_usd", "cloud_usd_per_hour"}
        for dev, fields in v.items():
            bad = set(fields) - allowed
            if bad:
                raise ValueError(f"price override for '{dev}' has unknown field(s) {sorted(bad)}; use {sorted(allowed)}")
            for k, x in fields.items():
                top = OVERRIDE_MAX[k]
                if x is None or not (0 <= float(x) <= top):  # NaN fails both comparisons
                    raise ValueError(f"price override {dev}.{k} is {x!r}: expected a number from 0 to {top:,.0f} "
                                     f"({'USD per device-hour' if k == 'cloud_usd_per_hour' else 'USD per device'})")
        return v

    @field_validator("region")
    @classmethod
    def _check_region(cls, v: str) -> str:
        from hwplan.core.prices import carbon_regions

        if v not in carbon_regions().index:
            from hwplan.core.errors import closest

            near = closest(v, list(carbon_regions().index))
            raise ValueError(f"region '{v}' is not in data/carbon_intensity.csv"
                             + (f"; did you mean {' or '.join(repr(x) for x in near)}?" if near else ""))
        return v

    def carbon_intensity(self) -> float:
        """kg CO2 per kWh: the one given, else the region's grid average."""
        if self.carbon_kg_per_kwh is not None:
            return float(self.carbon_kg_per_kwh)
        from hwplan.core.prices import carbon_of

        return carbon_of(self.region)

    def defaults_table(self) -> list[dict]:
        """Each field with its value, default and source, for the UI and reports."""
        out = []
        for name, info in type(self).model_fields.items():
            default = info.get_default(call_default_factory=True)
            out.append({"field": name, "value": getattr(self, name), "default": default,
                        "description": info.description or "", "source": DEFAULT_SOURCES.get(name, "")})
        return out

    def key(self) -> str:
        """A stable text key (for caches)."""
        return self.model_dump_json()
