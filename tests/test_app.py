"""The Gradio handlers in app.py, called directly (no server).

Expected numbers come from the book (chapter 3.3) or from an independent computation here:
the notebook recipe ``torch.manual_seed(seed); torch.nn.Embedding(50257, d).weight[ids]`` and ``torch.softmax``.
"""

from __future__ import annotations

import json
import logging
import math
import re

import gradio as gr
import numpy as np
import pytest
import torch

import app
import attention_core
from attention_core import explain, plots

# Chapter 3.3.1: the inputs, and the printed scores, weights and context vector of query 2 ("journey").
BOOK_INPUTS = [
    [0.43, 0.15, 0.89],
    [0.55, 0.87, 0.66],
    [0.57, 0.85, 0.64],
    [0.22, 0.58, 0.33],
    [0.77, 0.25, 0.10],
    [0.05, 0.80, 0.55],
]
BOOK_SCORES_2 = [0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865]
BOOK_WEIGHTS_2 = [0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581]
BOOK_CONTEXT_2 = [0.4419, 0.6515, 0.5683]
BOOK_TOKENS = ["Your", "␣journey", "␣starts", "␣with", "␣one", "␣step"]
LABELED_BOOK_CSV = "\n".join(
    f"{label},{','.join(str(v) for v in row)}"
    for label, row in zip(["Your", "journey", "starts", "with", "one", "step"], BOOK_INPUTS)
)
HALF_ULP_4 = 5e-5 + 1e-7  # a value shown at 4 decimals is within half a unit of the 4th decimal

# run_attention's outputs, in order.
STATE, CHIPS, HEATMAP, INPUTS_TABLE, CONTEXT_TABLE, QUERY, WALK, BARS, SELF_MATCH, RECIPE = range(10)


def recipe_inputs(ids: list[int], dim: int, seed: int) -> torch.Tensor:
    """The book's notebook recipe for random embeddings, on a forked global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.nn.Embedding(50257, dim).weight[ids].detach()  # (T, d)


def reference_attention(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    scores = x @ x.T  # (T, d) @ (d, T) -> (T, T)
    weights = torch.softmax(scores, dim=-1)  # (T, T)
    return scores, weights, weights @ x  # (T, T) @ (T, d) -> (T, d)


def assert_cells(rows: list[list[str]], matrix: torch.Tensor) -> None:
    """Table cells are the matrix at exactly 4 decimals."""
    values = matrix.tolist()
    assert len(rows) == len(values)
    for cells, expected_row in zip(rows, values):
        assert len(cells) == len(expected_row)
        for cell, expected in zip(cells, expected_row):
            assert re.fullmatch(r"-?\d+\.\d{4}", cell), cell
            assert abs(float(cell) - expected) <= HALF_ULP_4, (cell, expected)


def walk_rows(markdown: str) -> list[tuple[int, str, float, float, float]]:
    """(j, token html, score, exp, weight) for each row of the walk-through's table."""
    rows = []
    for line in markdown.splitlines():
        match = re.fullmatch(r"\| (\d+) \| (<code>.*?</code>) \| .* = (\S+) \| (\S+) \| (\S+) \|", line)
        if match:
            j, token, score, exp, weight = match.groups()
            rows.append((int(j), token, float(score), float(exp), float(weight)))
    return rows


def walk_context(markdown: str) -> list[float]:
    match = re.search(r"&= \[([^\]]*)\] \\end\{aligned\}", markdown)
    assert match, markdown
    return [float(item) for item in match.group(1).split(r",\ ")]


def error_message(excinfo: pytest.ExceptionInfo) -> str:
    return excinfo.value.message


@pytest.fixture(scope="module")
def random_run():
    return app.run_attention(app.BOOK_SENTENCE, app.SOURCE_RANDOM, 3, 123, "", False)


@pytest.fixture(scope="module")
def book_run():
    return app.run_attention(app.BOOK_SENTENCE, app.SOURCE_TABLE, 3, 123, app.BOOK_TABLE, False)


@pytest.fixture(scope="module")
def random_reference(random_run):
    x = recipe_inputs(random_run[STATE].ids, 3, 123)
    return (x, *reference_attention(x))


# --- run_attention: the seeded random table ------------------------------------------------


