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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import torch

from ..attention import row_steps
from ..sweeps import ONE_HOT, dimension_sweep, one_hot_rows, seed_sweep
from ..tokens import visible_token
from .numbers import num
from .tokens import inert, token_code

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


@functools.lru_cache(maxsize=1)
def sweeps() -> tuple:
    """The lecture's sweeps on the cat sentence (computed once): where ``warm`` attends over SWEEP_SEEDS at d = 3,
    and the one-hot rows at each of SWEEP_DIMS over DIMENSION_SEEDS."""
    return (
        seed_sweep(CAT_SENTENCE, query=CAT_QUERY, key=CAT_KEY, seeds=SWEEP_SEEDS, dim=3),
        dimension_sweep(CAT_SENTENCE, dims=SWEEP_DIMS, seeds=DIMENSION_SEEDS),
    )


@functools.cache
def _builders() -> tuple[Callable[[_Run], Step], ...]:
    """The fourteen steps' builders, in order (their modules import this one, so they load on first use)."""
    from . import lecture_matrices as late
    from . import lecture_steps as early

    return (
        early.sentence_step,
        early.tokens_step,
        early.embeddings_step,
        early.query_step,
        early.scores_step,
        early.sum_normalization_step,
        early.naive_softmax_step,
        early.torch_softmax_step,
        late.context_step,
        late.all_scores_step,
        late.all_weights_step,
        late.all_context_step,
        late.meaningful_step,
        late.trainable_step,
    )


def lecture_step(run: Attended, number: int) -> Step:
    """Step ``number`` (1 to STEP_COUNT) of the lecture on ``run``, an ``Attended`` at τ = 1 with at least 1 token."""
    number = check_step(number)
    return _builders()[number - 1](_Run(run))
