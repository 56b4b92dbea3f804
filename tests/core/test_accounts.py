"""Accounts in the store: password hashes, the permission rule, the store refusing what a role may not do, who
sees which report, the audit log, and a store of the previous release gaining accounts."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from hwplan.core import accounts
from hwplan.core.accounts import ADMIN, LOCAL, PLANNER, VIEWER, PermissionDenied, User
from hwplan.core.errors import HwplanError, UnknownIdError
from hwplan.core.store import SCHEMA_REVISION, Store
from tests.conftest import make_rows
from tests.core.test_migrations import _alembic_config

ANA, BEN, VIC = User("ana", PLANNER), User("ben", PLANNER), User("vic", VIEWER)
BOSS = User("boss", ADMIN)


# ---- passwords -------------------------------------------------------------------------------------------------

def test_a_hash_verifies_its_password_and_no_other():
    h = accounts.hash_password("correct horse")
    assert h.startswith("scrypt$32768$8$1$") and "correct" not in h
    assert accounts.verify_password("correct horse", h)
    assert not accounts.verify_password("correct hors", h)
    assert not accounts.verify_password("", h)


def test_hashes_are_salted():
    a, b = accounts.hash_password("same password"), accounts.hash_password("same password")
    assert a != b and a.split("$")[4] != b.split("$")[4]
    assert accounts.verify_password("same password", a) and accounts.verify_password("same password", b)


@pytest.mark.parametrize("bad", [None, "", "plain", "md5$x$y$z$a$b", "scrypt$x$8$1$AAAA$BBBB", "scrypt$1$1$1$!!$??"])
def test_a_malformed_hash_never_verifies(bad):
    assert not accounts.verify_password("anything", bad)


def test_a_short_password_is_refused():
    with pytest.raises(HwplanError, match="at least 8"):
        accounts.hash_password("short")


# ---- the permission rule ---------------------------------------------------------------------------------------

NAMES = st.sampled_from(["ana", "ben", "local"])


@settings(max_examples=300, deadline=None)
@given(role=st.sampled_from(accounts.ROLES), name=NAMES, action=st.sampled_from(accounts.ACTIONS),
       owner=st.one_of(st.none(), NAMES), shared=st.booleans())
def test_the_permission_matrix(role, name, action, owner, shared):
    user = User(name, role)
    got = accounts.allowed(user, action, owner, shared)
    own = owner == name
    if role == ADMIN:
        want = True
    elif action == accounts.READ:
        want = own or shared or owner is None
    elif role == VIEWER:
        want = False
    elif action == accounts.CREATE:
        want = True
    elif action == accounts.MODIFY:
        want = own
    else:
        want = False
    assert got == want
    assert not accounts.allowed(None, action, owner, shared)  # no one signed in: nothing


def test_an_unknown_role_is_named():
    with pytest.raises(UnknownIdError, match=r"role 'editor' is not known.*viewer, planner, admin"):
        accounts.check_role("editor")


# ---- the store enforces it ------------------------------------------------------------------------------------

def _report(store, rid, actor, shared=False, title="t"):
    store.put_report(rid * 32, title, actor.name, "2026-12-01T00:00:00Z", {"x": 1}, actor=actor, shared=shared)
    return rid * 32


def test_only_the_owner_or_an_admin_deletes_a_report(store):
    rid = _report(store, "a", ANA, shared=True)
    with pytest.raises(PermissionDenied, match=r"vic \(viewer\) may not delete the report 't'.*owned by ana"):
        store.delete_report(rid, actor=VIC)
    with pytest.raises(PermissionDenied, match="ben"):
        store.delete_report(rid, actor=BEN)
    assert store.get_report(rid) is not None
    assert store.delete_report(rid, actor=ANA)
    rid = _report(store, "b", BEN)
    assert store.delete_report(rid, actor=BOSS)
    assert not store.delete_report(rid, actor=BOSS)  # gone: nothing to delete


def test_a_viewer_cannot_save_upload_or_save_assumptions(store):
    with pytest.raises(PermissionDenied, match="viewers only read"):
        _report(store, "c", VIC)
    with pytest.raises(PermissionDenied, match="upload"):
        store.add_measurements(make_rows(2), actor=VIC)
    with pytest.raises(PermissionDenied):
        store.put_assumptions("mine", "2026-12-01T00:00:00Z", {"pue": 1.1}, actor=VIC)
    assert store.list_reports(BOSS).empty and store.count() == 0 and store.list_assumptions() == []
    assert store.audit_log().empty  # nothing changed, nothing recorded


def test_a_planner_cannot_overwrite_another_planners_assumption_set(store):
    store.put_assumptions("eu", "2026-12-01T00:00:00Z", {"pue": 1.2}, actor=ANA)
    with pytest.raises(PermissionDenied, match=r"overwrite the assumption set 'eu'.*owned by ana"):
        store.put_assumptions("eu", "2026-12-01T00:00:01Z", {"pue": 9.9}, actor=BEN)
    assert store.get_assumptions("eu") == {"pue": 1.2}
    store.put_assumptions("eu", "2026-12-01T00:00:02Z", {"pue": 1.3}, actor=ANA)
    store.put_assumptions("eu", "2026-12-01T00:00:03Z", {"pue": 1.4}, actor=BOSS)
    assert store.get_assumptions("eu") == {"pue": 1.4}
    log = store.audit_log()
    assert log[log["kind"] == "assumptions"]["action"].tolist() == ["update", "update", "create"]


def test_published_rows_need_an_admin(store):
    rows = make_rows(1, source="published", source_ref="https://mlcommons.org")
    with pytest.raises(PermissionDenied, match="published"):
        store.add_measurements(rows, actor=ANA)
    assert store.add_measurements(rows, actor=BOSS).inserted == 1


def test_an_upload_records_its_uploader_and_an_audit_row(store):
    assert store.add_measurements(make_rows(2, run_id="ana-run"), actor=ANA, file="ana.csv").inserted == 2
    with store._engine().connect() as conn:
        assert {r[0] for r in conn.execute(sa.text("SELECT uploaded_by FROM measurements"))} == {"ana"}
    row = store.audit_log().iloc[0]
    assert (row["actor"], row["action"], row["kind"], row["object_id"]) == ("ana", "create", "upload", "ana-run")
    assert "2 new row(s)" in row["detail"] and "ana.csv" in row["detail"]


def test_the_report_list_shows_own_shared_and_ownerless_reports(store):
    mine = _report(store, "m", ANA)
    theirs = _report(store, "t", BEN)
    shared = _report(store, "s", BEN, shared=True)
    legacy = _report(store, "l", LOCAL)
    with store._engine().begin() as conn:  # a report saved before accounts: no owner
        conn.execute(sa.text("UPDATE reports SET owner = NULL WHERE id = :i"), {"i": legacy})
    assert set(store.list_reports(ANA)["id"]) == {mine, shared, legacy}
    assert set(store.list_reports(VIC)["id"]) == {shared, legacy}
    assert set(store.list_reports(BOSS)["id"]) == {mine, theirs, shared, legacy}
    assert store.list_reports(None).empty
    assert store.may_read_report(shared, VIC) and not store.may_read_report(theirs, VIC)
    assert not store.may_read_report(theirs, None) and not store.may_read_report("z" * 32, BOSS)
    got = store.get_report(shared)
    assert got["owner"] == "ben" and got["shared"] is True


def test_user_management_and_its_audit(store):
    store.add_user("root", "a long password", ADMIN)
    store.add_user("ana", "ana's password", PLANNER, actor=User("root", ADMIN))
    with pytest.raises(HwplanError, match="a user named 'ana' already exists"):
        store.add_user("ana", "another password", VIEWER)
    with pytest.raises(UnknownIdError, match="role 'boss'"):
        store.add_user("cid", "a long password", "boss")
    with pytest.raises(PermissionDenied, match="only an admin"):
        store.add_user("cid", "a long password", VIEWER, actor=ANA)
    assert store.authenticate("ana", "ana's password") == ANA
    assert store.authenticate("ana", "wrong password") is None
    assert store.authenticate("nobody", "ana's password") is None
    store.set_role("ana", VIEWER)
    assert store.authenticate("ana", "ana's password") == User("ana", VIEWER)
    with pytest.raises(HwplanError, match="last admin"):
        store.delete_user("root")
    with pytest.raises(UnknownIdError, match=r"user 'anna'.*did you mean 'ana'"):
        store.delete_user("anna")
    store.delete_user("ana")
    assert store.list_users()["name"].tolist() == ["root"]
    log = store.audit_log(limit=None)
    assert log["action"].tolist()[::-1] == ["create", "create", "login", "login-failed", "login-failed", "update",
                                           "login", "delete"]
    assert (log["kind"] == "user").all()
    assert store.audit_log(limit=2)["action"].tolist() == ["delete", "login"]


def test_an_unknown_oidc_email_becomes_a_viewer(store):
    assert store.oidc_user("Eve@Example.com", "https://idp.example") == User("eve@example.com", VIEWER)
    store.set_role("eve@example.com", PLANNER)
    assert store.oidc_user("eve@example.com") == User("eve@example.com", PLANNER)
    log = store.audit_log(limit=None)
    assert "first OIDC sign-in via https://idp.example: role viewer" in log["detail"].tolist()


def test_a_failed_change_writes_no_audit_row(store):
    rid = _report(store, "f", ANA)
    n = len(store.audit_log(limit=None))
    with pytest.raises(PermissionDenied):
        store.delete_report(rid, actor=BEN)
    assert len(store.audit_log(limit=None)) == n


# ---- a store of the previous release ---------------------------------------------------------------------------

def test_a_0003_store_with_reports_gains_accounts(store_url):
    from alembic import command

    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0003")
        conn.execute(sa.text("INSERT INTO reports (id, title, author, created_at, payload) VALUES "
                             "(:i, 'old plan', 'ana', '2026-11-01T00:00:00Z', '{}')"), {"i": "o" * 32})
        conn.execute(sa.text("INSERT INTO assumption_sets (name, created_at, payload) VALUES "
                             "('team', '2026-11-01T00:00:00Z', '{\"pue\": 1.2}')"))
    engine.dispose()
    store = Store.open(store_url)
    try:
        assert store.revision() == SCHEMA_REVISION == "0004"
        old = store.get_report("o" * 32)
        assert old["owner"] is None and old["shared"] is False and old["title"] == "old plan"
        assert "o" * 32 in set(store.list_reports(BOSS)["id"]) and "o" * 32 in set(store.list_reports(VIC)["id"])
        with pytest.raises(PermissionDenied, match="owned by no one"):
            store.delete_report("o" * 32, actor=ANA)
        with pytest.raises(PermissionDenied):
            store.put_assumptions("team", "2026-12-01T00:00:00Z", {"pue": 2.0}, actor=ANA)
        assert store.list_users().empty and not store.has_users()
        assert store.delete_report("o" * 32, actor=BOSS)
    finally:
        store.close()


def test_too_many_failed_sign_ins_refuse_the_name_for_a_while(store):
    store.add_user("ana", "ana's password", PLANNER)
    store.add_user("ben", "ben's password", PLANNER)
    for _ in range(accounts.LOGIN_FAILURES_ALLOWED):
        assert store.authenticate("ana", "guess") is None
    with pytest.raises(accounts.TooManyTries, match="too many failed sign-ins for 'ana' in the last 15 minutes"):
        store.authenticate("ana", "ana's password")  # even the right password, while it lasts
    assert store.authenticate("ben", "ben's password") == BEN  # another name is not affected
    with store._engine().begin() as conn:  # the tries grow old
        conn.execute(sa.text("UPDATE audit SET at = '2000-01-01T00:00:00.000000Z' WHERE action = 'login-failed'"))
    assert store.authenticate("ana", "ana's password") == ANA


def test_the_light_users_check_reads_a_sqlite_file_without_the_store(tmp_path):
    db = tmp_path / "s.db"
    assert accounts.file_has_users(db) is False  # not there yet: a fresh store has no users
    store = Store.open(str(db))
    assert accounts.file_has_users(f"sqlite:///{db}") is False and store.has_users() is False
    store.add_user("root", "a long password", ADMIN, actor=LOCAL)
    store.close()
    assert accounts.file_has_users(db) is True and Store(f"sqlite:///{db}").has_users() is True
    old = tmp_path / "old.db"
    sqlite3.connect(old).execute("CREATE TABLE meta (key TEXT)").connection.close()
    assert accounts.file_has_users(old) is False  # a store from before accounts
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    assert accounts.file_has_users(junk) is None  # the store itself says what is wrong
    assert accounts.file_has_users("postgresql+psycopg://u@h/db") is None
