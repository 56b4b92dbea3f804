"""The foundation commands end to end: export formats, seeding, doctor, help everywhere."""

import json

import pandas as pd
import pytest

from hwplan.app.cli import build_parser, main
from hwplan.core.store import Store
from tests.conftest import make_rows


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_export_round_trips(tmp_path, fmt):
    db = str(tmp_path / "s.db")
    Store.open(db).add_measurements(make_rows(3))
    out = tmp_path / f"out.{fmt}"
    assert main(["export", "--format", fmt, "--out", str(out), "--db", db]) == 0
    db2 = str(tmp_path / "s2.db")
    assert main(["import", str(out), "--db", db2]) == 0
    a = Store.open(db).measurements().drop(columns=[])
    b = Store.open(db2).measurements()
    pd.testing.assert_frame_equal(a, b)


def test_seed_loads_shipped_results_once(tmp_path, capsys):
    db = str(tmp_path / "s.db")
    assert main(["seed", "--db", db, "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["inserted"] > 700 and not first["already_seeded"]
    assert main(["seed", "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["already_seeded"]


def test_doctor_reports_cpu_and_sensors(capsys):
    assert main(["doctor", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["python"].startswith("3.")
    cpus = [d for d in rep["devices"] if d["kind"] == "cpu" and d["available"]]
    assert cpus, rep["devices"]
    assert rep["sensors"] and all("available" in s and (s["available"] or s["reason"]) for s in rep["sensors"])
    cpu_energy = [e for e in rep["energy"] if e["device"].startswith("cpu:")]
    assert cpu_energy and cpu_energy[0]["method"] in ("rapl", "estimated-tdp", "none")
    if cpu_energy[0]["method"] != "rapl":  # no sensor: an estimate says it is one, or says why there is none
        assert "estimated (not measured)" in cpu_energy[0]["note"] or "not" in cpu_energy[0]["note"]


def test_every_command_has_help(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name in sub.choices:
        with pytest.raises(SystemExit) as e:
            main([name, "--help"])
        assert e.value.code == 0
        assert "usage: hwplan " + name in capsys.readouterr().out
