"""Tracing one attention weight back to its products, exponential, row sum and division."""

from __future__ import annotations

import dataclasses
import doctest
import math

import pytest
import torch

from attention_core import trace as trace_module
from attention_core.attention import query_steps
from attention_core.book import BOOK_INPUTS, BOOK_TOKENS
from attention_core.limits import InputError
from attention_core.trace import CellTrace, trace_cell, trace_markdown

X = torch.tensor(BOOK_INPUTS)  # (6, 3) float32, as in the book


def _row_by_hand(rows: list[list[float]], query: int, temperature: float = 1.0) -> tuple[list[float], list[float]]:
    """Scores and softmax weights of row ``query`` in Python floats (float64), shifted by the max."""
    scores = [math.fsum(a * b for a, b in zip(rows[query], row)) for row in rows]
    scaled = [s / temperature for s in scores]
    top = max(scaled)
    exps = [math.exp(s - top) for s in scaled]
    total = math.fsum(exps)
    return scores, [e / total for e in exps]


def _softmax(inputs: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    return torch.softmax(inputs @ inputs.T / temperature, dim=-1)  # (T, T)


# --- the book's cell (2, 1): journey attending to Your -------------------------------------------


@pytest.fixture(scope="module")
def journey_your() -> CellTrace:
    return trace_cell(X, 1, 0)


def test_book_cell_numbers(journey_your):
    rows = [list(r) for r in BOOK_INPUTS]
    expected_products = [0.55 * 0.43, 0.87 * 0.15, 0.66 * 0.89]
    expected_score = math.fsum(expected_products)
    expected_exps = [math.exp(math.fsum(a * b for a, b in zip(rows[1], row))) for row in rows]
    expected_sum = math.fsum(expected_exps)

    trace = journey_your
    assert (trace.query, trace.key, trace.temperature, trace.shift) == (1, 0, 1.0, 0.0)
    assert trace.products.tolist() == pytest.approx(expected_products, abs=1e-7)
    assert trace.score == pytest.approx(expected_score, abs=1e-6)
    assert round(trace.score, 4) == 0.9544
    assert trace.scaled == trace.score
    assert trace.exp_value == pytest.approx(math.exp(expected_score), abs=1e-5)
    assert round(trace.exp_value, 4) == 2.5971
    assert trace.row_sum == pytest.approx(expected_sum, abs=1e-4)
    assert round(trace.row_sum, 4) == 18.7453
    assert trace.weight == pytest.approx(expected_exps[0] / expected_sum, abs=1e-7)
    assert round(trace.weight, 4) == 0.1385
    assert trace.row_exps.shape == (6,)
    assert float(trace.row_exps.sum()) == pytest.approx(trace.row_sum)


def test_book_cell_equals_the_core(journey_your):
    assert journey_your.score == float((X @ X.T)[1, 0])
    assert torch.allclose(torch.tensor(journey_your.weight), _softmax(X)[1, 0], rtol=1e-6, atol=0)


def test_book_cell_markdown(journey_your):
    markdown = trace_markdown(BOOK_TOKENS, journey_your, X)
    assert markdown.startswith("### Cell (2, 1): query <code>journey</code> → key <code>Your</code>")
    assert r"\(\omega_{21} = x^{(2)} \cdot x^{(1)}\)" in markdown
    assert "\n0.5500·0.4300 + 0.8700·0.1500 + 0.6600·0.8900 = 0.9544\n" in markdown
    assert r"$$\exp(\omega_{21}) = \exp(0.9544) = 2.5971$$" in markdown
    assert (
        r"$$\sum_{j=1}^{6} \exp(\omega_{2j}) = 2.5971 + 4.4593 + 4.3728 + 2.3243 + 2.0279 + 2.9639 = 18.7453$$"
        in markdown
    )
    assert (
        r"$$\alpha_{21} = \frac{\exp(\omega_{21})}{\sum_{j=1}^{6} \exp(\omega_{2j})} = \frac{2.5971}{18.7453} = 0.1385$$"
        in markdown
    )
    assert "gives 13.85% of its attention to token 1 <code>Your</code>" in markdown
    assert r"\tau" not in markdown and "- m" not in markdown  # τ = 1 and no shift: neither is mentioned


@pytest.mark.parametrize(
    ("query", "key", "weight"),
    [(0, 0, 0.2098), (1, 1, 0.2379), (4, 5, 0.1295), (5, 4, 0.0988), (2, 3, 0.1242)],
    ids=["Your_Your", "journey_journey", "one_step", "step_one", "starts_with"],
)
def test_book_weights_as_printed(query, key, weight):
    assert round(trace_cell(X, query, key).weight, 4) == weight


# --- agreement with torch.softmax on random inputs -----------------------------------------------

SHAPES = [(1, 1), (1, 5), (2, 3), (6, 3), (9, 16), (12, 17), (8, 768)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"T{s[0]}_d{s[1]}")
def test_every_cell_matches_softmax(shape, dtype):
    inputs = torch.randn(*shape, generator=torch.Generator().manual_seed(sum(shape)), dtype=dtype) * 0.3
    expected = _softmax(inputs)
    scores = inputs @ inputs.T
    tight = 1e-5 if dtype == torch.float32 else 1e-12
    count = shape[0]
    for query in range(count):
        for key in range(count):
            trace = trace_cell(inputs, query, key)
            assert trace.score == float(scores[query, key])
            assert trace.products.shape == (shape[1],)
            assert math.isclose(float(trace.products.double().sum()), trace.score, rel_tol=tight, abs_tol=tight * shape[1])
            assert math.isclose(trace.weight, float(expected[query, key]), rel_tol=tight, abs_tol=tight)
            assert trace.weight == pytest.approx(trace.exp_value / trace.row_sum, rel=tight)


def test_single_token_attends_only_to_itself():
    trace = trace_cell(torch.tensor([[0.3, -2.0, 0.5]]), 0, 0)
    assert trace.weight == 1.0
    assert trace.row_sum == trace.exp_value
    markdown = trace_markdown(["only"], trace, torch.tensor([[0.3, -2.0, 0.5]]))
    assert "0.3000·0.3000 + (-2.0000)·(-2.0000) + 0.5000·0.5000 = 4.3400" in markdown
    assert "The exponentials of the only key of row 1:" in markdown
    assert trace.exp_value == pytest.approx(math.exp(4.34), rel=1e-6)
    assert rf"= \frac{{{trace.exp_value:.4f}}}{{{trace.exp_value:.4f}}} = 1.0000$$" in markdown


def _factor(value: float) -> str:
    text = f"{value:.4f}"
    return f"({text})" if text.startswith("-") else text


def test_dim_768_markdown_shows_eight_terms_and_the_last():
    inputs = torch.randn(3, 768, generator=torch.Generator().manual_seed(5)) * 0.05
    trace = trace_cell(inputs, 2, 0)
    markdown = trace_markdown(["a", "b", "c"], trace, inputs)
    q, k = inputs[2].tolist(), inputs[0].tolist()
    head = " + ".join(f"{_factor(q[i])}·{_factor(k[i])}" for i in range(8))
    expected = (
        f"{head} + … + {_factor(q[-1])}·{_factor(k[-1])} = {trace.score:.4f} "
        "(768 terms; the 759 between the 8th and the last are not shown)"
    )
    assert f"\n{expected}\n" in markdown
    assert any(v < 0 for v in q[:8] + k[:8]) and "(-" in head  # negatives are parenthesized


def test_seventeen_dims_is_summarised_but_sixteen_is_not():
    for dim, summarised in [(16, False), (17, True)]:
        inputs = torch.ones(2, dim)
        markdown = trace_markdown(["a", "b"], trace_cell(inputs, 0, 1), inputs)
        assert (" + … + " in markdown) is summarised, dim
        assert markdown.count("1.0000·1.0000") == (9 if summarised else 16)


def test_negative_factors_are_parenthesized():
    inputs = torch.tensor([[0.36, -0.5], [-0.85, 0.25]])
    markdown = trace_markdown(["a", "b"], trace_cell(inputs, 0, 1), inputs)
    assert "0.3600·(-0.8500) + (-0.5000)·0.2500 = -0.4310" in markdown


# --- large scores: the shift -------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_inputs",
    [lambda: X * 100, lambda: torch.randn(6, 768, generator=torch.Generator().manual_seed(1)), lambda: torch.full((3, 1), 9.37)],
    ids=["book_times_100", "random_dim_768", "only_the_sum_overflows"],
)
def test_large_scores_are_shifted_like_query_steps(make_inputs):
    inputs = make_inputs()
    expected = _softmax(inputs)
    count = inputs.shape[0]
    for query in range(count):
        steps = query_steps(inputs, query)
        for key in range(count):
            trace = trace_cell(inputs, query, key)
            # The same rule as the walk-through (its row comes from a matrix-vector product, so allow an ulp).
            assert steps.shift > 0 and trace.shift == pytest.approx(steps.shift, rel=1e-6)
            assert trace.shift == pytest.approx(float((inputs @ inputs.T)[query].max()))
            assert math.isfinite(trace.exp_value) and math.isfinite(trace.row_sum) and math.isfinite(trace.weight)
            assert 1.0 <= trace.row_sum <= count  # the largest exponential is exp(0) = 1
            assert math.isclose(trace.weight, float(expected[query, key]), rel_tol=1e-5, abs_tol=1e-7)


