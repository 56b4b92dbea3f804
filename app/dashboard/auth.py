"""Who is using the dashboard: the gate before every page, the signed-in user, signing out.

Three modes (`hwplan app --auth`, passed here as $HWPLAN_AUTH): none (a single user on a local SQLite file: every
visitor is the local admin), local (name and password checked against the store's users), oidc (Streamlit's
`st.login()`; the identity's email is mapped to a user, an unknown one becoming a viewer). Started without
`hwplan app`, the dashboard picks the mode itself, as `--auth auto` would. The store checks every change against
the user's role whatever this page shows; hiding controls is for the person, not the protection.
"""

from __future__ import annotations

import os

import streamlit as st

from hwplan.app.dashboard import data
from hwplan.app.dashboard.plaintext import plain
from hwplan.core import accounts
from hwplan.core.accounts import LOCAL, User

USER_KEY = "auth_user"
MODE_KEY = "auth_mode"


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file, or one Streamlit cannot read: no OIDC
        return False


def mode() -> str:
    """none, local or oidc, decided once per session."""
    ss = st.session_state
    if MODE_KEY not in ss:
        url = data.store_url()
        requested = os.environ.get("HWPLAN_AUTH", "").strip() or "auto"
        if requested not in accounts.AUTH_MODES or (requested == "none" and not accounts.is_local_file_store(url)):
            requested = "local"  # a mode it does not know, or no sign-in for a shared database: ask who is there
        if requested == "auto":
            address = st.get_option("server.address")
            requested = accounts.choose_auth("auto", url, address, data.get_store(url).has_users(), _oidc_configured())
        ss[MODE_KEY] = requested
    return ss[MODE_KEY]


def current_user() -> User | None:
    """The user this session acts as (the local admin without sign-in); None before signing in."""
    if mode() == "none":
        return LOCAL
    return st.session_state.get(USER_KEY)


def may(action: str, owner: str | None = None, shared: bool = False) -> bool:
    return accounts.allowed(current_user(), action, owner, shared)


def signed_in() -> User | None:
    """The signed-in user (the local admin without sign-in), read fresh from the store, so a changed role or a
    deleted user takes effect on the next click; None: no one yet (the router then shows `sign_in_form` only)."""
    m = mode()
    if m == "none":
        return LOCAL
    store = data.get_store(data.store_url())
    user = _oidc_user(store) if m == "oidc" else st.session_state.get(USER_KEY)
    if user is None:
        return None
    fresh = store.get_user(user.name)
    if fresh is None:
        st.session_state.pop(USER_KEY, None)
        return None
    st.session_state[USER_KEY] = fresh
    return fresh


def sign_in_form() -> None:
    """The sign-in form (local) or button (OIDC), and nothing else."""
    _sign_in(data.get_store(data.store_url()), mode())


def _oidc_user(store) -> User | None:
    if not getattr(st.user, "is_logged_in", False):
        return None
    have = st.session_state.get(USER_KEY)
    if have is not None:
        return have
    email = st.user.get("email")
    if not email:
        st.error("The identity provider gave no email address, which hwplan names users by; ask your administrator "
                 "to release the email claim to this application.")
        st.stop()
    user = store.oidc_user(str(email), str(st.user.get("iss") or ""))
    st.session_state[USER_KEY] = user
    return user


def _sign_in(store, m: str) -> None:
    st.title("hwplan")
    st.caption("Capacity planner for AI hardware. Sign in to see the team's plans and reports.")
    if m == "oidc":
        st.button("Sign in", type="primary", on_click=st.login)
        return
    if not store.has_users():
        st.warning("This store has no accounts yet. An administrator creates the first one on the server: "
                   "`hwplan users add NAME --role admin`.")
    with st.form("sign_in", border=True, enter_to_submit=True):
        name = st.text_input("Name", key="sign_in_name", autocomplete="username")
        password = st.text_input("Password", type="password", key="sign_in_password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            user = store.authenticate(name or "", password or "")
        except accounts.TooManyTries as exc:
            st.error(f"Not signed in: {plain(exc)}.")
            return
        if user is None:
            st.error("Wrong name or password.")
            return
        st.session_state[USER_KEY] = user
        st.rerun()


def sign_out() -> None:
    st.session_state.pop(USER_KEY, None)
    if mode() == "oidc":
        st.logout()
