"""The lecture, step by step: the chapter's order, in the app's own words, with the numbers of the run it describes.

``lecture_step(run, number)`` builds one step: a title, Markdown with KaTeX, what the live matrix highlights (and
whether it shows scores or weights), an optional figure, and a question to answer before the numbers that decide it
are shown. Questions are computed from the run, never typed in, so they stay true on the learner's own sentence;
``reveal`` says whether a choice was right, with the numbers that decide it.

The run is an ``Attended`` at τ = 1 (the lecture's softmax; the page recomputes at τ = 1 when the run had another).
Positions are 0-based here and counted from 1 in every text. Every number goes through ``numbers.num``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import torch

from ..attention import row_steps, self_attention_loops
from ..limits import exp_overflow_threshold
from ..sweeps import ONE_HOT, alignment, dimension_sweep, one_hot_rows, seed_sweep
from ..tokens import visible_token
from .markup import code_block, scroll_tables
from .numbers import num
from .tokens import inert, token_code
from .walkthrough import dot_expansion, latex_vector, tex

if TYPE_CHECKING:
    from ..pipeline import Attended

STEP_TITLES = (
    "The sentence",
    "Tokens and their ids",
    "Embeddings",
    "The query",
    "Scores: how aligned two vectors are",
    "Sum normalization",
    "Naive softmax",
    "torch.softmax",
    "The context vector",
    "All scores: loops, then one matrix product",
    "All weights: each row sums to 1",
    "All context vectors",
    "Is this attention meaningful?",
    "Why trainable weights come next",
)
STEP_COUNT = len(STEP_TITLES)

# The lecture's own example for the last steps, and the sweeps run on it.
CAT_SENTENCE = "The cat sat on the mat because it is warm"
CAT_QUERY, CAT_KEY = 9, 5  # " warm", " mat"
SWEEP_SEEDS = tuple(range(20))
SWEEP_DIMS = (3, 16, 64, 256, 768)
DIMENSION_SEEDS = tuple(range(5))  # a d = 768 table is 38.6 million draws: five seeds cost a few seconds, once
# A run is called "nearly all one-hot" when at least this share of its rows are.
NEARLY_ALL = 0.9
# Lists of numbers in a text stop after this many entries.
SHOWN = 8
# Loops are timed against the matrix product on at most this many tokens (T² torch.dot calls).
LOOP_TOKENS = 32

LEARN_ID = "learn"  # the elem_id of the "Watch the weights learn" panel the last step links to


@dataclass(frozen=True)
class Question:
    """A radio-group question: ``choices`` as plain text (never markup), the index of the right one, and ``why``
    (Markdown), the run's numbers that decide it."""

    prompt: str
    choices: tuple[str, ...]
    answer: int
    why: str


@dataclass(frozen=True)
class Highlight:
    """What the live matrix highlights: whole rows, whole columns, single cells (0-based)."""

    rows: tuple[int, ...] = ()
    cols: tuple[int, ...] = ()
    cells: tuple[tuple[int, int], ...] = ()

    def as_json(self) -> dict:
        return {"rows": list(self.rows), "cols": list(self.cols), "cells": [list(cell) for cell in self.cells]}


@dataclass(frozen=True)
class Step:
    """One step of the lecture. number: 1-based. view: what the matrix colours ("scores" or "weights").
    figure: SVG markup (``vectors.aligned_figure``) or ""."""

    number: int
    title: str
    markdown: str
    highlight: Highlight
    view: Literal["scores", "weights"]
    question: Question | None = None
    figure: str = ""
    total: int = field(default=STEP_COUNT)

    @property
    def heading(self) -> str:
        return f"Step {self.number} of {self.total}: {self.title}"


def reveal(question: Question, choice: int | None) -> str:
    """Whether ``choice`` (an index into the choices) was right, and why, in Markdown."""
    if choice is None or not 0 <= choice < len(question.choices):
        return ""
    right = question.choices[question.answer]
    if choice == question.answer:
        return f"**Right: {inert(right)}.** {question.why}"
    return f"**Not quite: the answer is {inert(right)}.** {question.why}"


def check_step(number: object) -> int:
    """A step number from 1 to STEP_COUNT (a link's or a button's); anything else is step 1.

    >>> check_step("3"), check_step(99), check_step("x")
    (3, 14, 1)
    """
    try:
        value = int(str(number).strip())
    except ValueError:
        return 1
    return min(STEP_COUNT, max(1, value))


# --- helpers ---------------------------------------------------------------------------------------


