"""`hwplan import`: all rows or none, every problem listed, duplicates kept once, only data formats read."""

import json
import pickle
import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwplan.app.cli import main
from hwplan.core import paths
from hwplan.core.errors import ValidationError
from hwplan.core.ingest import import_into, import_paths
from hwplan.core.store import Store
from tests.conftest import make_rows


def test_import_csv_json_parquet_then_duplicates(store, tmp_path):
    make_rows(3, run_id="a").to_csv(tmp_path / "a.csv", index=False)
    (tmp_path / "b.json").write_text(make_rows(2, run_id="b").to_json(orient="records"))
    make_rows(4, run_id="c").to_parquet(tmp_path / "c.parquet")
    rep = import_paths(store, [tmp_path / "a.csv", tmp_path / "b.json", tmp_path / "c.parquet"])
    assert (rep.result.inserted, rep.result.duplicates) == (9, 0)
    rep = import_paths(store, [tmp_path / "a.csv"])
    assert (rep.result.inserted, rep.result.duplicates) == (0, 3)
    assert store.count() == 9
    got = store.measurements(run_id="c").sort_values("batch_size")
    assert got["batch_size"].tolist() == [1, 2, 4, 8]
    assert got["throughput"].iloc[0] == pytest.approx(1000.5)


def test_cli_bad_rows_import_nothing_and_list_every_problem(tmp_path, capsys):
    db = tmp_path / "s.db"
    good = make_rows(2, run_id="good")
    bad = make_rows(3, run_id="bad")
    bad.loc[0, "throughput"] = "-5"
    bad.loc[2, "device"] = "h100"
    good.to_csv(tmp_path / "good.csv", index=False)
    bad.to_csv(tmp_path / "bad.csv", index=False)
    code = main(["import", str(tmp_path / "good.csv"), str(tmp_path / "bad.csv"), "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{tmp_path / 'bad.csv'}:2: throughput: -5 is out of range (expected a number > 0)" in err
    assert f"{tmp_path / 'bad.csv'}:4: device: 'h100' is not in the catalog; did you mean 'nvidia-h100-" in err
    assert "nothing was imported" in err
    assert Store.open(str(db)).count() == 0


def test_file_over_limit_refused_before_reading(tmp_path, capsys, monkeypatch):
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:  # sparse: 60 MB on paper, nothing to read
        f.truncate(60 * 1024 * 1024)
    import pathlib

    def no_read(self):
        raise AssertionError("the file was read")

    monkeypatch.setattr(pathlib.Path, "read_bytes", no_read)
    code = main(["import", str(big), "--db", str(tmp_path / "s.db")])
    assert code == 2
    assert "big.csv:file: is 62.9 MB, over the 52 MB limit" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["rows.pkl", "rows.pickle", "rows.xlsx", "rows"])
def test_only_data_formats_are_read(tmp_path, capsys, name):
    path = tmp_path / name
    path.write_bytes(pickle.dumps(make_rows(1)))
    code = main(["import", str(path), "--db", str(tmp_path / "s.db")])
    assert code == 2
    assert "cannot read" in capsys.readouterr().err


def test_published_table_reports_mapped_and_left_out(tmp_path, capsys):
    ref = tmp_path / "published_results.csv"
    raw = pd.read_csv(paths.RAW_MLPERF_CSV, dtype=str, keep_default_na=False)
    raw.to_csv(ref, index=False)
    code = main(["import", str(ref), "--db", str(tmp_path / "s.db"), "--json", "--as-published", "--citation",
                 "https://mlcommons.org/benchmarks/inference-datacenter/"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    f = out["files"][0]
    assert f["kind"] == "published"
    assert f["rows_mapped"] + f["rows_left_out"] == len(raw)
    assert f["left_out_reasons"]["speech recognition (RNN-T) has no reference workload"] == (raw["model"] == "rnnt").sum()
    assert out["inserted"] == f["rows_mapped"]
    rows = Store.open(str(tmp_path / "s.db")).measurements(source="published")
    mlperf = rows[rows["run_id"].str.startswith("mlperf")]
    assert set(mlperf["run_id"].str.extract(r"mlperf-inference-(v[\d.]+):")[0]) <= {"v3.0", "v3.1"}
    powered = mlperf[mlperf["power_avg_w"].notna()]
    assert len(powered) > 0 and (powered["power_scope"] == "system").all()
    assert (powered["energy_method"] == "published").all()


# ---- property-based: malformed files never raise, never half-write -------------------------

garbage_csv = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400).map(str.encode),
    st.lists(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8), max_size=6), max_size=6)
    .map(lambda rows: "\n".join(",".join(r) for r in rows).encode()),
    st.builds(lambda df, line: (df + line).encode(), st.just(make_rows(2).to_csv(index=False)),
              st.text(max_size=80)),
)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=12)
garbage_json = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.lists(st.dictionaries(st.sampled_from(list(make_rows(1).columns) + ["x"]), json_values, max_size=8), max_size=4)
    .map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.one_of(garbage_csv.map(lambda b: ("in.csv", b)), garbage_json.map(lambda b: ("in.json", b))))