def test_run_attention_returns_the_state(random_run, random_reference):
    run = random_run[STATE]
    assert isinstance(run, attention_core.Attended)
    assert run.tokens == ["Your", " journey", " starts", " with", " one", " step"]
    assert len(run.ids) == 6 and all(isinstance(i, int) and 0 <= i < 50257 for i in run.ids)
    assert (run.source, run.dim, run.seed) == ("random", 3, 123)
    x, scores, weights, context = random_reference
    assert torch.equal(run.attention.inputs, x)
    torch.testing.assert_close(run.attention.context, context)


def test_run_attention_token_chips(random_run):
    chips = random_run[CHIPS]
    assert "6 tokens" in chips
    for token in BOOK_TOKENS:
        assert f">{token}<" in chips
    for token_id in random_run[STATE].ids:
        assert f"<span class='tok-id'>{token_id}</span>" in chips
    assert chips.count("class='tok-chip'") == 6


def test_run_attention_heatmap_is_an_rgba_image(random_run):
    image = random_run[HEATMAP]
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8
    height, width, channels = image.shape
    assert channels == 4
    assert 300 <= height <= 1200 and 300 <= width <= 1400
    assert len(np.unique(image.reshape(-1, 4), axis=0)) > 50  # a drawn figure, not a blank canvas


@pytest.mark.parametrize("output, which", [(INPUTS_TABLE, "inputs"), (CONTEXT_TABLE, "context")], ids=["inputs", "context"])
def test_run_attention_tables_match_the_recipe(random_run, random_reference, output, which):
    x, _, _, context = random_reference
    value = random_run[output].value
    assert value["headers"] == ["#", "token", "d1", "d2", "d3"]
    rows = value["data"]
    assert [row[0] for row in rows] == ["1", "2", "3", "4", "5", "6"]
    assert [row[1] for row in rows] == BOOK_TOKENS
    assert_cells([row[2:] for row in rows], x if which == "inputs" else context)
    assert random_run[output].label.endswith("(4 decimals)")


def test_run_attention_query_dropdown(random_run):
    dropdown = random_run[QUERY]
    assert dropdown.value == 1
    assert len(dropdown.choices) == 6
    assert [value for _, value in dropdown.choices] == list(range(6))
    for (label, _), token in zip(dropdown.choices, BOOK_TOKENS):
        assert token in label


def test_run_attention_walkthrough_of_query_2(random_run, random_reference):
    x, scores, weights, context = random_reference
    walk = random_run[WALK]
    assert "### Query 2: <code>␣journey</code>" in walk
    rows = walk_rows(walk)
    assert [j for j, *_ in rows] == [1, 2, 3, 4, 5, 6]
    for (_, _, score, exp, weight), s, w in zip(rows, scores[1].tolist(), weights[1].tolist()):
        assert abs(score - s) <= HALF_ULP_4
        assert math.isclose(exp, math.exp(s), rel_tol=1e-3, abs_tol=HALF_ULP_4)
        assert abs(weight - w) <= HALF_ULP_4
    assert walk_context(walk) == pytest.approx(context[1].tolist(), abs=HALF_ULP_4)
    assert isinstance(random_run[BARS], np.ndarray) and random_run[BARS].shape[2] == 4


def test_run_attention_notebook_recipe(random_run):
    recipe = random_run[RECIPE]
    assert "torch.manual_seed(123)" in recipe
    assert "nn.Embedding(50257, 3)" in recipe
    assert repr(app.BOOK_SENTENCE) in recipe


def test_run_attention_self_match_counts_diagonal_wins(random_run, random_reference):
    _, scores, _, _ = random_reference
    others = scores.clone().fill_diagonal_(float("-inf"))
    wins = int((scores.diagonal() >= others.max(dim=1).values).sum())
    assert random_run[SELF_MATCH].startswith(f"**{wins} of 6 tokens**")


def test_run_attention_other_dim_and_seed_follow_the_recipe():
    outputs = app.run_attention("Hello, do you like tea?", app.SOURCE_RANDOM, 5, 7, "", False)
    run = outputs[STATE]
    x = recipe_inputs(run.ids, 5, 7)
    assert torch.equal(run.attention.inputs, x)
    assert outputs[INPUTS_TABLE].value["headers"] == ["#", "token", "d1", "d2", "d3", "d4", "d5"]
    assert_cells([row[2:] for row in outputs[CONTEXT_TABLE].value["data"]], reference_attention(x)[2])
    assert "torch.manual_seed(7)" in outputs[RECIPE] and "nn.Embedding(50257, 5)" in outputs[RECIPE]


