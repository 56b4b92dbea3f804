"""What a saved report holds: the `Snapshot` and its parts, as pydantic models of plain JSON types.

The types only (one floor below the modules that build, chart and render snapshots).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "hwplan-report/1"
KINDS = ("plan", "compare")


class Chart(BaseModel):
    """One chart as saved: the rows it draws and the plotly figure JSON built from them."""

    model_config = ConfigDict(extra="forbid")

    name: str
    title: str
    data: list[dict[str, Any]] = Field(default_factory=list)
    figure: dict[str, Any] = Field(default_factory=dict)


class PlanPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feasible: bool | None = None
    why: str = ""
    binding: str = ""
    ranked: list[dict[str, Any]] = Field(default_factory=list)
    pareto: list[dict[str, Any]] = Field(default_factory=list)
    nearest: list[dict[str, Any]] = Field(default_factory=list)


class Snapshot(BaseModel):
    """Everything a report shows. Plain JSON types only, so it round-trips through the store."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal["hwplan-report/1"] = SCHEMA_VERSION
    id: str
    title: str
    author: str = ""
    created_at: str
    kind: Literal["plan", "compare"] = "plan"
    inputs: dict[str, Any] = Field(default_factory=dict)
    versions: dict[str, Any] = Field(default_factory=dict)
    assumptions: list[dict[str, Any]] = Field(default_factory=list)
    workload: dict[str, Any] = Field(default_factory=dict)
    plan: PlanPart | None = None
    estimates: list[dict[str, Any]] = Field(default_factory=list)
    curves: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    devices: list[dict[str, Any]] = Field(default_factory=list)
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    evidence_total: int = 0
    charts: list[Chart] = Field(default_factory=list)

    def assumption(self, name: str, default: Any = None) -> Any:
        for a in self.assumptions:
            if a.get("field") == name:
                return a.get("value")
        return default

    def device_row(self, device_id: str) -> dict[str, Any]:
        for d in self.devices:
            if d.get("id") == device_id:
                return d
        return {}
