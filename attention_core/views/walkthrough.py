"""One query's row, and one cell, in words and KaTeX, with this run's own numbers.

The walk-through follows the lecture's order: the query's scores, sum normalization, naive softmax,
``torch.softmax``, the context vector. The numbers come from ``attention.row_steps``, which takes
scores, weights and context from the run's matrices, so the walk-through, the cell trace and the matrix
agree digit for digit. Exponentials and their sums are computed in float64 (and the text says so);
everything else is printed with no more significant digits than float32 carries.

Indices are 1-based like the book's: x^(2) is "journey". Coordinates are i = 1..d, tokens j = 1..T.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..attention import QuerySteps
from ..limits import exp_overflow_threshold
from ..trace import CellTrace
from .markup import scroll_tables
from .numbers import num
from .tokens import token_code

# Dot products and sums longer than this are summarised: the first terms, "…", the last one.
EXPAND_MAX_TERMS = 8
_HEAD_TERMS = 3
# The walk-through's table lists this many keys, then folds the rest under "show all".
TABLE_MAX_KEYS = 16


def tex(value: float, dtype: str = "float32") -> str:
    """A number inside KaTeX."""
    return num(value, dtype=dtype, latex=True)


def _factor(value: float) -> str:
    """A factor in a product: negatives in parentheses, so ``0.36·(-0.85)`` cannot be misread."""
    text = num(value)
    return f"({text})" if text.startswith("-") else text


def dot_expansion(query_vector: torch.Tensor, key_vector: torch.Tensor, score: float) -> str:
    """``0.5500·0.4300 + 0.8700·0.1500 + 0.6600·0.8900 = 0.9544``, summarised past EXPAND_MAX_TERMS terms.

    >>> dot_expansion(torch.tensor([1.0, 2.0]), torch.tensor([3.0, -1.0]), 1.0)
    '1.0000·3.0000 + 2.0000·(-1.0000) = 1.0000'
    """
    pairs = list(zip(query_vector.tolist(), key_vector.tolist()))
    long = len(pairs) > EXPAND_MAX_TERMS
    shown = pairs[:_HEAD_TERMS] + pairs[-1:] if long else pairs  # only what is printed gets formatted
    terms = [f"{_factor(a)}·{_factor(b)}" for a, b in shown]
    if long:
        return " + ".join(terms[:-1]) + f" + … + {terms[-1]} = {num(score)} ({len(pairs)} products)"
    return " + ".join(terms) + f" = {num(score)}"


def _sum_expansion(values: Sequence[float], dtype: str) -> str:
    """``a + b + c`` for KaTeX, summarised past EXPAND_MAX_TERMS terms."""
    items = [tex(value, dtype) for value in values]
    if len(items) > EXPAND_MAX_TERMS:
        return " + ".join(items[:_HEAD_TERMS]) + r" + \dots + " + items[-1]
    return " + ".join(items)


def latex_vector(values: torch.Tensor) -> str:
    items = [tex(v) for v in values.tolist()]
    if len(items) > EXPAND_MAX_TERMS:
        items = items[:EXPAND_MAX_TERMS] + [r"\dots"]
    return "[" + ",\\ ".join(items) + "]"


class _Notation:
    """Subscripts and exponents for query n: ω_{2j} as in the book, ω_{2,j} past 9 tokens."""

    def __init__(self, query: int, count: int, temperature: float, shifted: bool) -> None:
        self.n = query + 1
        self.count = count
        self.tau = temperature
        self.shifted = shifted

    def ij(self, j: object) -> str:
        return f"{self.n}{j}" if self.count < 10 else f"{self.n},{j}"

    def exponent(self, j: object, *, shift: bool | None = None) -> str:
        text = rf"\omega_{{{self.ij(j)}}}" + ("" if self.tau == 1.0 else r" / \tau")
        return text + (" - m" if (self.shifted if shift is None else shift) else "")


def query_walkthrough(tokens: Sequence[str], inputs: torch.Tensor, steps: QuerySteps) -> str:
    """The chapter 3.3 lecture for one query token, in the lecture's order, with this run's numbers."""
    count, dim = inputs.shape
    q = steps.query
    note = _Notation(q, count, steps.temperature, steps.shift != 0.0)
    n, tau = note.n, steps.temperature
    scores, weights = steps.scores.tolist(), steps.weights.tolist()
    limit = exp_overflow_threshold("float32")
    lines = [
        f"## Query {n}: {token_code(tokens[q])}",
        rf"The query is the input vector \(x^{{({n})}} = {latex_vector(inputs[q])}\) (d = {dim}).",
        "",
        "**1. Attention scores.** Each score is the dot product of the query with one input:",
        rf"$$\omega_{{{note.ij('j')}}} = x^{{({n})}} \cdot x^{{(j)}} = "
        rf"\sum_{{i=1}}^{{{dim}}} x^{{({n})}}_i \, x^{{(j)}}_i$$",
        "",
        "**2. Sum normalization**, the lecture's first attempt, divides each score by their sum: the weights sum "
        rf"to 1 (here {num(float(steps.sum_normalized.double().sum()))}), but nothing keeps them between 0 and 1.",
        rf"$$\frac{{\omega_{{{note.ij('j')}}}}}{{\sum_{{k=1}}^{{{count}}} \omega_{{{note.ij('k')}}}}}"
        rf"\qquad \sum_{{k=1}}^{{{count}}} \omega_{{{note.ij('k')}}} = {tex(float(steps.scores.double().sum()))}$$",
        "",
        "**3. Softmax.** The naive softmax exponentiates each score"
        + ("" if tau == 1.0 else r" divided by the temperature \(\tau = " + tex(tau, "float64") + r"\)")
        + " and divides by the sum of the exponentials (computed here in float64, so every digit shown is exact):",
        rf"$$\alpha_{{{note.ij('j')}}} = \frac{{\exp({note.exponent('j', shift=False)})}}"
        rf"{{\sum_{{k=1}}^{{{count}}} \exp({note.exponent('k', shift=False)})}}$$",
    ]
    largest = max(scores) / tau
    if steps.overflows:
        lines += [
            rf"In float32, \(\exp\) overflows above ≈ {limit:.2f}, and this row's largest exponent is "
            rf"\(m = {tex(steps.shift)}\): the naive softmax would compute inf / inf = NaN. "
            r"`torch.softmax` subtracts \(m\) first, \(\exp(\omega - m)\); the factor \(e^{-m}\) is in the "
            "numerator and in every term of the denominator, so it cancels and the weights are the same. "
            "The table shows these shifted exponentials.",
        ]
    else:
        lines += [
            rf"Here the largest exponent is {num(largest)}, below float32's limit ≈ {limit:.2f}, so "
            r"the naive softmax is finite and equals `torch.softmax`, which subtracts the row's maximum first so that "
            "no exponential can overflow (try the normalization lab with 1, 2, 3, 400).",
        ]
    lines += ["", *_steps_table(tokens, inputs, steps, note), ""]
    lines += [
        rf"$$\sum_{{k=1}}^{{{count}}} \exp({note.exponent('k')}) = "
        rf"{_sum_expansion(steps.exps.tolist(), 'float64')} = {tex(steps.exp_sum, 'float64')}$$",
        rf"$$\text{{e.g. }}\alpha_{{{note.ij(1)}}} = \frac{{{tex(float(steps.exps[0]), 'float64')}}}"
        rf"{{{tex(steps.exp_sum, 'float64')}}} = {tex(weights[0])}$$",
        f"Every weight is between 0 and 1, and they sum to {num(float(steps.weights.double().sum()))}.",
        "",
        "**4. Context vector**, the weighted average of all inputs:",
        _context_formula(inputs, steps, note),
    ]
    if dim > EXPAND_MAX_TERMS:
        lines.append(f"All {dim} values of \\(z^{{({n})}}\\) are in the context-vector table.")
    return scroll_tables("\n".join(lines))


def _steps_table(tokens: Sequence[str], inputs: torch.Tensor, steps: QuerySteps, note: _Notation) -> list[str]:
    count = inputs.shape[0]
    q = steps.query
    header = [
        rf"| j | token | \(\omega_{{{note.ij('j')}}}\) | sum-normalized | \(\exp({note.exponent('j')})\) "
        rf"| \(\alpha_{{{note.ij('j')}}}\) |",
        "|---:|---|---|---:|---:|---:|",
    ]

    def row(j: int) -> str:
        return (
            f"| {j + 1} | {token_code(tokens[j])} | {dot_expansion(inputs[q], inputs[j], float(steps.scores[j]))} "
            f"| {num(float(steps.sum_normalized[j]))} | {num(float(steps.exps[j]), dtype='float64')} "
            f"| {num(float(steps.weights[j]))} |"
        )

    lines = header + [row(j) for j in range(min(count, TABLE_MAX_KEYS))]
    if count > TABLE_MAX_KEYS:
        lines += [
            "",
            f"<details><summary>Show all {count} keys</summary>",
            "",
            *header,
            *(row(j) for j in range(count)),
            "",
            "</details>",
        ]
    return lines


def _context_formula(inputs: torch.Tensor, steps: QuerySteps, note: _Notation) -> str:
    count, dim = inputs.shape
    n = note.n
    head = rf"z^{{({n})}} &= \sum_{{j=1}}^{{{count}}} \alpha_{{{note.ij('j')}}} \, x^{{(j)}}"
    if count <= EXPAND_MAX_TERMS and dim <= 4:
        # One term per line: six 3-vectors side by side do not fit a page.
        terms = r" \\ &\quad + ".join(
            f"{tex(w)}\\,{latex_vector(inputs[j])}" for j, w in enumerate(steps.weights.tolist())
        )
        body = rf"{head} \\ &= {terms} \\ &= {latex_vector(steps.context)}"
    else:
        body = (
            rf"{head} = \alpha_{{{note.ij(1)}}} x^{{(1)}} + \dots + \alpha_{{{note.ij(count)}}} x^{{({count})}} "
            rf"\\ &= {latex_vector(steps.context)}"
        )
    return rf"$$\begin{{aligned}} {body} \end{{aligned}}$$"


def book_cells(query: int) -> str:
    """The book's one-query cells (3.3.1), written for query ``query`` (0-based), as a Python code block."""
    return "\n".join(
        [
            "```python",
            f"query = inputs[{query}]  # token {query + 1} is the query",
            "attn_scores = torch.empty(inputs.shape[0])",
            "for i, x_i in enumerate(inputs):",
            "    attn_scores[i] = torch.dot(x_i, query)",
            "",
            "attn_weights_tmp = attn_scores / attn_scores.sum()  # sum normalization",
            "attn_weights_naive = torch.exp(attn_scores) / torch.exp(attn_scores).sum(dim=0)",
            "attn_weights = torch.softmax(attn_scores, dim=0)",
            "",
            "context_vec = torch.zeros(query.shape)",
            "for i, x_i in enumerate(inputs):",
            "    context_vec += attn_weights[i] * x_i",
            "```",
        ]
    )


