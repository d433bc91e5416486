"""One query's walk-through and one cell's trace, in words and KaTeX: the book's numbers, the lecture's order,
honest digits, and one computation path shared with the matrix."""

from __future__ import annotations

import math
import re

import pytest
import torch
from golden import CONTEXT_2, INPUTS, PIECES, SCORES_2, SUM_NORMALIZED_2, WEIGHTS_2
from reference import CAT_SENTENCE, NUMBER, book_dot_line, fsum_scores, significant_digits

from attention_core import attend, cell_of, row_steps, self_attention, trace_cell
from attention_core.views.numbers import num
from attention_core.views.tables import matrix_table
from attention_core.views.walkthrough import book_cells, dot_expansion, query_walkthrough, trace_markdown

X = torch.tensor(INPUTS)


def walk(inputs: torch.Tensor, tokens, query: int, tau: float = 1.0) -> str:
    return query_walkthrough(tokens, inputs, row_steps(self_attention(inputs, temperature=tau), query))


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of the walk-through's table rows (j, token, ω expansion, sum-normalized, naive softmax, exp, α)."""
    rows = []
    for line in markdown.split("<details>")[0].splitlines():
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        if len(cells) == 7 and cells[0].isdigit():
            rows.append(cells)
    return rows


def context_of(markdown: str) -> list[str]:
    match = re.search(r"&= \[([^\]]*)\] \\end\{aligned\}", markdown)
    assert match, markdown
    return match.group(1).split(r",\ ")


@pytest.fixture(scope="module")
def cat_768():
    """The cat sentence at d = 768 (seed 123): every row's scores overflow float32's exp."""
    return attend(CAT_SENTENCE, dim=768, seed=123)


# --- the book's query, "journey" ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def journey() -> str:
    return walk(X, PIECES, 1)


def test_the_books_numbers_for_journey(journey):
    rows = table_rows(journey)
    assert [int(row[0]) for row in rows] == [1, 2, 3, 4, 5, 6]
    assert [row[2] for row in rows] == [book_dot_line(1, key) for key in range(6)]
    assert [row[2].rpartition(" = ")[2] for row in rows] == [f"{v:.4f}" for v in SCORES_2]
    assert [row[3] for row in rows] == [f"{v:.4f}" for v in SUM_NORMALIZED_2]
    assert [row[4] for row in rows] == [f"{v:.4f}" for v in WEIGHTS_2]  # the book prints the naive softmax too
    assert [row[6] for row in rows] == [f"{v:.4f}" for v in WEIGHTS_2]
    exps = [math.exp(s) for s in fsum_scores(INPUTS)[1]]
    assert [row[5] for row in rows] == [f"{e:.4f}" for e in exps]
    assert f"= {math.fsum(exps):.4f}$$" in journey  # 6 digits: 18.7453
    assert context_of(journey) == [f"{v:.4f}" for v in CONTEXT_2]
    assert "## Query 2: <code>␣journey</code>" in journey


def test_the_steps_come_in_the_lectures_order(journey):
    """Scores, sum normalization, naive softmax then torch.softmax, the context vector."""
    marks = [
        "**1. Attention scores",
        "**2. Sum normalization",
        "**3. Naive softmax",
        "**4. `torch.softmax`",
        "**5. Context vector",
    ]
    positions = [journey.index(mark) for mark in marks]
    assert positions == sorted(positions)


def test_no_overflow_no_shift(journey):
    assert "Here the largest exponent is 1.4950, below float32's limit ≈ 88.72" in journey
    assert r"\omega_{2j} - m" not in journey and r"\tau" not in journey


def test_coordinates_are_i_and_tokens_are_j_and_k():
    """The sum over coordinates runs to d, the sums over tokens to T: one letter, one meaning."""
    run = attend(CAT_SENTENCE, dim=3, seed=123)  # T = 10, d = 3
    text = walk(run.attention.inputs, run.tokens, 9) + trace_markdown(
        run.tokens, cell_of(run.attention, 9, 4), run.attention.inputs
    )
    assert set(re.findall(r"\\sum_\{i=1\}\^\{(\d+)\}", text)) == {"3"}
    assert set(re.findall(r"\\sum_\{[jk]=1\}\^\{(\d+)\}", text)) == {"10"}
    assert r"\omega_{10,j}" in text and r"\alpha_{10,5}" in text  # past 9 tokens, a comma in the subscripts