def test_run_attention_wide_tables_show_the_first_16_dimensions():
    outputs = app.run_attention(app.BOOK_SENTENCE, app.SOURCE_RANDOM, 20, 123, "", False)
    value = outputs[INPUTS_TABLE].value
    assert value["headers"] == ["#", "token"] + [f"d{k}" for k in range(1, 17)]
    x = recipe_inputs(outputs[STATE].ids, 20, 123)
    assert_cells([row[2:] for row in value["data"]], x[:, :16])
    assert outputs[INPUTS_TABLE].label == "Input embeddings x (first 16 of 20 dimensions, 4 decimals)"


def test_run_attention_escapes_html_in_tokens():
    outputs = app.run_attention("a <script>alert(1)</script> & b", app.SOURCE_RANDOM, 3, 123, "", False)
    assert "<script>" not in outputs[CHIPS]
    assert "&lt;" in outputs[CHIPS] and "&amp;" in outputs[CHIPS]
    assert "<script>" not in outputs[WALK]


def test_run_attention_on_unicode_marks_split_bytes():
    outputs = app.run_attention(app.UNICODE_SENTENCE, app.SOURCE_RANDOM, 3, 123, "", False)
    run = outputs[STATE]
    assert "".join(run.tokens).count("\\x") > 0
    assert "tok-bytes" in outputs[CHIPS]
    assert outputs[HEATMAP].shape[2] == 4


# --- run_attention: the book's table --------------------------------------------------------


def test_book_table_context_row_2(book_run):
    rows = book_run[CONTEXT_TABLE].value["data"]
    assert rows[1][1:] == ["␣journey", "0.4419", "0.6515", "0.5683"]
    assert_cells([row[2:] for row in book_run[INPUTS_TABLE].value["data"]], torch.tensor(BOOK_INPUTS))


def test_book_table_walkthrough_has_the_books_numbers(book_run):
    walk = book_run[WALK]
    for number in ("0.9544", "1.4950", "0.1385", "0.2379", "0.4419"):
        assert number in walk
    rows = walk_rows(walk)
    assert [score for _, _, score, _, _ in rows] == BOOK_SCORES_2
    assert [weight for *_, weight in rows] == BOOK_WEIGHTS_2
    assert walk_context(walk) == BOOK_CONTEXT_2


def test_book_table_state_and_recipe(book_run):
    run = book_run[STATE]
    assert run.source == "table" and run.seed is None
    assert torch.equal(run.attention.inputs, torch.tensor(BOOK_INPUTS))
    assert "torch.manual_seed" not in book_run[RECIPE]


def test_labeled_table_without_text_uses_the_labels():
    outputs = app.run_attention("", app.SOURCE_TABLE, 3, 123, LABELED_BOOK_CSV, False)
    run = outputs[STATE]
    assert run.tokens == ["Your", "journey", "starts", "with", "one", "step"]
    assert run.ids is None
    assert "tok-id" not in outputs[CHIPS]
    assert outputs[CONTEXT_TABLE].value["data"][1][2:] == ["0.4419", "0.6515", "0.5683"]


def test_walkthrough_shifts_by_the_max_when_exp_would_overflow():
    table = "10, 0\n0, 1\n9, 1"
    outputs = app.run_attention("one two three", app.SOURCE_TABLE, 3, 123, table, False)
    x = torch.tensor([[10.0, 0.0], [0.0, 1.0], [9.0, 1.0]])
    _, weights, _ = reference_attention(x)
    # The default query is 2, whose largest score is 1: no shift. Query 1's largest is 100 > 88.72.
    walk, _ = app.show_query(outputs[STATE], 0)
    assert r"\(m = 100.0000\)" in walk
    assert [w for *_, w in walk_rows(walk)] == pytest.approx(weights[0].tolist(), abs=HALF_ULP_4)


# --- the figures ----------------------------------------------------------------------------