def trace_markdown(tokens: Sequence[str], trace: CellTrace, inputs: torch.Tensor) -> str:
    """One cell's arithmetic in words and KaTeX, from the same steps as the walk-through."""
    count, dim = inputs.shape
    steps = trace.steps
    q, k = trace.query, trace.key
    note = _Notation(q, count, steps.temperature, steps.shift != 0.0)
    n, m = note.n, k + 1
    lines = [
        f"## Cell ({n}, {m}): query {token_code(tokens[q])} → key {token_code(tokens[k])}",
        "",
        rf"**Score.** \(\omega_{{{note.ij(m)}}} = x^{{({n})}} \cdot x^{{({m})}}\), the sum of the {dim} products of "
        "the query's and the key's coordinates:",
        "",
        dot_expansion(inputs[q], inputs[k], trace.score),
        "",
    ]
    exponent = tex(trace.score)
    if steps.temperature != 1.0:
        temperature = tex(steps.temperature, "float64")
        exponent += rf" / {temperature}"
        lines.append(rf"**Exponential.** The score is first divided by the temperature \(\tau = {temperature}\).")
    else:
        lines.append("**Exponential** (in float64, so every digit shown is exact):")
    if note.shifted:
        lines.append(
            rf"An exponential of row {n}, or their sum, would overflow float32, so every exponent is shifted by the "
            rf"row's largest, \(m = {tex(steps.shift)}\); the factor \(e^{{-m}}\) cancels in the fraction "
            "below, so the weight is unchanged."
        )
        exponent += rf" - {tex(steps.shift)}"
    lines += [
        "",
        rf"$$\exp({note.exponent(m)}) = \exp({exponent}) = {tex(trace.exp_value, 'float64')}$$",
        "",
        f"**Row sum.** The exponentials of {f'all {count} keys' if count > 1 else 'the only key'} of row {n}:",
        "",
        rf"$$\sum_{{j=1}}^{{{count}}} \exp({note.exponent('j')}) = "
        + (f"{_sum_expansion(steps.exps.tolist(), 'float64')} = " if count > 1 else "")
        + rf"{tex(steps.exp_sum, 'float64')}$$",
        "",
        f"**Weight.** Key {m}'s share of the row sum, the softmax:",
        "",
        rf"$$\alpha_{{{note.ij(m)}}} = "
        rf"\frac{{\exp({note.exponent(m)})}}{{\sum_{{j=1}}^{{{count}}} \exp({note.exponent('j')})}}"
        rf" = \frac{{{tex(trace.exp_value, 'float64')}}}{{{tex(steps.exp_sum, 'float64')}}} = {tex(trace.weight)}$$",
        "",
        rf"This is entry ({n}, {m}) of the attention-weight matrix: token {n} {token_code(tokens[q])} gives "
        rf"{num(100 * trace.weight, decimals=2)}% of its attention to token {m} {token_code(tokens[k])}.",
    ]
    return "\n".join(lines)