class _Run:
    """What every step needs from the run: tokens, inputs, the matrices, the query q and the key k it traces."""

    def __init__(self, run: Attended) -> None:
        attention = run.attention
        self.run = run
        self.tokens = run.tokens
        self.inputs, self.scores, self.weights, self.context = (
            attention.inputs,
            attention.scores,
            attention.weights,
            attention.context,
        )
        self.count, self.dim = self.inputs.shape
        self.q = 1 if self.count > 1 else 0
        self.n = self.q + 1
        self.steps = row_steps(attention, self.q)
        row = self.scores[self.q].clone()
        if self.count > 1:
            row[self.q] = float("-inf")
        self.k = int(row.argmax())  # the query's best other key (itself when it is the only token)

    def tok(self, i: int) -> str:
        """Token i as inert inline code with its position: ``<code>␣journey</code> (2)``."""
        return f"{token_code(self.tokens[i])} ({i + 1})"

    def plain(self, i: int) -> str:
        """Token i as plain text, for a radio choice (never read as markup)."""
        return f"{visible_token(self.tokens[i])} (token {i + 1})"

    def ij(self, i: int | str, j: int | str) -> str:
        """A subscript: ω_{23} as in the book, ω_{2,3} past 9 tokens."""
        return f"{i}{j}" if self.count < 10 else f"{i},{j}"


def _values(values: Sequence[float], dtype: str = "float32") -> str:
    """``0.9544, 1.4950, …`` with at most SHOWN entries."""
    shown = ", ".join(num(v, dtype=dtype) for v in values[:SHOWN])
    return shown + (f", … ({len(values)} in all)" if len(values) > SHOWN else "")


def _six(value: float) -> str:
    """A float64 length or cosine at 6 decimals, in KaTeX: enough that their product gives the score's 4."""
    return num(value, dtype="float64", decimals=6, latex=True)


def _candidates(values: Sequence[float], *, include: Sequence[int] = (), limit: int = 5) -> list[int]:
    """Up to ``limit`` positions for a choice list: all when few, else the largest, the second, the smallest and
    ``include``, in position order."""
    count = len(values)
    if count <= limit:
        return list(range(count))
    order = sorted(range(count), key=lambda j: -values[j])
    picked = {order[0], order[1], order[-1], *include}
    for j in order[2:]:
        if len(picked) >= limit:
            break
        picked.add(j)
    return sorted(picked)


def _ordinal(rank: int) -> str:
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix}"


def one_hot_note(weights: torch.Tensor) -> str | None:
    """A sentence for beside the matrix when nearly all rows of ``weights`` (T, T) are one-hot, else None.

    >>> one_hot_note(torch.eye(3)).split(":")[0]
    '3 of 3 rows are one-hot (largest weight above 0.99)'
    """
    count = weights.shape[0]
    rows = one_hot_rows(weights)
    if count < 2 or rows < NEARLY_ALL * count:
        return None
    top = weights.argmax(dim=-1)  # (T,)
    peaked = weights.max(dim=-1).values > ONE_HOT  # (T,)
    selves = int((peaked & (top == torch.arange(count))).sum())
    return (
        f"{rows} of {count} rows are one-hot (largest weight above {ONE_HOT}): those tokens attend almost only to one "
        f"token, {selves} of them to themselves. Random vectors with many dimensions match mostly themselves "
        f"(see the Lecture tab, step {STEP_TITLES.index('Is this attention meaningful?') + 1})."
    )


# --- the steps -------------------------------------------------------------------------------------


def _sentence(r: _Run) -> Step:
    if r.run.ids is not None:
        text = "".join(r.tokens).replace("\n", " ")
        shown = inert(text[:300]) + ("…" if len(text) > 300 else "")
    else:
        shown = " ".join(token_code(t) for t in r.tokens[:32]) + (" …" if r.count > 32 else "")
    markdown = "\n".join(
        [
            f"> {shown}",
            "",
            "Self-attention turns each token's embedding into a **context vector**: the same kind of vector, "
            "enriched with how that token relates to every other token of the sentence. This lecture computes one "
            "context vector by hand, then all of them at once, and ends with what attention without trainable "
            "weights cannot do.",
            "",
            "The goal, for every token i of the T tokens:",
            r"$$z^{(i)} = \sum_{j=1}^{T} \alpha_{ij} \, x^{(j)} = \alpha_{i1} x^{(1)} + \alpha_{i2} x^{(2)} + \dots$$",
            r"a weighted sum of all the inputs \(x^{(j)}\), with **attention weights** \(\alpha_{ij}\) that say how "
            "much token i attends to token j. The matrix beside this text shows the scores they are made from, then "
            "(from step 7) the weights themselves; each step points at the part it explains.",
        ]
    )
    return Step(1, STEP_TITLES[0], markdown, Highlight(), "scores")