def random_weights(count: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(count)
    x = torch.randn(count, 3, generator=generator)
    return torch.softmax(x @ x.T, dim=-1)


@pytest.mark.parametrize("count", [1, 6, 12, 13, 30], ids=lambda t: f"T={t}")
def test_heatmap_figure(count):
    tokens = [f" tok{i}" for i in range(count)]
    weights = random_weights(count)
    figure = plots.heatmap_figure(weights, tokens, title="weights", colorbar_label="weight α")
    axes = figure.axes[0]
    expected_labels = [f"␣tok{i} ({i + 1})" for i in range(count)]
    assert [label.get_text() for label in axes.get_xticklabels()] == expected_labels
    assert [label.get_text() for label in axes.get_yticklabels()] == expected_labels
    assert len(axes.texts) == (count * count if count <= 12 else 0)
    if count <= 12:
        assert axes.texts[-1].get_text() == f"{float(weights[-1, -1]):.2f}"
    assert len(figure.axes) == 2  # the heatmap and its colorbar
    assert figure.axes[1].get_ylabel() == "weight α"
    np.testing.assert_array_equal(np.asarray(axes.images[0].get_array()), weights.double().numpy())
    assert axes.get_title() == "weights"


def test_heatmap_figure_keeps_dollar_signs_literal():
    tokens = ["$", "x", "$"]
    figure = plots.heatmap_figure(random_weights(3), tokens, title="t", colorbar_label="c")
    assert [label.get_text() for label in figure.axes[0].get_xticklabels()] == ["$ (1)", "x (2)", "$ (3)"]
    image = plots.figure_to_array(figure)  # mathtext would fail on an unmatched "$"
    assert image.dtype == np.uint8 and image.shape[2] == 4


@pytest.mark.parametrize("count, query", [(1, 0), (6, 1), (20, 19)], ids=["T=1", "T=6", "T=20-last"])
def test_weights_bar_figure(count, query):
    weights = random_weights(count)[query]
    tokens = [f" w{i}" for i in range(count)]
    figure = plots.weights_bar_figure(weights, tokens, query=query)
    axes = figure.axes[0]
    bars = axes.containers[0]
    assert len(bars) == count
    assert [bar.get_height() for bar in bars] == pytest.approx(weights.double().tolist(), abs=1e-12)
    colors = [bar.get_facecolor() for bar in bars]
    assert sum(color != colors[(query + 1) % count] for color in colors) == (1 if count > 1 else 0)
    assert f"query {query + 1}" in axes.get_title()


def test_normalization_figure_draws_finite_bars_only():
    x = torch.tensor([1.0, 2.0, 3.0, 400.0])  # float32
    exps = torch.exp(x)
    columns = {
        "sum-normalized": (x / x.sum()).tolist(),
        "naive softmax": (exps / exps.sum()).tolist(),  # exp(400) = inf -> NaN
        "stable softmax": torch.softmax(x, dim=0).tolist(),
    }
    figure = plots.normalization_figure(x.tolist(), columns)
    axes = figure.axes[0]
    assert [len(container) for container in axes.containers] == [4, 3, 4]
    for container, column in zip(axes.containers, columns.values()):
        finite = [v for v in column if math.isfinite(v)]
        assert [bar.get_height() for bar in container] == pytest.approx(finite)
    assert [text.get_text() for text in axes.texts] == ["NaN/inf"]
    assert [label.get_text() for label in axes.get_xticklabels()] == ["1", "2", "3", "400"]


# --- redraw_heatmap, show_query, time_both --------------------------------------------------


def test_redraw_heatmap_raw_scores_differ(random_run):
    run = random_run[STATE]
    weights_image = app.redraw_heatmap(run, False)
    scores_image = app.redraw_heatmap(run, True)
    assert isinstance(scores_image, np.ndarray) and scores_image.shape[2] == 4
    assert weights_image.shape != scores_image.shape or not np.array_equal(weights_image, scores_image)
    np.testing.assert_array_equal(weights_image, random_run[HEATMAP])


def test_redraw_heatmap_without_a_run_asks_for_a_run():
    with pytest.raises(gr.Error) as excinfo:
        app.redraw_heatmap(None, True)
    assert error_message(excinfo) == app.EXPIRED_RUN


@pytest.mark.parametrize("query", range(6), ids=[f"q{i + 1}" for i in range(6)])
def test_show_query(random_run, random_reference, query):
    x, scores, weights, context = random_reference
    walk, bars = app.show_query(random_run[STATE], query)
    assert f"### Query {query + 1}: <code>{BOOK_TOKENS[query]}</code>" in walk
    rows = walk_rows(walk)
    assert [token for _, token, *_ in rows] == [f"<code>{t}</code>" for t in BOOK_TOKENS]
    assert [score for _, _, score, _, _ in rows] == pytest.approx(scores[query].tolist(), abs=HALF_ULP_4)
    assert [w for *_, w in rows] == pytest.approx(weights[query].tolist(), abs=HALF_ULP_4)
    assert walk_context(walk) == pytest.approx(context[query].tolist(), abs=HALF_ULP_4)
    assert isinstance(bars, np.ndarray) and bars.dtype == np.uint8 and bars.shape[2] == 4


def test_show_query_accepts_a_string_index(random_run):
    walk, _ = app.show_query(random_run[STATE], "3")
    assert "### Query 4: <code>␣with</code>" in walk


def test_show_query_without_a_run_asks_for_a_run():
    with pytest.raises(gr.Error) as excinfo:
        app.show_query(None, 1)
    assert error_message(excinfo) == app.EXPIRED_RUN
    assert app.show_query(object(), None) == (gr.skip(), gr.skip())


@pytest.mark.parametrize("query", [6, -1], ids=["past-the-end", "negative"])
def test_show_query_out_of_range(random_run, query):
    with pytest.raises(gr.Error) as excinfo:
        app.show_query(random_run[STATE], query)
    assert "between 1 and 6" in error_message(excinfo)


def max_difference(markdown: str) -> float:
    match = re.search(r"difference between their context vectors is \*\*([^*]+)\*\*", markdown)
    assert match, markdown
    return float(match.group(1))


def test_time_both(random_run):
    markdown = app.time_both(random_run[STATE])
    assert markdown.count(" ms**") == 2
    assert "T = 6 tokens, d = 3" in markdown
    assert 0 <= max_difference(markdown) < 1e-5


def test_time_both_on_a_long_text_times_a_prefix():
    run = app.run_attention("word " * 100, app.SOURCE_RANDOM, 3, 123, "", False)[STATE]
    assert len(run.tokens) > app.LOOPS_MAX_TOKENS
    markdown = app.time_both(run)
    assert f"T = {app.LOOPS_MAX_TOKENS} tokens" in markdown
    assert f"Timed on the first {app.LOOPS_MAX_TOKENS} tokens" in markdown
    assert max_difference(markdown) < 1e-5


def test_time_both_without_a_run():
    assert app.time_both(None) == ""


# --- the normalization lab ------------------------------------------------------------------

TORCH_DTYPES = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64}


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_run_lab_on_1_2_3_400(dtype):
    table, image, notes = app.run_lab("1, 2, 3, 400", dtype)
    assert table["headers"] == ["value", "sum-normalized", "naive softmax", "stable softmax"]
    rows = table["data"]
    assert len(rows) == 5  # 4 values and the sums
    x = torch.tensor([1.0, 2.0, 3.0, 400.0], dtype=TORCH_DTYPES[dtype])
    exps = torch.exp(x)
    expected = {1: (x / x.sum()).tolist(), 2: (exps / exps.sum()).tolist(), 3: torch.softmax(x, dim=0).tolist()}
    for i, row in enumerate(rows[:4]):
        assert float(row[0]) == [1.0, 2.0, 3.0, 400.0][i]
        for column, values in expected.items():
            if math.isnan(values[i]):
                assert row[column] == "NaN"
            else:
                assert float(row[column]) == pytest.approx(values[i], rel=1e-3, abs=HALF_ULP_4)
    assert rows[4][0] == "sum: 406.0000"
    assert rows[4][3] == "1.0000"
    if dtype == "float64":
        assert all(math.isfinite(float(row[2])) for row in rows)
        assert "overflow" not in notes
    else:
        assert [row[2] for row in rows] == ["0.0000", "0.0000", "0.0000", "NaN", "NaN"]
        assert [row[3] for row in rows[:4]] == ["0.0000", "0.0000", "0.0000", "1.0000"]
        assert f"overflows {dtype}" in notes
    assert notes.startswith(f"**Notes ({dtype})**")
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 4


