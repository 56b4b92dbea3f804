"""Training runs from the command line: predict, plan, the batch form and bad input."""

from __future__ import annotations

import json

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwplan.app.cli import main

RUN_FIELDS = ("time_to_train_s", "device_hours", "usd_per_run_cloud", "usd_per_run_owned", "energy_kwh_per_run",
              "co2_kg_per_run", "mfu", "data_parallel", "tensor_parallel", "pipeline_parallel", "zero_stage",
              "recompute", "weights_gb", "grads_gb", "optimizer_gb", "activations_gb", "memory_gb_required")


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_predict_training_answers_with_a_run(seeded_db, capsys):
    assert main(["predict", "--mode", "training", "--workload", "llama3.1-8b", "--device", "nvidia-h100-sxm",
                 "--count", "64", "--tokens", "1e11", "--json", "--db", seeded_db]) == 0
    e = _json(capsys)
    assert all(e[f] is not None for f in RUN_FIELDS)
    assert e["train_volume"] == 1e11 and e["time_to_train_s"] > 0
    # the text form speaks of the run
    assert main(["predict", "--mode", "training", "--workload", "resnet50", "--device", "nvidia-a100-sxm-80gb",
                 "--count", "8", "--db", seeded_db]) == 0
    out = capsys.readouterr().out
    for word in ("time to train", "device-hours", "cost per run", "energy per run", "MLPerf Training resnet", "layout"):
        assert word in out


def test_plan_training_by_deadline_and_budget(seeded_db, capsys):
    assert main(["plan", "--mode", "training", "--workload", "llama3.1-70b", "--tokens", "1e12", "--deadline-hours",
                 "720", "--json", "--db", seeded_db]) == 0
    res = _json(capsys)
    assert res["feasible"] and res["ranked"]
    best = res["ranked"][0]
    assert best["time_to_train_h"] <= 720 and best["usd_per_run_cloud"] > 0
    budget = best["usd_per_run_cloud"] * 0.5
    assert main(["plan", "--mode", "training", "--workload", "llama3.1-70b", "--tokens", "1e12", "--deadline-hours",
                 "720", "--budget-usd", str(budget), "--json", "--db", seeded_db]) == 0
    res2 = _json(capsys)
    assert all(r["usd_per_run_cloud"] <= budget for r in res2["ranked"])


def test_the_batch_form_returns_time_to_train_for_training_rows(seeded_db, tmp_path, capsys):
    q = tmp_path / "q.csv"
    pd.DataFrame([
        {"workload": "resnet50", "device": "nvidia-h100-sxm", "device_count": 8, "scenario": "offline", "mode": "training"},
        {"workload": "llama3.1-8b", "device": "nvidia-h100-sxm", "device_count": 8, "scenario": "offline",
         "mode": "training", "tokens": "1e9"},
        {"workload": "resnet50", "device": "nvidia-h100-sxm", "device_count": 1, "scenario": "offline", "mode": ""},
    ]).to_csv(q, index=False)
    out = tmp_path / "out.csv"
    assert main(["predict", "--queries", str(q), "--out", str(out), "--db", seeded_db]) == 0
    df = pd.read_csv(out)
    assert df.loc[:1, "time_to_train_s"].gt(0).all() and pd.isna(df.loc[2, "time_to_train_s"])
    assert df.loc[2, "throughput"] > 0


@given(flag=st.sampled_from(["--tokens", "--samples", "--global-batch"]),
       bad=st.one_of(st.sampled_from(["0", "-5", "abc", "inf", "nan", "1e400", "1e17", ""]),
                     st.floats(max_value=0).map(repr)))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_bad_volume_exits_2_naming_the_field(seeded_db, capsys, flag, bad):
    rc = main(["predict", "--mode", "training", "--workload", "llama3.1-8b", "--device", "nvidia-h100-sxm",
               "--count", "8", f"{flag}={bad}", *(["--tokens", "1e9"] if flag == "--global-batch" else []), "--db", seeded_db])
    err = capsys.readouterr().err
    assert rc == 2 and flag in err and "Traceback" not in err


def test_a_zero_deadline_or_an_inference_workload_exits_2(seeded_db, capsys):
    assert main(["plan", "--mode", "training", "--workload", "resnet50", "--deadline-hours", "0", "--db", seeded_db]) == 2
    assert "--deadline-hours" in capsys.readouterr().err
    assert main(["plan", "--mode", "training", "--workload", "gpt-j", "--deadline-hours", "10", "--db", seeded_db]) == 2
    assert "inference-only" in capsys.readouterr().err
    assert main(["predict", "--workload", "resnet50", "--device", "nvidia-h100-sxm", "--tokens", "1e9",
                 "--db", seeded_db]) == 2
    assert "--mode training" in capsys.readouterr().err


def test_a_power_cap_that_binds_is_named_and_bad_kinds_or_a_throughput_are_refused(seeded_db, capsys):
    assert main(["plan", "--mode", "training", "--workload", "llama3.1-70b", "--tokens", "1e12", "--deadline-hours",
                 "720", "--power-cap-kw", "5", "--json", "--db", seeded_db]) == 0
    res = _json(capsys)
    assert not res["feasible"] and "power cap" in res["why"] and res["binding"] == "power cap"
    assert main(["plan", "--mode", "training", "--workload", "llama3.1-70b", "--tokens", "1e12", "--deadline-hours",
                 "720", "--kinds", "bogus", "--db", seeded_db]) == 2
    assert "--kinds: 'bogus'" in capsys.readouterr().err
    assert main(["plan", "--mode", "training", "--workload", "resnet50", "--deadline-hours", "2", "--throughput", "5",
                 "--db", seeded_db]) == 2
    assert "--throughput" in capsys.readouterr().err
    assert main(["plan", "--mode", "training", "--workload", "dlrm-v2", "--samples", "1e9", "--deadline-hours", "9",
                 "--db", seeded_db]) == 2
    assert "not modelled" in capsys.readouterr().err
