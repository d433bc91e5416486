"""One query's row, and one cell, in words and KaTeX, with this run's own numbers.

The walk-through follows the lecture's order: the query's scores, sum normalization, naive softmax,
``torch.softmax``, the context vector. The numbers come from ``attention.row_steps``, which takes
scores, weights and context from the run's matrices, so the walk-through, the cell trace and the matrix
agree digit for digit. Exponentials and their sums are computed in float64 (and the text says so);
everything else is printed with no more significant digits than float32 carries. A written-out step says "="
only when its shown operands give its shown result (``numbers.relation``), and the one division is printed
with the digits that make it reproduce (``numbers.division``).

Indices are 1-based like the book's: x^(2) is "journey". Coordinates are i = 1..d, tokens j = 1..T.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

import torch

from ..attention import QuerySteps
from ..limits import FLOAT_MAX, exp_overflow_threshold
from ..trace import CellTrace
from .markup import scroll_tables
from .numbers import as_latex, division, exact_sum, num, percent, relation, softmax_digits, to_decimal
from .tokens import token_code

# Dot products and sums longer than this are summarised: the first terms, "…", the last one.
EXPAND_MAX_TERMS = 8
_HEAD_TERMS = 3
# The walk-through's table lists this many keys, then folds the rest under "show all".
TABLE_MAX_KEYS = 16


def tex(value: float, dtype: str = "float32") -> str:
    """A number inside KaTeX."""
    return num(value, dtype=dtype, latex=True)


def dot_expansion(query_vector: torch.Tensor, key_vector: torch.Tensor, score: float) -> str:
    """``0.5500·0.4300 + 0.8700·0.1500 + 0.6600·0.8900 = 0.9544``, summarised past EXPAND_MAX_TERMS terms.

    "≈" instead of "=" when the products of the shown (rounded) coordinates do not add up to the shown score.

    >>> dot_expansion(torch.tensor([1.0, 2.0]), torch.tensor([3.0, -1.0]), 1.0)
    '1.0000·3.0000 + 2.0000·(-1.0000) = 1.0000'
    >>> dot_expansion(torch.tensor([0.33334, 0.33334]), torch.tensor([1.0, 1.0]), 0.66668)
    '0.3333·1.0000 + 0.3333·1.0000 ≈ 0.6667'
    """
    pairs = list(zip(query_vector.tolist(), key_vector.tolist()))
    long = len(pairs) > EXPAND_MAX_TERMS
    shown = pairs[:_HEAD_TERMS] + pairs[-1:] if long else pairs  # only what is printed gets formatted
    factors = [(num(a), num(b)) for a, b in shown]
    terms = [f"{_parenthesized(a)}·{_parenthesized(b)}" for a, b in factors]
    result = num(score)
    if long:
        return " + ".join(terms[:-1]) + f" + … + {terms[-1]} = {result} ({len(pairs)} products)"
    exact = sum((to_decimal(a) * to_decimal(b) for a, b in factors), Decimal(0))
    return " + ".join(terms) + f" {relation(exact, result)} {result}"


def _parenthesized(text: str) -> str:
    """A factor in a product: negatives in parentheses, so ``0.36·(-0.85)`` cannot be misread."""
    return f"({text})" if text.startswith("-") else text


def _sum_expansion(values: Sequence[float], total: str, dtype: str = "float64") -> str:
    """``a + b + c = total`` for KaTeX, summarised past EXPAND_MAX_TERMS terms; ``\\approx`` when the shown terms
    do not add up to the shown total. total: the sum as printed (plain text, not LaTeX)."""
    texts = [num(value, dtype=dtype) for value in values]
    items = [as_latex(text) for text in texts]
    if len(items) > EXPAND_MAX_TERMS:
        return " + ".join(items[:_HEAD_TERMS]) + r" + \dots + " + items[-1] + f" = {as_latex(total)}"
    sign = "=" if relation(exact_sum(texts), total) == "=" else r"\approx"
    return " + ".join(items) + f" {sign} {as_latex(total)}"


def overflow_words(steps: QuerySteps, dtype: str = "float32") -> str:
    """Why this row's naive softmax fails in ``dtype``, and what it gives, from the row's own numbers.

    Either an exponential overflows (exp(m) is inf: inf / inf is NaN), or each is finite and only their sum
    overflows (each weight is a finite number divided by inf: 0).
    """
    limit = exp_overflow_threshold(dtype)
    scaled = steps.scores if steps.temperature == 1.0 else steps.scores / steps.temperature  # (T,)
    infinite = int(torch.isinf(torch.exp(scaled)).sum())
    count = scaled.shape[0]
    naive = _naive_result(steps.naive)
    if infinite:
        which = {1: "the largest exponential overflows", count: "every exponential overflows"}.get(
            infinite, f"{infinite} of the {count} exponentials overflow"
        )
        return (
            rf"In {dtype}, \(\exp\) overflows above ≈ {limit:.2f}, and this row's largest exponent is "
            rf"\(m = {tex(steps.shift)}\): {which} to inf, and so does their sum. The naive softmax computes "
            f"inf / inf = NaN where an exponential is inf, and a finite number / inf = 0 elsewhere: here it gives "
            f"{naive}."
        )
    exp_sum = math.fsum(math.exp(value) for value in scaled.double().tolist())  # in float64: finite here
    return (
        rf"In {dtype}, \(\exp\) overflows above ≈ {limit:.2f}. This row's largest exponent, "
        rf"\(m = {tex(steps.shift)}\), is below that, so no exponential overflows; but their sum, "
        rf"\({tex(exp_sum, 'float64')}\), is beyond {dtype}'s largest number, "
        rf"\({tex(FLOAT_MAX[dtype], 'float64')}\), so it is inf. "
        f"The naive softmax divides each finite exponential by inf: here it gives {naive} (not NaN), and they sum "
        "to 0, not 1."
    )


def weight_digits(steps: QuerySteps) -> int:
    """The significant digits this row's float32 weights support (``numbers.softmax_digits``)."""
    largest = float(steps.scores.abs().max()) / steps.temperature
    return softmax_digits(largest, steps.scores.shape[0])


