"""Self-attention against the book's printed numbers, the loop version against the matrix version, one query's
steps against the run's own matrices, and the temperature τ."""

from __future__ import annotations

import math

import pytest
import torch
from golden import CONTEXT, CONTEXT_2, HALF_UNIT, INPUTS, SCORES, SCORES_2, SUM_NORMALIZED_2, WEIGHTS, WEIGHTS_2
from reference import book_attention, fsum_scores, softmax_floats
from torch.testing import assert_close

from attention_core import (
    InputError,
    attention_scores,
    attention_weights,
    context_vectors,
    query_steps,
    random_embeddings,
    row_steps,
    self_attention,
    self_attention_loops,
    softmax_naive,
    softmax_stable,
    sum_normalize,
    tokenize,
)

X = torch.tensor(INPUTS)  # (6, 3) float32, as in the book
PRINTED = {"atol": HALF_UNIT, "rtol": 0.0}


def _book(values: list) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def _random_inputs(shape: tuple[int, int], seed: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# --- the book's printed values ---------------------------------------------------------------


def test_book_scores_are_the_exact_dot_products():
    assert_close(
        self_attention(X).scores.double(), torch.tensor(fsum_scores(INPUTS), dtype=torch.float64), atol=1e-6, rtol=0.0
    )
    assert_close(attention_scores(X), _book(SCORES), **PRINTED)


def test_book_row_2_step_by_step():
    scores_2 = attention_scores(X)[1]
    assert_close(scores_2, _book(SCORES_2), **PRINTED)
    assert_close(sum_normalize(scores_2), _book(SUM_NORMALIZED_2), **PRINTED)
    for normalize in (softmax_naive, softmax_stable, attention_weights):
        assert_close(normalize(scores_2), _book(WEIGHTS_2), **PRINTED)
    assert_close(context_vectors(attention_weights(attention_scores(X)), X)[1], _book(CONTEXT_2), **PRINTED)


@pytest.mark.parametrize("implementation", [self_attention, self_attention_loops], ids=["matrix", "loops"])
def test_book_full_weights_and_context(implementation):
    result = implementation(X)
    assert_close(result.scores, _book(SCORES), **PRINTED)
    assert_close(result.weights, _book(WEIGHTS), **PRINTED)
    assert_close(result.context, _book(CONTEXT), **PRINTED)
    assert result.inputs is X


# --- one query's steps, from the run's own matrices --------------------------------------------


def test_book_steps_for_journey():
    steps = query_steps(X, 1)
    exact = fsum_scores(INPUTS)[1]
    assert (steps.query, steps.temperature, steps.overflows, steps.shift) == (1, 1.0, False, 0.0)
    assert_close(steps.scores, _book(SCORES_2), **PRINTED)
    assert_close(steps.sum_normalized, _book(SUM_NORMALIZED_2), **PRINTED)
    assert_close(steps.naive, _book(WEIGHTS_2), **PRINTED)
    assert_close(steps.weights, _book(WEIGHTS_2), **PRINTED)
    assert_close(steps.context, _book(CONTEXT_2), **PRINTED)
    # The exponentials the walk-through shows are float64: exp of the float32 scores, summed in float64.
    assert steps.exps.dtype == torch.float64
    assert steps.exps.tolist() == pytest.approx([math.exp(s) for s in exact], rel=1e-6)
    assert steps.exp_sum == pytest.approx(math.fsum(steps.exps.tolist()), rel=1e-15)


@pytest.mark.parametrize("tau", [1.0, 0.5, 3.0], ids=["tau1", "tau0.5", "tau3"])
def test_row_steps_are_the_runs_own_rows(tau):
    inputs = _random_inputs((9, 5), seed=4)
    attention = self_attention(inputs, temperature=tau)
    for query in range(9):
        steps = row_steps(attention, query)
        assert torch.equal(steps.scores, attention.scores[query])
        assert torch.equal(steps.weights, attention.weights[query])
        assert torch.equal(steps.context, attention.context[query])
        by_hand = softmax_floats(attention.scores[query].double().tolist(), tau)
        assert_close(steps.exps / steps.exp_sum, torch.tensor(by_hand, dtype=torch.float64), rtol=1e-12, atol=1e-15)


def _dim_768_inputs() -> torch.Tensor:
    return random_embeddings(tokenize("Your journey starts with one step").ids, dim=768, seed=123)  # ω_ii ≈ 768


@pytest.mark.parametrize("make_inputs", [lambda: X * 100, _dim_768_inputs], ids=["book_times_100", "random_dim_768"])
def test_steps_shift_by_the_max_when_exp_overflows(make_inputs):
    inputs = make_inputs()
    attention = self_attention(inputs)
    for query in range(inputs.shape[0]):
        steps = row_steps(attention, query)
        assert steps.overflows
        assert not torch.isfinite(torch.exp(steps.scores)).all()  # the naive exponentials really overflow float32
        assert bool(torch.isnan(steps.naive).any())
        assert steps.shift == float(steps.scores.double().max())
        assert float(steps.exps.max()) == 1.0  # exp(max - max)
        assert math.isfinite(steps.exp_sum)
        assert_close(steps.exps / steps.exp_sum, steps.weights.double(), rtol=1e-5, atol=1e-7)


def test_no_shift_between_88_and_the_real_float32_limit():
    """exp(88.5) is finite in float32 (the limit is ≈ 88.72), so nothing overflows and nothing is shifted."""
    inputs = torch.tensor([[math.sqrt(88.5)], [0.5]])  # scores 88.5 and small ones
    steps = query_steps(inputs, 0)
    assert float(steps.scores.max()) > 88.0
    assert (steps.overflows, steps.shift) == (False, 0.0)
    assert torch.isfinite(steps.naive).all()
    assert_close(steps.naive, steps.weights)


def test_shift_when_only_the_sum_overflows():
    """Each exp(87.8) is finite in float32, but three of them sum past its largest value."""
    inputs = torch.full((3, 1), 9.37)
    steps = query_steps(inputs, 0)
    assert torch.isfinite(torch.exp(steps.scores)).all() and not torch.isfinite(torch.exp(steps.scores).sum())
    assert steps.overflows
    assert steps.shift == pytest.approx(9.37**2, rel=1e-6)
    assert_close(steps.weights, torch.full((3,), 1 / 3))


def test_steps_in_float16_shift_at_its_own_limit():
    inputs = torch.tensor([[4.0, 0.0], [0.0, 1.0]], dtype=torch.float16)  # exp(16) overflows float16 (limit ≈ 11.09)
    steps = query_steps(inputs, 0)
    assert steps.overflows and steps.shift == 16.0
    expected = [1 / (1 + math.exp(-16)), math.exp(-16) / (1 + math.exp(-16))]
    assert_close(steps.weights.double(), torch.tensor(expected, dtype=torch.float64), atol=1e-3, rtol=0.0)


def test_shift_uses_the_scaled_max():
    inputs = torch.tensor([[10.0, 0.0], [0.0, 1.0]])  # ω_11 = 100
    assert query_steps(inputs, 0, temperature=2.0).shift == 0.0  # exp(50) is finite
    assert query_steps(inputs, 0).shift == 100.0
    assert query_steps(inputs, 0, temperature=0.5).shift == 200.0


@pytest.mark.parametrize("query", [-1, 6, "x"], ids=["negative", "one_past_end", "word"])
def test_steps_refuse_a_query_outside_the_tokens(query):
    with pytest.raises(InputError, match="query"):
        query_steps(X, query)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (torch.tensor([1.0, 2.0]), r"\(T, d\) table, one row per token, but its shape is \(2,\)\. .*unsqueeze"),
        (torch.ones(2, 2, 2), r"\(T, d\) table, one row per token, but its shape is \(2, 2, 2\)\.$"),
        (torch.ones(0, 3), r"at least one token and one dimension"),
        (torch.ones(3, 0), r"at least one token and one dimension"),
        ([1.0, 2.0], r"inputs\[0\] is float: wrap a single row as \[\[\.\.\.\]\]"),
        ("0.43 0.15", r"not str\. Parse a pasted table with parse_embedding_table"),
    ],
    ids=["vector", "3d", "no_tokens", "no_dims", "flat_list", "text"],
)
@pytest.mark.parametrize(
    "function", [attention_scores, self_attention, self_attention_loops], ids=["scores", "matrix", "loops"]
)
def test_bad_input_shapes_are_refused(function, inputs, message):
    with pytest.raises(InputError, match=message):
        function(inputs)


