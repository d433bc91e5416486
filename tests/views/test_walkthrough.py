"""One query's walk-through and one cell's trace, in words and KaTeX: the book's numbers, the lecture's order,
honest digits, and one computation path shared with the matrix."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import pytest
import torch
from golden import CONTEXT_2, INPUTS, PIECES, SCORES_2, SUM_NORMALIZED_2, WEIGHTS_2
from reference import CAT_SENTENCE, NUMBER, book_dot_line, fsum_scores, significant_digits, softmax_floats

from attention_core import attend, cell_of, row_steps, self_attention, trace_cell
from attention_core.views.numbers import num
from attention_core.views.tables import matrix_table, weight_digits
from attention_core.views.walkthrough import book_cells, dot_expansion, query_walkthrough, trace_markdown

X = torch.tensor(INPUTS)


def walk(inputs: torch.Tensor, tokens, query: int, tau: float = 1.0) -> str:
    return query_walkthrough(tokens, inputs, row_steps(self_attention(inputs, temperature=tau), query))


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of the walk-through's table rows (j, token, ω expansion, sum-normalized, exp, naive softmax, α)."""
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
    assert [row[5] for row in rows] == [f"{v:.4f}" for v in WEIGHTS_2]  # the book prints the naive softmax too
    assert [row[6] for row in rows] == [f"{v:.4f}" for v in WEIGHTS_2]
    exps = [math.exp(s) for s in fsum_scores(INPUTS)[1]]
    assert [row[4] for row in rows] == [f"{e:.4f}" for e in exps]
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
    assert [row[4] for row in table_rows(text)] == [f"{e:.4f}" for e in exps]


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
    digits = weight_digits(attention.scores, attention.temperature)
    weights_table = matrix_table(tokens, attention.weights, supported=digits)["data"]
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


# --- issue 23: what the page says is true of the run, at the digits it prints ---------------------------------


def _decimal(text: str) -> Decimal:
    """A printed number (plain or LaTeX) exactly as shown, parsed here independently of the library."""
    return Decimal(text.replace(r" \times 10^", "e").replace("{", "").replace("}", ""))


def _rounds_to(exact: Decimal, shown: str) -> bool:
    """Whether ``exact`` rounds to ``shown`` at its last printed digit, as a calculator user would round."""
    target = _decimal(shown)
    with localcontext() as context:
        context.prec = 80
        return exact.quantize(Decimal(1).scaleb(target.as_tuple().exponent), rounding=ROUND_HALF_EVEN) == target


def test_hello_three_times_at_d_86_says_the_sum_overflows_not_an_exponential():
    """Issue 23, High 1: m = 88.3864 < 88.72, so no exponential overflows; their sum does, and naive gives zeros."""
    run = attend("hello hello hello", dim=86, seed=22)
    scores = run.attention.scores[1]  # (T,) float32, the run's own
    exps = torch.exp(scores)
    assert torch.isfinite(exps).all() and torch.isinf(exps.sum())  # the condition, recomputed here
    assert (exps / exps.sum()).eq(0).all()
    text = walk(run.attention.inputs, run.tokens, 1)
    assert "is below that, so no exponential overflows; but their sum" in text
    assert "here it gives 0 for all 3 weights (not NaN), and they sum to 0, not 1" in text
    assert "inf / inf" not in text and "NaN for" not in text
    assert [row[5] for row in table_rows(text)] == ["0.0000"] * 3
    total = re.search(r"but their sum, \\\((.*?)\\\)", text).group(1)
    assert _rounds_to(Decimal(math.fsum(math.exp(s) for s in scores.double().tolist())), total)
    trace = trace_markdown(run.tokens, cell_of(run.attention, 1, 0), run.attention.inputs)
    assert "no exponential overflows; but their sum" in trace and "inf / inf" not in trace


def test_an_exponential_that_overflows_gives_nan(cat_768):
    steps = row_steps(cat_768.attention, 9)
    infinite = int(torch.isinf(torch.exp(cat_768.attention.scores[9])).sum())
    assert infinite >= 1
    text = walk(cat_768.attention.inputs, cat_768.tokens, 9)
    nans, zeros = int(steps.naive.isnan().sum()), int((steps.naive == 0).sum())
    assert nans == infinite and nans + zeros == 10
    assert "inf / inf = NaN where an exponential is inf" in text
    assert f"NaN for {nans} weight" in text or (nans == 10 and "NaN for all 10 weights" in text)


