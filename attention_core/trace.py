"""Trace one cell (query q, key k) of the attention-weight matrix back to its arithmetic.

    ω_qk = Σ_i x^q_i x^k_i                       the score: d products, summed
    α_qk = exp(ω_qk/τ - m) / Σ_j exp(ω_qj/τ - m)  the weight: softmax of row q at temperature τ

τ = 1 is chapter 3.3; τ = √d is the scaling of chapter 3.4. m is 0 unless an exponential of row q
(or their sum) would overflow, exactly as in ``attention.query_steps``; then m = max_j ω_qj/τ,
and the factor e^-m cancels between numerator and denominator.

>>> x = torch.tensor([[0.43, 0.15, 0.89], [0.55, 0.87, 0.66]])
>>> trace = trace_cell(x, 1, 0)
>>> round(trace.score, 4), round(trace.weight, 4)
(0.9544, 0.368)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Sequence

import torch

from .attention import attention_scores
from .explain import num, token_html
from .limits import InputError, positive_temperature

# The same threshold as attention.query_steps: exp(x) overflows float32 a little above 88.72.
_EXP_LIMIT = 88.0

# Dot products longer than this are shown as the first 8 terms, "…", and the last term.
EXPAND_MAX_TERMS = 16
_HEAD_TERMS = 8
# Sums of exponentials with at most this many terms are written out.
SUM_MAX_TERMS = 8


@dataclass(frozen=True)
class CellTrace:
    """Every number behind one attention weight α_qk (0-based q and k).

    products: (d,) x^q_i · x^k_i, whose sum is the score.
    score: ω_qk, the core's (inputs @ inputs.T)[q, k].
    temperature: τ; scaled = ω_qk / τ.
    shift: m, 0 unless exp(ω_qj/τ) or its row sum would overflow; then max_j ω_qj/τ.
    exp_value: exp(ω_qk/τ - m).
    row_sum: Σ_j exp(ω_qj/τ - m) over all T keys of row q.
    weight: α_qk = exp_value / row_sum.
    row_exps: (T,) every exp(ω_qj/τ - m) of row q, whose sum is row_sum.
    """

    query: int
    key: int
    products: torch.Tensor
    score: float
    temperature: float
    scaled: float
    shift: float
    exp_value: float
    row_sum: float
    weight: float
    row_exps: torch.Tensor


def trace_cell(inputs: torch.Tensor, query: int, key: int, *, temperature: float = 1.0) -> CellTrace:
    """The arithmetic of α_qk for ``inputs`` (T, d), in the inputs' dtype.

    query, key: 0-based token indices. temperature: τ > 0, finite (scores are divided by it).
    """
    scores = attention_scores(inputs)  # (T, d) @ (d, T) -> (T, T); checks the shape
    count = inputs.shape[0]
    query = _index(query, "query", count)
    key = _index(key, "key", count)
    temperature = positive_temperature(temperature)

    row = scores[query] / temperature  # (T,) ω_qj / τ
    shift = 0.0
    exps = torch.exp(row)  # (T,)
    row_sum = exps.sum()
    row_max = float(row.max())
    if row_max > _EXP_LIMIT or not torch.isfinite(row_sum):
        # An exponential, or their sum, would overflow: subtract the row's max (it cancels).
        shift = row_max
        exps = torch.exp(row - shift)  # (T,), largest is exp(0) = 1
        row_sum = exps.sum()
    return CellTrace(
        query=query,
        key=key,
        products=inputs[query] * inputs[key],  # (d,)
        score=float(scores[query, key]),
        temperature=temperature,
        scaled=float(row[key]),
        shift=shift,
        exp_value=float(exps[key]),
        row_sum=float(row_sum),
        weight=float(exps[key] / row_sum),
        row_exps=exps,
    )


def trace_markdown(tokens: Sequence[str], trace: CellTrace, inputs: torch.Tensor) -> str:
    """The trace in words and KaTeX (\\( \\) inline, $$ $$ display), with 1-based indices like the book."""
    count, dim = inputs.shape
    if len(tokens) != count:
        raise InputError(f"There are {len(tokens)} tokens for {count} input rows; pass one token per row.")
    q, k = trace.query, trace.key
    n, m = q + 1, k + 1  # the book counts from 1: x^(2) is "journey"
    scaled = trace.temperature != 1.0
    shifted = trace.shift != 0.0

    def ij(j: object) -> str:
        # ω_21 as in the book; past 9 tokens "ω_210" would be ambiguous, so use a comma.
        return f"{n}{j}" if count < 10 else f"{n},{j}"

    def argument(j: object) -> str:
        """The exponent for key j, as a formula: ω_qj, ω_qj/τ, ω_qj - m or ω_qj/τ - m."""
        text = rf"\omega_{{{ij(j)}}}"
        if scaled:
            text += r" / \tau"
        if shifted:
            text += " - m"
        return text

    lines = [
        f"### Cell ({n}, {m}): query {token_html(tokens[q])} \u2192 key {token_html(tokens[k])}",
        "",
        rf"**Score.** \(\omega_{{{ij(m)}}} = x^{{({n})}} \cdot x^{{({m})}}\), the sum of the {dim} products of "
        rf"the query's and the key's coordinates:",
        "",
        _dot_line(inputs[q], inputs[k], trace.score),
        "",
    ]

    lines.append("**Exponential.**" + (" " + _scaling_sentence(trace.temperature, dim) if scaled else ""))
    if shifted:
        lines += [
            rf"An exponential of row {n} (or their sum) would overflow float32, so every exponent is shifted by the "
            rf"row's largest, \(m = \max_j {argument('j').removesuffix(' - m')} = {num(trace.shift)}\). The factor "
            r"\(e^{-m}\) is in the numerator and in every term of the denominator, so it cancels and the weight is "
            "unchanged.",
        ]
    lines.append("")
    value = num(trace.score)
    if scaled:
        value += rf" / {num(trace.temperature)}"
    if shifted:
        steps = rf"\exp({value} - {num(trace.shift)}) = \exp({num(trace.scaled - trace.shift)})"
    elif scaled:
        steps = rf"\exp({value}) = \exp({num(trace.scaled)})"
    else:
        steps = rf"\exp({value})"
    lines += [rf"$$\exp({argument(m)}) = {steps} = {num(trace.exp_value)}$$", ""]

    exps = trace.row_exps.tolist()
    if 1 < count <= SUM_MAX_TERMS:
        expansion = " + ".join(num(e) for e in exps) + " = "
    else:
        expansion = ""
    keys = f"all {count} keys" if count > 1 else "the only key"
    lines += [
        f"**Row sum.** The exponentials of {keys} of row {n}:",
        "",
        rf"$$\sum_{{j=1}}^{{{count}}} \exp({argument('j')}) = {expansion}{num(trace.row_sum)}$$",
        "",
        f"**Weight.** Key {m}'s share of the row sum, the softmax:",
        "",
        rf"$$\alpha_{{{ij(m)}}} = \frac{{\exp({argument(m)})}}{{\sum_{{j=1}}^{{{count}}} \exp({argument('j')})}}"
        rf" = \frac{{{num(trace.exp_value)}}}{{{num(trace.row_sum)}}} = {num(trace.weight)}$$",
        "",
        rf"This is entry ({n}, {m}) of the attention-weight matrix: token {n} {token_html(tokens[q])} gives "
        rf"{100 * trace.weight:.2f}% of its attention to token {m} {token_html(tokens[k])}.",
    ]
    return "\n".join(lines)


def _dot_line(query_vector: torch.Tensor, key_vector: torch.Tensor, score: float) -> str:
    """``0.5500·0.4300 + 0.8700·0.1500 + 0.6600·0.8900 = 0.9544``; long sums keep 8 terms, "…" and the last."""
    pairs = list(zip(query_vector.tolist(), key_vector.tolist()))
    terms = [f"{_factor(a)}·{_factor(b)}" for a, b in pairs]
    if len(terms) <= EXPAND_MAX_TERMS:
        return " + ".join(terms) + f" = {num(score)}"
    hidden = len(terms) - _HEAD_TERMS - 1
    shown = " + ".join(terms[:_HEAD_TERMS]) + f" + … + {terms[-1]}"
    return f"{shown} = {num(score)} ({len(terms)} terms; the {hidden} between the 8th and the last are not shown)"


def _factor(value: float) -> str:
    """A factor in a product: negatives in parentheses, so ``0.3600·(-0.8500)`` cannot be misread."""
    text = num(value)
    return f"({text})" if text.startswith("-") else text


def _scaling_sentence(temperature: float, dim: int) -> str:
    root = math.sqrt(dim)
    why = rf" (\(\sqrt{{d}} = \sqrt{{{dim}}}\), the scaling of chapter 3.4)" if math.isclose(temperature, root, rel_tol=1e-9) else ""
    return rf"Each score is first divided by the temperature \(\tau = {num(temperature)}\){why}."


def _index(value: object, name: str, count: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"The {name} must be a whole-number token index, not {value!r}.")
    value = int(value)
    if not 0 <= value < count:
        raise InputError(
            f"The {name} index is {value}; it must be between 0 and {count - 1} "
            f"(tokens 1 to {count}, counted from 0)."
        )
    return value