def _tokens(r: _Run) -> Step:
    limit = 16
    if r.run.ids is not None:
        pairs = ", ".join(f"{token_code(t)} → {i}" for t, i in zip(r.tokens[:limit], r.run.ids[:limit]))
        about = (
            "GPT-2's byte-pair encoder splits the text into pieces: whole words, parts of words, or single bytes. "
            "A piece usually carries its leading space (␣). Each piece has an id in the vocabulary of 50,257:"
        )
    else:
        pairs = ", ".join(token_code(t) for t in r.tokens[:limit])
        about = "This table labels its rows itself, so these tokens have no GPT-2 ids:"
    more = f", … ({r.count} tokens in all)" if r.count > limit else ""
    markdown = "\n".join([about, "", pairs + more, "", f"T = {r.count} tokens."])
    d, t = r.dim, r.count
    choices = (
        f"{t} × {d}: a row per token, a column per dimension",
        f"{t} × {t}: a row per token, a column per token",
        f"{d} × {d}: a row and a column per dimension",
    )
    why = (
        f"Every token, as a query, is scored against every token as a key, itself included: {t} × {t} = {t * t} "
        f"numbers. The {d} dimensions of the embeddings are summed away inside each dot product."
    )
    question = Question("How many rows and columns will the attention matrix have?", choices, 1, why)
    return Step(2, STEP_TITLES[1], markdown, Highlight(), "scores", question)


def _embeddings(r: _Run) -> Step:
    rows = min(r.count, SHOWN)
    cols = min(r.dim, 6)
    header = "| i | token | " + " | ".join(f"x_{c + 1}" for c in range(cols)) + (" | … |" if r.dim > cols else " |")
    lines = [header, "|---:|---|" + "---:|" * cols + ("---|" if r.dim > cols else "")]
    for i in range(rows):
        values = " | ".join(num(float(v)) for v in r.inputs[i, :cols].tolist())
        lines.append(f"| {i + 1} | {token_code(r.tokens[i])} | {values} |" + (" … |" if r.dim > cols else ""))
    if r.count > rows:
        lines.append(f"| … | ({r.count - rows} more) | " + " | ".join("" for _ in range(cols)) + " |")
    if r.run.source == "random":
        honest = (
            f"**These vectors are random.** The app draws them as `torch.manual_seed({r.run.seed}); "
            f"torch.nn.Embedding(50257, {r.dim})`, a table no training has touched, so they carry no meaning: "
            "which tokens come out close is chance. Trained GPT-2 embeddings would place related words in related "
            "directions; that is the sense in which the lecture says embeddings capture meaning."
        )
    elif tuple(r.inputs.shape) == (6, 3):
        honest = (
            "**These are the book's numbers**, chosen by hand for the example, not learned: no training produced "
            "them, so any closeness between two words here is how the example was written."
        )
    else:
        honest = "**This is your own table**: its vectors mean whatever you put into them."
    markdown = "\n".join(
        [
            rf"Each token id picks one row of an embedding table: a vector \(x^{{(i)}} \in \mathbb{{R}}^{{d}}\), "
            f"here with d = {r.dim} numbers.",
            "",
            *lines,
            "",
            honest,
        ]
    )
    return Step(3, STEP_TITLES[2], scroll_tables(markdown), Highlight(), "scores")


def _query(r: _Run) -> Step:
    n = r.n
    markdown = "\n".join(
        [
            f"Take token {n}, {r.tok(r.q)}, as the **query**: the token that asks which others matter to it. "
            f"Its vector is \\(x^{{({n})}} = {latex_vector(r.inputs[r.q])}\\).",
            "",
            f"The next steps compute row {n} of the matrix (highlighted): one score and one weight for each key j, "
            f"then the context vector",
            rf"$$z^{{({n})}} = \alpha_{{{r.ij(n, 1)}}} x^{{(1)}} + \alpha_{{{r.ij(n, 2)}}} x^{{(2)}} + \dots + "
            rf"\alpha_{{{r.ij(n, 'T')}}} x^{{(T)}}$$",
        ]
    )
    weights = r.weights[r.q].tolist()
    keys = _candidates(weights, include=(r.q,))
    best = max(keys, key=lambda j: weights[j])
    ranked = sorted(range(r.count), key=lambda j: -weights[j])
    runner = ranked[1] if r.count > 1 else ranked[0]
    why = (
        f"Row {n}'s largest weight is \\(\\alpha_{{{r.ij(n, best + 1)}}} = {num(weights[best])}\\), for {r.tok(best)}"
        + (f"; next comes {r.tok(runner)} with {num(weights[runner])}." if r.count > 1 else ", the only key.")
        + " Softmax keeps the order of the scores, so it is also the key with the largest score."
    )
    question = Question(
        f"Which key will query {n} attend to most?",
        tuple(r.plain(j) for j in keys),
        keys.index(best),
        why,
    )
    return Step(4, STEP_TITLES[3], markdown, Highlight(rows=(r.q,)), "scores", question)


