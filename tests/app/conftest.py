"""App test fixtures: one seeded SQLite store and one fitted-model cache per test session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from hwplan.core.ingest import seed_store
from hwplan.core.store import Store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("appdb")
    path = folder / "app.db"
    store = Store.open(str(path))
    seed_store(store)
    store.close()
    return str(path)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("model-cache"))


@pytest.fixture
def app_env(seeded_db, model_cache, monkeypatch):
    """The app reads $HWPLAN_DB at run time: point it at the session's seeded store."""
    monkeypatch.setenv("HWPLAN_DB", seeded_db)
    monkeypatch.setenv("HWPLAN_CACHE_DIR", model_cache)
    return seeded_db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """`hwplan app` as a subprocess on a free port, with its own store."""

    def __init__(self, db: str, cache: str, port: int | None = None):
        self.db, self.cache = db, cache
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 60) -> AppServer:
        env = dict(os.environ, HWPLAN_DB=self.db, HWPLAN_CACHE_DIR=self.cache, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([sys.executable, "-m", "hwplan", "app", "--port", str(self.port), "--db", self.db],
                                     cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hwplan app exited: {self.proc.stdout.read().decode(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("hwplan app did not answer /_stcore/health in time")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(p).exists():
            return p
    return None
