"""The Gradio handlers in app.py, called directly (no server). Results are dicts keyed by the components in app.ui.

Expected numbers come from tests/golden.py (the book) or tests/reference.py (the notebook recipe, torch.softmax).
Refusals of bad input, and the hardening of issue 9, are in test_bad_input.py.
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest
import torch
from golden import (
    CONTEXT_2,
    HALF_UNIT,
    INPUTS,
    PIECES,
    SCORES_2,
    TOKENIZER_IDS,
    TOKENIZER_TEXT,
    WEIGHTS,
    WEIGHTS_2,
    WORDS,
)
from reference import CAT_SENTENCE, book_attention, book_dot_line, recipe_inputs, self_wins

import app
import attention_core as ac
from web import errors, page_model
from web.lab_tab import lab

ui = app.ui
REPO = Path(app.__file__).resolve().parent
VISIBLE = [piece.replace(" ", "␣") for piece in PIECES]
LABELED_BOOK_CSV = "\n".join(f"{word},{','.join(str(v) for v in row)}" for word, row in zip(WORDS, INPUTS))
REPEATED_TEXT = "the cat and the hat and the bat"


def cells(table: gr.Dataframe) -> list[list[str]]:
    return [row[2:] for row in table.value["data"]]


def assert_cells(rows: list[list[str]], matrix: torch.Tensor) -> None:
    """Table cells are the matrix at exactly 4 decimals."""
    assert len(rows) == matrix.shape[0]
    for row, expected in zip(rows, matrix.tolist()):
        assert all(re.fullmatch(r"-?\d+\.\d{4}(e-\d+)?", cell) for cell in row), row  # tiny weights: 4.6852e-05
        assert [float(cell) for cell in row] == pytest.approx(expected, abs=HALF_UNIT)


def walk_rows(markdown: str) -> list[tuple[float, float]]:
    """(score, weight) of each row of the walk-through's table."""
    found = re.findall(
        r"^\| \d+ \| <code>.*?</code> \| .* [=≈] (\S+)(?: \(\d+ products\))? \| \S+ \| \S+ \| \S+ \| (\S+) \|$",
        markdown.split("<details>")[0],
        flags=re.MULTILINE,
    )
    return [(float(score), float(weight)) for score, weight in found]


def error_of(call) -> str:
    with pytest.raises(gr.Error) as caught:
        call()
    return caught.value.message


def run_of(text: str = app.BOOK_SENTENCE, source: str = "random", dim=3, seed=123, table: str = "", tau=1.0):
    """What a Run shows: the first view (run_attention), then everything below it (run_extras), as the chain runs
    them."""
    outputs = dict(app.run_attention(text, source, dim, seed, table, False, tau))
    first_view = set(outputs)
    outputs.update(app.trace_beside(outputs[ui.state], text))
    outputs.update(app.run_extras(outputs[ui.state], text))
    outputs["first view"] = first_view
    return outputs


@pytest.fixture(autouse=True)
def _figures_without_pixels(monkeypatch):
    """Handlers build their figures from the run, but drawing them is the slow part (tests/views/test_figures.py
    draws them): here a figure becomes an empty SVG. Its title and description stay the run's."""
    from attention_core.views import figures

    monkeypatch.setattr(figures.render, "figure_to_svg", lambda figure, prefix: f'<svg id="{prefix}"></svg>')


def code_in(markdown: str) -> str:
    """The code of the one fenced block in ``markdown``."""
    (code,) = re.findall(r"^(`{3,})python\n(.*?)\n\1$", markdown, flags=re.S | re.M)
    return code[1]


def figure_parts(markup: str) -> tuple[str, str]:
    """(the SVG's accessible name, the visible caption) of ``figures.figure_markup``'s HTML."""
    name = re.search(r'<svg role="img" aria-label="([^"]*)"', markup)
    caption = re.search(r"<figcaption>(.*?)</figcaption>", markup, flags=re.S)
    assert name and caption, markup[:300]
    return html.unescape(name[1]), html.unescape(caption[1])


@pytest.fixture(scope="module")
def random_outputs():
    return run_of()


@pytest.fixture(scope="module")
def book_outputs():
    return run_of(source="table", table=app.BOOK_TABLE)


@pytest.fixture(scope="module")
def book_extras(book_outputs):
    return app.run_extras(book_outputs[ui.state], app.BOOK_SENTENCE)


@pytest.fixture
def exports_in(tmp_path, monkeypatch) -> Path:
    """Exports go to tmp_path instead of Gradio's cache."""
    monkeypatch.setattr(ui.exports, "GRADIO_CACHE", str(tmp_path))
    return tmp_path / "attention-exports"


# --- run_attention: the first view ---------------------------------------------------------------------


def test_random_run_follows_the_notebook_recipe(random_outputs):
    run = random_outputs[ui.state]
    x = recipe_inputs(run.ids, dim=3, seed=123)
    scores, weights, context = book_attention(x)
    assert (run.tokens, run.source, run.dim, run.seed) == (PIECES, "random", 3, 123)
    assert torch.equal(run.attention.inputs, x)
    assert random_outputs[ui.inputs_table].value["headers"] == ["#", "token", "d1", "d2", "d3"]
    assert [row[:2] for row in random_outputs[ui.context_table].value["data"]] == [
        [str(i + 1), token] for i, token in enumerate(VISIBLE)
    ]
    assert_cells(cells(random_outputs[ui.inputs_table]), x)
    table = random_outputs[ui.weights_table].value
    # The row sum comes right after the token, so it stays in view (issue 23).
    assert table["headers"] == ["#", "token", "row sum", "1", "2", "3", "4", "5", "6"]
    assert_cells([row[1:] for row in cells(random_outputs[ui.weights_table])], weights)
    assert [row[2] for row in table["data"]] == ["1.0000"] * 6  # the chapter's attn_weights.sum(dim=-1)
    assert_cells(cells(random_outputs[ui.context_table]), context)
    assert [score for score, _ in walk_rows(random_outputs[ui.walk_text])] == pytest.approx(
        scores[1].tolist(), abs=HALF_UNIT
    )
    recipe = random_outputs[ui.recipe]
    assert (
        "torch.manual_seed(123)" in recipe and "nn.Embedding(50257, 3)" in recipe and repr(app.BOOK_SENTENCE) in recipe
    )