def _naive_result(naive: torch.Tensor) -> str:
    """``0 for all 3 weights``, ``NaN for 1 weight and 0 for the other 2``: what the naive softmax gave."""
    count = naive.shape[0]
    nans = int(torch.isnan(naive).sum())
    zeros = int((naive == 0).sum())
    other = count - nans - zeros
    if nans == count:
        return f"NaN for all {count} weights" if count > 1 else "NaN"
    if zeros == count:
        return f"0 for all {count} weights" if count > 1 else "0"
    parts = []
    if nans:
        parts.append(f"NaN for {nans} weight{'s' if nans != 1 else ''}")
    if zeros:
        parts.append(f"0 for {zeros}{' other' if nans else ''} weight{'s' if zeros != 1 else ''}")
    if other:
        parts.append(f"a finite nonzero weight for {other}")
    return " and ".join(parts)


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
    scores = steps.scores.tolist()
    limit = exp_overflow_threshold("float32")
    divided = "" if tau == 1.0 else r" divided by the temperature \(\tau = " + tex(tau, "float64") + r"\)"
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
        f"**3. Naive softmax** exponentiates each score{divided} and divides by the sum of the exponentials "
        "(the table's exponentials are computed here in float64, so every digit shown is correct; the naive "
        "softmax column is what float32 gives):",
        rf"$$\alpha_{{{note.ij('j')}}} = \frac{{\exp({note.exponent('j', shift=False)})}}"
        rf"{{\sum_{{k=1}}^{{{count}}} \exp({note.exponent('k', shift=False)})}}$$",
    ]
    if steps.overflows:
        lines.append(overflow_words(steps))
    else:
        largest = max(scores) / tau
        lines.append(
            rf"Here the largest exponent is {num(largest)}, below float32's limit ≈ {limit:.2f}, so no exponential "
            "overflows and the naive softmax is finite (try the normalization lab with 1, 2, 3, 400)."
        )
    lines += [
        "",
        r"**4. `torch.softmax`** subtracts the row's largest exponent \(m\) first, \(\exp(\omega - m)\): the factor "
        r"\(e^{-m}\) is in the numerator and in every term of the denominator, so it cancels, and no exponential "
        f"can overflow. {_agreement(steps)}",
        "",
        *_steps_table(tokens, inputs, steps, note),
        "",
    ]
    # The row sum is printed once, with the digits that make the division below reproduce.
    weight = num(float(steps.weights[0]), supported=weight_digits(steps))
    top, bottom, first = division(float(steps.exps[0]), steps.exp_sum, weight)
    float32_note = "" if first == weight else f" (the table's α, computed in float32, is {weight})"
    lines += [
        rf"$$\sum_{{k=1}}^{{{count}}} \exp({note.exponent('k')}) = {_sum_expansion(steps.exps.tolist(), bottom)}$$",
        rf"$$\text{{e.g. }}\alpha_{{{note.ij(1)}}} = \frac{{{as_latex(top)}}}{{{as_latex(bottom)}}} "
        rf"= {as_latex(first)}$$",
        f"Every weight is between 0 and 1{float32_note}, and they sum to "
        f"{num(float(steps.weights.double().sum()), supported=weight_digits(steps))}.",
        "",
        "**5. Context vector**, the weighted average of all inputs:",
        _context_formula(inputs, steps, note),
    ]
    if dim > EXPAND_MAX_TERMS:
        lines.append(f"All {dim} values of \\(z^{{({n})}}\\) are in the context-vector table.")
    return scroll_tables("\n".join(lines))


