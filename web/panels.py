"""A run's panels, as the page shows them: each function turns an ``Attended`` run into one panel's value
(Markdown, SVG markup, a table, a matrix value). web/page_model.py says which panel each one fills.

Positions are 0-based here; the panels count tokens from 1, like the book.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import attention_core as ac
from attention_core import views

from .matrix import matrix_value

if TYPE_CHECKING:
    from attention_core import Attended, NormalizationComparison

# The page's button that loads the book's 6 x 3 example (the parity panel asks for it by name).
BOOK_BUTTON = "Load the book's example"


def choices(run: Attended) -> list[tuple[str, int]]:
    """The dropdowns' (label, index) for each token: ``2: ␣journey``."""
    return [(f"{i + 1}: {ac.visible_token(token)}", i) for i, token in enumerate(run.tokens)]


def default_query(run: Attended) -> int:
    """The book walks through x^(2), "journey"; a one-token run has only x^(1)."""
    return 1 if len(run.tokens) > 1 else 0


def index_in_run(run: Attended, index: Any, default: int) -> int:
    """The page's chosen token index when it still fits this run (τ moved), else ``default`` (a new run)."""
    ok = isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(run.tokens)
    return index if ok else default


@dataclass(frozen=True)
class Table:
    """A table's value ({"headers", "data"}) and its label."""

    value: dict
    label: str


def inputs_table(run: Attended) -> Table:
    """The input embeddings x, (T, d)."""
    return _table("Input embeddings x", run.tokens, run.attention.inputs)


def weights_table(run: Attended) -> Table:
    """The attention weights α, (T, T), with each row's sum."""
    keys = [f"{j + 1}" for j in range(len(run.tokens))]
    supported = views.tables.weight_digits(run.attention.scores, run.attention.temperature)
    what = "Attention weights α (rows: queries, columns: keys; each row sums to 1)"
    return _table(what, run.tokens, run.attention.weights, "keys", columns=keys, row_sums=True, supported=supported)


def context_table(run: Attended) -> Table:
    """The context vectors z, (T, d)."""
    return _table("Context vectors z", run.tokens, run.attention.context)


def _table(what: str, tokens: Sequence[str], matrix: Any, noun: str = "dimensions", **options: Any) -> Table:
    """A (T, n) matrix as a table, labelled with what it is and how its numbers are printed."""
    value = views.tables.matrix_table(tokens, matrix, **options)
    return Table(value, views.tables.table_label(what, matrix.shape[1], value["data"], noun))


def matrix(run: Attended, raw_scores: bool = False) -> dict:
    """What the live matrix draws for this run."""
    caption = views.lecture.one_hot_note(run.attention.weights)  # "nearly all rows are one-hot", when they are
    return matrix_value(run.tokens, run.ids, run.attention, raw_scores=raw_scores, caption=caption)


def walk(run: Attended, query: int) -> str:
    """The lecture for one query, then the book's own code for it."""
    steps = ac.row_steps(run.attention, query)
    return (
        views.walkthrough.query_walkthrough(run.tokens, run.attention.inputs, steps)
        + "\n\n**The same steps in the book's code:**\n\n"
        + views.walkthrough.book_cells(query, temperature=run.temperature)
    )


def bars(run: Attended, query: int) -> str:
    """One query's weights as a named SVG chart with its description."""
    weights = run.attention.weights[query]
    return views.figures.figure_markup(
        views.figures.weights_bar_figure(weights, run.tokens, query=query),
        name="bars",
        title=views.figures.weights_bar_title(run.tokens, query),
        description=views.figures.weights_bar_description(weights, run.tokens, query=query),
    )


def trace(run: Attended, query: Any, key: Any) -> str:
    """One cell's arithmetic."""
    return views.walkthrough.trace_markdown(run.tokens, ac.cell_of(run.attention, query, key), run.attention.inputs)


def hull(run: Attended) -> str:
    """Inputs and context vectors: a named SVG figure with its description."""
    inputs, context = run.attention.inputs, run.attention.context
    return views.figures.figure_markup(
        views.figures.convex_hull_figure(inputs, context, run.tokens),
        name="hull",
        title=views.figures.convex_hull_title(inputs.shape[1]),
        description=views.figures.convex_hull_description(inputs, context, run.tokens),
    )


