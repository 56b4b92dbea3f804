"""A page that fails shows an error id, never a traceback: the traceback goes to the server's log under that id.

Streamlit's own control flow (st.rerun, st.stop, a page switch) raises BaseExceptions, which pass through.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

import streamlit as st

LOG = logging.getLogger(__name__)  # hwplan.app.dashboard.failures


def guarded(run: Callable[[], None]) -> None:
    """Run a page; on any error, log it with a fresh id and show the user that id and nothing of the error."""
    try:
        run()
    except Exception as exc:  # the page's own failure: it is reported here, not to the browser
        error_id = secrets.token_hex(4)
        LOG.error("dashboard error %s: %s", error_id, type(exc).__name__, exc_info=exc)
        st.error(f"This page could not be shown (error id **{error_id}**). The details are in the server's log "
                 "under that id: give it to whoever runs this dashboard. Your inputs are kept; try again, or change "
                 "an input.")