def test_run_lab_on_the_books_scores_gives_the_books_weights():
    table, _, notes = app.run_lab(app.BOOK_SCORES_2, "float32")
    assert [float(row[3]) for row in table["data"][:6]] == BOOK_WEIGHTS_2
    assert [float(row[2]) for row in table["data"][:6]] == BOOK_WEIGHTS_2
    assert "Nothing surprising" in notes


# --- uploads ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, content",
    [
        ("book.csv", LABELED_BOOK_CSV),
        ("book.tsv", LABELED_BOOK_CSV.replace(",", "\t")),
        ("book.json", json.dumps(BOOK_INPUTS)),
        ("book.txt", app.BOOK_TABLE),
    ],
    ids=["csv", "tsv", "json", "txt-torch-literal"],
)
def test_load_upload_reads_a_table(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    text, source = app.load_upload(str(path))
    assert (text, source) == (content, app.SOURCE_TABLE)
    outputs = app.run_attention(app.BOOK_SENTENCE, source, 3, 123, text, False)
    assert outputs[CONTEXT_TABLE].value["data"][1][2:] == ["0.4419", "0.6515", "0.5683"]


def test_load_upload_drops_a_utf8_bom(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeff".encode() + LABELED_BOOK_CSV.encode())
    assert app.load_upload(str(path)) == (LABELED_BOOK_CSV, app.SOURCE_TABLE)


def test_load_upload_without_a_file_skips():
    assert app.load_upload(None) == (gr.skip(), gr.skip())


@pytest.mark.parametrize(
    "name, data, expected",
    [
        ("binary.csv", b"0.43,0.15\x00\x01\x02\n0.55,0.87", ["'binary.csv'", "looks like a binary file"]),
        ("empty.csv", b"", ["'empty.csv' is empty"]),
        ("blank.csv", b"  \n\t\n", ["'blank.csv' is empty"]),
        ("big.csv", b"0.1,0.2,0.3\n" * 90_000, ["'big.csv'", "the upload limit is 1,000,000 bytes"]),
        ("picture.png", b"\x89PNG\r\n\x1a\n", ["'picture.png' is not a table file", ".csv", ".json"]),
        ("latin1.csv", "0.43,0.15\né,0.2".encode("latin-1"), ["'latin1.csv' is not UTF-8 text", "byte 11"]),
        ("ragged.csv", b"0.1,0.2,0.3\n0.4,0.5", ["Row 2 has 2 numbers but row 1 has 3"]),
    ],
    ids=["binary", "empty", "blank", "over-1MB", "png", "not-utf8", "ragged"],
)
def test_load_upload_rejects(tmp_path, name, data, expected):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(gr.Error) as excinfo:
        app.load_upload(str(path))
    for part in expected:
        assert part in error_message(excinfo)


# --- toggle_source ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, random_visible", [(app.SOURCE_RANDOM, True), (app.SOURCE_TABLE, False)], ids=["random", "table"]
)
def test_toggle_source(source, random_visible):
    random_box, table_box = app.toggle_source(source)
    assert (random_box.visible, table_box.visible) == (random_visible, not random_visible)


# --- every error path -------------------------------------------------------------------------

FIVE_ROWS = "\n".join(", ".join(str(v) for v in row) for row in BOOK_INPUTS[:5])


@pytest.mark.parametrize(
    "text, source, dim, seed, table, expected",
    [
        ("", app.SOURCE_RANDOM, 3, 123, "", ["The text is empty"]),
        (None, app.SOURCE_RANDOM, 3, 123, "", ["The text is empty"]),
        ("  \n\t ", app.SOURCE_RANDOM, 3, 123, "", ["The text is empty"]),
        ("word " * 300, app.SOURCE_RANDOM, 3, 123, "", ["tokens; the limit is 256"]),
        ("a" * 10_001, app.SOURCE_RANDOM, 3, 123, "", ["10,001 characters", "the limit is 10,000"]),
        ("ok \ud800", app.SOURCE_RANDOM, 3, 123, "", ["lone UTF-16 surrogate", "U+D800"]),
        ("hi", app.SOURCE_RANDOM, 0, 123, "", ["The embedding dimension is 0", "between 1 and 768"]),
        ("hi", app.SOURCE_RANDOM, 769, 123, "", ["The embedding dimension is 769", "between 1 and 768"]),
        ("hi", app.SOURCE_RANDOM, 2.5, 123, "", ["embedding dimension must be a whole number, not 2.5"]),
        ("hi", app.SOURCE_RANDOM, "abc", 123, "", ["embedding dimension must be a whole number, not 'abc'"]),
        ("hi", app.SOURCE_RANDOM, None, 123, "", ["embedding dimension is empty"]),
        ("hi", app.SOURCE_RANDOM, True, 123, "", ["embedding dimension must be a whole number, not True"]),
        ("hi", app.SOURCE_RANDOM, 3, -1, "", ["The seed is -1", "between 0 and 4,294,967,295"]),
        ("hi", app.SOURCE_RANDOM, 3, 2**32, "", ["The seed is 4294967296", "between 0 and 4,294,967,295"]),
        ("hi", app.SOURCE_RANDOM, 3, 1.5, "", ["seed must be a whole number, not 1.5"]),
        (app.BOOK_SENTENCE, app.SOURCE_TABLE, 3, 123, FIVE_ROWS, ["5 rows", "6 tokens", "Your, ␣journey"]),
        (app.BOOK_SENTENCE, app.SOURCE_TABLE, 3, 123, "", ["The table is empty"]),
        (app.BOOK_SENTENCE, app.SOURCE_TABLE, 3, 123, " \n ", ["The table is empty"]),
        ("one two", app.SOURCE_TABLE, 3, 123, "0.1, 0.2, 0.3\n0.4, 0.5", ["Row 2 has 2 numbers but row 1 has 3"]),
        ("one two", app.SOURCE_TABLE, 3, 123, "0.1 0.2\n0.3 abc", ["Row 2, column 2 is 'abc'"]),
        ("one two", app.SOURCE_TABLE, 3, 123, "0.1 0.2\n0.3 nan", ["Row 2, column 2 is nan", "finite"]),
        ("one two", app.SOURCE_TABLE, 3, 123, "1e39 1\n1 1", ["beyond float32's range"]),
        ("one two", app.SOURCE_TABLE, 3, 123, "1e30, 1e30\n1e30, 1e30", ["overflow float32", "Scale the table down"]),
        ("", app.SOURCE_TABLE, 3, 123, "0.1, 0.2\n0.3, 0.4", ["no label column"]),
    ],
    ids=[
        "empty-text",
        "none-text",
        "whitespace-text",
        "too-many-tokens",
        "too-many-chars",
        "lone-surrogate",
        "dim-0",
        "dim-769",
        "dim-fraction",
        "dim-word",
        "dim-none",
        "dim-bool",
        "seed-negative",
        "seed-2**32",
        "seed-fraction",
        "table-rows-mismatch",
        "table-empty",
        "table-blank",
        "table-ragged",
        "table-word",
        "table-nan",
        "table-beyond-float32",
        "table-overflowing-scores",
        "table-no-labels-no-text",
    ],
)
def test_run_attention_errors(text, source, dim, seed, table, expected):
    with pytest.raises(gr.Error) as excinfo:
        app.run_attention(text, source, dim, seed, table, False)
    message = error_message(excinfo)
    for part in expected:
        assert part in message
    assert message != app.GENERIC_ERROR


def test_too_many_tokens_message_gives_the_count():
    with pytest.raises(gr.Error) as excinfo:
        app.run_attention("word " * 300, app.SOURCE_RANDOM, 3, 123, "", False)
    count = int(re.search(r"has ([\d,]+) tokens", error_message(excinfo)).group(1).replace(",", ""))
    assert count >= 300


@pytest.mark.parametrize(
    "values, dtype, expected",
    [
        ("", "float32", ["The values box is empty"]),
        (" , ; ", "float32", ["only separators"]),
        ("1, two", "float32", ["Value 2 is 'two', which is not a number"]),
        ("nan", "float32", ["Value 1 is nan"]),
        ("1, inf", "float32", ["Value 2 is inf"]),
        (", ".join(["1"] * 1001), "float32", ["There are 1,001 values; the limit is 1,000"]),
        ("1" * 100_001, "float32", ["100,001 characters"]),
        ("1, 2", "float8", ["The dtype is 'float8'", "float16, float32, float64"]),
        ("1, 2", None, ["The dtype is None"]),
    ],
    ids=["empty", "separators", "word", "nan", "inf", "1001-values", "too-many-chars", "bad-dtype", "none-dtype"],
)
def test_run_lab_errors(values, dtype, expected):
    with pytest.raises(gr.Error) as excinfo:
        app.run_lab(values, dtype)
    for part in expected:
        assert part in error_message(excinfo)


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda: app.tokenize_api(""), "The text is empty"),
        (lambda: app.tokenize_api("word " * 300), "the limit is 256"),
        (lambda: app.attend_api("   "), "The text is empty"),
        (lambda: app.attend_api("hi", dim=0), "The embedding dimension is 0"),
        (lambda: app.attend_api("hi", seed=-1), "The seed is -1"),
        (lambda: app.attend_api(app.BOOK_SENTENCE, table=FIVE_ROWS), "The table has 5 rows but the text has 6 tokens"),
        (lambda: app.attend_api("hi", table=123), "The table must be text"),
        (lambda: app.normalize_api("1, two"), "Value 2 is 'two'"),
        (lambda: app.normalize_api("1", "int8"), "The dtype is 'int8'"),
    ],
    ids=["tokenize-empty", "tokenize-long", "attend-blank", "attend-dim", "attend-seed", "attend-rows",
         "attend-table-type", "normalize-word", "normalize-dtype"],
)
def test_api_handler_errors(call, expected):
    with pytest.raises(gr.Error) as excinfo:
        call()
    assert expected in error_message(excinfo)