def unpacked(packed: str) -> torch.Tensor:
    """A matrix sent as web.matrix.packed_floats (T² shortest decimals, row by row), back as a (T, T) tensor."""
    values = torch.tensor([float(v) for v in packed.split()], dtype=torch.float32)
    count = int(len(values) ** 0.5)
    return values.reshape(count, count)


def test_first_view_shows_chips_matrix_and_query_2(random_outputs):
    run = random_outputs[ui.state]
    # The first view is only what the matrix's first frame needs: the trace beside it, the tables and the rest
    # follow in their own events, so their typesetting and layout never hold it back.
    assert random_outputs["first view"] == {ui.state, ui.tokens_html, ui.heatmap, ui.link}
    assert random_outputs[ui.link] == "text=Your+journey+starts+with+one+step&dim=3&seed=123&tau=1&show=weights"
    chips = random_outputs[ui.tokens_html]
    assert "6 tokens" in chips and all(f">{token}<" in chips for token in VISIBLE)
    assert random_outputs[ui.embeddings_box]["label"] == "Embeddings: seeded random vectors, d = 3, seed = 123"
    matrix = random_outputs[ui.heatmap]  # the numbers the browser draws, bit for bit the run's float32
    assert matrix["tokens"] == VISIBLE and matrix["ids"] == run.ids and matrix["tau"] == 1.0
    assert matrix["view"] == "weights"
    assert torch.equal(unpacked(matrix["scores"]), run.attention.scores)
    assert torch.equal(unpacked(matrix["weights"]), run.attention.weights)
    dropdown = random_outputs[ui.query]
    assert dropdown.value == 1  # the book walks through x^(2), "journey"
    assert dropdown.choices == [(f"{i + 1}: {token}", i) for i, token in enumerate(VISIBLE)]
    walk = random_outputs[ui.walk_text]
    assert "## Query 2: <code>␣journey</code>" in walk
    assert walk.index("**5. Context vector") < walk.index("**The same steps in the book's code:**")
    assert "query = inputs[1]  # token 2 is the query" in walk  # the one-query loop cell, for any run


def test_the_books_table_gives_the_books_numbers(book_outputs):
    run = book_outputs[ui.state]
    assert (run.source, run.seed) == ("table", None)
    assert torch.equal(run.attention.inputs, torch.tensor(INPUTS))
    assert cells(book_outputs[ui.context_table])[1] == [f"{v:.4f}" for v in CONTEXT_2]
    assert cells(book_outputs[ui.weights_table]) == [["1.0000"] + [f"{v:.4f}" for v in row] for row in WEIGHTS]
    assert walk_rows(book_outputs[ui.walk_text]) == list(zip(SCORES_2, WEIGHTS_2))
    assert "torch.manual_seed" not in book_outputs[ui.recipe]


def test_a_labeled_table_without_text_uses_its_labels():
    outputs = run_of("", source="table", table=LABELED_BOOK_CSV)
    assert outputs[ui.state].tokens == WORDS and outputs[ui.state].ids is None
    assert "tok-id" not in outputs[ui.tokens_html]
    assert cells(outputs[ui.context_table])[1] == [f"{v:.4f}" for v in CONTEXT_2]


def test_wide_runs_show_the_first_16_dimensions_and_say_so():
    outputs = run_of(dim=20)
    assert outputs[ui.inputs_table].value["headers"] == ["#", "token"] + [f"d{k}" for k in range(1, 17)]
    assert outputs[ui.inputs_table].label == "Input embeddings x (first 16 of 20 dimensions, 4 decimals)"
    assert_cells(cells(outputs[ui.inputs_table]), recipe_inputs(outputs[ui.state].ids, dim=20, seed=123)[:, :16])


@pytest.mark.parametrize("tau", [0.5, math.sqrt(3)], ids=["tau0.5", "sqrt_d"])
def test_a_run_at_temperature_tau(tau):
    outputs = run_of(tau=tau)
    run = outputs[ui.state]
    scores, weights, _ = book_attention(recipe_inputs(run.ids, dim=3, seed=123), tau)
    assert run.temperature == tau
    torch.testing.assert_close(run.attention.scores, scores)  # τ enters the softmax only
    torch.testing.assert_close(run.attention.weights, weights)
    assert rf"\(\tau = {tau:.4f}\)" in outputs[ui.walk_text]
    assert [w for _, w in walk_rows(outputs[ui.walk_text])] == pytest.approx(weights[1].tolist(), abs=HALF_UNIT)


def test_tokens_are_never_markup():
    outputs = run_of("a <script>alert(1)</script> & *b*")
    assert "<script" not in outputs[ui.tokens_html] and "&lt;" in outputs[ui.tokens_html]
    assert "<script" not in outputs[ui.walk_text]


# --- run_extras: below the first view ------------------------------------------------------------------


