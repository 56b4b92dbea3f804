"""Shared fixtures: real SQLite and PostgreSQL stores, valid Measurement rows."""

from __future__ import annotations

import os
import sys
import uuid

import pandas as pd
import pytest

from hwplan.core import paths
from hwplan.core.store import Store


@pytest.fixture(scope="session")
def pg_server():
    from tests.pg import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    server = request.getfixturevalue("pg_server")
    return server.create_db("t_" + uuid.uuid4().hex[:12])


@pytest.fixture
def store(store_url):
    s = Store.open(store_url)
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Streamlit's AppTest leaves app/dashboard/main.py as `__main__`; a later spawned child process (multiprocessing
    'spawn') would then run the whole dashboard script on start. Put the real `__main__` back."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture(autouse=True)
def _isolated_default_store(tmp_path, monkeypatch):
    """No test ever touches the user's own store; the dashboard run in-process (AppTest) serves a single user, as
    `hwplan app` on a local file does (a test of sign-in sets HWPLAN_AUTH itself)."""
    monkeypatch.setenv("HWPLAN_AUTH", "none")
    if "HWPLAN_DB" not in os.environ or not os.environ["HWPLAN_DB"].startswith("postgresql"):
        monkeypatch.setenv("HWPLAN_DB", str(tmp_path / "default.db"))


def make_rows(n: int = 3, run_id: str = "run-1", **overrides) -> pd.DataFrame:
    """n valid Measurement rows that differ in batch size."""
    base = {
        "run_id": run_id, "measured_at": "2026-11-29T04:00:00Z", "source": "upload", "source_ref": "test.csv",
        "host": "test-host", "workload": "resnet50", "mode": "inference", "phase": "", "precision": "fp32",
        "device": "nvidia-h100-sxm", "device_name": "NVIDIA H100 80GB HBM3", "device_kind": "gpu", "device_count": "1",
        "backend": "torch-eager", "software": "torch 2.13.0", "throughput": "1000.5", "throughput_unit": "samples/s",
        "latency_p50_s": "0.01", "latency_p99_s": "0.02", "power_avg_w": "500", "power_scope": "device",
        "energy_per_unit_j": "0.5", "energy_method": "nvml", "repetitions": "20", "cov": "0.01", "status": "ok",
    }
    base.update({k: str(v) for k, v in overrides.items()})
    return pd.DataFrame([{**base, "batch_size": str(2 ** i)} for i in range(n)])


# ---- the shipped published rows, one fitted model per session, a seeded store (cost model and CLI tests) ----
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
def serving_model(measurements, cache_dir):
    """A model fitted on every shipped published file: MLPerf rows and the LLM serving tables."""
    import pandas as pd

    from hwplan.core.tableio import load_file
    from hwplan.costmodel.api import fit_models

    serving = load_file(paths.PUBLISHED_SERVING_CSV.name, path=paths.PUBLISHED_SERVING_CSV, max_bytes=1 << 30)
    assert not serving.problems
    return fit_models(pd.concat([measurements, serving.rows], ignore_index=True))


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
