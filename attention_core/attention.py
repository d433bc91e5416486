"""Simplified self-attention without trainable weights (chapter 3.3 of the book).

    scores   ω = X Xᵀ          (T, d) @ (d, T) -> (T, T)
    weights  α = softmax(ω)    row by row, each row sums to 1
    context  Z = α X           (T, T) @ (T, d) -> (T, d)

An optional temperature τ divides the scores before the softmax, α = softmax(ω / τ). τ = 1 is the
book's weight-free case; τ = √d is the scaling scaled dot-product attention uses (section 3.4).
Larger τ flattens each row toward uniform, smaller τ sharpens it toward the row's largest score.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .limits import InputError, check_index, positive_temperature

# What ``check_inputs`` accepts: a (T, d) float tensor, or its rows (lists, tuples, a numpy array).
InputsLike = torch.Tensor | Sequence[Sequence[float]]


def attention_scores(inputs: torch.Tensor) -> torch.Tensor:
    """Every token's dot product with every token: ``inputs @ inputs.T``.

    inputs: (T, d), a float tensor or rows of numbers (see ``check_inputs``). Returns (T, T); entry [i, j] is
    ω_ij = x^i · x^j.
    """
    inputs = check_inputs(inputs)
    return inputs @ inputs.T  # (T, d) @ (d, T) -> (T, T)


def attention_weights(scores: torch.Tensor, *, temperature: float = 1.0) -> torch.Tensor:
    """Softmax of each row of ``scores / temperature`` (numerically stable), so every row sums to 1.

    scores: (..., T). Returns the same shape. With the default temperature 1 this is exactly
    ``torch.softmax(scores, dim=-1)``; no division happens.

    >>> attention_weights(torch.tensor([0.0, 2.0]), temperature=2.0)
    tensor([0.2689, 0.7311])
    """
    check_float_tensor(scores, "scores")
    if temperature != 1.0 or isinstance(temperature, bool):
        tau = positive_temperature(temperature)
        if tau < 1.0:
            # Dividing by τ < 1 enlarges the scores and could overflow float32; subtracting the row max first
            # cannot change the softmax, keeps every entry ≤ 0, and loses no precision near the max.
            shifted = scores - scores.amax(dim=-1, keepdim=True)  # (..., T)
            return torch.softmax(shifted / tau, dim=-1)
        return torch.softmax(scores / tau, dim=-1)
    return torch.softmax(scores, dim=-1)  # torch subtracts the row max internally


def context_vectors(weights: torch.Tensor, inputs: InputsLike) -> torch.Tensor:
    """Each token's weighted average of all inputs: ``weights @ inputs``.

    weights: (T, T), inputs: (T, d). Returns (T, d); row i is z^i = Σ_j α_ij x^j.
    """
    inputs = check_inputs(inputs)
    check_float_tensor(weights, "weights")
    count = inputs.shape[0]
    if weights.ndim != 2 or weights.shape[1] != count:
        raise InputError(
            f"weights are {tuple(weights.shape)} but inputs have {count} rows: weights must be (T, {count}), "
            "one column per input row, as attention_weights(attention_scores(inputs)) gives."
        )
    if weights.dtype != inputs.dtype:
        raise InputError(
            f"weights are {weights.dtype} but inputs are {inputs.dtype}: convert one, e.g. weights.to(inputs.dtype)."
        )
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


def self_attention(inputs: InputsLike, *, temperature: float = 1.0) -> SelfAttention:
    """Scores, weights and context vectors for ``inputs`` (T, d), with matrix products.

    ``inputs`` is a float tensor, or rows of numbers such as the book's ``BOOK_INPUTS`` (they become float32;
    see ``check_inputs``). ``temperature`` τ divides the scores inside the softmax only: ``scores`` stay the raw
    ω = X Xᵀ and ``weights`` are softmax(ω / τ).

    >>> x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> self_attention(x).weights.sum(dim=-1)
    tensor([1., 1.])
    >>> from attention_core.book import BOOK_INPUTS
    >>> self_attention(BOOK_INPUTS).context[1]
    tensor([0.4419, 0.6515, 0.5683])
    """
    inputs = check_inputs(inputs)
    scores = attention_scores(inputs)  # (T, T)
    weights = attention_weights(scores, temperature=temperature)  # (T, T)
    context = context_vectors(weights, inputs)  # (T, d)
    return SelfAttention(inputs=inputs, scores=scores, weights=weights, context=context, temperature=temperature)


def self_attention_loops(inputs: torch.Tensor) -> SelfAttention:
    """The same computation (τ = 1) with the chapter's own loops: ``torch.dot`` for every pair of tokens,
    ``torch.softmax`` one row at a time, and each context vector summed term by term.

    Slow on purpose: it is the reference the matrix version is tested against.
    """
    inputs = check_inputs(inputs)
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


def query_steps(inputs: InputsLike, query: int, *, temperature: float = 1.0) -> QuerySteps:
    """Every intermediate number of row ``query`` of self-attention on ``inputs`` (T, d).

    With a ``temperature`` τ ≠ 1 the exponentials are exp(ω_qj / τ); ``scores`` stay the raw ω_qj.

    >>> steps = query_steps(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), 0)
    >>> steps.scores.tolist(), steps.weights.sum().item()
    ([1.0, 0.0], 1.0)
    """
    return row_steps(self_attention(inputs, temperature=temperature), query)


def check_inputs(inputs: InputsLike, *, finite: bool = True) -> torch.Tensor:
    """``inputs`` as a non-empty (T, d) floating-point tensor, or an InputError that says what to fix.

    A tensor must already hold floats (float16, bfloat16, float32 or float64): an integer tensor is refused, not
    converted, because its dtype was chosen. Rows of numbers (lists or tuples, such as the book's ``BOOK_INPUTS``,
    or a numpy array) become a tensor: float32, torch's default, unless a numpy array has a float dtype of its
    own. With ``finite`` (the default), NaN and ±inf are refused: each one would turn every score it touches into
    NaN or inf.

    >>> check_inputs(((0.43, 0.15), (0.55, 0.87))).dtype
    torch.float32
    """
    if not isinstance(inputs, torch.Tensor):
        inputs = _rows_as_tensor(inputs)
    if inputs.ndim != 2:
        raise InputError(
            f"inputs must be a (T, d) table, one row per token, but its shape is {tuple(inputs.shape)}."
            + (" Make a 1-row table with inputs.unsqueeze(0)." if inputs.ndim == 1 else "")
        )
    if inputs.shape[0] == 0 or inputs.shape[1] == 0:
        raise InputError(f"inputs must have at least one token and one dimension, got {tuple(inputs.shape)}")
    check_float_tensor(inputs, "inputs")
    if finite:
        bad = (~torch.isfinite(inputs)).nonzero()
        if len(bad):
            row, column = (int(i) for i in bad[0])
            raise InputError(
                f"inputs[{row}, {column}] is {float(inputs[row, column])}"
                + (f" ({len(bad)} entries are not finite)" if len(bad) > 1 else "")
                + "; every entry must be a finite number, or the scores it touches are NaN or inf."
            )
    return inputs


def check_float_tensor(tensor: object, name: str) -> None:
    """Raise InputError unless ``tensor`` is a tensor of real floating-point numbers (softmax needs them)."""
    if not isinstance(tensor, torch.Tensor):
        raise InputError(f"{name} must be a torch.Tensor, not {type(tensor).__name__}.")
    if not tensor.dtype.is_floating_point:
        raise InputError(
            f"{name} are {tensor.dtype}, but attention needs real floating-point numbers (torch's softmax takes "
            f"no {'complex numbers' if tensor.dtype.is_complex else 'integers'}). Convert with {name}.float() "
            "(float32, as in the book), or write the numbers with a decimal point: torch.tensor([[1.0, 2.0]])."
        )


def _rows_as_tensor(rows: object) -> torch.Tensor:
    """Rows of real numbers (nested lists or tuples, or a numpy array) as a (T, d) tensor."""
    if hasattr(rows, "__array__") and not isinstance(rows, (str, bytes)):
        import numpy as np

        array = np.asarray(rows)
        if array.dtype.kind not in "fiub":
            raise InputError(f"inputs is an array of {array.dtype}; give numbers, one row per token.")
        dtype = None if array.dtype.kind == "f" else torch.float32
        return torch.as_tensor(array, dtype=dtype)
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
        hint = " Parse a pasted table with parse_embedding_table(text).vectors." if isinstance(rows, str) else ""
        raise InputError(f"inputs must be a (T, d) tensor or rows of numbers, not {type(rows).__name__}.{hint}")
    width = None
    for index, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise InputError(
                f"inputs must be rows of numbers, one row per token, but inputs[{index}] is "
                f"{type(row).__name__}: wrap a single row as [[...]]."
            )
        width = len(row) if width is None else width
        if len(row) != width:
            raise InputError(
                f"Every row of inputs must have {width} numbers, as row 0 does; row {index} has {len(row)}."
            )
        for column, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise InputError(f"inputs[{index}][{column}] is {type(value).__name__}, not a number.")
    return torch.tensor(rows, dtype=torch.float32)  # (T, d)