def _scores(r: _Run) -> Step:
    from .vectors import aligned_figure  # the only figure of the lecture: loaded with its step

    n, q, k = r.n, r.q, r.k
    m = k + 1
    scores = r.scores[q].tolist()
    pair = alignment(r.inputs[q], r.inputs[k])
    own = alignment(r.inputs[q], r.inputs[q])
    reach = pair.norm_b * pair.cosine  # how far x^(k) reaches along x^(q)
    diagonal_wins = own.score >= pair.score
    lines = [
        "Each **attention score** is a dot product of the query with one input, the key:",
        rf"$$\omega_{{{r.ij(n, 'j')}}} = x^{{({n})}} \cdot x^{{(j)}} = "
        rf"\sum_{{i=1}}^{{d}} x^{{({n})}}_i \, x^{{(j)}}_i$$",
        f"Row {n}: {_values(scores)}.",
        "",
        f"For key {r.tok(k)}, the query's highest-scoring other key: "
        f"{dot_expansion(r.inputs[q], r.inputs[k], scores[k])}.",
        "",
        r"The dot product measures **how aligned** two vectors are, scaled by how long they are: "
        r"\(a \cdot b = \lVert a \rVert \, \lVert b \rVert \cos\theta\), where \(\cos\theta\) is 1 for the same "
        "direction, 0 at a right angle and −1 for opposite directions. Here (lengths and cosine computed in "
        "float64 from the float32 inputs):",
        rf"$$\omega_{{{r.ij(n, m)}}} = \lVert x^{{({n})}} \rVert \, \lVert x^{{({m})}} \rVert \cos\theta = "
        rf"{_six(pair.norm_a)} \cdot {_six(pair.norm_b)} \cdot {_six(pair.cosine)} "
        rf"= {tex(pair.score)}$$",
        rf"with \(\theta = {num(pair.degrees, decimals=1)}^\circ\). The query's score with itself has "
        rf"\(\cos\theta = 1\): \(\omega_{{{r.ij(n, n)}}} = \lVert x^{{({n})}} \rVert^2 = {tex(own.score)}\).",
        "",
    ]
    if k == q:
        lines.append("With a single token, the query's only key is itself.")
    elif diagonal_wins:
        lines.append(
            rf"So the query beats key {m} with itself exactly when \(\lVert x^{{({m})}} \rVert \cos\theta\) "
            rf"(how far the key reaches along the query, {num(reach)}) is at most \(\lVert x^{{({n})}} \rVert\) "
            f"({num(own.norm_a)}). Here it is, so token {n}'s top score is its own."
        )
    else:
        lines.append(
            rf"So the query beats key {m} with itself exactly when \(\lVert x^{{({m})}} \rVert \cos\theta\) "
            rf"(how far the key reaches along the query, {num(reach)}) is at most \(\lVert x^{{({n})}} \rVert\) "
            f"({num(own.norm_a)}). Here it is not: key {m} is long enough, and aligned enough, to score higher."
        )
    figure = aligned_figure(r.inputs[q], r.inputs[k], query=q, key=k, tokens=r.tokens) if r.dim <= 3 else ""
    if not figure:
        lines += ["", f"(With d = {r.dim}, the two vectors are not drawn: the picture is for d = 2 or 3.)"]
    # The question looks ahead: sum normalization divides this row by its sum.
    shares = r.steps.sum_normalized.tolist()
    inside = all(0.0 <= s <= 1.0 for s in shares)
    low, high = min(shares), max(shares)
    total = float(r.steps.scores.double().sum())
    if inside:
        why = (
            f"Every score of row {n} is positive (the smallest is {num(min(scores))}), so dividing each by their "
            f"sum {num(total)} gives shares between 0 and 1: here from {num(low)} to {num(high)}."
        )
    else:
        why = (
            f"Row {n}'s scores run from {num(min(scores))} to {num(max(scores))}, and their sum is {num(total)}: "
            f"dividing by it gives “weights” from {num(low)} to {num(high)}, outside 0 to 1."
        )
    question = Question(
        f"Next, sum normalization divides each score of row {n} by the row's sum. Will every weight stay between "
        "0 and 1?",
        ("Yes", "No"),
        0 if inside else 1,
        why,
    )
    highlight = Highlight(cells=((q, k), (q, q)) if k != q else ((q, q),))
    return Step(5, STEP_TITLES[4], "\n".join(lines), highlight, "scores", question, figure)


