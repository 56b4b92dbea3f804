"""scripts/install.sh into a fresh copy of the repository: the locked packages arrive compiled to bytecode (the
first `hwplan` command does not compile pandas and friends), and the command runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _copy_repo(into: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src, dst = REPO / name, into / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            dst.symlink_to(os.readlink(src))
        elif src.is_file():
            shutil.copy2(src, dst)


def test_install_compiles_the_locked_packages(tmp_path):
    repo = tmp_path / "repo"
    _copy_repo(repo)
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
