"""--out into a folder that does not exist: every command that writes a file refuses before any work, exit 2,
naming the folder (none of them creates it); a folder that exists is written into."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwplan.app.cli import main, options
from hwplan.core.errors import HwplanError


def _commands(tmp_path, out: str) -> dict[str, list[str]]:
    q = tmp_path / "in.csv"
    pd.DataFrame({"workload": ["resnet50"], "device": ["nvidia-l4"], "device_count": [1],
                  "scenario": ["offline"]}).to_csv(q, index=False)
    db = str(tmp_path / "never-opened.db")
    return {
        "export": ["export", "--out", out, "--db", db],
        "predict": ["predict", "--queries", str(q), "--out", out, "--db", db],
        "report": ["report", "--workload", "resnet50", "--throughput", "100", "--format", "md", "--out", out, "--db", db],
        "validate": ["validate", "--out", out, "--db", db],
    }


@pytest.mark.parametrize("command", ["export", "predict", "report", "validate"])
def test_out_into_a_missing_folder_is_refused_before_any_work(tmp_path, capsys, command):
    missing = tmp_path / "no such folder" / "deeper"
    argv = _commands(tmp_path, str(missing / "result.out"))[command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"the folder {missing} does not exist" in err and "Traceback" not in err
    assert not missing.exists() and not missing.parent.exists()  # nothing created
    assert not (tmp_path / "never-opened.db").exists()  # refused before the store was opened


def test_out_into_a_folder_that_exists_writes_there(tmp_path, seeded_db):
    (tmp_path / "here").mkdir()
    out = tmp_path / "here" / "rows.csv"
    assert main(["export", "--out", str(out), "--db", seeded_db, "--workload", "resnet50"]) == 0
    assert out.stat().st_size > 0


def test_out_help_says_the_folder_must_exist(capsys):
    for command in ("export", "predict", "report", "validate"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "folder must exist" in " ".join(capsys.readouterr().out.split())


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=20))
def test_out_file_names_any_missing_folder(tmp_path_factory, name):
    base = tmp_path_factory.getbasetemp()
    folder = base / "missing" / name
    if folder.exists() or name in (".", ".."):
        return
    with pytest.raises(HwplanError) as e:
        options.out_file(str(folder / "x.csv"))
    assert str(folder) in str(e.value) and not folder.exists()
    assert options.out_file(str(base / "x.csv")) == base / "x.csv"
    assert options.out_file("-", stdout_ok=True) is None and options.out_file(None) is None
