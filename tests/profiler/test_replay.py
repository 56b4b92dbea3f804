"""Recorded profiles replayed: the fixture from this VM and the committed rows in data/measured/ validate,
store once, and say how each number was obtained."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hwplan.core.catalog import load_workloads
from hwplan.core.schema import validate_measurements
from hwplan.profiler.sinks import CsvSink, StoreSink

FIX = Path(__file__).parent / "fixtures"
MEASURED = Path(__file__).resolve().parents[2] / "data" / "measured"


def _profiler_files():
    files = [FIX / "profile-cpu-recorded.csv"]
    files += sorted(MEASURED.glob("cpu-*.csv"))
    return files


@pytest.mark.parametrize("path", _profiler_files(), ids=lambda p: p.name)
def test_recorded_rows_validate_and_explain_themselves(path):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    clean, problems = validate_measurements(df, file=path.name, known_workloads=set(load_workloads().index))
    assert problems == []
    assert (clean["source"] == "profiler").all() and (clean["host"] != "").all()
    ok = clean[clean["status"] == "ok"]
    assert ok["throughput"].gt(0).all() and ok["cov"].notna().all() and ok["repetitions"].ge(1).all()
    for _, r in clean[clean["status"] != "ok"].iterrows():
        assert r["error"], "a failed or skipped row carries its reason"
    # nothing estimated passes for measured: without a sensor the method is none or estimated-tdp
    assert set(ok["energy_method"]) <= {"none", "estimated-tdp", "nvml", "amdsmi", "rapl"}
    est = ok[ok["energy_method"] == "estimated-tdp"]
    assert est["notes"].str.contains("estimated").all()
    none = ok[ok["energy_method"] == "none"]
    assert none["energy_per_unit_j"].isna().all()
    llm = ok[ok["workload"].isin(["gpt-j", "llama2-70b", "llama3.1-8b", "mixtral-8x7b"]) & (ok["mode"] == "inference")]
    if len(llm):
        assert set(llm["phase"]) == {"prefill", "decode"} and (llm["throughput_unit"] == "tokens/s").all()
        assert llm["notes"].str.contains("layers at true width").all()


def test_replayed_rows_store_once(tmp_path):
    src = CsvSink(FIX / "profile-cpu-recorded.csv")
    rows = src.rows()
    store = StoreSink(f"sqlite:///{tmp_path / 'r.db'}").open()
    store.write(rows.to_dict("records"))
    store.write(rows.to_dict("records"))
    assert len(store.rows()) == len(rows)
    run = rows["run_id"].iloc[0]
    assert store.done_keys(run) == src.done_keys(run)


def test_reconcile_copies_rows_a_killed_run_left_in_one_sink_only(tmp_path):
    from hwplan.profiler.session import reconcile

    rows = CsvSink(FIX / "profile-cpu-recorded.csv").rows()
    run = rows["run_id"].iloc[0]
    rows = rows[rows["run_id"] == run]
    csv_sink = CsvSink(tmp_path / "a.csv").open()
    csv_sink.write(rows.to_dict("records"))
    store = StoreSink(f"sqlite:///{tmp_path / 'r.db'}").open()
    store.write(rows.iloc[:1].to_dict("records"))
    keys = reconcile([csv_sink, store], run)
    assert len(keys) == len(rows) and store.done_keys(run) == keys == csv_sink.done_keys(run)
