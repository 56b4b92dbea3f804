"""`hwplan users`, `hwplan audit` and the sign-in mode `hwplan app` picks, refusing no sign-in where others reach."""

from __future__ import annotations

import io
import json

import pytest

from hwplan.app.cli import main
from hwplan.app.cli.serve import auth_mode, oidc_configured
from hwplan.core.accounts import choose_auth
from hwplan.core.errors import HwplanError
from hwplan.core.store import Store


def _stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def add_user(monkeypatch, db: str, name: str, role: str, password: str) -> int:
    """`hwplan users add NAME --role ROLE --password-stdin`, the password typed on stdin; its exit code."""
    _stdin(monkeypatch, password + "\n")
    return main(["users", "add", name, "--role", role, "--password-stdin", "--db", db])


def test_add_list_set_role_delete_and_the_audit(tmp_path, monkeypatch, capsys):
    db = str(tmp_path / "team.db")
    assert add_user(monkeypatch, db, "root", "admin", "a long password") == 0
    assert add_user(monkeypatch, db, "ana", "planner", "ana's password") == 0
    assert main(["users", "add", "eve@example.com", "--role", "viewer", "--no-password", "--db", db]) == 0
    capsys.readouterr()
    assert main(["users", "list", "--json", "--db", db]) == 0
    got = {u["name"]: (u["role"], u["sign_in"]) for u in json.loads(capsys.readouterr().out)}
    assert got == {"root": ("admin", "password"), "ana": ("planner", "password"), "eve@example.com": ("viewer", "oidc")}
    assert main(["users", "set-role", "ana", "viewer", "--db", db]) == 0
    assert main(["users", "delete", "eve@example.com", "--db", db]) == 0
    store = Store.open(db)
    assert store.authenticate("ana", "ana's password").role == "viewer"
    store.close()
    capsys.readouterr()
    assert main(["users", "list", "--db", db]) == 0
    table = capsys.readouterr().out
    assert "ana" in table and "viewer" in table and "eve@" not in table and "password" in table
    assert main(["audit", "--limit", "3", "--json", "--db", db]) == 0
    log = json.loads(capsys.readouterr().out)
    assert [(r["action"], r["object_id"]) for r in log] == [("login", "ana"), ("delete", "eve@example.com"),
                                                             ("update", "ana")]
    assert log[2]["actor"] == "local" and log[2]["detail"] == "role planner -> viewer"
    assert main(["audit", "--db", db]) == 0
    assert "login" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["users", "add", "cid", "--role", "boss", "--password-stdin"], "role 'boss' is not known"),
    (["users", "add", "root", "--role", "viewer", "--password-stdin"], "a user named 'root' already exists"),
    (["users", "add", "cid", "--role", "viewer", "--password-stdin"], "at least 8"),
    (["users", "add", " ", "--role", "viewer", "--password-stdin"], "user name ' ' is not usable"),
    (["users", "set-role", "nobody", "admin"], "user 'nobody' is not a user of this store"),
    (["users", "set-role", "root", "viewer"], "last admin"),
    (["users", "delete", "root"], "last admin"),
    (["audit", "--limit", "0"], "--limit 0: give a number of rows, 1 or more"),
])
def test_bad_input_is_a_clear_error_and_exit_2(tmp_path, monkeypatch, capsys, argv, message):
    db = str(tmp_path / "team.db")
    Store.open(db).add_user("root", "a long password", "admin")
    _stdin(monkeypatch, "short\n" if "cid" in argv else "a long password\n")
    assert main([*argv, "--db", db]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert Store.open(db).list_users()["name"].tolist() == ["root"]  # nothing changed


def test_an_empty_password_on_stdin_is_refused(tmp_path, monkeypatch, capsys):
    _stdin(monkeypatch, "")
    assert main(["users", "add", "ana", "--role", "planner", "--password-stdin", "--db", str(tmp_path / "t.db")]) == 2
    assert "standard input was empty" in capsys.readouterr().err


# ---- which sign-in `hwplan app` uses --------------------------------------------------------------------------

SQLITE = "sqlite:////tmp/hwplan.db"
PG = "postgresql://hwplan@db.example/hwplan"


@pytest.mark.parametrize("url, address, users, oidc, want", [
    (SQLITE, "127.0.0.1", False, False, "none"),
    (SQLITE, "localhost", False, True, "none"),
    (SQLITE, "::1", False, False, "none"),
    (SQLITE, "127.0.0.1", True, False, "local"),   # a store with accounts always asks who you are
    (SQLITE, "0.0.0.0", False, False, "local"),
    (SQLITE, "", False, False, "local"),            # every interface
    (PG, "127.0.0.1", False, False, "local"),
    (PG, "10.0.0.5", False, True, "oidc"),
])
def test_auto_picks_no_sign_in_only_for_a_local_file_on_loopback(url, address, users, oidc, want):
    assert choose_auth("auto", url, address, users, oidc) == want


@pytest.mark.parametrize("url, address, why", [
    (PG, "127.0.0.1", "is a shared database"),
    (SQLITE, "0.0.0.0", "the address 0.0.0.0 can be reached from other machines"),
    ("sqlite:///:memory:", "127.0.0.1", "is a shared database"),
])
def test_no_sign_in_is_refused_where_others_could_reach_it(url, address, why):
    with pytest.raises(HwplanError, match="use --auth local") as err:
        choose_auth("none", url, address, False, False)
    assert why in str(err.value)


def test_oidc_without_its_secrets_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert not oidc_configured()
    with pytest.raises(HwplanError, match=r"\[auth\] section"):
        choose_auth("oidc", SQLITE, "0.0.0.0", True, oidc_configured())
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text('[auth]\nredirect_uri = "https://plan.example/oauth2callback"\n')
    assert oidc_configured()
    assert choose_auth("auto", SQLITE, "0.0.0.0", True, True) == "oidc"


def test_hwplan_app_refuses_no_sign_in_on_every_interface(tmp_path, capsys):
    assert main(["app", "--auth", "none", "--address", "0.0.0.0", "--db", str(tmp_path / "s.db")]) == 2
    err = capsys.readouterr().err
    assert "0.0.0.0 can be reached from other machines" in err and "--auth local" in err


@pytest.mark.postgres
def test_hwplan_app_refuses_no_sign_in_on_postgres(pg_server, capsys):
    url = pg_server.create_db("no_auth_none")
    assert main(["app", "--auth", "none", "--db", url]) == 2
    assert "is a shared database, not a SQLite file on this machine" in capsys.readouterr().err
    assert auth_mode("auto", url, "127.0.0.1")[0] == "local"


def test_auto_on_a_store_with_users_is_local(tmp_path, capsys):
    db = str(tmp_path / "s.db")
    url = f"sqlite:///{db}"
    assert auth_mode("auto", url, "127.0.0.1")[0] == "none"
    Store.open(db).add_user("root", "a long password", "admin")
    assert auth_mode("auto", url, "127.0.0.1")[0] == "local"
    assert auth_mode("local", url, "0.0.0.0")[0] == "local"


def test_names_that_differ_only_in_case_and_blank_passwords_are_refused(tmp_path, monkeypatch, capsys):
    db = str(tmp_path / "team.db")
    assert add_user(monkeypatch, db, "ben", "planner", "ben's password") == 0
    assert add_user(monkeypatch, db, "BEN", "admin", "another password") == 2
    assert "a user named 'ben' already exists (names ignore case)" in capsys.readouterr().err
    for pw, n in (("        \n", 0), ("a\n", 1), ("  abc   \n", 3)):
        _stdin(monkeypatch, pw)
        assert main(["users", "add", "cat", "--role", "viewer", "--password-stdin", "--db", db]) == 2
        assert f"the password is {n} character{'' if n == 1 else 's'} long" in capsys.readouterr().err
    assert main(["users", "list", "--json", "--db", db]) == 0
    assert [u["name"] for u in json.loads(capsys.readouterr().out)] == ["ben"]


def test_the_audit_table_prints_user_text_as_stored(tmp_path, capsys):
    from hwplan.app.reports.snapshot import save_report

    db = str(tmp_path / "team.db")
    store = Store.open(db)
    title = "# Heading [x](http://evil.example) <b>bold</b> [bold red]y[/bold red]"
    rid = save_report(store, title=title, inputs={"workload": "resnet50"})
    store.close()
    assert main(["audit", "--db", db]) == 0
    out = capsys.readouterr().out
    assert rid in out and "[x](http://evil.example) <b>bold</b> [bold red]y[/bold red]" in out  # no Rich markup read


@pytest.mark.parametrize("address", ["[::1]", "no such host.invalid", "127.0.0.1:80"])
def test_an_address_the_server_cannot_listen_on_exits_2_before_it_starts(tmp_path, capsys, address):
    assert main(["app", "--address", address, "--port", "8765", "--db", str(tmp_path / "s.db")]) == 2
    err = capsys.readouterr().err
    assert f"--address {address!r} is not an address this machine can listen on" in err and "Traceback" not in err
    assert not (tmp_path / "s.db").exists()  # nothing was started or created