# --- unexpected errors stay hidden ------------------------------------------------------------


def explode(*args, **kwargs):
    raise RuntimeError("secret /path/to/internals")


# handler name -> (module, function to break, call given a ready run and tmp_path)
BREAKAGES = {
    "run_attention": (explain, "query_walkthrough",
                      lambda run, tmp: app.run_attention(app.BOOK_SENTENCE, app.SOURCE_RANDOM, 3, 123, "", False)),
    "redraw_heatmap": (plots, "heatmap_figure", lambda run, tmp: app.redraw_heatmap(run, True)),
    "show_query": (explain, "query_walkthrough", lambda run, tmp: app.show_query(run, 2)),
    "time_both": (explain, "compare_implementations", lambda run, tmp: app.time_both(run)),
    "load_upload": (app, "decode_upload", lambda run, tmp: app.load_upload(str(tmp))),
    "run_lab": (plots, "normalization_figure", lambda run, tmp: app.run_lab("1, 2", "float32")),
    "tokenize_api": (attention_core, "tokenize", lambda run, tmp: app.tokenize_api("hi")),
    "attend_api": (attention_core, "attend", lambda run, tmp: app.attend_api("hi")),
    "normalize_api": (attention_core, "compare_normalizations", lambda run, tmp: app.normalize_api("1, 2")),
}


