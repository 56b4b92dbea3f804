"""Fuzzing the importer (issue 14): schema-valid rows, mutated (huge, infinite and NaN numbers, None, lists, bytes,
times, long strings, bad UTF-8, truncation), in every format: only ValidationError / HwplanError, never a partial
write, and bounded memory."""

from __future__ import annotations

import io
import json
import tracemalloc

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwplan.core.errors import HwplanError
from hwplan.core.ingest import import_into
from hwplan.core.store import Store
from tests.conftest import make_rows

BASE = make_rows(3, run_id="fuzz")
COLUMNS = list(BASE.columns)
ODD = st.one_of(
    st.none(), st.just(float("inf")), st.just(float("-inf")), st.just(float("nan")), st.just(10 ** 400),
    st.integers(), st.floats(), st.booleans(), st.text(max_size=30), st.integers(4000, 5000).map(lambda n: "x" * n),
    st.binary(max_size=20), st.lists(st.integers(), max_size=3), st.datetimes(), st.just("=HYPERLINK(\"x\")"),
)


def encode(fmt: str, rows: list[dict]) -> bytes:
    if fmt == "parquet":
        cols = {c: [r.get(c) for r in rows] for c in {k for r in rows for k in r}}
        arrays = {}
        for c, vals in cols.items():
            try:
                arrays[c] = pa.array(vals)
            except (pa.ArrowException, OverflowError, TypeError, ValueError):
                arrays[c] = pa.array([None if v is None else repr(v) for v in vals])  # mixed types: as text
        buf = io.BytesIO()
        pq.write_table(pa.table(arrays), buf)
        return buf.getvalue()

    def plain(v):
        if isinstance(v, bytes):
            return v.decode("latin-1")
        if isinstance(v, (pd.Timestamp,)) or hasattr(v, "isoformat"):
            return v.isoformat()
        return v
    if fmt == "csv":
        df = pd.DataFrame([{k: plain(v) for k, v in r.items()} for r in rows])
        return df.to_csv(index=False).encode("utf-8", "surrogatepass")
    recs = [{k: plain(v) for k, v in r.items()} for r in rows]
    try:
        if fmt == "json":
            return json.dumps(recs).encode("utf-8", "surrogatepass")
        return "\n".join(json.dumps(r) for r in recs).encode("utf-8", "surrogatepass")
    except ValueError:  # an integer past Python's str() limit: its text
        return b'[{"device_count": ' + b"9" * 5000 + b"}]"


@st.composite
def mutated_file(draw, fmt: str) -> bytes:
    rows = BASE.to_dict("records")
    for _ in range(draw(st.integers(1, 4))):
        r = draw(st.integers(0, len(rows) - 1))
        rows[r][draw(st.sampled_from(COLUMNS + ["extra"]))] = draw(ODD)
    data = encode(fmt, rows)
    how = draw(st.sampled_from(["as is", "truncated", "bad utf-8"]))
    if how == "truncated":
        data = data[: draw(st.integers(0, max(len(data) - 1, 0)))]
    elif how == "bad utf-8":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\xff\xfe\xc3" + data[at:]
    return data


def check_import(store: Store, name: str, data: bytes) -> None:
    before = store.count()
    try:
        rep = import_into(store, [(name, data, None)])
    except HwplanError:  # ValidationError is one
        assert store.count() == before  # nothing half-written
        return
    assert store.count() == before + rep.result.inserted
    assert set(store.measurements()["source"]) <= {"upload"}


def fuzz(fmt: str, examples: int):
    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                            HealthCheck.data_too_large])
    @given(data=mutated_file(fmt))
    def examples_of(store, data):
        check_import(store, f"in.{fmt}", data)

    def run(tmp_path):
        store = Store.open(str(tmp_path / f"fuzz-{fmt}.db"))  # one store for every example: rows accumulate
        try:
            examples_of(store)
        finally:
            store.close()
    return run


test_fuzz_csv = fuzz("csv", 60)
test_fuzz_json = fuzz("json", 60)
test_fuzz_jsonl = fuzz("jsonl", 60)
test_fuzz_parquet = fuzz("parquet", 60)


def test_a_highly_compressible_parquet_is_refused_from_its_metadata_in_bounded_memory(tmp_path):
    """40,000 rows of 2,000 zeros per cell in 30 columns: ~2.4 GB once decompressed, a few hundred KB on disk."""
    table = pa.table({f"c{i}": pa.array(["0" * 2000] * 40_000) for i in range(30)})
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", use_dictionary=False, row_group_size=40_000)
    data = buf.getvalue()
    del table
    store = Store.open(str(tmp_path / "bomb.db"))
    tracemalloc.start()
    try:
        import_into(store, [("bomb.parquet", data, None)])
    except HwplanError as err:
        assert "over the 52 MB limit" in str(err) and "decompresses to" in str(err)
    else:
        raise AssertionError("the bomb was imported")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 200e6, f"peak {peak / 1e6:.0f} MB"
    assert store.count() == 0
