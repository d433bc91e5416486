"""Simplified self-attention without trainable weights (chapter 3.3 of the book).

    scores   ω = X Xᵀ          (T, d) @ (d, T) -> (T, T)
    weights  α = softmax(ω)    row by row, each row sums to 1
    context  Z = α X           (T, T) @ (T, d) -> (T, d)

An optional temperature τ divides the scores before the softmax, α = softmax(ω / τ). τ = 1 is the
book's weight-free case; τ = √d is the scaling scaled dot-product attention uses (section 3.4).
Larger τ flattens each row toward uniform, smaller τ sharpens it toward the row's largest score.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .limits import InputError, positive_temperature

# exp(x) is finite in float32 up to ln(float32 max) ≈ 88.72; past it the walk-through shifts by the max.
_FLOAT32_EXP_LIMIT = 88.0


def attention_scores(inputs: torch.Tensor) -> torch.Tensor:
    """Every token's dot product with every token: ``inputs @ inputs.T``.

    inputs: (T, d). Returns (T, T); entry [i, j] is ω_ij = x^i · x^j.
    """
    check_inputs(inputs)
    return inputs @ inputs.T  # (T, d) @ (d, T) -> (T, T)


def attention_weights(scores: torch.Tensor, *, temperature: float = 1.0) -> torch.Tensor:
    """Softmax of each row of ``scores / temperature`` (numerically stable), so every row sums to 1.

    scores: (..., T). Returns the same shape. With the default temperature 1 this is exactly
    ``torch.softmax(scores, dim=-1)``; no division happens.

    >>> attention_weights(torch.tensor([0.0, 2.0]), temperature=2.0)
    tensor([0.2689, 0.7311])
    """
    if temperature != 1.0 or isinstance(temperature, bool):
        tau = positive_temperature(temperature)
        if tau < 1.0:
            # Dividing by τ < 1 enlarges the scores and could overflow float32; subtracting the row max first
            # cannot change the softmax, keeps every entry ≤ 0, and loses no precision near the max.
            shifted = scores - scores.amax(dim=-1, keepdim=True)  # (..., T)
            return torch.softmax(shifted / tau, dim=-1)
        return torch.softmax(scores / tau, dim=-1)
    return torch.softmax(scores, dim=-1)  # torch subtracts the row max internally


def context_vectors(weights: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Each token's weighted average of all inputs: ``weights @ inputs``.

    weights: (T, T), inputs: (T, d). Returns (T, d); row i is z^i = Σ_j α_ij x^j.
    """
    return weights @ inputs  # (T, T) @ (T, d) -> (T, d)


@dataclass(frozen=True)
class SelfAttention:
    """Every step of weight-free self-attention for one input matrix.

    inputs (T, d), scores (T, T), weights (T, T), context (T, d).
    """

    inputs: torch.Tensor
    scores: torch.Tensor
    weights: torch.Tensor
    context: torch.Tensor


def self_attention(inputs: torch.Tensor, *, temperature: float = 1.0) -> SelfAttention:
    """Scores, weights and context vectors for ``inputs`` (T, d), with matrix products.

    ``temperature`` τ divides the scores inside the softmax only: ``scores`` stay the raw ω = X Xᵀ
    and ``weights`` are softmax(ω / τ).

    >>> x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> self_attention(x).weights.sum(dim=-1)
    tensor([1., 1.])
    """
    scores = attention_scores(inputs)  # (T, T)
    weights = attention_weights(scores, temperature=temperature)  # (T, T)
    context = context_vectors(weights, inputs)  # (T, d)
    return SelfAttention(inputs=inputs, scores=scores, weights=weights, context=context)


def self_attention_loops(inputs: torch.Tensor) -> SelfAttention:
    """The same computation with explicit loops over ``torch.dot``, as chapter 3 first teaches it.

    Slow on purpose: it is the reference the matrix version is tested against.
    """
    check_inputs(inputs)
    num_tokens, dim = inputs.shape
    scores = torch.empty(num_tokens, num_tokens, dtype=inputs.dtype)
    for i, x_i in enumerate(inputs):
        for j, x_j in enumerate(inputs):
            scores[i, j] = torch.dot(x_i, x_j)

    weights = torch.empty_like(scores)
    for i in range(num_tokens):
        row_max = scores[i].max()
        exps = [torch.exp(scores[i, j] - row_max) for j in range(num_tokens)]
        row_sum = sum(exps)
        for j in range(num_tokens):
            weights[i, j] = exps[j] / row_sum

    context = torch.zeros(num_tokens, dim, dtype=inputs.dtype)
    for i in range(num_tokens):
        for j, x_j in enumerate(inputs):
            context[i] += weights[i, j] * x_j
    return SelfAttention(inputs=inputs, scores=scores, weights=weights, context=context)


