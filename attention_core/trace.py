"""Trace one cell (query q, key k) of the attention-weight matrix back to its arithmetic.

    ω_qk = Σ_i x^q_i x^k_i                        the score: d products, summed
    α_qk = exp(ω_qk/τ - m) / Σ_j exp(ω_qj/τ - m)   the weight: softmax of row q at temperature τ

A cell's trace is its query's steps (``attention.row_steps``) plus the key: one computation path,
so the trace, the walk-through and the matrix show the same numbers.

>>> x = torch.tensor([[0.43, 0.15, 0.89], [0.55, 0.87, 0.66]])
>>> trace = trace_cell(x, 1, 0)
>>> round(trace.score, 4), round(trace.weight, 4)
(0.9544, 0.368)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .attention import QuerySteps, SelfAttention, row_steps, self_attention
from .limits import check_index


@dataclass(frozen=True)
class CellTrace:
    """Every number behind one attention weight α_qk (0-based q and k).

    steps: the query's row, step by step. key: k.
    products: (d,) x^q_i · x^k_i in the inputs' dtype, whose sum is the score.
    """

    steps: QuerySteps
    key: int
    products: torch.Tensor

    @property
    def query(self) -> int:
        return self.steps.query

    @property
    def score(self) -> float:
        """ω_qk, the matrix's own entry."""
        return float(self.steps.scores[self.key])

    @property
    def exp_value(self) -> float:
        """exp(ω_qk/τ - m), in float64."""
        return float(self.steps.exps[self.key])

    @property
    def weight(self) -> float:
        """α_qk, the matrix's own entry."""
        return float(self.steps.weights[self.key])


def cell_of(attention: SelfAttention, query: int, key: int) -> CellTrace:
    """Cell (``query``, ``key``) of a computed run. Indices are 0-based token positions."""
    count = attention.scores.shape[0]
    query, key = check_index(query, "query", count), check_index(key, "key", count)
    steps = row_steps(attention, query)
    inputs = attention.inputs
    return CellTrace(steps=steps, key=key, products=inputs[query] * inputs[key])  # (d,)


def trace_cell(inputs: torch.Tensor, query: int, key: int, *, temperature: float = 1.0) -> CellTrace:
    """The arithmetic of α_qk for ``inputs`` (T, d). query, key: 0-based token indices; τ > 0."""
    return cell_of(self_attention(inputs, temperature=temperature), query, key)