def test_beside_the_first_view_the_trace_of_the_books_cell_2_1(book_outputs):
    """The trace sits beside the matrix: it comes right after the first view, in its own event, so that its
    typesetting never holds back the matrix's first frame."""
    assert (book_outputs[ui.trace_query].value, book_outputs[ui.trace_key].value) == (1, 0)
    labels = [label for label, _ in book_outputs[ui.trace_key].choices]
    assert labels == [f"{i + 1}: {t}" for i, t in enumerate(VISIBLE)]
    assert not {ui.trace_query, ui.trace_key, ui.trace_md} & book_outputs["first view"]
    trace = book_outputs[ui.trace_md]
    assert trace.startswith("## Cell (2, 1): query <code>␣journey</code> → key <code>Your</code>")
    assert book_dot_line(1, 0) in trace
    assert trace.rstrip().endswith(f"gives {100 * WEIGHTS_2[0]:.2f}% of its attention to token 1 <code>Your</code>.")


def test_extras_compare_the_books_example_with_the_book(book_extras):
    parity = book_extras[ui.parity_md]
    assert parity.startswith(
        "Computed from this run's 6 × 3 inputs.\n\n**161 of 161 printed numbers match** (all match)"
    )
    assert "✗" not in parity


def test_parity_at_another_tau_still_compares_at_tau_1():
    run = run_of(source="table", table=app.BOOK_TABLE, tau=2.0)[ui.state]
    parity = app.run_extras(run, app.BOOK_SENTENCE)[ui.parity_md]
    assert "(the book uses τ = 1; the comparison below does too)" in parity and "✗" not in parity


@pytest.mark.parametrize(
    ("text", "source", "dim", "table"),
    [(app.BOOK_SENTENCE, "random", 3, ""), ("one two", "table", 3, "0.1, 0.2, 0.3\n0.4, 0.5, 0.6")],
    ids=["random_6x3", "table_2x3"],
)
def test_parity_of_another_run_asks_for_the_books_example(text, source, dim, table):
    run = run_of(text, source=source, dim=dim, table=table)[ui.state]
    parity = app.run_extras(run, text)[ui.parity_md]
    assert parity.startswith("The book's printed values are for its 6 × 3 example.") and "✓" not in parity


def test_extras_facts_and_self_match_are_this_runs():
    run = run_of(REPEATED_TEXT, dim=4, seed=7)[ui.state]
    extras = app.run_extras(run, REPEATED_TEXT)
    assert extras[ui.facts_md].startswith("**Repeated tokens:** 2 tokens appear more than once")
    wins, ties = self_wins(recipe_inputs(run.ids, dim=4, seed=7) @ recipe_inputs(run.ids, dim=4, seed=7).T)
    assert extras[ui.self_match].startswith(
        f"**Here, {wins} of 8 tokens** have their largest score with themselves, {ties} of them by a tie"
    )


def test_extras_snippet_reproduces_the_run(monkeypatch):
    from reference import run_snippet

    run = run_of(REPEATED_TEXT, dim=4, seed=7, tau=0.5)[ui.state]
    snippet = app.run_extras(run, REPEATED_TEXT)[ui.snippet]
    assert snippet.startswith("**Copy as PyTorch (torch and tiktoken only)**")
    namespace = run_snippet(code_in(snippet), monkeypatch)
    assert namespace["ids"] == run.ids
    assert torch.equal(namespace["inputs"], run.attention.inputs)
    torch.testing.assert_close(namespace["weights"], run.attention.weights)


def test_extras_temperature_text_is_this_runs(book_extras):
    assert "| τ = 1 (the book) | 0.2180 | 1.7615 | 0 of 6 |" in book_extras[ui.tau_md]
    name, caption = figure_parts(book_extras[ui.bars])
    assert name == "Attention weights of query 2 (␣journey)"
    # The book's row 2: its largest weight is the query's own, α_22.
    assert max(WEIGHTS_2) == WEIGHTS_2[1]
    assert caption == (
        "Bars: the attention weights of query 2 (␣journey) over its 6 keys, which sum to 1. "
        f"The largest is {WEIGHTS_2[1]:.4f}, for key 2 (␣journey): the query itself (hatched)."
    )


def test_extras_hide_the_last_runs_downloads(book_extras):
    assert book_extras[ui.exports] == gr.update(value=None, visible=False)


def test_extras_without_a_run_change_nothing():
    assert app.run_extras(None, "") == gr.skip()


def test_time_loops_and_hull(book_outputs):
    run = book_outputs[ui.state]
    assert "On this input (T = 6 tokens, d = 3)" in app.time_loops(run)[ui.timings]
    assert app.time_loops(None) == gr.skip()
    name, caption = figure_parts(app.draw_hull(run))
    assert name == "Inputs and their context vectors"
    assert caption.startswith("3-D scatter of the 6 inputs x⁽ⁱ⁾ (circles) and their context vectors z⁽ⁱ⁾ (triangles)")
    assert app.draw_hull(None) == gr.skip()


def test_why_trainable_recounts_the_cat_sentence_and_warms_row():
    ids = ac.tokenize(CAT_SENTENCE).ids
    text = app.why_trainable()
    for dim in app.SELF_MATCH_DIMS:
        x = recipe_inputs(ids, dim=dim, seed=app.DEFAULT_SEED)
        assert f"| {dim} | {self_wins(x @ x.T)[0]} of {len(ids)} |" in text
    # "warm" (token 10), weight-free and with the book's section 3.4.1 random projections, recomputed here.
    x = recipe_inputs(ids, dim=app.DEFAULT_DIM, seed=app.DEFAULT_SEED)
    generator = torch.Generator().manual_seed(123)
    w_query, w_key = torch.rand(3, 2, generator=generator), torch.rand(3, 2, generator=generator)
    projected = torch.softmax((x @ w_query) @ (x @ w_key).T / 2**0.5, dim=-1)
    plain = torch.softmax(x @ x.T, dim=-1)
    assert "<code>␣warm</code> (token 10)" in text
    for j in range(len(ids)):
        assert f"| {j + 1} | " in text and f" | {plain[9, j]:.4f} | {projected[9, j]:.4f} |" in text


