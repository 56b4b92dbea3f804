"""`plain()`: user text shown exactly as typed by every Streamlit element that reads Markdown."""

from __future__ import annotations

import pytest

from hwplan.app.dashboard.views.common import WORD_JOINER, plain


@pytest.mark.parametrize("text, want", [
    ("# x", "\\# x"),
    ("1. first", "1\\. first"),
    ("- item", "\\- item"),
    ("**bold** _it_ `code`", "\\*\\*bold\\*\\* \\_it\\_ \\`code\\`"),
    ("[a](http://b)", "\\[a\\]\\(" + WORD_JOINER + "http\\:\\/\\/b\\)"),
    ("<img src=x>", "\\<img src\\=x\\>"),
    ("$x^2$", "\\$x\\^2\\$"),
    (":red[alarm] :material/home:", "\\:red\\[alarm\\] \\:material\\/home\\:"),
    ("two\nlines  here", "two lines here"),
    (None, ""),
])
def test_markdown_is_escaped(text, want):
    assert plain(text) == want


def test_urls_and_emails_are_kept_from_autolinking():
    got = plain("see http://evil.example, WWW.evil.example or ana@evil.example")
    assert WORD_JOINER + "http\\:" in got and WORD_JOINER + "WWW\\." in got and "ana\\@" + WORD_JOINER + "evil" in got
    assert got.replace(WORD_JOINER, "").replace("\\", "") == "see http://evil.example, WWW.evil.example or ana@evil.example"
