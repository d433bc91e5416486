"""Self-attention against the book's printed numbers, and the loop version against the matrix version."""

from __future__ import annotations

import math
import re

import pytest
import torch
from torch.testing import assert_close

from attention_core import (
    attention_scores,
    attention_weights,
    context_vectors,
    query_steps,
    random_embeddings,
    self_attention,
    self_attention_loops,
    softmax_naive,
    softmax_stable,
    sum_normalize,
    tokenize,
)

# "Your journey starts with one step", chapter 3.3.1.
BOOK_INPUTS = [
    [0.43, 0.15, 0.89],  # Your     (x^1)
    [0.55, 0.87, 0.66],  # journey  (x^2)
    [0.57, 0.85, 0.64],  # starts   (x^3)
    [0.22, 0.58, 0.33],  # with     (x^4)
    [0.77, 0.25, 0.10],  # one      (x^5)
    [0.05, 0.80, 0.55],  # step     (x^6)
]
X = torch.tensor(BOOK_INPUTS)  # (6, 3) float32, as in the book

# Printed in the book (4 decimals).
BOOK_SCORES_2 = [0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865]
BOOK_SUM_NORMALIZED_2 = [0.1455, 0.2278, 0.2249, 0.1285, 0.1077, 0.1656]
BOOK_WEIGHTS_2 = [0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581]
BOOK_CONTEXT_2 = [0.4419, 0.6515, 0.5683]
BOOK_WEIGHTS = [
    [0.2098, 0.2006, 0.1981, 0.1242, 0.1220, 0.1452],
    [0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581],
    [0.1390, 0.2369, 0.2326, 0.1242, 0.1108, 0.1565],
    [0.1435, 0.2074, 0.2046, 0.1462, 0.1263, 0.1720],
    [0.1526, 0.1958, 0.1975, 0.1367, 0.1879, 0.1295],
    [0.1385, 0.2184, 0.2128, 0.1420, 0.0988, 0.1896],
]
BOOK_CONTEXT = [
    [0.4421, 0.5931, 0.5790],
    [0.4419, 0.6515, 0.5683],
    [0.4431, 0.6496, 0.5671],
    [0.4304, 0.6298, 0.5510],
    [0.4671, 0.5910, 0.5266],
    [0.4177, 0.6503, 0.5645],
]
FOUR_DECIMALS = {"atol": 5e-5, "rtol": 0.0}


def _book(values: list) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def _scores_by_hand(rows: list[list[float]]) -> torch.Tensor:
    """ω_ij = Σ_k x_ik x_jk with Python floats (float64), independent of torch's matmul."""
    return torch.tensor(
        [[math.fsum(a * b for a, b in zip(x_i, x_j)) for x_j in rows] for x_i in rows], dtype=torch.float64
    )


# --- the book's printed values ---------------------------------------------------------------


def test_book_scores_match_an_explicit_double_loop():
    scores = self_attention(X).scores
    assert scores.shape == (6, 6)
    assert_close(scores.double(), _scores_by_hand(BOOK_INPUTS), atol=1e-6, rtol=0.0)


def test_book_scores_row_2_as_printed():
    assert_close(attention_scores(X)[1], _book(BOOK_SCORES_2), **FOUR_DECIMALS)


def test_book_sum_normalized_row_2():
    normalized = sum_normalize(attention_scores(X)[1])
    assert_close(normalized, _book(BOOK_SUM_NORMALIZED_2), **FOUR_DECIMALS)
    assert_close(normalized.sum(), torch.tensor(1.0))


@pytest.mark.parametrize(
    "normalize",
    [softmax_naive, softmax_stable, attention_weights],
    ids=["softmax_naive", "softmax_stable", "attention_weights"],
)
def test_book_softmax_row_2(normalize):
    weights = normalize(attention_scores(X)[1])
    assert_close(weights, _book(BOOK_WEIGHTS_2), **FOUR_DECIMALS)
    assert_close(weights.sum(), torch.tensor(1.0))