def _sum_normalization(r: _Run) -> Step:
    n = r.n
    steps = r.steps
    shares = steps.sum_normalized.tolist()
    limit = exp_overflow_threshold("float32")
    largest = float(steps.scores.max())
    markdown = "\n".join(
        [
            "The simplest way to turn scores into weights: divide each by the row's sum.",
            rf"$$\alpha'_{{{r.ij(n, 'j')}}} = \frac{{\omega_{{{r.ij(n, 'j')}}}}}{{\sum_{{k=1}}^{{T}} "
            rf"\omega_{{{r.ij(n, 'k')}}}}}$$",
            f"Row {n}: {_values(shares)}; they sum to {num(float(steps.sum_normalized.double().sum()))}.",
            "",
            "Weights that sum to 1 can be read as shares of attention, which is why the chapter normalizes. "
            "But nothing keeps them between 0 and 1: a negative score gives a negative share. Softmax, next, keeps "
            "every weight between 0 and 1 whatever the signs of the scores.",
        ]
    )
    why = f"Row {n}'s largest score is {num(largest)}. In float32, \\(e^x\\) is finite only up to x ≈ {limit:.2f}" + (
        "; here an exponential (or their sum) is inf, and inf / inf is NaN."
        if steps.overflows
        else ", so every \\(e^{\\omega}\\) of this row is finite, and so is their sum."
    )
    question = Question(
        f"Next, naive softmax takes the exponential of each score of row {n} in float32. Will it overflow?",
        ("Yes: some exponential is infinite", "No: every exponential is finite"),
        0 if steps.overflows else 1,
        why,
    )
    return Step(6, STEP_TITLES[5], markdown, Highlight(rows=(r.q,)), "scores", question)


def _naive_softmax(r: _Run) -> Step:
    n = r.n
    steps = r.steps
    limit = exp_overflow_threshold("float32")
    lines = [
        "Softmax exponentiates every score, then divides by the sum of the exponentials:",
        rf"$$\alpha_{{{r.ij(n, 'j')}}} = \frac{{e^{{\omega_{{{r.ij(n, 'j')}}}}}}}{{\sum_{{k=1}}^{{T}} "
        rf"e^{{\omega_{{{r.ij(n, 'k')}}}}}}} = "
        rf"\frac{{e^{{\omega_{{{r.ij(n, 'j')}}}}}}}{{e^{{\omega_{{{r.ij(n, 1)}}}}} + "
        rf"e^{{\omega_{{{r.ij(n, 2)}}}}} + \dots + e^{{\omega_{{{r.ij(n, 'T')}}}}}}}$$",
        "Every exponential is positive, so every weight is between 0 and 1, and they sum to 1, whatever the signs of "
        "the scores; a larger score never gets a smaller weight.",
        "",
    ]
    if steps.overflows:
        lines.append(
            f"On row {n} the largest score is {num(float(steps.scores.max()))}, above float32's limit ≈ {limit:.2f} "
            "for \\(e^x\\): the naive version gives " + _values(steps.naive.tolist()) + ". The next step fixes it."
        )
    else:
        lines += [
            f"Row {n}'s exponentials (in float64): {_values(steps.exps.tolist(), 'float64')}; "
            f"their sum is {num(steps.exp_sum, dtype='float64')}.",
            "",
            f"Weights: {_values(steps.naive.tolist())}.",
        ]
        top = int(steps.scores.argmax())
        lines += [
            "",
            f"The largest score, key {r.tok(top)}, gets {num(float(steps.naive[top]))} here, against "
            f"{num(float(steps.sum_normalized[top]))} from sum normalization.",
        ]
    return Step(7, STEP_TITLES[6], "\n".join(lines), Highlight(rows=(r.q,)), "weights")


def _torch_softmax(r: _Run) -> Step:
    n = r.n
    steps = r.steps
    m = float(steps.scores.max())
    lines = [
        "`torch.softmax(attn_scores_2, dim=0)` computes the same weights, but first subtracts the row's largest "
        "score m:",
        rf"$$\alpha_{{{r.ij(n, 'j')}}} = \frac{{e^{{\omega_{{{r.ij(n, 'j')}}} - m}}}}{{\sum_{{k=1}}^{{T}} "
        rf"e^{{\omega_{{{r.ij(n, 'k')}}} - m}}}}, \qquad m = \max_k \omega_{{{r.ij(n, 'k')}}} = {tex(m)}$$",
        r"The factor \(e^{-m}\) is in the numerator and in every term of the denominator, so it cancels: the weights "
        "are unchanged, but every exponent is now at most 0, so no exponential can overflow.",
        "",
        f"Row {n}: {_values(steps.weights.tolist())}; they sum to {num(float(steps.weights.double().sum()))}.",
    ]
    if not steps.overflows:
        difference = float((steps.weights.double() - steps.naive.double()).abs().max())
        lines += [
            "",
            "The largest difference from the naive version on this row is "
            + ("0: the same float32 numbers." if difference == 0 else f"{difference:.1e}, float32 rounding.")
            + " Matrix rows are normalized the same way (`dim=-1`).",
        ]
    return Step(8, STEP_TITLES[7], "\n".join(lines), Highlight(rows=(r.q,)), "weights")


