"""Alembic migrations of the results store (see `hwplan.core.store`); `versions/` holds one file per revision."""
