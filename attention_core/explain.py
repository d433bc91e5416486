"""Markdown (with KaTeX between \\( \\) and $$ $$) that explains a run with its real numbers."""

from __future__ import annotations

import html
import math
from typing import Sequence

import torch

from .attention import QuerySteps, SelfAttention, self_attention, self_attention_loops
from .normalization import exp_overflow_threshold
from .tokens import visible_token

# Expansions longer than this are summarised rather than written out term by term.
EXPAND_MAX_TERMS = 8


def num(value: float) -> str:
    """A number at 4 decimals, or in scientific notation when 4 decimals would hide it.

    >>> num(0.95441), num(5.5e34), num(0.0)
    ('0.9544', '5.5000e+34', '0.0000')
    """
    value = float(value)
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    if value == 0 or 1e-4 <= abs(value) < 1e6:
        return f"{value:.4f}"
    return f"{value:.4e}"


def token_html(piece: str) -> str:
    """A token piece as inline code that is safe inside Markdown tables and HTML."""
    text = html.escape(visible_token(piece)).replace("|", "&#124;").replace("$", "&#36;").replace("\\", "&#92;")
    return f"<code>{text}</code>"


def vector(values: torch.Tensor | Sequence[float], limit: int = EXPAND_MAX_TERMS) -> str:
    """``[0.4300, 0.1500, …]`` with at most ``limit`` entries written out."""
    items = [num(v) for v in (values.tolist() if isinstance(values, torch.Tensor) else values)]
    if len(items) > limit:
        return "[" + ", ".join(items[:limit]) + f", … ({len(items)} values)]"
    return "[" + ", ".join(items) + "]"


def dot_product_terms(query_vector: torch.Tensor, key_vector: torch.Tensor, result: float) -> str:
    """``0.55·0.43 + 0.87·0.15 + 0.66·0.89 = 0.9544`` (summarised when d is large)."""
    dim = query_vector.shape[0]
    if dim > EXPAND_MAX_TERMS:
        return f"sum of {dim} products = {num(result)}"
    terms = " + ".join(f"{_factor(a)}·{_factor(b)}" for a, b in zip(query_vector.tolist(), key_vector.tolist()))
    return f"{terms} = {num(result)}"


def _factor(value: float) -> str:
    """A factor in a product: negatives in parentheses, so ``0.36·(-0.85)`` cannot be misread."""
    text = num(value)
    return f"({text})" if text.startswith("-") else text


def query_walkthrough(tokens: Sequence[str], inputs: torch.Tensor, steps: QuerySteps) -> str:
    """The chapter 3.3 lecture for one query token, with this run's numbers in correct formulas."""
    q = steps.query
    n = q + 1  # the book counts tokens from 1: x^(2) is "journey"
    count, dim = inputs.shape
    shifted = steps.shift != 0.0

    def ij(j: object) -> str:
        # The book writes ω_21 for (2, 1); past 9 tokens "ω_210" would be ambiguous, so use a comma.
        return f"{n}{j}" if count < 10 else f"{n},{j}"

    tau = steps.temperature

    def arg(j: str) -> str:
        return rf"\omega_{{{ij(j)}}}" if tau == 1.0 else rf"\omega_{{{ij(j)}}}/\tau"

    def exp_of(j: str) -> str:
        return rf"\exp({arg(j)} - m)" if shifted else rf"\exp({arg(j)})"

    lines = [
        f"### Query {n}: {token_html(tokens[q])}",
        rf"The query is the input vector \(x^{{({n})}} = {_latex_vector(inputs[q])}\) (d = {dim}).",
        "",
        "**Step 1: attention scores.** Each score is the dot product of the query with one input:",
        rf"$$\omega_{{{ij('j')}}} = x^{{({n})}} \cdot x^{{(j)}} = \sum_{{k=1}}^{{{dim}}} x^{{({n})}}_k \, x^{{(j)}}_k$$",
        "",
    ]
    if tau != 1.0:
        lines += [
            rf"With temperature \(\tau = {num(tau)}\), each score is divided by \(\tau\) before the softmax: "
            r"\(\tau > 1\) flattens the row, \(\tau < 1\) sharpens it. (\(\tau = 1\) is the book's case.)",
            "",
        ]
    if shifted:
        largest = "score" if tau == 1.0 else r"scaled score \(\omega/\tau\)"
        lines += [
            rf"**Step 2: exponentials.** The largest {largest} is \(m = {num(steps.shift)}\). The exponentials (or their "
            rf"sum) would overflow float32, whose exp overflows above ≈ {exp_overflow_threshold('float32'):.2f}, so we "
            rf"compute \({exp_of('j')}\) instead. The factor \(e^{{-m}}\) is in every term of the fraction below and "
            "cancels, so the weights are exactly the same.",
            "",
        ]
    else:
        lines += [rf"**Step 2: exponentials** \({exp_of('j')}\), one per key:", ""]
    lines += [
        rf"| j | token | \(\omega_{{{ij('j')}}} = x^{{({n})}} \cdot x^{{(j)}}\) | \({exp_of('j')}\) | \(\alpha_{{{ij('j')}}}\) |",
        "|---:|---|---|---:|---:|",
    ]
    for j in range(count):
        lines.append(
            f"| {j + 1} | {token_html(tokens[j])} | {dot_product_terms(inputs[q], inputs[j], float(steps.scores[j]))} "
            f"| {num(steps.exps[j])} | {num(steps.weights[j])} |"
        )
    exps = steps.exps.tolist()
    expansion = " + ".join(num(e) for e in exps) if count <= EXPAND_MAX_TERMS else rf"\text{{(the {count} exponentials above)}}"
    lines += [
        "",
        "**Step 3: their sum** normalizes the row:",
        rf"$$\sum_{{k=1}}^{{{count}}} {exp_of('k')} = {expansion} = {num(steps.exp_sum)}$$",
        "",
        "**Step 4: attention weights** (softmax of the scores"
        + ("" if tau == 1.0 else r" divided by \(\tau\)")
        + "), each between 0 and 1:",
        rf"$$\alpha_{{{ij('j')}}} = \frac{{{exp_of('j')}}}{{\sum_{{k=1}}^{{{count}}} {exp_of('k')}}}"
        rf"\qquad\text{{e.g. }}\alpha_{{{ij(1)}}} = \frac{{{num(exps[0])}}}{{{num(steps.exp_sum)}}} = {num(steps.weights[0])}$$",
        f"The weights sum to {num(steps.weights.double().sum())}.",
        "",
        "**Step 5: context vector**, the weighted average of all inputs:",
    ]
    weights = steps.weights.tolist()
    head = rf"z^{{({n})}} &= \sum_{{j=1}}^{{{count}}} \alpha_{{{ij('j')}}} \, x^{{(j)}}"
    if count <= EXPAND_MAX_TERMS and dim <= 4:
        # One term per line: six 3-vectors side by side do not fit a page.
        terms = r" \\ &\quad + ".join(f"{num(w)}\\,{_latex_vector(inputs[j])}" for j, w in enumerate(weights))
        body = rf"{head} \\ &= {terms} \\ &= {_latex_vector(steps.context)}"
    else:
        body = (
            rf"{head} = \alpha_{{{ij(1)}}} x^{{(1)}} + \dots + \alpha_{{{ij(count)}}} x^{{({count})}} "
            rf"\\ &= {_latex_vector(steps.context)}"
        )
    lines.append(rf"$$\begin{{aligned}} {body} \end{{aligned}}$$")
    if dim > EXPAND_MAX_TERMS:
        lines.append(f"All {dim} values of \\(z^{{({n})}}\\) are in the context-vector table.")
    return "\n".join(lines)


