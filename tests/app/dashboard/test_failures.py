"""A page that fails shows the user an error id and nothing of the error; the server's log has the traceback."""

from __future__ import annotations

import logging
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest


def failing(kind: str, text: str):
    def script(kind, text):
        import streamlit as st

        from hwplan.app.dashboard.failures import guarded

        def page():
            st.write("before the failure")
            if kind == "rerun":
                st.stop()  # Streamlit's control flow is not an error
            raise {"value": ValueError, "key": KeyError, "os": OSError}[kind](f"/srv/secret/path.py {text}")

        guarded(page)

    return AppTest.from_function(script, args=(kind, text), default_timeout=30)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["value", "key", "os"]), st.text(alphabet="abcxyz<>#*_ ", max_size=20))
def test_an_error_shows_an_id_not_a_traceback_and_logs_it(caplog, kind, text):
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="hwplan.app.dashboard.failures"):
        at = failing(kind, text).run()
    assert not at.exception  # Streamlit's traceback element never appears
    shown = "\n".join(e.value for e in at.error)
    m = re.search(r"error id \*\*([0-9a-f]{8})\*\*", shown)
    assert m and "/srv/secret" not in shown and "Traceback" not in shown
    logged = [r for r in caplog.records if m.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info and "/srv/secret/path.py" in str(logged[0].exc_info[1])


def test_streamlit_control_flow_passes_through():
    at = failing("rerun", "").run()
    assert not at.exception and not at.error and at.markdown[0].value == "before the failure"