def _context(r: _Run) -> Step:
    n, q = r.n, r.q
    weights = r.weights[q].tolist()
    first = [float(r.inputs[j, 0]) for j in range(r.count)]
    terms = " + ".join(f"{num(w)} \\cdot {num(x)}" for w, x in list(zip(weights, first))[:4])
    if r.count > 4:
        terms += r" + \dots"
    low, high = r.inputs.min(dim=0).values, r.inputs.max(dim=0).values  # (d,), (d,)
    inside = bool(((r.context[q] >= low) & (r.context[q] <= high)).all())
    lines = [
        f"The context vector of token {n} is the weighted sum of all inputs, with row {n}'s weights:",
        rf"$$z^{{({n})}} = \sum_{{j=1}}^{{T}} \alpha_{{{r.ij(n, 'j')}}} \, x^{{(j)}} = {latex_vector(r.context[q])}$$",
        rf"Its first coordinate: \(z^{{({n})}}_1 = {terms} = {tex(float(r.context[q, 0]))}\).",
        "",
        "The weights are at least 0 and sum to 1, so this is a weighted **average**: each coordinate lies between the "
        "smallest and the largest of the inputs' coordinates" + (" (true here for all of them)." if inside else "."),
    ]
    # The question looks ahead: step 10 computes every score, and ω is symmetric.
    k = r.k
    if k == q:
        question = None
    else:
        a, b = r.q + 1, k + 1
        options = [(k, q), (q, q), (k, k)]
        labels = [f"ω{r.ij(a_ + 1, b_ + 1)}: query {a_ + 1}, key {b_ + 1}" for a_, b_ in options]
        target = float(r.scores[q, k])
        gaps = [abs(float(r.scores[i, j]) - target) for i, j in options]
        answer = gaps.index(min(gaps))
        why = (
            rf"\(\omega_{{{r.ij(b, a)}}} = x^{{({b})}} \cdot x^{{({a})}}\) multiplies the same pairs of numbers as "
            rf"\(\omega_{{{r.ij(a, b)}}}\): here {num(float(r.scores[k, q]))} and {num(target)}. The whole score "
            "matrix is symmetric; the diagonal holds each token's score with itself "
            rf"(\(\omega_{{{r.ij(a, a)}}} = {tex(float(r.scores[q, q]))}\), \(\omega_{{{r.ij(b, b)}}} = "
            rf"{tex(float(r.scores[k, k]))}\))."
        )
        question = Question(
            f"Next, all scores at once. Which other cell will hold the same score as ω{r.ij(a, b)} "
            f"(query {a}, key {b})?",
            tuple(labels),
            answer,
            why,
        )
    return Step(9, STEP_TITLES[8], "\n".join(lines), Highlight(rows=(q,)), "weights", question)


def _all_scores(r: _Run) -> Step:
    n, k = r.n, r.k
    shown = min(r.count, LOOP_TOKENS)
    loops = self_attention_loops(r.inputs[:shown])
    difference = float((loops.scores - r.scores[:shown, :shown]).abs().max())
    loop_code = "\n".join(
        [
            "attn_scores = torch.empty(T, T)",
            "for i, x_i in enumerate(inputs):",
            "    for j, x_j in enumerate(inputs):",
            "        attn_scores[i, j] = torch.dot(x_i, x_j)",
        ]
    )
    compared = "every score" if shown == r.count else f"the first {shown} tokens' scores"
    asymmetry = float((r.scores - r.scores.T).abs().max())
    symmetric = (
        "the matrix is symmetric, exactly on this run"
        if asymmetry == 0
        else f"the matrix is symmetric up to float32 rounding (largest difference {asymmetry:.1e})"
    )
    lines = [
        f"Every token is a query. Two loops compute all {r.count} × {r.count} scores, one dot product at a time:",
        "",
        code_block(loop_code),
        "",
        "One matrix product computes them all at once:",
        r"$$\omega = X X^\top, \qquad (T \times d)\,(d \times T) \to (T \times T)$$",
        code_block("attn_scores = inputs @ inputs.T"),
        "",
        f"On this run, the loops and the product agree on {compared}: the largest difference is "
        + ("0." if difference == 0 else f"{difference:.1e}, float32 rounding (the product adds in another order).")
        + rf" Row {n} is the row of the earlier steps, and \(\omega_{{{r.ij(n, k + 1)}}} = "
        rf"\omega_{{{r.ij(k + 1, n)}}}\) (highlighted): {symmetric}.",
    ]
    cells = ((r.q, k), (k, r.q)) if k != r.q else ((r.q, r.q),)
    return Step(10, STEP_TITLES[9], "\n".join(lines), Highlight(cells=cells), "scores")