def _latex_vector(values: torch.Tensor) -> str:
    items = [num(v) for v in values.tolist()]
    if len(items) > EXPAND_MAX_TERMS:
        items = items[:EXPAND_MAX_TERMS] + [r"\dots"]
    return r"[" + ",\\ ".join(items) + r"]"


def self_match_markdown(tokens: Sequence[str], attention: SelfAttention) -> str:
    """How often each token's largest score is with itself, shown on the diagonal's real numbers."""
    scores = attention.scores
    count = scores.shape[0]
    diagonal = scores.diagonal()
    if count > 1:
        masked = scores.clone()
        masked.fill_diagonal_(float("-inf"))
        best_other, best_index = masked.max(dim=1)
        wins = diagonal >= best_other
    else:
        best_other, best_index = diagonal, torch.zeros(1, dtype=torch.long)
        wins = torch.ones(1, dtype=torch.bool)
    lines = [
        f"**{int(wins.sum())} of {count} tokens** have their largest score with themselves "
        r"(\(\omega_{ii} = \lVert x^{(i)} \rVert^2\), the diagonal of the heatmap).",
        "",
        r"| i | token | \(\omega_{ii}\) (self) | largest other score | with | self wins? |",
        "|---:|---|---:|---:|---|:---:|",
    ]
    shown = min(count, 32)
    for i in range(shown):
        other = "—" if count == 1 else num(best_other[i])
        partner = "—" if count == 1 else token_html(tokens[int(best_index[i])])
        lines.append(
            f"| {i + 1} | {token_html(tokens[i])} | {num(diagonal[i])} | {other} | {partner} | {'yes' if wins[i] else 'no'} |"
        )
    if shown < count:
        lines.append(f"| … | ({count - shown} more rows) | | | | |")
    return "\n".join(lines)


def self_match_count(scores: torch.Tensor) -> int:
    """How many rows of ``scores`` (T, T) have their maximum on the diagonal (a tie with a twin counts)."""
    return int((scores.diagonal() >= scores.max(dim=1).values).sum())


def self_match_by_dim_markdown(text: str, seed: int, rows: Sequence[tuple[int, int, int]]) -> str:
    """A table of (dim, tokens whose best match is themselves, tokens) for one sentence."""
    lines = [
        f"*{html.escape(text)}* with the seeded random table (seed {seed}):",
        "",
        "| dimension d | tokens whose largest score is with themselves |",
        "|---:|---|",
    ]
    lines += [f"| {dim} | {wins} of {count} |" for dim, wins, count in rows]
    lines += [
        "",
        "The more dimensions, the closer to orthogonal two random vectors are, while a vector's score with itself "
        "grows like d: the diagonal almost always wins.",
    ]
    return "\n".join(lines)


