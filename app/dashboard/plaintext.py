"""User text shown as typed in any Streamlit element that reads Markdown: never a heading, a link, markup or a
formula. No Streamlit here, so every module of the dashboard may use it."""

from __future__ import annotations

import re

# Every ASCII punctuation mark: CommonMark lets a backslash escape each, and escaped they start no heading, list,
# emphasis, link, HTML, LaTeX ($) or Streamlit directive (:red[...], :material/x:).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# GFM turns bare URLs and emails into links after escapes are read, where the text before them is a space, a
# punctuation mark or nothing: an invisible word joiner (U+2060) there, and after '@', keeps them text.
_URL_START = re.compile(r"(?i)(?=https?:|www\.|ftp:|mailto:|xmpp:)")
WORD_JOINER = "\u2060"


def plain(text: object) -> str:
    """User text (titles, authors, names, notes) for any Streamlit element that reads Markdown, shown as typed, on
    one line: never a heading, a link, markup or a formula (what it shows differs from what was typed only by
    invisible word joiners before a URL and after an '@')."""
    s = " ".join(str("" if text is None else text).split())
    s = _URL_START.sub(WORD_JOINER, s).replace("@", "@" + WORD_JOINER)
    return _PUNCTUATION.sub(r"\\\1", s)
