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
    "carbon_kg_per_kwh": "US EIA FAQ 'How much carbon dioxide is produced per kilowatthour of U.S. electricity "
                         "generation?': 0.81 lb/kWh in 2023 = 0.37 kg/kWh (set your grid's intensity)",
    "life_years": "assumption: accelerators are written off over 4 years (servers are commonly depreciated "
                  "over 4-6 years)",
    "hours_per_month": "arithmetic: 8760 hours per year / 12",
    "price_overrides": "empty: list and cloud prices come from data/catalog.csv (see each device's source)",
    "host_overhead": "fitted from MLPerf Power wall-power rows where present (see the model's power fit); this "
                     "field overrides it when set",
}


class Assumptions(BaseModel):
    """Inputs of the cost arithmetic. Overrides never edit the shipped catalog."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    electricity_usd_per_kwh: float = Field(0.13, ge=0, description="electricity price, USD per kWh")
    pue: float = Field(1.56, ge=1.0, le=5.0, description="power usage effectiveness of the facility")
    utilisation: float = Field(0.6, gt=0, le=1.0, description="fraction of hours owned hardware is busy")
    carbon_kg_per_kwh: float = Field(0.37, ge=0, description="grid carbon intensity, kg CO2 per kWh")
    life_years: float = Field(4.0, gt=0, le=20, description="years over which purchase price is written off")
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
                if x is None or not (float(x) >= 0):
                    raise ValueError(f"price override {dev}.{k} must be a number >= 0")
        return v

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
