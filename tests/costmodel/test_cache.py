"""One cache for fitted models, keyed by the store's data version through the store's own API."""

from __future__ import annotations

import pytest

from hwplan.core.store import Store
from hwplan.costmodel.cache import ModelCache
from hwplan.costmodel.performance import PerformanceModel
from tests.conftest import make_rows


@pytest.fixture
def seeded(tmp_path):
    from hwplan.core.ingest import seed_store

    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    seed_store(store)
    yield store
    store.close()


def _count_fits(monkeypatch) -> list:
    calls = []
    real = PerformanceModel.fit

    def counting(self, X, y=None):
        calls.append(len(X) if X is not None else 0)
        return real(self, X, y)

    monkeypatch.setattr(PerformanceModel, "fit", counting)
    return calls


def test_second_call_and_second_process_reuse_the_fit(seeded, tmp_path, monkeypatch):
    calls = _count_fits(monkeypatch)
    cache = ModelCache(directory=tmp_path / "cache")
    first = cache.get(seeded)
    assert cache.get(seeded) is first and len(calls) == 1
    other = ModelCache(directory=tmp_path / "cache")  # another process: nothing in memory, the JSON file on disk
    again = other.get(seeded)
    assert len(calls) == 1 and again.eta_ == first.eta_


def test_new_rows_change_the_key_and_refit(seeded, tmp_path, monkeypatch):
    calls = _count_fits(monkeypatch)
    cache = ModelCache(directory=tmp_path / "cache")
    before = cache.key(seeded)
    cache.get(seeded)
    seeded.add_measurements(make_rows(2, run_id="new-upload"))
    assert cache.key(seeded) != before
    cache.get(seeded)
    assert len(calls) == 2
    seeded.add_measurements(make_rows(2, run_id="new-upload"))  # the same rows again: nothing stored, same key
    key = cache.key(seeded)
    cache.get(seeded)
    assert len(calls) == 2 and cache.key(seeded) == key
    seeded.delete_run("new-upload")
    assert cache.key(seeded) != key


def test_a_damaged_cache_file_is_refitted(seeded, tmp_path, monkeypatch):
    cache = ModelCache(directory=tmp_path / "cache")
    cache.get(seeded)
    for f in (tmp_path / "cache").glob("model-*.json"):
        f.write_text("{not json")
    calls = _count_fits(monkeypatch)
    ModelCache(directory=tmp_path / "cache").get(seeded)
    assert len(calls) == 1