# --- large scores, temperature, sizes ---------------------------------------------------------------


def test_an_overflowing_row_is_shifted_and_says_why(cat_768):
    text = walk(cat_768.attention.inputs, cat_768.tokens, 9)
    steps = row_steps(cat_768.attention, 9)
    assert steps.overflows
    assert "In float32, \\(\\exp\\) overflows above ≈ 88.72" in text and "cancels" in text
    assert r"\exp(\omega_{10,j} - m)" in text
    assert "(768 products)" in text and "All 768 values of \\(z^{(10)}\\)" in text


def test_temperature_is_named_in_the_exponent():
    text = walk(X, PIECES, 1, tau=0.5)
    assert r"divided by the temperature \(\tau = 0.5000\)" in text
    assert r"\exp(\omega_{2j} / \tau)" in text
    exps = [math.exp(s / 0.5) for s in fsum_scores(INPUTS)[1]]
    assert [row[5] for row in table_rows(text)] == [f"{e:.4f}" for e in exps]


def test_more_than_16_keys_fold_into_show_all():
    inputs = torch.randn(20, 2, generator=torch.Generator().manual_seed(0))
    text = walk(inputs, [f"t{i}" for i in range(20)], 0)
    assert len(table_rows(text)) == 16
    assert "<details><summary>Show all 20 keys</summary>" in text
    assert text.split("<details>")[1].count("\n| 20 | <code>t19</code> |") == 1


@pytest.mark.parametrize(("dim", "summarised"), [(8, False), (9, True)], ids=["d8", "d9"])
def test_dot_expansion_summarises_past_8_terms(dim, summarised):
    text = dot_expansion(torch.ones(dim), torch.full((dim,), -1.0), float(-dim))
    assert text.count("1.0000·(-1.0000)") == (4 if summarised else dim)
    assert text.endswith(f"= {-dim:.4f}" + (f" ({dim} products)" if summarised else ""))


def test_huge_numbers_are_latex_not_e_notation():
    inputs = X * 1e5  # scores about 1e10
    text = walk(inputs, PIECES, 1) + trace_markdown(PIECES, trace_cell(inputs, 1, 0), inputs)
    latex = re.findall(r"\$\$.*?\$\$|\\\(.*?\\\)", text, flags=re.DOTALL)
    assert latex and not any(re.search(r"\de[+-]\d", segment) for segment in latex)
    assert r"\times 10^{" in text


# --- the cell trace ---------------------------------------------------------------------------------


def test_the_books_cell_2_1():
    text = trace_markdown(PIECES, trace_cell(X, 1, 0), X)
    exps = [math.exp(s) for s in fsum_scores(INPUTS)[1]]
    assert text.startswith("## Cell (2, 1): query <code>␣journey</code> → key <code>Your</code>")
    assert f"\n{book_dot_line(1, 0)}\n" in text
    # The numerator and the row sum carry the digits that make the division reproduce (6 here).
    assert rf"$$\exp(\omega_{{21}}) = \exp({SCORES_2[0]:.4f}) = {exps[0]:.5f}$$" in text
    assert " + ".join(f"{e:.4f}" for e in exps) + f" = {math.fsum(exps):.4f}$$" in text
    assert rf"= \frac{{{exps[0]:.5f}}}{{{math.fsum(exps):.4f}}} = {WEIGHTS_2[0]:.4f}$$" in text
    assert f"gives {100 * WEIGHTS_2[0]:.2f}% of its attention to token 1 <code>Your</code>" in text


def test_a_single_token_trace():
    inputs = torch.tensor([[0.3, -2.0, 0.5]])
    text = trace_markdown(["only"], trace_cell(inputs, 0, 0), inputs)
    assert "0.3000·0.3000 + (-2.0000)·(-2.0000) + 0.5000·0.5000 = 4.3400" in text
    assert "The exponentials of the only key of row 1:" in text
    assert text.endswith("gives 100.00% of its attention to token 1 <code>only</code>.")


