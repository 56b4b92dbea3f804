"""`hwplan catalog` from the command line: its usage when no action is given."""

import subprocess
import sys

import pytest

from hwplan.app.cli import main


def test_catalog_without_an_action_prints_its_usage_and_exits_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["catalog"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: hwplan catalog") and "{list,show,workloads}" in err and "Traceback" not in err


def test_the_console_command_exits_2_too(tmp_path):
    r = subprocess.run([sys.executable, "-m", "hwplan", "catalog"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("usage: hwplan catalog") and "Traceback" not in r.stderr
