"""The views below the main ones in app.py, called directly (no server).

Start-up weight, the temperature τ, the extras (trace, parity, facts, hull, snippet, temperature table),
clicks on the heatmap, shuffling, exports, shareable links and expired runs. Expected numbers come from
the book (chapter 3.3) or from an independent computation here: the notebook recipe
``torch.manual_seed(seed); torch.nn.Embedding(50257, d).weight[ids]``, ``torch.softmax`` and matplotlib's own
transforms.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import subprocess
import sys
import time
import types
import warnings
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
import torch
from PIL import Image

import app
import attention_core as ac
from attention_core import plots

REPO = Path(app.__file__).resolve().parent

# Chapter 3.3.1: "Your journey starts with one step", embedded in 3 dimensions.
BOOK_INPUTS = [
    [0.43, 0.15, 0.89],
    [0.55, 0.87, 0.66],
    [0.57, 0.85, 0.64],
    [0.22, 0.58, 0.33],
    [0.77, 0.25, 0.10],
    [0.05, 0.80, 0.55],
]
BOOK_CONTEXT_2 = ["0.4419", "0.6515", "0.5683"]
LABELED_BOOK_CSV = "\n".join(
    f"{label},{','.join(str(v) for v in row)}"
    for label, row in zip(["Your", "journey", "starts", "with", "one", "step"], BOOK_INPUTS)
)
REPEATED_TEXT = "the cat and the hat and the bat"  # "the" (first) and " the" are different GPT-2 tokens
FORTY_TOKEN_TEXT = (
    "The quick brown fox jumps over the lazy dog while the small cat sleeps on a warm mat near the old red "
    "barn and the farmer walks slowly to the big house by the river at dusk with his tired"
)
HALF_ULP_4 = 5e-5 + 1e-7  # a value shown at 4 decimals is within half a unit of the 4th decimal
ALLOWED_TAU = f"between {ac.MIN_TEMPERATURE:g} and {ac.MAX_TEMPERATURE:g}"

# run_attention's outputs, in order.
STATE, CHIPS, HEATMAP, INPUTS_TABLE, CONTEXT_TABLE, QUERY, WALK, BARS, SELF_MATCH, RECIPE = range(10)
# run_extras's outputs, in order.
TRACE_QUERY, TRACE_KEY, TRACE, PARITY, FACTS, HULL, SNIPPET, TAU_MD = range(8)
# restore_from_url's outputs, in order.
R_TEXT, R_SOURCE, R_TABLE, R_DIM, R_SEED, R_TAU, R_VIEW = range(7)


# --- helpers ------------------------------------------------------------------------------------


def recipe_inputs(ids: list[int], dim: int, seed: int) -> torch.Tensor:
    """The book's notebook recipe for random embeddings, on a forked global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.nn.Embedding(50257, dim).weight[ids].detach()  # (T, d)


def error_message(excinfo: pytest.ExceptionInfo) -> str:
    return excinfo.value.message


def click(x: float, y: float) -> SimpleNamespace:
    """A stand-in for gr.SelectData on an image: ``index`` is [x, y] in pixels, origin top-left."""
    return SimpleNamespace(index=[x, y])


def request(params: dict[str, str]) -> SimpleNamespace:
    """A stand-in for gr.Request: only ``query_params`` is read."""
    return SimpleNamespace(query_params=params)


def layout_centre(layout: plots.HeatmapLayout, query: int, key: int) -> tuple[float, float]:
    """The point (x, y) in pixels, origin top-left, at the centre of cell (query, key) according to the layout."""
    x = (layout.left + (key + 0.5) / layout.count * layout.side) * plots.DPI
    top = layout.height - layout.bottom - layout.side  # the plot's top edge, in inches from the image's top
    y = (top + (query + 0.5) / layout.count * layout.side) * plots.DPI
    return x, y


def cell_centre(layout: plots.HeatmapLayout, query: int, key: int) -> tuple[int, int]:
    """The whole pixel a click at the centre of cell (query, key) reports (Gradio rounds to whole pixels)."""
    x, y = layout_centre(layout, query, key)
    return round(x), round(y)


def rendered_centre(figure, image_height: int, query: int, key: int, dq: float = 0.0, dk: float = 0.0):
    """Where matplotlib draws data point (key + dk, query + dq) in the rendered image (origin top-left).

    Agg draws display y on a canvas whose height is the figure's height in whole pixels, flipped.
    """
    x, y = figure.axes[0].transData.transform((key + dk, query + dq))
    return float(x), image_height - float(y)


def weight_line_value(markdown: str) -> float:
    """The final number of the trace's weight line, ``$$\\alpha_{qk} = ... = 0.1385$$``."""
    match = re.search(r"^\$\$\\alpha_\{[^}]*\} = .* = (\S+)\$\$$", markdown, flags=re.MULTILINE)
    assert match, markdown
    return float(match.group(1))


def walk_rows(markdown: str) -> list[tuple[int, float, float, float]]:
    """(j, score, exp, weight) for each row of the walk-through's table."""
    rows = []
    for line in markdown.splitlines():
        match = re.fullmatch(r"\| (\d+) \| <code>.*?</code> \| .* = (\S+) \| (\S+) \| (\S+) \|", line)
        if match:
            j, score, exp, weight = match.groups()
            rows.append((int(j), float(score), float(exp), float(weight)))
    return rows


def sharpness(scores: torch.Tensor, tau: float) -> tuple[float, float]:
    """Mean largest weight per row and mean row entropy (nats) of torch.softmax(scores / tau)."""
    weights = torch.softmax(scores / tau, dim=-1).double()  # (T, T)
    entropy = -(weights * weights.log()).sum(dim=-1)  # (T,)
    return float(weights.max(dim=-1).values.mean()), float(entropy.mean())


