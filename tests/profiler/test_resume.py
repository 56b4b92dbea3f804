"""A real `python -m hwplan profile` run killed with SIGKILL half-way, then resumed: no row lost, none doubled.
Also the prepared GPU script, run here on the CPU with a short suite."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from hwplan.core.schema import validate_measurements
from hwplan.core.store import Store
from hwplan.profiler.sinks import row_key

REPO = Path(__file__).resolve().parents[2]


def _env(tmp_path) -> dict:
    env = dict(os.environ)
    env["HWPLAN_DB"] = f"sqlite:///{tmp_path / 'default.db'}"
    env["PYTHONPATH"] = str(REPO)
    return env


def test_killed_run_resumes_without_loss_or_duplicates(tmp_path):
    out, db = tmp_path / "rows.csv", f"sqlite:///{tmp_path / 'p.db'}"
    cmd = [sys.executable, "-m", "hwplan", "profile", "--suite", "quick", "--device", "cpu",
           "--workload", "gemm", "membw", "allreduce", "--out", str(out), "--db", db]
    proc = subprocess.Popen(cmd, cwd=REPO, env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill once at least one row is on disk and the run is not over
        if out.exists() and len(out.read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed; the test needs a longer plan"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert 1 <= len(before) < 4
    run_id = before["run_id"].iloc[0]

    done = subprocess.run(cmd + ["--resume", run_id], cwd=REPO, env=_env(tmp_path), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    after = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(after) == 4  # gemm, membw, allreduce x2 sizes
    keys = [row_key(r) for r in after.to_dict("records")]
    assert len(set(keys)) == len(keys)
    pd.testing.assert_frame_equal(after.iloc[: len(before)], before)  # what was measured stays as it was
    stored = Store.open(db).measurements(run_id=run_id)
    assert len(stored) == 4
    assert validate_measurements(after)[1] == []


def test_resume_of_an_unknown_run_says_what_to_do(tmp_path, capsys):
    from hwplan.app.cli import main

    code = main(["profile", "--suite", "quick", "--workload", "gemm", "--out", str(tmp_path / "x.csv"),
                 "--db", f"sqlite:///{tmp_path / 'x.db'}", "--resume", "no-such-run"])
    assert code == 2
    assert re.search("no rows.*without --resume", capsys.readouterr().err)


def test_without_store_packages_or_out_or_run_it_asks_for_out(monkeypatch):
    from hwplan.profiler import sinks
    from hwplan.profiler.errors import ProfileError
    from hwplan.profiler.session import open_sinks

    monkeypatch.delenv("HWPLAN_DB", raising=False)
    monkeypatch.setattr(sinks, "store_missing", lambda: ["sqlalchemy"])
    with pytest.raises(ProfileError, match=r"needs sqlalchemy.*--out"):
        open_sinks(None, None)


def test_gpu_script_runs_short_on_cpu(tmp_path):
    env = _env(tmp_path)
    env.update(OUT=str(tmp_path / "out"), SUITE="quick", DEVICE="cpu", WORKLOADS="gemm", PYTHON=sys.executable)
    r = subprocess.run(["bash", str(REPO / "profiler" / "gpu_run.sh")], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = pd.read_csv(tmp_path / "out" / "rows.csv", dtype=str, keep_default_na=False)
    assert list(rows["workload"]) == ["gemm"] and rows["status"].iloc[0] == "ok"
    assert validate_measurements(rows)[1] == []
    assert (tmp_path / "out" / "environment.json").stat().st_size > 0


def _only(packages: tuple[str, ...], into: Path) -> Path:
    """A folder holding links to these distributions and everything they require to run (no extras), and
    nothing else: with `python -S` and this folder as the whole PYTHONPATH, an accelerator box that has only
    them (and no package registry) is what the process sees."""
    import re
    from importlib import metadata

    into.mkdir(parents=True, exist_ok=True)
    todo, seen = list(packages), set()
    while todo:
        name = re.split(r"[ ;<>=!~\[]", todo.pop())[0].lower().replace("_", "-")
        if not name or name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        todo += [r for r in (dist.requires or []) if "extra ==" not in r]
        site = Path(str(dist.locate_file("")))
        for first in {f.parts[0] for f in dist.files or []}:  # what the distribution installed, top level
            link = into / first
            if first not in ("..", "__pycache__") and not link.exists() and (site / first).exists():
                link.symlink_to(site / first)
    return into


def test_runs_with_only_torch_numpy_pandas(tmp_path):
    """On a box with only torch, numpy, pandas and nvidia-ml-py (what the lent accelerator machines have), with
    site-packages switched off: `python -m hwplan profile --out` measures and writes valid rows, opens no store."""
    only = _only(("torch", "numpy", "pandas", "nvidia-ml-py"), tmp_path / "site")
    env = _env(tmp_path)
    env.pop("HWPLAN_DB")
    env["PYTHONPATH"] = f"{only}{os.pathsep}{REPO}"
    probe = subprocess.run([sys.executable, "-S", "-c", "import importlib.util as u; print([m for m in "
                            "('sqlalchemy', 'pydantic', 'pandera', 'sklearn', 'streamlit', 'onnxruntime') if u.find_spec(m)])"],
                           env=env, capture_output=True, text=True, timeout=60)
    assert probe.stdout.strip() == "[]", probe.stdout + probe.stderr  # the folder really holds nothing else
    out = tmp_path / "rows.csv"
    r = subprocess.run([sys.executable, "-S", "-m", "hwplan", "profile", "--suite", "quick", "--device", "cpu",
                        "--workload", "fraud-mlp", "gemm", "--out", str(out)], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "sqlite" not in r.stderr  # no store was opened
    rows = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert set(rows["status"]) == {"ok"} and set(rows["workload"]) == {"fraud-mlp", "gemm"}
    assert validate_measurements(rows)[1] == []
