"""The shell scripts' own logic: where torch comes from (scripts/lib.sh) and what check.sh prints when
import-linter fails, each run against stand-ins (no install, no linters)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PINNED = next(line.split("==")[1].split()[0] for line in (REPO / "requirements-dev.lock").read_text().splitlines()
              if line.startswith("torch=="))


def _torch_source(find_links: str | None) -> list[str]:
    env = dict(os.environ, PIP_CONFIG_FILE=os.devnull)  # no pip.conf: only what the test gives
    env.pop("PIP_FIND_LINKS", None)
    if find_links is not None:
        env["PIP_FIND_LINKS"] = find_links
    r = subprocess.run(["bash", "-c", f". {REPO / 'scripts' / 'lib.sh'} && torch_source"], env=env, capture_output=True,
                       text=True, timeout=60, check=True)
    return r.stdout.split()


def test_torch_source_passes_every_find_links_and_the_index_when_none_holds_torch(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "numpy-2.0.0-cp311-cp311-manylinux_2_28_x86_64.whl").touch()
    args = _torch_source(f"{a} {b}")
    assert args[:4] == ["--find-links", str(a), "--find-links", str(b)]
    assert "--extra-index-url" in args and "https://download.pytorch.org/whl/cpu" in args


def test_torch_source_needs_no_index_where_a_local_folder_holds_the_pinned_torch(tmp_path):
    (tmp_path / f"torch-{PINNED}-cp311-cp311-manylinux_2_28_x86_64.whl").touch()
    assert _torch_source(f"file://{tmp_path}") == ["--find-links", f"file://{tmp_path}"]


def test_torch_source_without_find_links_is_the_pytorch_index():
    args = _torch_source(None)
    assert "--find-links" not in args and args[:2] == ["--extra-index-url", "https://download.pytorch.org/whl/cpu"]


def _fake_repo(tmp_path: Path, lint_rc: int) -> Path:
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "check.sh", repo / "scripts" / "check.sh")
    bin_ = repo / ".venv" / "bin"
    bin_.mkdir(parents=True)
    for tool, body in (("ruff", "exit 0"), ("mypy", "exit 0"), ("lint-imports", "echo 'Contract one BROKEN'; "
                       "echo '- hwplan.a -> hwplan.b (l.3)'; echo 'Contracts: 1 kept, 1 broken.'; exit " + str(lint_rc))):
        (bin_ / tool).write_text(f"#!/usr/bin/env bash\n{body}\n")
        (bin_ / tool).chmod(0o755)
    return repo


def test_check_prints_the_whole_import_linter_report_when_it_fails(tmp_path):
    r = subprocess.run(["bash", str(_fake_repo(tmp_path, 1) / "scripts" / "check.sh")], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "Contract one BROKEN" in out and "hwplan.a -> hwplan.b" in out and "1 broken" in out


def test_check_prints_only_the_summary_when_every_contract_is_kept(tmp_path):
    r = subprocess.run(["bash", str(_fake_repo(tmp_path, 0) / "scripts" / "check.sh")], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "Contracts: 1 kept, 1 broken." and r.stderr == ""
