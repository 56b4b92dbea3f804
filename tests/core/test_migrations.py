"""A store written by the previous release opens and is upgraded in place; the migrations build exactly the
tables the code uses; a store from a newer release is refused with a clear message."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest
import sqlalchemy as sa

from hwplan.core.errors import StoreError
from hwplan.core.store import SCHEMA_REVISION, Store
from tests.conftest import make_rows

OLD_STORE = Path(__file__).parent / "fixtures" / "store-v0.1.0.sqlite"


def _alembic_config(conn):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(files("hwplan.core") / "migrations"))
    cfg.attributes["connection"] = conn
    return cfg


def test_schema_revision_is_the_newest_migration():
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(None)
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_REVISION


def test_a_store_written_by_0_1_0_opens_and_upgrades_with_nothing_lost(tmp_path):
    path = tmp_path / "old.sqlite"
    shutil.copy(OLD_STORE, path)
    con = sqlite3.connect(path)
    assert "alembic_version" not in {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    con.close()
    store = Store.open(str(path))
    assert store.revision() == SCHEMA_REVISION
    rows = store.measurements()
    assert len(rows) == 5 and set(rows["run_id"]) == {"v010-upload", "v010-upload-2"}
    assert rows["throughput"].tolist().count(321.5) == 2
    assert store.get_report("A" * 32)["title"] == "A report saved by 0.1.0"
    assert store.get_assumptions("team-defaults")["pue"] == 1.2
    assert store.get_meta("seeded_data_version") == "made-by-0.1.0"
    v = store.data_version()
    assert v and not v.startswith("rows-")  # the migration gave it a data version
    assert store.add_measurements(make_rows(2, run_id="after-upgrade")).inserted == 2
    assert store.data_version() != v
    store.close()
    again = Store.open(str(path))  # a second open finds it current and opens it without migrating
    assert again.revision() == SCHEMA_REVISION and again.count() == 7


def _schema(conn) -> dict:
    """Every table of a database: its columns (type as the dialect writes it, nullable, primary key), unique
    constraints and indexes, as plain data to compare."""
    insp = sa.inspect(conn)
    out = {}
    for table in sorted(set(insp.get_table_names()) - {"alembic_version"}):
        pk = set(insp.get_pk_constraint(table)["constrained_columns"])
        cols = {c["name"]: (_type_name(c["type"], conn.dialect), bool(c["nullable"]) and c["name"] not in pk,
                            c["name"] in pk) for c in insp.get_columns(table)}
        uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints(table)}
        indexes = set()
        for ix in insp.get_indexes(table):
            if ix.get("unique"):  # SQLite reports a UNIQUE constraint as a unique index too
                uniques.add(tuple(ix["column_names"]))
            else:
                indexes.add((ix["name"], tuple(ix["column_names"])))
        out[table] = {"columns": cols, "unique": uniques, "indexes": indexes}
    return out


def _type_name(t, dialect) -> str:
    name = t.compile(dialect=dialect).upper()
    return {"FLOAT": "DOUBLE PRECISION", "FLOAT(53)": "DOUBLE PRECISION"}.get(name, name) \
        if dialect.name == "postgresql" else name


def _expected_schema(dialect) -> dict:
    from hwplan.core.tables import metadata

    out = {}
    for table in metadata.sorted_tables:
        cols = {c.name: (_type_name(c.type, dialect), bool(c.nullable) and not c.primary_key, c.primary_key)
                for c in table.columns}
        uniques = {(c.name,) for c in table.columns if c.unique}
        uniques |= {tuple(col.name for col in u.columns) for u in table.constraints if isinstance(u, sa.UniqueConstraint)}
        indexes = {(ix.name, tuple(c.name for c in ix.columns)) for ix in table.indexes if not ix.unique}
        out[table.name] = {"columns": cols, "unique": uniques, "indexes": indexes}
    return out


def _assert_same_schema(got: dict, want: dict) -> None:
    """Table by table, column by column, so a failure names what differs."""
    assert sorted(got) == sorted(want)
    for table in want:
        g, w = got[table], want[table]
        assert sorted(g["columns"]) == sorted(w["columns"]), f"{table}: columns"
        for col in w["columns"]:
            assert g["columns"][col] == w["columns"][col], f"{table}.{col}: (type, nullable, primary key)"
        assert g["unique"] == w["unique"], f"{table}: unique constraints"
        assert g["indexes"] == w["indexes"], f"{table}: indexes"


def test_the_whole_migration_chain_from_an_empty_database_builds_tables_metadata(store_url):
    """Alembic's chain, 0001 to the newest, run on an empty database (not the store's shortcut for new stores,
    `metadata.create_all`): every table, column, type, nullability, key, unique constraint and index is what
    hwplan.core.tables declares, and Alembic's own comparison (types included) finds no difference."""
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from hwplan.core.tables import metadata

    engine = sa.create_engine(store_url)
    try:
        with engine.begin() as conn:
            assert sa.inspect(conn).get_table_names() == []
            command.upgrade(_alembic_config(conn), "head")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == SCHEMA_REVISION
            got = _schema(conn)
            _assert_same_schema(got, _expected_schema(conn.dialect))
            assert list(got["measurements"]["columns"])[:2] == ["row_id", "row_key"]
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_a_new_store_has_the_same_schema_as_the_migrated_one(store_url, tmp_path):
    """What `Store.open` makes of an empty database (create_all, stamped) equals the migration chain's result."""
    store = Store.open(store_url)
    with store._engine().connect() as conn:
        _assert_same_schema(_schema(conn), _expected_schema(conn.dialect))
    store.close()