def test_a_shifted_cell_shows_the_shift():
    inputs = X * 100
    trace = trace_cell(inputs, 1, 1)
    text = trace_markdown(PIECES, trace, inputs)
    assert "every exponential overflows to inf, and so does their sum" in text
    assert "here it gives NaN for all 6 weights. So every exponent is shifted by the row's largest" in text
    # m is the row's largest score: printed with the score's own (float32) digits, the same text both times.
    assert rf"= \exp({num(trace.score)} - {num(trace.steps.shift)}) = 1.00000$$" in text
    assert num(trace.score) == num(trace.steps.shift) == "14950.0"


# --- one number, one path, honest digits (issue 13, items 9 and 10) ---------------------------------------


def test_walkthrough_trace_and_matrix_show_the_same_numbers_for_a_cell_at_d_768(cat_768):
    attention, tokens = cat_768.attention, cat_768.tokens
    weights_table = matrix_table(tokens, attention.weights)["data"]
    for query in (9, 6, 0):
        rows = table_rows(walk(attention.inputs, tokens, query))
        for key in (query, 4, 7):
            trace = trace_markdown(tokens, cell_of(attention, query, key), attention.inputs)
            walk_score = rows[key][2].split(" = ")[-1].removesuffix(" (768 products)")
            trace_score = re.search(r"\n(.*) = (\S+) \(768 products\)\n", trace).group(2)
            trace_weight = re.search(r"\\alpha_\{[^}]*\} = .* = (\S+)\$\$", trace).group(1)
            assert walk_score == trace_score, (query, key)
            assert rows[key][6] == trace_weight == weights_table[query][key + 2], (query, key)
            assert float(walk_score) == pytest.approx(float(attention.scores[query, key]), rel=1e-5, abs=1e-4)


def _float64_numbers(steps) -> set[str]:
    """How the walk-through prints the numbers it computes in float64: the exponentials and their sum."""
    values = [*steps.exps.tolist(), steps.exp_sum]
    return {num(v, dtype="float64") for v in values} | {num(v, dtype="float64", latex=True) for v in values}


def _check_digits(text: str, float64_numbers: set[str]) -> None:
    """Every number has at most 15 significant digits; every one the float64 path did not print has at most 6."""
    for number in float64_numbers:
        assert significant_digits(number) <= 15, number
        text = re.sub(rf"(?<![\d.]){re.escape(number)}(?![\d])", " ", text)
    too_many = [number for number in NUMBER.findall(text) if significant_digits(number) > 6]
    assert too_many == []


@pytest.mark.parametrize("query", [9, 1], ids=["warm", "cat"])
def test_every_printed_number_has_at_most_its_dtypes_digits_at_d_768(cat_768, query):
    attention, tokens = cat_768.attention, cat_768.tokens
    steps = row_steps(attention, query)
    text = walk(attention.inputs, tokens, query)
    assert any(significant_digits(row[2].split(" = ")[-1].split(" ")[0]) == 6 for row in table_rows(text))  # 669.066
    for key in range(len(tokens)):
        text += trace_markdown(tokens, cell_of(attention, query, key), attention.inputs)
    _check_digits(text, _float64_numbers(steps))


@pytest.mark.parametrize("tau", [1.0, 0.5, math.sqrt(3)], ids=["tau1", "tau0.5", "sqrt_d"])
def test_every_printed_number_has_at_most_its_dtypes_digits_on_the_book(tau):
    attention = self_attention(X * 30, temperature=tau)  # scores up to ≈ 1345, still 6 digits in float32
    steps = row_steps(attention, 1)
    text = query_walkthrough(PIECES, attention.inputs, steps)
    text += "".join(trace_markdown(PIECES, cell_of(attention, 1, key), attention.inputs) for key in range(6))
    _check_digits(text, _float64_numbers(steps))


def test_book_cells_are_written_for_the_query_with_the_books_names():
    code = book_cells(4)
    assert "query = inputs[4]  # token 5 is the query" in code
    assert "attn_scores_5 / attn_scores_5.sum()" in code and "torch.softmax(attn_scores_5, dim=0)" in code
    assert "attn_scores =" not in code and "attn_weights =" not in code and "tau" not in code
    compile(code.strip("`").removeprefix("python\n"), "<book cells>", "exec")