# --- choosing a query or a cell ---------------------------------------------------------------------------


@pytest.mark.parametrize("query", [0, "3", 5], ids=["first", "string", "last"])
def test_show_query(random_outputs, query):
    run = random_outputs[ui.state]
    index = int(query)
    result = app.show_query(run, query)
    scores, weights, _ = book_attention(run.attention.inputs)
    assert f"## Query {index + 1}: <code>{VISIBLE[index]}</code>" in result[ui.walk_text]
    rows = walk_rows(result[ui.walk_text])
    assert [s for s, _ in rows] == pytest.approx(scores[index].tolist(), abs=HALF_UNIT)
    assert [w for _, w in rows] == pytest.approx(weights[index].tolist(), abs=HALF_UNIT)
    assert figure_parts(result[ui.bars])[0] == f"Attention weights of query {index + 1} ({VISIBLE[index]})"


def test_show_query_without_a_choice_or_a_run(random_outputs):
    assert app.show_query(random_outputs[ui.state], None) == gr.skip()
    assert error_of(lambda: app.show_query(None, 1)) == errors.EXPIRED_RUN


def test_trace_pair_and_a_selected_cell_give_the_same_trace(book_outputs):
    run = book_outputs[ui.state]
    text = app.trace_pair(run, 4, "5")
    assert text.startswith("## Cell (5, 6): query <code>␣one</code> → key <code>␣step</code>")
    assert text.rstrip().endswith(f"gives {100 * WEIGHTS[4][5]:.2f}% of its attention to token 6 <code>␣step</code>.")
    selected = app.trace_select(run, SimpleNamespace(index=(4, 5)))
    assert selected == {ui.trace_query: 4, ui.trace_key: 5, ui.trace_md: text}
    assert app.trace_pair(run, None, 0) == gr.skip()


def test_shuffle_shows_a_new_order_each_click(random_outputs):
    run = random_outputs[ui.state]
    shuffles, orders = 0, []
    for _ in range(5):
        result = app.shuffle_tokens(run, shuffles)
        shuffles = result[ui.shuffles]
        orders.append(shuffles[1])
        assert result[ui.shuffle_md].startswith(
            "**Shuffled order:** " + " ".join(f"<code>{VISIBLE[p]}</code>" for p in shuffles[1])
        )
        assert "with rows and columns reordered is" in result[ui.shuffle_md]
        shuffled = result[ui.shuffled]
        assert shuffled["tokens"] == [VISIBLE[p] for p in shuffles[1]] and shuffled["caption"].startswith("Shuffled")
        order = torch.tensor(shuffles[1])
        assert torch.allclose(unpacked(shuffled["weights"]), run.attention.weights[order][:, order], atol=1e-6)
    assert shuffles[0] == 5
    assert all(sorted(order) == list(range(6)) and order != list(range(6)) for order in orders)
    assert all(orders[i] != orders[i - 1] for i in range(1, len(orders)))


def test_shuffle_needs_two_tokens():
    run = run_of("hi")[ui.state]
    assert error_of(lambda: app.shuffle_tokens(run, 0)) == (
        "There is only one token: type a sentence with at least two tokens to shuffle."
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: app.trace_pair(None, 1, 0),
        lambda: app.trace_select(None, SimpleNamespace(index=(0, 0))),
        lambda: app.shuffle_tokens(None, 0),
    ],
    ids=["trace_pair", "trace_select", "shuffle_tokens"],
)
def test_handlers_without_a_run_ask_for_one(call):
    assert error_of(call) == errors.EXPIRED_RUN


@pytest.mark.parametrize("index", [(6, 0), (0, -1), ("x", 0), (1,), None], ids=["row", "column", "word", "one", "none"])
def test_trace_select_refuses_a_cell_outside_the_matrix(random_outputs, index):
    message = error_of(lambda: app.trace_select(random_outputs[ui.state], SimpleNamespace(index=index)))
    assert "between 0 and 5" in message or "must be a whole number" in message or "Choose a cell" in message


@pytest.mark.parametrize("tau", [0.5, 2.0, 27.7128], ids=["sharp", "flat", "sqrt-768"])
def test_follow_tau_recomputes_the_runs_own_inputs(random_outputs, tau):
    run = random_outputs[ui.state]
    followed = app.follow_tau(run, tau)
    new = followed[ui.state]
    assert new.tokens == run.tokens and torch.equal(new.attention.inputs, run.attention.inputs)
    expected = torch.softmax(run.attention.scores.double() / tau, dim=-1)
    assert torch.allclose(new.attention.weights.double(), expected, atol=1e-6)
    assert followed[ui.heatmap]["tau"] == tau and torch.equal(
        unpacked(followed[ui.heatmap]["weights"]), new.attention.weights
    )
    assert ui.walk_text not in followed and ui.context_table not in followed  # they follow in run_extras
    below = app.run_extras(new, app.BOOK_SENTENCE, 3, 4, 2)
    assert_cells(cells(below[ui.context_table]), new.attention.context)
    assert below[ui.walk_text].startswith("## Query 4: ") and rf"\(\tau = {tau:.4f}\)" in below[ui.walk_text]
    # the traced cell beside the matrix stays the reader's, at the new τ
    beside = app.trace_beside(new, app.BOOK_SENTENCE, 3, 2)
    assert (beside[ui.trace_query].value, beside[ui.trace_key].value) == (3, 2)
    assert beside[ui.trace_md] == app.panels.trace(new, 3, 2) and ui.trace_md not in followed