def test_naive_exponential_would_overflow_for_the_shifted_cell():
    inputs = X * 100
    trace = trace_cell(inputs, 1, 1)
    assert torch.isinf(torch.exp(torch.tensor(trace.score))).item()  # exp(14950) is inf in float32
    assert trace.shift == trace.score  # the row's largest score is its own
    assert trace.exp_value == 1.0
    markdown = trace_markdown(BOOK_TOKENS, trace, inputs)
    assert rf"\(m = \max_j \omega_{{2j}} = {trace.shift:.4f}\)" in markdown
    assert rf"$$\exp(\omega_{{22}} - m) = \exp({trace.score:.4f} - {trace.shift:.4f}) = \exp(0.0000) = 1.0000$$" in markdown
    assert r"\frac{\exp(\omega_{22} - m)}{\sum_{j=1}^{6} \exp(\omega_{2j} - m)}" in markdown
    assert "cancels" in markdown


@pytest.mark.parametrize("query", range(6), ids=[f"q{q}" for q in range(6)])
def test_book_rows_need_no_shift(query):
    assert trace_cell(X, query, 0).shift == query_steps(X, query).shift == 0.0


# --- temperature -------------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [0.5, math.sqrt(3), 2.0, 1e-3], ids=["half", "sqrt_d", "two", "tiny"])
def test_temperature_matches_softmax_of_scaled_scores(temperature):
    expected = _softmax(X, temperature)
    rows = [list(r) for r in BOOK_INPUTS]
    for query in range(6):
        _, by_hand = _row_by_hand(rows, query, temperature)
        for key in range(6):
            trace = trace_cell(X, query, key, temperature=temperature)
            assert trace.temperature == temperature
            assert trace.scaled == pytest.approx(trace.score / temperature, rel=1e-6)
            assert math.isclose(trace.weight, float(expected[query, key]), rel_tol=1e-5, abs_tol=1e-7)
            assert trace.weight == pytest.approx(by_hand[key], abs=1e-6)