def _agreement(steps: QuerySteps) -> str:
    """How the naive softmax's column compares with ``torch.softmax``'s, measured on this row."""
    if steps.overflows:
        return "Here that is what makes the row's weights finite, where the naive softmax failed."
    difference = float((steps.naive.double() - steps.weights.double()).abs().max())
    if difference == 0.0:
        return "Here the two columns below are equal, bit for bit."
    return f"Here the two columns below differ by at most {difference:.1e}: float32 rounding only."


def _steps_table(tokens: Sequence[str], inputs: torch.Tensor, steps: QuerySteps, note: _Notation) -> list[str]:
    count = inputs.shape[0]
    q = steps.query
    digits = weight_digits(steps)
    header = [
        rf"| j | token | \(\omega_{{{note.ij('j')}}}\) | sum-normalized | \(\exp({note.exponent('j')})\) "
        rf"| naive softmax | \(\alpha_{{{note.ij('j')}}}\) (`torch.softmax`) |",
        "|---:|---|---|---:|---:|---:|---:|",
    ]

    def row(j: int) -> str:
        return (
            f"| {j + 1} | {token_code(tokens[j])} | {dot_expansion(inputs[q], inputs[j], float(steps.scores[j]))} "
            f"| {num(float(steps.sum_normalized[j]))} | {num(float(steps.exps[j]), dtype='float64')} "
            f"| {num(float(steps.naive[j]), supported=digits)} | {num(float(steps.weights[j]), supported=digits)} |"
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


def book_cells(query: int, *, temperature: float = 1.0) -> str:
    """The book's one-query cells (3.3.1), written for query ``query`` (0-based), as a Python code block.

    The names are the book's with the query's number (``attn_scores_2`` for query 2). At a temperature τ ≠ 1 the
    cells divide the scores by τ before both softmaxes, as the walk-through does, so they give its weights.
    """
    n = query + 1
    scores = f"attn_scores_{n}"
    scaled = scores if temperature == 1.0 else f"{scores} / tau"
    lines = [
        "```python",
        f"query = inputs[{query}]  # token {n} is the query",
        f"{scores} = torch.empty(inputs.shape[0])",
        "for i, x_i in enumerate(inputs):",
        f"    {scores}[i] = torch.dot(x_i, query)",
        "",
        f"attn_weights_{n}_tmp = {scores} / {scores}.sum()  # sum normalization",
    ]
    if temperature != 1.0:
        lines.append(f"tau = {float(temperature)!r}  # the temperature: softmax(ω / τ)")
    lines += [
        f"attn_weights_{n}_naive = torch.exp({scaled}) / torch.exp({scaled}).sum(dim=0)",
        f"attn_weights_{n} = torch.softmax({scaled}, dim=0)",
        "",
        f"context_vec_{n} = torch.zeros(query.shape)",
        "for i, x_i in enumerate(inputs):",
        f"    context_vec_{n} += attn_weights_{n}[i] * x_i",
        "```",
    ]
    return "\n".join(lines)


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
    weight = num(trace.weight, supported=weight_digits(steps))
    # Numerator and row sum get the digits that make the division reproduce with a calculator.
    top, bottom, quotient = division(trace.exp_value, steps.exp_sum, weight)
    score, tau_text, shift = num(trace.score), num(steps.temperature, dtype="float64"), num(steps.shift)
    argument = float(to_decimal(score)) / (1.0 if steps.temperature == 1.0 else float(to_decimal(tau_text)))
    exponent = tex(trace.score)
    if steps.temperature != 1.0:
        exponent += rf" / {as_latex(tau_text)}"
        lines.append(
            r"**Exponential** (in float64). The score is first divided by the temperature "
            rf"\(\tau = {as_latex(tau_text)}\)."
        )
    else:
        lines.append("**Exponential** (in float64, so every digit shown is correct):")
    if note.shifted:
        lines.append("")
        lines.append(
            overflow_words(steps) + " So every exponent is shifted by the row's largest, \\(m\\); the factor "
            r"\(e^{-m}\) cancels in the fraction below, so the weight is unchanged."
        )
        exponent += rf" - {as_latex(shift)}"
        argument -= float(to_decimal(shift))
    # "≈" when the exponential of the shown (rounded) exponent is not the shown value.
    sign = "=" if relation(Decimal(repr(math.exp(argument))), top) == "=" else r"\approx"
    share = f"{percent(weight)}%" if "e" not in weight else f"a share of {weight} (less than 0.01%)"
    lines += [
        "",
        rf"$$\exp({note.exponent(m)}) = \exp({exponent}) {sign} {as_latex(top)}$$",
        "",
        f"**Row sum.** The exponentials of {f'all {count} keys' if count > 1 else 'the only key'} of row {n}:",
        "",
        rf"$$\sum_{{j=1}}^{{{count}}} \exp({note.exponent('j')}) = "
        + (_sum_expansion(steps.exps.tolist(), bottom) if count > 1 else as_latex(bottom))
        + "$$",
        "",
        f"**Weight.** Key {m}'s share of the row sum, the softmax:",
        "",
        rf"$$\alpha_{{{note.ij(m)}}} = \frac{{\exp({note.exponent(m)})}}"
        rf"{{\sum_{{j=1}}^{{{count}}} \exp({note.exponent('j')})}} "
        rf"= \frac{{{as_latex(top)}}}{{{as_latex(bottom)}}} = {as_latex(quotient)}$$",
        "",
    ]
    if quotient != weight:
        lines += [
            f"(The matrix, computed in float32, holds {weight}: float32's rounding of the scores and exponentials "
            "moves that last digit; the division above is exact arithmetic on the float64 exponentials.)",
            "",
        ]
    lines.append(
        rf"This is entry ({n}, {m}) of the attention-weight matrix: token {n} {token_code(tokens[q])} gives "
        rf"{share} of its attention to token {m} {token_code(tokens[k])}."
    )
    return "\n".join(lines)