def _all_weights(r: _Run) -> Step:
    n, q = r.n, r.q
    sums = r.weights.double().sum(dim=-1)  # (T,)
    worst = float((sums - 1).abs().max())
    column = float(r.weights[:, q].double().sum())
    lines = [
        "Softmax over each row of the score matrix, at once:",
        code_block("attn_weights = torch.softmax(attn_scores, dim=-1)"),
        r"$$\alpha_{ij} = \frac{e^{\omega_{ij}}}{\sum_{k=1}^{T} e^{\omega_{ik}}}$$",
        f"Row {n}: {_values(r.weights[q].tolist())}, the same as step 8.",
        "",
        f"Row sums: {_values(sums.tolist())}. The largest distance from 1 over all {r.count} rows is "
        + ("0." if worst == 0 else f"{worst:.1e} (float32 rounding).")
        + f" Column {n} (highlighted) is how much each query attends to {r.tok(q)}.",
    ]
    adds_up = abs(column - 1) <= 1e-5
    why = (
        f"Column {n} sums to {num(column)}. Softmax makes each **row** sum to 1 (each query shares out its "
        "attention); nothing does the same for a column, which is how much attention one token receives."
    )
    question = Question(
        f"Each row sums to 1. Does column {n} sum to 1 too?",
        ("Yes", "No"),
        0 if adds_up else 1,
        why,
    )
    return Step(11, STEP_TITLES[10], "\n".join(lines), Highlight(cols=(q,)), "weights", question)


@functools.lru_cache(maxsize=1)
def sweeps() -> tuple:
    """The lecture's sweeps on the cat sentence (computed once): where ``warm`` attends over SWEEP_SEEDS at d = 3,
    and the one-hot rows at each of SWEEP_DIMS over DIMENSION_SEEDS."""
    return (
        seed_sweep(CAT_SENTENCE, query=CAT_QUERY, key=CAT_KEY, seeds=SWEEP_SEEDS, dim=3),
        dimension_sweep(CAT_SENTENCE, dims=SWEEP_DIMS, seeds=DIMENSION_SEEDS),
    )


def _all_context(r: _Run) -> Step:
    rows = min(r.count, 6)
    lines = [
        "And all context vectors with one more product: each row of the weights mixes the inputs.",
        r"$$Z = \alpha X, \qquad (T \times T)\,(T \times d) \to (T \times d)$$",
        code_block("all_context_vecs = attn_weights @ inputs"),
        "",
    ]
    lines += [rf"- \(z^{{({i + 1})}} = {latex_vector(r.context[i])}\) for {r.tok(i)}" for i in range(rows)]
    if r.count > rows:
        lines.append(f"- … ({r.count - rows} more)")
    lines += ["", f"Row {r.n} is the context vector of step 9. Every row of the matrix is used (highlighted)."]
    _, by_dim = sweeps()
    top = by_dim[-1]
    selves = top.self_top / top.rows
    if selves >= NEARLY_ALL:
        answer = 0
    elif top.one_hot_share < 1 - NEARLY_ALL:
        answer = 1
    else:
        answer = 2
    why = (
        f"Over {len(DIMENSION_SEEDS)} seeds of *{CAT_SENTENCE}* at d = {top.dim}, {top.one_hot} of {top.rows} rows "
        f"are one-hot (largest weight above {ONE_HOT}), and in {top.self_top} of {top.rows} the largest weight is the "
        f"token's own. Step 13 shows why."
    )
    question = Question(
        f"With random embeddings of d = {top.dim} dimensions, where will each token of “{CAT_SENTENCE}” attend?",
        ("Almost only to itself", "Spread over all the tokens", "Somewhere in between, different for each token"),
        answer,
        why,
    )
    return Step(12, STEP_TITLES[11], "\n".join(lines), Highlight(rows=tuple(range(r.count))), "weights", question)


