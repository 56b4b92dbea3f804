"""The package as a user installs it: a wheel built from the repository, installed with the app lock into a fresh
virtual environment outside it, works from any folder: `hwplan catalog list --json`, `hwplan plan`, `hwplan app`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.checkout import copy_checkout

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(hwplan executable, the wheel) in a new venv: the app lock (by uv, as scripts/install.sh does) and the wheel."""
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    # built from a copy of the checkout's files: an in-tree build writes build/ and *.egg-info into the repository,
    # where tests running at the same time (tests/test_install.py copies it) could see it half-written
    src = copy_checkout(root / "src")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                        str(src)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    wheel = next(dist.glob("hwplan-*.whl"))
    venv = root / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=300)
    uv = [str(Path(sys.executable).parent / "uv"), "pip", "install", "-q", "--python", str(venv / "bin" / "python")]
    subprocess.run([*uv, "--require-hashes", "--no-deps", "-r", str(REPO / "requirements.lock")], check=True,
                   capture_output=True, text=True, timeout=1200)
    subprocess.run([*uv, "--no-deps", str(wheel)], check=True, capture_output=True, text=True, timeout=300)
    return venv / "bin" / "hwplan", wheel


def _env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HWPLAN_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(HWPLAN_DB=str(tmp_path / "user.db"), HWPLAN_CACHE_DIR=str(tmp_path / "cache"))
    return env


def test_the_wheel_holds_one_package_with_its_data(installed):
    _, wheel = installed
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"hwplan"}
    for need in ("hwplan/data/catalog.csv", "hwplan/data/workloads.csv", "hwplan/data/published_results.csv",
                 "hwplan/data/raw/mlperf_inference_v3.0_v3.1.csv", "hwplan/core/migrations/versions/0001_baseline.py",
                 "hwplan/app/reports/templates/report.html.j2", "hwplan/app/dashboard/main.py", "hwplan/py.typed"):
        assert need in names, need
    assert any(n.startswith("hwplan/data/measured/") and n.endswith(".csv") for n in names)


def test_catalog_and_plan_from_another_folder(installed, tmp_path):
    hwplan, _ = installed
    env, cwd = _env(tmp_path), tmp_path
    r = subprocess.run([str(hwplan), "catalog", "list", "--json"], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    ids = {row["id"] for row in json.loads(r.stdout)}
    assert len(ids) >= 45 and "nvidia-h100-sxm" in ids
    r = subprocess.run([str(hwplan), "plan", "--workload", "resnet50", "--throughput", "10000"], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "meets 10,000 samples/s" in r.stdout and "ranked setups" in r.stdout
    assert not (cwd / "data").exists() and not (cwd / "hwplan").exists()  # nothing read from or written beside the cwd


def test_app_serves_from_another_folder(installed, tmp_path):
    hwplan, _ = installed
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(hwplan), "app", "--port", str(port)], cwd=tmp_path, env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, body = time.time() + 90, ""
        while time.time() < deadline and proc.poll() is None:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert body == "ok", (proc.stdout.read().decode() if proc.poll() is not None else "no answer in 90 s")
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        assert "<html" in page.lower()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
