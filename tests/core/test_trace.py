"""Tracing one attention weight back to its products, exponential, row sum and division.

A cell's trace is its query's steps plus a key, so it shows the matrix's own numbers. Its Markdown is in
test_walkthrough.py.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from golden import INPUTS, SCORES_2, WEIGHTS
from reference import book_attention, fsum_scores, softmax_floats

from attention_core import InputError, cell_of, row_steps, self_attention, trace_cell

X = torch.tensor(INPUTS)  # (6, 3) float32, as in the book


@pytest.fixture(scope="module")
def journey_your():
    return trace_cell(X, 1, 0)


def test_the_books_cell_2_1(journey_your):
    exact_row = fsum_scores(INPUTS)[1]
    trace = journey_your
    assert (trace.query, trace.key, trace.steps.temperature, trace.steps.shift) == (1, 0, 1.0, 0.0)
    assert trace.products.tolist() == pytest.approx([0.55 * 0.43, 0.87 * 0.15, 0.66 * 0.89], abs=1e-7)
    assert trace.score == pytest.approx(exact_row[0], abs=1e-6)
    assert round(trace.score, 4) == SCORES_2[0]
    assert trace.exp_value == pytest.approx(math.exp(exact_row[0]), rel=1e-6)
    assert trace.steps.exp_sum == pytest.approx(math.fsum(math.exp(s) for s in exact_row), rel=1e-6)
    assert trace.weight == pytest.approx(softmax_floats(exact_row)[0], abs=1e-7)
    assert round(trace.weight, 4) == WEIGHTS[1][0]


@pytest.mark.parametrize(
    ("query", "key"),
    [(0, 0), (1, 1), (4, 5), (5, 4), (2, 3)],
    ids=["Your_Your", "journey_journey", "one_step", "step_one", "starts_with"],
)
def test_book_weights_as_printed(query, key):
    assert round(trace_cell(X, query, key).weight, 4) == WEIGHTS[query][key]


def test_a_cell_is_its_rows_steps_plus_a_key():
    attention = self_attention(X, temperature=0.5)
    trace = cell_of(attention, 4, 2)
    steps = row_steps(attention, 4)
    for name in ("scores", "exps", "weights", "context"):
        assert torch.equal(getattr(trace.steps, name), getattr(steps, name)), name
    assert trace.score == float(attention.scores[4, 2])  # the matrix's own entries, not recomputed
    assert trace.weight == float(attention.weights[4, 2])
    assert trace.exp_value == float(trace.steps.exps[2])


# Sampled cells (the first, the last, a few between) rather than every cell of every shape.
SHAPES = [(1, 1), (2, 3), (6, 3), (12, 17), (8, 768)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"T{s[0]}_d{s[1]}")
def test_sampled_cells_match_softmax(shape, dtype):
    inputs = torch.randn(*shape, generator=torch.Generator().manual_seed(sum(shape)), dtype=dtype) * 0.3
    scores, weights, _ = book_attention(inputs)
    attention = self_attention(inputs)
    tight = 1e-5 if dtype == torch.float32 else 1e-12
    count = shape[0]
    cells = {(0, 0), (count - 1, count - 1), (count - 1, 0), (0, count - 1), (count // 2, count // 3)}
    for query, key in sorted(cells):
        trace = cell_of(attention, query, key)
        assert trace.score == float(scores[query, key])
        assert trace.products.shape == (shape[1],)
        assert math.isclose(float(trace.products.double().sum()), trace.score, rel_tol=tight, abs_tol=tight * shape[1])
        assert math.isclose(trace.weight, float(weights[query, key]), rel_tol=tight, abs_tol=tight)
        assert trace.weight == pytest.approx(trace.exp_value / trace.steps.exp_sum, rel=tight)


def test_single_token_attends_only_to_itself():
    trace = trace_cell(torch.tensor([[0.3, -2.0, 0.5]]), 0, 0)
    assert trace.weight == 1.0
    assert trace.steps.exp_sum == trace.exp_value == pytest.approx(math.exp(4.34), rel=1e-6)


def test_an_overflowing_cell_is_shifted_by_its_rows_max():
    inputs = X * 100
    trace = trace_cell(inputs, 1, 1)
    assert torch.isinf(torch.exp(torch.tensor(trace.score)))  # exp(14950) overflows float32
    assert trace.steps.overflows and trace.steps.shift == trace.score  # the row's largest score is its own
    assert trace.exp_value == 1.0
    assert math.isfinite(trace.steps.exp_sum) and 1.0 <= trace.steps.exp_sum <= 6


@pytest.mark.parametrize("temperature", [0.5, math.sqrt(3), 2.0, 1e-3], ids=["half", "sqrt_d", "two", "tiny"])
def test_temperature_matches_softmax_of_scaled_scores(temperature):
    scores = fsum_scores(INPUTS)
    for query, key in [(1, 0), (5, 4), (3, 3)]:
        trace = trace_cell(X, query, key, temperature=temperature)
        assert trace.steps.temperature == temperature
        assert trace.weight == pytest.approx(softmax_floats(scores[query], temperature)[key], abs=1e-6)


@pytest.mark.parametrize(
    ("query", "key", "message"),
    [
        (6, 0, r"The query index is 6; it must be between 0 and 5 \(tokens 1 to 6, counted from 0\)\."),
        (0, -3, r"The key index is -3; it must be between 0 and 5"),
        (1.5, 0, r"The query must be a whole number, not 1\.5\."),
        (0, "x", r"The key must be a whole number, not 'x'\."),
    ],
    ids=["query_past_end", "key_negative", "query_fraction", "key_word"],
)
def test_bad_indices_are_refused(query, key, message):
    with pytest.raises(InputError, match=message):
        trace_cell(X, query, key)


def test_index_strings_and_numpy_style_integers_are_accepted():
    assert (trace_cell(X, "1", 0).query, trace_cell(X, torch.tensor(1).item(), 0).query) == (1, 1)


def test_trace_is_frozen(journey_your):
    with pytest.raises(dataclasses.FrozenInstanceError):
        journey_your.key = 2  # type: ignore[misc]
