"""A run's panels, as the page shows them: each function turns an ``Attended`` run into one panel's value
(Markdown, SVG markup, a table, a matrix value). app.py only puts them in their components.

Positions are 0-based here; the panels count tokens from 1, like the book.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import attention_core as ac
from attention_core import views

from .. import limits
from ..book import BOOK_TABLE

if TYPE_CHECKING:
    from ..pipeline import Attended as Run


def choices(run: Run) -> list[tuple[str, int]]:
    """The dropdowns' (label, index) for each token: ``2: ␣journey``."""
    return [(f"{i + 1}: {ac.visible_token(token)}", i) for i, token in enumerate(run.tokens)]


def default_query(run: Run) -> int:
    """The book walks through x^(2), "journey"; a one-token run has only x^(1)."""
    return 1 if len(run.tokens) > 1 else 0


def kept(run: Run, index: Any, default: int) -> int:
    """The page's chosen token index when it still fits this run (τ moved), else ``default`` (a new run)."""
    ok = isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(run.tokens)
    return index if ok else default


@dataclass(frozen=True)
class Table:
    """A table's value ({"headers", "data"}) and its label."""

    value: dict
    label: str


def tables(run: Run) -> dict[str, Table]:
    """The input embeddings, the attention weights (with each row's sum) and the context vectors."""
    attended, words = run.attention, run.tokens
    count, dim = attended.inputs.shape
    keys = [f"{j + 1}" for j in range(count)]
    return {
        "inputs": Table(
            views.tables.matrix_table(words, attended.inputs), views.tables.table_label("Input embeddings x", dim)
        ),
        "weights": Table(
            views.tables.matrix_table(words, attended.weights, columns=keys, row_sums=True),
            views.tables.table_label(
                "Attention weights α (rows: queries, columns: keys; each row sums to 1)", count, "keys"
            ),
        ),
        "context": Table(
            views.tables.matrix_table(words, attended.context), views.tables.table_label("Context vectors z", dim)
        ),
    }


def matrix(run: Run, raw_scores: bool = False) -> dict:
    """What the live matrix draws for this run."""
    caption = views.lecture.one_hot_note(run.attention.weights)  # "nearly all rows are one-hot", when they are
    return views.serialize.matrix_value(run.tokens, run.ids, run.attention, raw_scores=raw_scores, caption=caption)


def walk(run: Run, query: int) -> str:
    """The lecture for one query, then the book's own code for it."""
    steps = ac.row_steps(run.attention, query)
    return (
        views.walkthrough.query_walkthrough(run.tokens, run.attention.inputs, steps)
        + "\n\n**The same steps in the book's code:**\n\n"
        + views.walkthrough.book_cells(query)
    )


def bars(run: Run, query: int) -> str:
    """One query's weights as a named SVG chart with its description."""
    weights = run.attention.weights[query]
    return views.figures.figure_markup(
        views.figures.weights_bar_figure(weights, run.tokens, query=query),
        name="bars",
        title=views.figures.weights_bar_title(run.tokens, query),
        description=views.figures.weights_bar_description(weights, run.tokens, query=query),
    )


def trace(run: Run, query: Any, key: Any) -> str:
    """One cell's arithmetic."""
    return views.walkthrough.trace_markdown(run.tokens, ac.cell_of(run.attention, query, key), run.attention.inputs)


def hull(run: Run) -> str:
    """Inputs and context vectors: a named SVG figure with its description."""
    inputs, context = run.attention.inputs, run.attention.context
    return views.figures.figure_markup(
        views.figures.convex_hull_figure(inputs, context, run.tokens),
        name="hull",
        title=views.figures.convex_hull_title(inputs.shape[1]),
        description=views.figures.convex_hull_description(inputs, context, run.tokens),
    )


def parity_panel(run: Run) -> str:
    """The book's printed values beside this run's, for a 6 × 3 table; otherwise how to get there."""
    if run.source != "table" or tuple(run.attention.inputs.shape) != (6, 3):
        return (
            "The book's printed values are for its 6 × 3 example. Press **Load the book's example** to compare "
            "them with this app's numbers."
        )
    note = "" if run.temperature == 1.0 else " (the book uses τ = 1; the comparison below does too)"
    return f"Computed from this run's 6 × 3 inputs{note}.\n\n" + views.parity.parity_markdown(
        ac.book_parity(run.attention.inputs)
    )


def recipe(run: Run, text: str) -> str:
    """The notebook lines that give this run's inputs."""
    lines = (
        "# Your own table: paste it into torch.tensor([...]) in a notebook."
        if run.source == "table"
        else views.export.embedding_recipe(text, dim=run.dim, seed=run.seed)
    )
    return views.markup.code_block(lines, label="The same inputs in a notebook")


def snippet(run: Run, text: str) -> str:
    """A notebook cell that reproduces the whole run with torch and tiktoken."""
    code = views.export.pytorch_snippet(
        run.tokens, run.ids, run.source, run.dim, run.seed, text, run.attention.inputs, temperature=run.temperature
    )
    return views.markup.code_block(code, label="Copy as PyTorch (torch and tiktoken only)")