def test_temperature_markdown_half():
    trace = trace_cell(X, 1, 0, temperature=0.5)
    markdown = trace_markdown(BOOK_TOKENS, trace, X)
    assert r"Each score is first divided by the temperature \(\tau = 0.5000\)." in markdown
    assert rf"$$\exp(\omega_{{21}} / \tau) = \exp(0.9544 / 0.5000) = \exp(1.9088) = {trace.exp_value:.4f}$$" in markdown
    assert trace.exp_value == pytest.approx(math.exp(2 * (0.55 * 0.43 + 0.87 * 0.15 + 0.66 * 0.89)), rel=1e-5)
    assert r"\sum_{j=1}^{6} \exp(\omega_{2j} / \tau)" in markdown
    assert rf"= \frac{{{trace.exp_value:.4f}}}{{{trace.row_sum:.4f}}} = {trace.weight:.4f}$$" in markdown


def test_temperature_sqrt_d_is_named():
    trace = trace_cell(X, 1, 0, temperature=math.sqrt(3))
    markdown = trace_markdown(BOOK_TOKENS, trace, X)
    assert r"\(\tau = 1.7321\) (\(\sqrt{d} = \sqrt{3}\), the scaling of chapter 3.4)" in markdown


def test_ten_or_more_tokens_use_a_comma_in_subscripts():
    inputs = torch.rand(11, 2, generator=torch.Generator().manual_seed(3))
    markdown = trace_markdown([f"t{i}" for i in range(11)], trace_cell(inputs, 10, 0), inputs)
    assert r"\alpha_{11,1}" in markdown and r"\omega_{11,j}" in markdown
    assert r"\sum_{j=1}^{11} \exp(\omega_{11,j}) = " + f"{trace_cell(inputs, 10, 0).row_sum:.4f}$$" in markdown


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "key", "message"),
    [
        (6, 0, r"The query index is 6; it must be between 0 and 5 \(tokens 1 to 6, counted from 0\)\."),
        (-1, 0, r"The query index is -1; it must be between 0 and 5"),
        (0, 6, r"The key index is 6; it must be between 0 and 5"),
        (0, -3, r"The key index is -3; it must be between 0 and 5"),
        (1.5, 0, r"The query must be a whole-number token index, not 1\.5\."),
        (True, 0, r"The query must be a whole-number token index, not True\."),
        (0, "1", r"The key must be a whole-number token index, not '1'\."),
    ],
    ids=["query_past_end", "query_negative", "key_past_end", "key_negative", "query_fraction", "query_bool", "key_string"],
)
def test_bad_indices_are_refused(query, key, message):
    with pytest.raises(InputError, match=message):
        trace_cell(X, query, key)