@pytest.mark.parametrize("tau", [math.sqrt(3), 1.0, 0.5], ids=["sqrt_d", "tau1", "tau0.5"])
def test_the_books_cells_run_at_the_runs_tau_give_the_tables_weights(tau):
    """Issue 23, High 2: at τ = √d the code block under the walk-through reproduces the table above it."""
    text = walk(X, PIECES, 1, tau=tau)
    code = book_cells(1, temperature=tau)
    namespace = {"torch": torch, "inputs": X.clone()}
    exec(compile(code.strip("`").removeprefix("python\n"), "<book cells>", "exec"), namespace)
    rows = table_rows(text)
    assert [f"{v:.4f}" for v in namespace["attn_weights_2"].tolist()] == [row[6] for row in rows]
    assert [f"{v:.4f}" for v in namespace["attn_weights_2_naive"].tolist()] == [row[5] for row in rows]
    assert [f"{v:.4f}" for v in namespace["attn_weights_2_tmp"].tolist()] == [row[3] for row in rows]
    assert [f"{v:.4f}" for v in namespace["context_vec_2"].tolist()] == context_of(text)
    assert ("tau = " in code) == (tau != 1.0)


def test_the_naive_softmax_is_shown_beside_torch_softmax_with_their_measured_difference(journey):
    naive = torch.exp(torch.tensor(SCORES_2)) / torch.exp(torch.tensor(SCORES_2)).sum()
    assert [row[5] for row in table_rows(journey)] == [f"{v:.4f}" for v in naive.tolist()]
    steps = row_steps(self_attention(X), 1)
    difference = float((steps.naive.double() - steps.weights.double()).abs().max())
    expected = "equal, bit for bit" if difference == 0 else f"differ by at most {difference:.1e}"
    assert expected in journey


def _runs():
    """Runs for the scan: sentences, dimensions, seeds and temperatures, the book's table among them."""
    yield "book", X, 1.0
    yield "book_sqrt_d", X, math.sqrt(3)
    yield "book_x30", X * 30, math.sqrt(3)
    for text, dim, seed, tau in [
        (CAT_SENTENCE, 3, 123, 1.0),
        (CAT_SENTENCE, 16, 7, 0.5),
        (CAT_SENTENCE, 86, 22, math.sqrt(86)),
        ("hello hello hello", 86, 22, 1.0),
        ("Your journey starts with one step", 3, 123, 1.0),
        ("Your journey starts with one step", 768, 5, 1.0),
        ("Your journey starts with one step", 768, 5, math.sqrt(768)),
        ("the cat and the hat and the bat sat on a mat", 8, 99, 2.0),
        ("the cat and the hat and the bat sat on a mat", 5, 1, 0.05),
        ("The quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat", 32, 3, 1.0),
        ("The quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat", 128, 4, 3.0),
    ]:
        run = attend(text, dim=dim, seed=seed)
        yield f"{dim}_{seed}_{tau:.3g}", run.attention.inputs, tau


_FRACTION = re.compile(r"= \\frac\{([^{}]*(?:\{-?\d+\})?)\}\{([^{}]*(?:\{-?\d+\})?)\} = (.*?)\$\$")


def test_every_trace_division_reproduces_with_a_calculator_on_a_scan_of_runs():
    """Issue 23, Medium 5: dividing the shown numerator by the shown denominator gives the shown weight to its last
    digit, in every cell of every run of the scan; every "=" step reproduces from its shown operands too."""
    cells = 0
    for name, inputs, tau in _runs():
        attention = self_attention(inputs, temperature=tau)
        count = inputs.shape[0]
        tokens = [f"t{i}" for i in range(count)]
        digits = weight_digits(attention.scores, tau)
        for query in range(count):
            for key in range(count):
                text = trace_markdown(tokens, cell_of(attention, query, key), inputs)
                top, bottom, shown = _FRACTION.search(text).groups()
                with localcontext() as context:
                    context.prec = 80
                    assert _rounds_to(_decimal(top) / _decimal(bottom), shown), (name, query, key, top, bottom, shown)
                # The shown quotient is the softmax of the run's scores, in float64, at its printed digits.
                reference = softmax_floats(attention.scores[query].double().tolist(), tau)[key]
                assert _rounds_to(Decimal(reference), shown), (name, query, key, shown, reference)
                if as_plain(shown) != num(float(attention.weights[query, key]), supported=digits[query]):
                    assert "(The matrix, computed in float32, holds" in text
                _check_equal_steps(text, (name, query, key))
                cells += 1
    assert cells > 1000


