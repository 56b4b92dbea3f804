"""The results store on SQLite and a real PostgreSQL server: round trip, dedup, concurrent writers."""

import multiprocessing as mp
import os

import pandas as pd
import pytest

from hwplan.core.errors import StoreError, ValidationError
from hwplan.core.store import Store
from tests.conftest import make_rows


def test_round_trip_keeps_types_and_values(store):
    rows = make_rows(3)
    rows.loc[1, "seq_len"] = "384"
    res = store.add_measurements(rows)
    assert (res.inserted, res.duplicates) == (3, 0)
    got = store.measurements().sort_values("batch_size").reset_index(drop=True)
    assert got["batch_size"].tolist() == [1, 2, 4]
    assert got["seq_len"].iloc[1] == 384 and pd.isna(got["seq_len"].iloc[0])
    assert got["power_avg_w"].tolist() == [500.0] * 3
    assert got["device"].tolist() == ["nvidia-h100-sxm"] * 3


def test_duplicates_in_store_and_in_batch_are_kept_once(store):
    rows = make_rows(2)
    res = store.add_measurements(pd.concat([rows, rows]))
    assert (res.inserted, res.duplicates) == (2, 2)
    res = store.add_measurements(make_rows(3))
    assert (res.inserted, res.duplicates) == (1, 2)
    assert store.count() == 3


def test_invalid_batch_stores_nothing(store):
    rows = make_rows(5)
    rows.loc[4, "status"] = "maybe"
    with pytest.raises(ValidationError):
        store.add_measurements(rows)
    assert store.count() == 0


def test_reports_and_assumption_sets(store):
    store.put_report("r" * 32, "Plan <b>", "ana", "2026-11-29T00:00:00Z", {"a": [1, 2]})
    assert store.get_report("r" * 32)["payload"] == {"a": [1, 2]}
    assert store.get_report("nope") is None
    assert store.list_reports()["title"].tolist() == ["Plan <b>"]
    assert store.delete_report("r" * 32) and store.get_report("r" * 32) is None
    store.put_assumptions("eu", "2026-11-29T00:00:00Z", {"pue": 1.2})
    store.put_assumptions("eu", "2026-11-29T00:00:01Z", {"pue": 1.3})
    assert store.get_assumptions("eu") == {"pue": 1.3} and store.list_assumptions() == ["eu"]


def test_unreachable_store_says_what_to_check():
    with pytest.raises(StoreError, match="--db"):
        Store.open("postgresql+psycopg://nobody@127.0.0.1:1/none")


def _writer(url: str, worker: int, q) -> None:
    try:
        s = Store.open(url)
        total = 0
        for batch in range(8):
            # Each worker writes its own rows plus rows every worker writes (same keys).
            own = make_rows(6, run_id=f"w{worker}-b{batch}")
            shared = make_rows(2, run_id=f"shared-b{batch}")
            total += s.add_measurements(pd.concat([own, shared])).inserted
        q.put(total)
    except Exception as exc:  # report to the parent instead of dying silently
        q.put(repr(exc))


def test_concurrent_writers_lose_nothing(store_url):
    Store.open(store_url).close()  # tables exist before the race
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(store_url, w, q)) for w in range(4)]
    for p in procs:
        p.start()
    results = [q.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(isinstance(r, int) for r in results), results
    expected = 4 * 8 * 6 + 8 * 2
    assert sum(results) == expected  # every row inserted exactly once across writers
    assert Store.open(store_url).count() == expected


def _opener(url: str, q) -> None:
    try:
        s = Store.open(url)
        s.add_measurements(make_rows(1, run_id=f"opener-{os.getpid()}"))
        q.put("ok")
    except Exception as exc:
        q.put(repr(exc))


def test_processes_opening_a_new_store_at_once_all_succeed(store_url):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_opener, args=(store_url, q)) for _ in range(4)]
    for p in procs:
        p.start()
    results = [q.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert results == ["ok"] * 4
    assert Store.open(store_url).count() == 4


def test_data_version_changes_with_every_write_of_rows(store):
    v0 = store.data_version()
    store.add_measurements(make_rows(2, run_id="a"))
    v1 = store.data_version()
    assert v1 != v0
    store.add_measurements(make_rows(2, run_id="a"))  # duplicates only: nothing written
    assert store.data_version() == v1
    store.put_report("r" * 32, "t", "", "2026-01-01T00:00:00Z", {})  # reports do not touch the rows
    assert store.data_version() == v1
    assert store.delete_run("a") == 2
    assert store.data_version() not in (v0, v1)
    assert store.delete_run("a") == 0
