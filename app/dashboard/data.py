"""Loaders: the only place the dashboard caches.

`st.cache_resource` holds the store handle; `st.cache_data` holds tables. Every input that changes a
result is an argument (store URL, the store's data version, file mtime), so an upload is never answered
from a stale cache. The fitted model comes from the cost model's own cache (`hwplan.costmodel.cache`),
keyed by the store's data version: the dashboard keeps no copy of it.
"""

from __future__ import annotations

import os
import threading
import time

import pandas as pd
import streamlit as st

from hwplan.core import catalog as tables
from hwplan.core import paths
from hwplan.core.ingest import seed_store
from hwplan.core.store import Store
from hwplan.costmodel.cache import DEFAULT

# Held by `hwplan app`'s warm-up thread (app/dashboard/warmup.py) while it seeds the store and loads the model;
# the loaders below take it too, so a page opened early waits for that work instead of repeating it beside it.
WARM_LOCK = threading.RLock()


def store_url() -> str:
    """The store this server uses: $HWPLAN_DB (set by `hwplan app --db`) or the user's default."""
    return paths.default_db_url()


@st.cache_resource(show_spinner=False)
def get_store(url: str):
    return Store.open(url)


@st.cache_resource(show_spinner="Loading the shipped published and measured results (first start only)…")
def ensure_seeded(url: str, data_version: str) -> dict:
    """Seed the store from data/ once per data version; returns what happened."""
    t0 = time.perf_counter()
    with WARM_LOCK:  # `hwplan app` may be seeding in its warm-up thread: wait for it, do not seed beside it
        res = seed_store(get_store(url))
    return {"inserted": res.inserted if res else 0, "already": res is None, "seconds": time.perf_counter() - t0}


def data_files_version() -> str:
    """Names, sizes and mtimes of the shipped data files: changes when data/ changes."""
    files = [paths.CATALOG_CSV, paths.WORKLOADS_CSV, *paths.PUBLISHED_FILES, *sorted(paths.MEASURED_DIR.glob("*.csv"))]
    parts = []
    for p in files:
        if p.exists():
            st_ = p.stat()
            parts.append(f"{p.name}:{st_.st_size}:{int(st_.st_mtime)}")
    return "|".join(parts)


def store_version(url: str) -> str:
    """The store's data version: changes whenever any session or process adds or deletes rows."""
    return get_store(url).data_version()


@st.cache_data(show_spinner=False, max_entries=8)
def measurements(url: str, version: str) -> pd.DataFrame:
    """Every stored row (version is the store version, so a new upload is a new key)."""
    return get_store(url).measurements()


@st.cache_data(show_spinner=False)
def catalog(mtime: float) -> pd.DataFrame:
    return tables.load_catalog()


@st.cache_data(show_spinner=False)
def workloads(mtime: float) -> pd.DataFrame:
    return tables.load_workloads()


def catalog_mtime() -> float:
    return os.stat(paths.CATALOG_CSV).st_mtime


def workloads_mtime() -> float:
    return os.stat(paths.WORKLOADS_CSV).st_mtime


def load_catalog() -> pd.DataFrame:
    return catalog(catalog_mtime())


def load_workloads() -> pd.DataFrame:
    return workloads(workloads_mtime())


def model(url: str | None = None):
    """The fitted model for the current store contents, with a spinner while it fits."""
    url = url or store_url()
    store = get_store(url)
    key = (url, store.data_version())
    if st.session_state.get("_model_key") == key:
        return DEFAULT.get(store, seed=False)
    with st.spinner("Fitting the performance models on all stored results…"), WARM_LOCK:
        m = DEFAULT.get(store, seed=False)
    st.session_state["_model_key"] = key
    return m


def assumption_sets(url: str) -> list[str]:
    return get_store(url).list_assumptions()
