"""Cached loaders: the only place the dashboard caches.

`st.cache_resource` holds the store handle and the fitted model; `st.cache_data` holds tables.
Every input that changes a result is an argument (store URL, data version, file mtime, the
assumptions' JSON), so an upload or an override is never answered from a stale cache.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from hwplan.core import paths


def store_url() -> str:
    """The store this server uses: $HWPLAN_DB (set by `hwplan app --db`) or the user's default."""
    return paths.default_db_url()


@st.cache_resource(show_spinner=False)
def get_store(url: str):
    from hwplan.core.store import Store

    return Store.open(url)


@st.cache_resource(show_spinner="Loading the shipped published and measured results (first start only)…")
def ensure_seeded(url: str, data_version: str) -> dict:
    """Seed the store from data/ once per data version; returns what happened."""
    from hwplan.core.ingest import seed_store

    t0 = time.perf_counter()
    res = seed_store(get_store(url))
    return {"inserted": res.inserted if res else 0, "already": res is None, "seconds": time.perf_counter() - t0}


def data_files_version() -> str:
    """Names, sizes and mtimes of the shipped data files: changes when data/ changes."""
    files = [paths.CATALOG_CSV, paths.WORKLOADS_CSV, paths.PUBLISHED_CSV, *sorted(paths.MEASURED_DIR.glob("*.csv"))]
    parts = []
    for p in files:
        if p.exists():
            st_ = p.stat()
            parts.append(f"{p.name}:{st_.st_size}:{int(st_.st_mtime)}")
    return "|".join(parts)


def store_version(url: str) -> str:
    """Row count and last row id: changes whenever any session adds or deletes rows (one cheap query)."""
    from hwplan.core.store import measurements

    store = get_store(url)
    with store.engine.connect() as conn:
        n, last = conn.execute(sa.select(sa.func.count(), sa.func.max(measurements.c.row_id))).one()
    return f"{n}:{last or 0}"


@st.cache_data(show_spinner=False, max_entries=8)
def measurements(url: str, version: str) -> pd.DataFrame:
    """Every stored row (version is the store version, so a new upload is a new key)."""
    return get_store(url).measurements()


@st.cache_data(show_spinner=False)
def catalog(mtime: float) -> pd.DataFrame:
    from hwplan.core.catalog import load_catalog

    return load_catalog()


@st.cache_data(show_spinner=False)
def workloads(mtime: float) -> pd.DataFrame:
    from hwplan.core.catalog import load_workloads

    return load_workloads()


def catalog_mtime() -> float:
    return os.stat(paths.CATALOG_CSV).st_mtime


def workloads_mtime() -> float:
    return os.stat(paths.WORKLOADS_CSV).st_mtime


def load_catalog() -> pd.DataFrame:
    return catalog(catalog_mtime())


def load_workloads() -> pd.DataFrame:
    return workloads(workloads_mtime())


@st.cache_resource(show_spinner=False, max_entries=4)
def fitted_model(url: str, version: str, catalog_mtime_: float, workloads_mtime_: float):
    """The performance model fitted on every stored row and the catalog (refitted when either changes)."""
    from hwplan.app.dashboard import engine

    return engine.fit(measurements(url, version), catalog(catalog_mtime_))


def model(url: str | None = None):
    """The fitted model for the current store contents, with a spinner while it fits."""
    url = url or store_url()
    version = store_version(url)
    key = (url, version, catalog_mtime(), workloads_mtime())
    if st.session_state.get("_model_key") == key:
        return fitted_model(*key)
    with st.spinner("Fitting the performance models on all stored results…"):
        m = fitted_model(*key)
    st.session_state["_model_key"] = key
    return m


def assumption_sets(url: str) -> list[str]:
    return get_store(url).list_assumptions()