def test_follow_tau_refuses_a_bad_tau_and_skips_without_a_run(random_outputs):
    assert "between 0.05 and 50" in error_of(lambda: app.follow_tau(random_outputs[ui.state], 0))
    assert app.follow_tau(None, 2.0) is not None  # gr.skip(): nothing to follow


# --- a refused Run ----------------------------------------------------------------------------------------


def test_a_refused_run_clears_every_panel_and_says_why_inertly(random_outputs):
    result = app.refused_run(app.BOOK_SENTENCE, "random", "<img src=x onerror=alert(1)>", 123, "", False)
    assert result[ui.tokens_html] == (
        "<p class='run-refused'><strong>Not run.</strong> The embedding dimension must "
        "be a whole number, not '&lt;img src=x onerror=alert(1)&gt;'.</p>"
    )
    for panel in page_model.PANELS:
        if panel.name != "tokens_html":
            assert result[getattr(ui, panel.name)] == panel.empty, panel.name
    assert result[ui.state] is None and result[ui.heatmap] is None and result[ui.walk_text] == ""
    assert result[ui.query] == gr.update(choices=[], value=None)
    assert result[ui.exports] == gr.update(value=None, visible=False)
    # Every output of the first view and of what lies below it is cleared.
    assert set(random_outputs) - {"first view"} <= set(result)


def test_a_refused_run_gives_the_same_reason_as_its_toast():
    arguments = ("", "random", 3, 123, "", False)
    reason = error_of(lambda: app.run_attention(*arguments))
    assert reason in app.refused_run(*arguments)[ui.tokens_html]


# --- the page model: app.py's events derive from web/page_model.PANELS ----------------------------------------


def events_of(handler) -> list:
    """The events (BlockFunctions) that run ``handler``."""
    return [block_fn for block_fn in app.demo.fns.values() if block_fn.fn is handler]


def ids(blocks) -> set[int]:
    return {block._id for block in blocks}


def panel_ids(*stages: str) -> set[int]:
    return {getattr(ui, panel.name)._id for panel in page_model.PANELS if not stages or panel.stage in stages}


def test_every_panel_is_a_component_of_the_page():
    rendered = {block._id for block in app.demo.blocks.values()}
    for panel in page_model.PANELS:
        assert getattr(ui, panel.name)._id in rendered, panel.name
        assert panel.stage in page_model.STAGES and panel.cost in ("heavy", "light")
        assert (panel.build is None) == (panel.stage == "on demand"), panel.name


@pytest.mark.parametrize(
    ("handler", "stage"), [("run_attention", "first view"), ("run_extras", "below"), ("time_loops", "last")]
)
def test_each_stage_fills_exactly_its_panels_wherever_it_runs(book_outputs, handler, stage):
    wired = events_of(getattr(app, handler))
    assert wired, f"{handler} runs in no event"
    for block_fn in wired:
        assert ids(block_fn.outputs) == panel_ids(stage), block_fn.name
    result = {
        "first view": lambda: app.run_attention(app.BOOK_SENTENCE, "table", 3, 123, app.BOOK_TABLE, False),
        "below": lambda: app.run_extras(book_outputs[ui.state], app.BOOK_SENTENCE),
        "last": lambda: app.time_loops(book_outputs[ui.state]),
    }[stage]()
    assert ids(result) == panel_ids(stage)


def test_each_stage_shows_progress_on_its_marked_panels_only():
    for handler, stage in (("run_attention", "first view"), ("trace_beside", "beside"), ("run_extras", "below")):
        marked = {getattr(ui, name)._id for name in page_model.with_progress(stage)}
        assert marked, f"no panel of {stage} shows progress"
        for block_fn in events_of(getattr(app, handler)):
            assert ids(block_fn.show_progress_on) == marked, block_fn.name


def test_no_event_puts_its_progress_on_a_layout_block():
    """The page's status bookkeeping (Gradio 6.31, Blocks' update_loading_stati_state) copies the props of every
    component that has ever been a progress target, and of everything inside it, at each status change of every
    later event. A #below or the Tabs as a target made each Run copy the whole page: 2.3x the floor in bench_ui."""
    config = app.demo.get_config_file()
    layouts = {block["id"] for block in config["components"] if block["type"] in LAYOUT_TYPES}
    assert {app.ui.below._id, app.ui.tabs._id, app.ui.random_box._id} <= layouts  # the rule sees the page's layout
    for dependency in config["dependencies"]:
        targets = dependency["show_progress_on"] or dependency["outputs"]
        assert not set(targets) & layouts, (dependency["api_name"], set(targets) & layouts)


LAYOUT_TYPES = {"column", "row", "group", "accordion", "tabs", "tabitem", "form", "sidebar"}


