"""Fixtures for the cost model: the shipped published rows, one fitted model per session."""

from __future__ import annotations

import os

import pytest

from hwplan.core import paths


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmcache")
    old = os.environ.get("HWPLAN_CACHE_DIR")
    os.environ["HWPLAN_CACHE_DIR"] = str(d)
    yield d
    if old is None:
        os.environ.pop("HWPLAN_CACHE_DIR", None)
    else:
        os.environ["HWPLAN_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def measurements():
    from hwplan.core.tableio import load_file

    if not paths.PUBLISHED_CSV.exists():
        pytest.skip("data/published_results.csv is not generated yet")
    table = load_file(paths.PUBLISHED_CSV.name, path=paths.PUBLISHED_CSV, max_bytes=1 << 30)
    assert not table.problems
    return table.rows


@pytest.fixture(scope="session")
def model(measurements, cache_dir):
    from hwplan.costmodel.api import fit_models

    return fit_models(measurements)


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory, cache_dir):
    """A SQLite store seeded with the shipped results (for the command-line tests)."""
    from hwplan.core.ingest import seed_store
    from hwplan.core.store import Store

    url = f"sqlite:///{tmp_path_factory.mktemp('cmstore') / 'cm.db'}"
    store = Store.open(url)
    seed_store(store)
    store.close()
    return url
