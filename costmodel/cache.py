"""The one place a fitted model is kept: in memory and as JSON on disk, keyed by the store's data version.

The key is what the fit depends on: the code version, the store's `data_version()` (which every write of
rows changes, through the store's own API), and the shipped catalog and workload tables. A second process
finds the JSON file; a second call in one process finds the model in memory. The CLI and the dashboard
both get their model here; nothing else caches one.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from pathlib import Path

import pandas as pd

from hwplan.core import paths
from hwplan.core.ingest import seed_store
from hwplan.core.store import Store
from hwplan.costmodel import CODE_VERSION
from hwplan.costmodel.performance import PerformanceModel


class ModelCache:
    """Fitted models of stores, `keep` of them in memory; `directory` None: $HWPLAN_CACHE_DIR or the user's
    cache folder, looked up on each call (so a test or a user may point it elsewhere at any time)."""

    def __init__(self, directory: Path | None = None, keep: int = 4):
        self.directory = directory
        self.keep = keep
        self._memory: OrderedDict[str, PerformanceModel] = OrderedDict()

    def folder(self) -> Path:
        return self.directory or paths.cache_dir()

    @staticmethod
    def key(store) -> str:
        h = hashlib.sha256(CODE_VERSION.encode())
        h.update(store.data_version().encode())
        from hwplan.costmodel.power import SYSTEM_POWER_CSV

        for p in (paths.CATALOG_CSV, paths.WORKLOADS_CSV, paths.PUBLISHED_TRAINING_CSV, paths.TRAINING_RUNS_CSV,
                  paths.PRICES_CSV, SYSTEM_POWER_CSV):
            h.update(hashlib.sha256(p.read_bytes() if p.exists() else b"").digest())
        return h.hexdigest()[:24]

    def get(self, store, seed: bool = True) -> PerformanceModel:
        """The model fitted on every row of `store` (seeded with the shipped results first, unless told not to)."""
        if seed:
            seed_store(store)
        key = self.key(store)
        path = self.folder() / f"model-{key}.json"
        mem_key = f"{path}"
        if mem_key in self._memory:
            self._memory.move_to_end(mem_key)
            return self._memory[mem_key]
        model = None
        if path.exists():
            try:
                model = PerformanceModel.load(path)
            except (OSError, ValueError, TypeError, KeyError):
                model = None  # a damaged cache file is refitted below
        if model is None:
            model = PerformanceModel().fit(store.measurements())
            try:
                model.save(path)
            except OSError:
                pass  # a read-only cache folder only costs a refit next time
        self._memory[mem_key] = model
        while len(self._memory) > self.keep:
            self._memory.popitem(last=False)
        return model

    def clear(self) -> None:
        self._memory.clear()


DEFAULT = ModelCache()


def model_for_store(store, seed: bool = True) -> PerformanceModel:
    """The fitted model of a store, from the default cache."""
    return DEFAULT.get(store, seed=seed)


def model_for_db(db: str | None = None) -> PerformanceModel:
    """The same for a store named by URL or path (None: $HWPLAN_DB or the default store)."""
    store = Store.open(db)
    try:
        return model_for_store(store)
    finally:
        store.close()


def store_measurements(db: str | None = None) -> pd.DataFrame:
    """Every row of a store, seeded with the shipped results first."""
    store = Store.open(db)
    try:
        seed_store(store)
        return store.measurements()
    finally:
        store.close()
