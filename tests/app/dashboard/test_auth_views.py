"""The sign-in gate and each role's controls, through Streamlit's AppTest on a real store with users."""

from __future__ import annotations

import re
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from hwplan.app.reports.snapshot import save_report
from hwplan.core.accounts import User
from hwplan.core.store import Store
from tests.app.conftest import REPO

TIMEOUT = 60
ANA, BEN, VIC = User("ana", "planner"), User("ben", "planner"), User("vic", "viewer")


@pytest.fixture
def team(seeded_db, model_cache, tmp_path, monkeypatch):
    """A copy of the seeded store with users, served with local sign-in."""
    db = str(tmp_path / "team.db")
    shutil.copy(seeded_db, db)
    store = Store.open(db)
    store.add_user("ana", "ana's password", "planner")
    store.add_user("vic", "vic's password", "viewer")
    monkeypatch.setenv("HWPLAN_DB", db)
    monkeypatch.setenv("HWPLAN_CACHE_DIR", model_cache)
    monkeypatch.setenv("HWPLAN_AUTH", "local")
    yield store
    store.close()


def test_the_router_asks_for_a_sign_in_first(team):
    at = AppTest.from_file(str(REPO / "app" / "dashboard" / "main.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert not at.metric and [t.value for t in at.title] == ["hwplan"]  # no Plan page behind the form
    at.text_input(key="sign_in_name").input("ana")
    at.text_input(key="sign_in_password").input("wrong password")
    at.button(key="FormSubmitter:sign_in-Sign in").click().run()
    assert [e.value for e in at.error] == ["Wrong name or password."] and not at.metric
    at.text_input(key="sign_in_password").input("ana's password")
    at.button(key="FormSubmitter:sign_in-Sign in").click().run()
    assert not at.exception
    assert at.metric and at.metric[0].label.startswith("Cost")  # the Plan page
    assert any(m.value.startswith("Signed in as **ana**") for m in at.sidebar.markdown)
    assert at.text_input(key="plan_save_title") is not None  # a planner may save
    actions = team.audit_log()["action"].tolist()
    assert actions[:2] == ["login", "login-failed"]
    at.button(key="sign_out").click().run()
    assert not at.metric and at.text_input(key="sign_in_name") is not None


def _page(name, user):
    def script(name, user):
        import streamlit as st

        from hwplan.app.dashboard import auth
        from hwplan.app.dashboard.views import catalog, plan, profiles, reports

        st.session_state[auth.USER_KEY] = user
        {"plan": plan.render, "profiles": profiles.render, "catalog": catalog.render, "reports": reports.render_list}[name]()

    return AppTest.from_function(script, args=(name, user), default_timeout=TIMEOUT)


def test_a_viewer_gets_no_save_upload_or_delete_control(team):
    theirs = save_report(team, title="ana's plan", inputs={"workload": "resnet50"}, actor=ANA, shared=True)
    at = _page("plan", VIC).run()
    assert not at.exception and at.metric
    with pytest.raises(KeyError):
        at.text_input(key="plan_save_title")
    at = _page("profiles", VIC).run()
    assert not at.exception and "Validate and import" not in [b.label for b in at.button]
    assert any("Viewers browse" in c.value for c in at.caption)
    at = _page("catalog", VIC).run()
    assert at.button(key="FormSubmitter:assumptions_form-Apply and save as named set").disabled
    at = _page("reports", VIC).run()
    keys = [b.key for b in at.button]
    assert f"open-{theirs}" in keys and f"delete-{theirs}" not in keys


def test_a_planner_deletes_only_their_own_and_sees_only_what_is_shared(team):
    own = save_report(team, title="mine", inputs={"workload": "resnet50"}, actor=ANA)
    shared = save_report(team, title="ben's shared", inputs={"workload": "resnet50"}, actor=BEN, shared=True)
    private = save_report(team, title="ben's private", inputs={"workload": "resnet50"}, actor=BEN)
    at = _page("reports", ANA).run()
    keys = [b.key for b in at.button]
    assert {f"open-{own}", f"delete-{own}", f"open-{shared}"} <= set(keys)
    assert f"delete-{shared}" not in keys and f"open-{private}" not in keys
    at.button(key=f"delete-{own}").click().run()
    at.button(key=f"confirm-{own}").click().run()
    assert team.get_report(own) is None and team.get_report(shared) is not None
    row = team.audit_log().iloc[0]
    assert (row["actor"], row["action"], row["kind"], row["object_id"]) == ("ana", "delete", "report", own)


def test_a_refused_overwrite_names_the_set_as_typed_not_as_markdown(team):
    bait = "ben set <b>x</b> [l](http://evil.example)"
    team.put_assumptions(bait, "2026-12-01T00:00:00Z", {"pue": 1.5}, actor=BEN)
    at = _page("catalog", ANA).run()
    at.text_input(key="cat_set_name").input(bait)
    at.button(key="FormSubmitter:assumptions_form-Apply and save as named set").click().run()
    assert not at.exception
    shown = [e.value for e in at.error if e.value.startswith("Not saved")]
    assert shown, [e.value for e in at.error]
    # every mark escaped: Markdown makes no link or tag of it, and the text reads as typed once unescaped
    assert not re.search(r"(?<!\\)\]\(|(?<!\\)<b", shown[0]) and "\\[l\\]\\(\u2060http" in shown[0]
    assert team.get_assumptions(bait) == {"pue": 1.5}  # ben's set is unchanged