@pytest.mark.parametrize("handler", list(BREAKAGES), ids=list(BREAKAGES))
def test_unexpected_errors_are_hidden_and_logged(monkeypatch, caplog, tmp_path, book_run, handler):
    module, name, call = BREAKAGES[handler]
    upload = tmp_path / "table.csv"
    upload.write_text(LABELED_BOOK_CSV, encoding="utf-8")
    monkeypatch.setattr(module, name, explode)
    with caplog.at_level(logging.ERROR, logger="attention_app"):
        with pytest.raises(gr.Error) as excinfo:
            call(book_run[STATE], upload)
    message = error_message(excinfo)
    assert message == app.GENERIC_ERROR
    assert "secret" not in message and "/path" not in message
    assert excinfo.value.__cause__ is None and excinfo.value.__suppress_context__
    logged = [record for record in caplog.records if record.name == "attention_app"]
    assert len(logged) == 1 and handler in logged[0].getMessage()
    assert "secret /path/to/internals" in logged[0].exc_text


def test_self_match_by_dim_counts_the_cat_sentence_diagonal():
    """The section's table, checked against an independent argmax on the recipe's embeddings."""
    ids = attention_core.tokenize(app.CAT_SENTENCE).ids
    text = app.self_match_by_dim()
    for dim in app.SELF_MATCH_DIMS:
        generator_state = torch.get_rng_state()
        torch.manual_seed(app.DEFAULT_SEED)
        x = torch.nn.Embedding(50257, dim).weight[ids].detach()
        torch.set_rng_state(generator_state)
        scores = x @ x.T
        wins = sum(int(scores[i].argmax()) == i for i in range(len(ids)))
        assert f"| {dim} | {wins} of {len(ids)} |" in text


def test_lazy_session_configs_equal_gradios_eager_ones():
    """lighten_sessions() defers SessionState's per-block configs; what it yields must be what Gradio builds."""
    from gradio.state_holder import SessionState

    assert app.lighten_sessions() is (gr.__version__ == app.LAZY_SESSIONS_FOR)
    config = app.demo.default_config
    eager = {key: config.config_for_block(key, [], block) for key, block in config.blocks.items() if key in app.demo.blocks}

    session = SessionState(app.demo)
    some_output = next(iter(eager))
    assert some_output in session.config_values  # Gradio's "key not in config_values" check must see every block
    session._update_value_in_config(some_output, "changed")
    assert session.config_values[some_output]["props"]["value"] == "changed"
    expected = dict(eager)
    expected[some_output] = config.config_for_block(some_output, [], config.blocks[some_output])
    expected[some_output]["props"]["value"] = "changed"
    assert dict(session.config_values.items()) == expected
    assert [c for c in session.components] == [c for c in expected.values() if c]