@pytest.mark.parametrize(
    ("temperature", "message"),
    [
        (0.0, r"The temperature is 0\.0; it must be a finite number greater than 0 \(1 is the book's softmax\)\."),
        (-1.0, r"The temperature is -1\.0; it must be a finite number greater than 0"),
        (float("inf"), r"The temperature is inf; it must be a finite number greater than 0"),
        (float("nan"), r"The temperature is nan; it must be a finite number greater than 0"),
        ("2", r"The temperature must be a positive number such as 1\.0 or 2\.0, not str\."),
        (None, r"The temperature must be a positive number such as 1\.0 or 2\.0, not NoneType\."),
    ],
    ids=["zero", "negative", "inf", "nan", "string", "none"],
)
def test_bad_temperature_is_refused(temperature, message):
    with pytest.raises(InputError, match=message):
        trace_cell(X, 1, 0, temperature=temperature)


def test_numpy_style_integers_are_accepted():
    assert trace_cell(X, torch.tensor(1).item(), 0).query == 1


def test_bad_inputs_shape_is_refused():
    with pytest.raises(ValueError, match=r"\(T, d\) tensor, got \(3,\)"):
        trace_cell(torch.ones(3), 0, 0)


def test_markdown_needs_one_token_per_row(journey_your):
    with pytest.raises(InputError, match=r"There are 5 tokens for 6 input rows; pass one token per row\."):
        trace_markdown(BOOK_TOKENS[:5], journey_your, X)


def test_trace_is_frozen(journey_your):
    with pytest.raises(dataclasses.FrozenInstanceError):
        journey_your.weight = 0.5  # type: ignore[misc]


def test_docstring_examples():
    result = doctest.testmod(trace_module)
    assert result.attempted > 0 and result.failed == 0
