"""Uploads through the dashboard's function: validated like `hwplan import`, all rows or none."""

import io
import threading
import time

import pandas as pd
import pytest

from hwplan.app.dashboard.upload import upload
from hwplan.core.store import Store
from tests.conftest import make_rows


@pytest.fixture
def fresh(tmp_path):
    s = Store.open(str(tmp_path / "up.db"))
    yield s
    s.close()


def csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode()


def test_good_csv_is_stored(fresh):
    out = upload(fresh, [("good.csv", csv_bytes(make_rows(3)))])
    assert out.ok and out.inserted == 3 and fresh.count() == 3
    again = upload(fresh, [("good.csv", csv_bytes(make_rows(3)))])
    assert again.ok and again.inserted == 0 and again.duplicates == 3


def test_bad_rows_list_every_problem_and_store_nothing(fresh):
    df = make_rows(4)
    df.loc[1, "throughput"] = "fast"
    df.loc[3, "precision"] = "fp7"
    out = upload(fresh, [("bad.csv", csv_bytes(df))])
    assert not out.ok and fresh.count() == 0
    got = set(zip(out.problems["row"], out.problems["column"]))
    assert {(3, "throughput"), (5, "precision")} <= got  # CSV line numbers (header = line 1)
    assert list(out.problems.columns) == ["file", "row", "column", "problem", "expected"]
    assert "nothing was stored" in out.summary


def test_one_bad_file_stops_the_good_one_too(fresh):
    bad = make_rows(1, run_id="b")
    bad.loc[0, "device"] = "nvidia-h1OO"
    out = upload(fresh, [("good.csv", csv_bytes(make_rows(2))), ("bad.csv", csv_bytes(bad))])
    assert not out.ok and fresh.count() == 0
    assert "did you mean" in out.problems["problem"].iloc[0]


@pytest.mark.parametrize("name,data,needle", [
    ("empty.csv", b"", "is empty"),
    ("model.pkl", b"\x80\x04K\x01.", "cannot be read"),
    ("notes.txt", b"hello", "cannot be read"),
    ("broken.json", b"{not json", "could not be read as JSON"),
    ("broken.parquet", b"PAR1garbage", "could not be read as PARQUET"),
])
def test_unreadable_files_are_refused_with_a_reason(fresh, name, data, needle):
    out = upload(fresh, [(name, data)])
    assert not out.ok and fresh.count() == 0
    assert needle in " ".join(out.problems["problem"])


def test_too_large_is_refused(fresh):
    out = upload(fresh, [("big.csv", csv_bytes(make_rows(50)))], max_bytes=1000)
    assert not out.ok and "over the" in out.problems["problem"].iloc[0] and fresh.count() == 0


def test_json_and_parquet_are_accepted(fresh):
    js = make_rows(2, run_id="j").to_json(orient="records").encode()
    buf = io.BytesIO()
    make_rows(2, run_id="p").to_parquet(buf, index=False)
    out = upload(fresh, [("a.json", js), ("b.parquet", buf.getvalue())])
    assert out.ok and out.inserted == 4


def test_ten_thousand_rows_are_accepted_quickly(fresh):
    df = make_rows(1)
    big = pd.concat([df] * 10_000, ignore_index=True)
    big["batch_size"] = [str(i + 1) for i in range(10_000)]
    t0 = time.perf_counter()
    out = upload(fresh, [("big.csv", csv_bytes(big))])
    took = time.perf_counter() - t0
    assert out.ok and out.inserted == 10_000 and fresh.count() == 10_000
    assert took < 15, f"10,000 rows took {took:.1f} s"


def test_two_sessions_uploading_at_once_lose_nothing(tmp_path):
    url = str(tmp_path / "shared.db")
    Store.open(url).close()
    files = {
        "a": csv_bytes(pd.concat([make_rows(50, run_id="a"), make_rows(10, run_id="shared")], ignore_index=True)),
        "b": csv_bytes(pd.concat([make_rows(50, run_id="b"), make_rows(10, run_id="shared")], ignore_index=True)),
    }
    results, errors = {}, []
    start = threading.Barrier(2)

    def session(name):
        store = Store.open(url)  # each browser session has its own connection pool in the server
        try:
            start.wait()
            results[name] = upload(store, [(f"{name}.csv", files[name])])
        except Exception as exc:
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=session, args=(n,)) for n in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and all(r.ok for r in results.values())
    assert sum(r.inserted for r in results.values()) == 110
    assert Store.open(url).count() == 110


def test_an_upload_is_the_users_and_a_viewers_is_refused(fresh):
    from hwplan.core.accounts import User

    out = upload(fresh, [("vic.csv", csv_bytes(make_rows(2)))], actor=User("vic", "viewer"))
    assert not out.ok and fresh.count() == 0 and "viewers only read" in out.problems["problem"].iloc[0]
    out = upload(fresh, [("ana.csv", csv_bytes(make_rows(2, run_id="ana-1", source="published")))],
                 actor=User("ana", "planner"))
    assert out.ok and out.inserted == 2
    assert set(fresh.measurements()["source"]) == {"upload"}  # the server says where rows come from
    row = fresh.audit_log().iloc[0]
    assert (row["actor"], row["kind"], row["object_id"]) == ("ana", "upload", "ana-1") and "ana.csv" in row["detail"]