def self_wins(scores: torch.Tensor) -> int:
    """Rows whose own score is the largest in the row (a tie with a twin token counts: it is still the largest)."""
    return int((scores.diagonal() >= scores.max(dim=1).values).sum())


def repeated_positions(ids: list[int]) -> list[list[int]]:
    """0-based positions of each id that occurs more than once, ordered by first occurrence."""
    positions: dict[int, list[int]] = {}
    for index, token_id in enumerate(ids):
        positions.setdefault(token_id, []).append(index)
    return [group for group in positions.values() if len(group) > 1]


def run_snippet(snippet: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Execute a "Copy as PyTorch" snippet offline: tiktoken's r50k_base is the bundled GPT-2 encoding."""
    encoding = ac.gpt2_encoding()

    def get_encoding(name: str):
        assert name == "r50k_base"
        return encoding

    fake_tiktoken = types.ModuleType("tiktoken")
    fake_tiktoken.get_encoding = get_encoding
    monkeypatch.setitem(sys.modules, "tiktoken", fake_tiktoken)
    namespace: dict = {}
    try:
        with torch.random.fork_rng(devices=[]), contextlib.redirect_stdout(io.StringIO()):
            exec(compile(snippet, "<snippet>", "exec"), namespace)
    finally:
        torch.set_printoptions(profile="default")  # the snippet sets precision=4
    return namespace


@pytest.fixture(scope="module")
def book_outputs():
    return app.run_attention(app.BOOK_SENTENCE, app.SOURCE_TABLE, 3, 123, app.BOOK_TABLE, False)


@pytest.fixture(scope="module")
def book_extras(book_outputs):
    return app.run_extras(book_outputs[STATE], app.BOOK_SENTENCE)


@pytest.fixture(scope="module")
def random_outputs():
    return app.run_attention(app.BOOK_SENTENCE, app.SOURCE_RANDOM, 3, 123, "", False)


@pytest.fixture(scope="module")
def repeated_outputs():
    return app.run_attention(REPEATED_TEXT, app.SOURCE_RANDOM, 4, 7, "", False)


@pytest.fixture(scope="module")
def repeated_extras(repeated_outputs):
    return app.run_extras(repeated_outputs[STATE], REPEATED_TEXT)


@pytest.fixture(scope="module")
def forty_outputs():
    outputs = app.run_attention(FORTY_TOKEN_TEXT, app.SOURCE_RANDOM, 3, 123, "", False)
    assert len(outputs[STATE].tokens) == 40
    return outputs


@pytest.fixture
def export_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "exports"
    monkeypatch.setattr(app, "EXPORT_ROOT", root)
    return root


# --- 1. start-up: `import app` serves the page before torch and matplotlib load ------------------


@pytest.mark.parametrize(
    "module, absent",
    [("app", ["torch", "matplotlib"]), ("attention_core", ["torch", "gradio", "matplotlib.pyplot"])],
    ids=["import-app", "import-attention_core"],
)
def test_import_leaves_heavy_modules_unloaded(module, absent):
    code = (
        f"import json, sys\nimport {module}\n"
        f"print(json.dumps({{name: name in sys.modules for name in {absent!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {name: False for name in absent}


# --- 2. run_attention with a temperature τ ------------------------------------------------------


@pytest.mark.parametrize("tau", [0.5, 2.0, math.sqrt(3)], ids=["tau=0.5", "tau=2", "tau=sqrt(d)"])
def test_run_attention_with_tau_is_softmax_of_scores_over_tau(tau):
    outputs = app.run_attention(app.BOOK_SENTENCE, app.SOURCE_RANDOM, 3, 123, "", False, tau)
    run = outputs[STATE]
    x = recipe_inputs(run.ids, 3, 123)
    scores = x @ x.T  # (T, d) @ (d, T) -> (T, T)
    expected = torch.softmax(scores / tau, dim=-1)  # (T, T)
    assert torch.equal(run.attention.inputs, x)
    assert run.temperature == tau
    torch.testing.assert_close(run.attention.scores, scores)  # the raw ω: τ only enters the softmax
    torch.testing.assert_close(run.attention.weights, expected)
    torch.testing.assert_close(run.attention.context, expected @ x)

    walk = outputs[WALK]
    assert r"\tau" in walk
    assert rf"\(\tau = {tau:.4f}\)" in walk
    assert r"\(\exp(\omega_{2j}/\tau)\)" in walk
    rows = walk_rows(walk)
    assert [j for j, *_ in rows] == [1, 2, 3, 4, 5, 6]
    for (_, score, exp, weight), s, w in zip(rows, scores[1].tolist(), expected[1].tolist()):
        assert abs(score - s) <= HALF_ULP_4
        assert exp == pytest.approx(math.exp(s / tau), rel=1e-3, abs=HALF_ULP_4)
        assert abs(weight - w) <= HALF_ULP_4


def test_tau_1_walkthrough_has_no_tau(random_outputs):
    assert r"\tau =" not in random_outputs[WALK]
    assert random_outputs[STATE].temperature == 1.0


def test_heatmap_changes_with_tau_but_raw_scores_do_not(random_outputs):
    images = {1.0: random_outputs[HEATMAP]}
    for tau in (0.5, 2.0, math.sqrt(3)):
        images[tau] = app.run_attention(app.BOOK_SENTENCE, app.SOURCE_RANDOM, 3, 123, "", False, tau)[HEATMAP]
    taus = list(images)
    for i, a in enumerate(taus):
        for b in taus[i + 1 :]:
            assert not np.array_equal(images[a], images[b]), (a, b)
    # The raw scores ω = X Xᵀ do not depend on τ, so their heatmap is the same picture.
    raw_1 = app.run_attention(app.BOOK_SENTENCE, app.SOURCE_RANDOM, 3, 123, "", True, 1.0)[HEATMAP]
    raw_2 = app.run_attention(app.BOOK_SENTENCE, app.SOURCE_RANDOM, 3, 123, "", True, 2.0)[HEATMAP]
    np.testing.assert_array_equal(raw_1, raw_2)


@pytest.mark.parametrize(
    "tau, expected",
    [
        (0, "The temperature is 0"),
        (-1, "The temperature is -1"),
        (1000, "The temperature is 1000"),
        ("x", "not 'x'"),
        (float("nan"), "NaN"),
    ],
    ids=["zero", "negative", "1000", "word", "nan"],
)
def test_run_attention_rejects_a_bad_tau(tau, expected):
    with pytest.raises(gr.Error) as excinfo:
        app.run_attention(app.BOOK_SENTENCE, app.SOURCE_RANDOM, 3, 123, "", False, tau)
    message = error_message(excinfo)
    assert expected in message
    assert ALLOWED_TAU in message
    assert message != app.GENERIC_ERROR


# --- 3. run_extras on the book's example ----------------------------------------------------------


def test_run_extras_trace_dropdowns_default_to_query_2_key_1(book_extras):
    query, key = book_extras[TRACE_QUERY], book_extras[TRACE_KEY]
    assert (query.value, key.value) == (1, 0)  # 0-based: the book's x^(2) "journey" and x^(1) "Your"
    for dropdown in (query, key):
        assert len(dropdown.choices) == 6
        assert [value for _, value in dropdown.choices] == list(range(6))
        assert [label for label, _ in dropdown.choices] == [
            "1: Your", "2: ␣journey", "3: ␣starts", "4: ␣with", "5: ␣one", "6: ␣step"
        ]


def test_run_extras_trace_of_cell_2_1_has_the_books_numbers(book_extras):
    trace = book_extras[TRACE]
    x = torch.tensor(BOOK_INPUTS)
    exps = torch.exp((x @ x.T)[1])  # (T,) exp(ω_2j)
    assert (f"{float(exps[0]):.4f}", f"{float(exps.sum()):.4f}") == ("2.5971", "18.7453")
    assert trace.startswith("### Cell (2, 1): query <code>␣journey</code> → key <code>Your</code>")
    for text in ("0.5500·0.4300 + 0.8700·0.1500 + 0.6600·0.8900 = 0.9544", "2.5971", "18.7453", "0.1385"):
        assert text in trace
    assert weight_line_value(trace) == 0.1385  # the book's attn_weights_2[0]
    assert "13.85% of its attention" in trace


def test_run_extras_parity_says_every_printed_number_matches(book_extras):
    parity = book_extras[PARITY]
    total = sum(len(value.flat()) for value in ac.BOOK_VALUES)
    assert total == 179
    assert parity.startswith("Computed from this run's 6 × 3 inputs.")
    assert f"**{total} of {total} printed numbers match** (all match)" in parity
    row_marks = [line.rsplit("|", 2)[1].strip() for line in parity.splitlines() if line.startswith("| [")]
    assert row_marks == ["✓"] * total
    headers = [line for line in parity.splitlines() if line.startswith("#### ")]
    assert len(headers) == len(ac.BOOK_VALUES)
    for header, value in zip(headers, ac.BOOK_VALUES):
        count = len(value.flat())
        assert header.startswith(f"#### `{value.name}`") and header.endswith(f"✓ {count}/{count}")
    assert parity.count("✓") == total + len(ac.BOOK_VALUES)
    assert "✗" not in parity


def test_parity_of_the_books_table_at_another_tau_still_matches():
    run = app.run_attention(app.BOOK_SENTENCE, app.SOURCE_TABLE, 3, 123, app.BOOK_TABLE, False, 2.0)[STATE]
    parity = app.parity_text(run)
    assert "(the book uses τ = 1; the comparison below does too)" in parity
    assert "**179 of 179 printed numbers match** (all match)" in parity
    assert "✗" not in parity


@pytest.mark.parametrize(
    "text, source, dim, table",
    [
        (app.BOOK_SENTENCE, app.SOURCE_RANDOM, 4, ""),
        (app.CAT_SENTENCE, app.SOURCE_RANDOM, 3, ""),
        ("one two", app.SOURCE_TABLE, 3, "0.1, 0.2, 0.3\n0.4, 0.5, 0.6"),
    ],
    ids=["6x4", "10x3", "2x3-table"],
)
def test_parity_of_another_shape_asks_for_the_books_example(text, source, dim, table):
    run = app.run_attention(text, source, dim, 123, table, False)[STATE]
    parity = app.run_extras(run, text)[PARITY]
    assert parity.startswith("The book's printed values are for its 6 × 3 example.")
    assert "Press **Load the book's example**" in parity
    assert "✓" not in parity and "✗" not in parity


def test_run_extras_facts_without_repeats(book_extras):
    assert book_extras[FACTS].startswith("**No repeated tokens:**")


def test_run_extras_facts_name_the_repeated_tokens(repeated_outputs, repeated_extras):
    run = repeated_outputs[STATE]
    tokenized = ac.tokenize(REPEATED_TEXT)
    assert tokenized.tokens == ["the", " cat", " and", " the", " hat", " and", " the", " bat"]
    groups = repeated_positions(tokenized.ids)
    assert groups == [[2, 5], [3, 6]]  # " and" and " the"; the first "the" has no leading space
    facts = repeated_extras[FACTS]
    assert facts.startswith("**Repeated tokens:** 2 tokens appear more than once with the same input vector "
                            "(4 of 8 positions).")
    for group in groups:
        token = ac.visible_token(tokenized.tokens[group[0]])
        positions = ", ".join(str(p + 1) for p in group)
        assert f"| <code>{token}</code> | {positions} | 0 (equal) | 0 (equal) | 0 (equal) |" in facts
    assert "| <code>the</code> |" not in facts
    # Identical input vectors: identical rows and columns of the weights, identical context vectors.
    x = recipe_inputs(run.ids, 4, 7)
    weights = torch.softmax(x @ x.T, dim=-1)
    for first, other in groups:
        assert torch.equal(weights[first], weights[other])
        assert torch.equal(weights[:, first], weights[:, other])
    assert "they are exactly equal, bit for bit" in facts


@pytest.mark.parametrize("which", ["book", "repeated"], ids=["book-no-ties", "repeated-tokens-ties"])
def test_run_extras_self_attention_count_agrees_with_the_self_match_panel(
    which, book_outputs, book_extras, repeated_outputs, repeated_extras
):
    """A repeated token ties with its twin for the largest score; both panels of the page must count alike."""
    outputs, extras = (book_outputs, book_extras) if which == "book" else (repeated_outputs, repeated_extras)
    run = outputs[STATE]
    x = torch.tensor(BOOK_INPUTS) if which == "book" else recipe_inputs(run.ids, 4, 7)
    wins, count = self_wins(x @ x.T), len(run.tokens)
    assert outputs[SELF_MATCH].startswith(f"**{wins} of {count} tokens**")
    facts_line = extras[FACTS].splitlines()[-1]
    assert facts_line.startswith(f"**Self-attention:** {wins} of {count} tokens have their largest score")


@pytest.mark.parametrize("which", ["book-d3", "repeated-d4"], ids=["d=3", "d=4"])
def test_run_extras_convex_hull_is_an_rgba_image(which, book_extras, repeated_extras):
    image = (book_extras if which == "book-d3" else repeated_extras)[HULL]
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8
    assert image.ndim == 3 and image.shape[2] == 4
    assert len(np.unique(image.reshape(-1, 4), axis=0)) > 50  # a drawn figure, not a blank canvas


def test_run_extras_snippet_of_a_seeded_run_reproduces_it(repeated_outputs, repeated_extras, monkeypatch):
    snippet, run = repeated_extras[SNIPPET], repeated_outputs[STATE]
    assert "torch.softmax" in snippet
    assert "torch.manual_seed(7)" in snippet
    assert "torch.nn.Embedding(50257, 4)" in snippet
    namespace = run_snippet(snippet, monkeypatch)
    assert namespace["ids"] == run.ids
    assert torch.equal(namespace["inputs"], run.attention.inputs)
    assert torch.equal(namespace["weights"], run.attention.weights)
    assert torch.equal(namespace["context"], run.attention.context)


def test_run_extras_snippet_of_the_books_table(book_outputs, book_extras, monkeypatch):
    snippet = book_extras[SNIPPET]
    assert "torch.softmax" in snippet and "torch.manual_seed" not in snippet
    namespace = run_snippet(snippet, monkeypatch)
    assert torch.equal(namespace["inputs"], torch.tensor(BOOK_INPUTS))
    assert [f"{v:.4f}" for v in namespace["context"][1].tolist()] == BOOK_CONTEXT_2


def test_run_extras_snippet_with_tau(monkeypatch):
    tau = 0.5
    run = app.run_attention(app.BOOK_SENTENCE, app.SOURCE_RANDOM, 3, 99, "", False, tau)[STATE]
    snippet = app.run_extras(run, app.BOOK_SENTENCE)[SNIPPET]
    assert "torch.manual_seed(99)" in snippet
    assert "tau = 0.5" in snippet and "torch.softmax(scores / tau, dim=-1)" in snippet
    namespace = run_snippet(snippet, monkeypatch)
    x = recipe_inputs(run.ids, 3, 99)
    torch.testing.assert_close(namespace["weights"], torch.softmax(x @ x.T / tau, dim=-1))
    torch.testing.assert_close(namespace["weights"], run.attention.weights)


def temperature_rows(markdown: str) -> dict[str, tuple[float, float]]:
    rows = {}
    for line in markdown.splitlines():
        match = re.fullmatch(r"\| (τ = [^|]*?) \| (\d+\.\d{4}) \| (\d+\.\d{4}) \|", line)
        if match:
            rows[match.group(1)] = (float(match.group(2)), float(match.group(3)))
    return rows


def test_run_extras_temperature_table_of_the_book(book_extras):
    scores = torch.tensor(BOOK_INPUTS) @ torch.tensor(BOOK_INPUTS).T
    rows = temperature_rows(book_extras[TAU_MD])
    assert list(rows) == ["τ = 1 (the book)", "τ = √d = 1.732 (scaled dot-product attention)"]
    for (top, entropy), tau in zip(rows.values(), (1.0, math.sqrt(3))):
        expected_top, expected_entropy = sharpness(scores, tau)
        assert abs(top - expected_top) <= HALF_ULP_4 and abs(entropy - expected_entropy) <= HALF_ULP_4
    assert rows["τ = 1 (the book)"] == (0.2180, 1.7615)
    assert f"uniform = {math.log(6):.4f}" in book_extras[TAU_MD]
    assert r"\(\sqrt{3} = 1.732\)" in book_extras[TAU_MD]


def test_run_extras_temperature_table_lists_this_runs_tau_first():
    run = app.run_attention(app.BOOK_SENTENCE, app.SOURCE_TABLE, 3, 123, app.BOOK_TABLE, False, 2.0)[STATE]
    rows = temperature_rows(app.run_extras(run, app.BOOK_SENTENCE)[TAU_MD])
    assert list(rows) == ["τ = 2 (this run)", "τ = 1 (the book)", "τ = √d = 1.732 (scaled dot-product attention)"]
    scores = torch.tensor(BOOK_INPUTS) @ torch.tensor(BOOK_INPUTS).T
    top, entropy = sharpness(scores, 2.0)
    assert rows["τ = 2 (this run)"] == pytest.approx((top, entropy), abs=HALF_ULP_4)


# --- 4. trace_pair: every cell of a small run ------------------------------------------------------

SMALL_TEXT = "Hello, do you like"  # 5 tokens
SMALL_CELLS = [(q, k) for q in range(5) for k in range(5)]


@pytest.fixture(scope="module")
def small_runs():
    runs = {tau: app.run_attention(SMALL_TEXT, app.SOURCE_RANDOM, 5, 7, "", False, tau)[STATE] for tau in (1.0, 0.5)}
    assert all(len(run.tokens) == 5 for run in runs.values())
    return runs


@pytest.mark.parametrize("tau", [1.0, 0.5], ids=["tau=1", "tau=0.5"])
@pytest.mark.parametrize("query, key", SMALL_CELLS, ids=[f"q{q + 1}-k{k + 1}" for q, k in SMALL_CELLS])
def test_trace_pair_gives_torch_softmax_weight(small_runs, tau, query, key):
    run = small_runs[tau]
    x = recipe_inputs(run.ids, 5, 7)
    scores = x @ x.T  # (T, T)
    expected = float(torch.softmax(scores / tau, dim=-1)[query, key])

    trace = ac.trace_cell(run.attention.inputs, query, key, temperature=run.temperature)
    assert trace.weight == pytest.approx(expected, rel=1e-5, abs=1e-7)
    assert trace.score == pytest.approx(float(scores[query, key]), rel=1e-6, abs=1e-6)
    assert trace.row_sum == pytest.approx(float(torch.exp(scores[query] / tau).sum()), rel=1e-5)

    markdown = app.trace_pair(run, query, key)
    assert markdown.startswith(f"### Cell ({query + 1}, {key + 1}): ")
    assert f" = {ac.explain.num(trace.weight)}$$" in markdown
    assert abs(weight_line_value(markdown) - expected) <= HALF_ULP_4
    assert f" = {float(scores[query, key]):.4f}\n" in markdown  # the dot-product line ends with the score
    assert (r"\tau" in markdown) is (tau != 1.0)


@pytest.mark.parametrize("query, key", [(None, 0), (1, None), (None, None)], ids=["no-query", "no-key", "neither"])
def test_trace_pair_without_a_choice_skips(small_runs, query, key):
    assert app.trace_pair(small_runs[1.0], query, key) == gr.skip()


# --- 5. trace_click: a click on the heatmap -------------------------------------------------------

SIX_CELLS = [(0, 0), (1, 0), (5, 5), (2, 4), (5, 0), (0, 5)]
FORTY_CELLS = [(0, 0), (39, 39), (17, 3), (3, 17), (39, 0), (0, 39), (20, 21)]


@pytest.mark.parametrize(
    "which, query, key",
    [("six", q, k) for q, k in SIX_CELLS] + [("forty", q, k) for q, k in FORTY_CELLS],
    ids=[f"T=6-q{q + 1}-k{k + 1}" for q, k in SIX_CELLS] + [f"T=40-q{q + 1}-k{k + 1}" for q, k in FORTY_CELLS],
)
def test_trace_click_at_a_cell_centre_traces_that_cell(which, query, key, random_outputs, forty_outputs):
    run = (random_outputs if which == "six" else forty_outputs)[STATE]
    x, y = cell_centre(plots.heatmap_layout(run.tokens), query, key)
    result = app.trace_click(run, click(x, y))
    assert result[:2] == (query, key)
    markdown = result[2]
    assert markdown.startswith(f"### Cell ({query + 1}, {key + 1}): ")
    assert markdown == app.trace_pair(run, query, key)
    expected = float(torch.softmax(run.attention.inputs @ run.attention.inputs.T, dim=-1)[query, key])
    assert abs(weight_line_value(markdown) - expected) <= HALF_ULP_4


@pytest.mark.parametrize("which", ["six", "forty"], ids=["T=6", "T=40"])
def test_heatmap_layout_agrees_with_the_rendered_figure(which, random_outputs, forty_outputs):
    """Cell centres from heatmap_layout are where matplotlib draws them in the image the page shows."""
    outputs = random_outputs if which == "six" else forty_outputs
    run = outputs[STATE]
    count = len(run.tokens)
    layout = plots.heatmap_layout(run.tokens)
    figure = plots.heatmap_figure(run.attention.weights, run.tokens, title="t", colorbar_label="c")
    image = plots.figure_to_array(figure)
    assert image.shape == outputs[HEATMAP].shape  # the same canvas as the page's heatmap
    assert image.shape[:2] == (int(layout.height * plots.DPI), int(layout.width * plots.DPI))
    height = image.shape[0]
    for query in range(count):
        for key in range(count):
            x, y = rendered_centre(figure, height, query, key)
            layout_x, layout_y = layout_centre(layout, query, key)
            assert abs(x - layout_x) < 1 and abs(y - layout_y) < 1, (query, key, (x, y), (layout_x, layout_y))
            assert plots.heatmap_cell_at(run.tokens, round(x), round(y)) == (query, key)
            for dq, dk in ((-0.3, -0.3), (-0.3, 0.3), (0.3, -0.3), (0.3, 0.3)):  # well inside the cell
                x, y = rendered_centre(figure, height, query, key, dq, dk)
                assert plots.heatmap_cell_at(run.tokens, round(x), round(y)) == (query, key), (query, key, dq, dk)


@pytest.mark.parametrize("where", ["top-left-corner", "colorbar", "tick-labels", "title"])
def test_trace_click_outside_the_plot_skips(random_outputs, where):
    run = random_outputs[STATE]
    layout = plots.heatmap_layout(run.tokens)
    middle = layout.height - layout.bottom - layout.side / 2  # inches from the top
    x, y = {
        "top-left-corner": (0, 0),
        "colorbar": ((layout.left + layout.side + 0.3) * plots.DPI, middle * plots.DPI),
        "tick-labels": ((layout.left + layout.side / 2) * plots.DPI, (layout.height - layout.bottom / 2) * plots.DPI),
        "title": ((layout.left + layout.side / 2) * plots.DPI, 0.2 * plots.DPI),
    }[where]
    assert app.trace_click(run, click(round(x), round(y))) == (gr.skip(), gr.skip(), gr.skip())


@pytest.mark.parametrize(
    "text",
    ["a b c d e f", "Hello world", app.BOOK_SENTENCE, FORTY_TOKEN_TEXT],
    ids=["a-b-c-d-e-f", "Hello-world", "book-sentence", "forty-tokens"],
)
def test_trace_click_anywhere_in_the_image_never_fails(text):
    """Gradio sends any whole pixel of the image; each gives a cell of the run or skips, never an error."""
    run = app.run_attention(text, app.SOURCE_RANDOM, 3, 123, "", False)[STATE]
    count = len(run.tokens)
    layout = plots.heatmap_layout(run.tokens)
    width, height = int(layout.width * plots.DPI), int(layout.height * plots.DPI)
    centre_x = round((layout.left + layout.side / 2) * plots.DPI)
    centre_y = round((layout.height - layout.bottom - layout.side / 2) * plots.DPI)
    pixels = [(centre_x, y) for y in range(height)] + [(x, centre_y) for x in range(width)]
    failures = []
    for x, y in pixels:
        cell = plots.heatmap_cell_at(run.tokens, x, y)
        if cell is not None and not (0 <= cell[0] < count and 0 <= cell[1] < count):
            try:
                app.trace_click(run, click(x, y))
                failures.append(((x, y), cell, "no error"))
            except gr.Error as error:
                failures.append(((x, y), cell, error.message))
    assert failures == []


# --- 6. shuffle_tokens ----------------------------------------------------------------------------


def test_shuffle_tokens_permutes_the_heatmap(random_outputs):
    run = random_outputs[STATE]
    image, markdown, shuffles = app.shuffle_tokens(run, 0)
    permutation = ac.random_permutation(6, seed=0)
    assert shuffles == (1, permutation)
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape[2] == 4

    assert sorted(permutation) == list(range(6)) and permutation != list(range(6))
    order = " ".join(f"<code>{ac.visible_token(run.tokens[p])}</code>" for p in permutation)
    assert markdown.startswith(f"**Shuffled order:** {order}")
    for i, p in enumerate(permutation):
        assert f"| {i + 1} | <code>{ac.visible_token(run.tokens[p])}</code> | {p + 1} |" in markdown

    # Independently: attention on the permuted inputs is the original attention, rows and columns permuted.
    x = recipe_inputs(run.ids, 3, 123)
    index = torch.tensor(permutation)
    original = torch.softmax(x @ x.T, dim=-1)
    shuffled_x = x[index]  # (T, d)
    shuffled = torch.softmax(shuffled_x @ shuffled_x.T, dim=-1)
    torch.testing.assert_close(shuffled, original[index][:, index])
    difference = float((shuffled - original[index][:, index]).abs().max())
    words = "0 (exactly equal)" if difference == 0.0 else f"{difference:.2e} (float32 rounding)"
    assert f"with rows and columns reordered is {words}" in markdown

    # The image is the heatmap of the permuted weights with the permuted tokens.
    expected_image = plots.figure_to_array(plots.heatmap_figure(
        original[index][:, index], [run.tokens[p] for p in permutation],
        title="Shuffled: weights of the permuted tokens", colorbar_label="weight α",
    ))
    np.testing.assert_array_equal(image, expected_image)


def test_two_shuffles_give_two_permutations(random_outputs):
    run = random_outputs[STATE]
    image_1, markdown_1, shuffles = app.shuffle_tokens(run, 0)
    image_2, markdown_2, shuffles = app.shuffle_tokens(run, shuffles)
    assert shuffles[0] == 2 and shuffles[1] != ac.random_permutation(6, seed=0)
    assert markdown_1.splitlines()[0] != markdown_2.splitlines()[0]
    assert not np.array_equal(image_1, image_2)


@pytest.mark.parametrize("text", ["a b c", "a b c d", app.BOOK_SENTENCE], ids=["T=3", "T=4", "T=6"])
def test_each_shuffle_click_shows_a_new_order(text):
    """The docstring promises "a new permutation per click": consecutive clicks must not repeat the order."""
    run = app.run_attention(text, app.SOURCE_RANDOM, 3, 123, "", False)[STATE]
    assert len(run.tokens) == len(text.split())
    orders, shuffles = [], 0
    for _ in range(13):
        _, markdown, shuffles = app.shuffle_tokens(run, shuffles)
        orders.append(markdown.splitlines()[0])
    repeats = [i for i in range(1, len(orders)) if orders[i] == orders[i - 1]]
    assert repeats == [], f"clicks {repeats} show the same order as the click before"


def test_shuffle_tokens_with_one_token_explains():
    run = app.run_attention("hi", app.SOURCE_RANDOM, 3, 123, "", False)[STATE]
    assert run.tokens == ["hi"]
    with pytest.raises(gr.Error) as excinfo:
        app.shuffle_tokens(run, 0)
    assert error_message(excinfo) == (
        "There is only one token: type a sentence with at least two tokens to shuffle."
    )


# --- 7. prepare_exports and export_folder -----------------------------------------------------------

EXPORT_CASES = {
    "seeded-tau-0.7-quotes": ('Hello, "world", it\'s me', app.SOURCE_RANDOM, 5, 11, "", 0.7),
    "book-table": (app.BOOK_SENTENCE, app.SOURCE_TABLE, 3, 123, app.BOOK_TABLE, 1.0),
    "labelled-table": ("", app.SOURCE_TABLE, 3, 123, LABELED_BOOK_CSV, 1.0),
}


@pytest.mark.parametrize("raw_scores", [False, True], ids=["weights", "scores"])
@pytest.mark.parametrize("case", list(EXPORT_CASES), ids=list(EXPORT_CASES))
def test_prepare_exports_round_trips_the_run(export_root, case, raw_scores):
    text, source, dim, seed, table, tau = EXPORT_CASES[case]
    run = app.run_attention(text, source, dim, seed, table, False, tau)[STATE]
    if source == app.SOURCE_RANDOM:
        x = recipe_inputs(run.ids, dim, seed)
    else:
        x = torch.tensor(BOOK_INPUTS)
    assert torch.equal(run.attention.inputs, x)

    paths = [Path(p) for p in app.prepare_exports(run, raw_scores)]
    assert [p.name for p in paths] == ["attention.csv", "attention.json", "heatmap.png"]
    assert len({p.parent for p in paths}) == 1 and paths[0].parent.parent == export_root
    csv_path, json_path, png_path = paths

    parsed = ac.parse_run_csv(csv_path.read_text(encoding="utf-8"))
    loaded = json.loads(json_path.read_text(encoding="utf-8"))
    for result in (parsed, loaded):
        assert result["tokens"] == run.tokens
        assert result["ids"] == run.ids
        assert result["temperature"] == tau
    if case == "labelled-table":
        assert parsed["ids"] is None and loaded["ids"] is None
        assert run.tokens == ["Your", "journey", "starts", "with", "one", "step"]
    for matrix in ("inputs", "scores", "weights", "context"):
        ours = getattr(run.attention, matrix).to(torch.float32)
        assert torch.equal(parsed[matrix], ours), matrix
        assert torch.equal(torch.tensor(loaded[matrix], dtype=torch.float32), ours), matrix
    torch.testing.assert_close(parsed["weights"], torch.softmax(x @ x.T / tau, dim=-1))

    png = png_path.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    layout = plots.heatmap_layout(run.tokens)
    with Image.open(io.BytesIO(png)) as picture:
        assert picture.size == (int(layout.width * plots.DPI), int(layout.height * plots.DPI))


def test_prepare_exports_png_follows_the_view(export_root, random_outputs):
    run = random_outputs[STATE]
    weights_png = Path(app.prepare_exports(run, False)[2]).read_bytes()
    scores_png = Path(app.prepare_exports(run, True)[2]).read_bytes()
    assert weights_png != scores_png
    assert len([p for p in export_root.iterdir() if p.is_dir()]) == 2  # one folder per click


def test_export_folder_removes_old_folders_and_keeps_fresh_ones(export_root):
    now = time.time()
    old, fresh = export_root / "old", export_root / "fresh"
    for folder in (old, fresh):
        folder.mkdir(parents=True)
        (folder / "attention.csv").write_text("x", encoding="utf-8")
    expired = now - app.EXPORT_TTL_SECONDS - 60
    os.utime(old, (expired, expired))
    recent = now - app.EXPORT_TTL_SECONDS + 60
    os.utime(fresh, (recent, recent))

    folder = app.export_folder()
    assert not old.exists()
    assert fresh.is_dir() and (fresh / "attention.csv").read_text(encoding="utf-8") == "x"
    assert folder.is_dir() and folder.parent == export_root and list(folder.iterdir()) == []
    assert folder not in (old, fresh)


def test_export_folder_creates_the_root(export_root):
    assert not export_root.exists()
    folder = app.export_folder()
    assert folder.is_dir() and folder.parent == export_root


# --- 8. restore_from_url ----------------------------------------------------------------------------


def test_restore_from_url_full_link():
    params = {"text": "Your journey", "dim": "5", "seed": "7", "tau": "2.5", "view": "scores", "table": "book"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a good link raises no warning
        restored = app.restore_from_url(request(params))
    assert restored == ("Your journey", app.SOURCE_TABLE, app.BOOK_TABLE, 5, 7, 2.5, True)
    assert [type(value) for value in restored[R_DIM:R_VIEW]] == [int, int, float]


def test_restore_from_url_weights_view_with_the_random_table():
    restored = app.restore_from_url(request({"text": "hi", "view": "weights", "dim": "3.0", "seed": "0"}))
    assert restored == ("hi", app.SOURCE_RANDOM, gr.skip(), 3, 0, gr.skip(), False)


@pytest.mark.parametrize(
    "name, value, output, expected",
    [
        ("dim", "0", R_DIM, "The embedding dimension is 0"),
        ("dim", "abc", R_DIM, "not 'abc'"),
        ("dim", "769", R_DIM, "between 1 and 768"),
        ("seed", "-1", R_SEED, "The seed is -1"),
        ("seed", "1.5", R_SEED, "not 1.5"),
        ("tau", "0", R_TAU, "The temperature is 0"),
        ("tau", "nan", R_TAU, "NaN"),
        ("tau", "1000", R_TAU, "The temperature is 1000"),
        ("tau", "x", R_TAU, "not 'x'"),
    ],
    ids=["dim-0", "dim-word", "dim-769", "seed-negative", "seed-fraction", "tau-0", "tau-nan", "tau-1000", "tau-word"],
)
def test_restore_from_url_skips_a_bad_value_with_a_warning(name, value, output, expected):
    params = {"text": "Hello", "dim": "4", "seed": "9", "tau": "0.5", "view": "weights", name: value}
    with pytest.warns(UserWarning, match=f"The link's {name} was ignored") as record:
        restored = app.restore_from_url(request(params))
    assert len(record) == 1 and expected in str(record[0].message)
    assert restored[output] == gr.skip()
    good = {R_DIM: 4, R_SEED: 9, R_TAU: 0.5}
    for index, good_value in good.items():
        if index != output:
            assert restored[index] == good_value
    assert restored[R_TEXT] == "Hello" and restored[R_VIEW] is False


@pytest.mark.parametrize("req", [request({}), None], ids=["no-params", "no-request"])
def test_restore_from_url_without_params_changes_nothing(req):
    assert app.restore_from_url(req) == (gr.skip(),) * 7


@pytest.mark.parametrize(
    "text, restored",
    [("a" * ac.MAX_TEXT_CHARS, True), ("a" * (ac.MAX_TEXT_CHARS + 1), False), ("   ", False)],
    ids=["10000-chars", "10001-chars", "blank"],
)
def test_restore_from_url_text_limits(text, restored):
    result = app.restore_from_url(request({"text": text}))
    assert result[R_TEXT] == (text if restored else gr.skip())
    assert result[R_SOURCE] == app.SOURCE_RANDOM
    assert result[R_TABLE:] == (gr.skip(),) * 5


@pytest.mark.parametrize("view", ["bogus", ""], ids=["unknown-view", "empty-view"])
def test_restore_from_url_ignores_an_unknown_view(view):
    assert app.restore_from_url(request({"view": view}))[R_VIEW] == gr.skip()


def tau_slider() -> gr.Slider:
    sliders = [block for block in app.demo.blocks.values() if getattr(block, "elem_id", None) == "tau"]
    assert len(sliders) == 1
    return sliders[0]


@pytest.mark.parametrize("tau", ["0.05", "27.71", "30", "40"], ids=["min", "sqrt-768", "30", "40"])
def test_a_restored_tau_is_accepted_by_the_tau_slider(tau):
    """A link's τ is either ignored with a warning, or a value the page's slider passes on to Run."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        restored = app.restore_from_url(request({"tau": tau}))[R_TAU]
    if restored == gr.skip():
        assert any("The link's tau was ignored" in str(w.message) for w in caught)
    else:
        assert restored == float(tau)
        assert tau_slider().preprocess(restored) == restored  # gr.Error when outside the slider's range


# --- 9. root_temperature and load_book_example -------------------------------------------------------


@pytest.mark.parametrize(
    "dim, expected", [("4", 2.0), (768, 27.712812921102035), (3, 1.7320508075688772), ("768.0", 27.712812921102035),
                      (1, 1.0)],
    ids=["str-4", "768", "3", "str-768.0", "1"],
)
def test_root_temperature_is_the_square_root_of_d(dim, expected):
    tau = app.root_temperature(dim)
    assert tau == expected == math.sqrt(float(dim))  # exact, so the trace can name it √d
    assert ac.MIN_TEMPERATURE <= tau <= tau_slider().maximum


@pytest.mark.parametrize(
    "dim, expected",
    [
        (0, "The embedding dimension is 0"),
        (769, "The embedding dimension is 769"),
        ("abc", "not 'abc'"),
        (None, "The embedding dimension is empty"),
        (2.5, "not 2.5"),
        (True, "not True"),
    ],
    ids=["0", "769", "word", "none", "fraction", "bool"],
)
def test_root_temperature_rejects_a_bad_dim(dim, expected):
    with pytest.raises(gr.Error) as excinfo:
        app.root_temperature(dim)
    assert expected in error_message(excinfo)


def test_load_book_example():
    text, source, table, tau, accordion = app.load_book_example()
    assert (text, source, table, tau) == (app.BOOK_SENTENCE, app.SOURCE_TABLE, app.BOOK_TABLE, 1.0)
    assert isinstance(accordion, gr.Accordion) and accordion.open is True
    outputs = app.run_attention(text, source, app.DEFAULT_DIM, app.DEFAULT_SEED, table, False, tau)
    assert torch.equal(outputs[STATE].attention.inputs, torch.tensor(BOOK_INPUTS))
    assert outputs[CONTEXT_TABLE].value["data"][1][2:] == BOOK_CONTEXT_2


# --- 10. an expired run -------------------------------------------------------------------------------

EXPIRED_CALLS = {
    "trace_pair": lambda: app.trace_pair(None, 1, 0),
    "trace_click": lambda: app.trace_click(None, click(300, 200)),
    "shuffle_tokens": lambda: app.shuffle_tokens(None, 0),
    "prepare_exports": lambda: app.prepare_exports(None, False),
}


@pytest.mark.parametrize("handler", list(EXPIRED_CALLS), ids=list(EXPIRED_CALLS))
def test_handlers_without_a_run_ask_for_a_run(export_root, handler):
    with pytest.raises(gr.Error) as excinfo:
        EXPIRED_CALLS[handler]()
    assert error_message(excinfo) == app.EXPIRED_RUN
    assert not export_root.exists()  # nothing was written


def test_run_extras_without_a_run_skips():
    assert app.run_extras(None, "") == (gr.skip(),) * 8
