"""The results store on SQLite and a real PostgreSQL server: round trip, dedup, concurrent writers."""

import multiprocessing as mp
import os

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# ---- SQLite files with odd names: the read-only URI, the store URL, the light path --------------------------

# file names as a person may type them: spaces, '?', '#', '%', '&', '=', quotes, unicode; never '/' or NUL
_NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\x00"), min_size=1, max_size=24
                 ).filter(lambda n: n not in (".", ".."))
_ODD = st.one_of(_NAMES, st.sampled_from(["a b.db", "a?b.db", "a#b.db", "100%.db", "%20.db", "x?mode=rwc", "?", "#", "%"]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_ODD)
def test_read_only_uri_opens_that_very_file_and_never_writes(tmp_path, name):
    import sqlite3
    import uuid

    from hwplan.core.store import sqlite_readonly_uri

    folder = tmp_path / uuid.uuid4().hex
    folder.mkdir()
    path = folder / name
    con = sqlite3.connect(path)  # a plain path: what the name really is on disk
    con.execute("CREATE TABLE t (v TEXT)")
    con.execute("INSERT INTO t VALUES (?)", (name,))
    con.commit()
    con.close()
    ro = sqlite3.connect(sqlite_readonly_uri(path), uri=True)
    try:
        assert ro.execute("SELECT v FROM t").fetchone() == (name,)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            ro.execute("INSERT INTO t VALUES ('x')")
    finally:
        ro.close()
    assert sorted(p.name for p in folder.iterdir()) == [name]  # nothing else was created
    with pytest.raises(sqlite3.OperationalError):  # read-only never creates a file
        sqlite3.connect(sqlite_readonly_uri(folder / ("new-" + name)), uri=True).execute("SELECT 1")
    assert not (folder / ("new-" + name)).exists()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_ODD)
def test_a_store_at_an_odd_path_is_that_file_and_reopens_on_the_light_path(tmp_path, name):
    import uuid

    folder = tmp_path / uuid.uuid4().hex
    folder.mkdir()
    path = folder / name
    store = Store.open(str(path))
    store.add_measurements(make_rows(2))
    version = store.data_version()
    store.close()
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [name]
    again = Store.open(str(path))
    assert again._light and again.engine is None  # current SQLite store: opened read-only with sqlite3
    assert again.data_version() == version and again.revision() is not None and again.engine is None
    assert again.count() == 2
    again.close()
