"""`hwplan predict`, the batch form, `plan` and `validate` through hwplan.app.cli.main."""

from __future__ import annotations

import json

import pandas as pd

from hwplan.app.cli import main


def test_predict_json(seeded_db, capsys):
    rc = main(["predict", "--workload", "resnet50", "--device", "nvidia-h100-sxm", "--count", "8", "--json",
               "--db", seeded_db])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["device_count"] == 8 and out["throughput"] > 0 and out["basis"] == "measured"
    assert out["low"] <= out["throughput"] <= out["high"]


def test_unknown_workload_and_device_exit_2_with_closest_ids(seeded_db, capsys):
    assert main(["predict", "--workload", "resnet", "--device", "nvidia-h100-sxm", "--db", seeded_db]) == 2
    assert "resnet50" in capsys.readouterr().err
    assert main(["predict", "--workload", "resnet50", "--device", "h100-sxm", "--db", seeded_db]) == 2
    assert "nvidia-h100-sxm" in capsys.readouterr().err
    assert main(["plan", "--workload", "lama2-70b", "--throughput", "10", "--db", seeded_db]) == 2
    assert "llama2-70b" in capsys.readouterr().err


def test_batch_form(seeded_db, tmp_path):
    q = tmp_path / "in.csv"
    pd.DataFrame({"workload": ["resnet50", "llama2-70b"], "device": ["nvidia-l4", "nvidia-h100-sxm"],
                  "device_count": [2, 8], "scenario": ["offline", "server"], "precision": ["", "fp8"]}).to_csv(q, index=False)
    out = tmp_path / "out.csv"
    assert main(["predict", "--queries", str(q), "--out", str(out), "--db", seeded_db]) == 0
    df = pd.read_csv(out)
    for c in ("throughput", "throughput_unit", "low", "high", "power_w", "energy_per_unit_j", "usd_per_hour", "basis"):
        assert c in df.columns
    assert df["precision"].iloc[1] == "fp8" and (df["throughput"] > 0).all()


def test_batch_form_reports_every_bad_row(seeded_db, tmp_path, capsys):
    q = tmp_path / "in.csv"
    pd.DataFrame({"workload": ["resnet", "resnet50"], "device": ["nvidia-l4", "nvidia-h99"],
                  "device_count": [1, 1], "scenario": ["offline", "offline"]}).to_csv(q, index=False)
    assert main(["predict", "--queries", str(q), "--out", str(tmp_path / "o.csv"), "--db", seeded_db]) == 2
    err = capsys.readouterr().err
    assert "in.csv:2" in err and "in.csv:3" in err and "resnet50" in err


def test_plan_text_and_json(seeded_db, capsys):
    assert main(["plan", "--workload", "bert-large", "--throughput", "20000", "--db", seeded_db]) == 0
    text = capsys.readouterr().out
    assert "ranked setups" in text and "binding" in text
    assert main(["plan", "--workload", "bert-large", "--throughput", "1e9", "--budget-usd-month", "100", "--json",
                 "--db", seeded_db]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["feasible"] is False and out["nearest"] and out["nearest"][0]["breaks"]


def test_plan_path_imports_neither_sklearn_nor_torch(seeded_db, cache_dir, capsys):
    """With the fitted model cached, `hwplan plan` reads the store (SQLAlchemy, through the store's own API) and
    evaluates with numpy: scikit-learn, SciPy, torch, Streamlit, pandera and Alembic stay out of the process."""
    import os
    import subprocess
    import sys

    assert main(["plan", "--workload", "resnet50", "--throughput", "1000", "--json", "--db", seeded_db]) == 0  # fits, caches
    capsys.readouterr()
    code = ("import sys; from hwplan.app.cli import main; rc = main(['plan', '--workload', 'resnet50', '--throughput', '1000', "
            f"'--json', '--db', {seeded_db!r}]); "
            "bad = [m for m in ('sklearn', 'scipy', 'torch', 'streamlit', 'pandera', 'alembic') if m in sys.modules]; "
            "sys.exit(rc or (3 if bad else 0))")
    env = dict(os.environ, HWPLAN_CACHE_DIR=str(cache_dir))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr or "a heavy package was imported"


def test_unknown_ids_are_explained_alike(seeded_db, capsys):
    """A device by its model name, a kind that does not exist, a micro-benchmark given as a workload."""
    assert main(["predict", "--workload", "resnet50", "--device", "l4", "--db", seeded_db]) == 2
    assert "did you mean 'nvidia-l4'?" in capsys.readouterr().err
    assert main(["plan", "--workload", "resnet50", "--throughput", "100", "--kinds", "gpu,bogus", "--db", seeded_db]) == 2
    assert "device kind 'bogus' is not known (known: cpu, gpu, tpu, fpga, asic)" in capsys.readouterr().err
    assert main(["catalog", "list", "--kind", "bogus"]) == 2
    assert "(known: cpu, gpu, tpu, fpga, asic)" in capsys.readouterr().err
    for argv in (["predict", "--workload", "gemm", "--device", "nvidia-l4"],
                 ["plan", "--workload", "membw", "--throughput", "1"]):
        assert main([*argv, "--db", seeded_db]) == 2
        err = capsys.readouterr().err
        assert "is a micro-benchmark" in err and "not a model workload" in err and "hwplan catalog workloads" in err