def _check_equal_steps(text: str, where) -> None:
    """Each written "a + b + … = s" (no "…") and "x·y + … = s" holds for its shown numbers."""
    for line in text.splitlines():
        if "…" in line or r"\dots" in line:
            continue
        if "·" in line and " = " in line:  # a dot product
            left, _, result = line.rpartition(" = ")
            exact = sum(
                (
                    _decimal(a.strip("()")) * _decimal(b.strip("()"))
                    for a, b in (t.split("·") for t in left.split(" + "))
                ),
                Decimal(0),
            )
            assert _rounds_to(exact, result), (where, line)
        match = re.search(r"\\exp\(\\omega_\{[^}]*\}(?: - m)?\) = ((?:[^+$=]+ \+ )+[^+$=]+) = ([^$]+)\$\$", line)
        if match:  # a sum of exponentials written with "="
            terms = match.group(1).split(" + ")
            assert _rounds_to(sum((_decimal(t) for t in terms), Decimal(0)), match.group(2)), (where, line)


def test_the_percentage_has_the_weights_digits():
    inputs = attend("Your journey starts with one step", dim=3, seed=123).attention.inputs
    tokens = [f"t{i}" for i in range(6)]
    text = trace_markdown(tokens, trace_cell(inputs, 2, 4), inputs)
    weight = _FRACTION.search(text).group(3)
    assert "e-0" in num(float(self_attention(inputs).weights[2, 4]))  # below 5e-5: a share, not "4.69e-03%"
    assert f"gives a share of {as_plain(weight)} (less than 0.01%) of its attention" in text
    text = trace_markdown(PIECES, trace_cell(X, 1, 2), X)
    assert f"gives {100 * WEIGHTS_2[2]:.2f}% of its attention" in text


def as_plain(latex: str) -> str:
    mantissa, _, power = latex.partition(r" \times 10^")
    return f"{mantissa}e{int(power.strip('{}')):+03d}" if power else mantissa


def test_a_subnormal_exponential_prints_only_the_digits_it_holds():
    """Issue 23, Medium 4: exp(-737) ≈ 1e-320 is a float64 subnormal, a whole number of 4.9e-324: 3 digits."""
    inputs = X * 30.6  # row 2's scores spread over ≈ 740, so its smallest exponentials are subnormal
    attention = self_attention(inputs)
    steps = row_steps(attention, 1)
    assert steps.overflows
    text = walk(inputs, PIECES, 1)
    subnormal = 0
    for j, row in enumerate(table_rows(text)):
        shown = row[4]
        with localcontext() as context:
            context.prec = 50
            exact = (Decimal(float(steps.scores[j])) - Decimal(steps.shift)).exp()
        assert _rounds_to(exact, shown), (j, shown, exact)  # every digit shown is the exact value's
        if 0 < exact < Decimal(2.2250738585072014e-308):
            subnormal += 1
            held = math.floor(math.log10(float(_decimal(shown)) / 5e-324))
            assert significant_digits(shown) <= held, shown
    assert subnormal >= 1


def test_printed_float32_weights_carry_only_the_digits_their_computation_supports():
    """A float32 weight of a row with scores near 800 is good to about 4 digits, not the 5 of ``6.6450e-11``:
    on every run of the scan, each printed weight is within one unit of its last digit of the float64 softmax."""
    checked = reduced = 0
    for name, inputs, tau in _runs():
        attention = self_attention(inputs, temperature=tau)
        count = inputs.shape[0]
        table = matrix_table(
            [f"t{i}" for i in range(count)], attention.weights, supported=weight_digits(attention.scores, tau)
        )
        for query, row in enumerate(table["data"]):
            exact = softmax_floats(attention.scores[query].double().tolist(), tau)
            for key, shown in enumerate(row[2:]):
                unit = float(Decimal(1).scaleb(_decimal(shown).as_tuple().exponent))
                assert abs(float(shown) - exact[key]) <= unit * (1 + 1e-9), (name, query, key, shown, exact[key])
                checked += 1
                reduced += significant_digits(shown) < 5 and "e" in shown
    assert checked > 1000 and reduced > 0