@dataclass(frozen=True)
class QuerySteps:
    """One query token's row of attention, step by step, for a walk-through.

    query: the query's index q.
    scores: (T,) ω_qj = x^q · x^j (raw, not divided by the temperature).
    shift: the number subtracted before exp; 0 when exp(ω_qj / τ) is finite in float32 and so is their sum
        in the inputs' dtype, else max_j ω_qj / τ.
    exps: (T,) exp(ω_qj / τ - shift).
    exp_sum: Σ_j exps[j].
    weights: (T,) α_qj = exps[j] / exp_sum.
    context: (d,) z^q = Σ_j α_qj x^j.
    temperature: τ, which divides the scores inside exp; 1 is the book's softmax.
    """

    query: int
    scores: torch.Tensor
    shift: float
    exps: torch.Tensor
    exp_sum: float
    weights: torch.Tensor
    context: torch.Tensor
    temperature: float = 1.0


def query_steps(inputs: torch.Tensor, query: int, *, temperature: float = 1.0) -> QuerySteps:
    """Every intermediate number of row ``query`` of self-attention on ``inputs`` (T, d).

    With a ``temperature`` τ ≠ 1 the exponentials are exp(ω_qj / τ); ``scores`` stay the raw ω_qj.

    >>> steps = query_steps(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), 0)
    >>> steps.scores.tolist(), steps.shift
    ([1.0, 0.0], 0.0)
    """
    check_inputs(inputs)
    num_tokens = inputs.shape[0]
    if not 0 <= query < num_tokens:
        raise InputError(f"The query must be a token index between 0 and {num_tokens - 1}, not {query}.")
    scores = inputs @ inputs[query]  # (T, d) @ (d,) -> (T,)
    tau = 1.0
    scaled = scores  # (T,) ω_qj / τ
    if temperature != 1.0 or isinstance(temperature, bool):
        tau = positive_temperature(temperature)
        scaled = scores / tau  # (T,)
    row_max = float(scaled.max())
    shift = 0.0
    exps = torch.exp(scaled)  # (T,)
    exp_sum = exps.sum()
    if row_max > _FLOAT32_EXP_LIMIT or not torch.isfinite(exp_sum):
        # exp (or the sum of several exps near the limit, or exp in float16) would overflow: subtract the max.
        if tau == 1.0:
            shift = row_max
            exps = torch.exp(scores - shift)  # (T,)
        else:
            # exp(ω/τ - m/τ) = exp((ω - m)/τ); the right side cannot overflow even where ω/τ itself did.
            top = scores.max()
            shift = float(top) / tau
            exps = torch.exp((scores - top) / tau)  # (T,)
        exp_sum = exps.sum()
    weights = exps / exp_sum  # (T,)
    context = weights @ inputs  # (T,) @ (T, d) -> (d,)
    return QuerySteps(
        query=query,
        scores=scores,
        shift=shift,
        exps=exps,
        exp_sum=float(exp_sum),
        weights=weights,
        context=context,
        temperature=tau,
    )


def check_inputs(inputs: torch.Tensor, *, finite: bool = False) -> None:
    """Raise ValueError unless ``inputs`` is a non-empty (T, d) tensor (and, with ``finite``, has no NaN or inf)."""
    if not isinstance(inputs, torch.Tensor) or inputs.ndim != 2:
        shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
        raise ValueError(f"inputs must be a (T, d) tensor, got {shape}")
    if inputs.shape[0] == 0 or inputs.shape[1] == 0:
        raise ValueError(f"inputs must have at least one token and one dimension, got {tuple(inputs.shape)}")
    if finite and not bool(torch.isfinite(inputs).all()):
        raise ValueError("inputs must be finite")