def test_every_first_view_is_followed_by_below_and_on_failure_by_a_refusal_that_clears_every_panel():
    """Each trigger's run_attention has a refused_run that fires only when it fails, and on success the trace
    beside it, then run_extras."""
    dependencies = {d["id"]: d for d in app.demo.config["dependencies"]}
    after = lambda fn_index, handler, **flags: [  # noqa: E731
        i
        for i, d in dependencies.items()
        if d["trigger_after"] == fn_index and app.demo.fns[i].fn is handler and all(d[k] for k in flags)
    ]
    for block_fn in events_of(app.run_attention):
        index = next(i for i, fn in app.demo.fns.items() if fn is block_fn)
        (refusal,) = after(index, app.refused_run, trigger_only_on_failure=True)
        assert ids(app.demo.fns[refusal].outputs) == panel_ids()
        (beside,) = after(index, app.trace_beside, trigger_only_on_success=True)
        assert len(after(beside, app.run_extras, trigger_only_on_success=True)) == 1
    (opened,) = events_of(app.open_page)  # a page opened from a link refuses inside open_page
    assert ids(opened.outputs) >= panel_ids()


def test_the_guard_counts_each_handler_that_fills_a_heavy_panel_as_heavy():
    heavy_ids = {getattr(ui, panel.name)._id for panel in page_model.PANELS if panel.cost == "heavy"}
    wired = [block_fn for block_fn in app.demo.fns.values() if block_fn.fn is not None]
    lecture = set(ui.lecture_events)  # a lecture step may compute the learner's run: heavy by name
    heavy = {f.fn for f in wired if f.concurrency_id == "heavy" or ids(f.outputs) & heavy_ids or f.fn in lecture}
    assert set(app.HEAVY) == heavy and set(app.LIGHT) == {f.fn for f in wired} - heavy
    assert {app.attend_endpoint, app.run_attention, app.run_extras, app.open_page, app.follow_tau} <= heavy
    assert {app.tokenize, app.normalize, app.show_query, app.trace_select, app.run_lab} <= set(app.LIGHT)


# --- exports -----------------------------------------------------------------------------------------------


def test_exports_hold_the_run(exports_in, book_outputs):
    run = book_outputs[ui.state]
    paths = [Path(p) for p in app.prepare_exports(run, False)]
    assert [p.name for p in paths] == ["attention-run.json", "attention-weights.csv", "attention-matrix.png"]
    assert {p.parent.parent.parent for p in paths} == {exports_in}  # exports_in / <client> / <export> / file
    loaded = json.loads(paths[0].read_text(encoding="utf-8"))
    assert (loaded["tokens"], loaded["ids"], loaded["temperature"]) == (PIECES, run.ids, 1.0)
    assert loaded["inputs"] == INPUTS
    assert torch.equal(torch.tensor(loaded["weights"], dtype=torch.float32), run.attention.weights)
    csv_lines = paths[1].read_text(encoding="utf-8").splitlines()
    assert csv_lines[0] == "query / key," + ",".join(PIECES)
    assert [round(float(v), 4) for v in csv_lines[2].split(",")[1:]] == WEIGHTS_2
    assert paths[2].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_exports_without_a_run_write_nothing(exports_in):
    assert error_of(lambda: app.prepare_exports(None, False)) == errors.EXPIRED_RUN
    assert not exports_in.exists()


# --- shared links ------------------------------------------------------------------------------------------


def request(params: dict[str, str]) -> SimpleNamespace:
    """A stand-in for gr.Request: only ``query_params`` is read."""
    return SimpleNamespace(query_params=params)


@pytest.fixture
def warnings_shown(monkeypatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(gr, "Warning", lambda message, *args, **kwargs: shown.append(message))
    return shown


def test_a_full_link_restores_every_setting(warnings_shown):
    params = {"text": "Your journey", "dim": "5", "seed": "7", "tau": "2.5", "view": "scores", "table": "book"}
    assert app.link_settings(request(params)) == {
        ui.text: "Your journey",
        ui.dim: 5,
        ui.seed: 7,
        ui.tau: 2.5,
        ui.source: "table",
        ui.table: app.BOOK_TABLE,
        ui.raw_scores: True,
    }
    assert warnings_shown == []


def test_a_link_without_the_book_table_is_a_random_run():
    assert app.link_settings(request({"text": "hi", "view": "weights"})) == {
        ui.text: "hi",
        ui.source: "random",
        ui.raw_scores: False,
    }
    assert app.link_settings(request({})) == app.link_settings(None) == {}


# The page's inputs as they are when it opens: text, source, dim, seed, table, view switch, τ.
OPENED = (app.BOOK_SENTENCE, "random", app.DEFAULT_DIM, app.DEFAULT_SEED, "", False, 1.0)


def test_opening_a_link_restores_its_settings_and_shows_that_run_in_one_answer(warnings_shown):
    opened = app.open_page(
        *OPENED, request({"text": "Your journey", "dim": "5", "seed": "7", "tau": "2.5", "view": "scores"})
    )
    assert {opened[c] for c in (ui.text, ui.dim, ui.seed, ui.tau, ui.raw_scores)} >= {"Your journey", 5, 7, 2.5, True}
    run = opened[ui.state]
    assert (run.tokens, run.dim, run.seed, run.temperature) == (["Your", " journey"], 5, 7, 2.5)
    assert opened[ui.heatmap]["view"] == "scores" and opened[ui.link].endswith("tau=2.5&show=scores")
    assert warnings_shown == []


def test_opening_a_link_whose_run_is_refused_fills_its_settings_and_says_why(warnings_shown):
    opened = app.open_page(*OPENED, request({"text": "hello", "table": "book"}))  # 6 rows for 1 token
    assert (opened[ui.text], opened[ui.source]) == ("hello", "table") and opened[ui.table] == app.BOOK_TABLE
    assert opened[ui.state] is None and opened[ui.heatmap] is None and "Not run." in opened[ui.tokens_html]
    (shown,) = warnings_shown
    assert shown in opened[ui.tokens_html]


HOSTILE_VALUES = [
    "<form action=https://evil.example/login><input name=password></form>",
    '<img src="https://tracker.example/pixel.gif">',
    "<a href=https://evil.example>click</a>",
    "9" * 4000,
    "1e999",
    "-5",
]


@pytest.mark.parametrize("name", ["dim", "seed", "tau"])
@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=["form", "img", "link", "4000_digits", "huge", "negative"])
def test_a_refused_link_parameter_is_named_never_quoted(warnings_shown, name, value):
    """Issue 9: the toast renders HTML, so it gets a fixed text that names the parameter and its range."""
    restored = app.link_settings(request({"text": "hello", name: value}))
    assert restored == {ui.text: "hello", ui.source: "random"}  # the bad value is skipped, the rest restored
    (shown,) = warnings_shown
    assert shown.startswith(f"The link's {name} was ignored: it must be ")
    assert "<" not in shown and value not in shown and "evil" not in shown and len(shown) < 100