def repeats(run: Run) -> str:
    return views.facts.repeats_markdown(run.tokens, ac.repeats(run.ids, run.attention), len(run.tokens))


def self_match(run: Run) -> str:
    return views.facts.self_match_markdown(run.tokens, ac.self_matches(run.attention.scores))


def temperature(run: Run) -> str:
    attended = run.attention
    return views.facts.temperature_markdown(attended.scores, run.temperature, attended.inputs.shape[1])


def shuffled(run: Run, permutation: Sequence[int]) -> tuple[dict, str]:
    """The matrix of the permuted tokens, and why it is the original's rows and columns, moved."""
    moved = ac.self_attention(ac.permute(run.attention.inputs, permutation), temperature=run.temperature)
    words = [run.tokens[i] for i in permutation]
    ids = None if run.ids is None else [run.ids[i] for i in permutation]
    value = views.serialize.matrix_value(words, ids, moved, caption="Shuffled: the weights of the permuted tokens")
    return value, views.facts.shuffle_markdown(run.tokens, permutation, run.attention, moved)


def why_trainable(sentence: str, *, query: str, seed: int, dims: Sequence[int]) -> str:
    """Where ``query`` attends in ``sentence`` (the first of ``dims``), weight-free and with random projections,
    and how often each token's best match is itself at each of ``dims``."""
    runs = [ac.attend(sentence, dim=dim, seed=seed) for dim in dims]
    first = runs[0]
    projected = ac.projected_weights(first.attention.inputs)
    rows = [(dim, ac.self_matches(run.attention.scores).count, len(run.tokens)) for dim, run in zip(dims, runs)]
    return (
        views.facts.projections_markdown(first.tokens, first.attention.weights, projected, first.tokens.index(query))
        + "\n\n**Does a token attend mostly to itself?**\n\n"
        + views.facts.self_match_by_dim_markdown(sentence, seed, rows)
    )


def lab(result) -> tuple[dict, str, str]:
    """The lab's side-by-side table, its chart (named SVG) and its notes, for a NormalizationComparison."""
    lab_view = views.lab
    columns = dict(
        zip(
            lab_view.COLUMNS,
            (result.sum_normalized.tolist(), result.softmax_naive.tolist(), result.softmax_stable.tolist()),
        )
    )
    numbers = result.values.tolist()
    chart = views.figures.figure_markup(
        views.figures.normalization_figure(numbers, columns),
        name="lab",
        title=views.figures.NORMALIZATION_TITLE,
        description=views.figures.normalization_description(numbers, columns),
    )
    return lab_view.lab_table(result), chart, lab_view.notes_markdown(result)


# --- the address bar -------------------------------------------------------------------------------


def short(number: float) -> str:
    """A float as JavaScript writes it: 2.0 as "2", 1.7320508075688772 in full, so a link restores it exactly.

    >>> short(2.0), short(3 ** 0.5)
    ('2', '1.7320508075688772')
    """
    return repr(float(number)).removesuffix(".0")


def link_to(text: str, source: str, table: str, dim: int, seed: int | None, tau: float, raw_scores: bool) -> str:
    """A run's settings as the query string of a shareable link (``settings_from_link`` reads it back).

    >>> link_to("Hi there", "random", "", 3, 123, 1.0, False)
    'text=Hi+there&dim=3&seed=123&tau=1&view=weights'
    """
    params: dict[str, Any] = {"text": text}
    if source == "random":
        params |= {"dim": dim, "seed": seed}
    params |= {"tau": short(tau), "view": "scores" if raw_scores else "weights"}
    if source == "table" and table == BOOK_TABLE:
        params["table"] = "book"  # any other table is the user's own, which no link can carry
    return urllib.parse.urlencode(params)


def with_tau(link: str, tau: float) -> str:
    """The same link at another τ."""
    params = dict(urllib.parse.parse_qsl(link or "", keep_blank_values=True))
    return urllib.parse.urlencode({**params, "tau": short(tau)}) if params else ""


LINK_CHECKS: dict[str, tuple[Callable[[object], Any], str]] = {
    "dim": (limits.check_dim, f"a whole number from {limits.MIN_DIM} to {limits.MAX_DIM}"),
    "seed": (limits.check_seed, f"a whole number from 0 to {limits.MAX_SEED:,}"),
    "tau": (limits.check_temperature, f"a number from {limits.MIN_TEMPERATURE:g} to {limits.MAX_TEMPERATURE:g}"),
}


def settings_from_link(params: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The settings a link's query parameters restore, checked, and a fixed message for each one refused.

    A message names the parameter and its valid range; it never quotes the link's own value.

    >>> settings_from_link({"text": "Hi", "seed": "<b>", "view": "scores"})
    ({'text': 'Hi', 'source': 'random', 'raw_scores': True}, ["The link's seed was ignored: it must be a whole number from 0 to 4,294,967,295."])
    """
    settings: dict[str, Any] = {}
    refused = []
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
    if params.get("view") in ("scores", "weights"):
        settings["raw_scores"] = params["view"] == "scores"
    return settings, refused