# --- the loop version is the reference for the matrix version --------------------------------

SHAPES = [(1, 1), (2, 3), (6, 3), (17, 5), (32, 64)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("seed", [0, 1, 2], ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"T{s[0]}_d{s[1]}")
def test_loops_equal_matrix_version(shape, seed, dtype):
    inputs = _random_inputs(shape, seed, dtype)
    loops, matrix = self_attention_loops(inputs), self_attention(inputs)
    tolerance = 64 * torch.finfo(dtype).eps  # a few ulps: the two sum the products in different orders
    for name in ("scores", "weights", "context"):
        got, want = getattr(loops, name), getattr(matrix, name)
        assert got.dtype == dtype, name
        scale = max(1.0, float(want.abs().max()))
        assert torch.allclose(got, want, rtol=tolerance, atol=tolerance * scale), name


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"T{s[0]}_d{s[1]}")
def test_self_attention_properties(shape, dtype):
    num_tokens, dim = shape
    inputs = torch.rand(*shape, generator=torch.Generator().manual_seed(7), dtype=dtype)
    result = self_attention(inputs)
    assert result.weights.shape == (num_tokens, num_tokens) and result.context.shape == (num_tokens, dim)
    assert result.weights.dtype == result.context.dtype == dtype
    assert torch.allclose(result.scores, result.scores.T)  # x^i · x^j = x^j · x^i
    assert torch.allclose(result.weights.sum(dim=-1), torch.ones(num_tokens, dtype=dtype))
    assert bool((result.weights >= 0).all()) and bool((result.weights <= 1).all())
    # Each context vector is a convex combination, so it lies inside the inputs' bounding box.
    low, high = inputs.min(dim=0).values, inputs.max(dim=0).values
    eps = 1e-5 if dtype == torch.float32 else 1e-12
    assert bool((result.context >= low - eps).all()) and bool((result.context <= high + eps).all())


