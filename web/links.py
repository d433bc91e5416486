"""The share link: a run's settings as the query string of the page's address, and back.

``?text=…&dim=…&seed=…&tau=…&show=…`` (and ``table=book`` for the book's table: any other table is the user's own,
which no link carries). Every parameter read back goes through the core's checks. ``show`` was once ``view``, which
Gradio's own ``?view=api`` overwrites: an old link's ``view=weights|scores`` is still read.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

from attention_core import limits
from attention_core.book import BOOK_TABLE


def js_float(number: float) -> str:
    """A float as JavaScript writes it: 2.0 as "2", 1.7320508075688772 in full, so a link restores it exactly.

    >>> js_float(2.0), js_float(3 ** 0.5)
    ('2', '1.7320508075688772')
    """
    return repr(float(number)).removesuffix(".0")


def link_to(text: str, source: str, table: str, dim: int, seed: int | None, tau: float, raw_scores: bool) -> str:
    """A run's settings as the query string of a shareable link (``settings_from_link`` reads it back).

    >>> link_to("Hi there", "random", "", 3, 123, 1.0, False)
    'text=Hi+there&dim=3&seed=123&tau=1&show=weights'
    """
    params: dict[str, Any] = {"text": text}
    if source == "random":
        params |= {"dim": dim, "seed": seed}
    params |= {"tau": js_float(tau), "show": "scores" if raw_scores else "weights"}
    if source == "table" and table == BOOK_TABLE:
        params["table"] = "book"  # any other table is the user's own, which no link can carry
    return urllib.parse.urlencode(params)


def with_tau(link: str, tau: float) -> str:
    """The same link at another τ."""
    params = dict(urllib.parse.parse_qsl(link or "", keep_blank_values=True))
    return urllib.parse.urlencode({**params, "tau": js_float(tau)}) if params else ""


# The keys a share link sets. A page opened with none of them shows the default run. (An old link's view= always
# came with text=; alone, ?view= is Gradio's own.)
LINK_KEYS = ("text", "dim", "seed", "tau", "table", "show")
LINK_CHECKS: dict[str, tuple[Callable[[object], Any], str]] = {
    "dim": (limits.check_dim, f"a whole number from {limits.MIN_DIM} to {limits.MAX_DIM}"),
    "seed": (limits.check_seed, f"a whole number from 0 to {limits.MAX_SEED:,}"),
    "tau": (limits.check_temperature, f"a number from {limits.MIN_TEMPERATURE:g} to {limits.MAX_TEMPERATURE:g}"),
}


def settings_from_link(params: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The settings a link's query parameters restore, checked, and a fixed message for each one refused.

    A message names the parameter and its valid range; it never quotes the link's own value.

    >>> settings, refused = settings_from_link({"text": "Hi", "seed": "<b>", "show": "scores"})
    >>> settings
    {'text': 'Hi', 'source': 'random', 'raw_scores': True}
    >>> refused
    ["The link's seed was ignored: it must be a whole number from 0 to 4,294,967,295."]
    >>> settings_from_link({"__theme": "dark", "view": "api"})  # no setting of a run: the default run
    ({}, [])
    """
    settings: dict[str, Any] = {}
    refused: list[str] = []
    if not any(key in params for key in LINK_KEYS):
        return settings, refused
    text = params.get("text")
    if isinstance(text, str) and text and len(text) <= limits.MAX_TEXT_CHARS:
        settings["text"] = text
    for name, (check, allowed) in LINK_CHECKS.items():
        if name in params:
            try:
                settings[name] = check(params[name])
            except limits.InputError:
                refused.append(f"The link's {name} was ignored: it must be {allowed}.")
    if params.get("table") == "book":
        settings |= {"source": "table", "table": BOOK_TABLE}
    elif params:
        settings["source"] = "random"
    shown = params.get("show", params.get("view"))  # an old link's view=, read once
    if shown in ("scores", "weights"):
        settings["raw_scores"] = shown == "scores"
    return settings, refused
