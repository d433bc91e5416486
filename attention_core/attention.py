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

from .limits import InputError, check_index, positive_temperature


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

    inputs (T, d), scores (T, T), weights (T, T), context (T, d); temperature τ divided the scores in the softmax.
    """

    inputs: torch.Tensor
    scores: torch.Tensor
    weights: torch.Tensor
    context: torch.Tensor
    temperature: float = 1.0


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
    return SelfAttention(inputs=inputs, scores=scores, weights=weights, context=context, temperature=temperature)


def self_attention_loops(inputs: torch.Tensor) -> SelfAttention:
    """The same computation (τ = 1) with the chapter's own loops: ``torch.dot`` for every pair of tokens,
    ``torch.softmax`` one row at a time, and each context vector summed term by term.

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
        weights[i] = torch.softmax(scores[i], dim=0)

    context = torch.zeros(num_tokens, dim, dtype=inputs.dtype)
    for i in range(num_tokens):
        for j, x_j in enumerate(inputs):
            context[i] += weights[i, j] * x_j
    return SelfAttention(inputs=inputs, scores=scores, weights=weights, context=context)


@dataclass(frozen=True)
class QuerySteps:
    """One query token's row of attention, in the lecture's order: scores, sum normalization,
    naive softmax, softmax, context vector.

    query: the query's index q (0-based); temperature: τ.
    scores: (T,) ω_qj, row q of X Xᵀ (the matrix's own numbers).
    sum_normalized: (T,) ω_qj / Σ_j ω_qj, the lecture's first attempt (not a softmax).
    naive: (T,) exp(ω_qj/τ) / Σ_k exp(ω_qk/τ) in the inputs' dtype, nothing subtracted: NaN where an exponential
        overflows (inf / inf), 0 where only their sum does (a finite number / inf).
    overflows: whether an exponential, or only their sum, is not finite in the inputs' dtype.
    shift: m, the number subtracted before exp in ``exps``: 0, or max_j ω_qj/τ when ``overflows``.
    exps: (T,) exp(ω_qj/τ - m) in float64: the arithmetic the walk-through shows.
    exp_sum: Σ_j exps, in float64.
    weights: (T,) α_qj, row q of softmax(ω/τ) (the matrix's own numbers).
    context: (d,) z^q, row q of α X (the matrix's own numbers).
    """

    query: int
    temperature: float
    scores: torch.Tensor
    sum_normalized: torch.Tensor
    naive: torch.Tensor
    overflows: bool
    shift: float
    exps: torch.Tensor
    exp_sum: float
    weights: torch.Tensor
    context: torch.Tensor


def row_steps(attention: SelfAttention, query: int) -> QuerySteps:
    """Row ``query`` of a computed run, step by step; every number the run has is taken from it, not recomputed."""
    count = attention.scores.shape[0]
    query = check_index(query, "query", count)
    tau = attention.temperature
    scores = attention.scores[query]  # (T,)
    scaled = scores if tau == 1.0 else scores / tau  # (T,) in the inputs' dtype
    exps = torch.exp(scaled)  # (T,), may overflow: that is the lesson
    overflows = not (bool(torch.isfinite(exps).all()) and bool(torch.isfinite(exps.sum())))
    scaled64 = scores.double() / tau  # (T,)
    shift = float(scaled64.max()) if overflows else 0.0
    exps64 = torch.exp(scaled64 - shift)  # (T,)
    return QuerySteps(
        query=query,
        temperature=tau,
        scores=scores,
        sum_normalized=scores / scores.sum(),
        naive=exps / exps.sum(),
        overflows=overflows,
        shift=shift,
        exps=exps64,
        exp_sum=float(exps64.sum()),
        weights=attention.weights[query],
        context=attention.context[query],
    )


def query_steps(inputs: torch.Tensor, query: int, *, temperature: float = 1.0) -> QuerySteps:
    """Every intermediate number of row ``query`` of self-attention on ``inputs`` (T, d).

    With a ``temperature`` τ ≠ 1 the exponentials are exp(ω_qj / τ); ``scores`` stay the raw ω_qj.

    >>> steps = query_steps(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), 0)
    >>> steps.scores.tolist(), steps.weights.sum().item()
    ([1.0, 0.0], 1.0)
    """
    return row_steps(self_attention(inputs, temperature=temperature), query)


def check_inputs(inputs: torch.Tensor, *, finite: bool = False) -> None:
    """Raise InputError unless ``inputs`` is a non-empty (T, d) tensor (and, with ``finite``, has no NaN or inf)."""
    if not isinstance(inputs, torch.Tensor) or inputs.ndim != 2:
        shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
        raise InputError(f"inputs must be a (T, d) tensor, got {shape}")
    if inputs.shape[0] == 0 or inputs.shape[1] == 0:
        raise InputError(f"inputs must have at least one token and one dimension, got {tuple(inputs.shape)}")
    if finite and not bool(torch.isfinite(inputs).all()):
        raise InputError("inputs must be finite")
