"""Tokens made safe and visible: inert text for Markdown and HTML, and the page's chips."""

from __future__ import annotations

import html
import re

import pytest
from golden import SENTENCE

from attention_core import tokenize
from attention_core.views.tokens import inert, token_chips_html, token_code

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "*bold* _it_ [link](http://x) | $x$ \\(y\\) `code`",
    "</code><script>",
    "&amp; &#60;",
    "# heading",
]


@pytest.mark.parametrize("text", HOSTILE, ids=["img", "markdown", "close_code", "entities", "heading"])
def test_inert_text_keeps_no_markup_character_but_reads_the_same(text):
    safe = inert(text)
    assert not re.search(r"[<>*_\[\]|$\\`&#()]", re.sub(r"&#\d+;", "", safe))
    assert html.unescape(safe) == text  # a browser shows exactly the text


def test_token_code_shows_spaces_and_stays_inert():
    assert token_code(" journey") == "<code>␣journey</code>"
    assert token_code("<b>") == "<code>&#60;b&#62;</code>"


def test_chips_show_every_token_with_its_id_and_escape_it():
    tokens = tokenize(SENTENCE + " <script>alert(1)</script> 🦀")
    chips = token_chips_html(tokens.tokens, tokens.ids)
    assert f"{len(tokens.ids)} tokens:" in chips
    assert chips.count("class='tok-chip") == len(tokens.ids)
    for token_id in tokens.ids:
        assert f"<span class='tok-id'><span class='sr-only'>, id </span>{token_id}</span>" in chips  # "Your, id 7120"
    assert "<ol class='tok-list' aria-label='" in chips  # a list, its count read once
    assert ">␣journey<" in chips
    assert "<script" not in chips and "</script" not in chips and "&lt;" in chips
    assert "tok-chip tok-bytes" in chips  # the crab is split across tokens: its bytes get a dashed chip
    assert "a dashed chip is part of a character" in chips  # the legend


def test_chips_of_a_table_have_no_ids():
    chips = token_chips_html(["Your", "journey"], None)
    assert "2 tokens:" in chips and "tok-id" not in chips
    assert token_chips_html(["one"], None).count("1 token:") == 1