def test_book_context_vector_2():
    weights = attention_weights(attention_scores(X))
    assert_close(context_vectors(weights, X)[1], _book(BOOK_CONTEXT_2), **FOUR_DECIMALS)


@pytest.mark.parametrize("implementation", [self_attention, self_attention_loops], ids=["matrix", "loops"])
def test_book_full_weights_and_context(implementation):
    result = implementation(X)
    assert_close(result.weights, _book(BOOK_WEIGHTS), **FOUR_DECIMALS)
    assert_close(result.context, _book(BOOK_CONTEXT), **FOUR_DECIMALS)
    assert result.inputs is X


def test_book_query_steps_for_journey():
    steps = query_steps(X, 1)
    expected_scores = _scores_by_hand(BOOK_INPUTS)[1]
    expected_exps = torch.tensor([math.exp(s) for s in expected_scores.tolist()], dtype=torch.float64)
    assert steps.query == 1
    assert steps.shift == 0.0
    assert_close(steps.scores, _book(BOOK_SCORES_2), **FOUR_DECIMALS)
    assert_close(steps.exps.double(), expected_exps, atol=1e-5, rtol=0.0)
    assert steps.exp_sum == pytest.approx(math.fsum(expected_exps.tolist()), abs=1e-4)
    assert_close(steps.weights, _book(BOOK_WEIGHTS_2), **FOUR_DECIMALS)
    assert_close(steps.context, _book(BOOK_CONTEXT_2), **FOUR_DECIMALS)


@pytest.mark.parametrize("query", range(6), ids=[f"q{q}" for q in range(6)])
def test_query_steps_agree_with_the_matrix_row(query):
    steps = query_steps(X, query)
    full = self_attention(X)
    assert_close(steps.scores, full.scores[query])
    assert_close(steps.weights, full.weights[query])
    assert_close(steps.context, full.context[query])
    assert_close(steps.exps / steps.exp_sum, steps.weights)


def _dim_768_inputs() -> torch.Tensor:
    ids = tokenize("Your journey starts with one step").ids
    return random_embeddings(ids, dim=768, seed=123)  # diagonal scores ≈ 768, far past exp's float32 limit


@pytest.mark.parametrize(
    "make_inputs",
    [lambda: X * 100, _dim_768_inputs],
    ids=["book_times_100", "random_dim_768"],
)
def test_query_steps_shift_by_the_max_on_large_scores(make_inputs):
    inputs = make_inputs()
    full = self_attention(inputs)
    for query in range(inputs.shape[0]):
        steps = query_steps(inputs, query)
        assert steps.shift > 88.72  # exp(shift) alone would overflow float32
        assert steps.shift == pytest.approx(float(steps.scores.max()))
        assert torch.isfinite(steps.exps).all() and torch.isfinite(steps.weights).all()
        assert float(steps.exps.max()) == 1.0  # exp(max - max)
        assert math.isfinite(steps.exp_sum)
        assert_close(steps.weights, full.weights[query])
        assert_close(steps.context, full.context[query])


def test_query_steps_shift_when_only_the_sum_would_overflow():
    # Each score ≈ 87.8 has a finite exp in float32 (limit ≈ 88.72), but three of them sum past float32's max.
    inputs = torch.full((3, 1), 9.37)
    steps = query_steps(inputs, 0)
    assert steps.shift == pytest.approx(9.37**2, rel=1e-6)
    assert math.isfinite(steps.exp_sum)
    assert_close(steps.weights, torch.full((3,), 1 / 3))
    assert_close(steps.weights, self_attention(inputs).weights[0])


def test_query_steps_in_float16():
    # exp(16) overflows float16 (limit ≈ 11.09) although it is far below float32's limit.
    inputs = torch.tensor([[4.0, 0.0], [0.0, 1.0]], dtype=torch.float16)
    steps = query_steps(inputs, 0)
    assert steps.shift == 16.0
    assert torch.isfinite(steps.weights).all()
    expected = [1 / (1 + math.exp(-16)), math.exp(-16) / (1 + math.exp(-16))]
    assert_close(steps.weights.double(), torch.tensor(expected, dtype=torch.float64), atol=1e-3, rtol=0.0)