def test_weights_are_not_symmetric_even_though_scores_are():
    weights = self_attention(X).weights
    assert not torch.allclose(weights, weights.T, atol=1e-3)


# --- temperature: softmax(ω / τ) --------------------------------------------------------------


def _entropy(weights: torch.Tensor) -> torch.Tensor:
    """Shannon entropy of each row, in float64 (0 log 0 = 0)."""
    p = weights.double()
    return -(p * torch.where(p > 0, p.log(), torch.zeros_like(p))).sum(dim=-1)


@pytest.mark.parametrize("temperature", [1, 1.0], ids=["int", "float"])
def test_temperature_one_is_the_books_softmax_exactly(temperature):
    inputs = _random_inputs((17, 5), seed=3)
    scores = inputs @ inputs.T
    result = self_attention(inputs, temperature=temperature)
    assert torch.equal(result.scores, scores)
    assert torch.equal(result.weights, torch.softmax(scores, dim=-1))
    assert torch.equal(result.context, torch.softmax(scores, dim=-1) @ inputs)


@pytest.mark.parametrize("temperature", [0.5, 2.0, "sqrt_d"], ids=["half", "two", "sqrt_d"])
@pytest.mark.parametrize("shape", [(6, 3), (32, 64)], ids=lambda s: f"T{s[0]}_d{s[1]}")
def test_temperature_divides_the_scores_inside_softmax(shape, temperature):
    inputs = X if shape == (6, 3) else _random_inputs(shape, seed=11)
    tau = math.sqrt(inputs.shape[1]) if temperature == "sqrt_d" else temperature
    scores, weights, context = book_attention(inputs, tau)
    result = self_attention(inputs, temperature=tau)
    assert result.temperature == tau
    assert torch.equal(result.scores, scores)  # the scores stay the raw ω
    assert_close(result.weights, weights, rtol=1e-6, atol=1e-7)
    by_hand = [softmax_floats(row, tau) for row in scores.double().tolist()]
    assert_close(result.weights.double(), torch.tensor(by_hand, dtype=torch.float64), rtol=1e-5, atol=1e-7)
    assert_close(result.context, result.weights @ inputs, rtol=0, atol=0)


