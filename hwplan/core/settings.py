"""Configuration from the environment (pydantic-settings): read where it is needed, never cached in a global.

HWPLAN_DB         results store: a SQLAlchemy URL or a SQLite file path (default: a SQLite file in the user's
                  data folder)
HWPLAN_CACHE_DIR  where fitted models are cached (default: the user's cache folder)
"""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HWPLAN_", extra="ignore", frozen=True)

    db: str | None = None
    cache_dir: Path | None = None

    @field_validator("db", "cache_dir", mode="before")
    @classmethod
    def _blank_is_unset(cls, v):
        return None if v is None or not str(v).strip() else str(v).strip()


def settings() -> Settings:
    """The settings the environment holds now."""
    return Settings()
