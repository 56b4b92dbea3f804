"""A profiler-only install: pandera, pydantic or alembic missing (made unimportable in a child process). The
catalog still matches devices, and rows go to a CSV file with a message that says why and how to import them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from hwplan.core.schema import validate_measurements

REPO = Path(__file__).resolve().parents[2]
FIX = Path(__file__).parent / "fixtures"


def _run(code: str, blocked: tuple[str, ...], tmp_path: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `code` in a fresh Python where each of `blocked` cannot be imported (None in sys.modules)."""
    prelude = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in blocked)
    full_env = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], cwd=tmp_path, env=full_env,
                          capture_output=True, text=True, timeout=300)


def test_catalog_match_works_without_pandera(tmp_path):
    r = _run(f"""
        import json
        from hwplan.profiler.backends import cpu, cuda
        from hwplan.profiler.backends.base import catalog_match, catalog_row

        xeon = cpu.describe(cpu.read_cpuinfo(open({str(FIX / 'cpuinfo-xeon-8480.txt')!r}).read()), cores=56)
        rec = json.load(open({str(FIX / 'cuda-listing-h100x8.json')!r}))
        h100 = cuda.describe(rec["devices"], rec["runtime"], rec["driver"])[0]
        print(json.dumps({{"xeon": xeon.catalog_id, "h100": h100.catalog_id, "l4": catalog_match("NVIDIA L4"),
                          "board_w": catalog_row("nvidia-h100-sxm")["board_power_w"],
                          "pandera": sys.modules.get("pandera", "absent") is None}}))
        """, ("pandera",), tmp_path)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["pandera"]  # still blocked: nothing imported it behind the test's back
    assert got["xeon"] == "intel-xeon-8480" and got["h100"] == "nvidia-h100-sxm"
    assert got["l4"] == ["nvidia-l4", ""]
    assert got["board_w"] > 0


@pytest.mark.parametrize("blocked", [("pandera",), ("pydantic", "pydantic_settings"), ("alembic",),
                                     ("sqlalchemy", "pandera", "pydantic", "pydantic_settings", "alembic")])
def test_store_sink_falls_back_to_csv_with_a_clear_message(tmp_path, blocked):
    """With --db given (a password in it) and without --out: the rows go to hwplan-profile-<run>.csv here."""
    r = _run("""
        import json
        from hwplan.core.schema import COLUMN_NAMES
        from hwplan.profiler import session

        said = []
        opened = session.open_sinks(None, "postgresql://me:s3cret@db.example/hwplan", "run-x", say=said.append)
        row = dict.fromkeys(COLUMN_NAMES)
        row.update(run_id="run-x", measured_at="2026-11-29T04:00:00Z", source="profiler", workload="gemm",
                   mode="inference", precision="fp32", batch_size=1, device="unknown", device_name="cpu",
                   device_kind="cpu", device_count=1, backend="torch-eager", throughput=1e9, throughput_unit="flop/s",
                   energy_method="none", status="ok")
        for s in opened:
            s.write([row])
        print(json.dumps({"sinks": [type(s).__name__ for s in opened], "said": said}))
        """, blocked, tmp_path)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["sinks"] == ["CsvSink"]
    (msg,) = got["said"]
    for name in blocked:
        assert name in msg
    assert "hwplan-profile-run-x.csv" in msg and "hwplan import hwplan-profile-run-x.csv" in msg
    assert "postgresql://me:***@db.example/hwplan is not used" in msg and "s3cret" not in msg
    rows = pd.read_csv(tmp_path / "hwplan-profile-run-x.csv", dtype=str, keep_default_na=False)
    assert list(rows["run_id"]) == ["run-x"] and validate_measurements(rows)[1] == []


def test_profile_without_pandera_measures_into_a_csv(tmp_path):
    """The whole command: `hwplan profile` with pandera missing and no --out measures and says where the rows are."""
    r = _run("""
        from hwplan.app.cli import main
        sys.exit(main(["profile", "--suite", "quick", "--device", "cpu", "--workload", "gemm"]))
        """, ("pandera",), tmp_path, env={"HWPLAN_DB": str(tmp_path / "never.db")})
    assert r.returncode == 0, r.stderr
    assert "the results store" in r.stderr and "pandera" in r.stderr and "hwplan import hwplan-profile-" in r.stderr
    (csv,) = tmp_path.glob("hwplan-profile-*.csv")
    rows = pd.read_csv(csv, dtype=str, keep_default_na=False)
    assert list(rows["workload"]) == ["gemm"] and rows["status"].iloc[0] == "ok"
    assert not (tmp_path / "never.db").exists()