@pytest.mark.parametrize("seed", [0, 1], ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("shape", [(6, 3), (32, 64)], ids=lambda s: f"T{s[0]}_d{s[1]}")
def test_higher_temperature_flattens_every_row(shape, seed):
    inputs = _random_inputs(shape, seed)
    temperatures = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
    entropies = torch.stack([_entropy(self_attention(inputs, temperature=t).weights) for t in temperatures])  # (6, T)
    steps = entropies.diff(dim=0)
    assert bool((steps >= -1e-12).all()), entropies
    # Strictly increasing, except where float32 has already rounded a row to exactly one-hot.
    unsaturated = entropies[:-1] > 1e-6
    assert bool((steps[unsaturated] > 0).all()), entropies
    assert bool((entropies <= math.log(shape[0]) + 1e-9).all())  # the uniform row has the largest entropy


@pytest.mark.parametrize("shape", [(6, 3), (32, 64)], ids=lambda s: f"T{s[0]}_d{s[1]}")
def test_lower_temperature_sharpens_rows_to_one_hot_at_the_argmax(shape):
    inputs = _random_inputs(shape, seed=5)
    scores = (inputs @ inputs.T).double()
    top2 = scores.topk(2, dim=-1).values  # (T, 2)
    gaps = top2[:, 0] - top2[:, 1]
    assert bool((gaps > 0).all())  # random inputs: a unique largest score per row
    argmax = scores.argmax(dim=-1)
    for tau in (0.1, 0.01, 0.001):
        weights = self_attention(inputs, temperature=tau).weights.double()
        assert torch.equal(weights.argmax(dim=-1), argmax)
        # The other T-1 weights are each at most exp(-gap/τ) times the largest one.
        lower = 1 - (shape[0] - 1) * torch.exp(-gaps / tau)
        assert bool((weights.gather(1, argmax[:, None]).squeeze(1) >= lower - 1e-6).all())


def test_low_temperature_does_not_overflow_on_huge_scores():
    inputs = X * 1e19  # scores ≈ 1e38, finite in float32; divided by τ = 0.05 they would be inf
    scores = inputs @ inputs.T
    assert torch.isfinite(scores).all() and not torch.isfinite(scores / 0.05).all()
    attention = self_attention(inputs, temperature=0.05)
    assert torch.equal(attention.weights, torch.nn.functional.one_hot(scores.argmax(dim=-1), 6).float())
    for query in range(6):
        steps = row_steps(attention, query)
        assert torch.isfinite(steps.exps).all() and math.isfinite(steps.exp_sum)
        assert steps.shift == pytest.approx(float(scores[query].max()) / 0.05)


@pytest.mark.parametrize(
    "temperature",
    [0, -1.0, float("nan"), float("inf"), "2", None, True, torch.tensor(2.0)],
    ids=["zero", "negative", "nan", "inf", "string", "none", "bool", "tensor"],
)
@pytest.mark.parametrize(
    "function",
    [
        lambda tau: attention_weights(X @ X.T, temperature=tau),
        lambda tau: self_attention(X, temperature=tau),
        lambda tau: query_steps(X, 0, temperature=tau),
    ],
    ids=["attention_weights", "self_attention", "query_steps"],
)
def test_core_refuses_a_temperature_that_is_not_a_positive_number(function, temperature):
    with pytest.raises(InputError, match="temperature"):
        function(temperature)