@pytest.mark.postgres
def test_a_postgres_store_of_0_1_0_upgrades(pg_server):
    """The 0.1.0 schema on PostgreSQL (the baseline migration alone, no version table), with rows in it."""
    from alembic import command

    url = pg_server.create_db("old_pg_store")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0001")
        conn.execute(sa.text("DROP TABLE alembic_version"))
        old = sqlite3.connect(OLD_STORE)
        cols = [r[1] for r in old.execute("PRAGMA table_info(measurements)")]
        for row in old.execute(f"SELECT {', '.join(cols)} FROM measurements"):
            conn.execute(sa.text(f"INSERT INTO measurements ({', '.join(cols)}) VALUES "
                                 f"({', '.join(':' + c for c in cols)})"), dict(zip(cols, row)))
    engine.dispose()
    store = Store.open(url)
    assert store.revision() == SCHEMA_REVISION and store.count() == 5 and store.data_version()
    store.close()


def test_a_store_from_a_newer_release_is_refused(tmp_path):
    path = tmp_path / "new.sqlite"
    Store.open(str(path)).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match=r"schema revision 9999.*newer release; upgrade hwplan"):
        Store.open(str(path))


def test_several_processes_upgrading_one_old_store_at_once(tmp_path):
    path = tmp_path / "old.sqlite"
    shutil.copy(OLD_STORE, path)
    code = (f"from hwplan.core.store import Store; s = Store.open({str(path)!r}); "
            "print(s.revision(), s.count())")
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    assert {o.strip() for o, _ in outs} == {f"{SCHEMA_REVISION} 5"}


def test_the_0_1_0_store_gains_the_serving_columns_empty(tmp_path):
    path = tmp_path / "old.sqlite"
    shutil.copy(OLD_STORE, path)
    store = Store.open(str(path))
    rows = store.measurements()
    for c in ("input_len", "output_len", "tensor_parallel", "pipeline_parallel", "expert_parallel", "kv_precision",
              "concurrency", "ttft_p50_s", "ttft_p99_s", "tpot_p50_s", "tpot_p99_s", "software_date"):
        assert c in rows.columns and (rows[c].isna() | (rows[c].astype(str) == "")).all()  # text: empty
    # a serving row written after the upgrade keeps its request shape and layout
    new = make_rows(1, run_id="serving-after-upgrade", workload="llama2-70b", throughput_unit="tokens/s",
                    input_len=2048, output_len=128, tensor_parallel=8, ttft_p50_s=0.25)
    assert store.add_measurements(new).inserted == 1
    got = store.measurements()
    got = got[got["run_id"] == "serving-after-upgrade"].iloc[0]
    assert got["input_len"] == 2048 and got["tensor_parallel"] == 8 and got["ttft_p50_s"] == 0.25
    store.close()
