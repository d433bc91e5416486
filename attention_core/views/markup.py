"""Markdown structure the page's texts share: code blocks, and tables that scroll sideways on a narrow screen."""

from __future__ import annotations

import re


def code_block(code: str, language: str = "python", *, label: str | None = None) -> str:
    """``code`` as a fenced Markdown block, under an optional bold ``label`` (Markdown of ours).

    The fence is longer than any run of backticks inside the code, so no code (a user's text quoted in a
    snippet included) can close the block early.

    >>> print(code_block("x = 1"))
    ```python
    x = 1
    ```
    >>> code_block("s = '```'").splitlines()[0]
    '````python'
    """
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    block = f"{fence}{language}\n{code}\n{fence}"
    return block if label is None else f"**{label}**\n\n{block}"


_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


def scroll_tables(markdown: str) -> str:
    """Every Markdown table in ``markdown`` inside a ``scroll-x`` box: on a screen narrower than the table, the box
    scrolls sideways while the numbers stay on one line (the page's CSS), and web/a11y.js gives the box a tab
    stop so that a keyboard can scroll it too. Lines inside fenced code are left alone.

    >>> print(scroll_tables("Text\\n| a |\\n|---|\\n| 1 |\\nMore"))
    Text
    <div class="scroll-x">
    <BLANKLINE>
    | a |
    |---|
    | 1 |
    <BLANKLINE>
    </div>
    <BLANKLINE>
    More
    """
    out: list[str] = []
    table: list[str] = []
    fence: str | None = None

    def flush() -> None:
        if table:
            out.extend(['<div class="scroll-x">', "", *table, "", "</div>", ""])
            table.clear()

    for line in markdown.split("\n"):
        opened = _FENCE.match(line)
        if fence is None and opened:
            flush()
            fence = opened[1]
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        elif fence is None and line.lstrip().startswith("|"):
            table.append(line)
            continue
        elif table:
            flush()
            if not line.strip():
                continue  # the box already ends with a blank line
        out.append(line)
    flush()
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + ("\n" if markdown.endswith("\n") else "")