def parity_panel(run: Attended) -> str:
    """The book's printed values beside this run's, for a 6 × 3 table; otherwise how to get there."""
    if run.source != "table" or tuple(run.attention.inputs.shape) != (6, 3):
        return (
            f"The book's printed values are for its 6 × 3 example. Press **{BOOK_BUTTON}** to compare them with this "
            "app's numbers."
        )
    note = "" if run.temperature == 1.0 else " (the book uses τ = 1; the comparison below does too)"
    return f"Computed from this run's 6 × 3 inputs{note}.\n\n" + views.parity.parity_markdown(
        ac.book_parity(run.attention.inputs)
    )


def recipe(run: Attended, text: str) -> str:
    """The notebook lines that give this run's inputs."""
    lines = (
        "# Your own table: paste it into torch.tensor([...]) in a notebook."
        if run.source == "table"
        else views.export.embedding_recipe(text, dim=run.dim, seed=run.seed)
    )
    return views.markup.code_block(lines, label="The same inputs in a notebook")


def snippet(run: Attended, text: str) -> str:
    """A notebook cell that reproduces the whole run with torch and tiktoken."""
    code = views.export.pytorch_snippet(
        run.tokens, run.ids, run.source, run.dim, run.seed, text, run.attention.inputs, temperature=run.temperature
    )
    return views.markup.code_block(code, label="Copy as PyTorch (torch and tiktoken only)")


def repeats(run: Attended) -> str:
    return views.facts.repeats_markdown(run.tokens, ac.repeats(run.ids, run.attention), len(run.tokens))


def self_match(run: Attended) -> str:
    return views.facts.self_match_markdown(run.tokens, ac.self_matches(run.attention.scores))


def temperature(run: Attended) -> str:
    attended = run.attention
    return views.facts.temperature_markdown(attended.scores, run.temperature, attended.inputs.shape[1])


def next_shuffle(run: Attended, shuffles: Any) -> tuple[dict, str, tuple[int, list[int]]]:
    """The next shuffle of the tokens, different from the last one: its matrix, its explanation, and the page's new
    (clicks, permutation). ``shuffles`` is the page's (clicks, last permutation), or 0 before the first click."""
    count = len(run.tokens)
    if count < 2:
        raise ac.InputError("There is only one token: type a sentence with at least two tokens to shuffle.")
    clicks, previous = shuffles if isinstance(shuffles, tuple) else (0, None)
    if previous is not None and len(previous) != count:
        previous = None  # a new run since the last shuffle
    permutation = ac.random_permutation(count, seed=clicks, avoid=previous)
    return (*shuffled(run, permutation), (clicks + 1, permutation))


def shuffled(run: Attended, permutation: Sequence[int]) -> tuple[dict, str]:
    """The matrix of the permuted tokens, and why it is the original's rows and columns, moved."""
    moved = ac.self_attention(ac.permute(run.attention.inputs, permutation), temperature=run.temperature)
    words = [run.tokens[i] for i in permutation]
    ids = None if run.ids is None else [run.ids[i] for i in permutation]
    value = matrix_value(words, ids, moved, caption="Shuffled: the weights of the permuted tokens")
    return value, views.facts.shuffle_markdown(run.tokens, permutation, run.attention, moved)


def why_trainable(sentence: str, *, query: str, seed: int, dims: Sequence[int]) -> str:
    """Where ``query`` attends in ``sentence`` (the first of ``dims``), weight-free and with random projections,
    and how often each token's best match is itself at each of ``dims``."""
    runs = [ac.attend(sentence, dim=dim, seed=seed) for dim in dims]
    first = runs[0]
    projected = ac.projected_weights(first.attention.inputs)
    rows = [(dim, ac.self_matches(run.attention.scores).count, len(run.tokens)) for dim, run in zip(dims, runs)]
    return (
        views.facts.projections_markdown(
            first.tokens,
            first.attention.weights,
            projected,
            first.tokens.index(query),
            scores=first.attention.scores,
            projected_scores=ac.projected_scores(first.attention.inputs),
        )
        + "\n\n**Does a token attend mostly to itself?**\n\n"
        + views.facts.self_match_by_dim_markdown(sentence, seed, rows)
    )


def lab(result: NormalizationComparison) -> tuple[dict, str, str]:
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