@pytest.mark.parametrize("tau", ["0.05", "27.71", "50"], ids=["min", "sqrt_768", "max"])
def test_a_restored_tau_is_one_the_slider_accepts(tau):
    restored = app.link_settings(request({"tau": tau}))[ui.tau]
    assert restored == float(tau) == ui.tau.preprocess(restored)


# --- small handlers ---------------------------------------------------------------------------------------


def test_root_temperature_is_the_square_root_of_the_active_tables_d():
    wide = "0.1 0.2 0.3 0.4 0.5\n0.5 0.4 0.3 0.2 0.1"
    assert app.root_temperature("random", "768", wide) == math.sqrt(768) <= ac.MAX_TEMPERATURE
    assert app.root_temperature("random", 3, app.BOOK_TABLE) == math.sqrt(3)
    # Issue 13, item 12: with "My own table" the table's d counts, not the random table's dim box, even before
    # that table has been run.
    assert app.root_temperature("table", 3, wide) == math.sqrt(5)
    assert app.root_temperature("table", 768, app.BOOK_TABLE) == math.sqrt(3)
    assert "The embedding dimension is 0" in error_of(lambda: app.root_temperature("random", 0, ""))
    assert "The table is empty" in error_of(lambda: app.root_temperature("table", 3, ""))


def test_new_text_after_the_books_example_goes_back_to_the_random_table():
    assert app.text_edited("A new sentence", "table", app.BOOK_TABLE) == "random"
    assert app.text_edited(app.BOOK_SENTENCE, "table", app.BOOK_TABLE) == gr.skip()  # still the book's sentence
    assert app.text_edited("A new sentence", "table", LABELED_BOOK_CSV) == gr.skip()  # the user's own table stays
    assert app.text_edited("A new sentence", "random", "") == gr.skip()


@pytest.mark.parametrize("source", ["random", "table"])
def test_toggle_source(source):
    result = app.toggle_source(source)
    assert (result[ui.random_box].visible, result[ui.table_box].visible) == (source == "random", source == "table")


def test_an_upload_fills_the_table_and_chooses_it(tmp_path):
    path = tmp_path / "book.csv"
    path.write_text(LABELED_BOOK_CSV, encoding="utf-8")
    assert app.load_upload(str(path)) == {
        ui.table: LABELED_BOOK_CSV,
        ui.source: "table",
        ui.upload_note: "Loaded: 6 rows of 3 numbers. Press Run.",
    }
    assert app.load_upload(None) == gr.skip()


def test_a_bad_upload_clears_itself_and_says_why_under_the_box(tmp_path):
    """Refused now, not on the next Run; the table box keeps its last good table, and no toast covers the form."""
    bad = tmp_path / "bad.csv"
    bad.write_text("0.1,0.2\n0.3,<b>zwei</b>\n", encoding="utf-8")
    result = app.load_upload(str(bad))
    assert set(result) == {ui.upload, ui.upload_note} and result[ui.upload] is None
    assert result[ui.upload_note].startswith("**Not loaded.** Row 2, column 2 is")
    assert "<b>" not in result[ui.upload_note] and "&lt;b&gt;zwei" in result[ui.upload_note]


def test_the_lab_shows_table_chart_and_notes():
    result = app.run_lab("1, 2, 3, 400", "float32")
    rows = result[lab.table]["data"]
    assert [row[3] for row in rows[:4]] == ["0.0000", "0.0000", "0.0000", "1.0000"] and rows[3][2] == "NaN"
    name, caption = figure_parts(result[lab.chart])
    assert name == "Normalizations side by side (missing bars are NaN or inf)"
    assert caption.endswith("No bar (NaN or inf): naive softmax at 400.")
    assert result[lab.notes].startswith("**Notes (float32)**") and "overflows float32" in result[lab.notes]


def test_a_refused_lab_input_clears_table_and_chart():
    result = app.run_lab("1, <b>two</b>", "float32")
    assert result[lab.table] is None and result[lab.chart] == ""
    assert (
        result[lab.notes] == "**Cannot compare:** Value 2 is '&lt;b&gt;two&lt;/b&gt;', which is not a number. "
        "Separate numbers with commas or spaces."
    )


# --- what the handlers return is what their events accept -------------------------------------------------


def _events_of(handler) -> list:
    name = handler.__name__
    found = [block_fn for block_fn in app.demo.fns.values() if getattr(block_fn.fn, "__name__", None) == name]
    assert found, f"{name} is wired to no event"
    return found


