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


def test_fit_models_keeps_the_keyword_names_callers_used(monkeypatch):
    """`measurements_df=` is `measurements`; `db=` fits on a store's rows, from the one cache unless use_cache=False
    (or another catalog/workload table is given); the positional form is unchanged."""
    import pandas as pd

    from hwplan.core.errors import HwplanError
    from hwplan.costmodel import api, cache

    fitted: list = []
    monkeypatch.setattr(PerformanceModel, "fit", lambda self, X, y=None: fitted.append((X, self.catalog)) or self)
    cached = PerformanceModel()
    monkeypatch.setattr(cache, "model_for_db", lambda db=None: cached if db == "s.db" else None)
    store_rows = pd.DataFrame({"run_id": ["from-store"]})
    monkeypatch.setattr(cache, "store_measurements", lambda db=None: store_rows if db == "s.db" else None)
    rows, cat = pd.DataFrame({"run_id": ["given"]}), pd.DataFrame({"id": ["x"]})

    assert isinstance(api.fit_models(rows), PerformanceModel) and fitted.pop()[0] is rows
    api.fit_models(rows, cat)
    assert fitted.pop() == (rows, cat)
    api.fit_models(measurements_df=rows)
    assert fitted.pop()[0] is rows
    api.fit_models()
    assert fitted.pop()[0] is None  # no rows: specs and priors only, as before
    assert api.fit_models(db="s.db") is cached and not fitted
    assert api.fit_models(db="s.db", use_cache=True) is cached and not fitted
    api.fit_models(db="s.db", use_cache=False)
    assert fitted.pop()[0] is store_rows
    api.fit_models(db="s.db", catalog=cat)  # another catalog is not what the cache is keyed by: fitted here
    assert fitted.pop() == (store_rows, cat)
    with pytest.raises(HwplanError, match="not both"):
        api.fit_models(rows, measurements_df=rows)
    with pytest.raises(HwplanError, match="not both"):
        api.fit_models(rows, db="s.db")


def test_fit_models_on_a_store_is_the_cached_model(seeded, tmp_path, monkeypatch):
    from hwplan.costmodel import api, cache

    monkeypatch.setattr(cache, "DEFAULT", ModelCache(directory=tmp_path / "cache"))
    calls = _count_fits(monkeypatch)
    model = api.fit_models(db=seeded.url)
    assert model is cache.model_for_db(seeded.url) and len(calls) == 1 and calls[0] == seeded.count()
