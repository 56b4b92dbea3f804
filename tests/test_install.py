"""scripts/install.sh into a fresh copy of the repository: the locked packages arrive compiled to bytecode (the
first `hwplan` command does not compile pandas and friends), and the command runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.checkout import copy_checkout

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_install_compiles_the_locked_packages(tmp_path):
    repo = tmp_path / "repo"
    copy_checkout(repo)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", HWPLAN_DB=str(tmp_path / "s.db"))
    r = subprocess.run(["bash", "scripts/install.sh"], cwd=repo, env=env, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    py = repo / ".venv" / "bin" / "python"
    # modules hwplan never imports: their bytecode can only come from the install
    probe = ("import importlib.util as u, os, sys; "
             "print(all(os.path.exists(u.cache_from_source(u.find_spec(m).origin)) "
             "for m in ('pandas.io.clipboards', 'sqlalchemy.dialects.mssql.base', 'numpy.polynomial.hermite')))")
    out = subprocess.run([str(py), "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "True", out.stderr
    listed = subprocess.run([str(repo / ".venv" / "bin" / "hwplan"), "catalog", "list", "--json"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0 and '"nvidia-h100-sxm"' in listed.stdout, listed.stderr
    assert sys.prefix != str(repo / ".venv")  # the test's own environment was not touched
