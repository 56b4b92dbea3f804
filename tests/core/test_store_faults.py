"""Store faults end in one clear line and exit 2, never a traceback or a silent loss (issue 14)."""

from __future__ import annotations

import os
import sqlite3

import pytest
import sqlalchemy as sa

from hwplan.app.cli import main
from hwplan.core.errors import StoreError
from hwplan.core.store import Store
from tests.conftest import make_rows


def one_clear_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def test_random_bytes_named_db_are_refused(tmp_path, capsys):
    db = tmp_path / "junk.db"
    db.write_bytes(os.urandom(4096))
    before = db.read_bytes()
    assert main(["export", "--db", str(db)]) == 2
    assert "is not a SQLite database" in one_clear_line(capsys)
    assert db.read_bytes() == before


def test_a_foreign_sqlite_database_is_refused_untouched(tmp_path, capsys):
    db = tmp_path / "other.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    con.commit()
    con.close()
    make_rows(1).to_csv(tmp_path / "a.csv", index=False)
    assert main(["import", str(tmp_path / "a.csv"), "--db", str(db)]) == 2
    assert "a SQLite database of something else (tables: invoices), not an hwplan store" in one_clear_line(capsys)
    con = sqlite3.connect(db)
    assert [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["invoices"]
    con.close()


def test_a_store_of_a_newer_revision_is_refused_naming_the_upgrade(tmp_path, capsys):
    db = tmp_path / "s.db"
    Store.open(str(db)).close()
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = '0099'")
    con.commit()
    con.close()
    assert main(["export", "--db", str(db)]) == 2
    line = one_clear_line(capsys)
    assert "schema revision 0099" in line and "newer release; upgrade hwplan (pip install -U hwplan)" in line


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true"])
def test_stores_that_keep_nothing_are_refused_for_commands_that_store(tmp_path, capsys, url):
    make_rows(1).to_csv(tmp_path / "a.csv", index=False)
    for argv in (["import", str(tmp_path / "a.csv")], ["seed"]):
        assert main([*argv, "--db", url]) == 2
        line = one_clear_line(capsys)
        assert "in-memory SQLite database" in line and "give a file (--db results.db" in line
    with pytest.raises(StoreError):
        Store.open(url, writes=True)
    Store.open("sqlite:///:memory:").close()  # reading one is harmless


@pytest.mark.postgres
def test_postgres_connection_lost_is_retried_once_then_reported(pg_server, capsys):
    url = pg_server.create_db("t_lost")
    store = Store.open(url)
    store.add_measurements(make_rows(2, run_id="first"))

    def kill_backends() -> None:
        admin = sa.create_engine(pg_server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 't_lost'"))
        admin.dispose()

    kill_backends()  # the pooled connection is now dead: the next operation reconnects on its own
    assert store.count() == 2
    kill_backends()
    assert store.add_measurements(make_rows(2, run_id="second")).inserted == 2
    assert store.count() == 4
    store.close()

    dead = Store(url.replace(f":{pg_server.port}/", ":1/"))  # nothing listens on port 1
    with pytest.raises(StoreError, match=r"cannot reach the store at .* \(is PostgreSQL running"):
        dead.connect()
    assert main(["export", "--db", url.replace(f":{pg_server.port}/", ":1/")]) == 2
    assert "is PostgreSQL running" in one_clear_line(capsys)


@pytest.mark.postgres
def test_postgres_restart_mid_session_says_it_lost_the_connection(pg_server):
    url = pg_server.create_db("t_restart")
    store = Store.open(url)
    store.add_measurements(make_rows(1))
    data = pg_server.dir / "data"
    pg_server._run([_pg_ctl(), "-D", str(data), "-m", "fast", "-w", "stop"])
    try:
        with pytest.raises(StoreError, match=r"lost the connection to the store at .* \(is PostgreSQL running\?\)"):
            store.count()
    finally:
        pg_server._run([_pg_ctl(), "-D", str(data), "-l", str(pg_server.dir / "log"), "-w", "-t", "30", "start", "-o",
                        f"-p {pg_server.port} -k {pg_server.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c max_connections=200"])
    assert store.count() == 1  # back: the same handle works again
    store.close()


def _pg_ctl() -> str:
    from tests.pg import _bin

    return _bin("pg_ctl")
