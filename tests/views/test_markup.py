"""Markdown structure shared by the views: code blocks no code can close early, tables in sideways-scrolling boxes."""

from __future__ import annotations

import re

import pytest

from attention_core.views.markup import code_block, scroll_tables


@pytest.mark.parametrize(
    "code",
    ["x = 1", "s = '```'", "s = '`````' + '``'", "```\n<img src=x>\n```"],
    ids=["plain", "three", "five", "fence_line"],
)
def test_a_code_block_is_closed_only_by_its_own_fence(code):
    block = code_block(code)
    fence = re.match(r"`+", block)[0]
    assert block == f"{fence}python\n{code}\n{fence}"
    assert len(fence) >= 3 and all(len(run) < len(fence) for run in re.findall(r"`+", code))


def test_a_code_block_can_carry_a_label():
    assert code_block("x", label="Copy <code>x</code>") == "**Copy <code>x</code>**\n\n```python\nx\n```"


def test_every_table_gets_its_own_box_and_everything_else_stays():
    text = (
        "Intro\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nMiddle\n| c |\n|---|\n| 3 |\n\n"
        "<details>\n\n| d |\n|---|\n\n</details>"
    )
    boxed = scroll_tables(text)
    assert boxed.count('<div class="scroll-x">') == 3 and boxed.count("</div>") == 3
    unboxed = re.sub(r'<div class="scroll-x">\n\n|\n\n</div>\n?', "", boxed)
    assert unboxed.replace("\n\n", "\n") == text.replace("\n\n", "\n")
    for table in re.findall(r'<div class="scroll-x">\n\n(.*?)\n\n</div>\n\n', boxed + "\n", flags=re.S):
        assert all(line.startswith("|") for line in table.splitlines())  # a blank line on each side: Markdown parses it


def test_lines_inside_fenced_code_are_not_tables():
    text = "```python\n| not a table |\n```\n| a |\n|---|"
    assert scroll_tables(text) == '```python\n| not a table |\n```\n<div class="scroll-x">\n\n| a |\n|---|\n\n</div>'