@pytest.mark.parametrize(
    ("handler", "arguments"),
    [
        (app.open_page, lambda run: (*OPENED, None)),  # a page opened without a link: every page load
        (app.open_page, lambda run: (*OPENED, request({"text": "hi", "dim": "x"}))),
        (app.open_page, lambda run: (*OPENED, request({"text": "hello", "table": "book"}))),  # refused
        (app.run_extras, lambda run: (None, "")),
        (app.run_extras, lambda run: (run, app.BOOK_SENTENCE)),
        (app.show_query, lambda run: (run, None)),
        (app.show_query, lambda run: (run, 2)),
        (app.trace_pair, lambda run: (run, None, 0)),
        (app.trace_select, lambda run: (run, SimpleNamespace(index=(1, 0)))),
        (app.load_upload, lambda run: (None,)),
        (app.toggle_source, lambda run: ("table",)),
        (app.run_lab, lambda run: ("1, two", "float32")),
        (app.root_temperature, lambda run: ("table", 3, app.BOOK_TABLE)),
        (app.text_edited, lambda run: (app.BOOK_SENTENCE, "table", app.BOOK_TABLE)),
    ],
    ids=[
        "open-plain",
        "open-link",
        "open-refused",
        "extras-nothing",
        "extras",
        "query-nothing",
        "query",
        "trace-nothing",
        "trace-select",
        "upload-nothing",
        "toggle",
        "lab-refused",
        "root-temperature",
        "text-edited",
    ],
)
@pytest.mark.filterwarnings("ignore:The value passed into gr.Dropdown:UserWarning")  # choices live in the session
def test_gradio_accepts_what_each_handler_returns(
    book_outputs, warnings_shown, monkeypatch, tmp_path, handler, arguments
):
    """Gradio reads a dict keyed by components as updates, but an empty dict as one value: "change nothing" must
    be gr.skip(). Every key must be an output of the event."""
    import asyncio

    result = handler(*arguments(book_outputs[ui.state]))
    for block_fn in _events_of(handler):
        for block in block_fn.outputs:
            monkeypatch.setattr(block, "GRADIO_CACHE", str(tmp_path), raising=False)  # images are saved here
        asyncio.run(app.demo.postprocess_data(block_fn, result, None))  # raises on a mismatch


# --- the named API, called directly -------------------------------------------------------------------------


def test_api_functions_answer_plain_data():
    assert app.tokenize(TOKENIZER_TEXT) == {"ids": TOKENIZER_IDS, "tokens": ac.tokenize(TOKENIZER_TEXT).tokens}
    assert app.tokenize(" ") == {"ids": [220], "tokens": [" "]}
    answer = app.attend_endpoint(app.BOOK_SENTENCE, table=LABELED_BOOK_CSV)
    assert answer["inputs"] == INPUTS and [round(v, 4) for v in answer["context"][1]] == CONTEXT_2
    normalized = app.normalize(", ".join(map(str, SCORES_2)))
    assert [round(v, 4) for v in normalized["softmax_stable"]] == WEIGHTS_2 and normalized["notes"] == []


# --- errors: user messages are inert text; anything unexpected is hidden and logged ---------------------------


def test_user_errors_escape_markup_in_messages():
    @errors.user_errors
    def refuses():
        raise ac.InputError("The seed must be a whole number, not '<img src=x onerror=alert(1)>'.")

    message = error_of(refuses)
    assert "<img" not in message and "&lt;img src=x onerror=alert(1)&gt;" in message
    message = error_of(lambda: run_of(dim="<img src=x>"))
    assert "<img" not in message and "not '&lt;img src=x&gt;'" in message


def explode(*args, **kwargs):
    raise RuntimeError("secret /path/to/internals")


BREAKAGES = {
    "run_attention": ("panels.matrix", lambda run, tmp: run_of()),
    "run_extras": ("panels.walk", lambda run, tmp: app.run_extras(run, "")),
    "show_query": ("panels.bars", lambda run, tmp: app.show_query(run, 2)),
    "follow_tau": ("links.with_tau", lambda run, tmp: app.follow_tau(run, 2.0)),
    "load_upload": ("decode_upload", lambda run, tmp: app.load_upload(str(tmp))),
    "tokenize": ("ac.tokenize", lambda run, tmp: app.tokenize("hi")),
    "attend": ("ac.attend", lambda run, tmp: app.attend_endpoint("hi")),
    "normalize": ("ac.compare_normalizations", lambda run, tmp: app.normalize("1, 2")),
}


@pytest.mark.parametrize("handler", list(BREAKAGES))
def test_unexpected_errors_are_hidden_and_logged(monkeypatch, caplog, tmp_path, book_outputs, handler):
    target, call = BREAKAGES[handler]
    owner, _, name = target.rpartition(".")
    monkeypatch.setattr({"ac": ac, "panels": app.panels, "links": app.links}.get(owner, app), name, explode)
    upload = tmp_path / "table.csv"
    upload.write_text(LABELED_BOOK_CSV, encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="attention_app"):
        with pytest.raises(gr.Error) as caught:
            call(book_outputs[ui.state], upload)
    assert caught.value.message == errors.GENERIC_ERROR
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    (record,) = [r for r in caught_records(caplog) if r.levelno >= logging.ERROR]
    assert handler in record.getMessage() and "secret /path/to/internals" in record.exc_text


def caught_records(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "attention_app"]


# --- start-up -----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_import_app_serves_the_page_before_torch_and_matplotlib_load():
    code = "import json, sys\nimport app\nprint(json.dumps([n for n in ('torch', 'matplotlib') if n in sys.modules]))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