def _meaningful(r: _Run) -> Step:
    by_seed, by_dim = sweeps()
    tokens = by_seed.tokens
    query, key = by_seed.query, by_seed.key
    ranks = by_seed.ranks
    tops = by_seed.top_counts()
    itself = tops.get(query, 0)
    seeds = len(by_seed.rows)
    to_key = sum(1 for rank in ranks if rank == 1)
    lines = [
        f"The lecture's example: in *{CAT_SENTENCE}*, the query {token_code(tokens[query])} should attend to "
        f"{token_code(tokens[key])}. With the app's random embeddings (d = {by_seed.dim}), where it attends "
        "depends only on the seed:",
        "",
        f"- Over seeds {SWEEP_SEEDS[0]} to {SWEEP_SEEDS[-1]}, its strongest key is itself in {itself} of {seeds}, "
        f"and {token_code(tokens[key])} in {to_key} of {seeds}.",
        f"- {token_code(tokens[key])} ranks anywhere from {_ordinal(min(ranks))} to {_ordinal(max(ranks))} of "
        f"{len(tokens)} keys.",
        "",
        f"<details><summary>Each seed: where {inert(visible_token(tokens[query]))} attends</summary>",
        "",
        f"| seed | strongest key | its weight | weight on {token_code(tokens[key])} | rank of "
        f"{token_code(tokens[key])} |",
        "|---:|---|---:|---:|---:|",
    ]
    for row in by_seed.rows:
        lines.append(
            f"| {row.seed} | {token_code(tokens[row.top])} | {num(float(row.weights[row.top]))} "
            f"| {num(float(row.weights[key]))} | {row.key_rank} |"
        )
    lines += [
        "",
        "</details>",
        "",
        f"**More dimensions make it worse.** The same sentence over seeds {DIMENSION_SEEDS[0]} to "
        f"{DIMENSION_SEEDS[-1]} (scores in float64):",
        "",
        r"| d | mean \(\lVert x \rVert^2\) | typical \(\omega_{ij}\), i ≠ j (root mean square) | \(\sqrt{d}\) "
        "| one-hot rows, τ = 1 | one-hot rows, τ = √d | rows whose top weight is the token itself |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in by_dim:
        lines.append(
            f"| {row.dim} | {num(row.mean_self_score, dtype='float64')} | {num(row.rms_other_score, dtype='float64')} "
            f"| {num(math.sqrt(row.dim), dtype='float64')} | {row.one_hot} of {row.rows} "
            f"| {row.one_hot_root} of {row.rows} | {row.self_top} of {row.rows} |"
        )
    big = by_dim[-1]
    gap = big.mean_self_score - big.rms_other_score
    lines += [
        "",
        rf"Why: \(\lVert x \rVert^2\) adds up d squares that each average 1, so it grows like d "
        f"({num(big.mean_self_score, dtype='float64')} at d = {big.dim}). The dot product of two unrelated vectors "
        "adds up d products that average 0, positive and negative, so it only grows like √d "
        f"({num(big.rms_other_score, dtype='float64')} at d = {big.dim}, and √{big.dim} = "
        f"{num(math.sqrt(big.dim), dtype='float64')}). The diagonal wins by about {round(gap)}, a "
        rf"factor of about \(e^{{{round(gap)}}}\) after the softmax: every token attends only to itself. Dividing by "
        "√d (section 3.4) tames the unrelated scores but not ‖x‖², which is still √d times larger.",
        "",
    ]
    rows = one_hot_rows(r.weights)
    selves = int((r.weights.argmax(dim=-1) == torch.arange(r.count)).sum())
    lines.append(
        f"**This run:** {rows} of {r.count} rows are one-hot, and in {selves} of {r.count} the largest weight is the "
        "token's own (the diagonal, highlighted). So this attention follows how the embeddings happen to lie, "
        "not what the words mean."
    )
    diagonal = tuple((i, i) for i in range(r.count))
    return Step(13, STEP_TITLES[12], scroll_tables("\n".join(lines)), Highlight(cells=diagonal), "weights")


def _trainable(r: _Run) -> Step:
    lines = [
        "Without trainable weights, every score depends only on two fixed embeddings: nothing can be learned, the "
        r"scores are symmetric (\(\omega_{ij} = \omega_{ji}\)), and a long enough vector, or many dimensions, makes "
        "each token attend mostly to itself.",
        "",
        "The next section gives each token three projections with trainable matrices, a **query**, a **key** and "
        "a **value**:",
        r"$$q^{(i)} = x^{(i)} W_q, \quad k^{(j)} = x^{(j)} W_k, \quad v^{(j)} = x^{(j)} W_v, \qquad "
        r"\omega_{ij} = q^{(i)} \cdot k^{(j)}$$",
        r"The scores are no longer symmetric (`warm` can attend to `mat` without `mat` attending back), and training "
        "chooses \\(W_q\\) and \\(W_k\\) so that each token attends where it helps predict the next one: "
        "`warm` can learn to look at `mat` even if their embeddings are far apart.",
        "",
        f'<a href="#{LEARN_ID}">Watch the weights learn</a>: train \\(W_q\\) and \\(W_k\\) on your own sentence '
        "and see the query's row move.",
    ]
    words = [visible_token(t) for t in r.tokens]
    # The lecture's own example when the run has it: warm attending to mat; else the query with itself.
    cell = (words.index("␣warm"), words.index("␣mat")) if {"␣warm", "␣mat"} <= set(words) else (r.q, r.q)
    return Step(14, STEP_TITLES[13], "\n".join(lines), Highlight(cells=(cell,)), "weights")


_BUILDERS: tuple[Callable[[_Run], Step], ...] = (
    _sentence,
    _tokens,
    _embeddings,
    _query,
    _scores,
    _sum_normalization,
    _naive_softmax,
    _torch_softmax,
    _context,
    _all_scores,
    _all_weights,
    _all_context,
    _meaningful,
    _trainable,
)


def lecture_step(run: Attended, number: int) -> Step:
    """Step ``number`` (1 to STEP_COUNT) of the lecture on ``run``, an ``Attended`` at τ = 1 with at least 1 token."""
    number = check_step(number)
    return _BUILDERS[number - 1](_Run(run))
