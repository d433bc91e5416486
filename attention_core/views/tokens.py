"""Tokens made safe and visible: chips for the page, inline code for Markdown.

A GPT-2 token can be a lone space, a newline, or half of a UTF-8 character (shown as ``\\xNN`` bytes);
``attention_core.visible_token`` makes each readable, and these functions make it inert: no token's
text is ever read as HTML or Markdown markup.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from ..tokens import visible_token

CHIPS_LEGEND = (
    "␣ is a space, ↵ a newline; a dashed chip is part of a character split across tokens, shown as its bytes \\xNN."
)


def inert(text: str) -> str:
    """``text`` with every ASCII character that is not a letter, digit or space written as an HTML entity,
    so neither HTML nor Markdown (``*``, ``_``, ``[``, ``|``, ``$``, ``\\``, backticks) can read markup in it.

    >>> inert("*a* <b>|$")
    '&#42;a&#42; &#60;b&#62;&#124;&#36;'
    """
    return "".join(
        f"&#{ord(char)};" if ord(char) < 128 and not (char.isalnum() or char == " ") else char for char in text
    )


def token_code(piece: str) -> str:
    """A token piece as inline code inside Markdown or HTML, visible and inert.

    >>> token_code(" journey")
    '<code>␣journey</code>'
    """
    return f"<code>{inert(visible_token(piece))}</code>"


def is_byte_piece(piece: str) -> bool:
    """Whether a piece holds bytes of a UTF-8 character split across tokens (written ``\\xNN``)."""
    return "\\x" in piece


def token_chips_html(tokens: Sequence[str], ids: Sequence[int] | None) -> str:
    """Every token as a chip with its id, a count, and the one-line legend of the marks."""
    chips = []
    for index, piece in enumerate(tokens):
        shown = html.escape(visible_token(piece)) or "∅"
        fragment = is_byte_piece(piece)
        classes = "tok-chip tok-bytes" if fragment else "tok-chip"
        title = f"token {index + 1}" + (f", id {ids[index]}" if ids is not None else "")
        if fragment:
            title += ": part of a UTF-8 character split across tokens (bytes shown as \\xNN)"
        # A screen reader hears "Your, id 7120": the id is labelled, not run into the token.
        token_id = ""
        if ids is not None:
            token_id = f"<span class='tok-id'><span class='sr-only'>, id </span>{ids[index]}</span>"
        chips.append(f"<li class='{classes}' title='{html.escape(title, quote=True)}'>{shown}{token_id}</li>")
    count = len(tokens)
    counted = f"{count} token{'s' if count != 1 else ''}"
    return (
        f"<div class='tok-row'><span class='tok-count' aria-hidden='true'>{counted}:</span> "
        f"<ol class='tok-list' aria-label='{counted}'>" + "".join(chips) + "</ol>"
        f"</div><p class='tok-legend'>{html.escape(CHIPS_LEGEND)}</p>"
    )