def timings_markdown(inputs: torch.Tensor, loops_seconds: float, matrix_seconds: float, max_difference: float) -> str:
    """The loops-vs-matrices comparison in words."""
    count, dim = inputs.shape
    ratio = loops_seconds / matrix_seconds if matrix_seconds > 0 else float("inf")
    speed = f"{ratio:,.3g}× faster" if ratio >= 1 else f"{1 / ratio:,.3g}× slower"
    return (
        f"On this input (T = {count} tokens, d = {dim}), the loop version took **{loops_seconds * 1e3:.2f} ms** and the "
        f"matrix version **{matrix_seconds * 1e3:.3f} ms** ({speed}). The largest absolute difference "
        f"between their context vectors is **{max_difference:.2e}**: the same numbers up to float32 rounding."
    )


def compare_implementations(inputs: torch.Tensor) -> tuple[float, float, float]:
    """Time both versions on ``inputs`` and return (loops_seconds, matrix_seconds, max_abs_difference)."""
    import time

    self_attention(inputs)  # warm-up: the first call pays for allocations the loops never see
    start = time.perf_counter()
    loops = self_attention_loops(inputs)
    loops_seconds = time.perf_counter() - start
    matrix_seconds = float("inf")
    for _ in range(5):  # best of 5: the matrix version is too quick for one reading
        start = time.perf_counter()
        matrix = self_attention(inputs)
        matrix_seconds = min(matrix_seconds, time.perf_counter() - start)
    difference = float((loops.context - matrix.context).abs().max())
    return loops_seconds, matrix_seconds, difference


def token_chips_html(tokens: Sequence[str], ids: Sequence[int] | None) -> str:
    """Every token as a chip with its id: spaces as ␣, byte fragments of split UTF-8 marked."""
    chips = []
    for index, piece in enumerate(tokens):
        shown = html.escape(visible_token(piece)) or "∅"
        fragment = "\\x" in piece
        classes = "tok-chip tok-bytes" if fragment else "tok-chip"
        title = f"token {index + 1}" + (f", id {ids[index]}" if ids is not None else "")
        if fragment:
            title += ": part of a UTF-8 character split across tokens (bytes shown as \\xNN)"
        token_id = f"<span class='tok-id'>{ids[index]}</span>" if ids is not None else ""
        chips.append(f"<span class='{classes}' title='{html.escape(title)}'>{shown}{token_id}</span>")
    count = len(tokens)
    return f"<div class='tok-row'><span class='tok-count'>{count} token{'s' if count != 1 else ''}:</span> " + "".join(chips) + "</div>"


def matrix_rows(tokens: Sequence[str], matrix: torch.Tensor, max_columns: int) -> tuple[list[str], list[list[str]]]:
    """Headers and rows for a table with a token column and the matrix at 4 decimals (at most max_columns)."""
    shown = min(matrix.shape[1], max_columns)
    headers = ["#", "token"] + [f"d{k + 1}" for k in range(shown)]
    values = matrix[:, :shown].tolist()
    rows = [[str(i + 1), visible_token(tokens[i])] + [num(v) for v in row] for i, row in enumerate(values)]
    return headers, rows


def temperature_markdown(scores: torch.Tensor, temperature: float, dim: int) -> str:
    """How τ in softmax(ω / τ) sharpens or flattens this run's rows, against τ = 1 and τ = √d."""
    from .attention import attention_weights

    def sharpness(tau: float) -> tuple[float, float]:
        weights = attention_weights(scores, temperature=tau).double()  # (T, T)
        entropy = -(weights * torch.log(weights.clamp_min(1e-300))).sum(dim=-1)  # (T,) in nats
        return float(weights.max(dim=-1).values.mean()), float(entropy.mean())

    count = scores.shape[0]
    root = dim**0.5
    rows = [("τ = 1 (the book)", 1.0), (f"τ = √d = {root:.4g} (scaled dot-product attention)", root)]
    if temperature not in (1.0, root):
        rows.insert(0, (f"τ = {temperature:g} (this run)", temperature))
    lines = [
        r"Weights are \(\alpha = \operatorname{softmax}(\omega / \tau)\). **τ > 1 flattens** each row toward the uniform "
        rf"\(1/T = {1 / count:.4f}\); **τ < 1 sharpens** it toward the largest score. Section 3.4 divides by "
        rf"\(\sqrt{{d}}\) (here \(\sqrt{{{dim}}} = {root:.4g}\)) so that long vectors do not make softmax one-hot.",
        "",
        "| temperature | mean largest weight per row | mean row entropy (nats; uniform = "
        f"{math.log(count):.4f}) |",
        "|---|---:|---:|",
    ]
    for label, tau in rows:
        top, entropy = sharpness(tau)
        lines.append(f"| {label} | {top:.4f} | {entropy:.4f} |")
    return "\n".join(lines)