@pytest.mark.parametrize("query", [-1, 6, 100], ids=["negative", "one_past_end", "far"])
def test_query_steps_rejects_a_query_outside_the_tokens(query):
    with pytest.raises(ValueError, match=r"query must be a token index between 0 and 5"):
        query_steps(X, query)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (torch.tensor([1.0, 2.0]), r"\(T, d\) tensor, got \(2,\)"),
        (torch.ones(2, 2, 2), r"\(T, d\) tensor, got \(2, 2, 2\)"),
        (torch.ones(0, 3), r"at least one token and one dimension"),
        (torch.ones(3, 0), r"at least one token and one dimension"),
        ([[1.0, 2.0]], r"\(T, d\) tensor, got list"),
    ],
    ids=["vector", "3d", "no_tokens", "no_dims", "list"],
)
@pytest.mark.parametrize("function", [attention_scores, self_attention, self_attention_loops], ids=["scores", "matrix", "loops"])
def test_bad_input_shapes_are_rejected(function, inputs, message):
    with pytest.raises(ValueError, match=message):
        function(inputs)


# --- the loop version is the reference for the matrix version --------------------------------

SHAPES = [(1, 1), (2, 3), (6, 3), (17, 5), (32, 64)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("seed", [0, 1, 2], ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"T{s[0]}_d{s[1]}")
def test_loops_equal_matrix_version(shape, seed, dtype):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(*shape, generator=generator, dtype=dtype)
    loops = self_attention_loops(inputs)
    matrix = self_attention(inputs)
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
    assert result.scores.shape == (num_tokens, num_tokens)
    assert result.weights.shape == (num_tokens, num_tokens)
    assert result.context.shape == (num_tokens, dim)
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

from attention_core.attention import QuerySteps  # noqa: E402
from attention_core.limits import MAX_TEMPERATURE, MIN_TEMPERATURE, InputError, check_temperature  # noqa: E402

TEMPERATURE_SHAPES = [(2, 3), (6, 3), (17, 5), (32, 64)]


def _random_inputs(shape: tuple[int, int], seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _softmax_by_hand(scores: torch.Tensor, tau: float) -> torch.Tensor:
    """exp(ω/τ - max) / Σ exp(ω/τ - max), row by row with Python floats (float64)."""
    rows = []
    for row in scores.double().tolist():
        top = max(row)
        exps = [math.exp((s - top) / tau) for s in row]
        total = math.fsum(exps)
        rows.append([e / total for e in exps])
    return torch.tensor(rows, dtype=torch.float64)


def _entropy(weights: torch.Tensor) -> torch.Tensor:
    """Shannon entropy of each row, in float64 (0 log 0 = 0)."""
    p = weights.double()
    return -(p * torch.where(p > 0, p.log(), torch.zeros_like(p))).sum(dim=-1)


@pytest.mark.parametrize("temperature", [1, 1.0], ids=["int", "float"])
def test_temperature_one_is_the_previous_behaviour_exactly(temperature):
    inputs = _random_inputs((17, 5), seed=3)
    scores = inputs @ inputs.T
    assert torch.equal(attention_weights(scores, temperature=temperature), torch.softmax(scores, dim=-1))
    result = self_attention(inputs, temperature=temperature)
    assert torch.equal(result.scores, scores)
    assert torch.equal(result.weights, torch.softmax(scores, dim=-1))
    assert torch.equal(result.context, torch.softmax(scores, dim=-1) @ inputs)
    for query in range(inputs.shape[0]):
        default, explicit = query_steps(inputs, query), query_steps(inputs, query, temperature=temperature)
        assert explicit.temperature == default.temperature == 1.0
        for name in ("scores", "exps", "weights", "context"):
            assert torch.equal(getattr(explicit, name), getattr(default, name)), name
        assert (explicit.shift, explicit.exp_sum) == (default.shift, default.exp_sum)


def test_temperature_one_keeps_the_book_numbers():
    assert_close(self_attention(X, temperature=1.0).weights, _book(BOOK_WEIGHTS), **FOUR_DECIMALS)


@pytest.mark.parametrize("temperature", [0.5, 2.0, "sqrt_d"], ids=["half", "two", "sqrt_d"])
@pytest.mark.parametrize("shape", [(6, 3), (17, 5), (32, 64)], ids=lambda s: f"T{s[0]}_d{s[1]}")
def test_temperature_divides_the_scores_inside_softmax(shape, temperature):
    inputs = X if shape == (6, 3) else _random_inputs(shape, seed=11)
    tau = math.sqrt(inputs.shape[1]) if temperature == "sqrt_d" else temperature
    scores = inputs @ inputs.T
    result = self_attention(inputs, temperature=tau)
    assert torch.equal(result.scores, scores)  # the scores stay the raw ω
    assert_close(result.weights, torch.softmax(scores / tau, dim=-1), rtol=1e-6, atol=1e-7)
    assert_close(result.weights.double(), _softmax_by_hand(scores, tau), rtol=1e-5, atol=1e-7)
    assert_close(attention_weights(scores, temperature=tau), result.weights, rtol=0, atol=0)
    assert_close(result.context, result.weights @ inputs, rtol=0, atol=0)


def test_book_row_2_at_temperature_sqrt_3_by_hand():
    tau = math.sqrt(3)
    expected = [math.exp(s / tau) for s in BOOK_SCORES_2]
    expected = [e / math.fsum(expected) for e in expected]
    assert_close(self_attention(X, temperature=tau).weights[1], _book(expected), atol=5e-5, rtol=0.0)


@pytest.mark.parametrize("seed", [0, 1, 2], ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("shape", TEMPERATURE_SHAPES, ids=lambda s: f"T{s[0]}_d{s[1]}")
def test_higher_temperature_flattens_every_row(shape, seed):
    inputs = _random_inputs(shape, seed)
    temperatures = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
    entropies = torch.stack([_entropy(self_attention(inputs, temperature=t).weights) for t in temperatures])  # (6, T)
    steps = entropies.diff(dim=0)  # (5, T): entropy at the next τ minus entropy at this τ
    assert bool((steps >= -1e-12).all()), entropies
    # Strictly increasing, except where float32 has already rounded a row to exactly one-hot (large d, small τ).
    unsaturated = entropies[:-1] > 1e-6
    assert bool((entropies[-1] > 1e-6).all())  # at τ = 8 no row is one-hot any more, so every row is checked
    assert bool((steps[unsaturated] > 0).all()), entropies
    assert bool((entropies <= math.log(shape[0]) + 1e-9).all())  # the uniform row has the largest entropy
    # Far above the scores' scale the rows are nearly uniform: each weight is within exp(±2 max|ω| / τ) of 1/T.
    tau = 1_000.0
    scores = inputs @ inputs.T
    bound = math.exp(2 * float(scores.abs().max()) / tau) - 1
    weights = self_attention(inputs, temperature=tau).weights.double()
    assert float((weights * shape[0] - 1).abs().max()) <= bound + 1e-5


@pytest.mark.parametrize("seed", [0, 1, 2], ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("shape", TEMPERATURE_SHAPES, ids=lambda s: f"T{s[0]}_d{s[1]}")
def test_lower_temperature_sharpens_rows_to_one_hot_at_the_argmax(shape, seed):
    inputs = _random_inputs(shape, seed)
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
    one_hot = torch.nn.functional.one_hot(argmax, shape[0]).double()
    sharp = self_attention(inputs, temperature=1e-4).weights.double()
    assert_close(sharp, one_hot, atol=(shape[0] - 1) * float(torch.exp(-gaps.min() / 1e-4)) + 1e-6, rtol=0.0)


def test_low_temperature_does_not_overflow_on_huge_scores():
    inputs = X * 1e19  # scores ≈ 1e38, finite in float32; divided by τ = 0.05 they would be inf
    scores = inputs @ inputs.T
    assert torch.isfinite(scores).all() and not torch.isfinite(scores / 0.05).all()
    weights = self_attention(inputs, temperature=0.05).weights
    assert torch.isfinite(weights).all()
    assert torch.equal(weights, torch.nn.functional.one_hot(scores.argmax(dim=-1), 6).float())
    for query in range(6):
        steps = query_steps(inputs, query, temperature=0.05)
        assert torch.isfinite(steps.exps).all() and math.isfinite(steps.exp_sum)
        assert steps.shift == pytest.approx(float(scores[query].max()) / 0.05)
        assert torch.equal(steps.weights, weights[query])


@pytest.mark.parametrize("temperature", [0.05, 0.5, 2.0, math.sqrt(3), 50.0], ids=["min", "half", "two", "sqrt3", "max"])
@pytest.mark.parametrize("query", [0, 1, 5], ids=lambda q: f"q{q}")
def test_query_steps_with_temperature_match_the_matrix_row(query, temperature):
    steps = query_steps(X, query, temperature=temperature)
    full = self_attention(X, temperature=temperature)
    assert steps.temperature == temperature
    assert torch.equal(steps.scores, X @ X[query])  # raw scores
    exps_by_hand = [math.exp(s / temperature - steps.shift) for s in steps.scores.double().tolist()]
    assert_close(steps.exps.double(), torch.tensor(exps_by_hand, dtype=torch.float64), rtol=1e-5, atol=0.0)
    assert_close(steps.weights, full.weights[query], rtol=1e-5, atol=1e-7)
    assert_close(steps.context, full.context[query], rtol=1e-5, atol=1e-7)
    assert_close(steps.exps / steps.exp_sum, steps.weights)


def test_query_steps_shift_uses_the_scaled_max():
    # ω_11 = 100: exp(100) overflows float32, but at τ = 2 exp(50) is fine; at τ = 0.5 exp(200) needs the shift.
    inputs = torch.tensor([[10.0, 0.0], [0.0, 1.0]])
    assert query_steps(inputs, 0, temperature=2.0).shift == 0.0
    assert query_steps(inputs, 0).shift == 100.0
    assert query_steps(inputs, 0, temperature=0.5).shift == 200.0


def test_query_steps_dataclass_keeps_its_old_constructor():
    values = torch.tensor([1.0, 2.0])
    steps = QuerySteps(0, values, 0.0, values, 3.0, values / 3, values)
    assert steps.temperature == 1.0


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


def test_temperature_limits_are_the_documented_numbers():
    assert (MIN_TEMPERATURE, MAX_TEMPERATURE) == (0.05, 50.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1.0), (2.5, 2.5), ("2", 2.0), (" 0.5 ", 0.5), ("1e1", 10.0), (0.05, 0.05), (50, 50.0), ("50.0", 50.0)],
    ids=["int", "float", "str", "padded_str", "exponent_str", "min", "max", "max_str"],
)
def test_check_temperature_accepts(value, expected):
    result = check_temperature(value)
    assert result == expected and type(result) is float


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "temperature is empty"),
        ("  ", "temperature is empty"),
        ("warm", "not 'warm'"),
        (True, "not True"),
        ([1.0], "not list"),
        (float("nan"), "NaN (not a number)"),
        ("nan", "NaN (not a number)"),
        (float("inf"), "temperature is inf"),
        ("-inf", "temperature is -inf"),
        (0, "temperature is 0; it must be greater than 0"),
        (-2, "temperature is -2; it must be greater than 0"),
        (0.01, "temperature is 0.01; it must be a number between 0.05 and 50"),
        (50.5, "temperature is 50.5; it must be a number between 0.05 and 50"),
    ],
    ids=["none", "blank", "word", "bool", "list", "nan", "nan_str", "inf", "minus_inf_str", "zero", "negative",
         "too_small", "too_large"],
)
def test_check_temperature_rejects(value, message):
    with pytest.raises(InputError, match=re.escape(message)) as caught:
        check_temperature(value)
    assert "between 0.05 and 50" in str(caught.value)  # every message says what is allowed