def test_malformed_files_never_traceback_never_partial(tmp_path, payload):
    store = Store.open(str(tmp_path / "prop.db"))
    make_rows(2, run_id="already").pipe(store.add_measurements)
    name, data = payload
    before = store.measurements()
    try:
        good = make_rows(2, run_id="pair").to_csv(index=False).encode()
        rep = import_into(store, [(name, data, None), ("good.csv", good, None)])
    except ValidationError as err:
        assert err.problems and all(re.match(r"^[^:]+:(\d+|file): ", str(p)) for p in err.problems)
        assert not any(":0:" in str(p) for p in err.problems)
        after = store.measurements()
        pd.testing.assert_frame_equal(before, after)  # nothing was written
    else:
        assert rep.result.inserted >= 2  # a file that validates is a real table; its partner goes in too


def test_a_999_result_equal_to_the_99_result_takes_its_precision():
    from hwplan.core.published import map_published

    def row(model, value, system="Acme: box (8x L4) [BOX]"):
        return {"benchmark": "MLPerf Inference", "round": "v3.0", "model": model, "scenario": "Offline",
                "system": system, "accelerator": "NVIDIA L4", "accelerator_count": "8", "metric": "throughput",
                "value": str(value), "unit": "samples/s", "power_w": "", "energy_metric": "", "source": "test",
                "notes": ""}

    raw = pd.DataFrame([row("3d-unet-99", 8.2), row("3d-unet-99.9", 8.21),  # one engine ran both
                        row("bert-99", 1000), row("bert-99.9", 500)])  # the stricter target needed fp16
    mapped, _ = map_published(raw)
    prec = dict(zip(mapped["workload"] + "-" + mapped["accuracy_target"], mapped["precision"]))
    assert prec["3d-unet-99"] == prec["3d-unet-99.9"] == "int8"
    assert prec["bert-large-99"] == "int8" and prec["bert-large-99.9"] == "fp16"
    assert "one engine ran both" in mapped.loc[mapped["accuracy_target"] == "99.9", "notes"].iloc[0]


def test_shipped_published_rows_are_what_the_raw_table_maps_to():
    """data/published_results.csv is exactly what scripts/build_published.py makes of data/raw/ (nothing edited by hand)."""
    from hwplan.core.catalog import load_catalog, load_workloads
    from hwplan.core.tableio import load_file, write_table

    table = load_file(paths.RAW_MLPERF_CSV.name, path=paths.RAW_MLPERF_CSV, max_bytes=1 << 30,
                      known_workloads=set(load_workloads().index), known_devices=set(load_catalog().index))
    assert not table.problems
    assert write_table(table.rows, "csv", None) == paths.PUBLISHED_CSV.read_bytes()


def test_shipped_serving_rows_are_what_the_raw_serving_tables_map_to():
    """data/published_serving.csv is exactly what scripts/build_published.py makes of the raw LLM serving tables;
    every row keeps its request shape, layout and source."""
    import pandas as pd

    from hwplan.core.catalog import load_catalog, load_workloads
    from hwplan.core.tableio import load_file, write_table

    tables = [load_file(src.name, path=src, max_bytes=1 << 30, known_workloads=set(load_workloads().index),
                        known_devices=set(load_catalog().index)) for src in paths.RAW_SERVING]
    assert not [p for t in tables for p in t.problems]
    rows = pd.concat([t.rows for t in tables], ignore_index=True)
    assert write_table(rows, "csv", None) == paths.PUBLISHED_SERVING_CSV.read_bytes()
    assert rows["input_len"].gt(0).all() and rows["output_len"].gt(0).all() and rows["tensor_parallel"].ge(1).all()
    assert rows["source_ref"].astype(str).str.len().gt(10).all()
    # every row is its own result in the store: rows at different request rates do not collapse into one
    from hwplan.core.store import row_keys

    assert len(set(row_keys(rows))) == len(rows)
    assert rows["request_rate_per_s"].notna().sum() == 60  # TensorRT-LLM 0.14's online table: offered loads
    assert not rows["notes"].astype(str).str.contains(r"MLPerf Inference v[4-9]|ML\.ENERGY", regex=True).any()


def test_stores_holding_only_the_shipped_rows_share_a_data_version_and_an_upload_changes_it(tmp_path):
    """The fitted-model cache is keyed by the data version: a fresh store seeded from the shipped data reuses the
    model of any other such store, and a store with anything more gets its own."""
    from hwplan.core.ingest import seed_store

    a, b = Store.open(str(tmp_path / "a.db")), Store.open(str(tmp_path / "b.db"))
    seed_store(a)
    seed_store(b)
    assert a.data_version() == b.data_version()
    row = a.measurements().head(1).assign(run_id="upload-1", throughput=123.0)
    a.add_measurements(row)
    assert a.data_version() != b.data_version()
